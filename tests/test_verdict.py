"""The plain-words verdict and the number formatting shared by terminal, report and JSON.

Verdicts are checked on small hand-built replications tables with common random numbers (a
shared world effect per replication plus a policy effect), where the right answer is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.verdict import Verdict, executive_summary, plain_verdict


def table(effects: dict[str, float], n: int = 60, noise: float = 0.001, seed: int = 1,
          metric: str = "npv") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    world = rng.normal(0.0, 10.0 * noise, n)
    rows = [{"policy": p, "replication": r, metric: world[r] + effect + rng.normal(0, noise)}
            for p, effect in effects.items() for r in range(n)]
    return pd.DataFrame(rows)


def test_a_clear_winner_is_best_with_its_gain_and_interval() -> None:
    df = table({"base": 1000.0, "good": 1500.0, "meh": 1100.0})
    v = plain_verdict(df, "npv", currency="EUR")
    assert v.best == "good" and v.headline == "Best on NPV: good"
    assert v.text.startswith("good adds EUR 500 NPV (95% CI 500–500)")
    assert v.text.endswith("over base.") and not v.tied and not v.warnings


def test_a_lead_below_the_indifference_zone_is_a_tie_never_best() -> None:
    df = table({"base": 1000.0, "a": 1500.0, "b": 1490.0})
    v = plain_verdict(df, "npv", delta=50.0, currency="EUR")
    assert v.best is None and v.tied
    assert "Best" not in v.headline and "practically tied" in v.headline
    other = ({"a", "b"} - {v.leader}).pop()
    assert f"practically tied with {other} (gap EUR " in v.text
    assert "within the EUR 50 that matters either way)" in v.text
    # The same data with an indifference zone below the gap: a winner.
    assert plain_verdict(df, "npv", delta=2.0, currency="EUR").best == "a"


def test_every_policy_losing_money_is_warned_and_not_called_best() -> None:
    df = table({"base": -3000.0, "less_bad": -1000.0})
    v = plain_verdict(df, "npv", currency="EUR")
    assert v.warnings and "every policy loses money" in v.warnings[0]
    assert "less_bad" in v.warnings[0] and not v.headline.startswith("Best")
    assert "least loss" in v.headline


def test_lower_is_better_reads_as_a_cut() -> None:
    df = table({"base": 100.0, "fast": 80.0}, metric="mean_cycle_time")
    v = plain_verdict(df, "mean_cycle_time")
    assert v.text.startswith("fast cuts mean cycle time by 20 d (95% CI ")


def test_the_baseline_can_be_the_best() -> None:
    df = table({"base": 1500.0, "worse": 1000.0})
    v = plain_verdict(df, "npv", currency="EUR")
    assert v.best == "base"
    assert v.text.startswith("base (the baseline) has the best NPV: no other policy beats it")


def test_executive_summary_is_three_sentences() -> None:
    df = table({"base": 1000.0, "good": 1500.0})
    df["on_time_rate"] = np.where(df["policy"] == "good", 0.8, 0.6)
    v = plain_verdict(df, "npv", currency="EUR")
    sentences = executive_summary(df, v, ["npv", "on_time_rate"], "EUR")
    assert len(sentences) == 3
    assert sentences[0].startswith("good has the best NPV, EUR 1.5")
    assert sentences[1].startswith("Against base it gives EUR 500 more NPV (95% CI 500–500)")
    assert "20.0 pp higher on-time rate" in sentences[1]
    assert sentences[2].startswith("Risk: in one simulated future in ten its NPV is below EUR ")
    assert "beats base in 100% of them" in sentences[2]


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize("value, unit, text", [
    (4_687_000, "money", "EUR 4.69M"), (476_000, "money", "EUR 476k"), (950, "money", "EUR 950"),
    (-41_100, "money", "EUR -41.1k"), (999_700, "money", "EUR 1M"), (0.667, "rate", "66.7%"),
    (85.5, "days", "85.5 d"), (49.1, "count", "49.1"), (1082.4, "pct", "1,082%"),
    (11.82, "ratio", "11.82"), (float("nan"), "money", "–"),
])
def test_values_in_their_unit(value: float, unit: str, text: str) -> None:
    assert fmt.value(value, unit, "EUR") == text


def test_differences_and_p_values() -> None:
    assert fmt.rate(0.0655, signed=True) == "+6.6 pp"   # rounds half to even: 6.55 -> 6.6
    assert fmt.money(229_148, "EUR", signed=True) == "EUR +229k"
    assert fmt.p_value(1.31e-200) == "< 0.0001" and fmt.p_value(0.00021) == "0.0002"
    assert fmt.p_value(0.872) == "0.872" and fmt.p_value(float("nan")) == "–"
    assert fmt.value_range(350_000, 602_000, "money", "EUR") == "EUR 350k–602k"
    assert fmt.value_range(-10_000, 50_000, "money", "EUR") == "EUR -10k to 50k"


@pytest.mark.parametrize("ticks, unit, labels", [
    ([0.0, 0.001, 0.002, 0.003], "rate", ["0", "0.1%", "0.2%", "0.3%"]),
    ([0, 250_000, 500_000, 750_000, 1_000_000], "money", ["0", "0.25M", "0.50M", "0.75M", "1.00M"]),
    ([4e6, 4.5e6, 5e6], "money", ["4.0M", "4.5M", "5.0M"]),
    ([-16, -8, 0], "days", ["-16", "-8", "0"]),
    # an edited table's -1e300 written out in full was 400 digits wide
    ([-1e300, -5e299, 0.0], "rate", ["-1e+302%", "-5e+301%", "0"]),
    ([1.25e21, 1.5e21], "money", ["1.25e+12B", "1.5e+12B"]),
])
def test_tick_labels(ticks: list[float], unit: str, labels: list[str]) -> None:
    assert fmt.tick_labels(ticks, unit) == labels


@given(st.floats(-1e9, 1e9, allow_nan=False), st.floats(1e-6, 1e8),
       st.sampled_from(["money", "rate", "days", "count"]))
def test_ticks_are_distinct_and_never_scientific(start: float, step: float, unit: str) -> None:
    ticks = [start + i * step for i in range(5)]
    if len({round(t, 9) for t in ticks}) < 5:
        return   # not representable as distinct floats
    labels = fmt.tick_labels(ticks, unit)
    assert all("e+" not in s and "e-" not in s for s in labels)
    if step / max(1.0, max(abs(t) for t in ticks)) > 1e-5:
        assert len(set(labels)) == 5, (ticks, labels)


def test_a_small_mean_gap_with_a_wide_interval_is_close_not_tied() -> None:
    """'Practically tied' needs the gap's 95% CI inside ±δ (an equivalence test), not its mean
    below δ. b trails a by exactly 20 on average, δ = 30, the paired gap alternating 20 ± 60
    over 100 replications: sd 60.3, 95% CI 20 ± 1.984 x 6.03 = (8.0, 32.0), past δ, so b is
    not tied: KN picks a (best), and b is named close with what KN guarantees. Halve the swing and the
    interval (14.0, 26.0) is inside ±30: tied. From one replication (no interval) nothing is
    tied, however large δ."""
    n = 100
    world = np.linspace(0.0, 1000.0, n)
    swing = np.where(np.arange(n) % 2 == 0, 60.0, -60.0)

    def verdict(swing: np.ndarray, rows: int = n, delta: float = 30.0) -> Verdict:
        df = pd.DataFrame([{"policy": p, "replication": r, "npv": x[r]}
                           for p, x in (("base", world), ("a", world + 500.0),
                                        ("b", world + 480.0 + swing)) for r in range(rows)])
        return plain_verdict(df, "npv", delta=delta, currency="EUR")

    wide = verdict(swing)
    assert wide.leader == "a" and not wide.tied
    assert wide.confident and wide.best == "a"  # KN picks a: the guarantee is said, b named
    assert ("b (gap EUR 20, 95% CI 8.03–32) is close: a is the best, or less than the EUR 30 "
            "that matters behind it, with probability at least 95%") in wide.text
    narrow = verdict(swing / 2)
    assert narrow.tied == ["b"] and narrow.best is None
    assert "practically tied with b (gap EUR 20, 95% CI 14" in narrow.text
    assert not verdict(swing, rows=1, delta=1e9).tied
