"""Data sets and batching: the NNFS book's toy data, a DataLoader and train/test splitting;
MNIST-format files from disk (``load_mnist``, ``load_image_folder``, from ``tinygrad_np.mnist``).

The toy data sets come from the ``nnfs`` package, which draws from NumPy's global random state.
``nnfs.init()`` seeds that state (and patches NumPy); this module never calls it. Pass
``seed=`` for reproducible data that leaves the global state as it found it, or call
``nnfs.init()`` yourself and pass no seed to get the book's exact numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from nnfs import datasets as nnfs_datasets

from tinygrad_np._arrays import like, to_numpy
from tinygrad_np._checks import check_count
from tinygrad_np.mnist import load_image_folder, load_mnist
from tinygrad_np.rng import get_rng

__all__ = [
    "spiral_data",
    "vertical_data",
    "sine_data",
    "DataLoader",
    "train_test_split",
    "load_digits",
    "load_mnist",
    "load_image_folder",
]


# ---------------------------------------------------------------- the NNFS book's data sets


def _draw(create: Callable[..., tuple], seed: int | None, *args: int) -> tuple:
    """Call an nnfs generator; with a seed, on a seeded global state that is put back after."""
    if seed is None:
        return create(*args)
    saved = np.random.get_state()
    try:
        np.random.seed(seed)
        return create(*args)
    finally:
        np.random.set_state(saved)


def spiral_data(
    samples: int, classes: int, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms of ``samples`` points each (the book's chapter 3 data).

    Returns ``X`` float32 of shape (samples*classes, 2) and ``y`` int64 class labels.

    >>> X, y = spiral_data(100, 3, seed=0)
    >>> X.shape, X.dtype, y.shape, int(y.max())
    ((300, 2), dtype('float32'), (300,), 2)
    """
    check_count("spiral_data", "samples", samples)
    check_count("spiral_data", "classes", classes)
    X, y = _draw(nnfs_datasets.spiral_data, seed, samples, classes)
    return X.astype(np.float32), y.astype(np.int64)


def vertical_data(
    samples: int, classes: int, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` vertical Gaussian blobs of ``samples`` points each (the book's chapter 6 data).

    >>> X, y = vertical_data(50, 3, seed=0)
    >>> X.shape, y.dtype
    ((150, 2), dtype('int64'))
    """
    check_count("vertical_data", "samples", samples)
    check_count("vertical_data", "classes", classes)
    X, y = _draw(nnfs_datasets.vertical_data, seed, samples, classes)
    return X.astype(np.float32), y.astype(np.int64)


def sine_data(samples: int = 1000, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``y = sin(2*pi*x)`` at ``samples`` evenly spaced ``x`` in [0, 1) (the regression data).

    Both are float32 columns of shape (samples, 1). The data has no randomness; ``seed`` is
    accepted so that all three data sets share one signature.

    >>> X, y = sine_data(4)
    >>> X.ravel().tolist(), y.shape
    ([0.0, 0.25, 0.5, 0.75], (4, 1))
    """
    check_count("sine_data", "samples", samples)
    X, y = _draw(nnfs_datasets.sine_data, seed, samples)
    return X.astype(np.float32), y.astype(np.float32)


# ---------------------------------------------------------------- batching


def _fresh_generator(seed: int | None) -> np.random.Generator:
    # Without a seed, derive one from the library generator so tg.manual_seed makes
    # shuffling reproducible too; spawn() does this without consuming its random stream.
    if seed is None:
        return get_rng().spawn(1)[0]
    return np.random.default_rng(seed)


def _length(fn: str, name: str, array: np.ndarray) -> int:
    if array.ndim == 0:
        raise ValueError(f"{fn}: {name} must have at least one dimension, got a 0-d array")
    return array.shape[0]


def _check_same_length(fn: str, X: np.ndarray, y: np.ndarray | None) -> int:
    n = _length(fn, "X", X)
    if y is not None and _length(fn, "y", y) != n:
        raise ValueError(
            f"{fn}: X and y must have the same length, got len(X)={n} (shape {X.shape}) "
            f"and len(y)={y.shape[0]} (shape {y.shape})"
        )
    return n


class DataLoader:
    """Iterate over ``(X_batch, y_batch)`` mini-batches, or ``X_batch`` alone when ``y`` is None.

    Batches are NumPy arrays, or Tensors when ``X``/``y`` are Tensors. With ``shuffle=True``
    every epoch (every ``iter()``) draws a new order from the loader's own generator, seeded by
    ``seed`` (or, when None, from the library generator that ``tg.manual_seed`` sets).
    ``state_dict()`` captures that generator so a resumed run shuffles exactly as an unbroken
    one would; taken mid-epoch, it resumes at the next epoch.

    >>> X = np.arange(10.0).reshape(5, 2); y = np.arange(5)
    >>> loader = DataLoader(X, y, batch_size=2)
    >>> len(loader), [yb.tolist() for _, yb in loader]
    (3, [[0, 1], [2, 3], [4]])
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        drop_last: bool = False,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        self._X, self._y = X, y
        self._X_array = to_numpy(X)
        self._y_array = None if y is None else to_numpy(y)
        self._n = _check_same_length("DataLoader", self._X_array, self._y_array)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self._generator = _fresh_generator(seed)

    def __len__(self) -> int:
        if self.drop_last:
            return self._n // self.batch_size
        return math.ceil(self._n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        # The order is drawn here, when iter() starts the epoch, not at the first batch, so a
        # state_dict() taken any time during the epoch points at the next epoch's order.
        order = self._generator.permutation(self._n) if self.shuffle else None
        return self._batches(order)

    def _batches(self, order: np.ndarray | None) -> Iterator[Any]:
        for b in range(len(self)):
            index = slice(b * self.batch_size, (b + 1) * self.batch_size)
            if order is not None:
                index = order[index]
            X_batch = like(self._X, self._X_array[index])
            if self._y_array is None:
                yield X_batch
            else:
                yield X_batch, like(self._y, self._y_array[index])

    def state_dict(self) -> dict[str, Any]:
        """The shuffling generator's state (plain dicts and ints; ``tg.save`` can store it)."""
        return {"generator": self._generator.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue shuffling from a state taken by ``state_dict()``."""
        bit_generator = self._generator.bit_generator
        expected = type(bit_generator).__name__
        saved = state.get("generator") if isinstance(state, dict) else None
        got = saved.get("bit_generator") if isinstance(saved, dict) else None
        if got != expected:
            raise ValueError(
                f"DataLoader.load_state_dict: expected a {expected} generator state, got {got!r}"
            )
        bit_generator.state = saved


# ---------------------------------------------------------------- splitting


def _test_count(test_size: float | int, n: int) -> int:
    """How many of ``n`` samples go to the test set; at least one must remain on each side."""
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.number)):
        raise ValueError(f"train_test_split: test_size must be a number, got {test_size!r}")
    if isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"train_test_split: an integer test_size must be between 1 and {n - 1} "
                f"(n_samples - 1) for {n} samples, got {n_test}"
            )
        return n_test
    if not 0.0 < test_size < 1.0:
        raise ValueError(
            f"train_test_split: a fractional test_size must lie in (0, 1), got {test_size}"
        )
    n_test = math.ceil(test_size * n)
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"train_test_split: test_size={test_size} of {n} samples leaves "
            f"{n_test} test and {n - n_test} train samples; each needs at least one"
        )
    return n_test


def _stratified_test_index(
    labels: np.ndarray, n_test: int, generator: np.random.Generator
) -> np.ndarray:
    """Pick ``n_test`` indices with each class's share as close to its share of the data."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    ideal = counts * n_test / len(labels)
    per_class = np.floor(ideal).astype(np.int64)
    # Largest remainders get the seats the floors left over, so the total is exactly n_test.
    leftover = n_test - per_class.sum()
    per_class[np.argsort(-(ideal - per_class), kind="stable")[:leftover]] += 1
    picks = [
        generator.permutation(np.flatnonzero(inverse == c))[: per_class[c]]
        for c in range(len(classes))
    ]
    return generator.permutation(np.concatenate(picks))


def train_test_split(
    X: Any,
    y: Any,
    test_size: float | int = 0.2,
    seed: int | None = None,
    shuffle: bool = True,
    stratify: Any = None,
) -> tuple[Any, Any, Any, Any]:
    """Split into ``X_train, X_test, y_train, y_test``.

    ``test_size`` is a fraction in (0, 1) (rounded up to whole samples) or a sample count.
    ``stratify`` (class labels, usually ``y``) keeps each class's share equal in both parts.
    Without shuffling the test set is the last ``test_size`` samples. Tensors in, Tensors out.

    >>> X = np.arange(20.0).reshape(10, 2); y = np.arange(10)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=0)
    >>> X_train.shape, X_test.shape, sorted(np.concatenate([y_train, y_test]).tolist())
    ((7, 2), (3, 2), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    X_array, y_array = to_numpy(X), to_numpy(y)
    n = _check_same_length("train_test_split", X_array, y_array)
    n_test = _test_count(test_size, n)
    if stratify is not None:
        if not shuffle:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        labels = to_numpy(stratify)
        if labels.shape != (n,):
            raise ValueError(
                f"train_test_split: stratify must hold one label per sample, shape ({n},), "
                f"got shape {labels.shape}"
            )
        generator = _fresh_generator(seed)
        test_index = _stratified_test_index(labels, n_test, generator)
        is_test = np.zeros(n, dtype=bool)
        is_test[test_index] = True
        train_index = generator.permutation(np.flatnonzero(~is_test))
    else:
        order = _fresh_generator(seed).permutation(n) if shuffle else np.arange(n)
        train_index, test_index = order[: n - n_test], order[n - n_test :]
    return (
        like(X, X_array[train_index]),
        like(X, X_array[test_index]),
        like(y, y_array[train_index]),
        like(y, y_array[test_index]),
    )


def load_digits(
    test_size: float | int = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download), split.

    Pixels are scaled to [0, 1] float32, shape (n, 64); labels are int64 in 0..9. The split is
    stratified, so every digit keeps its share in both parts.

    >>> X_train, X_test, y_train, y_test = load_digits()  # doctest: +SKIP
    >>> X_train.shape, X_test.shape                       # doctest: +SKIP
    ((1437, 64), (360, 64))
    """
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the digits data set; install it with "
            "pip install tinygrad-np[digits]"
        ) from error
    digits = sklearn_load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    return train_test_split(X, y, test_size=test_size, seed=seed, stratify=y)
