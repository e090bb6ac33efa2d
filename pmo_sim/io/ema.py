"""Results as EMA Workbench's experiments/outcomes pair, for PRIM scenario discovery.

EMA Workbench (Kwakkel 2017) keeps a set of runs as two aligned tables: *experiments*, one
row per run with its uncertainty and lever settings and the ``scenario``, ``policy`` and
``model`` it belongs to, and *outcomes*, the same rows' results. ``pmo-sim export RESULTS
--ema DIR`` writes them as ``DIR/experiments.csv`` and ``DIR/outcomes.csv``:

- one row per (policy, replication), in the order of the ``replications`` table;
- experiments: one column per PMO lever whose setting differs between the policies
  (dotted paths such as ``resource_manager.wip_limit``; lists as JSON text; a role's own
  column, e.g. ``change_manager``, says whether the role is on, and its settings are empty
  where it is off), then
  ``scenario`` (the replication: the random world, shared by every policy), ``policy`` and
  ``model`` (the scenario's name);
- outcomes: the KPI columns.

pmo-sim's uncertainties are random draws, not named parameters, so the world of a row is
identified by its replication rather than by uncertainty columns; PRIM then finds the lever
settings (and, joined by replication, any world descriptors of your own) that lead to the
outcomes of interest. ema_workbench is not a dependency: these are plain CSV files.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pmo_sim.errors import UsageError, cannot_write, refuse_folder_for_file
from pmo_sim.files import (
    check_can_write_in,
    check_no_file_in_the_way,
    missing_folders,
    refuse_results_file,
    remove_empty_folders,
    write_atomically,
)
from pmo_sim.schema import KPI_COLUMNS

if TYPE_CHECKING:
    from pmo_sim.experiment.results import Results

FILES = ("experiments.csv", "outcomes.csv")


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: json.dumps(tree) if isinstance(tree, list) else tree}


def _settings(policy: dict[str, Any]) -> dict[str, Any]:
    # A role section is a flag (is the role on?) followed by its settings; a role that is off
    # has no settings, so those cells stay empty.
    out: dict[str, Any] = {}
    for role, section in policy.items():
        out[role] = section is not None
        if section is not None:
            out.update(_flatten(section, f"{role}."))
    return out


def levers(results: Results) -> pd.DataFrame:
    """One row per policy, one column per lever setting that differs between the policies."""
    scenario = results.scenario
    table = pd.DataFrame([_settings(scenario.policies[p].model_dump(mode="json")) for p in results.policies],
                         index=pd.Index(results.policies, name="policy"))
    varying = [c for c in table.columns
               if len({repr(v) if pd.notna(v) else "" for v in table[c]}) > 1]
    return table[varying]


def check_target(folder: str | os.PathLike[str], force: bool = False) -> Path:
    """``folder`` if the tables may be written there, else a :class:`UsageError` saying why."""
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file; --ema needs a folder")
    try:
        # A file in the way of the folder (or a link to nothing) is refused here, with the
        # other checks: export --xlsx W --ema F/sub wrote the workbook, then failed on F.
        check_no_file_in_the_way(target)
        check_can_write_in(target)
    except OSError as exc:
        raise cannot_write(target, exc) from None
    for name in FILES:
        refuse_results_file(target / name)
        refuse_folder_for_file(target / name)  # else met after the workbook
    clash = [name for name in FILES if (target / name).exists()]
    if clash and not force:
        raise UsageError(f"{target} already has {', '.join(clash)}; use --force to overwrite")
    return target


def write_ema(results: Results, folder: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write ``experiments.csv`` and ``outcomes.csv`` to ``folder``; returns the folder.

    Existing files are refused (:class:`UsageError`) unless ``force``.
    """
    target = check_target(folder, force)
    reps = results.replications
    settings = levers(results)
    experiments = settings.reindex(reps["policy"].astype(str)).reset_index(drop=True)
    experiments["scenario"] = reps["replication"].to_numpy()
    experiments["policy"] = reps["policy"].astype(str).to_numpy()
    experiments["model"] = results.manifest.get("scenario", "pmo-sim")
    outcomes = reps[[c for c in KPI_COLUMNS if c in reps.columns]]
    missing = missing_folders(target)
    written: list[Path] = []
    try:
        for name, frame in zip(FILES, (experiments, outcomes), strict=True):
            written.append(write_atomically(target / name, functools.partial(frame.to_csv, index=False)))
    except OSError:
        # A full disk leaves neither file (one without the other is no EMA data set), nor the
        # folders this call created.
        with contextlib.suppress(OSError):
            for path in written:
                path.unlink()
        remove_empty_folders(missing)
        raise
    return target
