"""The reference layers beyond their gradients: dropout, initialisation, dtypes, errors, and the
book's first printed loss under nnfs.init()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_np import reference as ref


@pytest.fixture
def global_random_state():
    """Code drawing from np.random's global state must leave it as it found it."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


# ---------------------------------------------------------------- dropout


@given(st.integers(1, 8), st.integers(1, 6), st.floats(0.0, 0.95))
def test_dropout_is_the_identity_in_eval(n, width, rate):
    x = np.random.default_rng(n).standard_normal((n, width))
    dropout = ref.Layer_Dropout(rate, rng=np.random.default_rng(0))
    dropout.forward(x, training=False)
    np.testing.assert_array_equal(dropout.output, x)
    upstream = np.arange(x.size, dtype=np.float64).reshape(x.shape)
    dropout.backward(upstream)
    np.testing.assert_array_equal(dropout.dinputs, upstream)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_dropout_preserves_the_mean_and_drops_the_given_fraction(rate):
    x = np.ones((1000, 100))
    dropout = ref.Layer_Dropout(rate, rng=np.random.default_rng(1))
    dropout.forward(x)
    # Each unit is Bernoulli(1 − rate) / (1 − rate): mean 1, variance rate / (1 − rate).
    five_sigma = 5 * np.sqrt(rate / (1 - rate) / x.size)
    assert abs(dropout.output.mean() - 1) < five_sigma
    assert abs(np.mean(dropout.output == 0) - rate) < 5 * np.sqrt(rate * (1 - rate) / x.size)
    assert set(np.unique(dropout.output)) <= {0.0, 1 / (1 - rate)}


@given(st.integers(1, 8), st.integers(1, 6), st.floats(0.05, 0.9), st.integers(0, 2**32 - 1))
def test_dropout_backward_uses_the_forward_mask(n, width, rate, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, (n, width))  # non-zero, so output / x recovers the mask
    dropout = ref.Layer_Dropout(rate, rng=rng)
    dropout.forward(x)
    mask = dropout.output / x
    upstream = rng.standard_normal((n, width))
    dropout.backward(upstream)
    np.testing.assert_allclose(dropout.dinputs, upstream * mask, rtol=1e-12)
    assert np.all((dropout.dinputs == 0) == (dropout.output == 0))


def test_dropout_and_dense_draw_from_the_global_state_by_default(global_random_state):
    np.random.seed(3)
    expected_weights = 0.01 * np.random.randn(2, 4)
    expected_mask = np.random.binomial(1, 0.75, size=(3, 4)) / 0.75
    np.random.seed(3)
    dense, dropout = ref.Layer_Dense(2, 4), ref.Layer_Dropout(0.25)
    dropout.forward(np.ones((3, 4)))
    np.testing.assert_array_equal(dense.weights, expected_weights)
    np.testing.assert_array_equal(dense.biases, np.zeros((1, 4)))
    np.testing.assert_array_equal(dropout.output, expected_mask)


def test_dense_draws_from_a_given_generator_only(global_random_state):
    before = np.random.get_state()[1].copy()
    first = ref.Layer_Dense(3, 2, rng=np.random.default_rng(5))
    second = ref.Layer_Dense(3, 2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(first.weights, second.weights)
    np.testing.assert_array_equal(
        first.weights, 0.01 * np.random.default_rng(5).standard_normal((3, 2))
    )
    np.testing.assert_array_equal(np.random.get_state()[1], before)


# ---------------------------------------------------------------- dtypes


def run_network(dtype, labels_form: str = "sparse") -> dict[str, np.ndarray]:
    """A dense-relu-dropout-dense-softmax network, forward and backward, in one dtype."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((6, 3)).astype(dtype)
    y = np.array([0, 1, 2, 1, 0, 2])
    if labels_form == "one-hot":
        y = np.eye(3, dtype=np.int64)[y]
    dense1 = ref.Layer_Dense(
        3, 5, weight_regularizer_l2=1e-3, rng=np.random.default_rng(1), dtype=dtype
    )
    relu, dropout = ref.Activation_ReLU(), ref.Layer_Dropout(0.2, rng=np.random.default_rng(2))
    dense2 = ref.Layer_Dense(
        5, 3, bias_regularizer_l1=1e-3, rng=np.random.default_rng(3), dtype=dtype
    )
    head = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
    dense1.forward(X)
    relu.forward(dense1.output)
    dropout.forward(relu.output)
    dense2.forward(dropout.output)
    loss = head.forward(dense2.output, y) + head.loss.regularization_loss(dense1)
    head.backward(head.output, y)
    dense2.backward(head.dinputs)
    dropout.backward(dense2.dinputs)
    relu.backward(dropout.dinputs)
    dense1.backward(relu.dinputs)
    return {
        "loss": np.asarray(loss),
        "probabilities": head.output,
        "dlogits": head.dinputs,
        "dweights2": dense2.dweights,
        "dbiases2": dense2.dbiases,
        "dweights1": dense1.dweights,
        "dinputs": dense1.dinputs,
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("labels_form", ["sparse", "one-hot"])
def test_network_keeps_its_dtype_and_float32_agrees_with_float64(dtype, labels_form):
    result, exact = run_network(dtype, labels_form), run_network(np.float64, labels_form)
    for name, value in result.items():
        assert value.dtype == dtype, name
        np.testing.assert_allclose(value, exact[name], rtol=1e-4, atol=1e-6, err_msg=name)


LAYERS = {
    "relu": ref.Activation_ReLU,
    "softmax": ref.Activation_Softmax,
    "sigmoid": ref.Activation_Sigmoid,
    "linear": ref.Activation_Linear,
    "dropout": lambda: ref.Layer_Dropout(0.3, rng=np.random.default_rng(0)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(LAYERS))
def test_activation_keeps_the_input_dtype(name, dtype):
    layer = LAYERS[name]()
    x = np.linspace(-2, 2, 12, dtype=dtype).reshape(3, 4)
    layer.forward(x)
    layer.backward(np.ones_like(x))
    assert layer.output.dtype == dtype and layer.dinputs.dtype == dtype


LOSSES = {
    "mse": ref.Loss_MeanSquaredError,
    "mae": ref.Loss_MeanAbsoluteError,
    "bce": ref.Loss_BinaryCrossentropy,
    "cce": ref.Loss_CategoricalCrossentropy,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_keeps_the_prediction_dtype_with_integer_targets(name, dtype):
    y_pred = np.array([[0.2, 0.7], [0.6, 0.3], [0.5, 0.4]], dtype=dtype)
    y_true = np.array([[0, 1], [1, 0], [1, 0]])  # integers, one-hot for cce
    loss = LOSSES[name]()
    value = loss.calculate(y_pred, y_true)
    loss.backward(y_pred, y_true)
    assert value.dtype == dtype and loss.dinputs.dtype == dtype


# ---------------------------------------------------------------- errors

ERRORS = [
    (lambda: ref.Layer_Dense(0, 3), ValueError, r"Layer_Dense: n_inputs and n_neurons"),
    (
        lambda: ref.Layer_Dense(2, 3, weights=np.ones((3, 2))),
        ValueError,
        r"weights must have shape .*\(3, 2\)",
    ),
    (
        lambda: ref.Layer_Dense(2, 3, biases=np.ones(2)),
        ValueError,
        r"biases must have shape .*\(2,\)",
    ),
    (
        lambda: ref.Layer_Dense(2, 3).forward(np.ones((4, 5))),
        ValueError,
        r"Layer_Dense.forward: inputs of shape \(4, 5\)",
    ),
    (
        lambda: ref.Layer_Dense(2, 3).backward(np.ones((4, 3))),
        RuntimeError,
        r"Layer_Dense.backward: call forward",
    ),
    (lambda: ref.Layer_Dropout(1.0), ValueError, r"Layer_Dropout: rate .* \[0, 1\)"),
    (
        lambda: ref.Layer_Dropout(0.5).backward(np.ones(2)),
        RuntimeError,
        r"Layer_Dropout.backward: call forward",
    ),
    (
        lambda: ref.Activation_ReLU().backward(np.ones(2)),
        RuntimeError,
        r"Activation_ReLU.backward: call forward",
    ),
    (
        lambda: ref.Activation_Softmax().backward(np.ones(2)),
        RuntimeError,
        r"Activation_Softmax.backward",
    ),
    (
        lambda: ref.Activation_Sigmoid().backward(np.ones(2)),
        RuntimeError,
        r"Activation_Sigmoid.backward",
    ),
    (
        lambda: ref.Activation_Linear().backward(np.ones(2)),
        RuntimeError,
        r"Activation_Linear.backward",
    ),
]


def _softmax_backward_with_wrong_shape():
    softmax = ref.Activation_Softmax()
    softmax.forward(np.zeros((2, 3)))
    softmax.backward(np.ones((2, 4)))


def _dense_backward_with_wrong_shape():
    dense = ref.Layer_Dense(2, 3)
    dense.forward(np.ones((4, 2)))
    dense.backward(np.ones((4, 2)))


cce = ref.Loss_CategoricalCrossentropy()
probs = np.full((3, 2), 0.5)
ERRORS += [
    (
        _softmax_backward_with_wrong_shape,
        ValueError,
        r"Activation_Softmax.backward: dvalues of shape \(2, 4\)",
    ),
    (
        _dense_backward_with_wrong_shape,
        ValueError,
        r"Layer_Dense.backward: dvalues of shape \(4, 2\)",
    ),
    (
        lambda: cce.calculate(probs, np.array([0.0, 1.0, 1.0])),
        ValueError,
        r"sparse labels must be integers",
    ),
    (lambda: cce.calculate(probs, np.array([0, 1])), ValueError, r"2 labels for 3 samples"),
    (lambda: cce.calculate(probs, np.array([0, 1, 2])), ValueError, r"labels must lie in \[0, 2\)"),
    (lambda: cce.backward(probs, np.ones((3, 3))), ValueError, r"one-hot labels of shape \(3, 3\)"),
    (
        lambda: cce.calculate(np.full(3, 0.5), np.array([0, 1, 1])),
        ValueError,
        r"predictions must be \(batch, classes\)",
    ),
    (
        lambda: ref.Activation_Softmax_Loss_CategoricalCrossentropy().backward(
            probs, np.array([0, 5, 1])
        ),
        ValueError,
        r"Activation_Softmax_Loss_CategoricalCrossentropy.backward: labels must lie",
    ),
]
for _loss in (ref.Loss_BinaryCrossentropy, ref.Loss_MeanSquaredError, ref.Loss_MeanAbsoluteError):
    ERRORS += [
        # (n,) targets against (n, 1) predictions would silently broadcast to (n, n).
        (
            lambda cls=_loss: cls().calculate(np.ones((3, 1)), np.ones(3)),
            ValueError,
            rf"{_loss.__name__}: targets of shape \(3,\)",
        ),
        (
            lambda cls=_loss: cls().backward(np.ones((3, 1)), np.ones(3)),
            ValueError,
            rf"{_loss.__name__}.backward: targets",
        ),
    ]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- the book, chapter 5


@pytest.fixture
def nnfs_init():
    """nnfs.init() as the book runs it, undone afterwards: it patches np.dot, np.zeros, np.eye
    and np.random.randn process-wide and reseeds the global random state."""
    nnfs = pytest.importorskip("nnfs")
    patched = [(np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")]
    originals = [(owner, name, getattr(owner, name)) for owner, name in patched]
    state = np.random.get_state()
    nnfs.init()
    yield
    for owner, name, original in originals:
        setattr(owner, name, original)
    np.random.set_state(state)


def test_book_first_loss_is_near_log_3(nnfs_init):
    from nnfs.datasets import spiral_data

    X, y = spiral_data(samples=100, classes=3)
    dense1, activation1 = ref.Layer_Dense(2, 3), ref.Activation_ReLU()
    dense2, activation2 = ref.Layer_Dense(3, 3), ref.Activation_Softmax()
    dense1.forward(X)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    activation2.forward(dense2.output)
    loss = ref.Loss_CategoricalCrossentropy().calculate(activation2.output, y)
    # nnfs.init() makes everything float32, as in the book.
    assert dense1.weights.dtype == np.float32 and loss.dtype == np.float32
    # Weights of 0.01·randn leave the three class probabilities close to 1/3 each.
    np.testing.assert_allclose(activation2.output, 1 / 3, atol=1e-3)
    assert abs(loss - np.log(3)) < 1e-3
    # The value the book prints for this network (chapter 5): 1.0986104, not log(3) = 1.0986123.
    assert abs(loss - 1.0986104) < 5e-7
