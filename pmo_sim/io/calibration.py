"""Calibration from history: fit a task history per skill and write a scenario fragment.

:func:`fit_history` fits, with :mod:`pmo_sim.analysis.fitting` choosing each family:

* per skill, the **actual effort** of its tasks (person-days);
* per skill, the **estimate error**: the ratio actual / estimate of its tasks;
* the **arrival gaps**: a project arrives on its earliest task start; arrivals are counted in
  working days, Monday to Friday (numpy's busday functions, no holidays), so gaps are whole
  days; the families are fitted to the continuous gaps behind them
  (:func:`~pmo_sim.analysis.fitting.fit_arrival_days`). With fewer than two projects, or all
  of them starting on one day, there is no gap to fit.

:func:`fragment_yaml` writes the fits as a scenario **fragment** in SPEC 3 parameters, numbers
rounded to 4 significant digits, every fit preceded by a comment (family, n, AIC and KS
p-value of each family, flags). It is made to be pasted into a scenario:

* ``intake: {arrivals: ...}``: the ``arrivals:`` of the scenario's ``intake`` (which keeps its
  own templates; an intake needs them);
* ``estimate_error: {SKILL: ...}``: a top-level section as it is. Each task of pool SKILL then
  takes its written effort (the team's estimate) times a draw of the historical ratio. Keys
  are the history's skills and must name the scenario's pools.
* a commented block of per-skill **effort** distributions: the value of a line is a task's
  ``effort:``, for tasks sized like the history. Do not combine it with ``estimate_error``
  for the same pool: actual efforts already contain the estimate error.

:func:`calibrate` does the whole command: read, fit, write the fragment and one figure per fit
(:mod:`pmo_sim.analysis.fit_plots`), refusing to overwrite any file without ``force``.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pmo_sim.analysis.fit_plots import fit_figure
from pmo_sim.analysis.fitting import Fit, fit_arrival_days, fit_effort
from pmo_sim.analysis.plots import save
from pmo_sim.errors import Problem, ScenarioError, UsageError, cannot_write, refuse_folder_for_file
from pmo_sim.files import (
    check_can_write_in,
    check_no_file_in_the_way,
    is_taken,
    refuse_input,
    refuse_results_file,
    same_name,
    write_atomically,
)
from pmo_sim.io.history import History, read_history

EFFORT, RATIO, ARRIVALS = "effort", "estimate error", "arrival gaps"
UNITS = {EFFORT: "actual effort (person-days)", RATIO: "actual / estimate",
         ARRIVALS: "days between project arrivals (working days, Mon-Fri)"}


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class SkillFit:
    """A skill's two fits, with the samples they were fitted to."""

    skill: str
    effort: Fit
    ratio: Fit
    efforts: np.ndarray
    ratios: np.ndarray


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class HistoryFit:
    """Everything fitted from one history."""

    source: str
    tasks: int
    projects: int
    first_arrival: str  # ISO dates
    last_arrival: str
    skills: tuple[SkillFit, ...]
    arrivals: Fit | None  # None without a gap: fewer than two projects, or all on one day
    gaps: np.ndarray

    def fits(self) -> list[tuple[str, str, Fit, np.ndarray]]:
        """Every fit as (skill, quantity, fit, sample); the arrivals' skill is empty."""
        out = [(s.skill, q, f, x) for s in self.skills
               for q, f, x in ((EFFORT, s.effort, s.efforts), (RATIO, s.ratio, s.ratios))]
        if self.arrivals is not None:
            out.append(("", ARRIVALS, self.arrivals, self.gaps))
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One plain row per fit (for tables and JSON); NaN where a value does not apply."""
        return [{"skill": skill, "quantity": quantity, "family": fit.family, "mean": fit.mean,
                 "sd": fit.sd, "n": fit.n, "aic": fit.aic, "ks_pvalue": fit.ks_pvalue,
                 "flags": list(fit.flags), "distribution": _rounded(fit.as_distribution())}
                for skill, quantity, fit, _ in self.fits()]


def fit_history(history: History) -> HistoryFit:
    """Fit a validated history per skill, and its arrival gaps (see the module docstring)."""
    tasks = history.tasks
    skills = []
    for skill, rows in sorted(tasks.groupby("skill", sort=False), key=lambda kv: str(kv[0])):
        efforts = rows["actual"].to_numpy(dtype=float)
        with np.errstate(over="ignore"):  # an overflow is reported below, as the fit's refusal
            ratios = efforts / rows["estimate"].to_numpy(dtype=float)
        try:
            skills.append(SkillFit(str(skill), fit_effort(efforts), fit_effort(ratios), efforts, ratios))
        except ValueError as exc:  # values each valid, beyond what a fit can sum (1e308...)
            raise ScenarioError([Problem(
                f"skill {skill!r}: its actual efforts, or their ratios to the estimates, cannot be "
                f"fitted ({exc}; the largest actual is {efforts.max():g})",
                file=history.source)]) from None
    arrivals = tasks.groupby("project")["start"].min().to_numpy().astype("datetime64[D]")
    first, last = arrivals.min(), arrivals.max()
    days = np.busday_count(first, arrivals)
    gaps = np.diff(np.sort(days)).astype(float)
    return HistoryFit(
        source=history.source, tasks=len(tasks), projects=len(arrivals), first_arrival=str(first),
        last_arrival=str(last), skills=tuple(skills),
        arrivals=fit_arrival_days(days), gaps=gaps)


# --------------------------------------------------------------------------- the fragment


def _r(x: float) -> float:
    return float(f"{x:.4g}")


def _rounded(dist: dict[str, Any]) -> dict[str, Any]:
    return {k: [_r(v) for v in value] if isinstance(value, list) else
            _r(value) if isinstance(value, float) else value for k, value in dist.items()}


def _flow(dist: dict[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for key, value in _rounded(dist).items():
        if isinstance(value, list):
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        out[key] = value
    out.fa.set_flow_style()
    return out


def _describe(name: str, quantity: str, fit: Fit) -> str:
    """Two comment lines: what was fitted and what was chosen; every family's AIC and KS p."""
    head = f"{name}: {UNITS[quantity]} -> {fit.family}, n={fit.n}"
    if fit.flags:
        head += f" [{'; '.join(fit.flags)}]"
    families = ", ".join(f"{c.family} {c.aic:.1f} (KS p {c.ks_pvalue:.3f})" for c in fit.candidates)
    return head + ("\n  AIC: " + families if families else "\n  no family fitted")


def _dump(data: Any, width: int = 100) -> str:
    yaml = YAML(typ="rt")
    yaml.width = width
    out = StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def fragment_yaml(fitted: HistoryFit) -> str:
    """The scenario fragment of ``fitted``, as commented YAML (see the module docstring)."""
    root = CommentedMap()
    root.yaml_set_start_comment(
        f"Scenario fragment written by `pmo-sim fit` from {Path(fitted.source).name}:\n"
        f"{fitted.tasks} tasks of {fitted.projects} projects arriving {fitted.first_arrival} .. "
        f"{fitted.last_arrival}.\n"
        "Distributions in SPEC 3 parameters (lognormal, gamma: arithmetic mean and sd), 4 "
        "significant digits;\neach chosen by AIC among the families a Kolmogorov-Smirnov test "
        "does not reject at 5%\n(empirical when none passes or below 5 rows; flagged below 30 "
        "rows).\n\nPaste `arrivals` into your scenario's `intake` (keep its templates) and "
        "`estimate_error` as a\ntop-level section (its keys must be your pools): each task of "
        "those pools then takes its\nwritten effort (your estimate) times the historical ratio "
        "actual / estimate. Or size tasks\nlike the history with the effort lines at the end, "
        "but not both for the same pool.")
    if fitted.arrivals is not None:
        intake = CommentedMap(arrivals=_flow(fitted.arrivals.as_distribution()))
        intake.yaml_set_comment_before_after_key(
            "arrivals", before=_describe("arrivals", ARRIVALS, fitted.arrivals), indent=2)
        root["intake"] = intake
    errors = CommentedMap()
    for s in fitted.skills:
        errors[s.skill] = _flow(s.ratio.as_distribution())
        errors.yaml_set_comment_before_after_key(s.skill, before=_describe(s.skill, RATIO, s.ratio),
                                                 indent=2)
    root["estimate_error"] = errors
    text = _dump(root)
    if fitted.arrivals is None:
        text += (f"\n# intake.arrivals: not fitted: the history's {fitted.projects} project(s) "
                 "start on one day, so there is no gap between arrivals\n")
    text += ("\n# Effort per task by pool, person-days, to size tasks like the history: the value "
             "of a line\n# is a task's `effort:` (uncomment it in place of a task's own effort).\n")
    for s in fitted.skills:
        comment = _describe(s.skill, EFFORT, s.effort)
        line = _dump({s.skill: _flow(s.effort.as_distribution())}, width=1_000_000)
        text += "".join(f"# {row}\n" for row in (*comment.splitlines(), *line.splitlines()))
    return text


# --------------------------------------------------------------------------- the command


@dataclass(frozen=True)
class Calibration:
    """What :func:`calibrate` fitted and wrote."""

    fit: HistoryFit
    fragment: Path
    figures: list[Path]


def figure_paths(fitted: HistoryFit, folder: Path) -> list[Path]:
    """One file per fit (in :meth:`HistoryFit.fits` order), named after the skill, made safe."""
    paths: list[Path] = []
    for skill, quantity, _, _ in fitted.fits():
        if quantity == ARRIVALS:
            stem = "arrivals"
        else:
            # A skill is free text from a file: keep it to one safe path component.
            # At most 100 bytes of it: a file name has 255 (a name of 200 letters of another
            # script is twice that in UTF-8).
            safe = re.sub(r"[^\w.-]+", "_", skill).strip("._").encode()[:100].decode(errors="ignore")
            safe = safe or "skill"
            stem = f"{'effort' if quantity == EFFORT else 'ratio'}-{safe}"
        path, k = folder / f"{stem}.png", 2
        while path in paths:  # two skills that differ only in unsafe characters
            path, k = folder / f"{stem}-{k}.png", k + 1
        paths.append(path)
    return paths


def calibrate(history: str | os.PathLike[str], out: str | os.PathLike[str],
              figures: str | os.PathLike[str] | None = None, force: bool = False,
              progress: Callable[[int, int], None] | None = None) -> Calibration:
    """Read and fit ``history``, write the fragment to ``out`` and the figures to ``figures``
    (default: ``<out stem>-figures`` beside ``out``). Existing files are kept unless ``force``.
    ``progress(done, total)`` is called as figures are written (two per skill: the slow part)."""
    target = Path(out)
    folder = Path(figures) if figures is not None else target.with_name(f"{target.stem}-figures")
    if target.is_dir():
        raise UsageError(f"{target} is a directory; --out names the fragment file to write")
    refuse_results_file(target)
    refuse_input(target, history)
    if is_taken(target) and not force:
        raise UsageError(f"{target} exists; use --force to overwrite it")
    fitted = fit_history(read_history(history))
    paths = figure_paths(fitted, folder)
    for path in paths:
        refuse_results_file(path)
        refuse_input(path, history)  # a history under a figure's name, replaced with --force
        refuse_folder_for_file(path)  # met after the fragment, else
        if same_name(path, target):  # the fragment would be lost
            raise UsageError(f"{target}: is also the figure {path.name} this command writes "
                             f"(--figures {folder}); give --out another name or --figures another folder")
    existing = [p for p in paths if is_taken(p)]
    if existing and not force:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]} exists{more}; use --force to overwrite, or --figures DIR")
    if paths:
        # The figures' folder is checked before the fragment is written: --figures naming a
        # file (or a folder under one) wrote the fragment, then failed at the first figure
        # (exit 2, the fragment left behind, and the next fit refused without --force).
        try:
            check_no_file_in_the_way(folder)
            check_can_write_in(folder)  # (a read-only one: likewise)
        except OSError as exc:
            raise cannot_write(paths[0], exc) from None
    text = fragment_yaml(fitted)
    # (the history's path, in the header, may hold a byte that is not UTF-8: see write_report)
    _write(target, lambda tmp: tmp.write_text(text, encoding="utf-8", errors="backslashreplace"))
    for done, (path, (skill, quantity, fit, sample)) in enumerate(zip(paths, fitted.fits(), strict=True)):
        if progress is not None:
            progress(done, len(paths))
        title = f"{skill}, {quantity}" if skill else quantity
        _write(path, functools.partial(save, fit_figure(sample, fit, title, UNITS[quantity])))
    if progress is not None:
        progress(len(paths), len(paths))
    return Calibration(fitted, target, paths)


def _write(path: Path, write: Callable[[Path], object]) -> None:
    """Write whole or not at all; a path that cannot be written is a :class:`UsageError`, a
    full disk a :class:`~pmo_sim.errors.WriteFailed`."""
    try:
        write_atomically(path, write)
    except OSError as exc:
        raise cannot_write(path, exc) from None
