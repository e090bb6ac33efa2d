"""Importing the benchmark instances of resource-constrained (multi-)project scheduling.

``pmo-sim import psplib FILE`` turns a PSPLIB single-mode instance (``.sm``; Kolisch &
Sprecher 1997) or an MPSPLIB multi-project instance (``.xml`` naming ``.sm`` files beside it;
Homberger 2007, :mod:`pmo_sim.io.mpsplib`) into a scenario, so that the published results of
the literature can be checked with pmo-sim and its policies compared on the same problems.

A ``.sm`` file has fixed sections: the job count (supersource and supersink included), the
resource counts, ``PROJECT INFORMATION`` (release date, due date, critical path length
``MPM-Time``), ``PRECEDENCE RELATIONS`` (job, modes, successor count, successors),
``REQUESTS/DURATIONS`` (job, mode, duration, one request per resource) and
``RESOURCEAVAILABILITIES``. Only single-mode files without doubly constrained resources are
read; nonrenewable resources, fixed by the only mode, cannot change a schedule and are left out.

The mapping:

* each renewable resource becomes an **equipment pool**: ``R1``, ``R2``... shared by every
  project; in an MPSPLIB portfolio a resource whose capacity is 0 is local instead, one pool
  per project named ``R2@<project>`` with the availability of that project's file (a resource
  with no unit available and no request is left out);
* each job becomes a task ``j<number>`` with a fixed ``duration`` and ``needs`` (its positive
  requests) and ``after`` (its predecessors); the dummy supersource and supersink (first and
  last job, zero duration, no requests) are dropped, which loses no precedence, and every
  other job is kept, zero-duration ones as milestones carrying their precedence;
* each ``.sm`` file becomes a project named after its file (``j309_9``; ``j3015_5-1``,
  ``j3015_5-2``... when a portfolio names one file several times), arriving at its release
  date (the portfolio's ``start``) with the file's due date as ``due``;
* the horizon is the sum of all durations plus the last release plus one day, so that even
  one activity after another finishes inside it;
* the policies are ``fifo``, ``min_slack``, ``lst`` and ``lft``: with fixed durations a
  replication is a parallel schedule-generation scheme with that priority rule (``lst`` is the
  literature's minimum slack, ``lft`` its latest finish time).

A malformed file is reported at the line (and column) that is wrong, with exit code 2.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmo_sim.errors import Problem, ScenarioError, printable
from pmo_sim.files import FileRefused, read_bounded
from pmo_sim.io.mpsplib import Portfolio, read_portfolio, stem_name, too_long, whole_number
from pmo_sim.scenario.checks import MAX_HORIZON
from pmo_sim.scenario.limits import MAX_PEOPLE, MAX_TASKS
from pmo_sim.scenario.loader import load_scenario_text
from pmo_sim.scenario.network import PrecedenceCycle, topological_order
from pmo_sim.scenario.writer import Flow, dump_yaml

MAX_BYTES = 10_000_000
MAX_JOBS = 100_000
POLICIES = ("fifo", "min_slack", "lst", "lft")


@dataclass(frozen=True)
class Job:
    number: int
    duration: int
    requests: tuple[int, ...]  # per renewable resource
    successors: tuple[int, ...]
    line: int  # its REQUESTS/DURATIONS line
    columns: tuple[int, ...]  # of each request on that line
    duration_column: int


@dataclass(frozen=True)
class Instance:
    """One parsed ``.sm`` file (renewable resources only)."""

    file: Path
    jobs: tuple[Job, ...]
    capacities: tuple[int, ...]
    release: int
    due: int
    critical_path: int  # the file's MPM-Time
    release_at: tuple[int, int]  # the line and column of the release date


# --------------------------------------------------------------------------- reading files


def _read(path: Path) -> bytes:
    try:
        return read_bounded(path, MAX_BYTES)
    except FileRefused as exc:
        raise ScenarioError([Problem(f"{exc}: not an instance file", file=str(path))]) from None
    except FileNotFoundError:
        raise ScenarioError([Problem("file not found", file=str(path))]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem("is a directory, not an instance file", file=str(path))]) from None
    except OSError as exc:
        raise ScenarioError([Problem(f"cannot read the file: {exc.strerror}", file=str(path))]) from None


class _Lines:
    """A cursor over a ``.sm`` file that reports problems at their line and column."""

    def __init__(self, path: Path, data: bytes):
        self.path = path
        try:
            self.lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise self.error(f"not a text file (byte 0x{data[exc.start]:02x})", line) from None
        self.i = 0

    def error(self, message: str, line: int | None = None, column: int | None = None,
              got: Any = None, has_got: bool = False) -> ScenarioError:
        return ScenarioError([Problem(message, file=str(self.path), line=line, column=column, got=got,
                                      has_got=has_got)])

    def find(self, label: str) -> int:
        """Move to the next line starting with ``label``; its 1-based number."""
        while self.i < len(self.lines):
            self.i += 1
            if self.lines[self.i - 1].strip().startswith(label):
                return self.i
        raise self.error(f"expected a line starting with {label!r}, but the file ends",
                         max(len(self.lines), 1))

    def next(self, what: str) -> int:
        """Move to the next line, which must exist; its 1-based number."""
        if self.i >= len(self.lines):
            raise self.error(f"the file ends where {what} was expected", max(len(self.lines), 1))
        self.i += 1
        return self.i

    def numbers(self, line: int, what: str, start: int = 0) -> tuple[list[int], list[int]]:
        """The whole numbers on ``line`` (after character ``start``) and their columns."""
        values, columns = [], []
        for m in re.finditer(r"\S+", self.lines[line - 1][start:]):
            number = whole_number(m.group())
            if number is None:
                raise self.error(f"expected whole numbers{too_long(m.group())} ({what})", line,
                                 start + m.start() + 1, m.group(), True)
            values.append(number)
            columns.append(start + m.start() + 1)
        return values, columns

    def value(self, label: str) -> int:
        """The number after the colon of the next line starting with ``label``."""
        line = self.find(label)
        text = self.lines[line - 1]
        colon = text.find(":")
        m = re.compile(r"\S+").search(text, colon + 1) if colon >= 0 else None
        if m is None:
            raise self.error(f"expected a number after {label!r}", line, len(text) + 1)
        number = whole_number(m.group())
        if number is None:
            raise self.error(f"expected a whole number{too_long(m.group())} after {label!r}", line,
                             m.start() + 1, m.group(), True)
        return number

    def row(self, what: str, size: int) -> tuple[int, list[int], list[int]]:
        """The next line, with at least ``size`` whole numbers."""
        line = self.next(what)
        values, columns = self.numbers(line, what)
        if len(values) < size:
            raise self.error(f"expected {size} numbers ({what}), found {len(values)}", line,
                             len(self.lines[line - 1]) + 1)
        return line, values, columns


def read_sm(path: Path, data: bytes | None = None) -> Instance:
    """Parse a PSPLIB single-mode file."""
    src = _Lines(path, _read(path) if data is None else data)
    projects = src.value("projects")
    if projects != 1:
        raise src.error(f"a .sm file holds one project (got {projects}); for several, use an MPSPLIB .xml",
                        src.i)
    n = src.value("jobs")
    jobs_line = src.i
    if not 1 <= n <= MAX_JOBS:
        raise src.error(f"the job count must be between 1 and {MAX_JOBS}", src.i, got=n, has_got=True)
    if n - 2 > MAX_TASKS:  # (at most two are dummies) refused before its 2n lines are parsed:
        raise _task_count_error(src, jobs_line, n)  # 95,000 jobs took 11 s to be refused
    renewable, nonrenewable = src.value("- renewable"), src.value("- nonrenewable")
    if src.value("- doubly constrained"):
        raise src.error("doubly constrained resources are not supported", src.i)
    src.find("PROJECT INFORMATION")
    src.find("pronr.")
    info_line, info, info_columns = src.row("pronr. #jobs rel.date duedate tardcost MPM-Time", 6)
    successors = _precedence(src, n)
    src.find("REQUESTS/DURATIONS")
    src.find("jobnr.")
    src.find("---")
    width = renewable + nonrenewable
    jobs = []
    for number in range(1, n + 1):
        line, values, columns = src.row(f"job {number}: number, mode, duration and {width} requests",
                                        3 + width)
        if values[0] != number:
            raise src.error(f"expected job {number} here", line, columns[0], values[0], True)
        if values[1] != 1:
            raise src.error("only single-mode instances (.sm) can be imported: expected mode 1", line,
                            columns[1], values[1], True)
        jobs.append(Job(number, values[2], tuple(values[3:3 + renewable]), successors[number - 1][0],
                        line, tuple(columns[3:3 + renewable]), columns[2]))
    src.find("RESOURCEAVAILABILITIES")
    src.next("the resource names")
    line, capacities, columns = src.row("the availability of each resource", width)
    for capacity, column in zip(capacities[:renewable], columns, strict=False):
        if capacity > MAX_PEOPLE:  # here, not in the generated scenario's lines
            raise src.error(f"a resource's availability must be at most {MAX_PEOPLE:,}", line, column,
                            capacity, True)
    _check_acyclic(src, successors)
    inst = Instance(path, tuple(jobs), tuple(capacities[:renewable]), info[2], info[3], info[5],
                    (info_line, info_columns[2]))
    if not 1 <= n - len(_dropped(inst)) <= MAX_TASKS:  # here, not in the generated scenario
        raise _task_count_error(src, jobs_line, n)
    return inst


def _task_count_error(src: _Lines, line: int, n: int) -> ScenarioError:
    return src.error(f"a project needs 1 to {MAX_TASKS:,} tasks: jobs besides the dummy start and "
                     f"end (the first and last, of duration 0 without requests)", line, got=n, has_got=True)


def _precedence(src: _Lines, n: int) -> list[tuple[tuple[int, ...], int]]:
    """Each job's successors and the line they were read from."""
    src.find("PRECEDENCE RELATIONS")
    src.find("jobnr.")
    out = []
    for number in range(1, n + 1):
        line, values, columns = src.row(f"job {number}: number, modes, successor count, successors", 3)
        if values[0] != number:
            raise src.error(f"expected job {number} here", line, columns[0], values[0], True)
        if values[1] != 1:
            raise src.error("only single-mode instances (.sm) can be imported: expected 1 mode", line,
                            columns[1], values[1], True)
        succ = values[3:]
        if len(succ) != values[2]:
            raise src.error(f"says {values[2]} successors but lists {len(succ)}", line, columns[2])
        for value, column in zip(succ, columns[3:], strict=True):
            if not 1 <= value <= n or value == number:
                raise src.error(f"a successor must be another job, 1 to {n}", line, column, value, True)
        out.append((tuple(succ), line))
    return out


def _check_acyclic(src: _Lines, successors: list[tuple[tuple[int, ...], int]]) -> None:
    preds: list[list[int]] = [[] for _ in successors]
    for job, (succ, _) in enumerate(successors):
        for s in succ:
            preds[s - 1].append(job)
    try:
        topological_order(preds)
    except PrecedenceCycle as cycle:
        # Every blocked job has a blocked predecessor: walking back from one must come round.
        blocked, walk, job = set(cycle.blocked), [], cycle.blocked[0]
        while job not in walk:
            walk.append(job)
            job = next(p for p in preds[job] if p in blocked)
        loop = sorted(walk[walk.index(job):])
        raise src.error(f"precedence cycle through jobs {', '.join(str(j + 1) for j in loop)}",
                        successors[loop[0]][1]) from None


# --------------------------------------------------------------------------- the mapping


def _dropped(inst: Instance) -> set[int]:
    """The dummy supersource and supersink (job numbers) that are left out."""
    jobs = inst.jobs
    has_preds = {s for j in jobs for s in j.successors}
    out = set()
    first, last = jobs[0], jobs[-1]
    if first.duration == 0 and not any(first.requests) and first.number not in has_preds:
        out.add(first.number)
    if len(jobs) > 1 and last.duration == 0 and not any(last.requests) and not last.successors:
        out.add(last.number)
    return out


def _project(inst: Instance, name: str, release: int, pools: list[str], units: list[int]) -> dict[str, Any]:
    """One project's scenario entry; ``pools``/``units`` per renewable resource of the file."""
    dropped = _dropped(inst)
    preds: dict[int, list[int]] = {j.number: [] for j in inst.jobs}
    for j in inst.jobs:
        for s in j.successors:
            preds[s].append(j.number)
    tasks = []
    for j in inst.jobs:
        if j.number in dropped:
            continue
        task: dict[str, Any] = {"name": f"j{j.number}", "duration": j.duration}
        needs = {}
        for k, (req, column) in enumerate(zip(j.requests, j.columns, strict=True)):
            if req > units[k]:
                raise ScenarioError([Problem(
                    f"job {j.number} requests {req} units of resource R{k + 1}, but only {units[k]} are "
                    "available", file=str(inst.file), line=j.line, column=column, got=req, has_got=True)])
            if req:
                needs[pools[k]] = req
        if needs:
            task["needs"] = needs
        after = [f"j{p}" for p in sorted(preds[j.number]) if p not in dropped]
        if after:
            task["after"] = after
        tasks.append(task)
    return {"name": name, "arrival": release, "due": inst.due, "tasks": tasks}


def _names(stems: list[str]) -> list[str]:
    seen: Counter[str] = Counter(stems)
    count: Counter[str] = Counter()
    out = []
    for stem in stems:
        count[stem] += 1
        out.append(f"{stem}-{count[stem]}" if seen[stem] > 1 else stem)
    return out


def single_scenario(inst: Instance) -> dict[str, Any]:
    """The scenario (plain data) of a single ``.sm`` instance."""
    pools = [f"R{k + 1}" for k in range(len(inst.capacities))]
    resources = {p: c for p, c in zip(pools, inst.capacities, strict=True) if c > 0}
    project = _project(inst, stem_name(inst.file), inst.release, pools, list(inst.capacities))
    horizon = _horizon([inst], inst.release, lambda work: Problem(
        f"the release date: the horizon (this release date, then every job's duration, {work:,} "
        f"days in all, plus one) must be at most {MAX_HORIZON:,} days", file=str(inst.file),
        line=inst.release_at[0], column=inst.release_at[1], got=inst.release, has_got=True))
    return _scenario(stem_name(inst.file), inst.file, f"PSPLIB single-mode instance {inst.file.name}",
                     horizon, resources, [project])


def portfolio_scenario(portfolio: Portfolio, path: Path) -> dict[str, Any]:
    """The scenario (plain data) of an MPSPLIB portfolio and its ``.sm`` files."""
    instances = []
    for entry in portfolio.projects:
        instances.append(read_sm(entry.file))
        if sum(len(inst.jobs) for inst in instances) > MAX_JOBS:
            raise ScenarioError([Problem(f"the portfolio has more than {MAX_JOBS} jobs in all",
                                         file=str(path), line=entry.line)])
    names = _names([stem_name(p.file) for p in portfolio.projects])
    width = len(portfolio.capacities)
    resources = {f"R{k + 1}": c for k, c in enumerate(portfolio.capacities) if c > 0}
    projects = []
    for inst, entry, name in zip(instances, portfolio.projects, names, strict=True):
        if len(inst.capacities) != width:
            raise ScenarioError([Problem(f"{entry.written} has {len(inst.capacities)} renewable resources, "
                                         f"the portfolio {width}", file=str(path), line=entry.line)])
        pools = [f"R{k + 1}" if portfolio.capacities[k] else f"R{k + 1}@{name}" for k in range(width)]
        units = [portfolio.capacities[k] or inst.capacities[k] for k in range(width)]
        resources.update({p: u for p, u, g in zip(pools, units, portfolio.capacities, strict=True)
                          if not g and u > 0})
        projects.append(_project(inst, name, entry.release, pools, units))
    last = max(portfolio.projects, key=lambda p: p.release)
    horizon = _horizon(instances, last.release, lambda work: Problem(
        f"a project's start: the horizon (this latest start, then every job's duration, "
        f"{work:,} days in all, plus one) must be at most {MAX_HORIZON:,} days",
        file=str(path), line=last.start_at[0], column=last.start_at[1], got=last.release,
        has_got=True))
    return _scenario(portfolio.name, path, f"MPSPLIB multi-project instance {path.name} "
                     f"({len(projects)} projects)", horizon, resources, projects)


def _horizon(instances: list[Instance], release: int, too_late: Callable[[int], Problem]) -> int:
    """The horizon of the jobs of ``instances`` after the latest ``release``: every duration,
    plus the release, plus one day. One that would pass :data:`MAX_HORIZON` is refused in the
    files, not in the generated scenario's lines: at the duration that passes it, or, the
    durations alone fitting, with ``too_late(work)`` (the release's problem)."""
    work = 0
    for inst in instances:
        for j in inst.jobs:
            work += j.duration
            if work >= MAX_HORIZON:
                raise ScenarioError([Problem(
                    f"a job's duration: the horizon (every job's duration, {work:,} days up to this "
                    f"one, plus one) must be at most {MAX_HORIZON:,} days", file=str(inst.file),
                    line=j.line, column=j.duration_column, got=j.duration, has_got=True)])
    if work + release + 1 > MAX_HORIZON:
        raise ScenarioError([too_late(work)])
    return work + release + 1


def _scenario(name: str, path: Path, source: str, horizon: int, resources: dict[str, int],
              projects: list[dict[str, Any]]) -> dict[str, Any]:
    if not resources:
        raise ScenarioError([Problem("the instance has no renewable resource with units available",
                                     file=str(path))])
    return {
        "name": name,
        "description": f"{source}, imported by pmo-sim import psplib",
        "horizon": horizon,
        "resources": {p: {"kind": "equipment", "units": u} for p, u in resources.items()},
        "projects": projects,
        "pmo": {"resource_manager": {"allocation": "fifo", "batch_simultaneous": True}},
        "policies": {rule: ({} if rule == "fifo" else {"resource_manager": {"allocation": rule}})
                     for rule in POLICIES},
    }


def instance_files(path: Path) -> list[Path]:
    """The files an import of ``path`` reads: the instance and, for an MPSPLIB ``.xml``, the
    ``.sm`` project files it names (an output there would destroy an input)."""
    if path.suffix.lower() != ".xml":
        return [path]
    return [path, *(p.file for p in read_portfolio(path, _read(path)).projects)]


def instance_scenario(path: Path) -> dict[str, Any]:
    """The scenario (plain data) of a ``.sm`` or MPSPLIB ``.xml`` file."""
    suffix = path.suffix.lower()
    if suffix == ".sm":
        return single_scenario(read_sm(path))
    if suffix == ".xml":
        return portfolio_scenario(read_portfolio(path, _read(path)), path)
    raise ScenarioError([Problem("expected a PSPLIB single-mode instance (.sm) or an MPSPLIB portfolio "
                                 "(.xml)", file=str(path))])


# --------------------------------------------------------------------------- YAML


def to_yaml(scenario: dict[str, Any], source: Path) -> str:
    """Readable YAML of an imported scenario: one line per task (and per pool and policy).

    Written by libyaml (:func:`~pmo_sim.scenario.writer.dump_yaml`): ruamel.yaml's round-trip
    writer took ~14 s of a 5,000-job instance's 16 s import."""
    doc = dict(scenario)
    doc["resources"] = {k: Flow(v) for k, v in scenario["resources"].items()}
    doc["projects"] = [{**p, "tasks": [Flow(t) for t in p["tasks"]]} for p in scenario["projects"]]
    doc["policies"] = {k: Flow(v) for k, v in scenario["policies"].items()}
    header = (f"Imported by `pmo-sim import psplib` from {printable(source.name)}: renewable resources are\n"
              "equipment pools, activities fixed-duration tasks with needs. Durations are fixed, so one\n"
              "replication is the whole story: pmo-sim run FILE -n 1")
    # (the name escaped: a line break in it would end the comment, the rest read as scenario)
    comment = "".join(f"# {line}\n" for line in header.split("\n"))
    return comment + dump_yaml(doc, width=1 << 30)  # a task stays on its line


def import_instance(path: Path) -> str:
    """The validated scenario YAML of a PSPLIB ``.sm`` or MPSPLIB ``.xml`` instance."""
    text = to_yaml(instance_scenario(path), path)
    load_scenario_text(text, f"<scenario imported from {path.name}>")
    return text
