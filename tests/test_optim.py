"""Optimizers: closed-form steps, the book's decay, in-place updates, dtypes and errors."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from optim_cases import CONFIGS, IDS, param, run, set_grad

from tinygrad_np.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from tinygrad_np.tensor import Tensor

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
vectors = arrays(np.float64, 4, elements=finite)


# ---------------------------------------------------------------- closed-form steps
@given(w=vectors, g=vectors, lr=st.floats(0, 1), wd=st.floats(0, 1))
def test_sgd_step_is_w_minus_lr_times_g(w, g, lr, wd):
    p = param(w)
    set_grad(p, g)
    SGD([p], lr=lr, weight_decay=wd).step()
    np.testing.assert_allclose(p.data, w - lr * (g + wd * w), rtol=1e-12, atol=1e-12)


@given(w=vectors, g1=vectors, g2=vectors, mu=st.floats(0.01, 0.99), damp=st.floats(0, 0.9))
def test_sgd_pytorch_momentum_two_steps(w, g1, g2, mu, damp):
    p = param(w)
    opt = SGD([p], lr=0.1, momentum=mu, dampening=damp)
    run(opt, [p], [[g1], [g2]])
    b2 = mu * g1 + (1 - damp) * g2  # the first buffer is g1 itself, undamped
    np.testing.assert_allclose(p.data, w - 0.1 * g1 - 0.1 * b2, rtol=1e-12, atol=1e-12)


@given(w=vectors, g1=vectors, g2=vectors, mu=st.floats(0.01, 0.99))
def test_sgd_nesterov_two_steps(w, g1, g2, mu):
    p = param(w)
    run(SGD([p], lr=0.1, momentum=mu, nesterov=True), [p], [[g1], [g2]])
    b2 = mu * g1 + g2
    expected = w - 0.1 * (g1 + mu * g1) - 0.1 * (g2 + mu * b2)
    np.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-12)


@given(w=vectors, g1=vectors, g2=vectors, mu=st.floats(0.01, 0.99))
def test_sgd_nnfs_momentum_two_steps(w, g1, g2, mu):
    p = param(w)
    run(SGD([p], lr=0.1, momentum=mu, momentum_style="nnfs"), [p], [[g1], [g2]])
    v1 = -0.1 * g1
    v2 = mu * v1 - 0.1 * g2
    np.testing.assert_allclose(p.data, w + v1 + v2, rtol=1e-12, atol=1e-12)


def test_momentum_styles_agree_at_constant_lr_and_differ_with_decay():
    rng = np.random.default_rng(0)
    grads = [[rng.normal(size=5)] for _ in range(10)]
    w0 = rng.normal(size=5)
    results = {}
    for decay in (0.0, 0.5):
        for style in ("pytorch", "nnfs"):
            p = param(w0)
            run(SGD([p], lr=0.1, momentum=0.9, decay=decay, momentum_style=style), [p], grads)
            results[decay, style] = p.data
    np.testing.assert_allclose(results[0.0, "pytorch"], results[0.0, "nnfs"], rtol=1e-12)
    assert not np.allclose(results[0.5, "pytorch"], results[0.5, "nnfs"], rtol=1e-3)


@given(w=vectors, g1=vectors, g2=vectors, acc=st.floats(0, 2), lr_decay=st.floats(0, 1))
def test_adagrad_two_steps(w, g1, g2, acc, lr_decay):
    p = param(w)
    opt = Adagrad([p], lr=0.5, eps=1e-7, initial_accumulator_value=acc, lr_decay=lr_decay)
    run(opt, [p], [[g1], [g2]])
    s1 = acc + g1**2
    s2 = s1 + g2**2
    w1 = w - 0.5 * g1 / (np.sqrt(s1) + 1e-7)
    w2 = w1 - 0.5 / (1 + lr_decay) * g2 / (np.sqrt(s2) + 1e-7)
    np.testing.assert_allclose(p.data, w2, rtol=1e-12, atol=1e-12)


@given(w=vectors, g1=vectors, g2=vectors, alpha=st.floats(0.5, 0.99), mu=st.floats(0, 0.9))
def test_rmsprop_two_steps(w, g1, g2, alpha, mu):
    p = param(w)
    run(RMSprop([p], lr=0.01, alpha=alpha, eps=1e-7, momentum=mu), [p], [[g1], [g2]])
    v1 = (1 - alpha) * g1**2
    v2 = alpha * v1 + (1 - alpha) * g2**2
    b1 = g1 / (np.sqrt(v1) + 1e-7)
    b2 = mu * b1 + g2 / (np.sqrt(v2) + 1e-7)
    np.testing.assert_allclose(p.data, w - 0.01 * b1 - 0.01 * b2, rtol=1e-10, atol=1e-12)


@given(w=vectors, g=vectors, alpha=st.floats(0.5, 0.99))
def test_rmsprop_centered_first_step(w, g, alpha):
    p = param(w)
    set_grad(p, g)
    RMSprop([p], lr=0.01, alpha=alpha, eps=1e-7, centered=True).step()
    v, m = (1 - alpha) * g**2, (1 - alpha) * g
    expected = w - 0.01 * g / (np.sqrt(v - m * m) + 1e-7)
    np.testing.assert_allclose(p.data, expected, rtol=1e-9, atol=1e-12)


@given(w=vectors, g=vectors.filter(lambda g: np.all(np.abs(g) > 1e-3)))
def test_adam_first_step_is_lr_times_sign_of_g(w, g):
    p = param(w)
    set_grad(p, g)
    Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, w - 0.01 * np.sign(g), rtol=0, atol=1e-7)


@given(w=vectors, g1=vectors, g2=vectors, wd=st.floats(0, 0.5), amsgrad=st.booleans())
def test_adam_two_steps_as_in_the_book(w, g1, g2, wd, amsgrad):
    """The book's formula: bias-corrected m and v, eps outside the square root."""
    b1, b2, eps, lr = 0.9, 0.999, 1e-7, 0.01
    p = param(w)
    run(Adam([p], lr=lr, eps=eps, weight_decay=wd, amsgrad=amsgrad), [p], [[g1], [g2]])
    m = v = v_max = np.zeros(4)
    expected = w.copy()
    for t, g in enumerate([g1, g2], start=1):
        g = g + wd * expected
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        v_max = np.maximum(v_max, v)
        v_used = v_max if amsgrad else v
        expected = expected - lr * (m / (1 - b1**t)) / (np.sqrt(v_used / (1 - b2**t)) + eps)
    np.testing.assert_allclose(p.data, expected, rtol=1e-10, atol=1e-12)


@given(w=vectors, g=vectors, wd=st.floats(0, 1))
def test_adamw_decays_weights_before_the_adam_step(w, g, wd):
    p = param(w)
    set_grad(p, g)
    AdamW([p], lr=0.01, weight_decay=wd, eps=1e-7).step()
    expected = w * (1 - 0.01 * wd) - 0.01 * g / (np.abs(g) + 1e-7)
    np.testing.assert_allclose(p.data, expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- the book's decay
def test_decay_uses_the_iteration_count_before_the_update():
    p = param([0.0])
    opt = SGD([p], lr=1.0, decay=0.5)
    assert opt.current_lr == 1.0
    for k in range(4):
        before = p.data.copy()
        set_grad(p, [1.0])
        opt.step()
        assert before - p.data == pytest.approx(1.0 / (1 + 0.5 * k), rel=1e-12)
        assert opt.current_lr == 1.0 / (1 + 0.5 * k)  # the book's current_learning_rate
    assert opt.iterations == 4


@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_decay_equals_lr_set_by_hand_before_each_step(cls, kwargs):
    rng = np.random.default_rng(1)
    grads = [[rng.normal(size=(2, 3)), rng.normal(size=3)] for _ in range(6)]
    w0 = [rng.normal(size=(2, 3)), rng.normal(size=3)]
    decayed = [param(w) for w in w0]
    run(cls(decayed, **kwargs, decay=0.3), decayed, grads)
    by_hand = [param(w) for w in w0]
    opt = cls(by_hand, **kwargs)
    for k, step_grads in enumerate(grads):
        opt.param_groups[0]["lr"] = kwargs["lr"] / (1 + 0.3 * k)
        run(opt, by_hand, [step_grads])
    for a, b in zip(decayed, by_hand, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_current_lr_is_a_list_with_several_groups():
    a, b = param([1.0]), param([2.0])
    opt = Adam([{"params": [a]}, {"params": [b], "lr": 0.1, "decay": 1.0}], lr=0.01)
    run(opt, [a, b], [[[1.0], [1.0]]] * 3)
    assert opt.current_lr == [0.01, 0.1 / (1 + 1.0 * 2)]


class SignDescent(Optimizer):
    """A subclass that puts only ``lr`` in its defaults: the base class supplies the rest."""

    def __init__(self, params, lr=0.5):
        super().__init__(params, dict(lr=lr))

    def _update(self, w, g, state, group, lr):
        w -= lr * np.sign(g)


def test_the_base_class_owns_decay_for_a_subclass_that_leaves_it_out():
    p = param([0.0])
    opt = SignDescent([p])
    assert opt.defaults == {"lr": 0.5, "decay": 0.0}
    run(opt, [p], [[[1.0]]] * 2)
    assert p.data.tolist() == [-1.0] and opt.current_lr == 0.5
    q = param([0.0])
    opt = SignDescent([{"params": [q], "decay": 1.0}])
    run(opt, [q], [[[1.0]]] * 3)
    assert q.data.tolist() == [-(0.5 + 0.25 + 0.5 / 3)]
    assert opt.current_lr == 0.5 / 3
    with pytest.raises(ValueError, match="SignDescent: invalid decay=-1.0"):
        SignDescent([{"params": [q], "decay": -1.0}])
    saved = opt.state_dict()
    assert saved["param_groups"][0]["decay"] == 1.0
    fresh = SignDescent([param([0.0])])
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["decay"] == 1.0 and fresh.current_lr == 0.5 / 3


def test_a_subclass_without_lr_is_told_so():
    class NoLr(Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(momentum=0.9))

    with pytest.raises(TypeError, match="NoLr: missing lr"):
        NoLr([param([1.0])])
    assert NoLr([{"params": [param([1.0])], "lr": 0.1}]).param_groups[0]["lr"] == 0.1


# ---------------------------------------------------------------- in place, dtype, memory
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_updates_in_place_and_keeps_float32(cls, kwargs):
    p = param(np.ones((3, 2)), dtype=np.float32)
    array, view = p.data, p.data[0]
    opt = cls([p], **kwargs)
    run(opt, [p], [[np.full((3, 2), 0.5)]] * 3)
    assert p.data is array and p.data.dtype == np.float32
    assert view[0] != 1.0  # another reference to the array sees the update
    for value in opt.state[0].values():
        assert not isinstance(value, np.ndarray) or value.dtype == np.float32


@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_step_allocates_no_parameter_sized_arrays(cls, kwargs):
    size = 100_000  # 800 kB per float64 array
    p = param(np.ones(size))
    opt = cls([p], **kwargs)
    set_grad(p, np.linspace(-1, 1, size))
    opt.step()  # the first step creates state and work buffers
    tracemalloc.start()
    try:
        opt.step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * size // 4


def test_parameters_without_grad_are_skipped():
    a, b = param([1.0, 2.0]), param([3.0])
    opt = Adam([a, b], lr=0.1)
    set_grad(a, [1.0, 1.0])
    opt.step()
    assert b.data.tolist() == [3.0] and 1 not in opt.state
    assert opt.state[0]["step"] == 1


def test_zero_grad_sets_none_or_zeros_in_place():
    p = param([1.0, 2.0])
    opt = SGD([p], lr=0.1)
    set_grad(p, [3.0, 4.0])
    grad_array = p.grad.data
    opt.zero_grad(set_to_none=False)
    assert p.grad.data is grad_array and grad_array.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_params_from_a_generator_and_groups():
    a, b, c = param([1.0]), param([1.0]), param([1.0])
    opt = SGD((p for p in [a, b]), lr=0.1)
    assert [len(g["params"]) for g in opt.param_groups] == [2]
    opt = SGD([{"params": [a, b]}, {"params": c, "lr": 0.5}], lr=0.1)
    run(opt, [a, b, c], [[[1.0], [1.0], [1.0]]])
    assert [a.data[0], b.data[0], c.data[0]] == pytest.approx([0.9, 0.9, 0.5])
    assert opt.state_dict()["param_groups"][1]["params"] == [2]


# ---------------------------------------------------------------- errors
def test_empty_and_wrong_params_are_refused():
    with pytest.raises(ValueError, match="SGD got an empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray, not a Tensor"):
        SGD([param([1.0]), np.ones(2)], lr=0.1)
    frozen = Tensor(np.ones(3))
    with pytest.raises(TypeError, match=r"parameter 1 \(shape \(3,\)\) has requires_grad=False"):
        Adam([param([1.0]), frozen])
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        SGD(param([1.0, 2.0]), lr=0.1)
    with pytest.raises(TypeError, match="not a mix"):
        SGD([param([1.0]), {"params": [param([1.0])]}], lr=0.1)
    p = param([1.0])
    with pytest.raises(ValueError, match="parameter 1 appears more than once"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="SGD: missing lr"):
        SGD([param([1.0])])
    with pytest.raises(TypeError, match="SGD: missing lr"):
        SGD([{"params": [param([1.0])], "lr": 0.1}, {"params": [param([1.0])]}])
    with pytest.raises(ValueError, match="group with no parameters"):
        SGD([{"params": []}], lr=0.1)


BAD_SETTINGS = [
    (SGD, dict(lr=-0.1), "SGD: invalid lr=-0.1"),
    (SGD, dict(lr=0.1, momentum=-0.5), "SGD: invalid momentum=-0.5"),
    (SGD, dict(lr=0.1, nesterov=True), "SGD: invalid nesterov=True .Nesterov needs momentum"),
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, dampening=0.1), "Nesterov needs dampening"),
    (SGD, dict(lr=0.1, momentum_style="keras"), "SGD: invalid momentum_style='keras'"),
    (SGD, dict(lr=0.1, momentum=0.9, momentum_style="nnfs", nesterov=True), "nesterov=True"),
    (SGD, dict(lr=0.1, weight_decay=-1.0), "SGD: invalid weight_decay=-1.0"),
    (SGD, dict(lr=0.1, decay=-0.01), "SGD: invalid decay=-0.01"),
    (Adagrad, dict(lr=-1.0), "Adagrad: invalid lr=-1.0"),
    (Adagrad, dict(eps=-1e-7), "Adagrad: invalid eps=-1e-07"),
    (Adagrad, dict(lr_decay=-0.1), "Adagrad: invalid lr_decay=-0.1"),
    (RMSprop, dict(lr=-0.01), "RMSprop: invalid lr=-0.01"),
    (RMSprop, dict(momentum=-0.9), "RMSprop: invalid momentum=-0.9"),
    (RMSprop, dict(alpha=1.5), "RMSprop: invalid alpha=1.5"),
    (RMSprop, dict(eps=-1.0), "RMSprop: invalid eps=-1.0"),
    (Adam, dict(lr=-0.001), "Adam: invalid lr=-0.001"),
    (Adam, dict(betas=(1.0, 0.999)), r"Adam: invalid betas=\(1.0, 0.999\)"),
    (Adam, dict(betas=(0.9, -0.1)), r"Adam: invalid betas=\(0.9, -0.1\)"),
    (Adam, dict(eps=-1e-8), "Adam: invalid eps=-1e-08"),
    (AdamW, dict(weight_decay=-0.01), "AdamW: invalid weight_decay=-0.01"),
]


@pytest.mark.parametrize("cls, kwargs, message", BAD_SETTINGS)
def test_bad_hyper_parameters_name_the_optimizer_and_value(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([param([1.0])], **kwargs)


def test_bad_group_setting_is_refused():
    with pytest.raises(ValueError, match="Adam: invalid lr=-1"):
        Adam([{"params": [param([1.0])], "lr": -1}])


def test_gradient_of_the_wrong_shape_is_refused():
    p = param([1.0, 2.0])
    p.grad = Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"SGD: parameter 0 has shape \(2,\) .* shape \(3,\)"):
        SGD([p], lr=0.1).step()


@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_minimizes_a_quadratic_through_backward_and_stays_a_leaf(cls, kwargs):
    target = Tensor(np.array([1.0, -2.0, 0.5]))
    w = param(np.zeros(3))
    opt = cls([w], **kwargs)
    start = float(((w - target) ** 2).sum().item())
    for _ in range(30):
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    assert float(((w - target) ** 2).sum().item()) < 0.9 * start
