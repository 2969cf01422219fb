"""``tg.jit``: a replayed step is bit for bit the eager step, for every optimizer and layer.

Each test trains two twins from the same seed: one eagerly, one through ``tg.jit`` (strict, so
any fallback to eager fails the test), for hundreds of steps, and compares losses, parameters,
gradients and optimizer state with ``np.array_equal`` at the end and losses at every step.
Dropout twins draw from the library generator with their own generator states, so both see the
same masks in the same order.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_np as tg
from tinygrad_np import nn

X, Y = tg.data.spiral_data(50, 3, seed=0)

OPTIMIZERS = {
    "sgd": lambda p: tg.optim.SGD(p, lr=0.5),
    "sgd_decay": lambda p: tg.optim.SGD(p, lr=1.0, decay=1e-3),
    "momentum_pytorch": lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9, decay=1e-3),
    "momentum_nnfs": lambda p: tg.optim.SGD(
        p, lr=0.5, momentum=0.9, decay=1e-3, momentum_style="nnfs"
    ),  # fmt: skip
    "nesterov": lambda p: tg.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "dampening_weight_decay": lambda p: tg.optim.SGD(
        p, lr=0.1, momentum=0.5, dampening=0.3, weight_decay=1e-3
    ),  # fmt: skip
    "adagrad": lambda p: tg.optim.Adagrad(p, lr=0.5, eps=1e-7, decay=1e-4, lr_decay=1e-3),
    "rmsprop": lambda p: tg.optim.RMSprop(p, lr=0.02, alpha=0.999, eps=1e-7, decay=1e-5),
    "rmsprop_centered_momentum": lambda p: tg.optim.RMSprop(
        p, lr=0.01, momentum=0.5, centered=True
    ),  # fmt: skip
    "adam": lambda p: tg.optim.Adam(p, lr=0.02, eps=1e-7, decay=5e-7),
    "adam_amsgrad_weight_decay": lambda p: tg.optim.Adam(
        p, lr=0.01, amsgrad=True, weight_decay=1e-3
    ),  # fmt: skip
    "adamw": lambda p: tg.optim.AdamW(p, lr=0.01, weight_decay=0.05, decay=1e-4),
}


def build(seed=0, hidden=16, dropout=0.0, l1=0.0, l2=0.0, dtype=np.float32):
    tg.manual_seed(seed)
    layers = [
        nn.Linear(2, hidden, dtype=dtype, weight_regularizer_l1=l1, weight_regularizer_l2=l2,
                  bias_regularizer_l1=l1, bias_regularizer_l2=l2),
        nn.ReLU(),
    ]  # fmt: skip
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, 3, dtype=dtype))
    return nn.Sequential(*layers)


def training_step(model, optimizer, loss_fn=None, regularize=False):
    loss_fn = loss_fn or nn.CrossEntropyLoss()

    def step(X, y):
        optimizer.zero_grad()
        loss = loss_fn(model(tg.Tensor(X)), y)
        if regularize:
            loss = loss + nn.regularization_loss(model)
        loss.backward()
        optimizer.step()
        return loss

    return step


class Twins:
    """An eager model and a compiled one, each with its own generator state."""

    def __init__(self, make_optimizer, steps=300, **model_kwargs):
        regularize = bool(model_kwargs.get("l1") or model_kwargs.get("l2"))
        self.eager_model, self.jit_model = build(**model_kwargs), build(**model_kwargs)
        self.eager_opt = make_optimizer(self.eager_model.parameters())
        self.jit_opt = make_optimizer(self.jit_model.parameters())
        self.eager = training_step(self.eager_model, self.eager_opt, regularize=regularize)
        self.jit = tg.jit(training_step(self.jit_model, self.jit_opt, regularize=regularize),
                          strict=True)  # fmt: skip
        tg.manual_seed(123)
        self.states = [tg.rng.get_rng_state(), tg.rng.get_rng_state()]
        self.steps = steps

    def _with_rng(self, which, fn, *args):
        tg.rng.set_rng_state(self.states[which])
        out = fn(*args)
        self.states[which] = tg.rng.get_rng_state()
        return out

    def run(self, X=X, y=Y):
        for i in range(self.steps):
            a = self._with_rng(0, self.eager, X, y)
            b = self._with_rng(1, self.jit, X, y)
            assert np.array_equal(a.numpy(), b.numpy()), f"step {i}: loss {a} != {b}"
        assert self.jit.compiled, "the step never replayed"
        self.check_state()

    def check_state(self):
        pairs = zip(self.eager_model.named_parameters(), self.jit_model.parameters())
        for (name, p), q in pairs:
            assert np.array_equal(p.data, q.data), name
            assert np.array_equal(p.grad.data, q.grad.data), f"grad of {name}"
            assert p.data.dtype == q.data.dtype and q.grad.dtype == p.grad.dtype
        a, b = self.eager_opt.state_dict(), self.jit_opt.state_dict()
        assert a["step"] == b["step"] == self.eager_opt.iterations
        assert a["state"].keys() == b["state"].keys()
        for index, entries in a["state"].items():
            for key, value in entries.items():
                other = b["state"][index][key]
                assert np.array_equal(value, other), (index, key)
                assert type(value) is type(other)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_replays_bit_for_bit(name):
    Twins(OPTIMIZERS[name]).run()


@pytest.mark.parametrize("name", ["sgd_decay", "momentum_nnfs", "adam"])
def test_dropout_masks_come_from_the_library_generator_in_order(name):
    twins = Twins(OPTIMIZERS[name], dropout=0.1, hidden=64)
    twins.run()
    assert "rng.random(" in twins.jit.source()


@pytest.mark.parametrize("penalty", [{"l2": 5e-4}, {"l1": 1e-4}, {"l1": 1e-4, "l2": 5e-4}])
def test_l1_l2_regularisation_replays_bit_for_bit(penalty):
    Twins(OPTIMIZERS["adam"], dropout=0.1, **penalty).run()


def test_float64_models_replay_bit_for_bit():
    Twins(OPTIMIZERS["rmsprop"], steps=100, dtype=np.float64).run()


def test_other_losses_replay_bit_for_bit():
    for loss_fn, target in [
        (nn.MSELoss(), np.random.default_rng(0).standard_normal((150, 3)).astype(np.float32)),
        (nn.BCEWithLogitsLoss(), (np.arange(450).reshape(150, 3) % 2).astype(np.float32)),
        (nn.L1Loss(), np.zeros((150, 3), np.float32)),
    ]:
        twins = Twins(OPTIMIZERS["adam"], steps=60)
        twins.eager = training_step(twins.eager_model, twins.eager_opt, loss_fn)
        twins.jit = tg.jit(training_step(twins.jit_model, twins.jit_opt, loss_fn), strict=True)
        twins.run(X, target)


def test_a_gradient_penalty_with_create_graph_replays_bit_for_bit():
    def make():
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
        return model, tg.optim.SGD(model.parameters(), lr=0.1)

    def step_of(model, opt):
        def step(X, y):
            opt.zero_grad()
            x = tg.Tensor(X, requires_grad=True)
            loss = nn.CrossEntropyLoss()(model(x), y)
            (gx,) = tg.autograd.grad(loss, x, create_graph=True)
            total = loss + (gx * gx).sum()  # a penalty on the input gradient
            total.backward()
            opt.step()
            return total

        return step

    (a, opt_a), (b, opt_b) = make(), make()
    eager, compiled = step_of(a, opt_a), tg.jit(step_of(b, opt_b), strict=True)
    for i in range(50):
        assert np.array_equal(eager(X, Y).numpy(), compiled(X, Y).numpy()), i
    assert compiled.compiled
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data)


def test_an_inference_step_under_no_grad_replays():
    model = build()

    @tg.jit(strict=True)
    def predict(X):
        with tg.no_grad():
            return model(tg.Tensor(X)).softmax()

    for _ in range(3):
        probs = predict(X)
    assert predict.compiled and not probs.requires_grad
    assert np.array_equal(probs.numpy(), model(tg.Tensor(X)).softmax().numpy())


def test_convolution_pooling_and_their_checks_replay_bit_for_bit():
    def make():
        tg.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 3)
        )
        return model, tg.optim.Adam(model.parameters(), lr=0.01)

    images = np.random.default_rng(0).standard_normal((16, 1, 8, 8)).astype(np.float32)
    labels = np.arange(16) % 3
    (a, opt_a), (b, opt_b) = make(), make()
    eager, compiled = training_step(a, opt_a), tg.jit(training_step(b, opt_b), strict=True)
    for i in range(40):
        assert np.array_equal(eager(images, labels).numpy(), compiled(images, labels).numpy()), i
    assert compiled.compiled
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data) and np.array_equal(p.grad.data, q.grad.data)


def test_batch_norm_running_statistics_replay_bit_for_bit():
    def make():
        tg.manual_seed(0)
        model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64, 3),
        )  # fmt: skip
        return model, tg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    images = np.random.default_rng(1).standard_normal((16, 1, 8, 8)).astype(np.float32)
    labels = np.arange(16) % 3
    (a, opt_a), (b, opt_b) = make(), make()
    eager, compiled = training_step(a, opt_a), tg.jit(training_step(b, opt_b), strict=True)
    for i in range(30):
        if i == 20:  # evaluation mode: running statistics used, not updated
            a.eval(), b.eval()
        assert np.array_equal(eager(images, labels).numpy(), compiled(images, labels).numpy()), i
    for (name, x), y in zip(a.named_buffers(), b.buffers()):
        assert np.array_equal(x.data, y.data) and x.data.dtype == y.data.dtype, name
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data)


def test_faster_forms_give_the_eager_bits_on_nan_signed_zeros_and_infinities():
    # The replay writes np.maximum(x, 0) with an array of zeros and a maximum over a short
    # last axis column by column (compiler/faster.py); each must give the same bits (NaN
    # here is NumPy's default NaN; other NaN bits: the next test).
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 3)).astype(np.float32)
    specials = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf], np.float32)
    x.flat[rng.choice(x.size, 200, replace=False)] = rng.choice(specials, 200)

    def f(a):
        with tg.no_grad():
            t = tg.Tensor(a)
            neg = -t
            return t.relu(), t.max(axis=-1, keepdims=True), t.min(axis=1), neg.relu()

    compiled = tg.jit(f, strict=True)
    for _ in range(3):
        replayed = compiled(x)
    assert compiled.compiled
    source = compiled.source()
    assert "np.maximum(a, zeros_128x3)" in source and "np.maximum(neg_1, zeros_128x3)" in source
    assert "np.maximum(a[..., 0:1], a[..., 1:2])" in source
    assert "np.minimum(a[..., 0:1], a[..., 1:2])" in source
    for eager, fast in zip(f(x), replayed):
        assert eager.shape == fast.shape and eager.dtype == fast.dtype
        assert np.array_equal(eager.numpy().view(np.uint32), fast.numpy().view(np.uint32))


@pytest.mark.parametrize("bad", [3, -1, -4])
def test_a_label_out_of_range_in_a_replay_raises_the_losses_error(bad):
    # The replay picks probabilities at flat positions rows * C + labels, which would not
    # raise for a bad label: the label check at its top must send it back to the eager step.
    model = build()
    optimizer = tg.optim.SGD(model.parameters(), lr=0.1)
    step = tg.jit(training_step(model, optimizer), strict=True)
    for _ in range(3):
        step(X, Y)
    assert step.compiled and "y_flat = np.add(rows_times_3, y, dtype=np.intp)" in step.source()
    before = [p.data.copy() for p in model.parameters()]
    y = Y.copy()
    y[7] = bad
    with pytest.raises(ValueError, match=f"label {bad} is out of range for 3 classes") as info:
        step(X, y)  # the loss's own error, not the recording's refusal of its message
    assert any("tg.jit: this call ran eagerly" in note for note in info.value.__notes__)
    for p, was in zip(model.parameters(), before):
        assert np.array_equal(p.data, was)
    eager_model = build()
    eager_model.load_state_dict(model.state_dict())
    eager_opt = tg.optim.SGD(eager_model.parameters(), lr=0.1)
    eager_opt.iterations = optimizer.iterations
    eager = training_step(eager_model, eager_opt)
    for _ in range(3):  # valid labels again: replayed, and still the eager step's bits
        assert np.array_equal(step(X, Y).numpy(), eager(X, Y).numpy())
    assert step.compiled


def test_a_nan_stays_a_nan_in_the_faster_forms_though_its_bits_may_differ():
    # NumPy's reduction turns a NaN in the first column into its default NaN; the column by
    # column maximum keeps the NaN it met (documented in compiler/faster.py). Every number
    # is the same bit for bit, and every NaN is still a NaN.
    x = np.random.default_rng(1).standard_normal((64, 3)).astype(np.float32)
    x.view(np.uint32)[5, 0] = 0xFFC00000  # -nan, what inf - inf gives on x86
    x.view(np.uint32)[6, 1] = 0x7FC00123  # a NaN with a payload
    x.view(np.uint32)[7, :] = 0xFFC00456

    def f(a):
        with tg.no_grad():
            t = tg.Tensor(a)
            return t.max(axis=-1), t.min(axis=-1, keepdims=True), t.relu()

    compiled = tg.jit(f, strict=True)
    for _ in range(3):
        replayed = compiled(x)
    assert compiled.compiled and "np.maximum(a[..., 0:1], a[..., 1:2])" in compiled.source()
    for eager, fast in zip(f(x), replayed):
        e, r = eager.numpy(), fast.numpy()
        assert np.array_equal(np.isnan(e), np.isnan(r))
        numbers = ~np.isnan(e)
        assert np.array_equal(e[numbers].view(np.uint32), r[numbers].view(np.uint32))


def test_faster_forms_leave_empty_arrays_and_unusual_labels_correct():
    relu = tg.jit(lambda a: tg.Tensor(a).relu(), strict=True)
    for _ in range(3):
        assert relu(np.zeros((0, 4), np.float32)).shape == (0, 4)

    rng = np.random.default_rng(0)
    X3 = rng.standard_normal((300, 2)).astype(np.float32)
    for dtype in (np.uint64, np.uint8, np.int32):
        labels = rng.integers(0, 3, 300).astype(dtype)
        model = build()

        def losses(X, y, model=model):
            return nn.functional.cross_entropy(model(tg.Tensor(X)), y, reduction="none")

        compiled = tg.jit(losses, strict=True)
        for _ in range(3):
            replayed = compiled(X3, labels)
        assert "y_flat = np.add(rows_times_3, y, dtype=np.intp)" in compiled.source(), dtype
        assert np.array_equal(replayed.numpy(), losses(X3, labels).numpy()), dtype


def test_no_flat_label_pick_where_the_label_check_does_not_prove_the_range():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2)).astype(np.float32)
    # int8 labels, 200 classes: -100 viewed unsigned is 156 < 200, so the loss checks the sign
    layer = nn.Linear(2, 200)
    losses = lambda X, y: nn.functional.cross_entropy(layer(tg.Tensor(X)), y)  # noqa: E731
    compiled = tg.jit(losses, strict=True)
    labels = rng.integers(0, 100, 64).astype(np.int8)
    for _ in range(3):
        assert np.array_equal(compiled(X, labels).numpy(), losses(X, labels).numpy())
    assert compiled.compiled and "y_flat" not in compiled.source()
    labels[10] = -100
    with pytest.raises(ValueError, match="label -100 is out of range for 200 classes"):
        compiled(X, labels)

    # labels changed in place between forward and backward: the check at the top no longer
    # holds for the backward's pick, which must read the changed labels as eager does
    def step_of(model, optimizer):
        def step(X, y):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(tg.Tensor(X)), y)
            y += 1
            y %= 3
            loss.backward()
            optimizer.step()
            return loss

        return step

    (a, b), Y = (build(), build()), rng.integers(0, 3, 300)
    X3 = rng.standard_normal((300, 2)).astype(np.float32)
    eager = step_of(a, tg.optim.SGD(a.parameters(), lr=0.1))
    compiled = tg.jit(step_of(b, tg.optim.SGD(b.parameters(), lr=0.1)), strict=True)
    for _ in range(5):
        assert np.array_equal(eager(X3, Y.copy()).numpy(), compiled(X3, Y.copy()).numpy())
    assert compiled.compiled and "y_flat" not in compiled.source()
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(p.data, q.data) and np.array_equal(p.grad.data, q.grad.data)
