"""The verdict and the sensitivity methods against independent computations.

Companion of ``test_statistics_known.py``: the verdict's words against the comparison table's
adjusted test on a constructed case, Morris elementary effects against their definition on an
exactly linear KPI (whole-number and continuous fields) and against SALib's analysis on
continuous fields.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

# --------------------------------------------------------------------------- verdict


def test_the_verdict_calls_a_gain_significant_only_when_the_comparison_does() -> None:
    # Three policies on common random numbers; A's paired gain over base has p = 0.03, so
    # its 95% interval excludes zero, but with two policies compared to base the
    # Bonferroni-adjusted p is 0.06: the comparison table says "no significant difference",
    # and the verdict, on the same numbers, must not say that A adds NPV.
    from pmo_sim.analysis import compare
    from pmo_sim.analysis.verdict import plain_verdict

    rng = np.random.default_rng(3)
    n = 30
    base = 1000 + rng.normal(0, 100, n)
    e = rng.normal(0, 1, n)
    e = (e - e.mean()) / e.std(ddof=1)
    gain = stats.t.ppf(1 - 0.03 / 2, n - 1) * 40 / math.sqrt(n)  # the gain whose p is 0.03
    values = {"base": base, "A": base + 40 * e + gain, "B": base + rng.normal(-5, 40, n)}
    reps = pd.DataFrame([{"policy": p, "replication": i, "npv": float(x)}
                         for p, v in values.items() for i, x in enumerate(v)])
    row = compare(reps, "base", ["npv"]).set_index("policy").loc["A"]
    assert row["p_value"] == pytest.approx(0.03) and row["p_adjusted"] == pytest.approx(0.06)
    assert row["ci_low"] > 0 and row["better"] is None  # the case under test
    verdict = plain_verdict(reps, "npv", "base")
    assert verdict.leader == "A"
    assert "adds" not in verdict.text and "not significant" in verdict.text
    assert "Bonferroni" in verdict.text


# --------------------------------------------------------------------------- sensitivity


def test_morris_effects_of_a_whole_number_field_are_per_its_range_as_run() -> None:
    # KPI = 100 x headcount + 30 x rate, exactly linear: over the full ranges (headcount 1..3,
    # rate 0..1) every elementary effect is 200 for the headcount and 30 for the rate, so
    # mu* = mu = 200 and 30 and sigma = 0 (Morris: the change of the KPI per the factor's
    # change as a share of its range). The headcount is sampled on [0.5, 3.5] and rounded:
    # a step 1.5 -> 3.5 runs 2 -> 3 and one 2.5 -> 3.5 runs 3 -> 3; SALib divided every change
    # of the KPI by the sampled step, giving 300, 150 and 0 instead of 200.
    from pmo_sim.analysis.sensitivity import Factor, design, design_points, morris_indices

    factors = [Factor("resources.dev.headcount", 1, 3, integer=True), Factor("rate", 0.0, 1.0)]
    matrix = design("morris", factors, 20, seed=4)
    points = design_points(factors, matrix)
    kpi = np.array([100.0 * p["resources.dev.headcount"] + 30.0 * p["rate"] for p in points])
    table = morris_indices(factors, matrix, kpi, "npv", seed=4).set_index(["parameter", "statistic"])
    for path, effect in (("resources.dev.headcount", 200.0), ("rate", 30.0)):
        assert table.loc[(path, "mu_star"), "value"] == pytest.approx(effect)
        assert table.loc[(path, "mu"), "value"] == pytest.approx(effect)
        assert table.loc[(path, "sigma"), "value"] == pytest.approx(0.0, abs=1e-9)
        low, high = table.loc[(path, "mu_star"), ["ci_low", "ci_high"]]
        assert low == pytest.approx(effect) and high == pytest.approx(effect)
    # a step that leaves the headcount where it was (3 -> 3) is no elementary effect: n counts
    # the steps that moved it
    moved = table.loc[("resources.dev.headcount", "mu_star"), "n"]
    assert 0 < moved <= 20 and table.loc[("rate", "mu_star"), "n"] == 20


def test_morris_on_continuous_fields_is_salibs() -> None:
    from SALib.analyze.morris import analyze

    from pmo_sim.analysis.sensitivity import Factor, _problem, design, morris_indices

    factors = [Factor("a", 0.0, 2.0), Factor("b", 10.0, 50.0), Factor("c", -1.0, 1.0)]
    matrix = design("morris", factors, 12, seed=1)
    kpi = matrix[:, 0] ** 2 * matrix[:, 1] + np.sin(3 * matrix[:, 2]) * 40  # interactions, curvature
    table = morris_indices(factors, matrix, kpi, "npv", seed=1).set_index(["parameter", "statistic"])
    salib = analyze(_problem(factors), matrix, kpi, num_levels=4, num_resamples=1000, seed=1)
    for i, f in enumerate(factors):
        for s in ("mu_star", "mu", "sigma"):
            assert table.loc[(f.path, s), "value"] == pytest.approx(float(salib[s][i]), rel=1e-9)
        half = table.loc[(f.path, "mu_star"), "ci_high"] - table.loc[(f.path, "mu_star"), "value"]
        assert half == pytest.approx(float(salib["mu_star_conf"][i]), rel=0.25)  # t CI vs bootstrap: ~1.17x
    # ranked by mu*: b's range (40) times a's square dominates
    assert table.loc[("b", "mu_star"), "value"] > table.loc[("c", "mu_star"), "value"]
