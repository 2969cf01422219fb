"""The reference optimizers: learning-rate decay, closed-form steps, state, and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_np import reference as ref

OPTIMIZERS = {
    "sgd": (ref.Optimizer_SGD, {}),
    "sgd-momentum": (ref.Optimizer_SGD, {"momentum": 0.9}),
    "adagrad": (ref.Optimizer_Adagrad, {}),
    "rmsprop": (ref.Optimizer_RMSprop, {}),
    "adam": (ref.Optimizer_Adam, {}),
}


def make_optimizer(name: str, learning_rate: float = 0.01, decay: float = 0.01):
    cls, options = OPTIMIZERS[name]
    return cls(learning_rate=learning_rate, decay=decay, **options)


gradients = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
    # Gradients well above epsilon, so epsilon's share of each step is below 1e-4.
    elements=st.one_of(st.floats(1e-3, 10), st.floats(-10, -1e-3)),
)


def layer_with_gradient(dweights: np.ndarray, dtype=np.float64) -> ref.Layer_Dense:
    n_in, n_out = dweights.shape
    weights = np.linspace(-1, 1, n_in * n_out).reshape(n_in, n_out)
    layer = ref.Layer_Dense(n_in, n_out, weights=weights, biases=np.full(n_out, 0.5), dtype=dtype)
    layer.dweights = dweights.astype(dtype)
    layer.dbiases = -np.ones((1, n_out), dtype=dtype)
    return layer


def step(optimizer, *layers) -> None:
    optimizer.pre_update_params()
    for layer in layers:
        optimizer.update_params(layer)
    optimizer.post_update_params()


@given(
    learning_rate=st.floats(1e-4, 2.0),
    decay=st.floats(0, 1.0),
    steps=st.integers(0, 6),
    name=st.sampled_from(list(OPTIMIZERS)),
)
def test_learning_rate_decays_inverse_time(learning_rate, decay, steps, name):
    optimizer = make_optimizer(name, learning_rate, decay)
    layer = layer_with_gradient(np.ones((2, 2)))
    for _ in range(steps):
        step(optimizer, layer)
    optimizer.pre_update_params()
    assert optimizer.iterations == steps
    expected = learning_rate / (1 + decay * steps)
    assert optimizer.current_learning_rate == pytest.approx(expected, rel=1e-12)


@given(gradients, st.floats(1e-3, 1.0))
def test_sgd_step_is_minus_learning_rate_times_gradient(g, learning_rate):
    layer = layer_with_gradient(g)
    before = layer.weights.copy()
    step(ref.Optimizer_SGD(learning_rate=learning_rate), layer)
    np.testing.assert_allclose(layer.weights, before - learning_rate * g, rtol=1e-12)
    np.testing.assert_allclose(layer.biases, 0.5 + learning_rate, rtol=1e-12)


@given(gradients, st.floats(0.05, 0.99), st.floats(0.0, 0.5))
def test_sgd_book_momentum_under_decay(g, momentum, decay):
    # The velocity carries each step's own learning rate: v_t = μ v_{t-1} − lr_t g.
    layer = layer_with_gradient(g)
    w0 = layer.weights.copy()
    optimizer = ref.Optimizer_SGD(learning_rate=0.2, decay=decay, momentum=momentum)
    velocity, expected = np.zeros_like(g), w0.copy()
    for t in range(4):
        step(optimizer, layer)
        velocity = momentum * velocity - 0.2 / (1 + decay * t) * g
        expected = expected + velocity
        np.testing.assert_allclose(layer.weights, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(optimizer.state[layer]["weight_momentums"], velocity, rtol=1e-10)


@given(gradients, st.floats(1e-3, 0.5))
def test_adam_moves_by_learning_rate_against_the_sign_of_a_steady_gradient(g, learning_rate):
    # With a constant gradient the corrected moments are exactly g and g², every step.
    layer = layer_with_gradient(g)
    optimizer = ref.Optimizer_Adam(learning_rate=learning_rate)
    for _ in range(3):
        before = layer.weights.copy()
        step(optimizer, layer)
        np.testing.assert_allclose(
            layer.weights - before, -learning_rate * np.sign(g), rtol=1e-4, atol=1e-12
        )


@given(gradients, st.floats(1e-3, 0.5))
def test_adagrad_first_step_is_learning_rate_times_sign(g, learning_rate):
    layer = layer_with_gradient(g)
    before = layer.weights.copy()
    step(ref.Optimizer_Adagrad(learning_rate=learning_rate, epsilon=1e-7), layer)
    expected = -learning_rate * g / (np.abs(g) + 1e-7)
    np.testing.assert_allclose(layer.weights - before, expected, rtol=1e-9)


@given(gradients, st.floats(0.0, 0.99))
def test_rmsprop_first_step_is_scaled_by_one_over_root_of_one_minus_rho(g, rho):
    layer = layer_with_gradient(g)
    before = layer.weights.copy()
    step(ref.Optimizer_RMSprop(learning_rate=0.01, rho=rho), layer)
    expected = -0.01 * np.sign(g) / np.sqrt(1 - rho)
    np.testing.assert_allclose(layer.weights - before, expected, rtol=1e-3)


def test_state_is_kept_per_layer_in_the_optimizer():
    first, second = layer_with_gradient(np.ones((2, 3))), layer_with_gradient(2 * np.ones((3, 1)))
    optimizer = ref.Optimizer_Adagrad()
    step(optimizer, first, second)
    np.testing.assert_array_equal(optimizer.state[first]["weight_cache"], np.ones((2, 3)))
    np.testing.assert_array_equal(optimizer.state[second]["weight_cache"], 4 * np.ones((3, 1)))
    assert not hasattr(first, "weight_cache")
    # A new optimizer on the same layer starts from zero state, not from the old cache.
    fresh = ref.Optimizer_Adagrad()
    step(fresh, first)
    np.testing.assert_array_equal(fresh.state[first]["weight_cache"], np.ones((2, 3)))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_parameters_and_state_stay_float32(name):
    layer = layer_with_gradient(np.full((2, 3), 0.3), dtype=np.float32)
    optimizer = make_optimizer(name)
    for _ in range(3):
        step(optimizer, layer)
    assert layer.weights.dtype == np.float32 and layer.biases.dtype == np.float32
    assert all(value.dtype == np.float32 for value in optimizer.state[layer].values())


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_update_before_backward_is_a_clear_error(name):
    optimizer = make_optimizer(name)
    with pytest.raises(RuntimeError, match=r"update_params: the layer has no gradients"):
        optimizer.update_params(ref.Layer_Dense(2, 2))


# ---------------------------------------------------------------- against torch.optim


def gradient_at(weights: np.ndarray, biases: np.ndarray, X: np.ndarray, targets: np.ndarray):
    """(dW, db) of a dense layer's mean squared error, from the reference backward passes."""
    layer = ref.Layer_Dense(*weights.shape, weights=weights, biases=biases)
    loss = ref.Loss_MeanSquaredError()
    layer.forward(X)
    loss.backward(layer.output, targets)
    layer.backward(loss.dinputs)
    return layer.dweights, layer.dbiases


def torch_cases(torch):
    decay = 0.05

    def inverse_time(optimizer):
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1 / (1 + decay * t))

    sgd = torch.optim.SGD
    return {
        "sgd": (ref.Optimizer_SGD(0.1, decay=decay), lambda p: sgd(p, lr=0.1), inverse_time),
        # The book's momentum equals PyTorch's only while the learning rate is constant.
        "sgd-momentum": (
            ref.Optimizer_SGD(0.1, momentum=0.9),
            lambda p: sgd(p, lr=0.1, momentum=0.9),
            None,
        ),
        "adagrad": (
            ref.Optimizer_Adagrad(0.5, decay=decay, epsilon=1e-7),
            # PyTorch's lr_decay is the same inverse-time decay; its eps default is 1e-10.
            lambda p: torch.optim.Adagrad(
                p, lr=0.5, lr_decay=decay, eps=1e-7, initial_accumulator_value=0
            ),
            None,
        ),
        "rmsprop": (
            ref.Optimizer_RMSprop(0.02, decay=decay, epsilon=1e-7, rho=0.8),
            lambda p: torch.optim.RMSprop(p, lr=0.02, alpha=0.8, eps=1e-7),
            inverse_time,
        ),
        "adam": (
            ref.Optimizer_Adam(0.05, decay=decay, epsilon=1e-7, beta_1=0.8, beta_2=0.99),
            lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-7),
            inverse_time,
        ),
    }


@pytest.mark.parametrize("name", ["sgd", "sgd-momentum", "adagrad", "rmsprop", "adam"])
def test_trajectory_matches_torch_optim(name):
    torch = pytest.importorskip("torch")
    ours, make_torch, make_schedule = torch_cases(torch)[name]
    rng = np.random.default_rng(7)
    X, targets = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    layer = ref.Layer_Dense(3, 2, rng=rng)
    layer.biases[:] = rng.standard_normal((1, 2))
    w = torch.tensor(layer.weights.copy(), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(layer.biases.copy(), dtype=torch.float64, requires_grad=True)
    theirs = make_torch([w, b])
    schedule = make_schedule(theirs) if make_schedule else None

    for _ in range(15):
        ours.pre_update_params()
        layer.dweights, layer.dbiases = gradient_at(layer.weights, layer.biases, X, targets)
        ours.update_params(layer)
        ours.post_update_params()

        dw, db = gradient_at(w.detach().numpy(), b.detach().numpy(), X, targets)
        w.grad, b.grad = torch.from_numpy(dw.copy()), torch.from_numpy(db.copy())
        theirs.step()
        if schedule is not None:
            schedule.step()

        np.testing.assert_allclose(layer.weights, w.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(layer.biases, b.detach().numpy(), rtol=1e-10, atol=1e-12)
