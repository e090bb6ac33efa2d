"""Where a ``-j 2`` run's workers wait: before their first replication, and at the end, when
one has finished its last chunk and the other has not.

Each run is ``run_experiment`` on 400 replications of the reference scenario with two
workers, in a fresh process, results written to a temporary folder; its replications are
the real ones, through the replicate seam (``Seams.replicate``), which also notes when each
starts and ends in its worker. Reported per run: the seconds from the start of
``run_experiment`` to the first replication, each worker's busy seconds, the *idle tail*
(how long before the last replication ended each worker ended its own last one: what the
chunking costs), the end (the last replication to the run's return: the last chunk stored,
the tables consolidated, ``summary.csv``), and the parent's CPU seconds spent storing chunks.

    .venv/bin/python benchmarks/idle.py            # 4 runs, about a minute on a quiet machine
    .venv/bin/python benchmarks/idle.py --runs 8
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import REFERENCE, source_commit

_SAMPLER: dict[str, Any] = {}
_LOG = os.environ.get("PMO_SIM_IDLE_LOG", "")


def timed(scenario: Any, replication: int, seed: int, policies: Sequence[str]) -> list[Any]:
    """The replication as a run makes it (one sampler per worker), its start and end noted."""
    from pmo_sim.experiment.replicate import run_replication
    from pmo_sim.sampling import Sampler

    if "sampler" not in _SAMPLER:
        _SAMPLER["sampler"] = Sampler(scenario)
    began = time.monotonic()
    records = run_replication(scenario, replication, seed, list(policies), sampler=_SAMPLER["sampler"])
    with open(f"{_LOG}.{os.getpid()}", "a", encoding="utf-8") as log:
        log.write(f"{began} {time.monotonic()}\n")
    return records


def measure(replications: int) -> dict[str, Any]:
    """One run in this process: its phases, from the workers' notes."""
    from pmo_sim.experiment import run_experiment, store
    from pmo_sim.experiment.spec import Execution, ExperimentSpec, Output, Seams
    from pmo_sim.scenario.loader import load_scenario

    storing = [0.0]
    original = store.ResultsFolder.add_chunk

    def add_chunk(self: Any, *args: Any, **kwargs: Any) -> None:
        began = time.process_time()
        original(self, *args, **kwargs)
        storing[0] += time.process_time() - began

    store.ResultsFolder.add_chunk = add_chunk  # type: ignore[method-assign]
    scenario = load_scenario(REFERENCE)
    with tempfile.TemporaryDirectory(prefix="pmo-idle-") as tmp:
        start = time.monotonic()
        run_experiment(ExperimentSpec(scenario=scenario, replications=replications, seed=0,
                                      execution=Execution(jobs=2), output=Output(out=Path(tmp) / "run"),
                                      seams=Seams(replicate=timed)))
        end = time.monotonic()
    workers = []
    for path in Path(_LOG).parent.glob(f"{Path(_LOG).name}.*"):
        spans = [tuple(map(float, line.split())) for line in path.read_text().splitlines()]
        workers.append(spans)
    first = min(a for spans in workers for a, _ in spans)
    last = max(b for spans in workers for _, b in spans)
    return {"noted": sum(len(spans) for spans in workers), "to_first_s": first - start,
            "end_s": end - last, "storing_cpu_s": storing[0],
            "busy_s": [sum(b - a for a, b in spans) for spans in workers],
            "idle_tail_s": [last - max(b for _, b in spans) for spans in workers]}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--replications", type=int, default=400)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.replications)))
        return 0
    print(f"-j 2, {args.replications} replications of {REFERENCE.name} (pmo-sim {source_commit()}):")
    tails = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="pmo-idle-log-") as logs:
            env = dict(os.environ, PMO_SIM_IDLE_LOG=str(Path(logs) / "spans"))
            out = subprocess.run([sys.executable, __file__, "--child", "--replications",
                                  str(args.replications)], capture_output=True, text=True,
                                 check=True, env=env)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        tails.append(max(r["idle_tail_s"]))
        print(f"  run {i + 1}: to the first replication {r['to_first_s']:.2f} s; busy "
              f"{' / '.join(f'{b:.2f}' for b in r['busy_s'])} s; idle tail "
              f"{' / '.join(f'{t:.2f}' for t in r['idle_tail_s'])} s; end {r['end_s']:.2f} s; "
              f"storing chunks {r['storing_cpu_s']:.2f} s CPU; {r['noted']} replications noted")
    print(f"  idle tail, the longer worker's: mean {sum(tails) / len(tails):.2f} s, "
          f"most {max(tails):.2f} s over {len(tails)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
