"""The error function behind GELU: as accurate as ``math.erf`` to a few units in the last place
over a wide range, special values right, and its polynomials regenerated from their
definition (with mpmath, when installed) to the bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_np.ops import special


def _ulps(ours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return np.abs(ours - reference) / np.spacing(np.abs(reference))


X = np.concatenate(
    [
        np.linspace(-7, 7, 140_001),  # steps of 1e-4 through every range of the approximation
        np.geomspace(1e-300, 30, 20_000),
        -np.geomspace(1e-300, 30, 20_000),
        np.array([0.0, 1.0, -1.0, 1 - 2**-53, 6.0, 1e300]),
    ]
)


def test_erf_is_within_two_ulps_of_math_erf():
    assert _ulps(special.erf(X), np.array([math.erf(v) for v in X])).max() <= 2


def test_erfc_keeps_relative_accuracy_into_the_far_tail():
    reference = np.array([math.erfc(v) for v in X])
    normal = reference > np.finfo(np.float64).tiny  # below, math.erfc itself is subnormal
    assert _ulps(special.erfc(X)[normal], reference[normal]).max() <= 6
    assert special.erfc(np.array([27.5]))[0] == 0.0  # below the smallest float


def test_special_values_dtypes_and_shapes():
    values = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0])
    erf = special.erf(values)
    assert erf[:2].tolist() == [1.0, -1.0] and np.isnan(erf[2])
    assert erf[3] == 0.0 and np.signbit(erf[4])
    erfc = special.erfc(values)
    assert erfc[:2].tolist() == [0.0, 2.0] and np.isnan(erfc[2]) and erfc[3] == 1.0
    assert special.erf(np.float32([0.5, 2.0])).dtype == np.float32
    assert special.erf(np.array(3.0)).shape == ()
    assert special.erf(np.array(3.0)) == pytest.approx(math.erf(3.0), rel=1e-15)
    grid = np.linspace(-3, 3, 12).reshape(3, 4)[:, ::2]  # not contiguous
    np.testing.assert_array_equal(special.erf(grid), special.erf(grid.copy()))


@pytest.mark.parametrize("size", [60, 3 * special.BLOCK + 7])  # one pass, and blocks
def test_transposed_inputs_give_the_values_of_their_copies(size):
    """A transposed array's elementwise results are not C-ordered: writing the tail's values
    by flat position must not land in a copy (a conv2d output is such an array)."""
    a = np.linspace(-5, 5, size).reshape(size // 3 if size % 3 == 0 else 1, -1).T
    np.testing.assert_array_equal(special.erf(a), special.erf(a.copy()))
    np.testing.assert_array_equal(special.erfc(a), special.erfc(a.copy()))
    assert np.abs(special.erf(a)).max() > 0.99  # the |x| >= 1 range was there


# ---------------------------------------------------------------- where the tables come from


def chebyshev_monomial(f, lo, hi, degree: int, digits: int = 40):
    """(mid, half, c): the interpolant of f at the Chebyshev points of [lo, hi] as sum c_k u^k,
    u = (v - mid) / half, computed at ``digits`` digits with mpmath and rounded to float64."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(digits):
        lo, hi = mp.mpf(lo), mp.mpf(hi)
        mid, half, n = (lo + hi) / 2, (hi - lo) / 2, degree + 1
        theta = [mp.pi * (k + mp.mpf(1) / 2) / n for k in range(n)]
        values = [f(mid + half * mp.cos(t)) for t in theta]
        cheb = [2 * mp.fsum(v * mp.cos(j * t) for v, t in zip(values, theta)) / n for j in range(n)]
        cheb[0] /= 2
        basis = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]  # T_0, T_1 in monomials
        while len(basis) < n:  # T_{j+1} = 2 u T_j - T_{j-1}
            up = [mp.mpf(0)] + [2 * c for c in basis[-1]]
            down = basis[-2] + [mp.mpf(0)] * (len(up) - len(basis[-2]))
            basis.append([a - b for a, b in zip(up, down)])
        mono = [
            mp.fsum(cheb[j] * basis[j][i] for j in range(i, n) if i < len(basis[j]))
            for i in range(n)
        ]
        return float(mid), float(half), tuple(float(c) for c in mono)


def test_the_tables_are_the_chebyshev_interpolants_they_claim_to_be():
    mp = pytest.importorskip("mpmath")
    with mp.workdps(40):

        def erf_over_x(t):  # of t = x^2
            return mp.erf(mp.sqrt(t)) / mp.sqrt(t) if t else 2 / mp.sqrt(mp.pi)

        def tail(s):  # of s = 2 / (2 + a): log(erfc(a) / s) + a^2
            if not s:
                return mp.log(1 / (2 * mp.sqrt(mp.pi)))
            a = 2 / s - 2
            return mp.log(mp.erfc(a) / s) + a * a

        small = chebyshev_monomial(erf_over_x, 0, 1, len(special._SMALL[2]) - 1)
        large = chebyshev_monomial(tail, 0, mp.mpf(2) / 3, len(special._TAIL[2]) - 1)
    for ours, fitted in ((special._SMALL, small), (special._TAIL, large)):
        assert ours[:2] == fitted[:2]
        np.testing.assert_allclose(ours[2], fitted[2], rtol=4e-16, atol=0)
