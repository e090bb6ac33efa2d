"""Instructions per replication, counted by callgrind: the steady measure of engine work on a
shared, noisy machine (CPU time there moves by tens of per cent; instruction counts by ~2%).

Run from the repository root (valgrind must be installed; each cell takes 1-5 minutes)::

    .venv/bin/python benchmarks/instructions.py explicit:160:fifo explicit:160:min_slack
    .venv/bin/python benchmarks/instructions.py people:1:fifo projects-wip:16:srpt --reps 2
    .venv/bin/python benchmarks/instructions.py people:1:fifo yardstick:1:fifo people:1:wsjf yardstick:1:wsjf

A cell is ``kind:size:rule``. Kinds: ``people``, ``projects`` (the reference scaled as in
``scaling.py``), ``people-wip``, ``projects-wip`` (the same with a WIP limit of 4 per
reference size), ``explicit`` (``explicit.py``'s list of ``size`` projects), ``yardstick``
(the hand-written SimPy model of ``rule``, ``fifo`` or ``wsjf`` without a WIP limit, as
``run.py`` times it: ``benchmarks/yardstick.py``, ``benchmarks/yardstick_wsjf.py``, on the
Plans of the ``people`` cell of the same size, each drawn by a ``Sampler`` and simulated,
so plan sampling counts on both sides), and ``gen-STRUCTURE-MODE`` (a portfolio of
``generated.py`` at ``size`` times its size, ``MODE`` ``people`` or ``projects``, e.g.
``gen-shapes-projects:16:srpt``). Per cell, the
script runs itself twice under ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0`` and
``OPENBLAS_NUM_THREADS=1``: once
loading the scenario and running one warm-up replication, once doing that and then ``--reps``
replications (the heap frozen after the warm-up on both sides, as pmo-sim's workers freeze
theirs: else a full collection of the start-up's ~50,000 objects, ~1 M instructions a
replication on average, lands in one count or the other by chance; default 16 replications
at size 1, else max(1, 32 / size)); the difference of the two totals over ``--reps`` is the
cost of a replication, plan sampling included, start-up and the first replication's
compilations excluded. Each line also gives the ratio to the ``fifo``
cell of the same kind and size when it was counted in the same run, and a ``people`` cell and
its ``yardstick`` cell, when both were counted in the run, the engine's ratio to the
yardstick (issue 11's target: at most 1.0 at size 1).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence

import generated
from common import REFERENCE, source_commit
from explicit import RULES, portfolio
from run import yardstick_for
from scaling import policy_name, scaled_scenario

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.rules.allocation import ALLOCATION_RULES
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario, load_scenario_text, scenario_from_dict
from pmo_sim.scenario.models import Scenario

GENERATED = tuple(f"gen-{s}-{m}" for s, m in itertools.product(generated.STRUCTURES, ("people", "projects")))
KINDS = ("people", "projects", "people-wip", "projects-wip", "explicit", "yardstick", *GENERATED)
YARDSTICK_RULES = ("fifo", "wsjf")  # the rules a hand-written model exists for (no WIP limit)


def scenario_and_policy(kind: str, size: int, rule: str) -> tuple[Scenario, str]:
    if kind == "explicit":
        text = portfolio(size)
        if rule not in RULES:  # explicit.py's policies are fifo and the dynamic rules
            policy = f"  {rule}: {{resource_manager: {{allocation: {rule}}}}}\n"
            text = text.replace("\npolicies:\n", "\npolicies:\n" + policy)
        return load_scenario_text(text), rule
    if kind in GENERATED:  # one policy per rule, named after it
        _, structure, mode = kind.split("-", 2)
        data = generated.scenario(structure, size, mode)
        return scenario_from_dict(data, kind, max_events=None), rule
    if kind == "yardstick":  # the people cell's scenario, simulated by the yardstick
        kind = "people"
    mode, wip = kind.removesuffix("-wip"), kind.endswith("-wip")
    return scaled_scenario(load_scenario(REFERENCE), size, mode, [rule]), policy_name(rule, wip)


def child(kind: str, size: int, rule: str, reps: int) -> None:
    """What runs under callgrind: the cell, one warm-up replication, then ``reps``."""
    sc, policy = scenario_and_policy(kind, size, rule)
    sampler = Sampler(sc)
    if kind == "yardstick":  # as run.py's yardstick_block: a Plan drawn, then simulated
        simulate = yardstick_for(sc, policy)
        simulate(sampler.plan(1, 0))
        gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
        for r in range(reps):
            simulate(sampler.plan(1, r))
        return
    run_replication(sc, 0, 1, [policy], sampler=sampler)
    gc.freeze()  # (see above)
    for r in range(reps):
        run_replication(sc, r, 1, [policy], sampler=sampler)


def collected(cell: tuple[str, int, str], reps: int) -> int:
    kind, size, rule = cell
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
           __file__, "--child", f"{kind}:{size}:{rule}", "--reps", str(reps)]
    # One BLAS thread: OpenBLAS's idle worker threads otherwise add 0.5-1.2 M instructions a
    # replication at random (blas_thread_server), more than most changes measured here save.
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or found is None:
        tail = "\n".join(out.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"error: callgrind run of {kind}:{size}:{rule} failed:\n{tail}")
    return int(found.group(1))


def parse_cell(text: str) -> tuple[str, int, str]:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in KINDS or not parts[1].isdigit() or int(parts[1]) < 1 \
            or parts[2] not in ALLOCATION_RULES:
        raise argparse.ArgumentTypeError(
            f"a cell is kind:size:rule with kind one of {', '.join(KINDS)}, size a positive "
            f"integer and rule one of {', '.join(ALLOCATION_RULES)}; got {text!r}")
    if parts[0] == "yardstick" and parts[2] not in YARDSTICK_RULES:
        raise argparse.ArgumentTypeError(
            f"a yardstick cell's rule is one of {', '.join(YARDSTICK_RULES)}; got {text!r}")
    return parts[0], int(parts[1]), parts[2]


def default_reps(size: int, kind: str) -> int:
    if kind == "explicit":
        return max(1, 320 // size)
    return 16 if size == 1 else max(1, 32 // size)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("cells", nargs="+", type=parse_cell, help="kind:size:rule")
    ap.add_argument("--reps", type=int, default=None, help="replications counted per cell")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:  # (0 replications: the baseline count)
        kind, size, rule = args.cells[0]
        child(kind, size, rule, args.reps)
        return 0
    if args.reps is not None and args.reps < 1:
        ap.error("--reps must be at least 1")
    if shutil.which("valgrind") is None:
        print("error: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    print(f"pmo-sim instructions per replication (callgrind) — pmo-sim {source_commit()}")
    counted: dict[tuple[str, int, str], float] = {}
    for cell in args.cells:
        reps = args.reps or default_reps(cell[1], cell[0])
        per = (collected(cell, reps) - collected(cell, 0)) / reps
        counted[cell] = per
        fifo = counted.get((cell[0], cell[1], "fifo"))
        ratio = f"   {per / fifo:.2f} x fifo" if fifo else ""
        kind, size, rule = cell
        engine = counted.get(("people", size, rule)) if kind == "yardstick" else per
        model = per if kind == "yardstick" else counted.get(("yardstick", size, rule))
        if kind in ("people", "yardstick") and engine and model:
            ratio += f"   engine / yardstick {engine / model:.3f}"
        print(f"  {':'.join(map(str, cell)):<28} {per / 1e6:9.2f} M  ({reps} replications){ratio}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
