"""Which policy is better? Paired comparisons and selection of the best, on common random numbers.

Replication r of every policy runs on the same random numbers (SPEC 4.2), so the honest unit
of comparison is the *paired difference* D_r = X_{policy,r} − X_{baseline,r}: the shared
noise (a burst of arrivals, a key leaver) cancels, and Var(D) = Var(X) + Var(Y) − 2 Cov(X, Y)
is usually far below that of independent samples.

:func:`compare`
    For each policy other than the baseline and each metric, the paired-t interval
    D̄ ± t_{(1+c)/2, n−1} s_D/√n over the replications both policies have (inner join on
    ``replication``; NaNs dropped pairwise) and the two-sided paired t-test p-value
    (``scipy.stats.ttest_rel``'s to about 1e-11 relative, without importing scipy).
    Degenerate differences with zero variance get p = 1 when they are all zero (identical
    policies) and p = 0 when they are a nonzero constant. With k policies compared to the
    baseline on a metric, p-values are Bonferroni-adjusted within that metric,
    p_adj = min(1, k·p), which keeps the family-wise error rate at most 1 − confidence.
    ``better`` reads the metric's sense (:mod:`pmo_sim.analysis.metrics`): True when
    significantly better (p_adj < 1 − confidence), False when significantly worse, None
    when not significant or neutral. The intervals are per-comparison (not
    Bonferroni-widened) intervals at ``confidence``.

:func:`select_best`
    The best policy on one metric, with a probability of correct selection of at least
    1 − α: Kim & Nelson's fully sequential procedure KN (indifference zone δ) and a Bonferroni
    screen of the paired differences (no indifference zone), each at α/2
    (:mod:`pmo_sim.analysis.kn`). Each keeps the best with probability ≥ 1 − α/2 (KN: or a
    policy within δ of it), so what both keep holds it with probability ≥ 1 − α: KN's last
    policy when it stops, else the one policy neither rules out. Otherwise the answer is "not
    confident" and says how many replications KN may need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from pmo_sim.analysis.format import plain_number
from pmo_sim.analysis.kn import (  # noqa: F401  (KN's names, importable from here as before)
    _DELTA_RANGE,
    KNState,
    _kn_matrix,
    check_delta,
    default_delta,
    default_n0,
    kn_constants,
    kn_state,
    screen,
)
from pmo_sim.analysis.metrics import metric_info
from pmo_sim.analysis.stats import (
    check_confidence,
    check_frame,
    metric_tables,
    policies_of,
    resolve_metrics,
    t_quantile,
)
from pmo_sim.errors import unknown_policy

# NOTE: the t distribution's tail from pmo_sim.intervals, not scipy (scipy.special alone adds
# ~20 MB and ~0.2 s of imports to every process that prints a verdict).
from pmo_sim.intervals import t_two_sided_p

COMPARE_COLUMNS = (
    "policy", "metric", "diff_mean", "ci_low", "ci_high", "p_value", "p_adjusted", "better",
    "baseline", "n", "diff_sd",
)
#: Relative tolerance under which a standard deviation counts as zero (floating-point noise).
_ZERO_SD_RTOL = 1e-12


def _check_policy(name: str, policies: Sequence[str], what: str = "baseline") -> None:
    if name not in policies:
        raise unknown_policy([name], policies, "policies in these results", what)


# --------------------------------------------------------------------------- compare


def compare(
    replications: pd.DataFrame,
    baseline: str,
    metrics: Sequence[str] | str = ("npv",),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Paired differences of every policy against ``baseline``, with CIs and adjusted p-values.

    Returns one row per (metric, policy ≠ baseline), metric-major, with the columns
    ``policy, metric, diff_mean, ci_low, ci_high, p_value, p_adjusted, better, baseline, n,
    diff_sd`` (the first eight are those of SPEC 6.1). ``n`` is the number of replications
    where both policies have the metric. Rows with n < 2 have NaN intervals and p-values.
    """
    alpha = 1.0 - check_confidence(confidence)
    check_frame(replications, rows=True)
    policies = policies_of(replications)
    _check_policy(baseline, policies)
    names = resolve_metrics(replications, metrics)
    others = [p for p in policies if p != baseline]
    with np.errstate(over="ignore", invalid="ignore"):  # as intervals.summary_columns
        wides = metric_tables(replications, names)
        frames = [_compare_one(wides[m], baseline, others, m, confidence, alpha) for m in names]
    if not frames or not others:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COMPARE_COLUMNS})
    return pd.concat(frames, ignore_index=True)


def _compare_one(
    wide: pd.DataFrame, baseline: str, others: list[str], metric: str, confidence: float,
    alpha: float,
) -> pd.DataFrame:
    base = wide[baseline]
    diffs = wide[others].sub(base, axis=0)          # NaN where either side is missing
    n = diffs.count().to_numpy(dtype=float)
    mean = diffs.mean().to_numpy(dtype=float)
    sd = diffs.std(ddof=1).to_numpy(dtype=float)
    sd = np.where(n >= 2, sd, np.nan)
    # Scale of the data, to tell a true zero variance from rounding noise.
    scale = np.maximum(wide[others].abs().max().to_numpy(dtype=float),
                       np.nan_to_num(base.abs().max()))
    tol = _ZERO_SD_RTOL * np.nan_to_num(scale)
    degenerate = (n >= 2) & (sd <= tol)

    with np.errstate(divide="ignore", invalid="ignore"):
        se = sd / np.sqrt(n)
        t_stat = mean / se
        p = t_two_sided_p(t_stat, n - 1.0)  # P(|T| >= |t|)
    p = np.where(degenerate, np.where(np.abs(mean) <= tol, 1.0, 0.0), p)
    p = np.where(n >= 2, p, np.nan)
    sd = np.where(degenerate, 0.0, sd)
    hw = np.where(degenerate, 0.0, t_quantile(confidence, n) * se)

    k = int(np.isfinite(p).sum())
    p_adj = np.minimum(1.0, p * k)

    direction = {"higher": 1.0, "lower": -1.0}.get(metric_info(metric).sense, 0.0)
    better: list[bool | None] = []
    for pa, d in zip(p_adj, mean, strict=True):
        if direction == 0.0 or not np.isfinite(pa) or pa >= alpha or d == 0.0:
            better.append(None)
        else:
            better.append(bool(d * direction > 0))
    return pd.DataFrame({
        "policy": others, "metric": metric, "diff_mean": mean, "ci_low": mean - hw,
        "ci_high": mean + hw, "p_value": p, "p_adjusted": p_adj,
        "better": pd.Series(better, dtype=object), "baseline": baseline,
        "n": n.astype(np.int64), "diff_sd": sd,
    }, columns=list(COMPARE_COLUMNS))


# --------------------------------------------------------------------------- the best policy


@dataclass
class Selection:
    """The outcome of :func:`select_best`."""

    metric: str
    policy: str | None
    method: str
    confident: bool
    delta: float
    alpha: float
    survivors: list[str]
    n_used: int
    message: str
    n0: int = 0
    #: Replications where every policy has the metric (KN read at most these).
    available: int = 0
    #: When not confident: KN stops by this many replications at the latest.
    max_stages: int = 0
    #: Policies without a value of the metric in any replication (more will not give one).
    valueless: tuple[str, ...] = ()
    #: Decided with the Bonferroni screen: it ruled out every policy KN had not.
    screened: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The ``best`` object of ``compare --format json`` (SPEC 6.1)."""
        return {"metric": self.metric, "policy": self.policy, "method": self.method,
                "confident": self.confident}


def _names(items: Sequence[str]) -> str:
    quoted = [f"'{s}'" for s in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def select_best(
    replications: pd.DataFrame,
    metric: str,
    delta: float | None = None,
    alpha: float = 0.05,
    n0: int | None = None,
) -> Selection:
    """Select the best policy on ``metric``: the one Kim & Nelson's KN procedure leaves, or,
    when KN has not stopped, the one policy that neither KN nor a Bonferroni screen rules out
    (each at ``alpha`` / 2; see the module docstring).

    Parameters
    ----------
    delta:
        Indifference zone, in the metric's unit: the smallest difference worth detecting.
        Default: :func:`default_delta` (1% of |mean of the best-looking policy|).
    alpha:
        1 − the probability of correct selection: guaranteed when the best leads by ≥ δ,
        and whatever the gaps when the screen decides.
    n0:
        First-stage size (replications used to estimate the paired variances). Default:
        :func:`default_n0` of the number of replications where every policy has the metric
        (10% of them, at least 10, at most all of them).
    """
    check_confidence(alpha, "alpha")
    wide, sign = _kn_matrix(replications, metric)
    info = metric_info(metric)
    policies = list(wide.columns)
    complete = int(wide.notna().all(axis=1).sum())
    if delta is None:  # from the data: kept where KN can divide by its square
        delta = min(max(default_delta(replications, metric), _DELTA_RANGE[0]), _DELTA_RANGE[1])
    else:
        check_delta(delta)
    method = f"Kim-Nelson (KN) and a Bonferroni screen, δ={plain_number(delta)}, α={alpha:g}"

    def result(policy: str | None, confident: bool, survivors: list[str], n_used: int,
               message: str, first: int = 0, max_stages: int = 0) -> Selection:
        return Selection(metric, policy, method, confident, float(delta), float(alpha),
                         survivors, n_used, message, first, complete, max_stages)

    if len(policies) == 1:
        return result(policies[0], True, policies, complete,
                      f"only one policy ('{policies[0]}'): nothing to compare")
    if n0 is None:
        n0 = default_n0(complete)
    valueless = [p for p in policies if not wide[p].notna().any()]
    if valueless and len(wide):
        # more replications would not help: a KPI a run may leave NaN has none here (an edited
        # table's NaN in a KPI that always has a number is refused when it is read)
        why = f" ({info.nan_when} in any of them)" if info.nan_when else ""
        return replace(result(
            None, False, policies, 0, f"no replication of {_names(valueless)} has a value of "
            f"{metric}{why}: more replications would not change that; compare on another "
            f"metric", n0), valueless=tuple(valueless))
    if complete < max(2, n0):
        means = wide[wide.notna().all(axis=1)].mean()
        best = str(means.idxmax()) if means.notna().any() else None
        return result(best, False, policies, complete,
                      f"KN needs at least {max(2, n0)} replications where every policy has "
                      f"{metric}; these results have {complete}: run more replications", n0)

    # Each procedure at α/2: whichever decides is right with probability >= 1 − α (Bonferroni).
    state = kn_state(replications, metric, delta=delta, n0=n0, alpha=alpha / 2)
    where = f"{info.label} ({info.sense_text})"
    if state.terminated:
        best = state.survivors[0]
        return result(best, True, state.survivors, state.stages,
                      f"'{best}' is the best policy on {where}: KN stopped after "
                      f"{state.stages} of {state.available} replications (n0={n0}), and picks the "
                      f"best with probability >= {1 - alpha:.0%} whenever it leads by at least "
                      f"δ={plain_number(delta)}", n0, state.max_stages)
    best = max(state.survivors, key=lambda p: state.means[p] * sign)
    # Both keep the best with probability >= 1 − α/2 (KN: or one within δ of it), so what
    # both keep holds it with probability >= 1 − α: when that is one policy, it is the best.
    rows = wide[wide.notna().all(axis=1)].to_numpy(dtype=float)
    kept = {p for p, k in zip(policies, screen(rows, alpha / 2), strict=True) if k}
    both = [p for p in state.survivors if p in kept]
    if len(both) == 1:
        return replace(result(
            both[0], True, both, complete,
            f"'{both[0]}' is the best policy on {where}: every other policy is ruled out, by KN "
            f"(δ={plain_number(delta)}) or by a Bonferroni screen of its paired difference over "
            f"{complete} replications (significantly behind), so it is the best, or within δ of "
            f"it, with probability >= {1 - alpha:.0%}", n0, state.max_stages), screened=True)
    same = [policies.index(p) for p in both]
    if len(same) > 1 and (rows[:, same] == rows[:, same[:1]]).all():
        # zero paired variance: KN's continuation region is closed and equal means never part
        return result(both[0], False, both, complete,
                      f"the data cannot separate {_names(both)} on {where}: they are identical in "
                      f"every one of the {complete} replications, so there is no difference to "
                      "select on, and more replications would not change that", n0,
                      state.max_stages)
    return result(best, False, state.survivors, state.stages,
                  f"the data cannot separate {_names(state.survivors)} on {where} within "
                  f"δ={plain_number(delta)}: run more replications (KN needs more than "
                  f"n={state.stages}, at most {state.max_stages} with n0={n0}); '{best}' has the "
                  "best mean so far", n0, state.max_stages)


# --------------------------------------------------------------------------- verdict


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{x:+,.0f}" if abs(x) >= 1000 else f"{x:+.3g}"


def verdict_text(compare_df: pd.DataFrame, selection: Selection | None = None) -> str:
    """A short human verdict: what differs significantly from the baseline, and the best."""
    sentences: list[str] = []
    if len(compare_df):
        baseline = str(compare_df["baseline"].iloc[0]) if "baseline" in compare_df else "baseline"
        for metric, rows in compare_df.groupby("metric", sort=False):
            info = metric_info(str(metric))
            parts = []
            groups: dict[object, list[str]] = {True: [], False: [], None: []}
            for row in rows.to_dict("records"):
                flag = row["better"]
                b = None if pd.isna(flag) else bool(flag)
                groups[b].append(f"'{row['policy']}' ({_fmt(float(row['diff_mean']))}, CI "
                                 f"{_fmt(float(row['ci_low']))} to {_fmt(float(row['ci_high']))})")
            if groups[True]:
                parts.append(f"better: {'; '.join(groups[True])}")
            if groups[False]:
                parts.append(f"worse: {'; '.join(groups[False])}")
            if groups[None]:
                label = "no significant difference" if info.sense != "neutral" else "differences"
                parts.append(f"{label}: {'; '.join(groups[None])}")
            sentences.append(f"{info.label} ({info.sense_text}) vs '{baseline}' - {' | '.join(parts)}.")
        sentences.append("Differences are paired on common random numbers; significance uses "
                         "Bonferroni-adjusted p-values.")
    if selection is not None:
        msg = selection.message
        sentences.append(("Best: " if selection.confident else "No confident winner: ")
                         + msg[0].upper() + msg[1:] + ".")
    return "\n".join(sentences)
