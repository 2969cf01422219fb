"""Losses: values against NumPy formulas, gradients against finite differences, every
reduction, stability at extreme inputs, and every promised error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_np as tg
from tinygrad_np import nn
from tinygrad_np.nn import functional as F

sizes = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)
REDUCTIONS = ["mean", "sum", "none"]


def one_hot(y, c):
    return np.eye(c)[y]


# --- NumPy references: one loss per sample (class losses) or per element ---------------------


def ref_cross_entropy(x, t):
    shifted = x - x.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -((one_hot(t, x.shape[1]) if t.ndim == 1 else t) * logp).sum(axis=1)


def ref_nll(x, t):
    return -x[np.arange(len(t)), t]


def ref_categorical(p, t):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    if t.ndim == 1:
        return -np.log(p[np.arange(len(t)), t])
    return -np.log((p * t).sum(axis=1))


def ref_bce(p, y):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def ref_bce_logits(x, y):
    s = 1 / (1 + np.exp(-x))
    return -(y * np.log(s) + (1 - y) * np.log(1 - s))


# --- inputs: draw(rng, n, c) -> (input, target), float64 ---------------------------------------


def _labels_or_one_hot(rng, n, c):
    y = rng.integers(0, c, n)
    return one_hot(y, c) if rng.random() < 0.5 else y


def draw_logits(rng, n, c):
    return rng.normal(0, 2, (n, c)), _labels_or_one_hot(rng, n, c)


def draw_log_probs(rng, n, c):
    return rng.uniform(-5, 0, (n, c)), rng.integers(0, c, n)


def draw_probs(rng, n, c):
    return rng.uniform(0.05, 0.95, (n, c)), _labels_or_one_hot(rng, n, c)


def draw_binary_probs(rng, n, c):
    return rng.uniform(0.05, 0.95, (n, c)), rng.uniform(0, 1, (n, c))


def draw_binary_logits(rng, n, c):
    return rng.normal(0, 3, (n, c)), rng.uniform(0, 1, (n, c))


def draw_regression(rng, n, c):
    x = rng.normal(0, 2, (n, c))
    # keep x - y at least 0.1 from 0, where |.| bends
    return x, x - rng.uniform(0.1, 2, (n, c)) * rng.choice([-1.0, 1.0], (n, c))


# (name, module, function, draw, reference)
CASES = [
    ("cross_entropy", nn.CrossEntropyLoss, F.cross_entropy, draw_logits, ref_cross_entropy),
    ("nll_loss", nn.NLLLoss, F.nll_loss, draw_log_probs, ref_nll),
    (
        "categorical_crossentropy",
        nn.CategoricalCrossentropy,
        F.categorical_crossentropy,
        draw_probs,
        ref_categorical,
    ),
    ("binary_cross_entropy", nn.BCELoss, F.binary_cross_entropy, draw_binary_probs, ref_bce),
    (
        "binary_cross_entropy_with_logits",
        nn.BCEWithLogitsLoss,
        F.binary_cross_entropy_with_logits,
        draw_binary_logits,
        ref_bce_logits,
    ),
    ("mse_loss", nn.MSELoss, F.mse_loss, draw_regression, lambda x, y: (x - y) ** 2),
    ("l1_loss", nn.L1Loss, F.l1_loss, draw_regression, lambda x, y: np.abs(x - y)),
]
CASE_IDS = [case[0] for case in CASES]
case_params = pytest.mark.parametrize(
    ("name", "module", "function", "draw", "reference"), CASES, ids=CASE_IDS
)


def _reduce(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](losses)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@case_params
@given(seed=seeds, n=sizes, c=st.integers(2, 5))
def test_loss_values_and_gradients(name, module, function, draw, reference, reduction, seed, n, c):
    x, target = draw(np.random.default_rng(seed), n, c)
    inputs = tg.Tensor(x, requires_grad=True)
    loss_fn = module(reduction=reduction)
    loss = loss_fn(inputs, target)
    expected = _reduce(reference(x, target), reduction)
    assert loss.dtype == np.float64 and loss.shape == np.shape(expected)
    np.testing.assert_allclose(loss.data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(function(inputs, target, reduction).data, loss.data)
    assert tg.gradcheck(lambda x: loss_fn(x, target), [inputs])


@case_params
def test_bad_reduction_is_an_error(name, module, function, draw, reference):
    with pytest.raises(ValueError, match=r"reduction must be 'mean', 'sum' or 'none', not 'avg'"):
        module(reduction="avg")
    x, target = draw(np.random.default_rng(0), 2, 3)
    with pytest.raises(ValueError, match=rf"{name}: reduction must be"):
        function(tg.Tensor(x), target, reduction="avg")


@case_params
def test_float32_predictions_stay_float32(name, module, function, draw, reference):
    x, target = draw(np.random.default_rng(0), 4, 3)
    if np.asarray(target).dtype.kind == "f":
        target = target.astype(np.float64)  # even float64 targets must not promote the loss
    loss = module()(tg.Tensor(x.astype(np.float32), requires_grad=True), target)
    assert loss.dtype == np.float32
    loss.backward()


@case_params
def test_integer_predictions_are_an_error(name, module, function, draw, reference):
    _, target = draw(np.random.default_rng(0), 2, 3)
    with pytest.raises(TypeError, match=rf"{name}: predictions must be floating point"):
        function(tg.Tensor(np.zeros((2, 3), dtype=np.int64)), target)


# --- class-label errors ---------------------------------------------------------------------

CLASS_LOSSES = [
    pytest.param(nn.CrossEntropyLoss(), np.zeros((3, 3)), id="CrossEntropyLoss"),
    pytest.param(nn.NLLLoss(), np.full((3, 3), -1.0), id="NLLLoss"),
    pytest.param(nn.CategoricalCrossentropy(), np.full((3, 3), 1 / 3), id="CategoricalCE"),
]
LABEL_ERRORS = [
    ("label_too_large", np.array([0, 3, 1]), r"label 3 is out of range for 3 classes"),
    ("negative_label", np.array([0, -1, 1]), r"label -1 is out of range for 3 classes"),
    ("wrong_length", np.array([0, 1]), r"2 labels for 3 rows"),
    ("one_hot_too_wide", np.eye(4)[[0, 1, 2]], r"one-hot targets of shape \(3, 4\) do not match"),
    ("float_labels", np.array([0.0, 1.0, 2.0]), r"integer"),
]


@pytest.mark.parametrize(("loss_fn", "x"), CLASS_LOSSES)
@pytest.mark.parametrize(("problem", "target", "message"), LABEL_ERRORS, ids=lambda v: str(v))
def test_bad_class_targets_are_errors(loss_fn, x, problem, target, message):
    with pytest.raises(ValueError, match=message):
        loss_fn(tg.Tensor(x), target)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
def test_a_negative_label_is_an_error_when_the_classes_outnumber_the_dtype(dtype):
    # Viewed as unsigned, int8's -100 is 156: below 200 classes, so the one-reduction check
    # alone would let it wrap around to column 100.
    classes = int(np.iinfo(dtype).max) + 73
    labels = np.array([0, -100, 1], dtype=dtype)
    for loss_fn in (nn.CrossEntropyLoss(), nn.NLLLoss()):
        with pytest.raises(ValueError, match=f"label -100 is out of range for {classes} classes"):
            loss_fn(tg.Tensor(np.zeros((3, classes))), labels)
    assert nn.CrossEntropyLoss()(tg.Tensor(np.zeros((3, classes))), labels * 0).item() > 0


def test_nll_loss_needs_integer_labels_not_one_hot():
    with pytest.raises(ValueError, match=r"nll_loss: targets must be integer labels of shape"):
        F.nll_loss(tg.Tensor(np.full((2, 3), -1.0)), np.eye(3)[[0, 1]])


@pytest.mark.parametrize("function", [F.nll_loss, F.categorical_crossentropy])
def test_class_losses_need_two_dimensional_input(function):
    with pytest.raises(ValueError, match=r"input must have shape \(N, C\), got \(3,\)"):
        function(tg.Tensor(np.full(3, 0.5)), np.array([0, 1, 0]))


# --- same-shape targets ---------------------------------------------------------------------

SHAPE_LOSSES = [nn.BCELoss(), nn.BCEWithLogitsLoss(), nn.MSELoss(), nn.L1Loss()]


@pytest.mark.parametrize("loss_fn", SHAPE_LOSSES, ids=repr)
def test_target_shape_mismatch_names_both_shapes(loss_fn):
    x = tg.Tensor(np.full((4, 1), 0.5))
    with pytest.raises(
        ValueError, match=r"target shape \(4,\) does not match input shape \(4, 1\)"
    ):
        loss_fn(x, np.ones(4))  # would broadcast to (4, 4) if allowed


@pytest.mark.parametrize("loss_fn", [nn.BCELoss(), nn.CategoricalCrossentropy()], ids=repr)
def test_probability_losses_reject_values_outside_unit_interval(loss_fn):
    with pytest.raises(ValueError, match=r"must be probabilities in \[0, 1\], got values from -2"):
        loss_fn(tg.Tensor(np.array([[-2.0, 3.0]])), np.array([[0.0, 1.0]]))


def test_mse_gradient_reaches_a_target_that_requires_grad():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = tg.Tensor(np.array([0.5, 4.0]), requires_grad=True)
    F.mse_loss(x, y).backward()
    np.testing.assert_allclose(x.grad.data, [0.5, -2.0])
    np.testing.assert_allclose(y.grad.data, [-0.5, 2.0])


# --- extreme inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", [np.array([2]), np.array([[0.0, 0.0, 1.0]])])
def test_cross_entropy_is_finite_for_huge_logits(target):
    logits = tg.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, target)
    assert loss.item() == pytest.approx(2e4)
    loss.backward()
    np.testing.assert_allclose(logits.grad.data, [[1.0, 0.0, -1.0]], atol=1e-6)


def test_book_categorical_crossentropy_saturates_where_cross_entropy_does_not():
    logits = tg.tensor([[1e4, 0.0, -1e4]])
    clipped = nn.CategoricalCrossentropy()(logits.softmax(), [2]).item()
    assert clipped == pytest.approx(-np.log(1e-7), rel=1e-6)  # 16.118...
    assert nn.CrossEntropyLoss()(logits, [2]).item() == pytest.approx(2e4)


def test_bce_clips_probabilities_of_zero_and_one():
    p = tg.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    loss = nn.BCELoss(reduction="none")(p, np.array([1.0, 0.0]))
    np.testing.assert_allclose(loss.data, -np.log(1e-7), rtol=1e-9)
    loss.sum().backward()
    assert np.isfinite(p.grad.data).all()


@pytest.mark.parametrize("x", [-1e4, -50.0, 0.0, 50.0, 1e4])
@pytest.mark.parametrize("y", [0.0, 0.3, 1.0])
def test_bce_with_logits_is_stable_and_exact(x, y):
    logits = tg.Tensor(np.array([x]), requires_grad=True)
    loss = nn.BCEWithLogitsLoss()(logits, np.array([y]))
    # the exact value: softplus(x) - x*y, with softplus written stably here
    expected = max(x, 0.0) - x * y + np.log1p(np.exp(-abs(x)))
    assert loss.item() == pytest.approx(expected, rel=1e-12, abs=1e-12)
    loss.backward()
    sigmoid = np.exp(-np.logaddexp(0.0, -x))  # 1 / (1 + exp(-x)) without overflow
    assert logits.grad.item() == pytest.approx(sigmoid - y, rel=1e-9, abs=1e-12)


def test_reduction_none_shapes():
    logits = tg.randn(4, 3)
    assert nn.CrossEntropyLoss(reduction="none")(logits, [0, 1, 2, 0]).shape == (4,)
    assert nn.NLLLoss(reduction="none")(logits.log_softmax(), [0, 1, 2, 0]).shape == (4,)
    assert nn.MSELoss(reduction="none")(logits, np.zeros((4, 3))).shape == (4, 3)
    assert nn.BCELoss(reduction="none")(logits.sigmoid(), np.ones((4, 3))).shape == (4, 3)


# --- targets that are not numbers ---------------------------------------------------------------

NOT_NUMBERS = [
    pytest.param(None, r"target is None", id="None"),
    pytest.param("strings", r"target must hold numbers, got strings \(dtype <U", id="strings"),
    pytest.param("objects", r"target must hold numbers, got Python objects", id="objects"),
    pytest.param("complex", r"target must hold real numbers, got dtype complex128", id="complex"),
]


def _not_numbers(kind, shape):
    """A target of ``shape`` that is one string or one None away from a valid one."""
    if kind is None:
        return None
    n, c = shape
    rows = np.eye(c)[np.arange(n) % c].tolist()
    if kind == "complex":
        return np.array(rows) + 1j
    rows[-1][-1] = "1" if kind == "strings" else None  # e.g. [[1.0], ['2']]
    return rows


@case_params
@pytest.mark.parametrize(("kind", "message"), NOT_NUMBERS)
def test_targets_that_are_not_numbers_are_refused(name, module, function, draw, reference, kind,
                                                  message):  # fmt: skip
    x, _ = draw(np.random.default_rng(0), 3, 2)
    target = _not_numbers(kind, x.shape)
    for loss in (function, module()):
        with pytest.raises(TypeError, match=rf"{name}: {message}"):
            loss(tg.Tensor(x), target)


@pytest.mark.parametrize("function", [F.cross_entropy, F.nll_loss, F.categorical_crossentropy])
def test_string_class_labels_are_refused(function):
    with pytest.raises(TypeError, match=r"target must hold numbers, got strings"):
        function(tg.Tensor(np.full((2, 2), 0.5)), ["1", "0"])
