"""Figures of a fitted distribution: the sample's histogram with the fitted densities, and a
QQ plot of the sample against the chosen family (SPEC 10.7, ``pmo-sim fit``).

One figure per fit, two panels. Left: the histogram (as a density) with the density of every
family fitted, the chosen one drawn solid and the others dashed, each labelled with its AIC
and KS p-value, so a reader sees why one was chosen. Right: sample quantiles against the
fitted family's quantiles at plotting positions (i - 0.5) / n; points on the diagonal mean a
good fit, a bend at the right means the tail is heavier (above) or lighter (below) than
fitted. An empirical fit is compared with the parametric family of lowest AIC, marked as
rejected; below the minimum number of rows there is no family to draw.

Like :mod:`pmo_sim.analysis.plots`, figures are pyplot-free (Agg canvas, no global state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from pmo_sim.analysis.fitting import Fit

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def fit_figure(sample: np.ndarray, fit: Fit, title: str, unit: str) -> Axes:
    """The two-panel figure of ``fit`` to ``sample``; returns the histogram's axes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10.0, 4.0), layout="constrained")
    hist_ax, qq_ax = figure.subplots(1, 2)
    histogram(sample, fit, hist_ax, unit)
    qq_plot(sample, fit, qq_ax)
    flags = f" [{'; '.join(fit.flags)}]" if fit.flags else ""
    figure.suptitle(f"{title} -> {fit.family}, n = {fit.n}{flags}", fontsize=10)
    return hist_ax


def histogram(sample: np.ndarray, fit: Fit, ax: Axes, unit: str) -> None:
    """The sample as a density histogram, with each fitted family's density over it."""
    x = np.asarray(sample, dtype=float)
    bins: Any = min(50, max(5, int(np.sqrt(len(x)))))
    if np.all(x == np.round(x)) and x.max() <= 100:  # whole days: one bar per day
        bins = np.arange(-0.5, x.max() + 1.0)
    ax.hist(x, bins=bins, density=True, color="#c8d6e5", edgecolor="white", label="history")
    grid = np.linspace(0.0, float(x.max()) * 1.05, 400)[1:]  # the gamma density may be infinite at 0
    for c in fit.candidates:
        chosen = c.family == fit.family
        label = f"{c.family}{' (chosen)' if chosen else ''}: AIC {c.aic:.1f}, KS p {c.ks_pvalue:.2f}"
        ax.plot(grid, c.frozen().pdf(grid), linestyle="-" if chosen else "--",
                linewidth=2.0 if chosen else 1.2, label=label)
    top = ax.get_ylim()[1]
    ax.set_ylim(0.0, top)  # keep an infinite density at 0 from stretching the axis
    ax.set_xlabel(unit)
    ax.set_ylabel("density")
    ax.set_title("histogram and fitted densities", fontsize=9)
    ax.legend(fontsize=7)


def qq_plot(sample: np.ndarray, fit: Fit, ax: Axes) -> None:
    """Sample quantiles against the chosen family's (or, if empirical, the best rejected one's)."""
    reference = next((c for c in fit.candidates if c.family == fit.family), None)
    rejected = reference is None
    if reference is None:
        reference = fit.best_parametric()
    if reference is None:
        ax.text(0.5, 0.5, "no parametric family fitted\n(" + "; ".join(fit.flags) + ")",
                ha="center", va="center", transform=ax.transAxes, fontsize=9)
        ax.set_axis_off()
        return
    y = np.sort(np.asarray(sample, dtype=float))
    positions = (np.arange(1, len(y) + 1) - 0.5) / len(y)
    q = reference.frozen().ppf(positions)
    ax.scatter(q, y, s=8, alpha=0.6)
    low, high = float(min(q.min(), y.min())), float(max(q.max(), y.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=0.8)
    ax.set_xlabel(f"{reference.family} quantiles")
    ax.set_ylabel("sample quantiles")
    note = " (best AIC, rejected by KS)" if rejected else ""
    ax.set_title(f"QQ plot against the {reference.family}{note}", fontsize=9)
