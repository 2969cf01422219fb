"""The recipes of docs/contributing.md: the classes defined on the page, run from the page's
own code and checked against the formulas and plain NumPy references."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from optim_cases import make_problem, param, run

import tinygrad_np as tg
from tinygrad_np.train import load_checkpoint, save_checkpoint

PAGE = Path(__file__).resolve().parents[1] / "docs" / "contributing.md"


def recipe(class_name: str) -> type:
    """The class ``class_name`` as defined by the python block of the page that defines it."""
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    found = [block for block in blocks if f"\nclass {class_name}(" in block]
    assert len(found) == 1, f"{PAGE.name} should define class {class_name} in one python block"
    namespace = {"__name__": "contributing_recipe"}
    exec(compile(found[0], str(PAGE), "exec"), namespace)
    return namespace[class_name]


LogCosh = recipe("LogCosh")
Lion = recipe("Lion")
RunningStandardize = recipe("RunningStandardize")

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
vectors = arrays(np.float64, 4, elements=finite)


# ---------------------------------------------------------------- LogCosh


def test_the_op_recipe_joins_the_registry_and_is_right():
    assert LogCosh in tg.ops.registry() and LogCosh.domain == (-3.0, 3.0)
    x = np.linspace(-3, 3, 13)
    t = tg.Tensor(x.copy(), requires_grad=True)
    out = LogCosh.apply(t)
    np.testing.assert_allclose(out.data, np.log(np.cosh(x)), rtol=1e-14, atol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(t.grad.data, np.tanh(x), rtol=1e-14, atol=1e-15)
    big = tg.Tensor(np.array([-400.0, 400.0]))
    np.testing.assert_allclose(LogCosh.apply(big).data, 400 - np.log(2.0))  # no overflow


@given(st.data())
def test_the_op_recipe_passes_the_registry_checks(data):
    from tinygrad_np.testing import HypothesisDraw, check_gradients

    check_gradients(LogCosh, HypothesisDraw(data, LogCosh))


def test_the_op_recipe_is_exercised_and_compared_like_a_built_in_op():
    with tg.compare.exercise(LogCosh, LogCosh.backward, verbose=False) as ex:
        pass
    assert ex.report.ok
    torch = pytest.importorskip("torch")
    x = torch.tensor([-1.0, 0.5], dtype=torch.float64)
    np.testing.assert_allclose(LogCosh.torch(torch, x).numpy(), np.log(np.cosh([-1.0, 0.5])))


# ---------------------------------------------------------------- Lion


def lion_reference(w0, grads, groups, decay):
    """Lion written out with NumPy, one parameter at a time: the formula of the paper.

    ``groups`` lists (indices, lr, (beta1, beta2), weight_decay); a None gradient skips the
    parameter on that step (the iteration count, which the book's decay reads, still grows).
    """
    w = [np.array(x, dtype=np.float64) for x in w0]
    m = [np.zeros_like(x) for x in w]
    for k, step_grads in enumerate(grads):
        for indices, lr, (beta1, beta2), weight_decay in groups:
            lr_t = lr / (1 + decay * k)
            for i in indices:
                g = step_grads[i]
                if g is None:
                    continue
                update = np.sign(beta1 * m[i] + (1 - beta1) * g)
                w[i] = w[i] - lr_t * (update + weight_decay * w[i])
                m[i] = beta2 * m[i] + (1 - beta2) * g
    return w, m


@given(
    w=vectors,
    g=vectors,
    lr=st.floats(0, 1),
    wd=st.floats(0, 1),
    beta1=st.floats(0, 0.999),
    beta2=st.floats(0, 1),
)
def test_lion_first_step_is_the_formula(w, g, lr, wd, beta1, beta2):
    p = param(w)
    p.grad = tg.Tensor(g)
    opt = Lion([p], lr=lr, betas=(beta1, beta2), weight_decay=wd)
    opt.step()
    # m = 0 before the first step, so the update is the sign of (1 - beta1) * g
    expected = w - lr * (np.sign((1 - beta1) * g) + wd * w)
    np.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(opt.state[0]["exp_avg"], (1 - beta2) * g, rtol=1e-12, atol=0)


def test_lion_matches_a_numpy_reference_over_several_steps():
    w0, grads = make_problem(seed=3, steps=12)  # three parameters; one skips some steps
    params = [param(w) for w in w0]
    opt = Lion(
        [
            {"params": params[:2]},
            {"params": params[2:], "lr": 0.03, "betas": (0.5, 0.9), "weight_decay": 0.0},
        ],
        lr=0.01,
        betas=(0.9, 0.99),
        weight_decay=0.1,
        decay=0.2,
    )
    run(opt, params, grads)
    groups = [([0, 1], 0.01, (0.9, 0.99), 0.1), ([2], 0.03, (0.5, 0.9), 0.0)]
    w_ref, m_ref = lion_reference(w0, grads, groups, decay=0.2)
    for i, (p, w, m) in enumerate(zip(params, w_ref, m_ref, strict=True)):
        np.testing.assert_allclose(p.data, w, rtol=1e-12, atol=1e-14, err_msg=f"param {i}")
        np.testing.assert_allclose(opt.state[i]["exp_avg"], m, rtol=1e-12, atol=1e-14)
    assert opt.iterations == 12 and opt.current_lr == [0.01 / 3.2, 0.03 / 3.2]
    moved = [np.abs(p.data - w).max() for p, w in zip(params, w0)]
    assert min(moved) > 0.01  # the comparison is not between two unchanged arrays


@pytest.mark.parametrize("via", ["dict", "tg.save"])
def test_lion_resumes_from_its_state_dict_bit_for_bit(via, tmp_path):
    w0, grads = make_problem(seed=4, steps=10)
    settings = dict(lr=0.01, weight_decay=0.05, decay=0.1)
    whole = [param(w) for w in w0]
    run(Lion(whole, **settings), whole, grads)

    first = [param(w) for w in w0]
    opt = Lion(first, **settings)
    run(opt, first, grads[:5])
    saved = opt.state_dict()
    if via == "tg.save":
        tg.save(saved, tmp_path / "lion.npz")
        saved = tg.load(tmp_path / "lion.npz")
    resumed = [param(p.data.copy()) for p in first]
    opt2 = Lion(resumed, lr=0.5)  # the state dict brings back the hyper-parameters too
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["decay"] == 0.1
    run(opt2, resumed, grads[5:])
    for a, b in zip(whole, resumed, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_lion_updates_in_place_and_allocates_nothing_per_step():
    p = param(np.ones((3, 2)), dtype=np.float32)
    array = p.data
    opt = Lion([p], lr=0.1, weight_decay=0.01)
    run(opt, [p], [[np.full((3, 2), 0.5)]] * 2)
    assert p.data is array and p.data.dtype == np.float32
    assert opt.state[0]["exp_avg"].dtype == np.float32
    size = 100_000  # 800 kB per float64 array
    big = param(np.ones(size))
    opt = Lion([big], lr=0.1, weight_decay=0.01)
    big.grad = tg.Tensor(np.linspace(-1, 1, size))
    opt.step()  # the first step creates the state and the work array
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * size // 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(betas=(0.9, 1.5)), r"Lion: invalid betas=\(0.9, 1.5\) \(each must be in \[0, 1\]\)"),
        (dict(betas=(0.9,)), "must be a pair"),
        (dict(lr=-0.1), r"Lion: invalid lr=-0.1"),
        (dict(weight_decay=-1.0), r"Lion: invalid weight_decay=-1.0"),
        (dict(decay=-0.5), r"Lion: invalid decay=-0.5"),
    ],
)
def test_lion_refuses_bad_settings_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Lion([param([1.0])], **kwargs)


# ---------------------------------------------------------------- RunningStandardize


def test_running_statistics_equal_those_of_all_the_samples_seen():
    rng = np.random.default_rng(5)
    X = rng.normal(loc=[3.0, -50.0, 0.0], scale=[1.0, 10.0, 0.1], size=(203, 3))
    norm = RunningStandardize(3)
    for batch in np.split(X, [1, 2, 50, 51, 150]):  # sizes 1, 1, 48, 1, 99, 53
        norm(tg.Tensor(batch))
    np.testing.assert_allclose(norm.mean.data, X.mean(axis=0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(norm.var.data, X.var(axis=0), rtol=1e-5)
    assert norm.num_samples.data.dtype == np.int64 and int(norm.num_samples.data) == 203
    assert norm.mean.dtype == np.float32  # float64 batches do not change the buffers' dtype


def test_eval_freezes_the_statistics_and_training_moves_them():
    norm = RunningStandardize(2)
    norm(tg.Tensor(np.array([[1.0, 2.0], [3.0, 6.0]])))
    frozen = norm.state_dict()
    norm.eval()
    x = tg.Tensor(np.array([[100.0, 100.0]]))
    out = norm(x)
    for name, value in norm.state_dict().items():
        np.testing.assert_array_equal(value, frozen[name], err_msg=name)
    expected = (x.data - frozen["mean"]) / np.sqrt(frozen["var"] + norm.eps)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    norm.train()
    norm(x)
    assert int(norm.num_samples.data) == 3 and not np.array_equal(norm.mean.data, frozen["mean"])


def test_the_gradient_reaches_the_input_only():
    norm = RunningStandardize(2)
    norm(tg.Tensor(np.array([[0.0, 1.0], [4.0, 3.0], [2.0, 8.0]])))
    norm.eval()
    x = tg.Tensor(np.random.default_rng(6).normal(size=(4, 2)), requires_grad=True)
    norm(x).sum().backward()
    expected = np.broadcast_to(1 / np.sqrt(norm.var.data + norm.eps), (4, 2))
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-6)
    assert list(norm.parameters()) == []
    assert all(b.grad is None and not b.requires_grad for b in norm.buffers())
    assert tg.gradcheck(norm, [x])


def test_a_wrong_input_shape_is_named():
    with pytest.raises(ValueError, match=r"RunningStandardize: expected input \(N, 3\), got"):
        RunningStandardize(3)(tg.zeros(4, 2))


def test_state_dict_layout_and_a_file_round_trip(tmp_path):
    model = tg.nn.Sequential(RunningStandardize(2), tg.nn.Linear(2, 1))
    model(tg.randn(6, 2))
    model[0].num_samples.data[...] = 2**62 + 1  # exact only if it never passes through floats
    state = model.state_dict()
    assert list(state) == ["0.mean", "0.var", "0.num_samples", "1.weight", "1.bias"]
    assert [v.dtype for v in state.values()] == [np.float32] * 2 + [np.int64] + [np.float32] * 2
    tg.save(state, tmp_path / "model.npz")
    copy = tg.nn.Sequential(RunningStandardize(2), tg.nn.Linear(2, 1))
    copy.load_state_dict(tg.load(tmp_path / "model.npz"))
    assert int(copy[0].num_samples.data) == 2**62 + 1
    for (name, a), b in zip(state.items(), copy.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_a_training_checkpoint_resumes_the_statistics_bit_for_bit(tmp_path):
    rng = np.random.default_rng(7)
    batches = [rng.normal(loc=4.0, scale=3.0, size=(16, 2)) for _ in range(8)]
    targets = [rng.normal(size=(16, 1)) for _ in range(8)]

    def fresh():
        tg.manual_seed(0)
        model = tg.nn.Sequential(RunningStandardize(2), tg.nn.Linear(2, 1))
        return model, Lion(model.parameters(), lr=0.01, decay=0.1)

    def train(model, opt, steps):
        for x, y in steps:
            opt.zero_grad()
            tg.nn.MSELoss()(model(tg.Tensor(x)), tg.Tensor(y)).backward()
            opt.step()

    data = list(zip(batches, targets))
    whole, whole_opt = fresh()
    train(whole, whole_opt, data)
    first, opt = fresh()
    train(first, opt, data[:4])
    save_checkpoint(tmp_path / "run.ckpt", first, opt, epoch=4)
    resumed, resumed_opt = fresh()
    assert load_checkpoint(tmp_path / "run.ckpt", resumed, resumed_opt) == 4
    assert int(resumed[0].num_samples.data) == 64
    train(resumed, resumed_opt, data[4:])
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
