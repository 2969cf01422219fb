"""Faster spellings of a few NumPy calls, each giving the same bits as the call it replaces.

The replay makes the eager step's calls; where NumPy has a much faster way to compute exactly
the same elements, the code writer uses it instead. Measured on small training steps (AVX2,
NumPy 2.4, float32):

- ``np.maximum(x, 0)``: a scalar operand takes NumPy's element-by-element loop, two arrays
  of one layout its vector loop, about 3x faster (``ReLU``). The scalar becomes a constant
  array of ``x``'s shape, made once when recorded (one per shape, dtype and value). Both
  loops propagate NaN and give the same elements, signed zeros included.
- ``np.maximum.reduce(x, axis=-1)`` over a short last axis (the class axis of a loss): NumPy
  runs its reduction loop once per row, about 40 ns a row; taking the maximum column by
  column (``np.maximum(x[:, 0], x[:, 1])``, then the next column) makes a handful of calls
  instead and is 4-8x faster on a few hundred rows of 2-4 classes. A maximum does not round,
  so the order of comparisons does not change the result. NaN propagates both ways, but not
  always with the same bits: NumPy's reduction turns a NaN in the first column into its
  default NaN, the column-by-column form keeps that NaN's sign and payload (IEEE 754 leaves
  both unspecified; every other element is the same bit for bit).
- ``x[rows, labels]`` with ``rows = np.arange(n)`` (the sparse cross-entropy's pick, read and
  written): indexing with two arrays costs about 2 us on 300 rows; the flat positions
  ``rows * C + labels``, computed once per step, read the flat array in 0.6 us, and
  ``np.put`` writes them, whatever the array's layout, in 1.5 us. Only where a guard at the
  top of the replay has checked ``0 <= labels < C`` (the losses' label check) and nothing in
  the step changes the labels, since a flat position would not raise for a label out of
  range.

Sums are left alone: their order of additions is NumPy's and changes the rounding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_np.compiler.effects import writes
from tinygrad_np.compiler.recording import Op
from tinygrad_np.compiler.tracer import Traced

if TYPE_CHECKING:
    from tinygrad_np.compiler.codegen import Writer
    from tinygrad_np.compiler.program import Plan

EXTREMA = (np.maximum, np.minimum)
# Column by column pays where the rows are many and the columns few (measured: 300 x 3 and
# 128 x 4 gain, 128 x 10 and 16 x 3 lose).
MAX_COLUMNS, MIN_ROWS = 4, 64


class Faster:
    """The faster forms for one code writer: the constants they made, the checked labels."""

    def __init__(self, w: Writer) -> None:
        self.w = w
        self.constants: dict[tuple, str] = {}  # what a constant holds -> its name
        self.made: list[str] = []  # how each constant was made, for the source's comment
        self.flat: dict[tuple, str] = {}  # (labels, classes) -> name of the flat positions
        self.bounds = checked_labels(w.plan)

    def op(self, op: Op, out: str | None) -> list[str] | None:
        """The lines of a faster exact form of ``op``, or None to write it as recorded."""
        if op.kind == "func" and op.target in EXTREMA:
            return self._extremum_with_scalar(op, out)
        if op.kind == "func" and getattr(op.target, "__name__", "") == "reduce":
            owner = getattr(op.target, "__self__", None)
            if owner in EXTREMA and len(op.args) == 1:
                return self._extremum_by_columns(op, owner, op.args[0], op.kwargs, out)
        if op.kind in ("getitem", "setitem"):
            return self._pick(op)
        return None

    def reduction(
        self, op: Op, ufunc: np.ufunc, x: Any, kwargs: dict, out: str | None
    ) -> list[str] | None:
        """``x.max(axis=..)`` and ``x.min(axis=..)``, written as ufunc reductions."""
        if ufunc in EXTREMA:
            return self._extremum_by_columns(op, ufunc, x, kwargs, out)
        return None

    def constant(self, key: tuple, array: np.ndarray, text: str, made: str) -> str:
        """The namespace name of a constant array made for the code, one per ``key``."""
        if key not in self.constants:
            self.constants[key] = name = self.w.obj(array, text)
            self.made.append(f"{name} = {made}")
        return self.constants[key]

    # --- np.maximum(x, 0) ----------------------------------------------------------------
    def _extremum_with_scalar(self, op: Op, out: str | None) -> list[str] | None:
        if len(op.args) != 2 or set(op.kwargs) - {"out"} or len(op.results) != 1:
            return None
        x, s = op.args
        if type(x) is not Traced or not _real(x.array) or type(op.results[0]) is not Traced:
            return None
        a = x.array
        if type(s) not in (int, float) or a.dtype.kind != "f" or a.size == 0:
            return None
        if op.results[0].array.dtype != a.dtype or not (a.flags.c_contiguous
                                                        or a.flags.f_contiguous):  # fmt: skip
            return None
        const = np.full(a.shape, s, dtype=a.dtype, order="C" if a.flags.c_contiguous else "F")
        if const.flat[0] != s:  # not exact in this dtype: leave the cast to NumPy
            return None
        shape = "x".join(map(str, a.shape))
        fill = f"np.zeros({a.shape!r}" if s == 0 else f"np.full({a.shape!r}, {s!r}"
        name = self.constant(
            ("full", a.shape, a.dtype.str, const.strides, float(s)), const,
            f"zeros_{shape}" if s == 0 else f"full_{shape}",
            f"{fill}, np.{a.dtype.name})  # np.{op.target.__name__}'s fast loop",
        )  # fmt: skip
        into = "" if out is None else f", out={out}"
        return [self.w._assign(op, f"np.{op.target.__name__}({self.w.expr(x)}, {name}{into})")]

    # --- a maximum over a few columns ------------------------------------------------------
    def _extremum_by_columns(
        self, op: Op, ufunc: np.ufunc, x: Any, kwargs: dict, out: str | None
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
        src, f = self.w.expr(x), f"np.{ufunc.__name__}"
        if kwargs.get("keepdims", False):
            col = lambda i: f"{src}[..., {i}:{i + 1}]"  # noqa: E731
        else:
            col = lambda i: f"{src}[..., {i}]"  # noqa: E731
        result = self.w.value(op.results[0])
        lines = [f"{result} = {f}({col(0)}, {col(1)}{'' if out is None else f', out={out}'})"]
        lines += [f"{f}({result}, {col(i)}, out={result})" for i in range(2, columns)]
        return lines

    # --- x[rows, labels] -------------------------------------------------------------------
    def _pick(self, op: Op) -> list[str] | None:
        a, index = op.args[0], op.args[1]
        if type(a) is not Traced or type(a.array) is not np.ndarray or a.array.ndim != 2:
            return None
        if type(index) is not tuple or len(index) != 2 or not a.array.flags.c_contiguous:
            return None
        rows, labels = index
        n, classes = a.array.shape
        if type(rows) is not Traced or type(labels) is not Traced:
            return None
        r = self.w.plan.constants.get(rows.index)
        if not (type(r) is np.ndarray and r.dtype.kind in "iu" and r.shape == (n,)
                and np.array_equal(r, np.arange(n))):  # fmt: skip
            return None
        bound = self.bounds.get(labels.index)
        if bound is None or bound > classes or labels.array.shape != (n,):
            return None
        if op.kind == "getitem" and (len(op.results) != 1 or type(op.results[0]) is not Traced
                                     or op.results[0].index in self.w.plan.constants):  # fmt: skip
            return None
        lines = []
        key = (labels.index, classes)
        if key not in self.flat:
            made = f"np.arange({n}) * {classes}"
            offsets = self.constant(("rows", n, classes), np.arange(n) * classes,
                                    f"rows_times_{classes}", made)  # fmt: skip
            self.flat[key] = self.w.unique(f"{self.w.expr(labels)}_flat")
            lines.append(f"{self.flat[key]} = np.add({offsets}, {self.w.expr(labels)}, "
                         "dtype=np.intp)")  # fmt: skip
        if op.kind == "getitem":  # reshape(-1) is a view here; a copy would read the same
            return lines + [self.w._assign(op, f"{self.w.expr(a)}.reshape(-1)[{self.flat[key]}]")]
        # np.put writes through any layout (a write into a copy would be lost silently)
        return lines + [f"np.put({self.w.expr(a)}, {self.flat[key]}, {self.w.expr(op.args[2])})"]


def checked_labels(plan: Plan) -> dict[int, int]:
    """Integer arrays a guard at the top proves to lie in [0, c): value index -> c.

    The losses check labels with one reduction (``_checks.check_class_targets``),
    ``np.maximum.reduce(labels viewed as unsigned) >= c`` (a negative label is huge unsigned);
    a replay goes on only when that is False, so the labels it goes on with are in range,
    provided nothing in the step changes them afterwards.
    """
    bounds: dict[int, int] = {}
    ops = plan.prologue + plan.body
    made = {v.index: op for op in plan.prologue for v in op.results}
    for guard in plan.prologue:
        if guard.kind != "guard" or guard.expected is not False:
            continue
        test = made.get(getattr(guard.args[0], "index", None))
        if test is None or test.kind != "binop" or test.target != ">=":
            continue
        top, c = test.args
        reduce = made.get(getattr(top, "index", None))
        if (reduce is None or reduce.kind != "func" or type(c) is not int
                or reduce.target != np.maximum.reduce or reduce.kwargs
                or len(reduce.args) != 1):  # fmt: skip
            continue
        u = reduce.args[0]
        labels = _signed_source(made.get(getattr(u, "index", None)), u)
        if labels is None or labels.array.ndim != 1:
            continue
        bits = 8 * labels.array.dtype.itemsize
        if labels.array.dtype.kind == "i" and c > 2 ** (bits - 1):
            continue  # a negative label viewed unsigned could pass as < c
        if any(labels.storage in writes(op) for op in ops):
            continue  # changed in the step: the check at the top no longer holds
        bounds[labels.index] = c
    return bounds


def _signed_source(view: Op | None, u: Any) -> Traced | None:
    """The labels behind ``u``: ``u`` itself when unsigned, else what ``u`` views as unsigned."""
    if type(u) is Traced and type(u.array) is np.ndarray and u.array.dtype.kind == "u":
        if view is None:
            return u
        src = view.args[0] if view.kind == "method" and view.target == "view" else None
        if (type(src) is Traced and type(src.array) is np.ndarray and src.array.dtype.kind == "i"
                and src.array.dtype.itemsize == u.array.dtype.itemsize):  # fmt: skip
            return src
    return None


def _real(a: Any) -> bool:
    return type(a) is np.ndarray and a.dtype.kind in "fiu" and a.ndim >= 1
