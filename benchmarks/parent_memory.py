"""The parent's memory in a long run, phase by phase, without simulating.

A run's parent never simulates: it hands chunks to its workers, stores what they send back,
consolidates the tables and writes ``summary.csv``. So its memory at 100,000 replications
can be measured in minutes instead of half an hour: the real ``run_experiment`` with two
workers, whose replication function (the ``Seams.replicate`` test seam) returns the
reference scenario's records of replication 0 renumbered — the same tables, row for row in
size, as a simulating run's. Each size runs in a fresh process; its RSS is sampled every
5 ms and the peak reported per phase (the run loop, then writing each table and the summary,
or waiting for the two processes that write a long run's tables, :mod:`pmo_sim.experiment.consolidate`),
and the larger of those processes' peaks (sampled every 50 ms).

The parent's C library heap is set up as the ``pmo-sim`` program sets up its own (``--heap
program``, the default: glibc's mapping threshold held, :mod:`pmo_sim.experiment.heap`), or
left as ``run_experiment`` finds it in a user's process (``--heap library``); ``--heap both``
measures each size both ways, one after the other.

    .venv/bin/python benchmarks/parent_memory.py                 # 1,000, 10,000, 100,000: ~4 min
    .venv/bin/python benchmarks/parent_memory.py --sizes 1000,100000 --heap both
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import dataclasses
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import REFERENCE, source_commit

_RECORDS: dict[tuple[str, ...], list[Any]] = {}


def canned(scenario: Any, replication: int, seed: int, policies: Sequence[str]) -> list[Any]:
    """Replication 0's records of ``policies``, renumbered ``replication`` (computed once per
    worker)."""
    from pmo_sim.experiment.replicate import run_replication

    key = tuple(policies)
    if key not in _RECORDS:
        _RECORDS[key] = run_replication(scenario, 0, seed, list(policies))
    return [dataclasses.replace(rec, replication=replication) for rec in _RECORDS[key]]


def measure(replications: int, heap: str) -> dict[str, Any]:
    """This process runs ``replications`` canned replications with two workers to a temporary
    folder: the peak RSS (MB) of each phase. ``heap``: "program" sets up the C library's heap
    as the ``pmo-sim`` program does; "library" leaves it alone."""
    import psutil

    from pmo_sim.experiment.heap import map_large_blocks

    if heap == "program":
        map_large_blocks()

    from pmo_sim.experiment import run_experiment, runner, store
    from pmo_sim.experiment.spec import Execution, ExperimentSpec, Output, Seams
    from pmo_sim.scenario.loader import load_scenario

    marks: list[tuple[float, str]] = []
    for name in ("write_table", "write_file"):  # the phases' boundaries
        original = getattr(store.ResultsFolder, name)

        def marked(self: Any, what: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            marks.append((time.perf_counter(), what))
            return _original(self, what, *args, **kwargs)

        setattr(store.ResultsFolder, name, marked)
    consolidation: list[float] = []  # when the run loop ended and the tables began
    write_tables = runner.write_tables

    def began(*args: Any, **kwargs: Any) -> None:
        consolidation.append(time.perf_counter())
        marks.append((consolidation[0], "waiting for the tables"))
        write_tables(*args, **kwargs)

    runner.write_tables = began
    samples: list[tuple[float, float]] = []
    others: list[tuple[float, float]] = []  # the largest process the fork server forked
    done = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not done.is_set():
            samples.append((time.perf_counter(), me.memory_info().rss / 2**20))
            if len(samples) % 10 == 0:
                others.append((time.perf_counter(), _largest_descendant(me)))
            done.wait(0.005)

    scenario = load_scenario(REFERENCE)
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start, cpu = time.perf_counter(), time.process_time()
    marks.append((start, "run loop"))
    with tempfile.TemporaryDirectory(prefix="pmo-mem-") as tmp:
        run_experiment(ExperimentSpec(scenario=scenario, replications=replications, seed=0,
                                      execution=Execution(jobs=2), output=Output(out=Path(tmp) / "run"),
                                      seams=Seams(replicate=canned)))
        end, cpu = time.perf_counter(), time.process_time() - cpu
    done.set()
    watcher.join()
    times = [t for t, _ in samples]
    phases = {}
    for (t0, name), (t1, _) in zip(marks, [*marks[1:], (end, "")], strict=True):
        window = [mb for _, mb in samples[bisect.bisect_left(times, t0):bisect.bisect_right(times, t1)]]
        label = "summary" if name == "summary.csv" else name
        if window:  # (a phase shorter than the sampling interval has no sample of its own)
            phases[label] = max(phases.get(label, 0.0), max(window))
    # After the run loop the workers are gone: what remains beside the fork server are the
    # processes writing a long run's tables (pmo_sim.experiment.consolidate), if any.
    after = consolidation[0] if consolidation else end
    writer = max((mb for t, mb in others if t >= after), default=0.0)
    return {"replications": replications, "wall_s": end - start, "cpu_s": cpu,
            "peak_mb": max(mb for _, mb in samples), "phases": phases, "writer_mb": writer}


def _largest_descendant(me: Any) -> float:
    """The largest RSS (MB) among the processes the fork server forked (this process's
    grandchildren: its children are the fork server and multiprocessing's resource tracker)."""
    import psutil

    largest = 0.0
    with contextlib.suppress(psutil.Error):  # a process ended meanwhile: the next sample
        for child in me.children():
            for forked in child.children(recursive=True):
                largest = max(largest, forked.memory_info().rss / 2**20)
    return largest


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", default="1000,10000,100000", help="replications (comma-separated)")
    ap.add_argument("--heap", choices=("program", "library", "both"), default="program",
                    help="the parent's heap as the pmo-sim program sets it up, as a library "
                         "caller's, or both (default program)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(measure(args.child, args.heap)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    heaps = ["program", "library"] if args.heap == "both" else [args.heap]
    print(f"parent peak RSS by phase, -j 2, canned replications of {REFERENCE.name} "
          f"(3 policies; pmo-sim {source_commit()}), MB:")
    runs: dict[str, list[dict[str, Any]]] = {h: [] for h in heaps}
    for n in sizes:
        for heap in heaps:
            out = subprocess.run([sys.executable, __file__, "--child", str(n), "--heap", heap],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            runs[heap].append(r)
            phases = ", ".join(f"{k} {v:.0f}" for k, v in r["phases"].items())
            writer = (f"; the tables written by two processes of their own, the larger's peak "
                      f"{r['writer_mb']:.0f}" if r["writer_mb"] else "; every table written by the parent")
            print(f"  {n:>7,} ({heap} heap): peak {r['peak_mb']:.0f} ({phases}){writer}; wall "
                  f"{r['wall_s']:.0f} s, parent CPU {r['cpu_s']:.1f} s")
    for heap, rs in runs.items():
        growth = rs[-1]["peak_mb"] - rs[0]["peak_mb"]
        print(f"  {heap} heap: highest peak {max(r['peak_mb'] for r in rs):.0f} MB (target <= 150); "
              f"{sizes[0]:,} -> {sizes[-1]:,}: {growth:+.0f} MB (flat means within 10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
