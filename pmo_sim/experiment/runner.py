"""The Monte Carlo runner: every selected policy × replications, in chunks, resumable.

A run is a set of replication indices 0..n-1. Each index is one random plan (SPEC 4.2) run
under every selected policy, so the policies are compared on common random numbers. The
indices are cut into chunks (:mod:`pmo_sim.experiment.backends`), the chunks run on a
backend, and each finished chunk goes straight into the store
(:mod:`pmo_sim.experiment.store`): memory or a results folder. Because a replication is a
pure function of (scenario, seed, replication) and the store sorts rows at assembly, the
tables depend on nothing else: not the backend, the number of jobs, the chunk size, the
completion order or a resume.

Interruption and failure keep what is finished: on Ctrl+C the runner stops submitting,
cancels what is queued, ends the workers, leaves the manifest ``partial`` and raises
:class:`RunInterrupted` (a :class:`KeyboardInterrupt`) that says how to resume. A replication
that raises becomes :class:`pmo_sim.errors.ReplicationFailed` with its policy, replication
and seed; the folder stays ``partial`` and no consolidated tables are written.

With ``precision`` the run is sequential (Law, §9.4.1): after the first ``replications``,
batches are added until the 95% half-width of ``metric``'s mean is within ``precision`` ×
|mean| for every policy (or for every paired difference to the first policy), up to
``max_replications``. The decision only reads finished results, so it is reproducible too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shlex
import shutil
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pmo_sim import __version__
from pmo_sim.engine.records import KPI_COLUMNS
from pmo_sim.errors import ReplicationFailed, UsageError, WorkerLost
from pmo_sim.experiment.backends import (
    TABLES,
    Backend,
    ChunkTask,
    Replicate,
    auto_chunk_size,
    check_backend,
    chunk_ranges,
    make_backend,
)
from pmo_sim.experiment.results import Results, load_results, read_consolidated
from pmo_sim.experiment.store import (
    CHUNK_DIR,
    FORMAT,
    FORMAT_VERSION,
    SUMMARY,
    ChunkStore,
    ResultsFolder,
    StoreError,
    is_empty_dir,
    to_arrow,
)

if TYPE_CHECKING:
    from pmo_sim.scenario.models import Scenario

log = logging.getLogger(__name__)

#: ``progress(replications_done, replications_total)``, called as chunks finish.
Progress = Callable[[int, int], None]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl+C during a run with a results folder: finished chunks are kept; how to resume."""

    def __init__(self, out: Path, done: int, total: int, resume_command: str):
        self.out, self.done, self.total, self.resume_command = out, done, total, resume_command
        super().__init__(
            f"interrupted: {done} of {total} replications are finished and kept in {out}\n"
            f"continue with:\n  {resume_command}")


def scenario_sha256(scenario: Scenario) -> str:
    """Fingerprint of the *resolved* scenario (overrides applied), independent of YAML layout."""
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _resume_command(command: str | None, out: Path) -> str:
    if not command:
        return f"run_experiment(..., out={str(out)!r}, resume=True)"
    words = [w for w in shlex.split(command) if w != "--force"]
    if "--out" not in words and not any(w.startswith("--out=") for w in words):
        words += ["--out", str(out)]
    if "--resume" not in words:
        words.append("--resume")
    return shlex.join(words)


# --------------------------------------------------------------------------- checks


def _check_policies(scenario: Scenario, policies: Sequence[str] | None) -> list[str]:
    known = scenario.policy_names
    if not policies:
        return known
    unknown = [p for p in policies if p not in known]
    if unknown:
        raise UsageError(f"unknown policy {', '.join(map(repr, unknown))}; "
                         f"the scenario has: {', '.join(known)}")
    chosen = set(policies)
    return [p for p in known if p in chosen]  # scenario order, duplicates dropped


def _check_numbers(replications: int | None, seed: int, precision: float | None, metric: str,
                   max_replications: int | None, chunk_size: int | None) -> None:
    if replications is not None and replications < 1:
        raise UsageError(f"--replications must be at least 1 (got {replications})")
    if seed < 0:
        raise UsageError(f"--seed must be a non-negative integer (got {seed})")
    if precision is not None and not precision > 0:
        raise UsageError(f"--precision must be positive (got {precision})")
    if metric not in KPI_COLUMNS:
        raise UsageError(f"unknown metric {metric!r}; choose one of: {', '.join(KPI_COLUMNS)}")
    if max_replications is not None and replications is not None and max_replications < replications:
        raise UsageError(f"--max-replications ({max_replications}) is below --replications "
                         f"({replications})")
    if chunk_size is not None and chunk_size < 1:
        raise UsageError(f"chunk size must be at least 1 (got {chunk_size})")


def _resume_folder(out: Path, digest: str, seed: int, policies: list[str],
                   replications: int | None) -> ResultsFolder:
    if is_empty_dir(out):
        raise UsageError(f"nothing to resume in {out}: it is empty or does not exist; "
                         f"run without --resume")
    folder = ResultsFolder.open(out)
    m = folder.manifest
    differs = []
    if m["scenario_sha256"] != digest:
        differs.append("the scenario differs (its SHA-256 does not match the manifest's; same "
                       "file and the same --set overrides are needed)")
    if m["seed"] != seed:
        differs.append(f"the seed differs (manifest: {m['seed']}, now: {seed})")
    if list(m["policies"]) != policies:
        differs.append(f"the policies differ (manifest: {', '.join(m['policies'])}; "
                       f"now: {', '.join(policies)})")
    wanted = m.get("requested_replications", m["replications"])
    if replications is not None and replications != wanted:
        differs.append(f"the replications differ (manifest: {wanted}, now: {replications})")
    if differs:
        raise UsageError(f"cannot resume {out}: " + "; ".join(differs)
                         + ". Resume with the original settings, or start a new run (another "
                         "--out, or --force to overwrite).")
    return folder


# --------------------------------------------------------------------------- precision


def _metric_frame(store: ChunkStore, metric: str) -> pd.DataFrame:
    parts = [store.read_chunk(s, "replications", ["policy", "replication", metric]).to_pandas()
             for s in store.ordered()]
    return pd.concat(parts, ignore_index=True)


def precision_met(store: ChunkStore, policies: list[str], metric: str, rel: float,
                  paired: bool) -> bool:
    """Is every policy's (or paired difference's) 95% half-width ≤ rel × |mean|?"""
    from pmo_sim.analysis.stats import relative_half_width

    wide = _metric_frame(store, metric).pivot(index="replication", columns="policy", values=metric)
    wide = wide.reindex(columns=policies).sort_index()
    if paired and len(policies) > 1:
        base = wide[policies[0]]
        widths = [relative_half_width((wide[p] - base).to_numpy()) for p in policies[1:]]
    else:
        widths = [relative_half_width(wide[p].to_numpy()) for p in policies]
    return all(w <= rel for w in widths)  # NaN (too few values) is never within target


# --------------------------------------------------------------------------- the run


def run_experiment(
    scenario: Scenario,
    replications: int | None = 100,
    seed: int = 0,
    jobs: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    policies: Sequence[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    precision: float | None = None,
    metric: str = "npv",
    max_replications: int | None = None,
    paired: bool = False,
    command: str | None = None,
    chunk_size: int | None = None,
    *,
    _replicate: Replicate | None = None,
    _stop_after_chunks: int | None = None,
) -> Results:
    """Run every selected policy × ``replications`` of ``scenario`` on common random numbers.

    Parameters
    ----------
    scenario:
        A validated :class:`~pmo_sim.scenario.models.Scenario` (see ``load_scenario``).
    replications, seed:
        Replications 0..replications-1 from root ``seed``: the tables depend on nothing else.
        With ``resume``, ``None`` means "as recorded in the folder".
    jobs, backend, scheduler:
        ``backend`` is ``"local"`` (process pool of ``jobs`` workers, default the CPU count;
        in-process when ``jobs=1``), ``"serial"`` or ``"dask"`` (a local cluster of ``jobs``
        processes, or the scheduler at ``scheduler``).
    policies:
        Names to run (default all), kept in scenario order.
    out, resume, force:
        Without ``out`` nothing is written to disk. With it, a results folder (SPEC 7) is
        written as chunks finish; an existing non-empty folder is refused unless ``resume``
        (continue it: same scenario, seed, policies) or ``force`` (overwrite it).
    progress:
        ``progress(done, total)`` after each chunk.
    precision, metric, max_replications, paired:
        Add replications until the 95% CI half-width of ``metric``'s mean is at most
        ``precision`` × |mean| for every policy (or every paired difference to the first
        policy), up to ``max_replications`` (default 10 × ``replications``).
    command:
        The command line, recorded in the manifest and used in the resume hint.
    chunk_size:
        Replications per work unit (default: about four chunks per worker, at most 50).
    """
    chosen = _check_policies(scenario, policies)
    _check_numbers(replications, seed, precision, metric, max_replications, chunk_size)
    check_backend(backend, jobs, scheduler)
    digest = scenario_sha256(scenario)
    store: ChunkStore
    if out is None:
        if resume:
            raise UsageError("--resume needs --out DIR (the folder of the run to continue)")
        store = ChunkStore()
        manifest = _new_manifest(scenario, digest, seed, chosen, replications or 100, command)
    elif resume:
        folder = _resume_folder(Path(out), digest, seed, chosen, replications)
        if folder.manifest["status"] == "complete":
            return load_results(folder.path)
        _prepare_resume(folder)
        store, manifest = folder, folder.manifest
    else:
        from pmo_sim.scenario.loader import dump_scenario

        manifest = _new_manifest(scenario, digest, seed, chosen, replications or 100, command)
        store = ResultsFolder.create(out, manifest, dump_scenario(scenario), force=force)

    requested = int(manifest["requested_replications"])
    workers = 1 if backend == "serial" else (jobs or os.cpu_count() or 1)
    # The chunk size only affects speed and checkpoint granularity, never the tables, so a
    # resume picks its own.
    size = chunk_size or auto_chunk_size(requested, workers)
    manifest.update(chunk_size=size, backend=backend, jobs=workers)
    if precision is not None:
        manifest["precision"] = {"rel": precision, "metric": metric, "paired": paired,
                                 "max_replications": max_replications or 10 * requested,
                                 "target_met": None}

    run = _Run(scenario, seed, chosen, store, size, progress, _replicate, _stop_after_chunks)
    with contextlib.ExitStack() as stack:
        def backend_factory() -> Backend:
            return stack.enter_context(make_backend(backend, jobs, scheduler))

        try:
            run.execute(backend_factory, manifest, precision, metric, paired)
        except KeyboardInterrupt:
            if not isinstance(store, ResultsFolder):
                raise
            _save_manifest(store)
            done = len(store.done())
            raise RunInterrupted(store.path, done, int(manifest["replications"]),
                                 _resume_command(manifest.get("command"), store.path)) from None
        except (WorkerLost, StoreError) as exc:
            # The machine let the run down (a worker died, the disk filled): what finished is
            # on disk and listed in the manifest; say how much, and how to continue.
            if not isinstance(store, ResultsFolder):
                raise
            with contextlib.suppress(StoreError):
                _save_manifest(store)
            raise type(exc)(
                f"{exc}; {len(store.done())} of {manifest['replications']} replications are kept "
                f"in {store.path}; continue with: "
                f"{_resume_command(manifest.get('command'), store.path)}") from exc
        except ReplicationFailed as exc:
            if isinstance(store, ResultsFolder):
                manifest["failure"] = {"policy": exc.policy, "replication": exc.replication,
                                       "seed": exc.seed, "cause": exc.cause}
                _save_manifest(store)
            raise
    return _finish(store, manifest, scenario)


def _new_manifest(scenario: Scenario, digest: str, seed: int, policies: list[str],
                  replications: int, command: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "scenario": scenario.name, "scenario_sha256": digest, "seed": seed,
        "replications": replications, "requested_replications": replications,
        "policies": policies, "pmo_sim_version": __version__, "command": command,
        "started": _now(), "finished": None, "status": "partial", "precision": None,
        "chunk_size": None, "chunks": [],
    }


def _prepare_resume(folder: ResultsFolder) -> None:
    folder.clean_strays()
    for problem in folder.verify_chunks(drop=True):
        log.warning("%s; recomputing it", problem)
    folder.manifest.setdefault("resumed", []).append(_now())
    folder.manifest.pop("failure", None)


def _save_manifest(store: ChunkStore) -> None:
    if isinstance(store, ResultsFolder):
        store.write_manifest()


class _Run:
    """One run's loop: submit the missing chunks, store results as they come, grow if asked."""

    def __init__(self, scenario: Scenario, seed: int, policies: list[str], store: ChunkStore,
                 chunk_size: int, progress: Progress | None, replicate: Replicate | None,
                 stop_after: int | None):
        self.scenario, self.seed, self.policies, self.store = scenario, seed, policies, store
        self.chunk_size, self.progress, self.replicate = chunk_size, progress, replicate
        self.stop_after = stop_after  # test hook: simulate Ctrl+C after this many new chunks
        self.new_chunks = 0
        self._backend: Backend | None = None

    def execute(self, backend_factory: Callable[[], Backend], manifest: dict[str, Any],
                precision: float | None, metric: str, paired: bool) -> None:
        target = int(manifest["replications"])
        while True:
            self._complete(target, backend_factory)
            if precision is None:
                return
            spec = manifest["precision"]
            met = precision_met(self.store, self.policies, metric, precision, paired)
            limit = int(spec["max_replications"])
            if met or target >= limit:
                spec.update(target_met=met, replications_needed=target)
                return
            target = min(limit, target + max(10, int(manifest["requested_replications"]) // 2))
            manifest["replications"] = target
            _save_manifest(self.store)

    def _complete(self, target: int, backend_factory: Callable[[], Backend]) -> None:
        missing = set(range(target)) - self.store.done()
        self._report(target)
        if not missing:
            return
        if self._backend is None:
            self._backend = backend_factory()
        for result in self._backend.stream(self._tasks(missing)):
            if result.failure is not None:
                f = result.failure
                log.debug("replication %d failed:\n%s", f.replication, f.details)
                raise ReplicationFailed(f.policy, f.replication, f.seed, f.cause)
            self.store.add_chunk(result.start, result.stop,
                                 {t: to_arrow(t, result.tables[t]) for t in TABLES})
            self.new_chunks += 1
            self._report(target)
            if self.stop_after is not None and self.new_chunks >= self.stop_after:
                raise KeyboardInterrupt

    def _tasks(self, missing: set[int]) -> Iterator[ChunkTask]:
        for start, stop in chunk_ranges(missing, self.chunk_size):
            yield ChunkTask(self.scenario, self.seed, start, stop, tuple(self.policies),
                            self.replicate)

    def _report(self, target: int) -> None:
        if self.progress is not None:
            self.progress(len(self.store.done()), target)


def _finish(store: ChunkStore, manifest: dict[str, Any], scenario: Scenario) -> Results:
    """Consolidate: tables (streamed), summary.csv, then the manifest says ``complete``."""
    manifest.update(status="complete", finished=_now())
    if not isinstance(store, ResultsFolder):
        return Results.from_store(store, manifest, scenario)
    policies = list(manifest["policies"])
    for t in TABLES:
        store.write_table(t, policies)
    results = read_consolidated(store, manifest, scenario)
    store.write_file(SUMMARY, results.summary().to_csv(index=False))
    # The consolidated tables now hold every row; the chunk files were only checkpoints.
    # The manifest keeps the chunk ranges (how the work was split), not the deleted files.
    store.write_manifest(final=True)
    shutil.rmtree(store.path / CHUNK_DIR, ignore_errors=True)
    return results

