"""What a run that stops early keeps, and says: an interruption, a failure of the machine
(a worker lost, a full disk), a results folder changed under the run.

A run's message says how many replications its folder keeps and how to continue, and that
number is what a resume would find in the folder (:func:`kept_in`), not what the run last
wrote: a folder deleted, moved or emptied meanwhile keeps nothing, and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pmo_sim.errors import UsageError
from pmo_sim.experiment.manifest import MANIFEST, resume_command
from pmo_sim.experiment.store import SCENARIO, ResultsFolder
from pmo_sim.files import write_synced


class RunInterrupted(KeyboardInterrupt):
    """Ctrl+C during a run with a results folder: finished chunks are kept; how to resume."""

    def __init__(self, out: Path, done: int, total: int, resume_command: str):
        self.out, self.done, self.total, self.resume_command = out, done, total, resume_command
        super().__init__(
            f"interrupted: {done} of {total} replications are finished and kept in {out}\n"
            f"continue with:\n  {resume_command}")


#: What a run that ran out of memory in this process says (before what is kept).
OUT_OF_MEMORY_HERE = ("out of memory while running replications (this machine has less free "
                      "memory than a replication of this scenario needs: try a smaller scenario)")


def interrupted(store: ResultsFolder, manifest: dict[str, Any], done: int) -> RunInterrupted:
    """An interruption of the run in ``store``, ``done`` replications kept: how to resume it."""
    return RunInterrupted(store.path, done, int(manifest["replications"]),
                          resume_command(manifest.get("command"), store.path))


def with_what_is_kept(exc: Exception | str, store: ResultsFolder, manifest: dict[str, Any]) -> str:
    """A failure's message, with how many replications the folder keeps and how to go on:
    what a resume would find there (:func:`kept_in`), not what the run last wrote. A folder
    deleted, moved or emptied during the run keeps nothing, and says so (before, it was said
    to keep every replication listed, and to be continued with --resume)."""
    kept = kept_in(store)
    if kept is None:
        return folder_lost(store)
    return (f"{exc}; {kept} of {manifest['replications']} replications are kept in "
            f"{store.path}; continue with: {resume_command(manifest.get('command'), store.path)}")


def folder_lost(store: ResultsFolder, cause: Exception | None = None) -> str:
    """What a run says of a results folder it can no longer find as it left it."""
    path = store.path
    if not path.is_dir():
        return (f"the results folder {path} disappeared during the run (deleted or moved): "
                f"nothing of the run is kept in {path}; run it again")
    why = f" ({cause})" if cause is not None else ""
    return (f"the results folder {path} was changed during the run: its {MANIFEST} was removed "
            f"or replaced{why}; nothing of the run is kept in {path}; run it again (with "
            f"--force, or another --out)")


def kept_in(store: ResultsFolder) -> int | None:
    """The replications a resume of ``store`` would keep: the chunks the manifest on disk
    lists whose files are all there (a resume recomputes the others). None when the folder,
    or its manifest, is gone or is not this run's any more."""
    try:
        found = ResultsFolder.open(store.path)
    except (UsageError, OSError):
        return None
    ours, theirs = store.manifest, found.manifest
    if theirs["status"] != "partial" or any(theirs.get(k) != ours.get(k) for k in (
            "scenario_sha256", "seed", "policies", "started")):
        return None
    return sum(c.stop - c.start for c in found.chunks.values()
               if all(_plain_file(store.path / c.file_of(t)) for t in c.tables))


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def check_still_there(store: ResultsFolder) -> None:
    """A :class:`UsageError` (for :func:`changed`) if the folder's manifest or scenario is no
    longer there: a short run writes its tables from the chunks it kept in memory, reading
    nothing back, so a folder emptied meanwhile went unnoticed and the run completed into it,
    without its scenario.yaml (a long run fails reading its chunk files back). Two stat calls."""
    for name in (MANIFEST, SCENARIO):
        path = store.path / name
        if path.is_symlink() or not path.is_file():
            raise UsageError(f"{path} was removed")


def restore_scenario(store: ResultsFolder, scenario_yaml: str) -> None:
    """Write a resumed folder's ``scenario.yaml`` again if it was deleted since: the scenario
    resumed is the run's own (its SHA-256 matched the manifest's), so this is the file the run
    first wrote. Before, the resume computed every replication, then found the file missing
    (:func:`check_still_there`) and failed, exit 1, the folder "changed during the run"."""
    path = store.inside(SCENARIO)  # (a link or a folder in its place was refused already)
    if not path.exists():
        write_synced(path, scenario_yaml)


def changed(exc: UsageError, store: ResultsFolder, manifest: dict[str, Any]) -> str:
    """A run's failure on a file of its folder that is no longer what it wrote."""
    if kept_in(store) is None:
        return folder_lost(store, exc)
    return with_what_is_kept(f"the results folder {store.path} was changed during the run: "
                              f"{exc}", store, manifest)
