"""The engine against an independent parallel schedule-generation scheme, on real benchmarks.

Every PSPLIB/MPSPLIB instance bundled in tests/data/psplib (see its README for where each
file and each published figure comes from) is imported with ``pmo-sim import psplib`` and run
under every allocation rule. This module reads the raw ``.sm``/``.xml`` files itself — not with
:mod:`pmo_sim.io.psplib` — and schedules them with a textbook parallel SGS (:func:`psgs`):
time jumps to the next completion (or release); at each such instant the eligible activities
(released, every predecessor finished) are taken in rule order, and each is started at once if
every resource it requests still has the units. pmo-sim must start every activity on the
same day, so give the same makespan.

The rule order, as pmo-sim defines it (pmo_sim/rules/allocation.py; the tie-break appended by
pmo_sim/pmo/resource_manager.py), smallest first:

- ``lst`` / ``lft``: the activity's CPM latest start / finish, counted backward from its
  project's absolute due date (release + the file's due date): release + due − (longest path
  from the activity's start to the project's end) [+ its duration for ``lft``];
- ``edd``: the project's absolute due date;
- ``min_slack``: the project's due date − now − its longest chain of remaining work (what is
  left of a running activity, or the whole duration of one not started, plus the longest path
  after it); ``srpt``: the project's remaining work (durations not started, plus what is left
  of the running ones: a fixed duration is a task's effort). Both move with time, but not
  within a decision instant: an activity starting keeps its chain and its work;
- ``priority`` and ``wsjf``: every imported project has the default priority and no value, so
  they are ``fifo``;
- ``fifo``, and every tie of the others: project release, the activity's ready time (when its
  last predecessor finished, or its project's release), project file order, job number.

So every rule is checked on every instance, start time by start time. Every run is also held
to what any schedule must be: feasible (precedence, release dates, exact durations, no
resource over its capacity at any instant) and no shorter than the instance's optimum or
lower bound.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import pmo_sim as ps
from pmo_sim.experiment.single import SimulationResult
from pmo_sim.io.psplib import import_instance
from pmo_sim.scenario.loader import load_scenario_text

DATA = Path(__file__).parent / "data" / "psplib"
SINGLE = sorted(p for d in ("j30", "j60", "j120") for p in (DATA / d).glob("*.sm"))
SINGLE += sorted(p for p in (DATA / "mpsplib" / "KolischInstanzen" / "j30").glob("*.sm")
                 if not (DATA / "j30" / p.name).exists())  # (j3020_9 is in both, byte for byte)
INSTANCES = SINGLE + sorted((DATA / "mpsplib").glob("*.xml"))
EXTRA_RULES = ("priority", "edd", "srpt", "wsjf")  # beside the imported fifo, min_slack, lst, lft
ALL_RULES = ("fifo", "min_slack", "lst", "lft", *EXTRA_RULES)


# --------------------------------------------------------------------------- reading the files


@dataclass(frozen=True)
class Activity:
    project: int  # file order in the portfolio
    job: int
    duration: int
    needs: dict[str, int]  # pool -> units
    preds: tuple[int, ...]  # job numbers, dummies left out
    release: int
    due: int  # absolute


def _numbers(line: str) -> list[int]:
    return [int(x) for x in line.split()]


def read_sm(path: Path) -> tuple[list[tuple[int, int, list[int], list[int]]], list[int], int, int]:
    """(job, duration, renewable requests, successors) per job; capacities; due date; MPM-Time."""
    lines = path.read_text(encoding="ascii").splitlines()
    at = {line.split(":")[0].strip(): i for i, line in enumerate(lines) if line.endswith(":")}
    renewable = int(re.search(r"- renewable\s*:\s*(\d+)", "\n".join(lines))[1])  # type: ignore[index]
    _, _, _, due, _, mpm = _numbers(lines[at["PROJECT INFORMATION"] + 2])
    successors = {}
    i = at["PRECEDENCE RELATIONS"] + 2
    while not lines[i].startswith("*"):
        job, _, _, *succ = _numbers(lines[i])
        successors[job] = succ
        i += 1
    jobs = []
    i = at["REQUESTS/DURATIONS"] + 3
    while not lines[i].startswith("*"):
        job, _, duration, *requests = _numbers(lines[i])
        jobs.append((job, duration, requests[:renewable], successors[job]))
        i += 1
    capacities = _numbers(lines[at["RESOURCEAVAILABILITIES"] + 2])[:renewable]
    return jobs, capacities, due, mpm


def read_instance(path: Path) -> tuple[list[Activity], dict[str, int], dict[int, str], int]:
    """Activities, pool capacities, project names and the critical-path lower bound
    max(release + MPM-Time), for an ``.sm`` file or an MPSPLIB portfolio (a capacity of 0 there:
    each project keeps its own units of that resource)."""
    if path.suffix == ".sm":
        entries, shared = [(path, 0)], None
    else:
        mp = ET.parse(path).getroot().find("mp")
        assert mp is not None
        entries = [(path.parent / p.findtext("filename", ""), int(p.findtext("start", "")))
                   for p in mp.iter("project")]
        shared = [int(r.text or "") for r in mp.iter("resource")]
    activities, pools, names, bound = [], {}, {}, 0
    for k, (file, release) in enumerate(entries):
        jobs, capacities, due, mpm = read_sm(file)
        names[k] = file.stem
        bound = max(bound, release + mpm)
        pool = [f"R{r + 1}" if shared is None or shared[r] else f"R{r + 1}@{k}"
                for r in range(len(capacities))]
        for r, name in enumerate(pool):
            pools[name] = shared[r] if shared is not None and shared[r] else capacities[r]
        first, last = jobs[0][0], jobs[-1][0]  # the dummy supersource and supersink
        preds: dict[int, list[int]] = {job: [] for job, *_ in jobs}
        for job, _, _, succ in jobs:
            for s in succ:
                if job != first:
                    preds[s].append(job)
        for job, duration, requests, _ in jobs:
            if job not in (first, last):
                assert duration > 0  # no milestones in these files: psgs need not handle them
                needs = {pool[r]: u for r, u in enumerate(requests) if u}
                activities.append(Activity(k, job, duration, needs, tuple(preds[job]), release,
                                           release + due))
    return activities, pools, names, bound


# --------------------------------------------------------------------------- the reference


def tails(acts: list[Activity]) -> dict[tuple[int, int], int]:
    """The longest path from each activity's start to its project's end (its duration included)."""
    succs: dict[tuple[int, int], list[Activity]] = {(a.project, a.job): [] for a in acts}
    for a in acts:
        for p in a.preds:
            succs[(a.project, p)].append(a)
    tail: dict[tuple[int, int], int] = {}

    def walk(a: Activity) -> int:
        key = (a.project, a.job)
        if key not in tail:
            tail[key] = a.duration + max((walk(s) for s in succs[key]), default=0)
        return tail[key]

    for a in acts:
        walk(a)
    return tail


Key = Callable[[Activity], float]


def ranking(rule: str, acts: list[Activity]) -> Callable[[int, dict[tuple[int, int], int]], Key]:
    """``rank(now, starts)``: the key of each eligible activity at a decision time, given the
    start of every activity started so far."""
    tail = tails(acts)

    def left(now: int, starts: dict[tuple[int, int], int]) -> dict[int, tuple[int, int]]:
        """Per project: the longest chain of remaining work, and all the remaining work."""
        out: dict[int, tuple[int, int]] = {}
        for a in acts:
            k = (a.project, a.job)
            remaining = a.duration if k not in starts else starts[k] + a.duration - now
            chain, work = out.get(a.project, (0, 0))
            if remaining > 0:  # (a finished activity has none left)
                out[a.project] = (max(chain, remaining + tail[k] - a.duration), work + remaining)
        return out

    def rank(now: int, starts: dict[tuple[int, int], int]) -> Key:
        if rule in ("fifo", "priority", "wsjf"):  # equal priorities; value_per_day 0: -0/work
            return lambda a: 0
        if rule in ("edd", "lst", "lft"):
            return {"edd": lambda a: a.due,
                    "lst": lambda a: a.due - tail[(a.project, a.job)],
                    "lft": lambda a: a.due - tail[(a.project, a.job)] + a.duration}[rule]
        rest = left(now, starts)
        if rule == "min_slack":
            return lambda a: a.due - now - rest[a.project][0]
        assert rule == "srpt"
        return lambda a: rest[a.project][1]

    return rank


def psgs(acts: list[Activity], capacity: dict[str, int], rule: str) -> dict[tuple[int, int], int]:
    """The parallel schedule-generation scheme: start time of every activity."""
    rank = ranking(rule, acts)
    free: dict[str, int] = dict(capacity)
    start: dict[tuple[int, int], int] = {}
    finish: dict[tuple[int, int], int] = {}
    ready: dict[tuple[int, int], int] = {}
    activity = {(a.project, a.job): a for a in acts}
    waiting = dict(activity)
    t = 0
    while waiting:
        for k, a in waiting.items():  # when each became eligible (its ready time)
            if k not in ready and a.release <= t and all(finish.get((a.project, p), t + 1) <= t
                                                          for p in a.preds):
                ready[k] = t
        key = rank(t, start)
        eligible = sorted((a for k, a in waiting.items() if k in ready),
                          key=lambda a: (key(a), a.release, ready[(a.project, a.job)], a.project, a.job))
        for a in eligible:
            if all(free[p] >= u for p, u in a.needs.items()):
                k = (a.project, a.job)
                start[k], finish[k] = t, t + a.duration
                del waiting[k]
                for p, u in a.needs.items():
                    free[p] -= u
        later = [f for f in finish.values() if f > t] + [a.release for a in waiting.values() if a.release > t]
        if not later:
            break
        t = min(later)
        for k, f in finish.items():  # what finishes now gives its units back
            if f == t:
                for p, u in activity[k].needs.items():
                    free[p] += u
    assert not waiting, "the reference deadlocked: some activity never fits"
    return start


# --------------------------------------------------------------------------- pmo-sim's side


@cache
def scenario_text(path: Path) -> str:
    text = import_instance(path)
    assert text.rstrip().endswith("lft: {resource_manager: {allocation: lft}}")
    return text + "".join(f"  {r}: {{resource_manager: {{allocation: {r}}}}}\n" for r in EXTRA_RULES)


@cache
def run(path: Path, rule: str) -> SimulationResult:
    return ps.simulate(load_scenario_text(scenario_text(path)), policy=rule, seed=0, replication=0)


def lower_bounds() -> dict[str, int]:
    """instance -> a proven lower bound of its makespan, from the data README's table: the
    optimum where it is known (``optimal ...``), the first number of ``LB–UB``, else (a
    heuristic's published result) the critical path."""
    text = (DATA / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\S+) \| (\d+) \| (\d+)(–\d+)? \| ([^|]+)\|", text, re.MULTILINE)
    return {name: int(known) if (what.startswith("optimal") or low_high) else int(cp)
            for name, cp, known, low_high, what in rows}


def schedule(one: SimulationResult, names: dict[int, str]) -> dict[tuple[int, int], tuple[float, float]]:
    index = {name: k for k, name in names.items()}
    out = {}
    for r in one.tasks.itertuples():
        key = (index[r.project], int(r.task[1:]))
        assert key not in out, f"{r.project} {r.task} appears twice in the trace"
        out[key] = (r.start, r.finish)
    return out


def assert_feasible(acts: list[Activity], capacity: dict[str, int],
                    times: dict[tuple[int, int], tuple[float, float]]) -> None:
    assert set(times) == {(a.project, a.job) for a in acts}, "not every activity ran exactly once"
    for a in acts:
        s, f = times[(a.project, a.job)]
        assert f - s == a.duration, f"activity {a.job} of project {a.project}: duration {f - s}"
        assert s >= a.release
        for p in a.preds:
            assert s >= times[(a.project, p)][1], f"activity {a.job} starts before {p} finishes"
    for t in sorted({s for s, _ in times.values()}):  # usage only rises when something starts
        for pool, units in capacity.items():
            used = sum(a.needs.get(pool, 0) for a in acts
                       if times[(a.project, a.job)][0] <= t < times[(a.project, a.job)][1])
            assert used <= units, f"{pool}: {used} units in use at day {t}, capacity {units}"


# --------------------------------------------------------------------------- the tests


def _id(path: Path) -> str:
    return path.stem


@pytest.mark.parametrize("path", INSTANCES, ids=_id)
def test_every_rule_gives_a_feasible_schedule_no_shorter_than_the_known_bound(path: Path) -> None:
    acts, capacity, names, cp_bound = read_instance(path)
    lower = lower_bounds()[path.stem]
    assert lower >= cp_bound  # the published bound is at least the critical path
    for rule in ALL_RULES:
        one = run(path, rule)
        assert (one.projects.status == "completed").all()
        assert_feasible(acts, capacity, schedule(one, names))
        assert one.projects.finish.max() >= lower, rule


@pytest.mark.parametrize("rule", ALL_RULES)
@pytest.mark.parametrize("path", INSTANCES, ids=_id)
def test_the_schedule_is_the_reference_parallel_sgs_one(path: Path, rule: str) -> None:
    acts, capacity, names, _ = read_instance(path)
    reference = psgs(acts, capacity, rule)
    one = run(path, rule)
    assert one.projects.finish.max() == max(reference[(a.project, a.job)] + a.duration for a in acts)
    assert {k: s for k, (s, _) in schedule(one, names).items()} == reference  # every start, too


# Not an MPSPLIB instance: four bundled J30 files released while work of the first ones is
# finishing (j3013_1 arrives at day 2, as two activities of j3029_5 complete), so a release and
# completions fall at one instant; R1 and R3 shared, R2 and R4 each project's own (15 each), or
# all four shared (20 each).
MADE_UP = (("j3029_5", 0), ("j3013_1", 2), ("j3042_2", 4), ("j301_1", 8))


@pytest.fixture(scope="module", params=[(15, 0, 15, 0), (20, 20, 20, 20)],
                ids=lambda c: "-".join(map(str, c)))
def made_up(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("portfolio")
    files = folder / "KolischInstanzen" / "j30"
    files.mkdir(parents=True)
    for name, _ in MADE_UP:
        (files / f"{name}.sm").write_bytes((DATA / "j30" / f"{name}.sm").read_bytes())
    projects = "".join(f"<project><filename>KolischInstanzen/j30/{name}.sm</filename><start>{start}</start>"
                       "</project>" for name, start in MADE_UP)
    resources = "".join(f"<resource>{c}</resource>" for c in request.param)
    path = folder / "made_up.xml"
    path.write_text(f"<mp-list><mp><name>made_up</name><project-list>{projects}</project-list>"
                    f"<resources>{resources}</resources></mp></mp-list>\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("rule", ALL_RULES)
def test_releases_at_the_instant_of_completions_are_ranked_with_them(made_up: Path, rule: str) -> None:
    acts, capacity, names, bound = read_instance(made_up)
    one = run(made_up, rule)
    assert_feasible(acts, capacity, schedule(one, names))
    assert one.projects.finish.max() >= bound
    assert {k: s for k, (s, _) in schedule(one, names).items()} == psgs(acts, capacity, rule)
