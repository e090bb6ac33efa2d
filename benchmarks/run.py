"""pmo-sim speed benchmarks on the reference portfolio (benchmarks/reference.yaml).

Run from the repository root::

    .venv/bin/python benchmarks/run.py                 # default: 40 replications x 5 rounds
    .venv/bin/python benchmarks/run.py --quick         # a smoke run (seconds)
    .venv/bin/python benchmarks/run.py --profile       # cProfile of pmo-sim (--policy fifo|wsjf)

What it prints, side by side in one run:

1. Agreement: pmo-sim's KPIs against the hand-written yardsticks on the same Plans (largest
   relative difference per KPI) for ``fifo`` (benchmarks/yardstick.py), ``wsjf`` (a policy
   added in memory: the rule alone, no WIP limit) and the reference's ``wsjf-wip`` (WIP
   limit 4) (benchmarks/yardstick_wsjf.py).
2. CPU ms per replication (one policy, plan sampling included) of pmo-sim
   (``run_replication(sc, r, seed, [policy], sampler=...)``) and of the yardstick, for fifo and
   wsjf, timed ABAB over several rounds with ``time.process_time`` (CPU, not wall: the machine
   is shared); medians and the median of the per-round ratios. Plan sampling alone is timed too.
3. Per model event (pmo-sim's ``events`` KPI): pmo-sim's CPU per event against the pure-Python
   heapq floor (benchmarks/floor.py) running the same number of events in the same rounds.
4. Parallel scaling of the engine alone: replications per second in one process vs a
   ProcessPoolExecutor with ``os.cpu_count()`` workers, each measured in a fresh subprocess
   (so that ``ru_maxrss``, a high-water mark, belongs to that run alone); parallel efficiency
   from wall time and, less sensitive to other load on the machine, from CPU time.
5. Peak memory (ru_maxrss of the parent and of the largest worker) of a 2-worker run.

``run_experiment`` end to end (``-j 2`` against ``-j 1``, Dask, memory up to 100,000
replications, start-up) is benchmarks/montecarlo.py; the scaling of the engine with the
portfolio's size is benchmarks/scaling.py.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import cProfile
import datetime as dt
import gc
import json
import math
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import yardstick
import yardstick_wsjf
from common import REFERENCE, TreePeak, cpu_seconds, rss_mb, source_commit
from floor import floor_loop

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Plan, Sampler
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

POLICY = "fifo"  # the policy of the parallel and profile runs
COMPARED = ("fifo", "wsjf")  # the policies timed against their yardsticks
#: The wsjf rule alone (no WIP limit), added to the reference's policies in memory.
WSJF_POLICY = {"policies.wsjf": {"resource_manager": {"allocation": "wsjf"}}}
TARGETS = {  # issue 11
    "cpu_ratio": 1.0,  # pmo-sim CPU per replication / the yardstick's, at most
    "floor_ratio": 5.0,  # pmo-sim CPU per model event / the heapq floor's, at most
    "parallel_efficiency": 0.85,  # on 2 cores, at least
    "peak_mb_2_workers": 200.0,  # parent + 2 workers, at most
}

Json = dict[str, Any]
Simulate = Callable[[Plan], dict[str, float]]


# --------------------------------------------------------------------------- loading


def load_reference(path: Path = REFERENCE, with_wsjf: bool = False) -> Scenario:
    """The reference scenario; with ``with_wsjf``, plus a ``wsjf`` policy (the rule alone)."""
    return load_scenario(path, WSJF_POLICY if with_wsjf else None)


# --------------------------------------------------------------------------- the models


def yardstick_for(sc: Scenario, policy: str) -> Simulate:
    """The hand-written model of ``policy`` (fifo without WIP limit, or wsjf)."""
    rm = sc.policies[policy].resource_manager
    if rm.allocation == "fifo" and rm.wip_limit is None:
        return partial(yardstick.simulate, sc)
    if rm.allocation == "wsjf":
        return partial(yardstick_wsjf.simulate, sc, wip_limit=rm.wip_limit)
    raise ValueError(f"no yardstick for policy {policy!r} ({rm.allocation}, WIP {rm.wip_limit})")


def pmo_sim_block(sc: Scenario, seed: int, reps: range, policy: str = POLICY) -> int:
    """pmo-sim on ``reps`` (plan sampling included; the scenario compiled once, as a chunk of
    ``run_experiment`` does); returns the events processed."""
    sampler = Sampler(sc)
    return sum(int(run_replication(sc, r, seed, [policy], sampler=sampler)[0].kpis["events"])
               for r in reps)


def yardstick_block(sc: Scenario, seed: int, reps: range, policy: str = POLICY) -> int:
    sampler = Sampler(sc)
    simulate = yardstick_for(sc, policy)
    return sum(int(simulate(sampler.plan(seed, r))["events"]) for r in reps)


def plan_block(sc: Scenario, seed: int, reps: range) -> int:
    sampler = Sampler(sc)
    for r in reps:
        sampler.plan(seed, r)
    return 0


def agreement(sc: Scenario, seed: int, reps: range, policy: str = POLICY) -> dict[str, float]:
    """Largest relative difference per KPI between pmo-sim and the yardstick of ``policy``."""
    worst = dict.fromkeys(yardstick.YARDSTICK_KPIS, 0.0)
    sampler = Sampler(sc)
    simulate = yardstick_for(sc, policy)
    for r in reps:
        ours = run_replication(sc, r, seed, [policy], sampler=sampler)[0].kpis
        theirs = simulate(sampler.plan(seed, r))
        for k in worst:
            a, b = float(ours[k]), float(theirs[k])
            if math.isnan(a) and math.isnan(b):
                continue
            diff = abs(a - b) / max(abs(a), 1e-12) if not (math.isnan(a) or math.isnan(b)) else math.inf
            worst[k] = max(worst[k], diff)
    return worst


def interleaved(sc: Scenario, seed: int, reps: range, rounds: int) -> Json:
    """ABAB timing of pmo-sim and the yardsticks (fifo, wsjf), plan sampling and the heapq
    floor (as many events as pmo-sim's fifo): CPU ms per replication, per-round ratios."""
    events = {p: pmo_sim_block(sc, seed, reps, p) for p in COMPARED}  # also warms caches up
    blocks: dict[str, Callable[[], object]] = {}
    for p in COMPARED:
        blocks[f"pmo-sim {p}"] = partial(pmo_sim_block, sc, seed, reps, p)
        blocks[f"yardstick {p}"] = partial(yardstick_block, sc, seed, reps, p)
    blocks["plan only"] = partial(plan_block, sc, seed, reps)
    blocks["heapq floor"] = partial(floor_loop, events[POLICY])
    yardstick_block(sc, seed, range(2), "wsjf")
    ms: dict[str, list[float]] = {k: [] for k in blocks}
    for _ in range(rounds):
        for name, block in blocks.items():
            gc.collect()
            gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
            t = time.process_time()
            block()
            ms[name].append((time.process_time() - t) * 1000 / len(reps))
    floor_us = statistics.median(ms["heapq floor"]) * 1000 * len(reps) / events[POLICY]
    out: Json = {"ms": {k: statistics.median(v) for k, v in ms.items()}, "rounds": ms,
                 "floor_us_per_event": floor_us, "policies": {}}
    for p in COMPARED:
        per_event = len(reps) / events[p]  # replications per event: ms/rep -> ms/event
        pmo = ms[f"pmo-sim {p}"]
        floor_ratio = [a * per_event / (f * len(reps) / events[POLICY])
                       for a, f in zip(pmo, ms["heapq floor"], strict=True)]
        out["policies"][p] = {
            "ratio": statistics.median(a / b for a, b in zip(pmo, ms[f"yardstick {p}"], strict=True)),
            "events_per_rep": events[p] / len(reps),
            "events_per_cpu_s": events[p] / len(reps) / (statistics.median(pmo) / 1000),
            "us_per_event": statistics.median(pmo) * per_event * 1000,
            "floor_ratio": statistics.median(floor_ratio),
        }
    return out


# --------------------------------------------------------------------------- subprocess probes

_SCENARIO: Scenario | None = None


def _init_worker(path: str) -> None:
    global _SCENARIO
    _SCENARIO = load_reference(Path(path))


def _work(args: tuple[int, int, int]) -> int:
    seed, start, stop = args
    assert _SCENARIO is not None
    return pmo_sim_block(_SCENARIO, seed, range(start, stop))


def probe(kind: str, replications: int, jobs: int, seed: int) -> Json:
    """One measured run in this (fresh) process: wall, CPU and peak memory."""
    sc = load_reference()
    sampler = TreePeak()
    sampler.start()
    wall = time.perf_counter()
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    if kind == "serial":
        pmo_sim_block(sc, seed, range(replications))
    elif kind == "pool":
        chunk = max(1, min(50, replications // (4 * jobs)))
        tasks = [(seed, a, min(a + chunk, replications)) for a in range(0, replications, chunk)]
        with cf.ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(str(REFERENCE),)) as ex:
            for _ in ex.map(_work, tasks):
                pass
    else:
        raise ValueError(kind)
    wall = time.perf_counter() - wall
    return {
        "peak_total_mb": sampler.stop(),
        "kind": kind, "replications": replications, "jobs": jobs, "wall_s": wall,
        "cpu_self_s": cpu_seconds(resource.RUSAGE_SELF) - cpu,
        "cpu_children_s": cpu_seconds(resource.RUSAGE_CHILDREN),
        "rss_self_mb": rss_mb(resource.getrusage(resource.RUSAGE_SELF)),
        "rss_child_mb": rss_mb(resource.getrusage(resource.RUSAGE_CHILDREN)),
    }


def run_probe(kind: str, replications: int, jobs: int, seed: int) -> Json:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", kind,
           "--replications", str(replications), "--jobs", str(jobs), "--seed", str(seed)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def scaling(replications: int, jobs: int, seed: int, rounds: int) -> Json:
    """Serial vs ``jobs`` workers, alternated ``rounds`` times; the best round of each."""
    serial, pool = [], []
    for _ in range(rounds):
        serial.append(run_probe("serial", replications, 1, seed))
        pool.append(run_probe("pool", replications, jobs, seed))
    s = min(serial, key=lambda p: p["wall_s"])
    p = min(pool, key=lambda p: p["wall_s"])
    two = p if jobs == 2 else run_probe("pool", replications, 2, seed)
    serial_rate = replications / s["wall_s"]
    pool_rate = replications / p["wall_s"]
    return {
        "jobs": jobs,
        "serial_rps": serial_rate,
        "pool_rps": pool_rate,
        "efficiency_wall": pool_rate / (jobs * serial_rate),
        "efficiency_cpu": s["cpu_self_s"] / (p["cpu_children_s"] + p["cpu_self_s"]),
        "two_workers": two,
    }


# --------------------------------------------------------------------------- profile


def profile(sc: Scenario, seed: int, replications: int, policy: str, top: int = 25) -> None:
    pmo_sim_block(sc, seed, range(2), policy)
    prof = cProfile.Profile()
    prof.enable()
    pmo_sim_block(sc, seed, range(replications), policy)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


# --------------------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report_agreement(sc: Scenario, seed: int, n: int) -> None:
    policies = (*COMPARED, "wsjf-wip")
    worst = {p: agreement(sc, seed, range(n), p) for p in policies}
    print(f"agreement with the yardsticks over {n} replications (largest relative difference):")
    print(f"  {'':<20}" + "".join(f"{p:>10}" for p in policies))
    for k in yardstick.YARDSTICK_KPIS:
        print(f"  {k:<20}" + "".join(f"{worst[p][k]:>10.1e}" for p in policies))


def report_cpu(t: Json, reps: int, rounds: int) -> None:
    print(f"\nCPU per replication, {rounds} ABAB rounds of {reps} replications (median; plan "
          "sampling included; the floor runs as many events as pmo-sim fifo):")
    for k, v in t["ms"].items():
        print(f"  {k:<16} {v:8.2f} ms   rounds: " + " ".join(f"{x:.2f}" for x in t["rounds"][k]))
    pol = t["policies"]
    ratios = [pol[p]["ratio"] for p in COMPARED]
    print("  ratio pmo-sim / yardstick: " + ", ".join(f"{p} {pol[p]['ratio']:.2f}" for p in COMPARED)
          + f"  (target <= {TARGETS['cpu_ratio']}: {_verdict(max(ratios) <= TARGETS['cpu_ratio'])})")
    floors = [pol[p]["floor_ratio"] for p in COMPARED]
    print("  per model event: pmo-sim " + ", ".join(f"{p} {pol[p]['us_per_event']:.2f} us" for p in COMPARED)
          + f"; heapq floor {t['floor_us_per_event']:.3f} us")
    print("  ratio pmo-sim / floor per event: "
          + ", ".join(f"{p} {pol[p]['floor_ratio']:.1f}" for p in COMPARED)
          + f"  (target <= {TARGETS['floor_ratio']:g}: {_verdict(max(floors) <= TARGETS['floor_ratio'])})")
    for p in COMPARED:
        print(f"  pmo-sim {p}: {pol[p]['events_per_rep']:.0f} events/replication, "
              f"{pol[p]['events_per_cpu_s']:,.0f} events per CPU second")


def report_parallel(s: Json, replications: int) -> None:
    two = s["two_workers"]
    print(f"\nparallel engine, {replications} replications of {POLICY!r} "
          "(fresh subprocesses, best of rounds):")
    print(f"  1 process        {s['serial_rps']:7.1f} replications/s (wall)")
    print(f"  {s['jobs']} workers        {s['pool_rps']:7.1f} replications/s (wall)")
    print(f"  efficiency: wall {s['efficiency_wall']:.2f}, CPU {s['efficiency_cpu']:.2f}  "
          f"(target >= {TARGETS['parallel_efficiency']}: "
          f"{_verdict(s['efficiency_wall'] >= TARGETS['parallel_efficiency'])})")
    peak = two["peak_total_mb"]
    print(f"  2-worker run, peak RSS: parent {two['rss_self_mb']:.0f} MB, largest worker "
          f"{two['rss_child_mb']:.0f} MB (ru_maxrss); parent + workers {peak:.0f} MB (sampled sum) "
          f"(target <= {TARGETS['peak_mb_2_workers']:.0f}: {_verdict(peak <= TARGETS['peak_mb_2_workers'])})")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--replications", type=int, default=None,
                    help="replications per timing block (default 40; 10 with --quick)")
    ap.add_argument("--rounds", type=int, default=None, help="ABAB rounds (default 5; 3 with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--profile", action="store_true", help="only profile pmo-sim (cProfile, tottime)")
    ap.add_argument("--policy", choices=COMPARED, default=POLICY, help="the policy --profile runs")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help=argparse.SUPPRESS)
    ap.add_argument("--probe", choices=("serial", "pool"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if any(v is not None and v < 1 for v in (args.replications, args.rounds)):
        ap.error("--replications and --rounds must be at least 1")

    if args.probe:
        print(json.dumps(probe(args.probe, args.replications, args.jobs, args.seed)))
        return 0
    reps = args.replications or (10 if args.quick else 40)
    rounds = args.rounds or (3 if args.quick else 5)
    sc = load_reference(with_wsjf=True)
    if args.profile:
        profile(sc, args.seed, reps * 5, args.policy)
        return 0

    print(f"pmo-sim benchmarks — {dt.datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs — "
          f"Python {sys.version.split()[0]} — pmo-sim {source_commit()}")
    print(f"scenario {REFERENCE.name}: {len(sc.resources)} pools, "
          f"{sum(p.headcount for p in sc.resources.values())} people, horizon {sc.horizon:g} days, "
          f"policies {', '.join(COMPARED)} (wsjf added in memory: the rule alone)\n")
    report_agreement(sc, args.seed, max(reps, 20))
    report_cpu(interleaved(sc, args.seed, range(reps), rounds), reps, rounds)
    scale_reps = 40 if args.quick else 200
    report_parallel(scaling(scale_reps, args.jobs, args.seed, 1 if args.quick else 2), scale_reps)
    print("\nrun_experiment end to end: benchmarks/montecarlo.py; scaling: benchmarks/scaling.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
