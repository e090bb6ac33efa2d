"""The Bonferroni screen beside KN in ``select_best`` (pmo_sim.analysis.kn, compare).

KN's continuation region scales as S²/δ: with the default δ (1% of the best mean) and a best
mean near zero (an NPV), KN kept policies EUR 1.5M behind "in contention" after 100
replications, every paired test at p < 0.0001, and the verdict said "not decided yet, run up
to 147,730 replications". The screen (Nelson, Swann, Goldsman and Song 2001) needs no
indifference zone: each of KN and the screen runs at α/2 and keeps the best with probability
at least 1 − α/2, so a policy that both keep alone is the best with probability ≥ 1 − α.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from pmo_sim.analysis.kn import screen
from pmo_sim.analysis.verdict import plain_verdict
from tests.test_analysis_compare import crn_table, select_best, table


def oracle(x: np.ndarray, alpha: float) -> list[bool]:
    """The screen from its definition: i is kept unless some j has a mean above i's by more
    than t_{1-α/(k-1), n-1} × the standard error of their paired difference."""
    n, k = x.shape
    t = stats.t.ppf(1 - alpha / (k - 1), n - 1)
    mean = x.mean(axis=0)
    return [all(mean[i] >= mean[j] - t * np.std(x[:, i] - x[:, j], ddof=1) / math.sqrt(n)
                for j in range(k) if j != i) for i in range(k)]


@pytest.mark.parametrize("seed", range(40))
def test_the_screen_is_its_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(2, 60)), int(rng.integers(2, 7))
    shared = rng.normal(0, rng.uniform(0, 5), (n, 1))
    x = shared + rng.normal(rng.normal(0, 0.5, k), rng.uniform(0.1, 2, k), (n, k))
    alpha = float(rng.choice([0.01, 0.025, 0.05, 0.1]))
    assert screen(x, alpha).tolist() == oracle(x, alpha)


def test_the_screen_keeps_ties_and_everyone_without_data() -> None:
    x = np.random.default_rng(1).normal(size=(30, 1))
    same = np.hstack([x, x, x - 1.0])  # two identical systems, one a constant 1 behind
    assert screen(same, 0.05).tolist() == [True, True, False]
    assert screen(same[:1], 0.05).tolist() == [True, True, True]  # one replication: no spread
    assert screen(np.full((10, 2), 1e300) * [1, -1], 0.05).tolist() == [True, True]  # overflow


def test_the_best_is_screened_out_at_most_alpha_of_the_time() -> None:
    # The least favourable case: four equal means (common noise and independent noise). The
    # screen at α = 0.05 drops system 0 with probability at most 0.05 (Bonferroni over its
    # three comparisons at 0.05 / 3 each; correlated, so somewhat less: about 0.04). Over
    # 2,000 macro-replications the estimate's sd is 0.0049: the bounds are 3 sd away from 0.05
    # and from 0.025 (a screen twice too wide, as two-sided quantiles would make it, drops it
    # about 0.02 of the time).
    rng = np.random.default_rng(20011)
    macro, n = 2000, 50
    dropped = 0
    for _ in range(macro):
        x = rng.normal(0, 3.0, (n, 1)) + rng.normal(0, 1.0, (n, 4))
        dropped += not screen(x, 0.05)[0]
    rate = dropped / macro
    assert 0.025 + 0.0147 < rate <= 0.05 + 0.0147


def test_a_clear_leader_is_confident_however_small_delta() -> None:
    # 'a' leads by 1.2 and 1.5 with a paired sd of about 0.7 over 100 replications: every
    # paired test has p far below 0.001. With δ = 0.001, KN's region closes only after
    # millions of replications; the screen rules 'b' and 'c' out.
    df = crn_table({"b": 8.8, "a": 10.0, "c": 8.5}, 100, np.random.default_rng(5), noise=0.5)
    sel = select_best(df, "npv", delta=1e-3)
    assert sel.policy == "a" and sel.confident and sel.screened and sel.survivors == ["a"]
    assert sel.max_stages > 1_000_000 and "Bonferroni screen" in sel.message
    verdict = plain_verdict(df, "npv", baseline="b", delta=1e-3)
    assert verdict.best == "a" and verdict.headline == "Best on NPV: a"
    assert "run more replications" not in verdict.text and "Bonferroni screen" in verdict.method


def test_what_kn_and_the_screen_both_keep() -> None:
    # KN keeps what is far behind but noisy; the screen keeps what is close but steady. With
    # 'far' 3 behind with paired sd 6 (t = 5 at n = 100: screened out; KN's region, h² S² / δ²
    # = 11.4 × 36 / 0.25 replications long, is still 3.9 wide at 100) and 'close' 0.01
    # behind with sd 0.05 (not screened out, but δ = 0.5 closes KN's region between them at
    # once: KN drops it), one policy is kept by both.
    rng = np.random.default_rng(8)
    n = 100
    shared = rng.normal(0, 2, n)
    best = shared + rng.normal(0, 0.03, n)
    df = table({"best": best, "close": best - 0.01 + rng.normal(0, 0.05, n),
                "far": shared - 3.0 + rng.normal(0, 6.0, n)})
    alone = select_best(df, "npv", delta=0.5, alpha=0.05)
    assert alone.policy == "best" and alone.confident and alone.screened
    x = df.pivot(index="replication", columns="policy", values="npv")[["best", "close", "far"]]
    assert screen(x.to_numpy(), 0.025).tolist() == [True, True, False]
    # and the verdict calls 'close' practically tied (its gap is below δ): no single winner
    verdict = plain_verdict(df, "npv", baseline="far", delta=0.5)
    assert verdict.best is None and verdict.tied == ["close"]


def test_equal_policies_are_not_separated() -> None:
    # Neither KN nor the screen can tell identical policies apart: not confident.
    x = np.random.default_rng(2).normal(size=200)
    sel = select_best(table({"a": x, "b": x.copy(), "c": x - 5.0}), "npv", delta=0.01)
    assert not sel.confident and not sel.screened and sel.survivors == ["a", "b"]
