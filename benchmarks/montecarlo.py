"""Monte Carlo end to end: ``run_experiment``'s parallel efficiency, Dask, memory and start-up.

Run from the repository root::

    .venv/bin/python benchmarks/montecarlo.py            # about 5 minutes
    .venv/bin/python benchmarks/montecarlo.py --quick    # a smoke run, about a minute
    .venv/bin/python benchmarks/montecarlo.py --full     # + 100,000 replications (20-35 minutes more)

Every measured run is ``pmo_sim.run_experiment`` on the reference scenario (every policy,
results written to a temporary folder, as ``pmo-sim run reference.yaml -n N -j J --out DIR``
does) in a FRESH Python subprocess, timed from the parent from launch to exit: the
interpreter, pmo-sim's imports, loading the scenario, starting the pool or cluster, the
replications and writing the tables are all included, because a user waits for all of them.
The subprocess also reports its phases (imports, scenario, run) so the start-up can be read.

1. **Parallel efficiency**: ``-j 1`` (in-process) and ``-j 2`` (process pool) on 400
   replications, alternated, best of rounds: efficiency = T(1) / (2 × T(2)).
2. **Dask**: ``backend="dask"`` (a LocalCluster of 2 worker processes) against the local pool
   (2 workers) on 2,000 replications, alternated, best of rounds: wall ratio Dask / local.
3. **Parent memory**: peak RSS of the parent process alone (psutil, sampled every 20 ms, and
   ``ru_maxrss``) of 2-worker runs of 1,000 and 10,000 replications, and 100,000 with
   ``--full``: flat if the largest run's peak is within 10 MB of the smallest's. Then the
   command line's process itself (``pmo-sim run -j 2``, its verdict included) on a portfolio
   of one-task projects at 1,000 and 30,000 replications.
4. **Start-up**: the interpreter alone; the import time of what each process imports (the
   API's parent, the CLI, the process pool's forkserver, which preloads
   ``pmo_sim.experiment.simulate`` (the engine) once and forks the workers from it, and Dask), with the
   heaviest packages of the API's imports (``python -X importtime``); a run of 2 replications
   with ``-j 1``, ``-j 2`` and Dask, whose differences are the cost of starting and stopping
   the pool or the cluster; and the Dask cluster alone (start, workers' imports, close).

5. **The host's own parallelism** (``--only host``): the same CPU-bound work — 100 replications
   of the reference under ``fifo`` (the engine, pmo-sim's imports done and warmed up), and the
   pure-Python heapq floor (``floor.py``: no memory to speak of) — in one fresh process alone,
   then in two at once, alternated: the CPU time per unit of work together over alone. A
   ``-j 2`` run cannot be more efficient than alone / together, whatever pmo-sim does: two
   virtual CPUs of a shared host may be one core's two hardware threads, or share caches.

Wall time is the measure here (the targets are about waiting), so the figures move with other
load on the shared machine: best of rounds, alternated, and read several runs. Issue 11's
targets: efficiency >= 0.85 including start-up; Dask <= 1.2 × local; parent peak <= 150 MB
and flat from 1,000 to 100,000 replications.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import REFERENCE, TreePeak, cpu_seconds, rss_mb, source_commit

TARGETS = {"efficiency": 0.85, "dask_over_local": 1.2, "parent_peak_mb": 150.0, "flat_mb": 10.0}
IMPORTS = {  # what each kind of process imports before it can work
    "from pmo_sim.experiment import run_experiment": "the API's parent",
    "import pmo_sim.cli": "the command line's own modules, before `run` imports the API",
    "import pmo_sim.experiment.simulate": "the pool's forkserver, once (workers are forked from it): "
                                          "the engine, which the parent of a parallel run never imports",
    "import distributed": "Dask: the parent and each worker",
}

Json = dict[str, Any]


# --------------------------------------------------------------------------- in the subprocess


def probe_run(replications: int, jobs: int, backend: str, seed: int, sample: bool) -> Json:
    """One ``run_experiment`` in this fresh process, phase by phase."""
    t0 = time.perf_counter()
    from pmo_sim.experiment import run_experiment
    from pmo_sim.scenario.loader import load_scenario

    t1 = time.perf_counter()
    imported_mb = rss_mb(resource.getrusage(resource.RUSAGE_SELF))
    sc = load_scenario(REFERENCE)
    t2 = time.perf_counter()
    # Memory runs sample every 20 ms; timing runs only follow the workers' CPU, every 0.2 s,
    # and only when there are workers: the sampler shares the parent's GIL and scans /proc,
    # which slowed an in-process -j 1 run by a fifth (10.3 s against 8.2 s for the same run
    # from the command line), flattering the efficiency.
    parent, tree = TreePeak(tree=False), TreePeak(every=0.02 if sample else 0.2)
    if sample or jobs > 1:
        tree.start()
    if sample:
        parent.start()
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory(prefix="pmo-mc-") as tmp:
        run_experiment(sc, replications=replications, seed=seed, jobs=jobs, backend=backend,
                       out=Path(tmp) / "run")
        t3 = time.perf_counter()
    tree_peak = tree.stop()
    out = {"imports_s": t1 - t0, "scenario_s": t2 - t1, "run_s": t3 - t2,
           "inside_s": time.perf_counter() - t0,
           "parent_cpu_s": cpu_seconds(resource.RUSAGE_SELF) - cpu, "workers_cpu_s": tree.descendants_cpu_s,
           "run_cpu_s": cpu_seconds(resource.RUSAGE_SELF) - cpu + tree.descendants_cpu_s,
           "rss_imports_mb": imported_mb, "rss_max_mb": rss_mb(resource.getrusage(resource.RUSAGE_SELF))}
    if sample:
        out |= {"parent_peak_mb": parent.stop(), "tree_peak_mb": tree_peak}
    return out


def probe_work(kind: str, units: int, seed: int) -> Json:
    """CPU and wall time of ``units`` of CPU-bound work in this fresh process, after its
    imports and a warm-up: replications of the reference under ``fifo`` (``engine``) or
    25,000 events of the heapq floor each (``floor``)."""
    import gc

    if kind == "engine":
        from pmo_sim.experiment.replicate import run_replication
        from pmo_sim.sampling import Sampler
        from pmo_sim.scenario.loader import load_scenario

        sc = load_scenario(REFERENCE)
        sampler = Sampler(sc)

        def work(reps: range) -> None:
            for r in reps:
                run_replication(sc, r, seed, ["fifo"], sampler=sampler)
    else:
        from floor import floor_loop

        def work(reps: range) -> None:
            floor_loop(25_000 * len(reps))
    work(range(2))  # warm-up: caches, lazily built validators
    gc.collect()
    gc.freeze()  # as pmo-sim's workers (experiment/heap.py)
    wall, cpu = time.perf_counter(), time.process_time()
    work(range(2, 2 + units))
    return {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def probe_cluster(jobs: int) -> Json:
    """A Dask LocalCluster as pmo-sim starts one: start, the workers' pmo-sim imports, close."""
    import logging

    t0 = time.perf_counter()
    from distributed import Client, LocalCluster

    t1 = time.perf_counter()
    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    t2 = time.perf_counter()
    client.run(exec, "import pmo_sim.experiment.simulate")  # what a worker's first chunk imports
    t3 = time.perf_counter()
    client.close()
    cluster.close()
    t4 = time.perf_counter()
    return {"import_s": t1 - t0, "start_s": t2 - t1, "worker_imports_s": t3 - t2, "close_s": t4 - t3}


# --------------------------------------------------------------------------- from the parent


def launch(args: list[str], env: dict[str, str] | None = None) -> Json:
    """Run a probe in a fresh interpreter; its JSON plus the wall time from launch to exit."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    t = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env=None if env is None else os.environ | env)
    wall = time.perf_counter() - t
    out: Json = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    return out


def run(replications: int, jobs: int, backend: str = "local", seed: int = 0, sample: bool = False) -> Json:
    # Memory is measured with Arrow's allocator as importing pmo_sim sets it (pmo_sim/__init__.py)
    # unless the environment names one: its default (mimalloc) holds ~15 MB more in the parent.
    env = {"ARROW_DEFAULT_MEMORY_POOL": os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "system")}
    out = launch(["--probe", "run", "--replications", str(replications), "--jobs", str(jobs),
                  "--backend", backend, "--seed", str(seed)] + (["--sample"] if sample else []),
                 env=env if sample else None)
    return out | {"replications": replications, "jobs": jobs, "backend": backend}


def alternated(a: dict[str, Any], b: dict[str, Any], rounds: int) -> tuple[Json, Json]:
    """Runs ``a`` and ``b`` (keyword sets of :func:`run`) alternately; the best of each."""
    ra, rb = [], []
    for _ in range(rounds):
        ra.append(run(**a))
        rb.append(run(**b))
    return min(ra, key=lambda r: r["wall_s"]), min(rb, key=lambda r: r["wall_s"])


def import_time(statement: str, rounds: int = 3) -> float:
    """Best wall time of an import ``statement`` in a fresh interpreter (the interpreter excluded)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                    text=True).stdout) for _ in range(rounds))


def interpreter_time(rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        best = min(best, time.perf_counter() - t)
    return best


def heaviest_imports(statement: str, top: int = 8) -> list[tuple[str, float]]:
    """Seconds of import (own time, summed by top-level package) under ``python -X importtime``."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], check=True,
                         capture_output=True, text=True).stderr
    total: dict[str, float] = {}
    for m in re.finditer(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", err):
        package = m.group(2).split(".")[0]
        total[package] = total.get(package, 0.0) + int(m.group(1)) / 1e6
    return sorted(total.items(), key=lambda kv: -kv[1])[:top]


# --------------------------------------------------------------------------- the four measures


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _phases(r: Json) -> str:
    rest = r["wall_s"] - r["inside_s"]
    return (f"wall {r['wall_s']:.2f} s = interpreter, exit etc. {rest:.2f} + imports {r['imports_s']:.2f} "
            f"+ scenario {r['scenario_s']:.2f} + run_experiment {r['run_s']:.2f}")


def command_wall(replications: int, jobs: int, seed: int) -> float:
    """Wall seconds of ``pmo-sim run REFERENCE -n N -j J -q`` from launch to exit (a fresh
    results folder in a temporary directory): what a user waits for."""
    program = Path(sys.executable).parent / "pmo-sim"
    with tempfile.TemporaryDirectory(prefix="pmo-mc-") as tmp:
        t = time.perf_counter()
        subprocess.run([str(program), "run", str(REFERENCE), "-n", str(replications), "-j", str(jobs),
                        "--seed", str(seed), "--out", str(Path(tmp) / "run"), "-q"],
                       check=True, capture_output=True)
        return time.perf_counter() - t


def command_ab(n: int, rounds: int, seed: int, against: Path) -> Json:
    """``python -m pmo_sim run -n N -j J`` of this checkout and of ``against`` (another
    checkout's root, e.g. ``git worktree add /tmp/base <commit>``), each from its own root,
    -j 1 and -j 2 alternated over the rounds, output read to its end; the efficiency of each
    round and their median per checkout (one host's load moves both alike within a round)."""
    roots = {"this": Path(__file__).resolve().parents[1], "against": against.resolve()}
    walls: dict[tuple[str, int], list[float]] = {(c, j): [] for c in roots for j in (1, 2)}
    for _ in range(rounds):
        for name, root in roots.items():
            for jobs in (1, 2):
                with tempfile.TemporaryDirectory(prefix="pmo-mc-") as tmp:
                    t = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "pmo_sim", "run", str(REFERENCE), "-n", str(n),
                                    "-j", str(jobs), "--seed", str(seed), "--out", str(Path(tmp) / "run"),
                                    "-q"], check=True, capture_output=True, cwd=root)
                    walls[(name, jobs)].append(time.perf_counter() - t)
    out: Json = {}
    print(f"\n1b. the command line against {roots['against']}, {rounds} alternated rounds:")
    for name in roots:
        effs = [a / (2 * b) for a, b in zip(walls[(name, 1)], walls[(name, 2)], strict=True)]
        out[name] = {"j1_s": walls[(name, 1)], "j2_s": walls[(name, 2)], "efficiency": effs}
        print(f"  {name:8} -j 1 median {statistics.median(walls[(name, 1)]):.2f} s, -j 2 "
              f"{statistics.median(walls[(name, 2)]):.2f} s; efficiency per round "
              f"{', '.join(f'{e:.2f}' for e in effs)}: median {statistics.median(effs):.3f}")
    return out


def efficiency(n: int, rounds: int, seed: int) -> Json:
    one, two = alternated({"replications": n, "jobs": 1, "seed": seed},
                          {"replications": n, "jobs": 2, "seed": seed}, rounds)
    eff = one["wall_s"] / (2 * two["wall_s"])
    walls: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for jobs in (1, 2):
            walls[jobs].append(command_wall(n, jobs, seed))
    cli_eff = min(walls[1]) / (2 * min(walls[2]))
    print(f"\n1. parallel efficiency, {n} replications x 3 policies, best of {rounds} alternated rounds:")
    print(f"  -j 1  {_phases(one)}")
    print(f"  -j 2  {_phases(two)}")
    print(f"  efficiency {eff:.2f} including start-up (target >= {TARGETS['efficiency']}: "
          f"{_verdict(eff >= TARGETS['efficiency'])}); run_experiment alone "
          f"{one['run_s'] / (2 * two['run_s']):.2f}; from CPU time (insensitive to other load) "
          f"{one['run_cpu_s'] / two['run_cpu_s']:.2f}: {one['run_cpu_s']:.1f} s for -j 1, "
          f"{two['run_cpu_s']:.1f} s for -j 2 (parent and workers)")
    print(f"  the command line, `pmo-sim run -n {n} -j J`, launch to exit (best of {rounds}): "
          f"-j 1 {min(walls[1]):.2f} s, -j 2 {min(walls[2]):.2f} s, efficiency {cli_eff:.2f} "
          f"(target >= {TARGETS['efficiency']}: {_verdict(cli_eff >= TARGETS['efficiency'])})")
    return {"j1": one, "j2": two, "efficiency": eff, "command_wall_s": walls,
            "command_efficiency": cli_eff}


def dask(n: int, rounds: int, seed: int) -> Json:
    local, dsk = alternated({"replications": n, "jobs": 2, "seed": seed},
                            {"replications": n, "jobs": 2, "backend": "dask", "seed": seed}, rounds)
    ratio = dsk["wall_s"] / local["wall_s"]
    print(f"\n2. Dask (LocalCluster, 2 workers) against local (2 workers), {n} replications, best of "
          f"{rounds} alternated rounds:")
    print(f"  local  {_phases(local)}")
    print(f"  dask   {_phases(dsk)}")
    print(f"  wall ratio dask / local {ratio:.2f} (target <= {TARGETS['dask_over_local']}: "
          f"{_verdict(ratio <= TARGETS['dask_over_local'])}); run_experiment alone "
          f"{dsk['run_s'] / local['run_s']:.2f}; CPU of parent and workers dask / local "
          f"{dsk['run_cpu_s'] / local['run_cpu_s']:.2f}")
    return {"local": local, "dask": dsk, "ratio": ratio}


def memory(sizes: Sequence[int], seed: int) -> Json:
    print("\n3. parent peak memory, -j 2, results to a temporary folder (RSS sampled every 20 ms):")
    runs = []
    for n in sizes:
        r = run(n, 2, seed=seed, sample=True)
        runs.append(r)
        print(f"  {n:>7} replications: parent peak {r['parent_peak_mb']:.0f} MB (ru_maxrss "
              f"{r['rss_max_mb']:.0f} MB, of which {r['rss_imports_mb']:.0f} MB after the imports), "
              f"parent + workers {r['tree_peak_mb']:.0f} MB; "
              f"wall {r['wall_s']:.0f} s ({n / r['run_s']:.0f} replications/s)")
    peak = max(r["parent_peak_mb"] for r in runs)
    growth = runs[-1]["parent_peak_mb"] - runs[0]["parent_peak_mb"]
    flat = growth <= TARGETS["flat_mb"]
    print(f"  highest parent peak {peak:.0f} MB (target <= {TARGETS['parent_peak_mb']:.0f}: "
          f"{_verdict(peak <= TARGETS['parent_peak_mb'])}); {sizes[0]:,} -> {sizes[-1]:,}: "
          f"{growth:+.0f} MB ({'flat' if flat else 'NOT flat'})")
    return {"runs": runs, "peak_mb": peak, "growth_mb": growth, "flat": flat}


#: A portfolio of one-task projects under three policies: replications cost next to nothing,
#: so the command line's own work (merging chunks, the verdict's tables) shows at 30,000.
CHEAP_YAML = """\
name: one-task
horizon: 40
resources:
  people: {headcount: 2, day_rate: 500}
intake:
  arrivals: {dist: exponential, mean: 10}
  templates:
    - name: job
      value_per_day: 100
      tasks:
        - {name: work, skill: people, effort: {dist: exponential, mean: 5}}
policies:
  fifo: {resource_manager: {allocation: fifo}}
  srpt: {resource_manager: {allocation: srpt}}
  wsjf: {resource_manager: {allocation: wsjf}}
"""


def command_peak(scenario: Path, replications: int, seed: int) -> tuple[float, float]:
    """Peak RSS (MB, psutil every 20 ms) of the ``pmo-sim run -j 2`` process itself, verdict
    included, and its wall seconds."""
    import psutil

    program = Path(sys.executable).parent / "pmo-sim"
    with tempfile.TemporaryDirectory(prefix="pmo-mc-") as tmp:
        t = time.perf_counter()
        proc = subprocess.Popen([str(program), "run", str(scenario), "-n", str(replications), "-j", "2",
                                 "--seed", str(seed), "--out", str(Path(tmp) / "run"), "-q"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        watched, peak = psutil.Process(proc.pid), 0.0
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss / 2**20)
            time.sleep(0.02)
        if proc.returncode:
            raise RuntimeError(f"pmo-sim run exited with {proc.returncode}")
        return peak, time.perf_counter() - t


def command_memory(sizes: Sequence[int], seed: int) -> Json:
    print("\n3b. the command line's peak memory, `pmo-sim run -n N -j 2` (the process itself: "
          "its run, merge and verdict), one-task projects under 3 policies:")
    runs = []
    with tempfile.TemporaryDirectory(prefix="pmo-mc-") as tmp:
        scenario = Path(tmp) / "one-task.yaml"
        scenario.write_text(CHEAP_YAML, encoding="utf-8")
        for n in sizes:
            peak, wall = command_peak(scenario, n, seed)
            runs.append({"replications": n, "peak_mb": peak, "wall_s": wall})
            print(f"  {n:>7} replications: peak {peak:.0f} MB, wall {wall:.1f} s")
    peak = max(r["peak_mb"] for r in runs)
    growth = runs[-1]["peak_mb"] - runs[0]["peak_mb"]
    print(f"  highest peak {peak:.0f} MB (target <= {TARGETS['parent_peak_mb']:.0f}: "
          f"{_verdict(peak <= TARGETS['parent_peak_mb'])}); {sizes[0]:,} -> {sizes[-1]:,}: "
          f"{growth:+.0f} MB ({'flat' if growth <= TARGETS['flat_mb'] else 'NOT flat'})")
    return {"runs": runs, "peak_mb": peak, "growth_mb": growth}


def startup(rounds: int, seed: int) -> Json:
    print("\n4. where start-up goes (best of rounds, wall):")
    interp = interpreter_time(rounds)
    print(f"  Python interpreter start and exit: {interp:.2f} s")
    imports = {m: import_time(m, rounds) for m in IMPORTS}
    for m, t in imports.items():
        print(f"  {m:<46} {t:5.2f} s  ({IMPORTS[m]})")
    heavy = heaviest_imports(next(iter(IMPORTS)))
    print("  heaviest packages under the API's imports (own import time): "
          + ", ".join(f"{p} {t:.2f} s" for p, t in heavy))
    tiny = {key: min((run(2, jobs, backend, seed) for _ in range(rounds)), key=lambda r: r["run_s"])
            for key, jobs, backend in (("j1", 1, "local"), ("j2", 2, "local"), ("dask", 2, "dask"))}
    base = tiny["j1"]["run_s"]
    print(f"  run_experiment of 2 replications: -j 1 {base:.2f} s (store, tables, manifest); "
          f"-j 2 {tiny['j2']['run_s']:.2f} s (so the pool's start and stop cost "
          f"{tiny['j2']['run_s'] - base:.2f} s); dask {tiny['dask']['run_s']:.2f} s (the cluster's "
          f"{tiny['dask']['run_s'] - base:.2f} s)")
    cluster = min((launch(["--probe", "cluster", "--jobs", "2"]) for _ in range(rounds)),
                  key=lambda r: r["wall_s"])
    print(f"  Dask cluster alone: import distributed {cluster['import_s']:.2f} s, LocalCluster + Client "
          f"{cluster['start_s']:.2f} s, pmo-sim imports in the workers {cluster['worker_imports_s']:.2f} s, "
          f"close {cluster['close_s']:.2f} s")
    return {"interpreter_s": interp, "imports_s": imports, "heaviest": heavy, "tiny_runs": tiny,
            "cluster": cluster}


# --------------------------------------------------------------------------- main


def _work_processes(kind: str, units: int, seed: int, copies: int) -> list[Json]:
    """``copies`` fresh processes doing the same work at once; each one's own figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe", "work", "--kind", kind,
           "--replications", str(units), "--seed", str(seed)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
    outs = [proc.communicate()[0] for proc in procs]
    if any(proc.returncode for proc in procs):
        raise SystemExit(f"a work probe failed: {cmd}")
    return [json.loads(out.strip().splitlines()[-1]) for out in outs]


def host(rounds: int, seed: int, units: int = 100) -> Json:
    """CPU time per unit of the same work in two processes at once over one alone, alternated."""
    out: Json = {}
    print(f"\n5. the host's own parallelism: the same work alone and two at once, "
          f"{rounds} alternated rounds (median):")
    for kind, what in (("engine", f"{units} replications of the reference, fifo"),
                       ("floor", f"{25 * units / 1000:g} million events of the heapq floor")):
        alone, together = [], []
        for _ in range(rounds):
            alone.append(_work_processes(kind, units, seed, 1)[0]["cpu_s"])
            together.extend(r["cpu_s"] for r in _work_processes(kind, units, seed, 2))
        a, t = statistics.median(alone), statistics.median(together)
        out[kind] = {"alone_cpu_s": alone, "together_cpu_s": together, "ceiling": a / t}
        print(f"  {what}: alone {a:.2f} s of CPU, two at once {t:.2f} s each: "
              f"together / alone {t / a:.2f}, so -j 2 efficiency at most {a / t:.2f}")
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--rounds", type=int, default=None, help="alternated rounds (default 3; Dask 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="small sizes, one round: a smoke run")
    ap.add_argument("--full", action="store_true", help="also the parent's memory at 100,000 replications")
    ap.add_argument("--only", choices=("efficiency", "dask", "memory", "startup", "host"), action="append",
                    help="run only these measures (repeatable)")
    ap.add_argument("--json", type=Path, default=None, metavar="OUT", help="also write the figures as JSON")
    ap.add_argument("--against", type=Path, default=None, metavar="CHECKOUT",
                    help="with efficiency: also the command line's, alternated with another checkout's")
    ap.add_argument("--probe", choices=("run", "cluster", "work"), help=argparse.SUPPRESS)
    ap.add_argument("--kind", choices=("engine", "floor"), default="engine", help=argparse.SUPPRESS)
    ap.add_argument("--replications", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--backend", default="local", help=argparse.SUPPRESS)
    ap.add_argument("--sample", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        ap.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.probe == "run":
        print(json.dumps(probe_run(args.replications, args.jobs, args.backend, args.seed, args.sample)))
        return 0
    if args.probe == "cluster":
        print(json.dumps(probe_cluster(args.jobs)))
        return 0
    if args.probe == "work":
        print(json.dumps(probe_work(args.kind, args.replications, args.seed)))
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    only = set(args.only or ("efficiency", "dask", "memory", "startup", "host"))
    print(f"pmo-sim Monte Carlo end to end — {dt.datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} CPUs — "
          f"Python {sys.version.split()[0]} — pmo-sim {source_commit()}")
    result: Json = {"date": dt.datetime.now().isoformat(timespec="seconds"), "commit": source_commit()}
    wall = time.perf_counter()
    if "efficiency" in only:
        result["efficiency"] = efficiency(100 if args.quick else 400, rounds, args.seed)
        if args.against is not None:
            result["efficiency_against"] = command_ab(100 if args.quick else 400, args.rounds or 5,
                                                      args.seed, args.against)
    if "dask" in only:
        result["dask"] = dask(200 if args.quick else 2000, args.rounds or (1 if args.quick else 2), args.seed)
    if "memory" in only:
        sizes = [200, 1000] if args.quick else [1000, 10_000] + ([100_000] if args.full else [])
        result["memory"] = memory(sizes, args.seed)
        result["command_memory"] = command_memory([200, 2_000] if args.quick else [1_000, 30_000],
                                                  args.seed)
    if "startup" in only:
        result["startup"] = startup(rounds, args.seed)
    if "host" in only:
        result["host"] = host(args.rounds or (1 if args.quick else 5), args.seed,
                              10 if args.quick else 100)
    print(f"\nwall time {time.perf_counter() - wall:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
