"""Faster spellings of a few NumPy calls, each giving the same bits as the call it replaces.

The replay makes the eager step's calls; where NumPy has a much faster way to compute exactly
the same elements, the code writer uses it instead. Measured on small training steps (AVX2,
NumPy 2.4, float32):

- ``np.maximum(x, 0)``: a scalar operand takes NumPy's element-by-element loop, two arrays
  of one layout its vector loop, about 3x faster (``ReLU``). The scalar becomes a constant
  array of ``x``'s shape, made once when recorded (one per shape, dtype and value). Both
  loops compute ``a >= b or isnan(a) ? a : b``-style maxima with NaN propagating, so the
  elements are the same (signed zeros included).
- ``np.maximum.reduce(x, axis=-1)`` over a short last axis (the class axis of a loss): NumPy
  runs its reduction loop once per row, about 40 ns a row; taking the maximum column by
  column (``np.maximum(x[:, 0], x[:, 1])``, then the next column) makes a handful of calls
  instead and is 4-8x faster on a few hundred rows of 2-4 classes. A maximum does not round,
  so the order of comparisons does not change the result; NaN propagates both ways.

Sums are left alone: their order of additions is NumPy's and changes the rounding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_np.compiler.recording import Op
from tinygrad_np.compiler.tracer import Traced

if TYPE_CHECKING:
    from tinygrad_np.compiler.codegen import Writer

EXTREMA = (np.maximum, np.minimum)
# Column by column pays where the rows are many and the columns few (measured: 300 x 3 and
# 128 x 4 gain, 128 x 10 and 16 x 3 lose).
MAX_COLUMNS, MIN_ROWS = 4, 64


def faster(w: Writer, op: Op, out: str | None) -> list[str] | None:
    """The lines of a faster exact form of ``op``, or None to write it as recorded."""
    if op.kind == "func" and op.target in EXTREMA:
        return _extremum_with_scalar(w, op, out)
    if op.kind == "func" and getattr(op.target, "__name__", "") == "reduce":
        owner = getattr(op.target, "__self__", None)
        if owner in EXTREMA and len(op.args) == 1:
            return _extremum_by_columns(w, op, owner, op.args[0], op.kwargs, out)
    return None


def reduction(w: Writer, op: Op, ufunc: np.ufunc, x: Any, kwargs: dict, out: str | None):
    """``x.max(axis=..)`` and ``x.min(axis=..)`` written as reductions (see ``codegen``)."""
    if ufunc in EXTREMA:
        return _extremum_by_columns(w, op, ufunc, x, kwargs, out)
    return None


def _real(a: Any) -> bool:
    return type(a) is np.ndarray and a.dtype.kind in "fiu" and a.ndim >= 1


def _extremum_with_scalar(w: Writer, op: Op, out: str | None) -> list[str] | None:
    if len(op.args) != 2 or set(op.kwargs) - {"out"} or len(op.results) != 1:
        return None
    x, s = op.args
    result = op.results[0]
    if type(x) is not Traced or not _real(x.array) or type(result) is not Traced:
        return None
    a = x.array
    if type(s) not in (int, float) or result.array.dtype != a.dtype or a.dtype.kind != "f":
        return None
    if not (a.flags.c_contiguous or a.flags.f_contiguous):
        return None
    const = np.full(a.shape, s, dtype=a.dtype, order="C" if a.flags.c_contiguous else "F")
    if const.flat[0] != s:  # not exact in this dtype: leave the cast to NumPy
        return None
    key = ("full", a.shape, a.dtype.str, const.strides, float(s))
    shape = "x".join(map(str, a.shape))
    fill = f"np.zeros({a.shape!r}" if s == 0 else f"np.full({a.shape!r}, {s!r}"
    made = f"{fill}, np.{a.dtype.name})  # np.{op.target.__name__}'s fast loop"
    name = w.constant(key, const, f"zeros_{shape}" if s == 0 else f"full_{shape}", made)
    call = f"np.{op.target.__name__}({w.expr(x)}, {name}{'' if out is None else f', out={out}'})"
    return [w._assign(op, call)]


def _extremum_by_columns(
    w: Writer, op: Op, ufunc: np.ufunc, x: Any, kwargs: dict, out: str | None
) -> list[str] | None:
    if type(x) is not Traced or not _real(x.array) or set(kwargs) - {"axis", "keepdims"}:
        return None
    if len(op.results) != 1 or type(op.results[0]) is not Traced:
        return None
    a, axis = x.array, kwargs.get("axis", 0)
    if type(axis) is tuple and len(axis) == 1:
        axis = axis[0]
    if type(axis) is not int or axis not in (-1, a.ndim - 1) or a.ndim < 2:
        return None
    columns = a.shape[-1]
    if not 2 <= columns <= MAX_COLUMNS or a.size // columns < MIN_ROWS:
        return None
    keep = bool(kwargs.get("keepdims", False))
    src = w.expr(x)
    col = (lambda i: f"{src}[..., {i}:{i + 1}]") if keep else (lambda i: f"{src}[..., {i}]")
    f = f"np.{ufunc.__name__}"
    result = w.value(op.results[0])
    first = f"{f}({col(0)}, {col(1)}{'' if out is None else f', out={out}'})"
    lines = [f"{result} = {first}"]
    lines += [f"{f}({result}, {col(i)}, out={result})" for i in range(2, columns)]
    return lines
