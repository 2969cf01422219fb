"""``tg.jit`` never replays a stale recording.

What a recording cannot repeat is refused at record time, naming the line (``strict=True``),
or runs eagerly with a ``JitWarning``; what changes between calls (modes, structure,
hyper-parameters, rebound arrays, branches on values) makes the replay record anew. Each case
is checked against an eager twin, so a stale replay would show as a different number.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn

X, Y = tg.data.spiral_data(30, 3, seed=0)


def net(seed=0, dropout=0.0):
    tg.manual_seed(seed)
    layers = [nn.Linear(2, 8), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    return nn.Sequential(*layers, nn.Linear(8, 3))


def pair(dropout=0.0, make_opt=lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9)):
    """Two identical (model, optimizer) twins."""
    a, b = net(dropout=dropout), net(dropout=dropout)
    return (a, make_opt(a.parameters())), (b, make_opt(b.parameters()))


def step_of(model, opt, extra=None):
    loss_fn = nn.CrossEntropyLoss()

    def step(X, y):
        opt.zero_grad()
        loss = loss_fn(model(tg.Tensor(X)), y)
        if extra is not None:
            loss = extra(loss)
        loss.backward()
        opt.step()
        return loss

    return step


def same(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data)


# ------------------------------------------------------------------ refused at record time


def test_item_inside_the_step_is_refused_naming_the_line():
    (model, opt), _ = pair()

    def step(X, y):
        loss = nn.CrossEntropyLoss()(model(tg.Tensor(X)), y)
        value = loss.item()  # the line the error names
        return value

    with pytest.raises(tg.JitError, match=r"\.item\(\) inside a compiled step.*value = loss"):
        tg.jit(step, strict=True)(X, Y)


def test_the_generator_state_inside_a_step_is_refused_or_read_eagerly():
    def step(X):
        return tg.Tensor(X) * 2, tg.rng.get_rng().bit_generator.state

    with pytest.raises(tg.JitError, match=r"library generator's \.bit_generator"):
        tg.jit(step, strict=True)(np.ones(3, np.float32))
    with pytest.warns(tg.JitWarning, match="runs eagerly"):
        out, state = tg.jit(step)(np.ones(3, np.float32))
    assert state == tg.rng.get_rng().bit_generator.state and out.shape == (3,)


def test_strict_raises_once_the_step_has_run_eagerly_to_its_end():
    # Not half a step: the update after the refused line happened, exactly as eagerly.
    (a, opt_a), (b, opt_b) = pair()
    extra = lambda loss: loss * (1.0 + 0.0 * loss.item())  # noqa: E731
    eager, compiled = step_of(a, opt_a, extra), tg.jit(step_of(b, opt_b, extra), strict=True)
    eager(X, Y), compiled(X, Y)  # the optimizer's first step runs eagerly, unrecorded
    eager(X, Y)
    with pytest.raises(tg.JitError, match=r"\.item\(\) inside a compiled step"):
        compiled(X, Y)
    same(a, b)
    assert opt_a.iterations == opt_b.iterations == 2


@pytest.mark.parametrize(
    "escape",
    [
        lambda loss: float(loss),
        lambda loss: loss.numpy().tolist(),
        lambda loss: np.asarray(loss.numpy()) * 2,
        lambda loss: f"{loss.numpy():.3f}",
        lambda loss: print(loss),
    ],
    ids=["float", "tolist", "asarray", "format", "print"],
)
def test_python_values_of_tensors_are_refused(escape):
    (model, opt), _ = pair()

    def step(X, y):
        loss = nn.CrossEntropyLoss()(model(tg.Tensor(X)), y)
        escape(loss)
        return loss

    with pytest.raises(tg.JitError, match="inside a compiled step"):
        tg.jit(step, strict=True)(X, Y)


def test_without_strict_the_step_runs_eagerly_with_a_warning():
    (a, opt_a), (b, opt_b) = pair()

    def with_item(model, opt):
        def step(X, y):
            loss = step_of(model, opt)(X, y)
            return loss, loss.item()

        return step

    eager, compiled = with_item(a, opt_a), tg.jit(with_item(b, opt_b))
    with pytest.warns(tg.JitWarning, match=r"runs eagerly: \.item\(\).*test_jit_guards.py"):
        compiled(X, Y)  # the optimizer's first step, eager
        compiled(X, Y)  # the recording, which finds .item()
    eager(X, Y)
    eager(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once: later calls run eagerly in silence
        for _ in range(3):
            assert compiled(X, Y)[1] == eager(X, Y)[1]
    assert not compiled.compiled
    same(a, b)
    with pytest.raises(RuntimeError, match="no compiled replay yet"):
        compiled.source()


def test_randomness_outside_the_library_generator_is_refused():
    (model, opt), _ = pair()

    def step(X, y):
        noise = tg.Tensor(np.random.standard_normal(X.shape).astype(np.float32))
        return nn.CrossEntropyLoss()(model(tg.Tensor(X) + noise), y)

    with pytest.raises(tg.JitError, match="generator other than the library's"):
        tg.jit(step, strict=True)(X, Y)


def test_a_scheduler_stepped_inside_is_refused_and_outside_is_followed():
    (a, opt_a), (b, opt_b) = pair()
    sched_a = tg.optim.lr_scheduler.StepLR(opt_a, step_size=2, gamma=0.5)
    sched_b = tg.optim.lr_scheduler.StepLR(opt_b, step_size=2, gamma=0.5)
    inside = step_of(b, opt_b)

    def step_with_scheduler(X, y):
        loss = inside(X, y)
        sched_b.step()
        return loss

    compiled = tg.jit(step_with_scheduler, strict=True)
    compiled(X, Y)  # the optimizer's first step, eager
    with pytest.raises(tg.JitError, match="scheduler"):
        compiled(X, Y)
    (a, opt_a), (b, opt_b) = pair()
    sched_a = tg.optim.lr_scheduler.StepLR(opt_a, step_size=2, gamma=0.5)
    sched_b = tg.optim.lr_scheduler.StepLR(opt_b, step_size=2, gamma=0.5)
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True)
    for _ in range(10):
        assert np.array_equal(eager(X, Y).numpy(), compiled(X, Y).numpy())
        sched_a.step()
        sched_b.step()
    assert compiled.compiled
    same(a, b)


def test_a_parameter_the_search_cannot_find_is_refused():
    hidden = {"w": tg.Tensor(np.ones((2, 3), np.float32), requires_grad=True)}

    class Holder:
        pass

    holder = Holder()
    holder.inner = Holder()
    holder.inner.deeper = Holder()
    holder.inner.deeper.params = hidden

    def step(X):
        loss = (tg.Tensor(X) @ holder.inner.deeper.params["w"]).sum()
        loss.backward()
        return loss

    with pytest.raises(tg.JitError, match="did not find it"):
        tg.jit(step, strict=True)(X)


def test_a_branch_after_the_update_is_refused():
    (model, opt), _ = pair()

    def step(X, y):
        loss = step_of(model, opt)(X, y)
        if (model[0].weight.sum() > 0).item() if False else model[0].weight.sum() > 0:
            pass
        return loss

    compiled = tg.jit(step, strict=True)
    compiled(X, Y)  # the optimizer's first step creates its state: not recorded
    with pytest.raises(tg.JitError, match="depends on state the step has already changed"):
        compiled(X, Y)


def test_values_kept_by_the_step_are_refused_or_unusable():
    (model, opt), _ = pair()
    kept = []

    def keeps(X, y):
        loss = nn.CrossEntropyLoss()(model(tg.Tensor(X)), y)
        kept.append(loss * 2)  # Python state a replay would not change
        return loss

    with pytest.raises(tg.JitError, match="changes the contents of kept"):
        tg.jit(keeps, strict=True)(X, Y)

    class Box:
        pass

    deep = Box()
    deep.a, deep.a.b = Box(), Box()  # deeper than the search looks
    deep.a.b.c = Box()

    def hides(X, y):
        loss = nn.CrossEntropyLoss()(model(tg.Tensor(X)), y)
        deep.a.b.c.value = loss * 2
        return loss

    tg.jit(hides, strict=True)(X, Y)
    with pytest.raises(tg.JitError, match="kept after the step"):
        deep.a.b.c.value + 1  # a value of the recording, used after it


# ------------------------------------------------------------------ recorded anew


def test_a_branch_on_a_value_is_a_guard():
    (probe, opt_p), _ = pair()
    losses = [float(step_of(probe, opt_p)(X, Y).item()) for _ in range(30)]
    threshold = float(np.median(losses))  # the loss crosses it during the run

    def doubled_while_large(loss):
        return loss * 2 if loss > threshold else loss

    (a, opt_a), (b, opt_b) = pair()
    eager = step_of(a, opt_a, doubled_while_large)
    compiled = tg.jit(step_of(b, opt_b, doubled_while_large), strict=True)
    taken = set()
    for _ in range(30):
        x, y = eager(X, Y), compiled(X, Y)
        assert np.array_equal(x.numpy(), y.numpy())
        taken.add(bool(x.numpy() > 2 * threshold))
    assert taken == {True, False}, "the branch should flip during the run"
    same(a, b)


def test_train_and_eval_modes_are_separate_recordings():
    (a, opt_a), (b, opt_b) = pair(dropout=0.5)
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True)
    states = [tg.rng.get_rng_state()] * 2
    for i in range(12):
        for model in (a, b):
            model.train(i % 4 < 2)
        tg.rng.set_rng_state(states[0])
        x = eager(X, Y)
        states[0] = tg.rng.get_rng_state()
        tg.rng.set_rng_state(states[1])
        y = compiled(X, Y)
        states[1] = tg.rng.get_rng_state()
        assert np.array_equal(x.numpy(), y.numpy()), i
    same(a, b)


def test_new_parameters_and_a_changed_model_are_recorded_anew():
    (a, opt_a), (b, opt_b) = pair()
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True)
    for i in range(14):
        for model, opt in ((a, opt_a), (b, opt_b)):
            if i == 4:  # another activation: the same parameters, another model
                model.add_module("1", nn.LeakyReLU(0.1))
            if i == 8:  # a setting of a module changes
                model[1].negative_slope = 0.3
            if i == 11:  # a fresh last layer and its parameters
                tg.manual_seed(7)
                model.add_module("2", nn.Linear(8, 3))
                opt.add_param_group({"params": list(model[2].parameters())})
        assert np.array_equal(eager(X, Y).numpy(), compiled(X, Y).numpy()), i
    same(a, b)


def test_rebound_arrays_loaded_state_and_reseeding_are_followed():
    (a, opt_a), (b, opt_b) = pair(dropout=0.2, make_opt=lambda p: tg.optim.Adam(p, lr=0.01))
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True)
    for i in range(16):
        tg.manual_seed(i)  # both twins draw the same masks
        if i == 5:
            for model in (a, b):
                model[0].weight.data = model[0].weight.data * 0.5  # a new array
        if i == 9:
            saved = opt_a.state_dict()
            for opt in (opt_a, opt_b):
                opt.load_state_dict(saved)
            b.load_state_dict(a.state_dict())
        x = eager(X, Y)
        tg.manual_seed(i)
        y = compiled(X, Y)
        assert np.array_equal(x.numpy(), y.numpy()), i
    same(a, b)


def test_signatures_grad_mode_and_a_bounded_cache():
    (a, opt_a), (b, opt_b) = pair()
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True, cache_size=2)
    for i in range(15):
        n = (30, 60, 90)[i % 3]  # three batch sizes cycling through a cache of two
        assert np.array_equal(eager(X[:n], Y[:n]).numpy(), compiled(X[:n], Y[:n]).numpy())
    same(a, b)

    def predict(X):
        return b(tg.Tensor(X))

    infer = tg.jit(predict, strict=True)
    with tg.no_grad():
        for _ in range(3):
            out = infer(X)
    assert not out.requires_grad and np.array_equal(out.numpy(), b(tg.Tensor(X)).numpy())


def test_a_global_number_the_step_reads_is_guarded():
    (a, opt_a), (b, opt_b) = pair()
    global SCALE
    SCALE = 1.0

    def scaled(loss):
        return loss * SCALE

    eager, compiled = step_of(a, opt_a, scaled), tg.jit(step_of(b, opt_b, scaled), strict=True)
    for i in range(8):
        SCALE = 1.0 if i < 4 else 3.0
        assert np.array_equal(eager(X, Y).numpy(), compiled(X, Y).numpy()), i
    same(a, b)


SCALE = 1.0


# ------------------------------------------------------------------ what a replay leaves


def test_replays_return_fresh_tensors_and_leave_gradients_and_checkpoints_usable(tmp_path):
    (a, opt_a), (b, opt_b) = pair()
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True)
    losses = [compiled(X, Y) for _ in range(5)]
    for _ in range(5):
        eager(X, Y)
    assert len({id(t) for t in losses}) == 5 and len({float(t.item()) for t in losses}) == 5
    assert all(not t.requires_grad and t.grad_fn is None for t in losses)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.grad.data, q.grad.data)
    tg.save({"model": b.state_dict(), "opt": opt_b.state_dict()}, tmp_path / "ckpt.npz")
    restored = tg.load(tmp_path / "ckpt.npz")
    assert all(np.array_equal(v, b.state_dict()[k]) for k, v in restored["model"].items())
    eager(X, Y)  # eager code after the compiled calls keeps working on the same arrays
    step_of(b, opt_b)(X, Y)
    same(a, b)


def test_source_names_values_and_marks_sections():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(2, 8), nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())

    tg.manual_seed(0)
    model = Net()
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    compiled = tg.jit(step_of(model, opt), strict=True)
    for _ in range(2):
        compiled(X, Y)
    source = compiled.source()
    for text in ("fc1_weight", "relu_1", "grad_fc1_weight", "grad_fc2_bias", "# --- forward",
                 "# --- backward", "# --- update", "np.matmul("):  # fmt: skip
        assert text in source, text
    assert compiled.source() is compiled._last.source  # the text that was compiled


def test_a_replay_allocates_no_large_arrays():
    import tracemalloc

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Linear(256, 3))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    compiled = tg.jit(step_of(model, opt), strict=True)
    for _ in range(3):
        compiled(X, Y)
    tracemalloc.start()
    compiled(X, Y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    activation = X.shape[0] * 256 * 4
    assert peak < activation, f"a replay held {peak} bytes at once; one activation is {activation}"
    assert compiled.nbytes >= 2 * activation  # the buffers it reuses instead


def test_replays_count_in_place_changes_as_the_eager_optimizer_does():
    (a, opt_a), (b, opt_b) = pair()
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True)
    for _ in range(4):
        eager(X, Y)
        compiled(X, Y)
    assert [p._version for p in a.parameters()] == [p._version for p in b.parameters()]
    stale = nn.CrossEntropyLoss()(b(tg.Tensor(X)), Y)  # a graph that saved the parameters
    compiled(X, Y)  # a replay changes them in place
    with pytest.raises(RuntimeError, match="modified in place"):
        stale.backward()


def test_plain_objects_the_step_reaches_are_watched():
    (a, opt_a), (b, opt_b) = pair()

    class Config:
        scale = 1.0

    class Counter:
        def __init__(self):
            self.calls = 0

    config_a, config_b, counter = Config(), Config(), Counter()
    config_a.scale = config_b.scale = 1.0

    def scaled(config):
        return lambda loss: loss * config.scale

    eager = step_of(a, opt_a, scaled(config_a))
    compiled = tg.jit(step_of(b, opt_b, scaled(config_b)), strict=True)
    for i in range(8):
        if i == 4:
            config_a.scale = config_b.scale = 2.5  # read by the step: recorded anew
        assert np.array_equal(eager(X, Y).numpy(), compiled(X, Y).numpy()), i
    same(a, b)

    def counting(X, y):
        counter.calls += 1  # Python state a replay would not change
        return nn.CrossEntropyLoss()(b(tg.Tensor(X)), y)

    with pytest.raises(tg.JitError, match=r"changes counter\.calls"):
        tg.jit(counting, strict=True)(X, Y)


def test_results_shaped_by_the_values_are_refused_and_masked_writes_are_not():
    (model, opt), _ = pair()

    def selects(X, y):
        out = model(tg.Tensor(X))
        return out[out > 0].sum()  # how many are positive depends on the values

    with pytest.raises(tg.JitError, match="shape depends on the values"):
        tg.jit(selects, strict=True)(X, Y)

    def masks(X):
        x = tg.Tensor(X.copy())
        with tg.no_grad():
            x[x < 0] = 0.0  # a masked write keeps the shape
        return x

    compiled = tg.jit(masks, strict=True)
    for _ in range(3):
        out = compiled(X)
    assert compiled.compiled and np.array_equal(out.numpy(), np.where(X < 0, 0, X))


def test_replays_write_gradients_into_the_same_arrays_as_documented():
    tg.manual_seed(0)
    model = tg.nn.Linear(2, 3)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    X = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
    y = np.arange(8) % 3

    @tg.jit
    def step(X, y):
        opt.zero_grad()
        loss = tg.nn.CrossEntropyLoss()(model(tg.Tensor(X)), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step(X, y)
    assert step.compiled
    kept, copy = model.weight.grad.data, model.weight.grad.data.copy()
    step(X, y)
    assert model.weight.grad.data is kept  # the same buffer, now holding the new gradient
    assert not np.array_equal(kept, copy) and step.gradient_nbytes > 0
