"""The error function without SciPy: ``erf`` and ``erfc`` on arrays, within a few units in the
last place of float64.

Two polynomials, each evaluated by Horner's rule, cover every x:

- ``|x| < 1``: erf(x) = x P(x^2);
- ``a = |x| >= 1``: erfc(a) = s exp(-a^2 + R(s)) with s = 2 / (2 + a), which maps [1, inf) to
  (0, 2/3] and makes the tail smooth enough for one polynomial;
  then erf(x) = sign(x) (1 - erfc(a)).

Each polynomial interpolates its function at Chebyshev points, computed with mpmath to 40
digits and rounded to float64; ``tests/test_special.py`` refits them (when mpmath is
installed) and checks erf and erfc against ``math.erf`` and ``math.erfc`` over a wide range.
exp(-a^2) is computed as exp(-h^2) exp(-(a - h)(a + h)) with h = a rounded to 1/16, so that
h^2 is exact and the rounding of a^2 does not cost relative accuracy in the far tail.
"""

from __future__ import annotations

from typing import Any

from tinygrad_np.backend import array_module

# Each table: (mid, half, coefficients c_k) of a polynomial sum c_k u^k in u = (v - mid) / half.
# erf(x) = x P(v) for |x| < 1, v = x^2 in [0, 1]
_SMALL = (
    0.5,
    0.5,
    (
        0.9654687386698673,
        -0.1405360890227171,
        0.019852496688984218,
        -0.0022854855611440855,
        0.00021751715603563488,
        -1.75371694412802e-05,
        1.2233827638093572e-06,
        -7.51156925108609e-08,
        4.115751500265885e-09,
        -2.035231956483527e-10,
        9.21125018742823e-12,
        -3.80659122412214e-13,
    ),
)

# erfc(a) = s exp(-a^2 + R(s)) for a >= 1, in v = s = 2 / (2 + a) in (0, 2/3]
_TAIL = (
    0.3333333333333333,
    0.3333333333333333,
    (
        -0.8891660234348968,
        0.41826135620105626,
        0.03773345772695929,
        -0.007742687639016608,
        -0.0037691150462194956,
        0.00015206393950104917,
        0.0004234211063873974,
        1.9272591207733354e-05,
        -5.495213198300985e-05,
        -4.723993141093224e-06,
        8.046738369374427e-06,
        6.114454643285355e-07,
        -1.2757478707183307e-06,
        -1.8799041212810733e-08,
        2.053478231591388e-07,
        -1.8842132687388432e-08,
        -3.0616009019405036e-08,
        7.3195425775337036e-09,
        3.659224358962433e-09,
        -1.557556734037574e-09,
        -2.577714826634401e-10,
        1.6389715019422906e-10,
        1.1223235517303548e-12,
    ),
)


def _horner(u: Any, coefficients: tuple[float, ...]) -> Any:
    p = u * coefficients[-1] + coefficients[-2]
    for c in coefficients[-3::-1]:
        p *= u
        p += c
    return p


def _erf_of_small(x: Any) -> Any:
    """erf(x), right where |x| < 1 (finite nonsense elsewhere)."""
    mid, half, coefficients = _SMALL
    with array_module(x).errstate(over="ignore", invalid="ignore"):
        return x * _horner((x * x - mid) / half, coefficients)


def _erfc_of_large(a: Any) -> Any:
    """erfc(a) for an array of a >= 1 (inf included)."""
    xp = array_module(a)
    mid, half, coefficients = _TAIL
    s = 2 / (2 + a)
    h = xp.round(xp.minimum(a, 40.0) * 16) / 16  # exp(-40^2) is 0 already
    with xp.errstate(over="ignore", invalid="ignore"):
        # h^2 (up to 1600) kept apart from the small terms: adding them would round away
        # relative accuracy; (a - h)(a + h) is below 3
        small = _horner((s - mid) / half, coefficients) - (a - h) * (a + h)
        return s * xp.exp(small) * xp.exp(-h * h)


def _put_large(out: Any, flat: Any, fill: Any) -> Any:
    """``out`` (1-D) with ``fill(x_i, erfc(|x_i|))`` written where |x_i| >= 1. Index arrays,
    not boolean masks: gathering by a random mask costs more than a polynomial."""
    xp = array_module(flat)
    at = xp.flatnonzero(xp.abs(flat) >= 1)
    if at.size:
        xs = flat.take(at)
        out.put(at, fill(xs, _erfc_of_large(xp.abs(xs))))
    return out


# Elements per pass: a block's temporaries stay in the CPU's cache, which made erf of a
# million elements twice as fast as one pass over all of them.
BLOCK = 1 << 16


def _blockwise(fn: Any, x: Any) -> Any:
    """``fn`` (elementwise, of a 1-D array) applied to ``x`` a block of ``BLOCK`` elements at
    a time. Flat first: a view when ``x`` is contiguous, else a contiguous copy, so ``fn``
    may write into its fresh results by position."""
    flat = x.reshape(-1)
    if flat.size <= BLOCK:
        return fn(flat).reshape(x.shape)
    first = fn(flat[:BLOCK])
    out = array_module(x).empty(flat.shape, dtype=first.dtype)
    out[:BLOCK] = first
    for start in range(BLOCK, flat.size, BLOCK):
        out[start : start + BLOCK] = fn(flat[start : start + BLOCK])
    return out.reshape(x.shape)


def _erf(x: Any) -> Any:
    copysign = array_module(x).copysign
    return _put_large(_erf_of_small(x), x, lambda xs, tail: copysign(1 - tail, xs))


def _erfc(x: Any) -> Any:
    where = array_module(x).where
    return _put_large(1 - _erf_of_small(x), x, lambda xs, tail: where(xs > 0, tail, 2 - tail))


def erf(x: Any) -> Any:
    """The error function, elementwise, in the array's float dtype.

    >>> import numpy as np
    >>> erf(np.array([0.0, 0.5, -3.0])).round(12).tolist()
    [0.0, 0.520499877813, -0.999977909503]
    """
    return _blockwise(_erf, x)


def erfc(x: Any) -> Any:
    """The complementary error function 1 - erf(x), elementwise, to full relative accuracy
    also where it is tiny (rather than 1 - erf(x) rounded).

    >>> import numpy as np
    >>> float(erfc(np.array([10.0]))[0])
    2.088487583762545e-45
    """
    return _blockwise(_erfc, x)
