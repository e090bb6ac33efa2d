"""pmo-sim speed and scale benchmarks on the reference portfolio (benchmarks/reference.yaml).

Run from the repository root::

    .venv/bin/python benchmarks/run.py                 # default: 40 replications x 5 rounds
    .venv/bin/python benchmarks/run.py --quick         # a smoke run (seconds)
    .venv/bin/python benchmarks/run.py --full          # + run_experiment with 10,000 replications
    .venv/bin/python benchmarks/run.py --profile       # cProfile of pmo-sim, top functions by tottime

What it prints, side by side in one run:

1. Agreement: pmo-sim's fifo KPIs against the hand-written yardstick (benchmarks/yardstick.py)
   on the same Plans (largest relative difference per KPI).
2. CPU ms per replication (one policy, fifo, plan sampling included) of pmo-sim
   (``run_replication(sc, r, seed, ["fifo"])``) and of the yardstick, timed ABAB over several
   rounds with ``time.process_time`` (CPU, not wall: the machine is shared); medians and the
   median of the per-round ratios. Plan sampling alone is timed too.
3. Simulation events per CPU second (pmo-sim's ``events`` KPI / its CPU time).
4. Parallel scaling: replications per second in one process vs a ProcessPoolExecutor with
   ``os.cpu_count()`` workers, each measured in a fresh subprocess (so that ``ru_maxrss``, a
   high-water mark, belongs to that run alone); parallel efficiency from wall time and, less
   sensitive to other load on the machine, from CPU time (serial CPU / workers' CPU).
5. Peak memory (ru_maxrss of the parent and of the largest worker) of a 2-worker run.
6. ``pmo_sim.experiment.run_experiment`` end to end (every policy, 2 jobs, results written to
   a temporary folder): replications/s and peak memory for 1,000 replications, and 10,000
   with ``--full``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import cProfile
import datetime as dt
import gc
import importlib
import json
import math
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yardstick import YARDSTICK_KPIS, simulate

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.models import Scenario

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.yaml"
POLICY = "fifo"
TARGETS = {
    "cpu_ratio": 1.2,  # pmo-sim CPU per replication / yardstick's, at most
    "parallel_efficiency": 0.85,  # on 2 cores, at least
    "peak_mb_2_workers": 200.0,  # parent + 2 workers, at most
}

Json = dict[str, Any]


# --------------------------------------------------------------------------- loading


def load_reference(path: Path = REFERENCE) -> Scenario:
    """The scenario through pmo-sim's YAML loader, or plain PyYAML + pydantic without it."""
    try:
        loader = importlib.import_module("pmo_sim.scenario.loader")
    except ImportError:
        loader = None
    if loader is not None and hasattr(loader, "load_scenario"):
        return loader.load_scenario(path)  # type: ignore[no-any-return]
    import yaml

    with open(path, encoding="utf-8") as fh:
        return Scenario.model_validate(yaml.safe_load(fh))


class TreePeak(threading.Thread):
    """Samples the RSS of this process and all its descendants (forkserver workers are
    grandchildren, invisible to RUSAGE_CHILDREN) and keeps the peak of the sum."""

    def __init__(self, every: float = 0.02):
        super().__init__(daemon=True)
        self.every = every
        self.peak_mb = 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self._stop_event.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop_event.wait(self.every)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_mb


def rss_mb(usage: resource.struct_rusage) -> float:
    return usage.ru_maxrss / 1024.0  # Linux reports kilobytes


def cpu_seconds(who: int) -> float:
    u = resource.getrusage(who)
    return u.ru_utime + u.ru_stime


# --------------------------------------------------------------------------- the two models


def pmo_sim_block(sc: Scenario, seed: int, reps: range) -> int:
    """pmo-sim on ``reps`` (plan sampling included; the scenario compiled once, as a chunk of
    ``run_experiment`` does); returns the events processed."""
    sampler = Sampler(sc)
    return sum(int(run_replication(sc, r, seed, [POLICY], sampler=sampler)[0].kpis["events"])
               for r in reps)


def yardstick_block(sc: Scenario, seed: int, reps: range) -> int:
    sampler = Sampler(sc)
    return sum(int(simulate(sc, sampler.plan(seed, r))["events"]) for r in reps)


def plan_block(sc: Scenario, seed: int, reps: range) -> int:
    sampler = Sampler(sc)
    for r in reps:
        sampler.plan(seed, r)
    return 0


def agreement(sc: Scenario, seed: int, reps: range) -> dict[str, float]:
    """Largest relative difference per KPI between pmo-sim and the yardstick."""
    worst = dict.fromkeys(YARDSTICK_KPIS, 0.0)
    for r in reps:
        ours = run_replication(sc, r, seed, [POLICY])[0].kpis
        theirs = simulate(sc, Sampler(sc).plan(seed, r))
        for k in YARDSTICK_KPIS:
            a, b = float(ours[k]), float(theirs[k])
            if math.isnan(a) and math.isnan(b):
                continue
            diff = abs(a - b) / max(abs(a), 1e-12) if not (math.isnan(a) or math.isnan(b)) else math.inf
            worst[k] = max(worst[k], diff)
    return worst


def interleaved(sc: Scenario, seed: int, reps: range, rounds: int) -> Json:
    """ABAB timing of pmo-sim and the yardstick (and plan sampling): CPU ms per replication."""
    blocks: dict[str, Callable[[Scenario, int, range], int]] = {
        "pmo-sim": pmo_sim_block, "yardstick": yardstick_block, "plan only": plan_block}
    for block in blocks.values():  # warm up caches (sampler, imports) outside the timings
        block(sc, seed, range(2))
    ms: dict[str, list[float]] = {k: [] for k in blocks}
    events = 0
    for _ in range(rounds):
        for name, block in blocks.items():
            gc.collect()
            t = time.process_time()
            n = block(sc, seed, reps)
            ms[name].append((time.process_time() - t) * 1000 / len(reps))
            if name == "pmo-sim":
                events = n
    ratios = [a / b for a, b in zip(ms["pmo-sim"], ms["yardstick"], strict=True)]
    med = {k: statistics.median(v) for k, v in ms.items()}
    return {
        "ms": med,
        "rounds": ms,
        "ratio": statistics.median(ratios),
        "events_per_rep": events / len(reps),
        "events_per_cpu_s": events / len(reps) / (med["pmo-sim"] / 1000),
    }


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
    tmp = None
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
    elif kind == "experiment":
        from pmo_sim.experiment import run_experiment

        tmp = tempfile.TemporaryDirectory(prefix="pmo-bench-")
        run_experiment(sc, replications=replications, seed=seed, jobs=jobs,
                       out=Path(tmp.name) / "run")
    else:
        raise ValueError(kind)
    wall = time.perf_counter() - wall
    out = {
        "peak_total_mb": sampler.stop(),
        "kind": kind, "replications": replications, "jobs": jobs, "wall_s": wall,
        "cpu_self_s": cpu_seconds(resource.RUSAGE_SELF) - cpu,
        "cpu_children_s": cpu_seconds(resource.RUSAGE_CHILDREN),
        "rss_self_mb": rss_mb(resource.getrusage(resource.RUSAGE_SELF)),
        "rss_child_mb": rss_mb(resource.getrusage(resource.RUSAGE_CHILDREN)),
    }
    if tmp is not None:
        tmp.cleanup()
    return out


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


def profile(sc: Scenario, seed: int, replications: int, top: int = 25) -> None:
    pmo_sim_block(sc, seed, range(2))
    prof = cProfile.Profile()
    prof.enable()
    pmo_sim_block(sc, seed, range(replications))
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


# --------------------------------------------------------------------------- report


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--replications", type=int, default=None,
                    help="replications per timing block (default 40; 10 with --quick)")
    ap.add_argument("--rounds", type=int, default=None, help="ABAB rounds (default 5; 3 with --quick)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--full", action="store_true", help="also run_experiment with 10,000 replications")
    ap.add_argument("--profile", action="store_true", help="only profile pmo-sim (cProfile, tottime)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help=argparse.SUPPRESS)
    ap.add_argument("--probe", choices=("serial", "pool", "experiment"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.probe:
        print(json.dumps(probe(args.probe, args.replications, args.jobs, args.seed)))
        return 0
    reps = args.replications or (10 if args.quick else 40)
    rounds = args.rounds or (3 if args.quick else 5)
    sc = load_reference()
    if args.profile:
        profile(sc, args.seed, reps * 5)
        return 0

    print(f"pmo-sim benchmarks — {dt.datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs — "
          f"Python {sys.version.split()[0]}")
    print(f"scenario {REFERENCE.name}: {len(sc.resources)} pools, "
          f"{sum(p.headcount for p in sc.resources.values())} people, horizon {sc.horizon:g} days, "
          f"policy {POLICY!r}\n")

    worst = agreement(sc, args.seed, range(max(reps, 20)))
    print(f"agreement with the yardstick over {max(reps, 20)} replications "
          "(largest relative difference; events differ by design):")
    for k, v in worst.items():
        print(f"  {k:<20} {v:.2e}")

    t = interleaved(sc, args.seed, range(reps), rounds)
    print(f"\nCPU per replication, {rounds} ABAB rounds of {reps} replications (median):")
    for k, v in t["ms"].items():
        print(f"  {k:<12} {v:8.2f} ms   rounds: " + " ".join(f"{x:.2f}" for x in t["rounds"][k]))
    ok = t["ratio"] <= TARGETS["cpu_ratio"]
    print(f"  ratio pmo-sim / yardstick: {t['ratio']:.2f}  (target <= {TARGETS['cpu_ratio']}: "
          f"{_verdict(ok)})")
    print(f"  pmo-sim: {t['events_per_rep']:.0f} events/replication, "
          f"{t['events_per_cpu_s']:,.0f} events per CPU second")

    scale_reps = 40 if args.quick else 200
    s = scaling(scale_reps, args.jobs, args.seed, 1 if args.quick else 2)
    two = s["two_workers"]
    print(f"\nparallel, {scale_reps} replications of {POLICY!r} (fresh subprocesses, best of rounds):")
    print(f"  1 process        {s['serial_rps']:7.1f} replications/s (wall)")
    print(f"  {s['jobs']} workers        {s['pool_rps']:7.1f} replications/s (wall)")
    print(f"  efficiency: wall {s['efficiency_wall']:.2f}, CPU {s['efficiency_cpu']:.2f}  "
          f"(target >= {TARGETS['parallel_efficiency']}: "
          f"{_verdict(s['efficiency_wall'] >= TARGETS['parallel_efficiency'])})")
    peak = two["peak_total_mb"]
    print(f"  2-worker run, peak RSS: parent {two['rss_self_mb']:.0f} MB, largest worker "
          f"{two['rss_child_mb']:.0f} MB (ru_maxrss); parent + workers {peak:.0f} MB (sampled sum) "
          f"(target <= {TARGETS['peak_mb_2_workers']:.0f}: {_verdict(peak <= TARGETS['peak_mb_2_workers'])})")

    try:
        importlib.import_module("pmo_sim.experiment").run_experiment  # noqa: B018
    except (ImportError, AttributeError):
        print("\nrun_experiment: not available yet, skipped")
        return 0
    sizes = [100 if args.quick else 1000] + ([10_000] if args.full else [])
    print(f"\nrun_experiment (all {len(sc.policies)} policies, jobs=2, results to a temporary folder):")
    runs = [run_probe("experiment", n, 2, args.seed) for n in sizes]
    for e in runs:
        print(f"  {e['replications']:>6} replications: {e['replications'] / e['wall_s']:7.1f} replications/s "
              f"(wall {e['wall_s']:.1f} s, CPU parent {e['cpu_self_s']:.1f} s), peak RSS: parent "
              f"{e['rss_self_mb']:.0f} MB, parent + workers {e['peak_total_mb']:.0f} MB (sampled sum)")
    if len(runs) > 1:
        grew = runs[-1]["peak_total_mb"] - runs[0]["peak_total_mb"]
        print(f"  memory growth 1,000 -> 10,000: {grew:+.0f} MB (target: none; {_verdict(grew <= 10)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
