"""Figures of a sensitivity study (:mod:`pmo_sim.analysis.sensitivity`), one panel per policy.

- **tornado**: a horizontal bar per factor, the mean paired effect of moving it from low to
  high with its 95% CI as a whisker, largest |effect| on top; green where the move improves
  a KPI with a sense, red where it worsens it, grey for a neutral KPI.
- **morris**: the μ*–σ plane. Far right = influential; high up = non-linear or interacting
  (above the dashed σ = μ* line the factor's effect depends strongly on where the others
  are). Horizontal whiskers are μ*'s 95% t CI.
- **sobol**: S1 and ST side by side per factor with their bootstrap CIs; ST well above S1
  means interactions.

Like :mod:`pmo_sim.analysis.plots`, figures are pyplot-free :class:`~matplotlib.figure.Figure`
objects, so the command line never opens a window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pmo_sim.analysis.metrics import metric_info
from pmo_sim.analysis.plots import format_axis, unit_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_GOOD, _BAD, _NEUTRAL = "#2e8b57", "#c0392b", "#7f8c8d"


def sensitivity_figure(table: pd.DataFrame, currency: str = "EUR") -> Figure:
    """The figure of a study's table (``SENSITIVITY_COLUMNS``), by its ``method``."""
    from matplotlib.figure import Figure

    method = str(table["method"].iloc[0])
    policies = list(dict.fromkeys(table["policy"]))
    factors = table["parameter"].nunique()
    ncols = min(2, len(policies))
    nrows = -(-len(policies) // ncols)
    height = 1.2 + (0.45 * factors + 0.8 if method == "tornado" else 4.0)
    fig = Figure(figsize=(1.0 + 6.5 * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    draw = {"tornado": _tornado, "morris": _morris, "sobol": _sobol}[method]
    for ax, policy in zip(axes, policies, strict=False):
        draw(ax, table[table["policy"] == policy], currency)
        if len(policies) > 1:
            ax.set_title(f"policy {policy}")
    for ax in axes[len(policies):]:
        ax.set_visible(False)
    info = metric_info(str(table["metric"].iloc[0]))
    title = {"tornado": f"Tornado: change of {info.label} from each factor's low to high value",
             "morris": f"Morris screening of {info.label}",
             "sobol": f"Sobol indices of {info.label}"}[method]
    size = {"tornado": "paired replications", "morris": "elementary effects per factor, at most",
            "sobol": "base samples"}[method]
    fig.suptitle(f"{title} ({size}: {int(table['n'].max())}; 95% CIs)")
    return fig


def _stat(rows: pd.DataFrame, statistic: str) -> pd.DataFrame:
    return rows[rows["statistic"] == statistic].sort_values("rank", kind="stable")


def _whiskers(rows: pd.DataFrame) -> np.ndarray:
    value = rows["value"].to_numpy(dtype=float)
    return np.abs(np.vstack([value - rows["ci_low"].to_numpy(dtype=float),
                             rows["ci_high"].to_numpy(dtype=float) - value]))


def _range_text(row: pd.Series) -> str:
    return f"{row['parameter']}\n{row['low']:g} -> {row['high']:g}"


def _tornado(ax: Axes, rows: pd.DataFrame, currency: str) -> None:
    effects = _stat(rows, "effect")
    info = metric_info(str(rows["metric"].iloc[0]))
    value = effects["value"].to_numpy(dtype=float)
    sign = {"higher": 1.0, "lower": -1.0}.get(info.sense, 0.0)
    colours = [_NEUTRAL if sign == 0 or v == 0 else (_GOOD if v * sign > 0 else _BAD) for v in value]
    y = np.arange(len(effects))
    ax.barh(y, value, color=colours, xerr=_whiskers(effects), capsize=4, ecolor="black")
    ax.set_yticks(y, [_range_text(r) for _, r in effects.iterrows()], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0.0, color="black", linewidth=0.8)
    format_axis(ax.xaxis, info.unit, currency)
    ax.set_xlabel(f"mean paired effect on {info.label}{unit_text(info.unit, currency)}")
    ax.grid(axis="x", alpha=0.3)


def _morris(ax: Axes, rows: pd.DataFrame, currency: str) -> None:
    mu_star, sigma = _stat(rows, "mu_star"), _stat(rows, "sigma")
    info = metric_info(str(rows["metric"].iloc[0]))
    x = mu_star["value"].to_numpy(dtype=float)
    y = sigma.set_index("parameter").loc[mu_star["parameter"], "value"].to_numpy(dtype=float)
    ax.errorbar(x, y, xerr=_whiskers(mu_star), fmt="o", capsize=4)
    for px, py, name in zip(x, y, mu_star["parameter"], strict=True):
        ax.annotate(str(name), (px, py), xytext=(5, 5), textcoords="offset points", fontsize=8)
    top = float(np.nanmax(np.concatenate([x, y, [0.0]]))) or 1.0
    ax.plot([0, top * 1.1], [0, top * 1.1], linestyle="--", color="grey", linewidth=0.8, label="σ = μ*")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    format_axis(ax.xaxis, info.unit, currency)
    format_axis(ax.yaxis, info.unit, currency)
    unit = unit_text(info.unit, currency)
    ax.set_xlabel(f"μ*: mean |elementary effect| on {info.label} per full range{unit}")
    ax.set_ylabel(f"σ: sd of the elementary effects{unit}")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)


def _sobol(ax: Axes, rows: pd.DataFrame, currency: str) -> None:
    first, total = _stat(rows, "S1"), _stat(rows, "ST")
    total = total.set_index("parameter").loc[first["parameter"]].reset_index()
    x = np.arange(len(first))
    ax.bar(x - 0.2, first["value"].to_numpy(dtype=float), width=0.4, yerr=_whiskers(first), capsize=4,
           label="S1 (alone)", color="#4c72b0")
    ax.bar(x + 0.2, total["value"].to_numpy(dtype=float), width=0.4, yerr=_whiskers(total), capsize=4,
           label="ST (with interactions)", color="#dd8452")
    ax.set_xticks(x, [_range_text(r) for _, r in first.iterrows()], fontsize=8)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("share of the variance")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
