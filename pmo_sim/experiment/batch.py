"""Many variants of a scenario run on one backend, on common random numbers.

A sweep or a sensitivity study runs the same replications 0..n-1 from the same root seed at
many design points, so replication r is the same random world at every point and under
every policy: differences between points are the parameters' effects, not sampling noise.

:func:`run_experiment` would do each point, but it starts a backend (a process pool, a Dask
cluster) per call, which costs seconds, more than a small point takes to simulate. Here one
backend runs the chunks of every point. The backend streams results in completion order and
a chunk result carries only its replication range, so each point's replications are
numbered in a range of their own (point k's replication r is submitted as k·n + r); the
replication function of the chunk subtracts the offset before simulating, so the random
world is replication r's and the rows are numbered back to r. Only the KPI table is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pmo_sim.engine.records import ReplicationRecords
from pmo_sim.errors import ReplicationFailed, UsageError, unknown_policy
from pmo_sim.experiment.backends import auto_chunk_size, check_backend, load_of, make_backend
from pmo_sim.experiment.columns import Text
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.experiment.spec import (
    MAX_REPLICATIONS,
    Progress,
    check_hooks,
    check_policy_list,
    check_types,
)
from pmo_sim.experiment.work import ChunkTask
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.limits import MAX_STUDY_EVENTS
from pmo_sim.scenario.models import Scenario
from pmo_sim.schema import KEY_COLUMNS, KPI_COLUMNS

if TYPE_CHECKING:
    import pandas as pd


#: Simulation events one core processes in a second, about (for the time a refusal quotes).
EVENTS_PER_SECOND = 100_000


@dataclass
class _Shifted:
    """The replication function of one point: chunk replication ``offset + r`` is world ``r``."""

    offset: int
    # Built on first use in the process that runs the chunk (a chunk is pickled without it),
    # so the point's task networks are compiled once per chunk.
    sampler: Sampler | None = field(default=None, repr=False)

    def __call__(self, scenario: Scenario, replication: int, seed: int,
                 policies: Sequence[str]) -> list[ReplicationRecords]:
        if self.sampler is None:
            self.sampler = Sampler(scenario)
        return run_replication(scenario, replication - self.offset, seed, policies,
                               sampler=self.sampler)


def check_options(scenario: Scenario, replications: int, seed: int, policies: Sequence[str] | None,
                  backend: str, jobs: int | None, scheduler: str | None) -> list[str]:
    """Refuse bad options before anything runs; returns the policies to run, in scenario order."""
    check_types(scenario, ("replications", "seed"), replications=replications, seed=seed, jobs=jobs)
    check_policy_list(policies)
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise UsageError(f"--replications must be between 1 and {MAX_REPLICATIONS:,} (got {replications})")
    if seed < 0:
        raise UsageError(f"--seed must be a non-negative integer (got {seed})")
    check_backend(backend, jobs, scheduler)
    known = scenario.policy_names
    unknown = [p for p in policies or () if p not in known]
    if unknown:
        raise unknown_policy(unknown, known)
    return [p for p in known if not policies or p in policies]


@dataclass(frozen=True)
class Study:
    """What a study is called in its messages, how to make it smaller, and what to do once it
    is checked, before anything runs (``ready``: the command line creates its output folder)."""

    name: str = "the study"
    fewer: str = "fewer replications (-n) or fewer points"
    ready: Callable[[], None] | None = None


def check_size(scenarios: Sequence[Scenario], replications: int, policies: int, study: Study) -> None:
    """Refuse a study larger than a run may be (:data:`MAX_REPLICATIONS` replications in all)
    or than :data:`~pmo_sim.scenario.limits.MAX_STUDY_EVENTS`, from the loader's size estimate
    of its largest point (:func:`~pmo_sim.experiment.backends.load_of`)."""
    points = len(scenarios)
    total = points * replications
    sizes = f"{points:,} point{'s' if points != 1 else ''} x {replications:,} replications"
    if total > MAX_REPLICATIONS:
        raise UsageError(f"{study.name} would run {sizes} = {total:,} replications, more than the "
                         f"{MAX_REPLICATIONS:,} a run may have: use {study.fewer}")
    each = load_of(scenarios, 1).events  # per replication and policy, the largest point's
    events = total * policies * each
    if events > MAX_STUDY_EVENTS:
        hours = events / EVENTS_PER_SECOND / 3600
        raise UsageError(
            f"{study.name} would run {sizes} x {policies} polic{'ies' if policies != 1 else 'y'} "
            f"of about {each:,.0f} simulation events each: about {float(f'{events:.3g}'):,.0f} "
            f"events (some {hours:,.0f} hours of one core), more than a study may make "
            f"({MAX_STUDY_EVENTS:,.0f}; unlike a run, a study keeps nothing until it ends): use "
            f"{study.fewer}")


def run_variants(scenarios: Sequence[Scenario], *, replications: int, seed: int = 0,
                 policies: Sequence[str] | None = None, jobs: int | None = None,
                 backend: str = "local", scheduler: str | None = None,
                 progress: Progress | None = None, labels: Sequence[str] | None = None,
                 study: Study | None = None) -> list[pd.DataFrame]:
    """The replications table (key and KPI columns) of every scenario, in the order given.

    Each table has the rows of ``run_experiment(scenario, replications=..., seed=...)``,
    sorted by (policy in scenario order, replication). ``progress(done, total)`` counts
    replications over all scenarios. A failing replication raises
    :class:`~pmo_sim.errors.ReplicationFailed` naming its point (``labels[k]``). A study too
    large is refused (:func:`check_size`) before ``study.ready`` is called and anything runs.
    """
    # NOTE: pandas is imported here, not at the top: worker processes import this module to
    # unpickle the replication function, and never need pandas.
    import pandas as pd

    study = study or Study()
    if not scenarios:
        return []
    chosen = check_options(scenarios[0], replications, seed, policies, backend, jobs, scheduler)
    check_size(scenarios, replications, len(chosen), study)
    check_hooks(progress=progress, ready=study.ready)
    if study.ready is not None:
        study.ready()
    n, total = replications, replications * len(scenarios)
    parts: list[list[dict[str, Any]]] = [[] for _ in scenarios]
    done = 0
    with make_backend(backend, jobs, scheduler) as runner:
        size = min(n, auto_chunk_size(total, runner.workers, load_of(scenarios, len(chosen))))
        tasks = (ChunkTask(sc, seed, k * n + start, k * n + min(start + size, n), tuple(chosen),
                           _Shifted(k * n))
                 for k, sc in enumerate(scenarios) for start in range(0, n, size))
        if progress is not None:
            progress(0, total)
        for result in runner.stream(tasks):
            k = result.start // n
            if result.failure is not None:
                f = result.failure
                label = labels[k] if labels else f"point {k}"
                raise ReplicationFailed(f.policy, f.replication - k * n, f.seed, f"at {label}: {f.cause}")
            parts[k].append(result.tables["replications"])
            done += result.stop - result.start
            if progress is not None:
                progress(done, total)
    order = {p: i for i, p in enumerate(chosen)}
    frames = []
    for k, chunks in enumerate(parts):
        df = pd.concat([pd.DataFrame(_plain(c), columns=[*KEY_COLUMNS, *KPI_COLUMNS]) for c in chunks],
                       ignore_index=True)
        df["replication"] -= k * n
        df = df.sort_values(["policy", "replication"],
                            key=lambda col: col.map(order) if col.name == "policy" else col)
        frames.append(df.reset_index(drop=True))
    return frames


def _plain(columns: dict[str, Any]) -> dict[str, Any]:
    """A chunk's packed columns with its text as lists of ``str``, for pandas."""
    return {name: v.strings() if isinstance(v, Text) else v for name, v in columns.items()}
