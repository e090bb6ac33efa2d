"""The answer in plain words: which policy to choose, by how much, and how sure we are.

A decision maker needs a sentence, not a test statistic: "focused_controlled adds EUR 476k NPV
(95% CI 350k–602k) over baseline; controlled (gap EUR 41.1k, 95% CI -26.6k to 109k) is close:
focused_controlled is the best, or less than the EUR 51.6k that matters behind it, with
probability at least 95%". :func:`plain_verdict` writes it from the same statistics the
tables show:

- the **leader** is the pick of :func:`~pmo_sim.analysis.compare.select_best` on the decision
  metric: the policy Kim & Nelson's KN keeps, or the one policy that neither KN nor a
  Bonferroni screen of the paired differences rules out, or the best mean among those they
  cannot yet separate;
- its **gain** is the paired difference to the baseline with its 95% CI
  (:func:`~pmo_sim.analysis.compare.compare`); it is said to be significant when the
  comparison table says so (its Bonferroni-adjusted p-value), so a gain whose 95% interval
  excludes zero may still be not significant once adjusted for the policies compared;
- a policy is **practically tied** with the leader when the 95% CI of their paired gap lies
  within ±δ, the indifference zone: the smallest difference that matters (by default 1% of
  the best mean). KN's guarantee is about δ: it picks the best with probability ≥ 1 − α *when
  the best leads by at least δ*; below δ either choice is as good. So "Best" is said only when
  the selection is confident (KN stopped, or with the screen one policy is left) *and* no
  other policy is shown to be within δ of the leader. A gap whose mean is below δ but whose
  interval reaches past it is not a tie: the policy stays "in contention" while the selection
  keeps it (run more replications);
- a **warning** is added when every policy's mean NPV is negative (every policy loses money).

The technical detail (KN, δ, n0, α) goes to :attr:`Verdict.method`, which the command line
prints under ``--verbose`` and the report in its method section.

:func:`executive_summary` turns a verdict into the three sentences that open the report: what
wins, by how much, with what risk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.analysis import format as fmt
from pmo_sim.analysis.compare import Selection, compare, select_best
from pmo_sim.analysis.metrics import MetricInfo, metric_info
from pmo_sim.analysis.stats import available_metrics, policies_of, resolve_metrics
from pmo_sim.errors import UsageError

#: A row of a comparison table (``DataFrame.to_dict("records")``).
Row = Mapping[Any, Any]


@dataclass
class Verdict:
    """The plain-words answer on one metric (see the module docstring)."""

    metric: str
    baseline: str
    leader: str | None
    #: The recommended policy: set only when KN stopped and no other policy is within δ.
    best: str | None
    confident: bool
    headline: str
    text: str
    method: str
    delta: float
    tied: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    selection: Selection | None = None

    def as_dict(self) -> dict[str, Any]:
        """What the JSON documents carry besides SPEC 6.1's keys."""
        return {"headline": self.headline, "text": self.text, "best": self.best,
                "leader": self.leader, "tied_with": list(self.tied), "delta": self.delta,
                "warnings": list(self.warnings), "method": self.method}


def _amount(x: float, info: MetricInfo, currency: str) -> str:
    """A magnitude in the metric's unit, rates in percentage points (``EUR 476k``, ``11.3 pp``)."""
    if info.unit == "rate":
        return fmt.rate(abs(x), signed=True).lstrip("+")
    return fmt.value(abs(x), info.unit, currency)


def _within(row: Row, delta: float) -> bool:
    """Is the paired gap's 95% CI inside (-δ, δ)? An equivalence test (two one-sided tests
    at 2.5%): "practically tied" is said only when the data show the gap is below what matters,
    not when its mean happens to be (from 5 replications a policy 3δ behind had a mean gap
    below δ in one verdict in six; from one replication, every time its gap was small)."""
    lo, hi = float(row["ci_low"]), float(row["ci_high"])
    return -delta < lo and hi < delta  # (NaN, from one replication: never)


def _ci(row: Row, info: MetricInfo, currency: str, sign: float = 1.0) -> str:
    lo, hi = sorted((sign * float(row["ci_low"]), sign * float(row["ci_high"])))
    unit = info.unit
    if unit == "rate":
        return fmt.value_range(lo * 100, hi * 100, "count") + " pp"
    return fmt.value_range(lo, hi, unit, "" if unit == "money" else currency)


def _noun(info: MetricInfo) -> str:
    """The label inside a sentence: ``on-time rate``, but ``NPV``."""
    word = info.label.split(" ")[0]
    return info.label if word.isupper() else info.label[0].lower() + info.label[1:]


def _gain_phrase(info: MetricInfo, amount: str) -> str:
    """``adds EUR 476k NPV``, ``raises the on-time rate by 11.3 pp``, ``cuts ... by 8 d``."""
    if info.sense == "lower":
        return f"cuts {_noun(info)} by {amount}"
    if info.unit == "money":
        return f"adds {amount} {_noun(info)}"
    return f"raises {_noun(info)} by {amount}"


def _more_or_less(info: MetricInfo, diff: float) -> str:
    up = diff > 0
    if info.unit == "rate":
        return "higher" if up else "lower"
    if info.unit in ("days", "person-days"):
        return "longer" if up else "shorter"
    if info.unit == "count":
        return "more" if up else "fewer"
    return "more" if up else "less"


def money_loss_warning(replications: pd.DataFrame, currency: str = "") -> str | None:
    """A warning when every policy's mean NPV is negative, else None."""
    if replications.empty or "npv" not in available_metrics(replications):  # (text: no mean)
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # an edited table: inf or nan means
        means = replications.groupby(replications["policy"].astype(str), sort=False)["npv"].mean()
    if means.notna().all() and (means < 0).all():
        top = str(means.idxmax())
        return (f"every policy loses money: mean NPV is negative under all of them (the least "
                f"bad, {top}, has {fmt.money(means[top], currency)})")
    return None


def plain_verdict(replications: pd.DataFrame, metric: str = "npv", baseline: str | None = None,
                  delta: float | None = None, alpha: float = 0.05, currency: str = "") -> Verdict:
    """The plain-words verdict on ``metric`` for the policies of ``replications``.

    ``baseline`` defaults to the first policy; ``delta`` (the indifference zone, in the
    metric's unit) to :func:`~pmo_sim.analysis.compare.default_delta`. Raises
    :class:`UsageError` for a neutral metric (nothing is "better" on it).
    """
    for name, value, what in (("metric", metric, "a KPI name (text)"), ("currency", currency, "text")):
        if not isinstance(value, str):  # ["npv"]: "unhashable type: 'list'"; ["EUR"] printed
            raise TypeError(f"{name} must be {what}, not {type(value).__name__} ({value!r})")
    resolve_metrics(replications, metric)  # a column of text: pandas' "agg function failed"
    policies = policies_of(replications)
    base = baseline if baseline is not None else (policies[0] if policies else "")
    info = metric_info(metric)
    warning = money_loss_warning(replications, currency)
    warnings = [warning] if warning else []
    if len(policies) < 2:
        only = policies[0] if policies else None
        return Verdict(metric, base, only, only, True, f"One policy: {only}",
                       "Only one policy was run: there is nothing to compare it with.", "", 0.0,
                       warnings=warnings)
    sel = select_best(replications, metric, delta=delta, alpha=alpha)
    leader = sel.policy
    if leader is None:  # no replication where every policy has the metric
        return Verdict(metric, base, None, None, False,
                       f"No answer on {info.label}" + ("" if sel.valueless else " yet"),
                       sel.message[0].upper() + sel.message[1:] + ".", _method(sel, currency),
                       sel.delta, warnings=warnings, selection=sel)
    gaps = compare(replications, leader, [metric])
    gap_rows: dict[str, Row] = {str(r["policy"]): r for r in gaps.to_dict("records")}
    tied = [p for p, r in gap_rows.items() if _within(r, sel.delta)]
    unresolved = [p for p in sel.survivors if p != leader and p not in tied]
    sentences = [_lead_sentence(replications, leader, base, metric, info, currency, gap_rows,
                                bool(tied))]
    behind = -1.0 if info.sense != "lower" else 1.0  # intervals of the leader's lead
    if tied:
        gaps_text = [f"{p} (gap {_amount(float(gap_rows[p]['diff_mean']), info, currency)}, 95% CI "
                     f"{_ci(gap_rows[p], info, currency, behind)}" for p in tied]
        limit = f"within the {_amount(sel.delta, info, currency)} that matters either way"
        sentences.append(f"it is practically tied with {gaps_text[0]}, {limit})" if len(tied) == 1
                         else f"it is practically tied with {_join([g + ')' for g in gaps_text])}, "
                              f"each {limit}")
    close = [p for p in gap_rows if p not in tied and abs(float(gap_rows[p]["diff_mean"])) < sel.delta]
    if close and sel.confident:
        # KN (or the screen) has picked the leader, but a policy's mean gap is below δ without
        # the data showing it is: the guarantee is "the best, or within δ of it", said so.
        items = [f"{p} (gap {_amount(float(gap_rows[p]['diff_mean']), info, currency)}, 95% CI "
                 f"{_ci(gap_rows[p], info, currency, behind)})" for p in close]
        sentences.append(f"{_join(items)} {'is' if len(close) == 1 else 'are'} close: {leader} is "
                         f"the best, or less than the {_amount(sel.delta, info, currency)} that "
                         f"matters behind it, with probability at least {1 - sel.alpha:.0%}")
    if unresolved and not sel.confident:
        items = [f"{p} (gap {_amount(float(gap_rows[p]['diff_mean']), info, currency)})"
                 for p in unresolved]
        more = f" (up to about {sel.max_stages:,})" if sel.max_stages else ""
        sentences.append(f"it is not yet confirmed as the best: the selection still keeps "
                         f"{_join(items)} in contention; run more replications{more}")
    best = leader if sel.confident and not tied else None
    if best is not None and warning and metric == "npv":
        # "Best" would oversell a policy that loses money: say what it is.
        headline = f"Every policy loses money; the least loss on NPV: {best}"
    elif best is not None:
        headline = f"Best on {_noun(info)}: {best}"
    elif tied:
        headline = f"No single winner on {_noun(info)}: {_join([leader, *tied])} are practically tied"
    else:
        headline = f"Not decided yet on {_noun(info)}: {leader} leads, but not clearly"
    text = "; ".join(sentences) + "."
    return Verdict(metric, base, leader, best, sel.confident, headline, text,
                   _method(sel, currency), sel.delta, tied, warnings, sel)


def _lead_sentence(replications: pd.DataFrame, leader: str, base: str, metric: str,
                   info: MetricInfo, currency: str, gap_rows: dict[str, Row],
                   tied: bool) -> str:
    if leader == base:
        text = f"{base} (the baseline) has the best {_noun(info)}: no other policy beats it"
        if tied or not gap_rows:
            return text
        runner = min(gap_rows, key=lambda p: abs(float(gap_rows[p]["diff_mean"])))
        row = gap_rows[runner]
        behind = -1.0 if info.sense != "lower" else 1.0
        return (f"{text}; the closest, {runner}, is {_amount(float(row['diff_mean']), info, currency)}"
                f" behind (95% CI {_ci(row, info, currency, behind)})")
    vs = compare(replications, base, [metric])
    row = vs[vs["policy"] == leader].to_dict("records")[0]
    diff = float(row["diff_mean"])
    sign = 1.0 if info.sense != "lower" else -1.0
    # Significance is the comparison table's: the Bonferroni-adjusted test over every policy
    # compared with the baseline (the leader is the best-looking of them, so its own 95%
    # interval alone would overstate it), never a contradiction of the table.
    if row["better"] is True:
        return (f"{leader} {_gain_phrase(info, _amount(diff, info, currency))} (95% CI "
                f"{_ci(row, info, currency, sign)}) over {base}")
    why = f"significant (95% CI {_ci(row, info, currency)})"
    if row["better"] is None and not float(row["ci_low"]) <= 0.0 <= float(row["ci_high"]):
        why = (f"significant once adjusted for the {len(vs)} policies compared with {base} "
               f"(95% CI {_ci(row, info, currency)} unadjusted; Bonferroni-adjusted p = "
               f"{float(row['p_adjusted']):.2g})")
    return (f"{leader} has the best mean {_noun(info)}, {_amount(diff, info, currency)} "
            f"{_more_or_less(info, diff)} than {base}, but the difference is not {why}")


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _method(sel: Selection, currency: str) -> str:
    info = metric_info(sel.metric)
    delta = _amount(sel.delta, info, currency)
    if sel.screened:
        state = (f"did not stop within the {sel.available:,} replications available (up to "
                 f"{sel.max_stages:,} with this δ), but a Bonferroni screen of the paired "
                 f"differences rules out every policy KN still kept but {sel.policy} "
                 "(significantly behind)")
    elif sel.confident:
        state = (f"stopped with one policy left after {sel.n_used:,} of {sel.available:,} "
                 f"replications")
    else:
        state = (f"did not stop within the {sel.available:,} replications available "
                 f"({', '.join(sel.survivors)} remain)")
    return (f"Kim-Nelson (KN) fully sequential selection on {info.label}: {state}; first stage "
            f"n0 = {sel.n0}, indifference zone δ = {delta}; KN and the screen at α/2 each, α = "
            f"{sel.alpha:g} (the policy picked is the best, or within δ of it, with probability "
            f"at least {1 - sel.alpha:.0%}). Differences to the baseline are paired on common "
            "random numbers, with Bonferroni-adjusted p-values.")


# --------------------------------------------------------------------------- report summary


def executive_summary(replications: pd.DataFrame, verdict: Verdict, metrics: Sequence[str],
                      currency: str = "") -> list[str]:
    """Three sentences: what wins, by how much, with what risk (plus any warning)."""
    leader, base = verdict.leader, verdict.baseline
    info = metric_info(verdict.metric)
    if leader is None:
        return [verdict.headline + ".", verdict.text]
    values = replications.loc[replications["policy"].astype(str) == leader, verdict.metric]
    values = values.astype(float).dropna()
    mean = fmt.value(values.mean(), info.unit, currency)
    first = f"{leader} has the best {_noun(info)}, {mean} on average"
    if verdict.tied:
        first += f", but it is practically tied with {_join(verdict.tied)}"
    elif not verdict.confident:
        first += ", but the data cannot yet separate it from every other policy"
    sentences = [first + "."]
    if leader == base or len(policies_of(replications)) < 2:
        sentences.append(verdict.text)
    else:
        sentences.append(_by_how_much(replications, leader, base, metrics, currency))
    sentences.append(_risk(replications, leader, base, verdict.metric, values, currency))
    return sentences + [f"Warning: {w}." for w in verdict.warnings]


def _by_how_much(replications: pd.DataFrame, leader: str, base: str, metrics: Sequence[str],
                 currency: str) -> str:
    table = compare(replications, base, list(metrics))
    parts: list[str] = []
    for row in table[table["policy"] == leader].to_dict("records"):
        info = metric_info(str(row["metric"]))
        if row["better"] is None or (isinstance(row["better"], float) and np.isnan(row["better"])):
            continue
        diff = float(row["diff_mean"])
        # The interval of the magnitude, in the direction the words say (more / less).
        ci = _ci(row, info, currency, 1.0 if diff >= 0 else -1.0)
        parts.append(f"{_amount(diff, info, currency)} {_more_or_less(info, diff)} {_noun(info)}"
                     + (f" (95% CI {ci})" if not parts else ""))
    if not parts:
        return f"Against {base}, no headline KPI differs significantly."
    return f"Against {base} it gives {_join(parts)}."


def _risk(replications: pd.DataFrame, leader: str, base: str, metric: str, values: pd.Series,
          currency: str) -> str:
    info = metric_info(metric)
    p10, p90 = (fmt.value(values.quantile(q), info.unit, currency) for q in (0.1, 0.9))
    low_word = "below" if info.sense != "lower" else "above"
    worst = p10 if info.sense != "lower" else p90
    text = (f"Risk: in one simulated future in ten its {_noun(info)} is {low_word} {worst} "
            f"(P10 {p10}, P90 {p90})")
    if leader != base:
        wide = replications.pivot_table(index="replication", columns="policy", values=metric)
        if leader in wide and base in wide:
            d = (wide[leader] - wide[base]).dropna()
            sign = 1.0 if info.sense != "lower" else -1.0
            if len(d):
                text += f", and it beats {base} in {float((d * sign > 0).mean()):.0%} of them"
    return text + "."


def require_directional(metric: str) -> None:
    """Refuse a neutral metric as the decision metric (nothing is better on it)."""
    info = metric_info(metric)
    if info.sense == "neutral":
        raise UsageError(f"metric {metric!r} is neutral (neither higher nor lower is better): "
                         "choose another metric to decide on")
