"""Student-t quantiles and tails computed without scipy (``pmo_sim.intervals``).

The quantiles (``student_t_quantile``) are held to an independent oracle: mpmath's
regularized incomplete beta at 40 digits, solved for the quantile. scipy's ``stdtrit`` is the
other witness; it is itself off near p = 0.5 for some degrees of freedom (4e-4 relative at
dof 4, p = 0.5000001), where the closed form is exact, so it is held to the oracle only away
from there. The tails (``student_t_tail``, the verdict's p-values) are held to scipy's
``stdtr``, to the closed forms of dof 1 and 2, and to the quantiles they invert.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import stdtr, stdtrit

from pmo_sim.intervals import (
    EXPANSION_FROM,
    half_width,
    student_t_quantile,
    student_t_tail,
    t_quantile,
    t_two_sided_p,
)

mpmath.mp.dps = 40

#: Every branch: the Cauchy, the series in both forms (p up to 0.9 and beyond), both sides of
#: the expansion's threshold (which moves out with z), odd and even degrees of freedom.
DOFS = [1, 2, 3, 4, 5, 6, 7, 9, 10, 29, 30, 31, 99, 100, 500, 501, EXPANSION_FROM - 2,
        EXPANSION_FROM - 1, EXPANSION_FROM, EXPANSION_FROM + 1, 3000, 8001, 12_000, 10**5, 10**7]
PS = [0.5000001, 0.55, 0.75, 0.9, 0.9000001, 0.95, 0.975, 0.995, 0.9995, 0.99995, 1 - 5e-7,
      1 - 5e-9, 1 - 5e-12, 1 - 2**-52]


def exact(p: float, dof: int) -> float:
    """The ``p`` quantile of t with ``dof`` degrees of freedom, to 40 digits: the t with
    P(|T| <= t) = I_y(1/2, dof/2) = 2p − 1, y = t²/(dof + t²), or, far out, with
    P(|T| > t) = I_{1−y}(dof/2, 1/2) = 2(1 − p) (each keeps its small argument's digits)."""
    half, nu, q = mpmath.mpf(1) / 2, mpmath.mpf(dof), mpmath.mpf(p)

    def gap(t: mpmath.mpf) -> mpmath.mpf:
        if p < 0.75:
            return mpmath.betainc(half, nu / 2, 0, t * t / (nu + t * t), regularized=True) - (2 * q - 1)
        return 2 * (1 - q) - mpmath.betainc(nu / 2, half, 0, nu / (nu + t * t), regularized=True)

    start = mpmath.mpf(float(stdtrit(dof, p)))
    return float(mpmath.findroot(gap, start, tol=(start * mpmath.mpf(10) ** -30) ** 2))


def relative_error(p: float, dof: int) -> float:
    want = exact(p, dof)
    return abs(student_t_quantile(p, dof) - want) / want


@pytest.mark.parametrize("p", PS)
def test_quantile_agrees_with_40_digit_oracle(p: float) -> None:
    worst = max((relative_error(p, d), d) for d in DOFS)
    assert worst[0] <= 5e-14, f"p={p}: {worst[0]:.1e} at dof {worst[1]}"


@settings(max_examples=60, deadline=None)
@given(p=st.floats(0.5, 1.0, exclude_min=True, exclude_max=True),
       dof=st.integers(1, 10**8))
def test_quantile_agrees_with_the_oracle_anywhere(p: float, dof: int) -> None:
    assert relative_error(p, dof) <= 5e-14


@settings(max_examples=80, deadline=None)
@given(p=st.floats(0.55, 1 - 1e-9), dof=st.integers(1, 10**8))
def test_quantile_agrees_with_scipy_away_from_the_median(p: float, dof: int) -> None:
    assert student_t_quantile(p, dof) == pytest.approx(float(stdtrit(dof, p)), rel=1e-13)


@given(p=st.floats(0.5, 1.0, exclude_min=True, exclude_max=True),
       q=st.floats(0.5, 1.0, exclude_min=True, exclude_max=True),
       dof=st.integers(1, 5000))
def test_quantile_grows_with_p_and_shrinks_with_dof(p: float, q: float, dof: int) -> None:
    lo, hi = sorted((p, q))
    assert student_t_quantile(lo, dof) <= student_t_quantile(hi, dof)
    assert student_t_quantile(hi, dof + 1) <= student_t_quantile(hi, dof)
    assert student_t_quantile(hi, dof) >= student_t_quantile(hi, 10**9) > 0


def test_closed_forms() -> None:
    """dof 1 (Cauchy) and 2 have closed forms; large dof tends to the normal quantile."""
    for p in (0.6, 0.9, 0.975, 0.999999):
        # tan(π(p − ½)) = 1/tan(π(1 − p)), the latter exact to the last digits near p = 1
        assert student_t_quantile(p, 1) == pytest.approx(1 / math.tan(math.pi * (1 - p)), rel=1e-14)
        assert student_t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)),
                                                         rel=1e-13)
    z = 1.959963984540054  # the normal's 0.975 quantile; then t ≈ z + (z³ + z)/(4 dof)
    assert student_t_quantile(0.975, 10**12) == pytest.approx(z + (z**3 + z) / 4e12, rel=1e-15)


@pytest.mark.parametrize("p, dof", [(0.49, 3), (1.0, 3), (0.3, 3), (0.9, 0), (0.9, 2.5),
                                    (float("nan"), 3), (0.9, float("nan"))])
def test_outside_its_domain_it_refuses(p: float, dof: float) -> None:
    with pytest.raises(ValueError, match="0.5 <= p < 1 and integral dof >= 1"):
        student_t_quantile(p, dof)


def test_the_smallest_confidences_give_the_median() -> None:
    """A confidence below 2e-16 rounds (1 + c)/2 to 0.5: an interval of width 0, as scipy's."""
    assert student_t_quantile(0.5, 7) == 0.0
    assert list(t_quantile(1e-300, [2, 8])) == [0.0, 0.0]
    assert t_quantile(1e-15, [8])[0] == pytest.approx(float(stdtrit(7, 0.5 + 5e-16)), rel=1e-2)


def test_t_quantile_is_vectorised_with_nan_below_two() -> None:
    n = np.array([[0, 1, 2], [31, 2, 10**6]])
    got = t_quantile(0.95, n)
    assert got.shape == n.shape
    assert np.isnan(got[0, :2]).all()
    want = [student_t_quantile(0.975, d) for d in (1, 30, 1, 10**6 - 1)]
    assert list(got.ravel()[2:]) == want
    assert got[1, 0] == pytest.approx(2.042272456301238, rel=1e-14)  # t_{0.975, 30}


def test_half_width_is_the_t_interval() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, float("nan")])  # the NaN is left out
    assert half_width(x) == pytest.approx(3.182446305284263 * math.sqrt(5 / 3) / 2, rel=1e-14)


# --------------------------------------------------------------------------- the tail


@settings(max_examples=300, deadline=None)
@given(t=st.floats(1e-9, 1e4), dof=st.one_of(st.integers(2, 10**8), st.floats(0.05, 1e6)))
def test_tail_agrees_with_scipy(t: float, dof: float) -> None:
    """P(|T| > t) against 2·stdtr(dof, −t) wherever that is a normal number (dof 1 apart:
    scipy's stdtr is off there near t = 0, 3e-9 relative at t = 1e-8, where the closed form
    below holds to the last digits)."""
    want = 2.0 * float(stdtr(dof, -t))
    assume(want > 1e-290)
    assert student_t_tail(t, dof) == pytest.approx(want, rel=2e-11)
    assert student_t_tail(-t, dof) == student_t_tail(t, dof)


@pytest.mark.parametrize("t", [1e-12, 1e-8, 1.9e-6, 0.3, 1.0, 1.7320508, 5.0, 1e3, 1e8])
def test_tail_closed_forms(t: float) -> None:
    """dof 1: 1 − (2/π) atan t; dof 2: 1 − t/√(2 + t²) (written without cancellation)."""
    cauchy = 2 / math.pi * math.atan(1 / t)
    assert student_t_tail(t, 1) == pytest.approx(cauchy, rel=1e-14)
    assert student_t_tail(t, 2) == pytest.approx(2 / (math.sqrt(2 + t * t) * (math.sqrt(2 + t * t) + t)),
                                                 rel=1e-14)


@settings(max_examples=100, deadline=None)
@given(p=st.floats(0.5, 1.0, exclude_min=True, exclude_max=True), dof=st.integers(1, 10**7))
def test_tail_inverts_the_quantile(p: float, dof: int) -> None:
    """The tail beyond the p quantile is 2(1 − p), to the digits the quantile's own rounding
    leaves (a quantile of relative error e moves the tail by about e·t·density/tail)."""
    tail = 2.0 * (1.0 - p)
    assume(tail > 1e-280)
    q = student_t_quantile(p, dof)
    assert student_t_tail(q, dof) == pytest.approx(tail, rel=1e-10 * max(1.0, q * q))


def test_tail_edges_and_vectorised_p_values() -> None:
    assert student_t_tail(0.0, 5) == 1.0
    assert student_t_tail(math.inf, 5) == 0.0
    assert math.isnan(student_t_tail(math.nan, 5))
    assert math.isnan(student_t_tail(1.0, 0.0)) and math.isnan(student_t_tail(1.0, math.nan))
    got = t_two_sided_p(np.array([[2.0, -2.0], [np.nan, 0.0]]), np.array([[9.0, 9.0], [9.0, np.nan]]))
    assert got.shape == (2, 2)
    assert got[0, 0] == got[0, 1] == pytest.approx(2.0 * float(stdtr(9.0, -2.0)), rel=1e-13)
    assert np.isnan(got[1]).all()
