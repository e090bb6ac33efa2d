"""How pmo-sim's cost grows with the portfolio: every allocation rule at 1×, 4×, 16×, 64×.

Run from the repository root::

    .venv/bin/python benchmarks/scaling.py                       # every rule, both modes, WIP on/off
    .venv/bin/python benchmarks/scaling.py --quick               # 1x and 4x, one round: a smoke run
    .venv/bin/python benchmarks/scaling.py --rules fifo,wsjf --modes people --sizes 1,4,16,64

The portfolios are generated from the reference (benchmarks/reference.yaml: 40 projects, 4
pools of 20 people, 750 days) as :class:`~pmo_sim.scenario.models.Scenario` objects in memory
(``load_scenario`` with overrides; nothing is written). At size k:

* the intake's ``count`` is 40k and the mean time between arrivals 12/k days;
* mode ``people`` ("projects and people"): every pool's headcount is k times the reference's,
  so the work offered per person, and so the utilisation and queueing, are the reference's;
  the k× portfolio is k reference portfolios side by side sharing the pools;
* mode ``projects`` ("projects only"): headcount fixed, so the pools are k times overloaded:
  the work done (the events) stays bounded by the people while the ready queues and, under a
  WIP limit, the backlog grow with k. It measures how the cost of an event grows with queue
  lengths;
* each rule runs with no WIP limit and with a limit of 4k open projects (the reference's
  ``wsjf-wip`` has 4 for its 40 projects: the limit scales with the portfolio);
* with ``--needs``, tasks hold several pools at once: integrations two testers and one unit of
  a test rig (2 units per reference size in mode ``people``, 2 in all in mode ``projects``),
  releases their ops crew and a developer; every allocation then ranks the ready tasks of all
  pools together (:class:`~pmo_sim.pmo.dispatch.NeedsQueue`,
  :mod:`pmo_sim.pmo.dynamic_needs`).

Why the arrival rate is scaled and not the horizon: the reference's arrivals fill about 480 of
its 750 days. Keeping their rate and lengthening the horizon 64-fold to fit 64× as many
projects would simulate the *same* small portfolio for longer (same queues, same number of
projects open at once), which says nothing about large portfolios. Scaling the rate keeps
the arrival window inside the same horizon, with the same warm-up, ramp-ups, attrition and
change-request spells, and (mode ``people``) the same load per person: only the size grows.

Measured per (mode, WIP, rule, size): CPU per replication (``time.process_time``, median of
the rounds; one policy through the public ``run_replication(sc, r, seed, [policy],
sampler=Sampler(sc))``, so plan sampling is included and the scenario is compiled once, as a
chunk of ``run_experiment`` does) and model events per CPU second (the ``events`` KPI). Per
rule: the log-log slope of CPU per replication against size (least squares over all sizes,
and the last segment alone, e.g. 16×→64×), and at the largest size the ratio to ``fifo``: the
median over the rounds of the rule's CPU over fifo's in the same round (a ratio of the two
medians would divide figures of different rounds, minutes apart on a shared machine whose speed
moves by tens of per cent; at 16× one replication per round made it read up to 2× for rules
that cost 1.3–1.5× by instruction counts, ``benchmarks/instructions.py``).
Slope 1 is linear scaling (in mode ``projects`` the events do not grow k-fold, so a slope
above the events' own says the cost per event grows).

Replications: ``--reps N`` at 1× (default 16) and N/k, at least 1, at k×, so each timing
block simulates about the same work; at 16× and 64× each round runs ONE replication. Rounds
(default 5) are whole passes over every size, mode and rule, so slow minutes of a shared
machine hit all cells alike; within a round the rules of a (size, mode, WIP) run back to back,
in reverse order every other round. The default run takes about 3 minutes with the engine of
2026-12-03 (most of it ``min_slack`` at 64×). Issue 11's targets: every slope <= 1.1 in both
modes; at 64× the slowest rule <= 1.5× fifo.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import itertools
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from common import REFERENCE, source_commit

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.rules.allocation import ALLOCATION_RULES
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

MODES = {"people": "projects and people", "projects": "projects only"}
WIP_PER_REFERENCE = 4  # open projects per reference-sized portfolio (the reference's wsjf-wip)
TARGETS = {"slope": 1.1, "slowest_over_fifo": 1.5}  # issue 11

Json = dict[str, Any]


def policy_name(rule: str, wip: bool) -> str:
    return f"{rule}-wip" if wip else rule


def scaled_scenario(base: Scenario, k: int, mode: str, rules: Sequence[str]) -> Scenario:
    """The reference at ``k`` times its size in ``mode``, with one policy per rule and WIP
    setting (``fifo``, ``fifo-wip``, ...)."""
    intake = base.intake
    if intake is None or intake.count is None or intake.arrivals.dist != "exponential":
        print(f"error: {REFERENCE}: scaling.py needs an intake with a count and exponential "
              "arrivals", file=sys.stderr)
        raise SystemExit(2)
    overrides: dict[str, Any] = {
        "intake.count": intake.count * k,
        "intake.arrivals": {"dist": "exponential", "mean": intake.arrivals.mean() / k},
        "policies": {policy_name(rule, wip): {"resource_manager": {
            "allocation": rule, "wip_limit": WIP_PER_REFERENCE * k if wip else None}}
            for rule in rules for wip in (False, True)},
    }
    if mode == "people":
        for name, pool in base.resources.items():
            overrides[f"resources.{name}.headcount"] = pool.headcount * k
    return load_scenario(REFERENCE, overrides)


#: ``--needs``: tasks that hold several pools at once (issue 10's multi-resource dispatch):
#: integrations hold two testers and one unit of a test rig, releases their ops crew and a
#: developer. Every allocation then ranks the ready tasks of all pools together.
RIG_UNITS = 2  # per reference size
RELEASES = ("release", "go-live", "cut-over", "r1-release", "r2-release", "r3-release")


def with_needs(sc: Scenario, k: int, mode: str) -> Scenario:
    """``sc`` (the reference at size ``k``) with its integrations and releases holding
    several pools, and a test rig of ``RIG_UNITS`` units per reference size (mode ``people``)
    or in all (mode ``projects``)."""
    data = sc.model_dump(mode="json", exclude_none=True)
    data["resources"]["rig"] = {"kind": "equipment", "day_rate": 100.0,
                                "units": RIG_UNITS * (k if mode == "people" else 1)}
    for template in data["intake"]["templates"]:
        for task in template["tasks"]:
            if task["name"] == "integration" or task["name"] in RELEASES:
                people = task.pop("people", 1)
                task["needs"] = ({task.pop("skill"): people, "rig": 1} if task["name"] == "integration"
                                 else {task.pop("skill"): people, "developers": 1})
    return Scenario.model_validate(data)


def replications_at(k: int, reps: int) -> int:
    return max(1, reps // k)


def time_block(sc: Scenario, sampler: Sampler, policy: str, reps: int, seed: int) -> tuple[float, int]:
    """CPU seconds and events of replications 0..reps-1 of one policy."""
    gc.collect()
    gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
    t = time.process_time()
    events = sum(int(run_replication(sc, r, seed, [policy], sampler=sampler)[0].kpis["events"])
                 for r in range(reps))
    return time.process_time() - t, events


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log y against log x (NaN with fewer than two points)."""
    if len(xs) < 2:
        return math.nan
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)


def measure(args: argparse.Namespace) -> Json:
    """Every (round, size, mode, WIP, rule) block; cells hold the per-round figures.

    A rule the engine fails on (e.g. one the scenario language accepts before the engine
    implements it) is recorded with its error and skipped from then on.
    """
    base = load_scenario(REFERENCE)
    worlds = {(k, m): scaled_scenario(base, k, m, args.rules) for k in args.sizes for m in args.modes}
    if args.needs:
        worlds = {(k, m): with_needs(sc, k, m) for (k, m), sc in worlds.items()}
    samplers = {key: Sampler(sc) for key, sc in worlds.items()}
    for mode in args.modes:  # warm up imports and caches outside the timings
        with contextlib.suppress(Exception):  # a failing rule is reported below
            time_block(worlds[args.sizes[0], mode], samplers[args.sizes[0], mode],
                       policy_name(args.rules[0], False), 1, args.seed)
    cells: dict[str, Json] = {}
    failed: dict[str, str] = {}
    for rnd, k, mode, wip, rule in blocks(args):
        line = f"{mode}|{wip}|{rule}"
        if line in failed:
            continue
        n = replications_at(k, args.reps)
        try:
            cpu, events = time_block(worlds[k, mode], samplers[k, mode], policy_name(rule, wip), n, args.seed)
        except Exception as exc:  # the engine's failure is a finding to report, not the end of the run
            failed[line] = f"{type(exc).__name__}: {exc}"
            print(f"  {k:>3}x {mode} {'WIP' if wip else ''} {rule}: fails: {failed[line]}",
                  file=sys.stderr, flush=True)
            continue
        cell = cells.setdefault(f"{line}|{k}", {"mode": mode, "wip": wip, "rule": rule, "size": k,
                                                "replications": n, "cpu_ms": [], "rounds": [],
                                                "events_per_rep": events / n})
        cell["cpu_ms"].append(cpu * 1000 / n)
        cell["rounds"].append(rnd)
        print(f"  round {rnd + 1} {k:>3}x {mode:<8} {'WIP' if wip else '   '} {rule:<9} "
              f"{cpu * 1000 / n:10.1f} ms/replication", file=sys.stderr, flush=True)
    for cell in cells.values():
        cell["cpu_ms_median"] = statistics.median(cell["cpu_ms"])
        cell["events_per_cpu_s"] = cell["events_per_rep"] / (cell["cpu_ms_median"] / 1000)
    return {"cells": list(cells.values()), "failures": failed, "summary": summarise(cells, failed, args)}


def blocks(args: argparse.Namespace) -> Iterator[tuple[int, int, str, bool, str]]:
    """The timing blocks in order: (round, size, mode, WIP, rule). Each round is a whole pass;
    within a (size, mode, WIP), every rule runs back to back, in reverse order every other
    round, so that a rule and ``fifo`` are timed close together and neither always first."""
    for rnd, k, mode, wip in itertools.product(range(args.rounds), args.sizes, args.modes, args.wip):
        for rule in (args.rules if rnd % 2 == 0 else args.rules[::-1]):
            yield rnd, k, mode, wip, rule


def ratio_to(cell: Json, base: Json | None) -> float:
    """The median over rounds of ``cell``'s CPU over ``base``'s in the same round: a slow
    stretch of a shared machine falls on both (two blocks of one round are seconds apart, the
    rounds minutes), where a ratio of medians takes each from another round."""
    if base is None:
        return math.nan
    by_round = dict(zip(base["rounds"], base["cpu_ms"], strict=True))
    ratios = [ms / by_round[r] for r, ms in zip(cell["rounds"], cell["cpu_ms"], strict=True)
              if r in by_round]
    return statistics.median(ratios) if ratios else math.nan


def summarise(cells: dict[str, Json], failed: dict[str, str], args: argparse.Namespace) -> list[Json]:
    """Per (mode, WIP, rule) that ran: slopes over the sizes (of the median CPU per size), and
    at the largest size the ratio to fifo (the median of the per-round ratios: :func:`ratio_to`)."""
    out = []
    top = args.sizes[-1]
    for mode, wip, rule in itertools.product(args.modes, args.wip, args.rules):
        if f"{mode}|{wip}|{rule}" in failed:
            continue
        ms = [cells[f"{mode}|{wip}|{rule}|{k}"]["cpu_ms_median"] for k in args.sizes]
        out.append({
            "mode": mode, "wip": wip, "rule": rule,
            "slope": loglog_slope(args.sizes, ms),
            "slope_last": loglog_slope(args.sizes[-2:], ms[-2:]),
            "over_fifo": ratio_to(cells[f"{mode}|{wip}|{rule}|{top}"], cells.get(f"{mode}|{wip}|fifo|{top}")),
        })
    return out


def _verdict(ok: bool, value: float) -> str:
    return "n/a" if math.isnan(value) else "ok" if ok else "MISSED"


def report(result: Json, args: argparse.Namespace) -> None:
    cells = {(c["mode"], c["wip"], c["rule"], c["size"]): c for c in result["cells"]}
    summary = {(s["mode"], s["wip"], s["rule"]): s for s in result["summary"]}
    sizes = args.sizes
    last = f"{sizes[-2]}x->{sizes[-1]}x" if len(sizes) > 1 else "last"
    for mode, wip in itertools.product(args.modes, args.wip):
        limit = f"WIP limit {WIP_PER_REFERENCE} per reference size" if wip else "no WIP limit"
        print(f"\n{MODES[mode]}, {limit}: CPU ms per replication (median) | "
              "model events per CPU second (thousands) | slopes | ratio to fifo (median of rounds)")
        print(f"  {'rule':<10}" + "".join(f"{f'{k}x':>10}" for k in sizes) + " |"
              + "".join(f"{f'{k}x':>7}" for k in sizes) + f" | {'slope':>6} {last:>11} |"
              + f" {f'/fifo {sizes[-1]}x':>10}")
        rows = []
        for rule in args.rules:
            error = result["failures"].get(f"{mode}|{wip}|{rule}")
            if error is not None:
                print(f"  {rule:<10}fails: {error}")
                continue
            row = [cells[mode, wip, rule, k] for k in sizes]
            s = summary[mode, wip, rule]
            rows.append(s)
            print(f"  {rule:<10}" + "".join(f"{c['cpu_ms_median']:>10.1f}" for c in row) + " |"
                  + "".join(f"{c['events_per_cpu_s'] / 1000:>7.0f}" for c in row)
                  + f" | {s['slope']:>6.2f} {s['slope_last']:>11.2f} | {s['over_fifo']:>10.2f}")
        if rows:
            report_targets(cells, rows, mode, wip, args)


def report_targets(cells: dict[tuple[str, bool, str, int], Json], rows: list[Json], mode: str, wip: bool,
                   args: argparse.Namespace) -> None:
    sizes = args.sizes
    worst = max(rows, key=lambda s: s["slope"])
    slowest = max(rows, key=lambda s: s["over_fifo"])
    first = rows[0]["rule"]
    print(f"  events per replication ({first}): "
          + ", ".join(f"{k}x {cells[mode, wip, first, k]['events_per_rep']:,.0f}" for k in sizes)
          + "; replications per round: " + ", ".join(f"{k}x {replications_at(k, args.reps)}" for k in sizes))
    print(f"  steepest slope {worst['slope']:.2f} ({worst['rule']}) (target <= {TARGETS['slope']}: "
          f"{_verdict(worst['slope'] <= TARGETS['slope'], worst['slope'])}); slowest at {sizes[-1]}x "
          f"{slowest['over_fifo']:.2f}x fifo ({slowest['rule']}) (target <= {TARGETS['slowest_over_fifo']}: "
          f"{_verdict(slowest['over_fifo'] <= TARGETS['slowest_over_fifo'], slowest['over_fifo'])})")


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(s) for s in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be whole numbers, e.g. 1,4,16,64 (got {text!r})"
                                         ) from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"sizes must be at least 1 (got {text!r})")
    return sizes


def _names(known: Sequence[str]) -> Any:
    def parse(text: str) -> list[str]:
        names = [s.strip() for s in text.split(",") if s.strip()]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown) or 'empty list'}; "
                                             f"choose from: {', '.join(known)}")
        return names

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", type=_sizes, default=None, help="size factors (default 1,4,16,64)")
    ap.add_argument("--reps", type=int, default=None, help="replications at 1x; N/k at kx (default 16)")
    ap.add_argument("--rounds", type=int, default=None, help="timing rounds (default 5)")
    ap.add_argument("--rules", type=_names(list(ALLOCATION_RULES)), default=list(ALLOCATION_RULES),
                    help="allocation rules (default: all): " + ",".join(ALLOCATION_RULES))
    ap.add_argument("--modes", type=_names(list(MODES)), default=list(MODES),
                    help="people (projects and people scaled) and/or projects (headcount fixed)")
    ap.add_argument("--wip", choices=("both", "off", "on"), default="both",
                    help="without and/or with the WIP limit (default both)")
    ap.add_argument("--needs", action="store_true",
                    help="integrations hold testers and a test rig, releases ops and a developer "
                         "(tasks holding several pools: every pool's ready tasks ranked together)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="1x and 4x, 4 replications, one round")
    ap.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if (args.reps is not None and args.reps < 1) or (args.rounds is not None and args.rounds < 1):
        ap.error("--reps and --rounds must be at least 1")
    args.sizes = args.sizes or ([1, 4] if args.quick else [1, 4, 16, 64])
    args.reps = args.reps or (4 if args.quick else 16)
    args.rounds = args.rounds or (1 if args.quick else 5)
    args.wip = {"both": [False, True], "off": [False], "on": [True]}[args.wip]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"pmo-sim scaling — {dt.datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs — "
          f"Python {sys.version.split()[0]} — pmo-sim {source_commit()}")
    print(f"reference{' with tasks holding several pools (--needs)' if args.needs else ''} x "
          f"{', '.join(map(str, args.sizes))}; rules {', '.join(args.rules)}; "
          f"{args.rounds} round(s); replications per round " +
          ", ".join(f"{k}x {replications_at(k, args.reps)}" for k in args.sizes))
    wall = time.perf_counter()
    result = measure(args)
    report(result, args)
    print(f"\nwall time {time.perf_counter() - wall:.0f} s")
    if args.json:
        result["meta"] = {"date": dt.datetime.now().isoformat(timespec="seconds"), "commit": source_commit(),
                          "sizes": args.sizes, "needs": args.needs, "reps_at_1x": args.reps,
                          "rounds": args.rounds, "seed": args.seed, "targets": TARGETS}
        args.json.write_text(json.dumps(result, indent=1, allow_nan=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
