"""Portfolios of explicit projects, each with its own network, at 40 to 640 projects.

Run from the repository root::

    .venv/bin/python benchmarks/explicit.py                 # 40, 160, 640 projects; 3 rounds
    .venv/bin/python benchmarks/explicit.py --sizes 40,160 --rounds 1

``scaling.py`` and ``scenario_scaling.py`` grow portfolios through an intake (a few templates,
many projects per network); a portfolio handed over as a list of projects has one network
per project, with more tasks in parallel. This generates such lists (seeded, in memory as
YAML text, read by ``load_scenario_text``): n projects arriving uniformly over 480 days, 8 to
20 tasks each on four skill pools (one or two people, triangular efforts, up to two
predecessors each), due dates and values, the pools' headcounts those of the reference times
n / 40; policies ``fifo``, ``srpt``, ``wsjf``, ``min_slack``. Measured: the CPU of loading the
text, and per policy the CPU per replication (rounds alternate the policies, after one
warm-up replication), its log-log slope over n and its ratio to ``fifo`` at the largest n.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Sequence

from common import source_commit
from scaling import loglog_slope

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario_text

POOLS = {"analysts": 4, "developers": 9, "testers": 4, "ops": 3}  # the reference's, per 40 projects
RULES = ("fifo", "srpt", "wsjf", "min_slack")


def portfolio(n: int, seed: int = 1) -> str:
    """A scenario of n explicit projects as YAML text."""
    rnd = random.Random(seed)
    lines = [f"name: explicit-{n}", "horizon: 750", "resources:"]
    lines += [f"  {pool}: {{headcount: {max(2, round(h * n / 40))}}}" for pool, h in POOLS.items()]
    lines.append("projects:")
    for i in range(n):
        lines += [f"  - name: P{i}", f"    arrival: {rnd.uniform(0, 480):.2f}",
                  f"    due: {rnd.uniform(100, 700):.1f}", f"    value_per_day: {rnd.uniform(100, 3000):.1f}",
                  "    tasks:"]
        for t in range(rnd.randint(8, 20)):
            after = sorted(rnd.sample(range(t), min(t, rnd.randint(0, 2)))) if t else []
            low = rnd.uniform(2, 10)
            pool, people = rnd.choice(list(POOLS)), rnd.randint(1, 2)
            effort = f"{{dist: triangular, low: {low:.1f}, mode: {low * 1.5:.1f}, high: {low * 3:.1f}}}"
            preds = f", after: [{', '.join(f't{j}' for j in after)}]" if after else ""
            lines.append(f"      - {{name: t{t}, skill: {pool}, people: {people}, effort: {effort}{preds}}}")
    lines.append("policies:")
    lines += [f"  {rule}: {{resource_manager: {{allocation: {rule}}}}}" for rule in RULES]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sizes", type=lambda s: sorted({int(x) for x in s.split(",")}), default=[40, 160, 640])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if args.sizes[0] < 1 or args.rounds < 1:
        ap.error("sizes and rounds must be at least 1")
    print(f"pmo-sim explicit portfolios of {', '.join(map(str, args.sizes))} projects — pmo-sim "
          f"{source_commit()}; CPU ms (median of {args.rounds} rounds)")
    cpu: dict[tuple[str, int], list[float]] = {}
    for n in args.sizes:
        text = portfolio(n)
        t = time.process_time()
        sc = load_scenario_text(text)
        cpu["load", n] = [(time.process_time() - t) * 1000]
        sampler = Sampler(sc)
        run_replication(sc, 0, 1, [RULES[0]], sampler=sampler)  # warm-up: compile the networks
        for r in range(args.rounds):
            for rule in RULES:
                gc.collect()
                gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
                t = time.process_time()
                run_replication(sc, r, 1, [rule], sampler=sampler)
                cpu.setdefault((rule, n), []).append((time.process_time() - t) * 1000)
    top = args.sizes[-1]
    fifo = statistics.median(cpu["fifo", top])
    for what in ("load", *RULES):
        ms = [statistics.median(cpu[what, n]) for n in args.sizes]
        ratio = "" if what == "load" else f"   /fifo at {top}: {ms[-1] / fifo:.2f}"
        print(f"  {what:<10}" + "".join(f"{m:10.1f}" for m in ms)
              + f"   slope {loglog_slope(args.sizes, ms):.2f}" + ratio)
    return 0


if __name__ == "__main__":
    sys.exit(main())
