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

With ``precision`` the run is sequential (Law, §9.4.1): after the first ``replications`` (and 10
at least, spec.PRECISION_FIRST_JUDGED), batches are added until the 95% half-width of ``metric``'s
mean is within ``precision`` × |mean| for every policy (or paired difference to the first policy),
up to ``max_replications``, in batches of half the first ``replications`` (at least 10), beyond ten
times them of at least a fifth of the run. The decision only reads finished results: reproducible.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from pmo_sim import __version__
from pmo_sim.errors import ReplicationFailed, UsageError, WorkerLost
from pmo_sim.experiment import arrays
from pmo_sim.experiment.backends import (
    Backend,
    check_backend,
    make_backend,
    missing_ranges,
    work_split,
)
from pmo_sim.experiment.consolidate import write_tables
from pmo_sim.experiment.headstart import Adopted, HeadStart
from pmo_sim.experiment.kept import (
    OUT_OF_MEMORY_HERE,
    changed,
    check_still_there,
    interrupted,
    restore_scenario,
    with_what_is_kept,
)
from pmo_sim.experiment.manifest import FORMAT, FORMAT_VERSION, claimed, scenario_sha256
from pmo_sim.experiment.results import (
    Results,
    load_results,
    read_consolidated,
)
from pmo_sim.experiment.spec import MAX_REPLICATIONS, ExperimentSpec, Precision
from pmo_sim.experiment.store import (
    CHUNK_DIR,
    OWN_FILES,
    ChunkStore,
    ResultsFolder,
    StoreError,
    is_empty_dir,
)
from pmo_sim.experiment.summary_file import write_summary
from pmo_sim.experiment.tablefile import to_arrow
from pmo_sim.experiment.work import ChunkTask, chosen_policies, tables_for
from pmo_sim.experiment.workers import runs_elsewhere, start_early, worker_count
from pmo_sim.intervals import relative_half_width
from pmo_sim.scenario.loader import dump_scenario

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from pmo_sim.scenario.models import Scenario

log = logging.getLogger(__name__)

#: The run's backend, made on first use: the one given (a head start's), else a new one.
BackendFactory = Callable[..., Backend]


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# --------------------------------------------------------------------------- checks


def _resume_folder(out: Path, digest: str, seed: int, policies: list[str],
                   replications: int | None, tables: list[str],
                   precision: Precision | None = None) -> ResultsFolder:
    if is_empty_dir(out):
        raise UsageError(f"nothing to resume in {out}: it is empty or does not exist; "
                         f"run without --resume")
    # claimed before anything is read: another run may be writing it
    return claimed(out, lambda: _check_resumable(ResultsFolder.open(out), out, digest, seed,
                                                 policies, replications, tables, precision))


def _target(rel: float, metric: str, paired: bool, most: int | None) -> str:
    """A precision target as the options that give it."""
    return (f"--precision {rel:g} --metric {metric}" + (" --paired" if paired else "")
            + (f" --max-replications {most}" if most is not None else ""))


def _precision_differs(recorded: dict[str, Any] | None, now: Precision | None) -> str | None:
    """What a resume's precision target changes of the run's (None: nothing). A run of a fixed
    number of replications resumed with --precision would become another run, and a precision
    run resumed without it would stop short of its target and call it not met."""
    if recorded is None and now is None:
        return None
    was = "none" if recorded is None else _target(recorded["rel"], recorded["metric"],
                                                  recorded["paired"], recorded["max_replications"])
    if now is None:
        return f"the precision target differs (manifest: {was}; now: none)"
    asked = _target(now.rel, now.metric, now.paired, now.max_replications)
    if recorded is None:
        return f"the precision target differs (manifest: none; now: {asked})"
    same = (float(recorded["rel"]) == now.rel and recorded["metric"] == now.metric
            and bool(recorded["paired"]) == now.paired
            and now.max_replications in (None, recorded["max_replications"]))
    return None if same else f"the precision target differs (manifest: {was}; now: {asked})"


def _check_resumable(folder: ResultsFolder, out: Path, digest: str, seed: int, policies: list[str],
                     replications: int | None, tables: list[str],
                     precision: Precision | None = None) -> ResultsFolder:
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
    if list(m["tables"]) != tables:
        differs.append(f"the tables differ (manifest: {', '.join(m['tables'])}; now: "
                       f"{', '.join(tables)}; the folder was written by an older pmo-sim)")
    wanted = m.get("requested_replications", m["replications"])
    if replications is not None and replications != wanted:
        differs.append(f"the replications differ (manifest: {wanted}, now: {replications})")
    # (a folder without a chunk has nothing a target could disagree with: a run killed before
    # its first chunk was saved has no target recorded yet)
    target = _precision_differs(m.get("precision"), precision) if m.get("chunks") else None
    if target:
        differs.append(target)
    if differs:
        raise UsageError(f"cannot resume {out}: " + "; ".join(differs)
                         + ". Resume with the original settings, or start a new run (another "
                         "--out, or --force to overwrite).")
    # A folder or link where the run writes one of its files: refused now, not after every replication.
    for name in OWN_FILES:
        folder.inside(name)
    return folder


# --------------------------------------------------------------------------- precision


def _metric_by_replication(store: ChunkStore, policies: list[str], metric: str) -> list[NDArray[np.float64]]:
    """Per policy, ``metric`` by replication index (NaN where a replication is not done)."""
    parts = [store.read_chunk(s, "replications", ["policy", "replication", metric])
             for s in store.ordered()]
    if not parts:
        return [np.empty(0) for _ in policies]
    table = pa.concat_tables(parts)
    names, codes = arrays.codes(table.column("policy"))
    reps = arrays.to_float(table.column("replication")).astype(np.int64)
    values = arrays.to_float(table.column(metric))
    out = []
    for p in policies:
        wide = np.full(int(reps.max()) + 1, np.nan)
        if p in names:
            rows = codes == names.index(p)
            wide[reps[rows]] = values[rows]
        out.append(wide)
    return out


def precision_widths(store: ChunkStore, policies: list[str], metric: str,
                     paired: bool) -> list[float]:
    """Every policy's (or paired difference's) 95% half-width relative to |mean|."""
    wide = _metric_by_replication(store, policies, metric)
    if paired and len(policies) > 1:
        return [relative_half_width(w - wide[0]) for w in wide[1:]]
    return [relative_half_width(w) for w in wide]


def _worst(widths: list[float]) -> float:
    """The widest relative half-width; NaN while any is unknown (too few values)."""
    if not widths or any(math.isnan(w) for w in widths):
        return math.nan
    return max(widths)


# --------------------------------------------------------------------------- the run


def run_experiment(experiment: Scenario | ExperimentSpec, /, **options: Any) -> Results:
    """Run every selected policy × replications of a scenario on common random numbers.

    ``experiment`` is an :class:`~pmo_sim.experiment.spec.ExperimentSpec`, or a validated
    :class:`~pmo_sim.scenario.models.Scenario` with the flat keywords of
    :meth:`ExperimentSpec.from_options <pmo_sim.experiment.spec.ExperimentSpec.from_options>`
    (``replications``, ``seed``, ``jobs``, ``backend``, ``scheduler``, ``policies``, ``out``,
    ``resume``, ``force``, ``progress``, ``precision``, ``metric``, ``max_replications``,
    ``paired``, ``command``, ``chunk_size``, ``meanwhile``: a function called once, in this
    process, when the first chunks are in worker processes' hands; ``head_start``: a
    :class:`~pmo_sim.experiment.headstart.HeadStart`, taken over or ended).

    Without an output folder nothing is written to disk. With one, a results folder (SPEC 7)
    is written as chunks finish; an existing non-empty folder is refused unless resumed
    (continue it: same scenario, seed, policies) or forced (overwrite it).
    """
    if isinstance(experiment, ExperimentSpec):
        if options:
            raise TypeError("give either an ExperimentSpec or a scenario with options, not both")
        spec = experiment
    else:
        spec = ExperimentSpec.from_options(experiment, **options)
    spec.check()
    chosen = chosen_policies(spec.scenario, spec.policies)
    ex = spec.execution
    check_backend(ex.backend, ex.jobs, ex.scheduler)
    start_early(ex.backend, ex.jobs)  # the workers' fork server starts while the folder is made
    with contextlib.ExitStack() as held:  # the results folder, the run's until it returns (claim)
        with contextlib.ExitStack() as stack:  # the workers, ended before the tables are written
            backends: list[Backend] = []
            head = ex.head_start
            if head is not None:  # ended with the run unless the run takes it over
                stack.callback(head.discard)
                if ex.backend != "local" or not runs_elsewhere(ex.backend, ex.jobs):
                    head = None  # its pool is not this run's kind

            def backend_factory(given: Backend | None = None) -> Backend:
                if not backends:
                    backends.append(stack.enter_context(
                        given or make_backend(ex.backend, ex.jobs, ex.scheduler)))
                return backends[0]

            if ex.backend == "dask":
                # Reached before the results folder is created: a scheduler that cannot be
                # reached is refused (exit 2) with nothing written. Before, the folder it left (a
                # manifest, the scenario, no chunk) stood in the way of the same command run again.
                backend_factory()
            opened = _open_store(spec, chosen)
            if isinstance(opened, Results):
                return opened  # resuming a run that is already complete
            store, manifest = opened
            held.callback(_release, store)
            _execute(_prepare_run(spec, chosen, store, manifest, head), store, manifest,
                     backend_factory)
        return _finish(store, manifest, spec.scenario, runs_elsewhere(ex.backend, ex.jobs))


def _release(store: ChunkStore) -> None:
    if isinstance(store, ResultsFolder):
        store.release()


def _prepare_run(spec: ExperimentSpec, chosen: list[str], store: ChunkStore,
                 manifest: dict[str, Any], head: HeadStart | None = None) -> _Run:
    """The run's loop, its chunk size and precision target written into the manifest."""
    ex = spec.execution
    requested = int(manifest["requested_replications"])
    workers = 1 if ex.backend == "serial" else worker_count(ex.jobs)
    # (a resume picks its own split: it changes no table)
    size, shrink_for = work_split(spec.scenario, len(chosen), requested, workers, ex.chunk_size)
    manifest.update(chunk_size=size, backend=ex.backend, jobs=workers)
    p = spec.precision
    if p is not None:
        recorded = manifest.get("precision")  # a resume's: its cap kept when none is given
        manifest["precision"] = {"rel": p.rel, "metric": p.metric, "paired": p.paired,
                                 # ten times what was asked, within a run's limit (-n above
                                 # 1,000,000 made a manifest its resume refused, a run too long)
                                 "max_replications": p.max_replications
                                 or (recorded["max_replications"] if recorded
                                     else min(10 * requested, MAX_REPLICATIONS)),
                                 "target_met": None}
    return _Run(spec, chosen, store, size, shrink_for, head)


def _open_store(spec: ExperimentSpec, chosen: list[str]
                ) -> tuple[ChunkStore, dict[str, Any]] | Results:
    """The store the run writes to (memory, a new folder, or the folder it resumes)."""
    scenario, digest = spec.scenario, scenario_sha256(spec.scenario)
    n = spec.replications or 100
    command = spec.output.command if spec.output else None
    out = spec.output
    if out is None:
        return ChunkStore(), _new_manifest(scenario, digest, spec.seed, chosen, n, command)
    if out.resume:
        folder = _resume_folder(out.out, digest, spec.seed, chosen, spec.replications,
                                list(tables_for(scenario)), spec.precision)
        if folder.manifest["status"] == "complete":
            folder.release()
            return load_results(folder.path)
        _prepare_resume(folder, dump_scenario(scenario))
        return folder, folder.manifest
    manifest = _new_manifest(scenario, digest, spec.seed, chosen, n, command)
    return ResultsFolder.create(out.out, manifest, dump_scenario(scenario), force=out.force), manifest


def _execute(run: _Run, store: ChunkStore, manifest: dict[str, Any],
             backend_factory: BackendFactory) -> None:
    """Run to the end; on interruption or failure keep what finished and say how to go on."""
    try:
        run.execute(backend_factory, manifest)
    except KeyboardInterrupt:
        if not isinstance(store, ResultsFolder):
            raise
        _save_manifest(store)
        raise interrupted(store, manifest, store.count_done()) from None
    except (WorkerLost, StoreError) as exc:
        # The machine let the run down (a worker died, the disk filled): what finished is
        # on disk and listed in the manifest; say how much, and how to continue.
        if not isinstance(store, ResultsFolder):
            raise
        with contextlib.suppress(StoreError):
            _save_manifest(store)
        # store.listed: what the manifest on disk lists, fewer than finished if even it
        # could not be rewritten (a full disk); a resume recomputes the rest.
        raise type(exc)(with_what_is_kept(exc, store, manifest)) from exc
    except MemoryError as exc:
        # In this process (jobs=1, the serial backend); a worker's is a WorkerLost above.
        if not isinstance(store, ResultsFolder):
            raise
        with contextlib.suppress(StoreError, MemoryError):
            _save_manifest(store)
        raise WorkerLost(with_what_is_kept(OUT_OF_MEMORY_HERE, store, manifest)) from exc
    except ReplicationFailed as exc:
        if isinstance(store, ResultsFolder):
            manifest["failure"] = {"policy": exc.policy, "replication": exc.replication,
                                   "seed": exc.seed, "cause": exc.cause}
            _save_manifest(store)
        raise


def _new_manifest(scenario: Scenario, digest: str, seed: int, policies: list[str],
                  replications: int, command: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "scenario": scenario.name, "scenario_sha256": digest, "seed": seed,
        "replications": replications, "requested_replications": replications,
        "policies": policies, "tables": list(tables_for(scenario)),
        "pmo_sim_version": __version__, "command": command,
        "started": _now(), "finished": None, "status": "partial", "precision": None,
        "chunk_size": None, "chunks": [],
    }


def _prepare_resume(folder: ResultsFolder, scenario_yaml: str) -> None:
    folder.clean_strays()
    restore_scenario(folder, scenario_yaml)
    for problem in folder.verify_chunks(drop=True):
        log.warning("%s; recomputing it", problem)
    folder.manifest.setdefault("resumed", []).append(_now())
    folder.manifest.pop("failure", None)


def _save_manifest(store: ChunkStore) -> None:
    if isinstance(store, ResultsFolder):
        store.write_manifest()


class _Run:
    """One run's loop: submit the missing chunks, store results as they come, grow if asked."""

    def __init__(self, spec: ExperimentSpec, policies: list[str], store: ChunkStore, chunk_size: int,
                 workers: int = 1, head_start: HeadStart | None = None):
        self.spec, self.policies, self.store, self.chunk_size = spec, policies, store, chunk_size
        self.workers = workers
        self.tables = tables_for(spec.scenario)
        self.new_chunks = 0
        self._backend: Backend | None = None
        self._meanwhile = spec.execution.meanwhile  # called once, by the first stream
        self._head_start = head_start  # offered to the first stream

    def execute(self, backend_factory: BackendFactory, manifest: dict[str, Any]) -> None:
        target = int(manifest["replications"])
        p = self.spec.precision
        while True:
            self._complete(target, backend_factory)
            if p is None:
                return
            spec = manifest["precision"]
            try:
                widths = precision_widths(self.store, self.policies, p.metric, p.paired)
            except UsageError as exc:  # a chunk file the run wrote, deleted or changed since
                raise StoreError(f"the results folder {getattr(self.store, 'path', '')} was "
                                 f"changed during the run: {exc}") from exc
            limit = int(spec["max_replications"])
            met = p.met(widths, target, limit)  # not before 10 replications (unless capped)
            worst = _worst(widths)
            # What was reached, for the "not met" message (JSON has no NaN or infinity).
            spec["half_width_rel"] = worst if math.isfinite(worst) else None
            if p.report is not None:
                p.report(worst, target)
            if met or target >= limit:
                spec.update(target_met=met, replications_needed=target)
                return
            requested = int(manifest["requested_replications"])
            # past 10 x -n: a fifth of the run at a time, in chunks sized for it (tests/test_hostile_round6)
            step = max(10, requested // 2, target // 5 if target >= 10 * requested else 0)
            target = min(limit, target + step)
            ex, n = self.spec.execution, len(self.policies)
            self.chunk_size = max(self.chunk_size, work_split(self.spec.scenario, n, target, self.workers,
                                                              ex.chunk_size)[0])
            manifest["replications"] = target
            _save_manifest(self.store)

    def _complete(self, target: int, backend_factory: BackendFactory) -> None:
        ranges = missing_ranges(self.store.chunks_done(), target, self.chunk_size, self.workers)
        self._report(target)
        if not ranges:
            return
        tasks, pending = self._tasks(ranges), None
        head, self._head_start = self._head_start, None
        if self._backend is None:
            taken = head.adopt(tasks) if head is not None else tasks
            if isinstance(taken, Adopted):
                tasks, pending = taken.rest, taken.pending
                self._backend = backend_factory(taken.backend)
            else:
                tasks = taken
                self._backend = backend_factory()
        stop_after = self.spec.seams.stop_after_chunks
        started, self._meanwhile = self._meanwhile, None
        for result in self._backend.stream(tasks, started, pending):
            if result.failure is not None:
                f = result.failure
                log.debug("replication %d failed:\n%s", f.replication, f.details)
                raise ReplicationFailed(f.policy, f.replication, f.seed, f.cause)
            self.store.add_chunk(result.start, result.stop,
                                 {t: to_arrow(t, result.tables[t]) for t in self.tables})
            self.new_chunks += 1
            self._report(target)
            if stop_after is not None and self.new_chunks >= stop_after:
                raise KeyboardInterrupt

    def _tasks(self, ranges: Iterator[tuple[int, int]]) -> Iterator[ChunkTask]:
        spec = self.spec
        for start, stop in ranges:
            yield ChunkTask(spec.scenario, spec.seed, start, stop, tuple(self.policies),
                            spec.seams.replicate, spec.max_events)

    def _report(self, target: int) -> None:
        if self.spec.progress is not None:
            self.spec.progress(self.store.count_done(), target)


def _finish(store: ChunkStore, manifest: dict[str, Any], scenario: Scenario,
            elsewhere: bool = False) -> Results:
    """Consolidate: tables (streamed), summary.csv, then the manifest says ``complete``.
    ``elsewhere``: the replications ran in worker processes (the long tables may be written
    in another process too, :mod:`pmo_sim.experiment.consolidate`).

    The manifest lists every finished chunk first (a short run may not have rewritten it
    since it began): if the disk fills while the tables are written, the chunks stay listed,
    and the error says how many replications are kept and how to continue.
    """
    if not isinstance(store, ResultsFolder):
        manifest.update(status="complete", finished=_now())
        return Results.from_store(store, manifest, scenario)
    policies = list(manifest["policies"])
    try:
        check_still_there(store)  # (a short run reads nothing back that would tell)
        store.write_manifest()
        write_tables(store, manifest["tables"], policies, write_summary, elsewhere)
        check_still_there(store)
        manifest.update(status="complete", finished=_now())
        results = read_consolidated(store, manifest, scenario)  # tables read when first used
        # The consolidated tables now hold every row; the chunk files were only checkpoints.
        # The manifest keeps the chunk ranges (how the work was split), not the deleted files.
        store.write_manifest(final=True)
    except StoreError as exc:
        raise StoreError(with_what_is_kept(exc, store, manifest)) from exc
    except UsageError as exc:
        # The run wrote every file it reads here: one gone, or not what it wrote, was deleted
        # or changed meanwhile by someone else, a failure of the run (exit 1), not bad input
        # (before, exit 2 naming the missing chunk file as if the user had given it).
        raise StoreError(changed(exc, store, manifest)) from exc
    except KeyboardInterrupt:
        # Every chunk is listed (the manifest above) and the tables are rewritten from them:
        # the run is resumed like one interrupted earlier (before, only "interrupted").
        raise interrupted(store, manifest, store.listed) from None
    shutil.rmtree(store.path / CHUNK_DIR, ignore_errors=True)
    return results
