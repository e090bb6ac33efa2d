"""The efficient-frontier figure: a metric against the yearly budget, one curve per policy.

Drawn from a frontier table (:data:`pmo_sim.experiment.frontier.FRONTIER_COLUMNS`: budget,
policy, funding, metric, mean, ci_low, ci_high, n). Each funding policy is a line with
markers over its 95% confidence band; a policy that funds everything (``fund all``) does not
depend on the budget and is drawn dashed, without markers, as the ceiling the rules approach.
Both axes are labelled in the scenario's units through :mod:`pmo_sim.analysis.format`
(one scale suffix per axis: ``0.5M, 1M, 1.5M``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from pmo_sim.analysis.format import unit_label
from pmo_sim.analysis.metrics import metric_info
from pmo_sim.analysis.plots import legend, new_axes, readable_ticks

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
FUND_ALL = "fund all"


def frontier_figure(table: pd.DataFrame, currency: str = "EUR") -> Figure:
    """The frontier: mean metric against budget per year, per policy, with 95% CI bands."""
    from matplotlib import colormaps

    metric = str(table["metric"].iloc[0])
    info = metric_info(metric)
    ax = new_axes(8.5, 5.2)
    colours = colormaps["tab10"]
    for i, (policy, rows) in enumerate(table.groupby("policy", sort=False)):
        rows = rows.sort_values("budget")
        x = rows["budget"].to_numpy(dtype=float)
        mean = rows["mean"].to_numpy(dtype=float)
        rule = str(rows["funding"].iloc[0])
        reference = rule == FUND_ALL
        colour = "0.35" if reference else colours(i % colours.N)
        ax.plot(x, mean, color=colour, linestyle="--" if reference else "-", linewidth=1.8,
                marker=None if reference else _MARKERS[i % len(_MARKERS)], markersize=5,
                label=f"{policy} ({rule})")
        ax.fill_between(x, rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float),
                        color=colour, alpha=0.10 if reference else 0.18, linewidth=0)
    readable_ticks(ax.xaxis, "money")
    readable_ticks(ax.yaxis, info.unit)
    ax.set_xlabel(f"Budget per year ({unit_label('money', currency)})")
    unit = unit_label(info.unit, currency)
    ax.set_ylabel(f"{info.label}{f' ({unit})' if unit else ''}: mean and 95% CI")
    ax.set_title(f"{info.label} against the yearly budget")
    legend(ax, table["policy"].nunique(), title="policy (funding rule)", fontsize=8,
           title_fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    figure = ax.get_figure(root=True)
    assert figure is not None
    return figure
