"""What an experiment is: a typed specification, checked before anything runs.

:class:`ExperimentSpec` holds everything :func:`~pmo_sim.experiment.runner.run_experiment`
needs, grouped by concern: what to run (scenario, replications, seed, policies), how far
(:class:`Precision`), where (:class:`Execution`: backend and workers), what to keep
(:class:`Output`: a results folder) and how to watch it (``progress``). Test seams (a
replacement replication function, a simulated interruption) are injected through
:class:`Seams` rather than private keywords.

``ExperimentSpec.from_options(scenario, replications=..., jobs=..., out=..., ...)`` builds one
from the flat keywords of SPEC 8 (``ps.run_experiment(sc, replications=200, jobs=2)``).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pmo_sim.errors import UsageError, check_flags, check_pathlike
from pmo_sim.scenario.limits import DEFAULT_MAX_EVENTS, check_budget
from pmo_sim.schema import KPI_COLUMNS

if TYPE_CHECKING:
    from pmo_sim.engine.records import ReplicationRecords
    from pmo_sim.experiment.headstart import HeadStart
    from pmo_sim.scenario.models import Scenario

#: ``progress(replications_done, replications_total)``, called as chunks finish.
Progress = Callable[[int, int], None]
#: ``report(worst_relative_half_width, replications)``, called after each precision check
#: (the half-width is NaN while too few values exist).
PrecisionReport = Callable[[float, int], None]
#: The replication function's signature: (scenario, replication, seed, policies) -> records.
Replicate = Callable[["Scenario", int, int, Sequence[str]], "list[ReplicationRecords]"]

#: Most replications one run may ask for (``-n`` or ``--max-replications``).
MAX_REPLICATIONS = 10_000_000
#: A precision target is judged from this many replications on (or from ``--max-replications``
#: when that is fewer): a half-width estimated from two to nine values is so noisy that stopping
#: on it picks the runs whose first values happen to agree, whose intervals are then too narrow.
#: Judged from ``-n 2``, a run's final 95% interval covered the true mean in 89% of runs, from
#: 10 on in 94-95% (tests/test_coverage_forecasts.py); a first stage of at least 10 is the
#: usual remedy for sequential stopping (as in Law's relative-precision procedure, §9.4.1).
PRECISION_FIRST_JUDGED = 10


@dataclass(frozen=True)
class Precision:
    """Add replications until the 95% half-width of ``metric``'s mean is within ``rel`` × |mean|
    for every policy (or every paired difference to the first policy), up to ``max_replications``
    (default 10 × the initial replications); judged from :data:`PRECISION_FIRST_JUDGED`
    replications on."""

    rel: float
    metric: str = "npv"
    paired: bool = False
    max_replications: int | None = None
    report: PrecisionReport | None = field(default=None, compare=False)

    def met(self, widths: Sequence[float], replications: int, limit: int) -> bool:
        """Whether relative half-widths ``widths`` after ``replications`` meet the target: every
        one within ``rel`` (NaN, too few values, never is), judged from
        :data:`PRECISION_FIRST_JUDGED` replications on (or from ``limit``, the cap, if fewer)."""
        judged = replications >= min(PRECISION_FIRST_JUDGED, limit)
        return judged and all(w <= self.rel for w in widths)


@dataclass(frozen=True)
class Execution:
    """Where the chunks run: ``local`` (a process pool of ``jobs`` workers, default the CPU
    count; in-process when ``jobs=1``), ``serial`` or ``dask`` (a local cluster of ``jobs``
    processes, or the scheduler at ``scheduler``); ``chunk_size`` replications per work unit
    (default: about four chunks per worker, at most 50); ``meanwhile``, called once in this
    process when the first chunks have been handed to worker processes: work for it to do while
    they run (never called when the replications run in this process); ``head_start``, the
    run's first chunks already submitted (:mod:`pmo_sim.experiment.headstart`), adopted if
    they are the run's own first tasks."""

    jobs: int | None = None
    backend: str = "local"
    scheduler: str | None = None
    chunk_size: int | None = None
    meanwhile: Callable[[], object] | None = field(default=None, compare=False)
    head_start: HeadStart | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Output:
    """A results folder (SPEC 7): ``resume`` continues one (same scenario, seed, policies),
    ``force`` overwrites one; ``command`` is recorded in the manifest and used in the resume hint."""

    out: Path
    resume: bool = False
    force: bool = False
    command: str | None = None


@dataclass(frozen=True)
class Seams:
    """Test seams: a replacement replication function, and a simulated Ctrl+C after this many
    new chunks."""

    replicate: Replicate | None = None
    stop_after_chunks: int | None = None


@dataclass(frozen=True)
class ExperimentSpec:
    """Every selected policy × ``replications`` of ``scenario`` on common random numbers.

    ``replications`` and ``seed`` give replications 0..replications-1 from root ``seed``: the
    tables depend on nothing else. With a resumed output, ``replications=None`` means "as
    recorded in the folder". ``policies`` are the names to run (default all), kept in
    scenario order.
    """

    scenario: Scenario
    replications: int | None = 100
    seed: int = 0
    policies: tuple[str, ...] | None = None
    #: The event budget the scenario was checked against; a replication that runs past twice
    #: it is stopped (None: no cap).
    max_events: float | None = DEFAULT_MAX_EVENTS
    precision: Precision | None = None
    execution: Execution = field(default_factory=Execution)
    output: Output | None = None
    progress: Progress | None = None
    seams: Seams = field(default_factory=Seams)

    @classmethod
    def from_options(cls, scenario: Scenario, *, replications: int | None = 100, seed: int = 0,
                     policies: Sequence[str] | None = None, jobs: int | None = None,
                     backend: str = "local", scheduler: str | None = None,
                     chunk_size: int | None = None, out: str | os.PathLike[str] | None = None,
                     resume: bool = False, force: bool = False, command: str | None = None,
                     precision: float | None = None, metric: str = "npv",
                     max_replications: int | None = None, paired: bool = False,
                     progress: Progress | None = None, seams: Seams | None = None,
                     max_events: float | None = DEFAULT_MAX_EVENTS,
                     precision_report: PrecisionReport | None = None,
                     meanwhile: Callable[[], object] | None = None,
                     head_start: HeadStart | None = None) -> ExperimentSpec:
        """The spec of SPEC 8's flat keywords (see the classes above for each one)."""
        if out is None and resume:
            raise UsageError("--resume needs --out DIR (the folder of the run to continue)")
        check_policy_list(policies)
        if metric not in KPI_COLUMNS:
            raise UsageError(f"unknown metric {metric!r}; choose one of: {', '.join(KPI_COLUMNS)}")
        check_types(scenario, replications=replications, max_replications=max_replications)
        check_flags(resume=resume, force=force, paired=paired)
        if resume and force:  # one of them was ignored without a word (--force, by the resume)
            raise UsageError("--resume and --force cannot be used together: --resume continues "
                             "the run in --out, --force replaces it; give one of them")
        _check_max(max_replications, replications)
        if out is not None:
            check_pathlike(out, "out")
        check_hooks(command=command, progress=progress, meanwhile=meanwhile)
        if head_start is not None:  # 5: "'int' object has no attribute 'discard'"
            from pmo_sim.experiment.headstart import HeadStart

            if not isinstance(head_start, HeadStart):
                raise TypeError(f"head_start must be a HeadStart or None, not "
                                f"{type(head_start).__name__} ({head_start!r})")
        if precision is None and (paired or max_replications is not None):  # else ignored
            given = "--max-replications" if max_replications is not None else "--paired"
            raise UsageError(f"{given} applies to a --precision run only: add --precision REL "
                             f"(and --metric M), or leave {given} out")
        return cls(
            scenario=scenario, replications=replications, seed=seed,
            policies=tuple(policies) if policies else None, max_events=max_events,
            precision=(Precision(precision, metric, paired, max_replications, precision_report)
                       if precision is not None else None),
            execution=Execution(jobs, backend, scheduler, chunk_size, meanwhile, head_start),
            output=Output(Path(out), resume, force, command) if out is not None else None,
            progress=progress, seams=seams or Seams(),
        )

    @property
    def metric(self) -> str:
        return self.precision.metric if self.precision else "npv"

    def check(self) -> None:
        """Refuse bad types and numbers up front (before a results folder is created)."""
        n, p, ex = self.replications, self.precision, self.execution
        check_types(self.scenario, replications=n, seed=self.seed, jobs=ex.jobs,
                    chunk_size=ex.chunk_size,
                    max_replications=p.max_replications if p is not None else None)
        if n is not None and not 1 <= n <= MAX_REPLICATIONS:
            raise UsageError(f"--replications must be between 1 and {MAX_REPLICATIONS:,} (got {n})")
        if self.seed < 0:
            raise UsageError(f"--seed must be a non-negative integer (got {self.seed})")
        check_budget(self.max_events)
        if p is not None:
            _check_precision(p, n)
        size = self.execution.chunk_size
        if size is not None and size < 1:
            raise UsageError(f"chunk size must be at least 1 (got {size})")
        if size is not None and size > MAX_REPLICATIONS:  # the manifest's own bound: a larger
            # one was recorded, and every later reader refused the folder as edited (exit 0 first)
            raise UsageError(f"--chunk-size must be at most {MAX_REPLICATIONS:,}, the most "
                             f"replications a run may have (got {size})")


def check_types(scenario: object, required: Collection[str] = ("seed", "replication"),
                **integers: object) -> None:
    """Refuse a Python caller's arguments of the wrong type with a :class:`TypeError` naming
    them, before anything runs: ``scenario`` must be a loaded Scenario, each of ``integers`` an
    integer, or None unless its name is ``required`` (``seed=None`` failed on "'<' not
    supported between instances of 'NoneType' and 'int'"). Before, a path for the scenario
    failed deep inside ("'str' object has no attribute 'policy_names'"), ``replications=2.5``
    or ``True`` ran, and ``seed=1.5`` failed in every replication."""
    from pmo_sim.scenario.models import Scenario

    if not isinstance(scenario, Scenario):
        hint = (" (load it first: pmo_sim.load_scenario(path))"
                if isinstance(scenario, str | os.PathLike) else "")
        raise TypeError(f"scenario must be a Scenario{hint}, not {type(scenario).__name__}")
    for name, value in integers.items():
        if (value is not None or name in required) and (
                isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise TypeError(f"{name} must be an integer, not {type(value).__name__} ({value!r})")


def check_hooks(command: object = None, **functions: object) -> None:
    """``command`` is text and each of ``functions`` callable, or None: ``command=5`` was
    recorded in the manifest, and every later reader refused the folder ("command: Input
    should be a valid string"); ``progress=5`` failed once the folder was made ("'int' object
    is not callable"), leaving it partial (a study's, after its ``ready``)."""
    if command is not None and not isinstance(command, str):
        raise TypeError(f"command must be text, not {type(command).__name__} ({command!r})")
    for name, value in functions.items():
        if value is not None and not callable(value):
            raise TypeError(f"{name} must be a function or None, not {type(value).__name__} "
                            f"({value!r})")


def check_policy_list(policies: object) -> None:
    """A :class:`TypeError` if ``policies`` is one name rather than a list of them: tuple("base")
    would be the five policies b, a, s, e (``frontier(policies="careful")`` said "unknown policy
    'c', 'a', 'r'...")."""
    if isinstance(policies, str):
        raise TypeError(f"policies must be a list of policy names, not a str ({policies!r}); "
                        f"give [{policies!r}]")
    if isinstance(policies, Collection) and not policies:  # [] or set(): ran them all
        raise UsageError("policies is an empty list: give at least one name, or None for every "
                         "policy of the scenario")


def _check_precision(p: Precision, replications: int | None) -> None:
    if not isinstance(p.rel, numbers.Real) or isinstance(p.rel, bool):
        raise TypeError(f"precision must be a number, not {type(p.rel).__name__} ({p.rel!r})")
    if not p.rel > 0:
        raise UsageError(f"--precision must be positive (got {p.rel})")
    if p.metric not in KPI_COLUMNS:
        raise UsageError(f"unknown metric {p.metric!r}; choose one of: {', '.join(KPI_COLUMNS)}")
    _check_max(p.max_replications, replications)


def _check_max(m: int | None, replications: int | None) -> None:
    if m is not None and not m <= MAX_REPLICATIONS:
        raise UsageError(f"--max-replications must be at most {MAX_REPLICATIONS:,} (got {m})")
    if m is not None and replications is not None and m < replications:
        raise UsageError(f"--max-replications ({m}) is below --replications ({replications})")


__all__ = ["check_hooks", "check_policy_list", "check_types", "Execution", "ExperimentSpec", "Output",
           "Precision", "PrecisionReport", "Progress", "Replicate", "Seams"]
