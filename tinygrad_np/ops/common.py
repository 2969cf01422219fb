"""What every op module shares: axis and index normalisation, Python values at the door."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from numpy.exceptions import AxisError  # an IndexError (PyTorch's) and a ValueError (NumPy's)

from tinygrad_np.backend import array_module
from tinygrad_np.tensor import Tensor


def axes(op: str, axis: Any, shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """``axis`` (None, an int or a sequence, negative counting from the end) as sorted
    non-negative axes, checked once for every op. A 0-d array has one axis, 0 or -1, as in
    PyTorch; reducing over it changes nothing.

    >>> axes("sum", -1, (2, 3, 4)), axes("sum", [0, -1], (2, 3, 4)), axes("sum", 0, ())
    ((2,), (0, 2), ())
    """
    if axis is None:
        return None
    ndim = len(shape)
    items = (axis,) if isinstance(axis, int) or hasattr(axis, "__index__") else tuple(axis)
    rank = max(ndim, 1)
    out = []
    for a in items:
        a = int(a)
        if not -rank <= a < rank:
            raise AxisError(
                f"{op}: axis {a} is out of range for an input of shape {tuple(shape)} "
                f"(expected an axis in [{-rank}, {rank - 1}])"
            )
        out.append(a % rank)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(out)) if ndim else ()


def keepdims_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape a reduction over ``axis`` (normalised by ``axes``) has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def normalize_axis(axis: Any) -> int | tuple[int, ...] | None:
    """Axis arguments as NumPy takes them, hashable (lists become tuples)."""
    if axis is None or isinstance(axis, int) or hasattr(axis, "__index__"):
        return axis if axis is None else int(axis)
    return tuple(int(a) for a in axis)


def normalize_index(index: Any) -> Any:
    """Tensors and lists inside an index become arrays (lists of ints gather, as in NumPy)."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return array_module().asarray(index)
    return index


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor: a Python scalar takes ``like``'s float dtype (``t64 * 2.0`` stays
    float64)."""
    if isinstance(x, Tensor):
        return x
    if like is not None:
        return Tensor._wrap(like._coerce(x), False)
    return Tensor(x)


def sizes(args: tuple) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], Sequence) or hasattr(args[0], "shape"):
        args = tuple(args[0])
    return tuple(int(a) for a in args)
