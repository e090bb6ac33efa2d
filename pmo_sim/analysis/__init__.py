"""Analysis of Monte Carlo results: pure functions on pandas DataFrames (no SimPy here).

- :mod:`~pmo_sim.analysis.metrics`: what each KPI means (sense, label, unit).
- :mod:`~pmo_sim.analysis.stats`: per-policy summaries with t intervals, and half-widths for
  precision-driven runs.
- :mod:`~pmo_sim.analysis.compare`: paired comparisons against a baseline on common random
  numbers (Bonferroni-adjusted), and Kim & Nelson's KN selection of the best policy.
"""

from pmo_sim.analysis.compare import (
    KNState,
    Selection,
    compare,
    default_delta,
    default_n0,
    kn_state,
    select_best,
    verdict_text,
)
from pmo_sim.analysis.metrics import HEADLINE_METRICS, METRICS, MetricInfo, metric_info, sense
from pmo_sim.analysis.stats import (
    half_width,
    paired_half_width,
    precision_reached,
    relative_half_width,
    relative_half_widths,
    summary,
)

__all__ = [
    "HEADLINE_METRICS",
    "METRICS",
    "KNState",
    "MetricInfo",
    "Selection",
    "compare",
    "default_delta",
    "default_n0",
    "half_width",
    "kn_state",
    "metric_info",
    "paired_half_width",
    "precision_reached",
    "relative_half_width",
    "relative_half_widths",
    "select_best",
    "sense",
    "summary",
    "verdict_text",
]
