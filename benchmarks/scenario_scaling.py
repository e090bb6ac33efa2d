"""How every bundled scenario's policies scale: each at 1×, 4×, 16× of its own portfolio.

Run from the repository root::

    .venv/bin/python benchmarks/scenario_scaling.py                    # every scenario, both modes
    .venv/bin/python benchmarks/scenario_scaling.py --scenarios strategy,capacity --sizes 1,4,16,64
    .venv/bin/python benchmarks/scenario_scaling.py --scenarios none --generated all   # generated.py's

``--generated`` adds :mod:`generated`'s portfolios (wide fans and long chains over ten pools
and two rigs, tasks holding several, one policy per allocation rule, the roles of each
structure), with each rule's ratio to ``fifo`` at the largest size.

``scaling.py`` scales the reference portfolio under every allocation rule; this scales what
the other roles add — the funding board, dependencies, risks, stage gates, change managers,
training, staffing plans, contractors, switching costs, equipment — as each bundled scenario
sets them, so a role whose cost grows faster than the portfolio shows up (the funding board
reviewing on every arrival did, with a slope of 1.74 under ``first_come``, before it kept its
proposals ranked). At size k the intake's mean time between arrivals is divided by k (and its
``count``, if it has one, multiplied by k); mode ``people`` multiplies every pool's headcount
(and equipment units) by k, mode ``projects`` keeps them. CPU per replication
(``time.process_time``) over ``--reps`` replications at 1× and reps/k (at least 1) at k×,
median of ``--rounds`` rounds; per policy the log-log slope over the sizes.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import generated
from common import source_commit
from scaling import loglog_slope, replications_at

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.loader import load_scenario, scenario_from_dict
from pmo_sim.scenario.models import Scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TARGET = 1.1  # issue 11's slope target


def scaled(path: Path, k: int, mode: str) -> Scenario | None:
    """The scenario at k times its portfolio (None: it has no intake with exponential arrivals)."""
    base = load_scenario(path)
    intake = base.intake
    if intake is None or intake.arrivals.dist != "exponential":
        return None
    mean = intake.arrivals.mean() / k
    overrides: dict[str, Any] = {"intake.arrivals": {"dist": "exponential", "mean": mean}}
    if intake.count is not None:
        overrides["intake.count"] = intake.count * k
    if mode == "people":
        for name, pool in base.resources.items():
            field = "units" if pool.kind == "equipment" else "headcount"
            overrides[f"resources.{name}.{field}"] = getattr(pool, field) * k
    return load_scenario(path, overrides)


def worlds_of(args: argparse.Namespace) -> Iterator[tuple[str, str, dict[int, Scenario | None]]]:
    """(name, mode, the scenario at each size) of the bundled scenarios, then the generated."""
    for name in args.scenarios:
        for mode in args.modes:
            yield name, mode, {k: scaled(SCENARIOS / f"{name}.yaml", k, mode) for k in args.sizes}
    for name in args.generated:
        for mode in args.modes:
            yield f"gen:{name}", mode, {
                k: scenario_from_dict(generated.scenario(name, k, mode), name, max_events=None)
                for k in args.sizes}


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for name, mode, worlds in worlds_of(args):
        if any(sc is None for sc in worlds.values()):
            if mode == args.modes[0]:
                print(f"  {name}: no intake with exponential arrivals, skipped", file=sys.stderr)
            continue
        samplers = {k: Sampler(sc) for k, sc in worlds.items() if sc is not None}
        policies = worlds[args.sizes[0]].policy_names  # type: ignore[union-attr]
        cpu: dict[tuple[str, int], list[float]] = {}
        for _ in range(args.rounds):
            for k, sc in worlds.items():
                n = replications_at(k, args.reps)
                for policy in policies:
                    gc.collect()
                    gc.freeze()  # both sides alike, as pmo-sim freezes its workers (experiment/heap.py)
                    t = time.process_time()
                    for r in range(n):
                        run_replication(sc, r, args.seed, [policy], sampler=samplers[k])  # type: ignore[arg-type]
                    cpu.setdefault((policy, k), []).append((time.process_time() - t) * 1000 / n)
        last = args.sizes[-1]
        fifo = statistics.median(cpu["fifo", last]) if ("fifo", last) in cpu else math.nan
        for policy in policies:
            ms = [statistics.median(cpu[policy, k]) for k in args.sizes]
            rows.append({"scenario": name, "mode": mode, "policy": policy, "cpu_ms": ms,
                         "slope": loglog_slope(args.sizes, ms)})
            ratio = f"   x fifo {ms[-1] / fifo:.2f}" if name.startswith("gen:") else ""
            print(f"  {name:<17} {mode:<8} {policy:<24}" + "".join(f"{m:10.1f}" for m in ms)
                  + f"   slope {rows[-1]['slope']:.2f}{ratio}", flush=True)
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    names = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    ap.add_argument("--scenarios", type=lambda s: [] if s == "none" else s.split(","), default=names,
                    help="bundled scenarios by name (default: all; none: none): " + ",".join(names))
    ap.add_argument("--generated", type=lambda s: list(generated.STRUCTURES) if s == "all" else s.split(","),
                    default=[], help="generated portfolios (benchmarks/generated.py), or all: "
                    + ",".join(generated.STRUCTURES))
    ap.add_argument("--sizes", type=lambda s: sorted({int(x) for x in s.split(",")}), default=[1, 4, 16])
    ap.add_argument("--modes", type=lambda s: s.split(","), default=["people", "projects"])
    ap.add_argument("--reps", type=int, default=8, help="replications at 1x; reps/k at kx")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    unknown = [n for n in args.scenarios if n not in names]
    unknown += [n for n in args.generated if n not in generated.STRUCTURES]
    if unknown or any(m not in ("people", "projects") for m in args.modes) or args.sizes[0] < 1:
        ap.error(f"unknown scenario(s) {', '.join(unknown)}" if unknown else "bad --modes or --sizes")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"pmo-sim bundled scenarios at {', '.join(f'{k}x' for k in args.sizes)} — pmo-sim "
          f"{source_commit()}; CPU ms per replication (median of {args.rounds} round(s))")
    rows = measure(args)
    if rows:
        worst = max(rows, key=lambda r: r["slope"] if not math.isnan(r["slope"]) else -math.inf)
        verdict = "ok" if worst["slope"] <= TARGET else "MISSED"
        print(f"steepest slope {worst['slope']:.2f} ({worst['scenario']}, {worst['mode']}, "
              f"{worst['policy']}) (target <= {TARGET}: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
