"""This checkout's engine against another checkout's, side by side, with the yardstick between.

"Does this change make the engine slower?" is answered by timing both engines in the same
run, not by comparing figures taken on different days: this machine's speed moves by ±25%
from minute to minute. Run from the repository root, with the other commit checked out
somewhere (a git worktree is the easy way)::

    git worktree add /tmp/pmo-base efae694
    .venv/bin/python benchmarks/compare.py /tmp/pmo-base            # fifo, 5 rounds x 100
    .venv/bin/python benchmarks/compare.py /tmp/pmo-base --policy wsjf-wip --rounds 7
    .venv/bin/python benchmarks/compare.py /tmp/pmo-base --scaled 16,projects,min_slack,on \
        --replications 2 --rounds 7    # a cell of scaling.py: k, mode, rule, WIP on/off

Each round runs, each in a fresh subprocess with this checkout's interpreter: the baseline
engine, the yardstick of ``benchmarks/yardstick.py`` (or ``yardstick_wsjf.py``) on this
checkout's plans, and this checkout's engine — CPU per replication (``time.process_time``,
plan sampling included, the scenario compiled once, three warm-up replications first) on the
reference scenario. It prints the medians, each engine's ratio to the yardstick (the figure
``benchmarks/run.py`` reports, here for both engines in the same run) and the median of the
per-round ratios now / baseline. The baseline only needs to load the reference scenario and
run replications: older checkouts whose ``run_replication`` lived in ``pmo_sim.engine`` and
drew the plan itself are timed the same way.

With ``--scaled K,MODE,RULE,WIP`` the scenario is a cell of ``benchmarks/scaling.py`` (the
reference at K times its size, ``people`` or ``projects`` scaled, the rule, a WIP limit or
not), built by each checkout's own loader; there is no yardstick there, so the middle timing
is this checkout's ``fifo`` in the same cell and the ratios are to it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from common import HERE, REFERENCE, source_commit

# One replication after another, timed after three warm-up ones; prints ms of CPU per replication.
ENGINE = r"""
import gc, json, sys, time
sys.path.insert(0, sys.argv[1])
from pmo_sim.scenario.loader import load_scenario
sc = load_scenario(sys.argv[2])
policy, n = sys.argv[3], int(sys.argv[4])
try:
    from pmo_sim.experiment.replicate import run_replication
    from pmo_sim.sampling import Sampler
    sampler = Sampler(sc)
    def one(r): run_replication(sc, r, 0, [policy], sampler=sampler)
except ImportError:  # checkouts before the experiment package: the engine drew the plan
    from pmo_sim.engine import run_replication
    def one(r): run_replication(sc, r, 0, [policy])
for r in range(3):
    one(r)
gc.collect()
gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
t = time.process_time()
for r in range(n):
    one(r)
print(json.dumps((time.process_time() - t) * 1000 / n))
"""

YARDSTICK = r"""
import gc, json, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[5])
import run
from pmo_sim.scenario.loader import load_scenario
sc = load_scenario(sys.argv[2])
policy, n = sys.argv[3], int(sys.argv[4])
run.yardstick_block(sc, 0, range(3), policy)
gc.collect()
gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
t = time.process_time()
run.yardstick_block(sc, 0, range(n), policy)
print(json.dumps((time.process_time() - t) * 1000 / n))
"""


# A cell of scaling.py ("K,MODE,RULE,WIP" in argv[2]), timed after one warm-up replication.
SCALED = r"""
import gc, json, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[5])
import scaling
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario
k, mode, rule, wip = sys.argv[2].split(",")
n = int(sys.argv[4])
sc = scaling.scaled_scenario(load_scenario(scaling.REFERENCE), int(k), mode, [rule])
policy = scaling.policy_name(rule, wip == "on")
sampler = Sampler(sc)
run_replication(sc, 0, 0, [policy], sampler=sampler)
gc.collect()
gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
t = time.process_time()
for r in range(n):
    run_replication(sc, r, 0, [policy], sampler=sampler)
print(json.dumps((time.process_time() - t) * 1000 / n))
"""


def time_one(code: str, checkout: Path, scenario: Path | str, policy: str, n: int) -> float:
    """CPU ms per replication measured by ``code`` in a fresh subprocess."""
    out = subprocess.run([sys.executable, "-c", code, str(checkout), str(scenario), policy,
                          str(n), str(HERE)], capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"timing {checkout} failed:\n{out.stderr.strip()}")
    return float(json.loads(out.stdout))


def compare(baseline: Path, scenario: Path, policy: str, n: int, rounds: int) -> dict[str, list[float]]:
    here = HERE.parent
    times: dict[str, list[float]] = {"baseline": [], "yardstick": [], "now": []}
    for _ in range(rounds):
        times["baseline"].append(time_one(ENGINE, baseline, scenario, policy, n))
        times["yardstick"].append(time_one(YARDSTICK, here, scenario, policy, n))
        times["now"].append(time_one(ENGINE, here, scenario, policy, n))
    return times


def compare_scaled(baseline: Path, cell: str, n: int, rounds: int) -> dict[str, list[float]]:
    """The same rounds on a scaling cell, with this checkout's ``fifo`` in the yardstick's place."""
    k, mode, _, wip = cell.split(",")
    fifo = ",".join((k, mode, "fifo", wip))
    times: dict[str, list[float]] = {"baseline": [], "yardstick": [], "now": []}
    for _ in range(rounds):
        times["baseline"].append(time_one(SCALED, baseline, cell, "", n))
        times["yardstick"].append(time_one(SCALED, HERE.parent, fifo, "", n))
        times["now"].append(time_one(SCALED, HERE.parent, cell, "", n))
    return times


def _cell(text: str) -> str:
    parts = text.split(",")
    if (len(parts) != 4 or not parts[0].isdigit() or int(parts[0]) < 1
            or parts[1] not in ("people", "projects") or parts[3] not in ("on", "off")):
        raise argparse.ArgumentTypeError(
            f"expected K,MODE,RULE,WIP (e.g. 16,projects,min_slack,on), got {text!r}")
    return text


def _median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def report(times: dict[str, list[float]], baseline: Path, policy: str, n: int,
           middle: str = "yardstick") -> None:
    print(f"{policy}: CPU per replication, {len(times['now'])} rounds of {n} replications "
          "(fresh subprocesses; plan sampling included):")
    for key, label in (("baseline", f"baseline {source_commit(baseline)}"),
                       ("yardstick", middle), ("now", f"now {source_commit(HERE.parent)}")):
        runs = " ".join(f"{x:.2f}" for x in times[key])
        print(f"  {label:<22} {statistics.median(times[key]):6.2f} ms   rounds: {runs}")
    print(f"  ratio to the {middle}: baseline {_median_ratio(times['baseline'], times['yardstick']):.2f}, "
          f"now {_median_ratio(times['now'], times['yardstick']):.2f}")
    print(f"  now / baseline: {_median_ratio(times['now'], times['baseline']):.3f} "
          "(median of the per-round ratios)")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("baseline", type=Path, help="another checkout of pmo-sim (its root folder)")
    ap.add_argument("--policy", default="fifo", help="a policy of the reference with a yardstick")
    ap.add_argument("--replications", type=int, default=100, help="per timing (default 100)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds of three timings (default 5)")
    ap.add_argument("--scaled", type=_cell, metavar="K,MODE,RULE,WIP",
                    help="a cell of scaling.py instead of the reference (e.g. 16,projects,min_slack,on)")
    args = ap.parse_args(argv)
    if not (args.baseline / "pmo_sim").is_dir():
        ap.error(f"{args.baseline} is not a pmo-sim checkout (no pmo_sim folder in it)")
    if args.scaled:
        times = compare_scaled(args.baseline.resolve(), args.scaled, args.replications, args.rounds)
        report(times, args.baseline, args.scaled, args.replications, middle="fifo (now)")
        return 0
    times = compare(args.baseline.resolve(), REFERENCE, args.policy, args.replications, args.rounds)
    report(times, args.baseline, args.policy, args.replications)
    return 0


if __name__ == "__main__":
    sys.exit(main())
