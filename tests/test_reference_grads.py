"""Hand-derived backward passes of tinygrad_np.reference against central finite differences.

Every check runs in float64, over Hypothesis-drawn batch sizes (1..8) and widths (1..6).
Each backward receives a random upstream gradient u, so it is checked as the gradient of the
scalar ``sum(output * u)``; losses are checked as the gradient of the mean loss itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_np import reference as ref
from tinygrad_np.gradcheck import finite_differences

batch = st.integers(1, 8)
width = st.integers(1, 6)
MARGIN = 0.01  # inputs kept this far from kinks (relu at 0, |x| at 0) so differences are smooth


def floats(low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def off_zero(scale: float = 3.0) -> st.SearchStrategy[float]:
    return st.one_of(floats(MARGIN, scale), floats(-scale, -MARGIN))


def matrix(shape: tuple[int, ...], elements=None) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, shape, elements=elements if elements is not None else floats())


def numerical_grad(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of f() with respect to x (the library's finite-difference loop)."""
    plus, minus = finite_differences(f, x, eps)
    return ((plus - minus) / (2 * eps)).reshape(x.shape)


def assert_grad(analytic: np.ndarray, numeric: np.ndarray) -> None:
    assert analytic.shape == numeric.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- layers


@st.composite
def dense_case(draw):
    n, n_in, n_out = draw(batch), draw(width), draw(width)
    regularizers = {
        name: draw(st.sampled_from([0.0, 0.05, 0.3]))
        for name in (
            "weight_regularizer_l1",
            "weight_regularizer_l2",
            "bias_regularizer_l1",
            "bias_regularizer_l2",
        )
    }
    # Off zero so the L1 penalty is differentiable at every drawn parameter.
    weights = draw(matrix((n_in, n_out), off_zero(1.0)))
    biases = draw(matrix((1, n_out), off_zero(1.0)))
    x = draw(matrix((n, n_in)))
    upstream = draw(matrix((n, n_out)))
    return ref.Layer_Dense(n_in, n_out, weights=weights, biases=biases, **regularizers), x, upstream


@given(dense_case())
def test_dense_backward_matches_finite_differences(case):
    layer, x, upstream = case
    penalty = ref.Loss()

    def objective() -> float:
        layer.forward(x)
        return float(np.sum(layer.output * upstream) + penalty.regularization_loss(layer))

    layer.forward(x)
    layer.backward(upstream)
    dinputs, dweights, dbiases = layer.dinputs, layer.dweights, layer.dbiases
    assert_grad(dinputs, numerical_grad(objective, x))
    assert_grad(dweights, numerical_grad(objective, layer.weights))
    assert_grad(dbiases, numerical_grad(objective, layer.biases))


@st.composite
def regularized_layer(draw):
    n_in, n_out = draw(width), draw(width)
    strengths = st.floats(0.0, 1.0)
    return ref.Layer_Dense(
        n_in,
        n_out,
        weight_regularizer_l1=draw(strengths),
        weight_regularizer_l2=draw(strengths),
        bias_regularizer_l1=draw(strengths),
        bias_regularizer_l2=draw(strengths),
        weights=draw(matrix((n_in, n_out), off_zero())),
        biases=draw(matrix((1, n_out), off_zero())),
    )


@given(regularized_layer())
def test_regularization_loss_gradient_is_what_backward_adds(layer):
    # With a zero upstream gradient, backward leaves only the regularization terms.
    layer.forward(np.ones((2, layer.weights.shape[0])))
    layer.backward(np.zeros((2, layer.weights.shape[1])))

    def penalty() -> float:
        return float(ref.Loss().regularization_loss(layer))

    assert_grad(layer.dweights, numerical_grad(penalty, layer.weights))
    assert_grad(layer.dbiases, numerical_grad(penalty, layer.biases))


@given(regularized_layer())
def test_regularization_loss_is_the_weighted_sum_of_penalties(layer):
    w, b = layer.weights, layer.biases
    expected = (
        layer.weight_regularizer_l1 * np.abs(w).sum()
        + layer.weight_regularizer_l2 * (w**2).sum()
        + layer.bias_regularizer_l1 * np.abs(b).sum()
        + layer.bias_regularizer_l2 * (b**2).sum()
    )
    assert ref.Loss().regularization_loss(layer) == pytest.approx(expected, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------- activations


@st.composite
def activation_case(draw, elements=None):
    shape = (draw(batch), draw(width))
    return draw(matrix(shape, elements)), draw(matrix(shape))


ACTIVATIONS = {
    "relu": (ref.Activation_ReLU, off_zero()),  # kink at 0
    "softmax": (ref.Activation_Softmax, None),
    "sigmoid": (ref.Activation_Sigmoid, None),
    "linear": (ref.Activation_Linear, None),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(data=st.data())
def test_activation_backward_matches_finite_differences(name, data):
    cls, elements = ACTIVATIONS[name]
    x, upstream = data.draw(activation_case(elements))
    activation = cls()

    def objective() -> float:
        activation.forward(x)
        return float(np.sum(activation.output * upstream))

    activation.forward(x)
    activation.backward(upstream)
    assert_grad(activation.dinputs, numerical_grad(objective, x))


@given(activation_case())
def test_softmax_rows_are_probabilities(case):
    x, _ = case
    softmax = ref.Activation_Softmax()
    softmax.forward(x + 1e4)  # large logits: the max shift keeps exp finite
    assert np.all(softmax.output >= 0)
    np.testing.assert_allclose(softmax.output.sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- losses


@st.composite
def class_case(draw):
    n, classes = draw(batch), draw(width)
    # Probabilities away from the clip bounds; they need not sum to 1 for the derivative.
    y_pred = draw(matrix((n, classes), floats(0.01, 0.99)))
    labels = draw(arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return y_pred, labels


def one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


@st.composite
def regression_case(draw, target_elements=None, offsets=None):
    n, outputs = draw(batch), draw(width)
    y_pred = draw(matrix((n, outputs), floats(0.01, 0.99)))
    if offsets is not None:  # targets a drawn non-zero distance from the predictions
        return y_pred, y_pred + draw(matrix((n, outputs), offsets))
    if target_elements is None:
        target_elements = floats()
    return y_pred, draw(matrix((n, outputs), target_elements))


def check_loss_gradient(loss, y_pred: np.ndarray, y_true: np.ndarray) -> None:
    loss.backward(y_pred, y_true)
    numeric = numerical_grad(lambda: float(loss.calculate(y_pred, y_true)), y_pred)
    assert_grad(loss.dinputs, numeric)


@pytest.mark.parametrize("label_form", ["sparse", "one-hot"])
@given(case=class_case())
def test_categorical_crossentropy_backward_matches_finite_differences(label_form, case):
    y_pred, labels = case
    y_true = labels if label_form == "sparse" else one_hot(labels, y_pred.shape[1])
    check_loss_gradient(ref.Loss_CategoricalCrossentropy(), y_pred, y_true)


@given(class_case())
def test_categorical_crossentropy_sparse_and_one_hot_agree(case):
    y_pred, labels = case
    hot = one_hot(labels, y_pred.shape[1])
    loss = ref.Loss_CategoricalCrossentropy()
    np.testing.assert_allclose(loss.forward(y_pred, labels), loss.forward(y_pred, hot))
    np.testing.assert_allclose(
        loss.forward(y_pred, labels), -np.log(y_pred[np.arange(len(labels)), labels])
    )
    loss.backward(y_pred, labels)
    sparse_grad = loss.dinputs
    loss.backward(y_pred, hot)
    np.testing.assert_allclose(sparse_grad, loss.dinputs)


LOSS_CASES = {
    "binary-crossentropy-hard": (
        ref.Loss_BinaryCrossentropy,
        dict(target_elements=st.sampled_from([0.0, 1.0])),
    ),
    "binary-crossentropy-soft": (ref.Loss_BinaryCrossentropy, dict(target_elements=floats(0, 1))),
    "mean-squared-error": (ref.Loss_MeanSquaredError, {}),
    "mean-absolute-error": (ref.Loss_MeanAbsoluteError, dict(offsets=off_zero())),
}


@pytest.mark.parametrize("name", list(LOSS_CASES))
@given(data=st.data())
def test_regression_loss_backward_matches_finite_differences(name, data):
    cls, options = LOSS_CASES[name]
    y_pred, y_true = data.draw(regression_case(**options))
    check_loss_gradient(cls(), y_pred, y_true)


@st.composite
def logits_case(draw):
    n, classes = draw(batch), draw(width)
    logits = draw(matrix((n, classes)))
    labels = draw(arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return logits, labels


@pytest.mark.parametrize("label_form", ["sparse", "one-hot"])
@given(case=logits_case())
def test_combined_softmax_crossentropy_equals_the_chained_backward(label_form, case):
    logits, labels = case
    y_true = labels if label_form == "sparse" else one_hot(labels, logits.shape[1])
    combined = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
    loss_value = combined.forward(logits, y_true)
    combined.backward(combined.output, y_true)

    softmax, cce = ref.Activation_Softmax(), ref.Loss_CategoricalCrossentropy()
    softmax.forward(logits)
    assert loss_value == pytest.approx(cce.calculate(softmax.output, y_true), rel=1e-12)
    cce.backward(softmax.output, y_true)
    softmax.backward(cce.dinputs)
    np.testing.assert_allclose(combined.dinputs, softmax.dinputs, rtol=1e-7, atol=1e-12)

    numeric = numerical_grad(lambda: float(combined.forward(logits, y_true)), logits)
    assert_grad(combined.dinputs, numeric)


@given(logits_case())
def test_combined_softmax_crossentropy_sparse_and_one_hot_agree(case):
    logits, labels = case
    hot = one_hot(labels, logits.shape[1])
    combined = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
    assert combined.forward(logits, labels) == pytest.approx(combined.forward(logits, hot))
    combined.backward(combined.output, labels)
    sparse_grad = combined.dinputs
    combined.backward(combined.output, hot)
    np.testing.assert_allclose(sparse_grad, combined.dinputs, atol=1e-15)
