"""Differences between two arrays, judged and explained; the table every comparison prints.

One rule judges every element: ``|hand - autograd| <= atol + rtol * |autograd|``. By default
``atol`` is ``rtol`` times the largest ``|autograd|`` of that quantity, so an element that is a
near-zero sum of large terms (where relative error means nothing) is judged against the
array's scale. When a quantity fails, ``explain`` looks for the shape of the mistake: a constant
factor (a missing ``/ n_samples``), a sign, a transpose, a mask applied in the wrong places.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


class ComparisonError(AssertionError):
    """A comparison failed; the message is the report's table."""


def default_rtol(*dtypes: Any) -> float:
    """1e-9 when every side computes in float64, 1e-4 when one of them is float32 or lower.

    Two correct float64 implementations differ by a few ulps times the length of their sums
    (about 1e-14 here); a real derivation mistake is off by far more than 1e-9.
    """
    wide = all(np.dtype(d).kind == "f" and np.dtype(d).itemsize >= 8 for d in dtypes)
    return 1e-9 if wide else 1e-4


@dataclass
class Difference:
    """How one quantity (``output``, ``dinputs``, ``dweights``, ...) compares."""

    name: str
    hand_shape: tuple[int, ...]
    autograd_shape: tuple[int, ...]
    max_abs: float  # nan when the shapes differ
    max_rel: float
    index: tuple[int, ...] | None  # the worst element
    hand_value: float | None
    autograd_value: float | None
    ok: bool
    hint: str = ""


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def difference(
    name: str,
    hand: Any,
    autograd: Any,
    rtol: float,
    atol: float | None = None,
    batch_size: int | None = None,
) -> Difference:
    """Compare ``hand`` with ``autograd`` element by element and explain a failure.

    >>> d = difference("dweights", np.array([3.0, 6.0]), np.array([1.0, 2.0]), rtol=1e-9)
    >>> d.ok, d.max_abs, d.hint
    (False, 4.0, 'hand-derived = 3 x autograd everywhere')
    """
    h = np.asarray(hand, dtype=np.float64)
    a = np.asarray(autograd, dtype=np.float64)
    if h.shape != a.shape:
        hint = f"shapes differ: hand-derived {h.shape}, autograd {a.shape}"
        if h.ndim == 2 and h.shape == a.shape[::-1]:
            hint += " (the transpose: a matmul with its operands swapped or transposed?)"
        nan = float("nan")
        return Difference(name, h.shape, a.shape, nan, nan, None, None, None, False, hint)
    if h.size == 0:
        return Difference(name, h.shape, a.shape, 0.0, 0.0, None, None, None, True)
    with np.errstate(invalid="ignore"):
        diff = np.abs(h - a)
    scale = float(np.max(np.abs(a))) if np.isfinite(a).all() else 0.0
    limit = (rtol * scale if atol is None else atol) + rtol * np.abs(a)
    bad = ~(diff <= limit)  # NaN counts as bad
    bad |= np.isfinite(h) != np.isfinite(a)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(diff == 0, 0.0, diff / np.maximum(np.abs(h), np.abs(a)))
    # the largest difference among the failing elements (NaN counts as the largest)
    ranked = np.nan_to_num(diff, nan=np.inf)
    worst = int(np.argmax(np.where(bad, ranked, -1.0) if bad.any() else ranked))
    index = _index(worst, h.shape)
    ok = not bad.any()
    return Difference(
        name,
        h.shape,
        a.shape,
        float(np.nanmax(diff)) if not np.isnan(diff).all() else float("nan"),
        float(np.nanmax(rel)) if not np.isnan(rel).all() else float("nan"),
        index,
        float(h.reshape(-1)[worst]),
        float(a.reshape(-1)[worst]),
        ok,
        "" if ok else explain(h, a, bad, batch_size),
    )


def _fraction(c: float) -> str:
    """2, 1/300, or as many digits as it takes to tell 1.000001 from 1."""
    if abs(c) < 1 and abs(1 / c - round(1 / c)) < 1e-6 * abs(1 / c):
        return f"1/{_fraction(1 / c)}"
    digits = next((p for p in range(6, 16) if float(f"{c:.{p}g}") not in (1.0, -1.0)), 16)
    return f"{c:.{digits}g}"


def explain(
    hand: np.ndarray,
    autograd: np.ndarray,
    bad: np.ndarray | None = None,
    batch_size: int | None = None,
    tolerance: float = 1e-6,
) -> str:
    """A one-line guess at the mistake behind a mismatch, from the pattern of differences.

    ``tolerance`` is how closely a pattern must hold (relative to the arrays' scale): tight
    against autograd, looser against finite differences.

    >>> explain(np.array([2.0, 4.0]), np.array([-2.0, -4.0]))
    'hand-derived = -autograd everywhere: a sign is flipped'
    """
    h, a = hand.astype(np.float64), autograd.astype(np.float64)
    if bad is None:
        bad = ~np.isclose(h, a, rtol=tolerance, atol=tolerance * np.max(np.abs(a), initial=0))
    if not np.isfinite(h).all():
        n = int((~np.isfinite(h)).sum())
        return f"{n} hand-derived values are nan or inf (a division by zero, a log of 0?)"

    def matches(x: np.ndarray, y: np.ndarray) -> bool:
        return bool(np.allclose(x, y, rtol=tolerance, atol=tolerance * np.max(np.abs(y))))

    scale = np.max(np.abs(a)) if a.size else 0.0
    if scale > 0 and matches(h, -a):
        return "hand-derived = -autograd everywhere: a sign is flipped"
    large = np.abs(a) > 1e-3 * scale  # ratios of tiny values are all noise
    if scale > 0 and large.any():
        c = float(np.median(h[large] / a[large]))
        if c != 0 and matches(h, c * a):
            text = f"hand-derived = {_fraction(c)} x autograd everywhere"
            if batch_size and np.isclose(c, batch_size, rtol=1e-4):
                text += f": the batch size ({batch_size}), a missing division by n_samples?"
            elif batch_size and np.isclose(c, 1 / batch_size, rtol=1e-4):
                text += f": 1/batch size ({batch_size}), divided by n_samples twice?"
            elif np.isclose(abs(c), 2, rtol=1e-4) or np.isclose(abs(c), 0.5, rtol=1e-4):
                text += ": a factor 2 (the 2 in d(x^2)/dx = 2x?)"
            return text
    if h.ndim == 2 and h.shape[0] == h.shape[1] and scale > 0 and matches(h, a.T):
        return "hand-derived = autograd transposed: a transposed matmul?"
    n_bad = int(bad.sum())
    where = f"({n_bad} of {bad.size} elements)"
    if n_bad and np.all(h[bad] == 0):
        return (
            f"differs only where the hand-derived value is 0 {where}: a mask (ReLU's) applied "
            "where it should not be, or built from the wrong tensor?"
        )
    if n_bad and np.all(a[bad] == 0):
        return (
            f"differs only where autograd's value is 0 {where}: a mask (ReLU's) missing, or "
            "built from the wrong tensor?"
        )
    if n_bad and np.all((h[bad] == 0) | (a[bad] == 0)):
        return (
            f"differs only where one side is 0 {where}: a mask (ReLU's) built from the wrong "
            "tensor (it must come from the layer's inputs)?"
        )
    return f"{n_bad} of {bad.size} elements differ"


# --- tables ------------------------------------------------------------------------------------


def number(value: float | None) -> str:
    """Six significant digits; '-' for nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.6g}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join(lines)


@dataclass
class ComparisonReport:
    """The verdict of ``compare_layer``/``compare_loss``: one row per quantity.

    ``report.ok`` is True when every quantity agrees; ``str(report)`` is an aligned table;
    ``report["dweights"]`` is one row; ``report.raise_if_failed()`` raises ComparisonError.
    """

    title: str
    rows: list[Difference]
    rtol: float
    atol: float | None
    dtypes: str

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __getitem__(self, name: str) -> Difference:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no quantity {name!r}; have {[r.name for r in self.rows]}")

    def raise_if_failed(self) -> None:
        """Raise ``ComparisonError`` with the table when any quantity differs."""
        if not self.ok:
            raise ComparisonError(str(self))

    def __str__(self) -> str:
        atol = "rtol x max|autograd|" if self.atol is None else f"{self.atol:g}"
        head = f"{self.title}  [{self.dtypes}; rtol {self.rtol:g}, atol {atol}]"
        header = ["quantity", "shape", "max abs diff", "max rel diff", "worst at"]
        header += ["hand-derived", "autograd", "result"]
        rows = []
        for r in self.rows:
            shape = str(r.hand_shape) if r.hand_shape == r.autograd_shape else "differs"
            exact = r.max_abs == 0  # no worst element to show
            at = "-" if r.index is None or exact else str(r.index)
            values = ["-", "-"] if exact else [number(r.hand_value), number(r.autograd_value)]
            rows.append(
                [r.name, shape, number(r.max_abs), number(r.max_rel), at, *values]
                + ["ok" if r.ok else "FAIL"]
            )
        hints = [f"  {r.name}: {r.hint}" for r in self.rows if r.hint]
        failed = sum(not r.ok for r in self.rows)
        verdict = (
            f"agree: all {len(self.rows)} quantities match"
            if failed == 0
            else f"DIFFER: {failed} of {len(self.rows)} quantities"
        )
        return "\n".join([head, table(header, rows), *hints, verdict])

    def __repr__(self) -> str:
        return f"<ComparisonReport {'ok' if self.ok else 'FAILED'}: {self.title}>"
