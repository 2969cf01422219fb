"""accuracy, regression_accuracy and confusion_matrix against sample-by-sample counting."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_np.metrics import accuracy, confusion_matrix, regression_accuracy
from tinygrad_np.tensor import Tensor

finite = st.floats(-10, 10, allow_nan=False, width=32)


@st.composite
def scores_and_labels(draw):
    n = draw(st.integers(1, 30))
    classes = draw(st.integers(2, 6))
    scores = draw(hnp.arrays(np.float32, (n, classes), elements=finite))
    labels = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1)))
    return scores, labels


def count_correct(scores, labels):
    """The slow, obvious way: pick each row's first highest score and compare."""
    hits = 0
    for row, label in zip(scores.tolist(), labels.tolist(), strict=True):
        hits += max(range(len(row)), key=row.__getitem__) == label
    return hits / len(labels)


@given(scores_and_labels())
def test_multiclass_accuracy_counts_correct_rows(case):
    scores, labels = case
    expected = count_correct(scores, labels)
    one_hot = np.eye(scores.shape[1], dtype=np.float32)[labels]
    assert accuracy(scores, labels) == pytest.approx(expected)
    assert accuracy(scores, one_hot) == pytest.approx(expected)
    assert accuracy(scores, labels[:, None]) == pytest.approx(expected)
    assert isinstance(accuracy(scores, labels), float)


def test_the_books_softmax_example():
    softmax_outputs = np.array([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4], [0.02, 0.9, 0.08]])
    assert accuracy(softmax_outputs, np.array([0, 1, 1])) == pytest.approx(2 / 3)


@given(
    probabilities=hnp.arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 1)),
    data=st.data(),
)
def test_binary_accuracy_thresholds_at_one_half(probabilities, data):
    n = len(probabilities)
    targets = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 1)))
    expected = sum((p > 0.5) == t for p, t in zip(probabilities, targets, strict=True)) / n
    # (N, 1) against (N,) must compare sample by sample, never broadcast to (N, N).
    for p in (probabilities, probabilities[:, None]):
        for t in (targets, targets[:, None]):
            assert accuracy(p, t) == pytest.approx(expected)


def test_exactly_one_half_is_class_zero():
    assert accuracy(np.array([[0.5], [0.5]]), np.array([[0], [1]])) == 0.5


def test_integer_predictions_are_class_indices():
    assert accuracy(np.array([2, 0, 1, 1]), np.array([2, 0, 0, 1])) == 0.75


def test_tensors_are_accepted():
    logits = Tensor(np.array([[1.0, 2.0], [3.0, 0.0]]), requires_grad=True)
    assert accuracy(logits, Tensor(np.array([1, 1]))) == 0.5
    predictions = Tensor(np.array([[0.0], [1.0]]))
    assert regression_accuracy(predictions, np.array([[0.0], [2.0]]), precision=0.1) == 0.5


@pytest.mark.parametrize(
    "predictions, targets, message",
    [
        (np.zeros((4, 3)), np.zeros(5, int), r"shape \(4, 3\) and targets of shape \(5,\)"),
        (np.zeros((4, 3)), np.zeros((4, 2)), r"one-hot of shape \(4, 3\), got shape \(4, 2\)"),
        (np.zeros((4, 1)), np.zeros((4, 2)), r"shape \(4, 1\) and targets of shape \(4, 2\)"),
        (np.zeros(()), np.zeros(()), r"shape \(\) and targets of shape \(\)"),
        (np.zeros((0, 3)), np.zeros(0, int), "no samples"),
    ],
)
def test_accuracy_errors_name_the_shapes(predictions, targets, message):
    with pytest.raises(ValueError, match="accuracy: .*" + message):
        accuracy(predictions, targets)


@given(
    targets=hnp.arrays(np.float64, st.integers(2, 40), elements=st.floats(-5, 5)),
    data=st.data(),
)
def test_regression_accuracy_counts_predictions_within_precision(targets, data):
    precision = float(np.std(targets)) / 250
    # Near-constant targets give a band narrower than float64 can resolve around them.
    assume(precision > 1e-9 * (1 + np.abs(targets).max()))
    close = data.draw(hnp.arrays(bool, targets.shape))
    sign = data.draw(hnp.arrays(np.int64, targets.shape, elements=st.sampled_from([-1, 1])))
    # Well inside or well outside the band, so rounding in p - t cannot flip a sample.
    predictions = targets + sign * np.where(close, 0.5, 2.0) * precision
    expected = close.mean()
    assert regression_accuracy(predictions, targets) == pytest.approx(expected)
    assert regression_accuracy(predictions[:, None], targets) == pytest.approx(expected)


def test_regression_accuracy_with_explicit_precision():
    predictions = np.array([[0.0], [1.0], [2.0], [3.0]])
    targets = np.array([[0.05], [1.2], [2.0], [2.5]])
    assert regression_accuracy(predictions, targets, precision=0.1) == 0.5
    assert regression_accuracy(predictions, targets, precision=1.0) == 1.0
    assert regression_accuracy(predictions, targets, precision=0.0) == 0.0


def test_regression_accuracy_errors():
    with pytest.raises(ValueError, match=r"shape \(3, 1\) and targets of shape \(2, 1\)"):
        regression_accuracy(np.zeros((3, 1)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"shape \(3, 2\) and targets of shape \(3, 1\)"):
        regression_accuracy(np.zeros((3, 2)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="precision must be a non-negative number, got -1"):
        regression_accuracy(np.zeros(3), np.zeros(3), precision=-1)
    with pytest.raises(ValueError, match="precision must be a non-negative number, got nan"):
        regression_accuracy(np.zeros(3), np.zeros(3), precision=float("nan"))


SCORES = np.array([[2.0, 0.1, 0.0], [0.3, 1.5, 0.0]])
PROBABILITIES = np.array([[0.9], [0.2]])


@pytest.mark.parametrize(
    "predictions, targets, message",
    [
        (
            SCORES,
            np.array([0, 3]),
            r"label 3 is out of range for 3 classes \(labels must be in \[0, 2\]\)",
        ),
        (SCORES, np.array([0, -1]), r"label -1 is out of range for 3 classes"),
        (SCORES, np.array([[0], [5]]), r"label 5 is out of range for 3 classes"),
        (SCORES, np.array([0.5, 1.0]), r"label 0.5 is not a whole number"),
        (SCORES, np.array([0.0, np.nan]), r"label nan is not a whole number"),
        (SCORES, np.array([True, False]), r"class labels must be integers, got dtype bool"),
        (
            SCORES,
            np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]),
            r"one-hot targets must hold one 1 and otherwise 0 in each row; row 0 is \[0.5, 0.5, "
            r"0.0\]",
        ),
        (SCORES, np.array([[2, 0, 0], [0, 1, 0]]), r"one-hot .* row 0 is \[2, 0, 0\]"),
        (SCORES, np.zeros((2, 3)), r"one-hot .* row 0 is \[0.0, 0.0, 0.0\]"),
        (PROBABILITIES, np.array([[1.0], [2.0]]), r"binary targets must be 0 or 1, got 2.0"),
        (PROBABILITIES, np.array([1, -1]), r"binary targets must be 0 or 1, got -1"),
        (PROBABILITIES, np.array([0.5, 1.0]), r"binary targets must be 0 or 1, got 0.5"),
        (np.array([2, 0]), np.array([2.5, 0.0]), r"label 2.5 is not a whole number"),
        (np.array([2, 0]), np.array([2, -3]), r"label -3 is negative"),
    ],
)
def test_accuracy_refuses_labels_out_of_range_or_fractional(predictions, targets, message):
    with pytest.raises(ValueError, match="accuracy: " + message):
        accuracy(predictions, targets)


def test_accuracy_takes_whole_float_and_boolean_binary_labels():
    assert accuracy(SCORES, np.array([0.0, 1.0])) == 1.0
    assert accuracy(PROBABILITIES, np.array([True, True])) == 0.5
    assert accuracy(PROBABILITIES, np.array([[1.0], [0.0]])) == 1.0


@pytest.mark.parametrize("metric", [accuracy, regression_accuracy])
@pytest.mark.parametrize(
    "targets, message",
    [
        (None, r"targets is None"),
        ([[1.0], ["2"]], r"targets must hold numbers, got strings \(dtype <U"),
        ([[1.0], [None]], r"targets must hold numbers, got Python objects \(dtype object\)"),
        (np.array([[1.0], [0.0]]) + 1j, r"targets must hold real numbers, got dtype complex128"),
    ],
)
def test_metrics_refuse_targets_that_are_not_numbers(metric, targets, message):
    with pytest.raises(TypeError, match=f"{metric.__name__}: {message}"):
        metric(PROBABILITIES, targets)
    with pytest.raises(TypeError, match=f"{metric.__name__}: predictions must hold numbers"):
        metric(np.array([["a"], ["b"]]), PROBABILITIES)


# ---------------------------------------------------------------- confusion_matrix


@given(scores_and_labels())
def test_confusion_matrix_counts_each_sample_once_in_its_row_and_column(case):
    scores, labels = case
    counts = confusion_matrix(scores, labels)
    classes = scores.shape[1]
    assert counts.shape == (classes, classes) and counts.dtype == np.int64
    expected = np.zeros((classes, classes), dtype=np.int64)
    for truth, guess in zip(labels, scores.argmax(axis=1), strict=True):
        expected[truth, guess] += 1
    assert np.array_equal(counts, expected)
    assert np.trace(counts) / len(labels) == accuracy(scores, labels)


def test_confusion_matrix_reads_indices_one_hot_tensors_and_num_classes():
    predicted, truth = np.array([0, 2, 2, 1]), np.array([0, 1, 2, 1])
    expected = [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    assert confusion_matrix(predicted, truth).tolist() == expected
    assert confusion_matrix(Tensor(predicted), np.eye(3)[truth]).tolist() == expected
    assert confusion_matrix(predicted.astype(float), truth.reshape(-1, 1)).tolist() == expected
    assert confusion_matrix(predicted, truth, num_classes=4).shape == (4, 4)  # a class unseen


@pytest.mark.parametrize(
    "predictions, targets, kwargs, message",
    [
        (np.zeros(3), np.zeros(2), {}, r"same number of samples .* \(3,\) .* \(2,\)"),
        (
            np.zeros((2, 3)),
            np.zeros((2, 4)),
            {},
            r"\(2, 3\) and targets of shape \(2, 4\) disagree",
        ),
        (np.zeros((2, 3)), [0, 1], {"num_classes": 5}, r"\(2, 3\) and num_classes=5 disagree"),
        ([0, 3], [0, 1], {"num_classes": 3}, r"label 3 is out of range for 3 classes"),
        ([0.5, 1.0], [0, 1], {}, r"label 0.5 is not a whole number"),
        ([0, 1], [0, -1], {}, r"label -1 is negative"),
        ([0, 1], [0, 1], {"num_classes": 0}, r"num_classes must be a positive integer"),
        (np.zeros((2, 2, 2)), [0, 1], {}, r"shape \(N,\) or \(N, C\), got \(2, 2, 2\)"),
    ],
)
def test_confusion_matrix_errors_name_it_and_the_shapes(predictions, targets, kwargs, message):
    with pytest.raises(ValueError, match="confusion_matrix: .*" + message):
        confusion_matrix(predictions, targets, **kwargs)
