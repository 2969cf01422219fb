"""Data sets, DataLoader and train/test splitting."""

from __future__ import annotations

import math
import sys

import nnfs
import nnfs.datasets
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_np import data
from tinygrad_np.io import load, save
from tinygrad_np.rng import manual_seed
from tinygrad_np.tensor import Tensor

# ---------------------------------------------------------------- the NNFS book's data sets


def _global_state_equal(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.fixture
def book_numpy():
    """Let a test call nnfs.init(); afterwards undo everything it patches in NumPy."""
    patched = [(np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")]
    originals = [(owner, name, getattr(owner, name)) for owner, name in patched]
    state = np.random.get_state()
    yield
    for owner, name, original in originals:
        setattr(owner, name, original)
    np.random.set_state(state)
    assert np.zeros(1).dtype == np.float64  # the float32 default is gone again


@pytest.mark.parametrize("make", [data.spiral_data, data.vertical_data])
def test_classification_sets_shapes_and_labels(make):
    X, y = make(40, 3, seed=1)
    assert X.shape == (120, 2) and X.dtype == np.float32
    assert y.shape == (120,) and y.dtype == np.int64
    assert np.array_equal(np.bincount(y), [40, 40, 40])


def test_spiral_matches_the_book_after_nnfs_init(book_numpy):
    nnfs.init()
    X_book, y_book = nnfs.datasets.spiral_data(100, 3)
    nnfs.init()
    X, y = data.spiral_data(100, 3)
    assert X.dtype == X_book.dtype == np.float32
    assert np.array_equal(X, X_book)
    assert np.array_equal(y, y_book)


def test_seed_zero_is_the_book_data_up_to_float32_rounding(book_numpy):
    X_seeded, _ = data.spiral_data(100, 3, seed=0)
    nnfs.init()
    X_book, _ = nnfs.datasets.spiral_data(100, 3)
    # nnfs.init() rounds the noise to float32 before use; a seed alone cannot do that.
    np.testing.assert_allclose(X_seeded, X_book, rtol=0, atol=2e-7)


@pytest.mark.parametrize("make", [data.spiral_data, data.vertical_data])
def test_seed_is_reproducible_and_leaves_global_state_alone(make):
    np.random.seed(123)
    before = np.random.get_state()
    X1, y1 = make(30, 2, seed=7)
    assert _global_state_equal(np.random.get_state(), before)
    X2, _ = make(30, 2, seed=7)
    X3, _ = make(30, 2, seed=8)
    assert np.array_equal(X1, X2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (data.spiral_data, nnfs.datasets.spiral_data),
        (data.vertical_data, nnfs.datasets.vertical_data),
    ],
)
def test_no_seed_draws_from_the_global_state(ours, theirs):
    np.random.seed(5)
    X, y = ours(20, 3)
    after_ours = np.random.get_state()
    np.random.seed(5)
    X_ref, y_ref = theirs(20, 3)
    assert np.array_equal(X, X_ref.astype(np.float32)) and np.array_equal(y, y_ref)
    assert _global_state_equal(after_ours, np.random.get_state())


def test_sine_data():
    before = np.random.get_state()
    X, y = data.sine_data(50, seed=3)
    assert _global_state_equal(np.random.get_state(), before)
    assert X.shape == y.shape == (50, 1) and X.dtype == y.dtype == np.float32
    assert np.array_equal(X.ravel(), (np.arange(50) / 50).astype(np.float32))
    np.testing.assert_allclose(y, np.sin(2 * np.pi * X.astype(np.float64)), atol=1e-6)
    assert np.array_equal(data.sine_data(50)[1], y)
    assert len(data.sine_data()[0]) == 1000


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: data.spiral_data(0, 3), "samples"),
        (lambda: data.spiral_data(10, -1), "classes"),
        (lambda: data.vertical_data(2.5, 3), "samples"),
        (lambda: data.vertical_data(10, 0), "classes"),
        (lambda: data.sine_data(0), "samples"),
    ],
)
def test_data_sets_reject_bad_counts(call, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        call()


# ---------------------------------------------------------------- DataLoader


def _epoch(loader):
    return [(xb.copy(), yb.copy()) for xb, yb in loader]


@given(
    n=st.integers(1, 60),
    batch_size=st.integers(1, 70),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_dataloader_visits_every_sample_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    X = np.arange(n * 2).reshape(n, 2)
    y = np.arange(n)
    loader = data.DataLoader(X, y, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    for _ in range(2):
        batches = _epoch(loader)
        assert len(batches) == len(loader)
        seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], int)
        for xb, yb in batches:
            assert np.array_equal(xb[:, 0], 2 * yb)  # rows stay paired with their labels
            assert len(yb) <= batch_size
        if drop_last:
            assert len(loader) == n // batch_size
            assert all(len(yb) == batch_size for _, yb in batches)
            assert len(set(seen.tolist())) == len(seen) == len(loader) * batch_size
        else:
            assert len(loader) == math.ceil(n / batch_size)
            assert sorted(seen.tolist()) == list(range(n))
        if not shuffle:
            assert np.array_equal(seen, np.arange(len(seen)))


def test_dataloader_reshuffles_each_epoch_and_seed_repeats_it():
    X = np.arange(100)
    first = data.DataLoader(X, X, batch_size=100, shuffle=True, seed=4)
    second = data.DataLoader(X, X, batch_size=100, shuffle=True, seed=4)
    epochs = [next(iter(first))[0] for _ in range(3)]
    assert not np.array_equal(epochs[0], epochs[1])
    assert all(np.array_equal(e, next(iter(second))[0]) for e in epochs)


def test_dataloader_without_seed_follows_manual_seed():
    X = np.arange(50)
    manual_seed(11)
    a = [yb for _, yb in data.DataLoader(X, X, batch_size=7, shuffle=True)]
    manual_seed(11)
    b = [yb for _, yb in data.DataLoader(X, X, batch_size=7, shuffle=True)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_dataloader_resume_continues_bit_for_bit(tmp_path):
    X, y = data.spiral_data(20, 3, seed=0)
    unbroken = data.DataLoader(X, y, batch_size=8, shuffle=True, seed=3)
    _epoch(unbroken)
    checkpoint = tmp_path / "loader.npz"
    save(unbroken.state_dict(), checkpoint)
    expected = [_epoch(unbroken) for _ in range(2)]

    resumed = data.DataLoader(X, y, batch_size=8, shuffle=True, seed=999)
    resumed.load_state_dict(load(checkpoint))
    got = [_epoch(resumed) for _ in range(2)]
    for epoch_expected, epoch_got in zip(expected, got, strict=True):
        for (xe, ye), (xg, yg) in zip(epoch_expected, epoch_got, strict=True):
            assert np.array_equal(xe, xg) and np.array_equal(ye, yg)


def test_state_taken_mid_epoch_resumes_at_the_next_epoch():
    X = np.arange(30)
    loader = data.DataLoader(X, batch_size=4, shuffle=True, seed=1)
    batches = iter(loader)
    next(batches)
    state = loader.state_dict()
    next_epoch = np.concatenate(list(loader))
    other = data.DataLoader(X, batch_size=4, shuffle=True, seed=2)
    other.load_state_dict(state)
    assert np.array_equal(np.concatenate(list(other)), next_epoch)


def test_dataloader_without_labels_yields_arrays():
    batches = list(data.DataLoader(np.arange(5.0), batch_size=2))
    assert [b.tolist() for b in batches] == [[0.0, 1.0], [2.0, 3.0], [4.0]]


def test_dataloader_batches_tensors_as_tensors():
    X = Tensor(np.arange(12.0).reshape(6, 2))
    y = np.arange(6)
    for xb, yb in data.DataLoader(X, y, batch_size=4):
        assert isinstance(xb, Tensor) and not xb.requires_grad
        assert xb.dtype == np.float64
        assert isinstance(yb, np.ndarray)
        assert np.array_equal(xb.numpy()[:, 0], 2 * yb)


class _HasNumpy:
    """Something array-like that only offers ``.numpy()``, as many tensor types do."""

    def __init__(self, array):
        self.array = array

    def numpy(self):
        return self.array


def test_dataloader_reads_objects_with_a_numpy_method():
    (xb, yb), *_ = data.DataLoader(_HasNumpy(np.arange(4)), _HasNumpy(np.arange(4)), 3)
    assert isinstance(xb, np.ndarray) and xb.tolist() == [0, 1, 2] == yb.tolist()


def test_dataloader_errors():
    with pytest.raises(ValueError, match=r"len\(X\)=5 .*len\(y\)=4"):
        data.DataLoader(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        data.DataLoader(np.zeros(5), batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        data.DataLoader(np.zeros(5), batch_size=2.0)
    with pytest.raises(ValueError, match="at least one dimension"):
        data.DataLoader(np.float32(1.0))
    loader = data.DataLoader(np.zeros(5))
    with pytest.raises(ValueError, match="expected a PCG64 generator state"):
        loader.load_state_dict({"generator": np.random.MT19937(0).state})
    with pytest.raises(ValueError, match="expected a PCG64 generator state, got None"):
        loader.load_state_dict({"generator": 5})


# ---------------------------------------------------------------- train_test_split


@given(n=st.integers(2, 80), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 1000))
def test_split_is_a_partition(n, fraction, seed):
    X, y = np.arange(n * 3).reshape(n, 3), np.arange(n)
    n_test = math.ceil(fraction * n)
    if not 1 <= n_test <= n - 1:
        with pytest.raises(ValueError, match="each needs at least one"):
            data.train_test_split(X, y, test_size=fraction, seed=seed)
        return
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=fraction, seed=seed)
    assert len(y_test) == len(X_test) == n_test and len(y_train) == len(X_train) == n - n_test
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(n))
    assert np.array_equal(X_train[:, 0], 3 * y_train) and np.array_equal(X_test[:, 0], 3 * y_test)


def test_split_seed_integer_size_and_no_shuffle():
    X, y = np.arange(10.0), np.arange(10)
    a = data.train_test_split(X, y, test_size=3, seed=1)
    b = data.train_test_split(X, y, test_size=3, seed=1)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert len(a[1]) == 3
    X_train, X_test, _, y_test = data.train_test_split(X, y, test_size=0.2, shuffle=False)
    assert X_train.tolist() == list(range(8)) and y_test.tolist() == [8, 9]


@given(
    counts=st.lists(st.integers(1, 30), min_size=2, max_size=5),
    fraction=st.floats(0.1, 0.9),
    seed=st.integers(0, 1000),
)
def test_stratified_split_keeps_class_shares(counts, fraction, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    assume(1 <= math.ceil(fraction * n) <= n - 1)
    _, _, y_train, y_test = data.train_test_split(y, y, fraction, seed=seed, stratify=y)
    assert len(y_test) == math.ceil(fraction * n)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == y.tolist()
    for label, count in enumerate(counts):
        ideal = count * len(y_test) / n
        assert abs(np.sum(y_test == label) - ideal) < 1


def test_split_tensors_come_back_as_tensors():
    X = Tensor(np.arange(8.0).reshape(4, 2))
    y = Tensor(np.arange(4))
    parts = data.train_test_split(X, y, test_size=1, seed=0)
    assert all(isinstance(part, Tensor) for part in parts)
    assert np.array_equal(parts[1].numpy()[:, 0], 2 * parts[3].numpy())


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5, -0.2, float("nan"), 0, 10, -1, "0.2", True])
def test_split_rejects_bad_test_size(test_size):
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(np.arange(10), np.arange(10), test_size=test_size)


def test_split_errors():
    with pytest.raises(ValueError, match=r"len\(X\)=4 .*len\(y\)=3"):
        data.train_test_split(np.zeros(4), np.zeros(3))
    with pytest.raises(ValueError, match="stratify needs shuffle=True"):
        data.train_test_split(np.zeros(4), np.zeros(4), shuffle=False, stratify=np.zeros(4))
    with pytest.raises(ValueError, match=r"one label per sample, shape \(4,\)"):
        data.train_test_split(np.zeros(4), np.zeros(4), stratify=np.zeros(3))


# ---------------------------------------------------------------- digits


def test_load_digits():
    pytest.importorskip("sklearn")
    X_train, X_test, y_train, y_test = data.load_digits(test_size=0.25, seed=1)
    assert X_train.shape[1] == 64 and X_train.dtype == X_test.dtype == np.float32
    assert len(X_train) + len(X_test) == 1797 and len(X_test) == math.ceil(0.25 * 1797)
    assert X_train.min() == 0.0 and X_train.max() == 1.0
    assert y_train.dtype == np.int64 and set(y_test.tolist()) == set(range(10))
    again = data.load_digits(test_size=0.25, seed=1)
    assert np.array_equal(again[1], X_test)


def test_load_digits_without_sklearn_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install tinygrad-np\[digits\]"):
        data.load_digits()
