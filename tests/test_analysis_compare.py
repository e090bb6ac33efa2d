"""Paired comparisons (against scipy) and Kim-Nelson selection (against its PCS guarantee)."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from pmo_sim.analysis import compare, default_delta, default_n0, kn_state, select_best, verdict_text
from pmo_sim.analysis.compare import kn_constants
from pmo_sim.errors import UsageError

FULL = os.environ.get("PMO_SIM_FULL") == "1"
COLUMNS = ["policy", "metric", "diff_mean", "ci_low", "ci_high", "p_value", "p_adjusted", "better"]


def table(values: dict[str, np.ndarray], metric: str = "npv") -> pd.DataFrame:
    """Long replications table from {policy: values by replication (NaN allowed)}."""
    frames = [pd.DataFrame({"policy": p, "replication": np.arange(len(v)), metric: v})
              for p, v in values.items()]
    return pd.concat(frames, ignore_index=True)


def crn_table(means: dict[str, float], n: int, rng: np.random.Generator, *, common: float = 2.0,
              noise: float | dict[str, float] = 1.0, metric: str = "npv") -> pd.DataFrame:
    """Normal outputs with a shared (CRN) component per replication plus independent noise."""
    shared = rng.normal(0.0, common, n)
    sd = noise if isinstance(noise, dict) else dict.fromkeys(means, noise)
    return table({p: m + shared + rng.normal(0.0, sd[p], n) for p, m in means.items()}, metric)


# --------------------------------------------------------------------------- compare


def test_compare_matches_ttest_rel_and_bonferroni() -> None:
    rng = np.random.default_rng(11)
    df = crn_table({"base": 0.0, "a": 0.8, "b": 0.1, "c": -0.6}, 30, rng)
    out = compare(df, "base", ["npv"])
    assert list(out.columns[:8]) == COLUMNS
    assert list(out.policy) == ["a", "b", "c"]
    base = df[df.policy == "base"].npv.to_numpy()
    for r in out.itertuples():
        x = df[df.policy == r.policy].npv.to_numpy()
        d = x - base
        assert r.n == 30 and r.baseline == "base"
        assert r.diff_mean == pytest.approx(d.mean())
        assert r.diff_sd == pytest.approx(d.std(ddof=1))
        assert r.p_value == pytest.approx(sps.ttest_rel(x, base).pvalue, rel=1e-9)
        assert r.p_adjusted == pytest.approx(min(1.0, 3 * r.p_value))
        lo, hi = sps.t.interval(0.95, 29, loc=d.mean(), scale=sps.sem(d))
        assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi))
    better = dict(zip(out.policy, out.better, strict=True))
    assert better == {"a": True, "b": None, "c": False}


def test_compare_bonferroni_caps_at_one_and_counts_policies() -> None:
    rng = np.random.default_rng(5)
    df = crn_table({"base": 0, "a": 0, "b": 0, "c": 0, "d": 0}, 12, rng)
    out = compare(df, "base")
    assert (out.p_adjusted == np.minimum(1.0, 4 * out.p_value)).all()
    assert out.p_adjusted.max() <= 1.0


def test_compare_pairs_by_replication_and_drops_nans() -> None:
    base = np.arange(10.0)
    df = table({"base": base, "a": base + 1.0 + 0.1 * np.sin(np.arange(10))})
    df.loc[(df.policy == "a") & (df.replication.isin([8, 9])), "replication"] += 100  # unmatched
    df.loc[(df.policy == "base") & (df.replication == 0), "npv"] = np.nan
    df = df.sample(frac=1.0, random_state=1)  # row order must not matter
    r = compare(df, "base").iloc[0]
    d = 1.0 + 0.1 * np.sin(np.arange(1, 8))
    assert r.n == 7
    assert r.diff_mean == pytest.approx(d.mean())
    assert r.p_value == pytest.approx(sps.ttest_1samp(d, 0.0).pvalue)


def test_compare_degenerate_differences_and_lower_sense() -> None:
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    df = pd.concat([
        table({"base": x, "same": x.copy(), "faster": x - 2.0, "slower": x + 0.5},
              metric="mean_cycle_time"),
    ])
    out = compare(df, "base", ["mean_cycle_time"]).set_index("policy")
    assert out.loc["same", "diff_mean"] == 0.0 and out.loc["same", "p_value"] == 1.0
    assert out.loc["same", "better"] is None
    assert (out.loc["same", "ci_low"], out.loc["same", "ci_high"]) == (0.0, 0.0)
    # constant nonzero difference: certain, and lower cycle time is better
    assert out.loc["faster", "p_value"] == 0.0 and out.loc["faster", "better"] is True
    assert out.loc["faster", "ci_low"] == pytest.approx(-2.0)
    assert out.loc["slower", "better"] is False


def test_compare_single_replication_and_neutral_metric() -> None:
    df = table({"base": np.array([1.0]), "a": np.array([2.0])})
    r = compare(df, "base").iloc[0]
    assert r.n == 1 and r.diff_mean == 1.0
    assert np.isnan(r.p_value) and np.isnan(r.ci_low) and r.better is None

    rng = np.random.default_rng(2)
    df = crn_table({"base": 0.5, "busy": 0.9}, 50, rng, common=0.01, noise=0.01, metric="utilisation")
    r = compare(df, "base", "utilisation").iloc[0]
    assert r.p_adjusted < 1e-6 and r.better is None  # significant, but neither good nor bad


def test_compare_errors() -> None:
    df = table({"base": np.zeros(3), "a": np.ones(3)})
    with pytest.raises(UsageError, match=r"unknown baseline 'Base'.*base, a"):
        compare(df, "Base")
    with pytest.raises(UsageError, match=r"unknown metric 'value'.*available: npv"):
        compare(df, "base", ["value"])
    with pytest.raises(UsageError, match="more than once"):
        compare(pd.concat([df, df]), "base")


def test_verdict_text_mentions_outcomes() -> None:
    rng = np.random.default_rng(11)
    df = crn_table({"base": 0.0, "a": 0.8, "b": 0.1, "c": -0.6}, 30, rng)
    text = verdict_text(compare(df, "base"), select_best(df, "npv", delta=1.0))
    assert "better: 'a'" in text and "worse: 'c'" in text and "'b'" in text
    assert "Bonferroni" in text and "'a' is the best policy" in text


# --------------------------------------------------------------------------- KN


def test_kn_constants_formula() -> None:
    # k = 4, α = 0.05, n0 = 10: η = ½((0.1/3)^(−2/9) − 1), h² = 18 η
    eta, h2 = kn_constants(4, 0.05, 10)
    assert eta == pytest.approx(0.5 * ((0.1 / 3) ** (-2 / 9) - 1))
    assert eta == pytest.approx(0.5647, abs=1e-4)
    assert h2 == pytest.approx(18 * eta)
    # as n0 grows h² tends to 2 ln((k − 1)/(2α))
    assert kn_constants(4, 0.05, 100_000)[1] == pytest.approx(2 * math.log(30), rel=1e-3)
    with pytest.raises(UsageError):
        kn_constants(2, 0.6, 10)
    assert default_n0(100) == 10 and default_n0(1000) == 100 and default_n0(5) == 5 and default_n0(1) == 2


@pytest.mark.slow
def test_kn_probability_of_correct_selection() -> None:
    """Slippage configuration: the best is exactly δ better, with CRN plus independent noise.

    KN guarantees PCS >= 1 − α = 0.95 (it is conservative). With M macro-replications the
    estimated PCS has sd sqrt(0.95·0.05/M); we allow 3 of those below 0.95, so a correct
    procedure fails this test with probability < 0.2% (M = 400: threshold ≈ 0.917).
    """
    macro = 2000 if FULL else 400
    delta, alpha = 0.5, 0.05
    means = {"s1": 0.0, "s2": 0.0, "best": delta, "s4": 0.0}
    noise = {"s1": 1.0, "s2": 1.5, "best": 1.0, "s4": 2.0}
    rng = np.random.default_rng(20010701)
    correct = confident = 0
    used = []
    for _ in range(macro):
        df = crn_table(means, 1500, rng, common=3.0, noise=noise)
        sel = select_best(df, "npv", delta=delta, alpha=alpha, n0=10)
        correct += sel.policy == "best"
        confident += sel.confident
        used.append(sel.n_used)
    pcs = correct / macro
    allowance = 3 * math.sqrt(0.95 * 0.05 / macro)
    assert pcs >= 0.95 - allowance, f"PCS {pcs:.3f} below {0.95 - allowance:.3f}"
    assert confident / macro >= 0.99  # 1500 replications is (almost) always enough to stop
    assert np.median(used) < 1500 / 3  # and KN stops well before using them all


def test_kn_equal_systems_are_rarely_separated_with_few_data() -> None:
    rng = np.random.default_rng(7)
    unsure = 0
    for n in (1, 2, 3, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20):
        df = crn_table(dict.fromkeys(["a", "b", "c", "d"], 0.0), n, rng)
        sel = select_best(df, "npv", delta=0.1)
        assert sel.policy in {"a", "b", "c", "d"}
        assert sel.policy in sel.survivors and sel.n_used <= n
        unsure += not sel.confident
        if not sel.confident:
            assert "run more replications" in sel.message
    assert unsure >= 12
    # identical copies can never be separated, however many replications
    x = rng.normal(size=500)
    sel = select_best(table({"a": x, "b": x.copy()}), "npv", delta=0.01)
    assert not sel.confident and sel.survivors == ["a", "b"]
    assert "cannot separate 'a' and 'b'" in sel.message
    assert "identical in every one of the 500 replications" in sel.message
    assert "run more replications" not in sel.message  # (before: "KN needs more than n=500")


def test_kn_lower_is_better_and_neutral_refused() -> None:
    rng = np.random.default_rng(3)
    df = crn_table({"slow": 120.0, "fast": 100.0, "mid": 110.0}, 200, rng, common=10.0, noise=5.0,
                   metric="mean_cycle_time")
    sel = select_best(df, "mean_cycle_time", delta=5.0)
    assert sel.policy == "fast" and sel.confident and sel.survivors == ["fast"]
    assert sel.method == "Kim-Nelson (KN) and a Bonferroni screen, δ=5, α=0.05"
    assert sel.as_dict() == {"metric": "mean_cycle_time", "policy": "fast",
                             "method": sel.method, "confident": True}
    with pytest.raises(UsageError, match="neutral"):
        select_best(df.rename(columns={"mean_cycle_time": "utilisation"}), "utilisation")
    with pytest.raises(UsageError, match="unknown metric"):
        select_best(df, "npv")


def test_kn_single_policy_and_defaults() -> None:
    df = table({"only": np.arange(5.0)})
    sel = select_best(df, "npv")
    assert sel.policy == "only" and sel.confident and "nothing to compare" in sel.message

    rng = np.random.default_rng(9)
    df = crn_table({"a": 1000.0, "b": 900.0}, 100, rng)
    assert default_delta(df, "npv") == pytest.approx(0.01 * df[df.policy == "a"].npv.mean())
    sel = select_best(df, "npv")
    assert sel.delta == pytest.approx(default_delta(df, "npv")) and sel.n0 == 10
    assert sel.policy == "a" and sel.confident
    # best mean 0 (projects_cancelled: lower is better): 10% of the pooled sd instead
    x = np.tile([-1.0, 1.0], 15)
    zero = table({"a": x, "b": x + 5.0}, metric="projects_cancelled")
    assert default_delta(zero, "projects_cancelled") == pytest.approx(0.1 * math.sqrt(30 / 29))
    constant = table({"a": np.zeros(30), "b": np.ones(30)}, metric="projects_cancelled")
    assert default_delta(constant, "projects_cancelled") == 1.0
    assert select_best(constant, "projects_cancelled").policy == "a"


def test_kn_state_sequential_runner_matches_post_hoc() -> None:
    """A runner adding replications of the survivors only ends where post-hoc KN ends."""
    rng = np.random.default_rng(42)
    means = {"a": 0.0, "b": 0.3, "c": 0.6, "d": 0.9}
    full = crn_table(means, 2000, rng, common=2.0, noise=1.0)
    post = select_best(full, "npv", delta=0.3, n0=15)
    assert post.confident and post.policy == "d"

    have = full[full.replication < 20]
    for _ in range(1000):
        # (select_best runs KN at α/2 = 0.025: the other half is its Bonferroni screen's)
        state = kn_state(have, "npv", delta=0.3, n0=15, alpha=0.025)
        if state.terminated:
            break
        assert state.more_needed >= 1 and state.max_stages >= state.stages
        top = int(have.replication.max())
        batch = min(25, state.more_needed)
        more = full[full.policy.isin(state.survivors) & full.replication.between(top + 1, top + batch)]
        have = pd.concat([have, more], ignore_index=True)
    assert state.terminated and state.survivors == [post.policy] and state.stages == post.n_used
    assert set(state.eliminated_at) == {"a", "b", "c"}


def test_kn_skips_missing_values() -> None:
    rng = np.random.default_rng(4)
    df = crn_table({"a": 0.0, "b": 1.0, "c": 2.0}, 300, rng, metric="on_time_rate")
    df.loc[rng.choice(len(df), 40, replace=False), "on_time_rate"] = np.nan
    sel = select_best(df, "on_time_rate", delta=0.5)
    assert sel.policy == "c" and sel.confident
    complete = df.pivot(index="replication", columns="policy", values="on_time_rate").notna().all(axis=1)
    assert sel.n_used <= complete.sum()
