"""Everything around the engine at growing portfolio sizes: each command's wall time and peak RSS.

Run from the repository root::

    .venv/bin/python benchmarks/around.py            # projects 500-2000, pools 200-2000, risks 100-1600
    .venv/bin/python benchmarks/around.py --quick    # small sizes, 4 stages, projects and risks; ~45 s
    .venv/bin/python benchmarks/around.py --families pools --stages run,report
    .venv/bin/python benchmarks/around.py --families projects --stages compare,forecast \
        --against /tmp/base --rounds 3

Generates seeded scenarios as YAML files (in a temporary folder) of three kinds: ``projects``
(N explicit projects of 5-20 tasks over 4 pools, the pools' headcounts growing with N),
``pools`` (200 projects whose tasks spread over N pools of 2 people) and ``risks`` (200
projects, a register of N risks each applying to 5 projects, N/20 strategy goals, a policy
mitigating half the risks). Per size, in fresh processes (``pmo-sim`` of this checkout):
``validate``, ``run -n 4 -j 1`` (into a results folder), then on that folder ``compare``,
``report``, ``export --xlsx``, ``forecast`` (every project, in 100 columns, then in 80, where
it leaves columns out, then ``--project P3``) and ``trace`` of one replication. Prints wall
seconds, the process's peak RSS (``wait4``'s rusage: the command's own process, not a worker
pool's) and each stage's log-log slope of wall time over the size; a slope above 1.15 grows
faster than the portfolio. ``--against CHECKOUT`` also times the commands on a results folder
(``compare`` to ``forecast1``) with another checkout's pmo-sim (``git worktree add /tmp/base
<commit>``; run from its root, this interpreter), on the same folder, the two alternated, and
prints its rows and the ratios now / then. ``--rounds R`` runs each of those commands R
times (each side), the median wall time and the largest peak RSS reported.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from common import source_commit
from scaling import loglog_slope

PROGRAM = [sys.executable, "-m", "pmo_sim"]
STAGES = ("validate", "run", "compare", "report", "xlsx", "forecast", "forecast80", "forecast1",
          "trace")
ON_RESULTS = STAGES[2:8]
SIZES = {"projects": [500, 1000, 2000], "pools": [200, 800, 2000], "risks": [100, 400, 1600]}
QUICK = {"projects": [40, 80, 160], "pools": [25, 50, 100], "risks": [25, 50, 100]}
QUICK_STAGES = {"projects": ("run", "report", "forecast", "trace"), "pools": ("report",),
                "risks": ("report",)}


def _tasks(rnd: random.Random, pools: Sequence[str]) -> list[str]:
    out = []
    for t in range(rnd.randint(5, 20)):
        after = sorted(rnd.sample(range(t), min(t, rnd.randint(0, 2)))) if t else []
        low = rnd.uniform(2, 10)
        effort = f"{{dist: triangular, low: {low:.1f}, mode: {low * 1.5:.1f}, high: {low * 3:.1f}}}"
        preds = f", after: [{', '.join(f't{j}' for j in after)}]" if after else ""
        out.append(f"      - {{name: t{t}, skill: {rnd.choice(pools)}, people: {rnd.randint(1, 2)}, "
                   f"effort: {effort}{preds}}}")
    return out


def scenario(kind: str, n: int, seed: int = 1) -> str:
    """A scenario of ``kind`` (projects, pools, risks) at size ``n``, as YAML text."""
    rnd = random.Random(seed)
    projects = n if kind == "projects" else 200
    pools = [f"pool{i}" for i in range(n if kind == "pools" else 4)]
    goals = max(2, n // 20) if kind == "risks" else 0
    lines = [f"name: {kind}-{n}", "horizon: 750", "resources:"]
    lines += [f"  {p}: {{headcount: {max(2, round(5 * projects / len(pools) / 10))}, day_rate: "
              f"{rnd.randint(400, 900)}}}" for p in pools]
    if goals:
        lines += ["strategy:", "  goals:"] + [f"    g{g}: {{weight: {rnd.uniform(0.1, 1):.2f}}}"
                                               for g in range(goals)]
    lines.append("projects:")
    for i in range(projects):
        lines += [f"  - name: P{i}", f"    arrival: {rnd.uniform(0, 480):.2f}",
                  f"    due: {rnd.uniform(100, 700):.1f}", f"    value_per_day: {rnd.uniform(100, 3000):.1f}"]
        if goals:
            a, b = rnd.sample(range(goals), 2)
            lines.append(f"    alignment: {{g{a}: {rnd.random():.2f}, g{b}: {rnd.random():.2f}}}")
        lines += ["    tasks:", *_tasks(rnd, pools)]
    if kind == "risks":
        lines.append("risks:")
        for k in range(n):
            targets = ", ".join(f"P{j}" for j in rnd.sample(range(projects), 5))
            lines += [f"  - name: R{k}", f"    applies_to: {{projects: [{targets}]}}",
                      f"    probability: {rnd.uniform(0.02, 0.3):.2f}",
                      f"    impact: {{delay: {rnd.randint(1, 20)}, effort: 0.1, "
                      f"cost: {rnd.randint(1000, 30000)}}}"]
        lines += ["policies:", "  fifo: {}", "  careful:", "    governance:", "      risk_mitigation:"]
        lines += [f"        R{k}: {{cost: 1000, probability_reduction: 0.5}}" for k in range(0, n, 2)]
    else:
        lines += ["policies:", "  fifo: {resource_manager: {allocation: fifo}}",
                  "  wsjf: {resource_manager: {allocation: wsjf}}"]
    return "\n".join(lines) + "\n"


def command(stage: str, yaml: Path, folder: Path, scratch: Path) -> list[str]:
    return {
        "validate": ["validate", str(yaml)],
        "run": ["run", str(yaml), "-n", "4", "-j", "1", "--quiet", "--out", str(folder)],
        "compare": ["compare", str(folder)],
        "report": ["report", str(folder), "--out", str(scratch / "report.html"), "--force"],
        "xlsx": ["export", str(folder), "--xlsx", str(scratch / "book.xlsx"), "--force"],
        "forecast": ["forecast", str(folder)],
        "forecast80": ["forecast", str(folder)],
        "forecast1": ["forecast", str(folder), "--project", "P3"],
        "trace": ["trace", str(yaml), "--policy", "fifo", "--replication", "0", "--out",
                  str(scratch / "trace"), "--force"],
    }[stage]


def timed(args: list[str], columns: int = 100, checkout: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command (of ``checkout``'s pmo-sim if given), its
    output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen([*PROGRAM, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": str(columns)}, cwd=checkout)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {proc.returncode}\n{err.decode(errors='replace')}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="small sizes, fewer stages (under a minute)")
    ap.add_argument("--families", default=None, help="comma-separated, of projects,pools,risks "
                    "[default: all three; --quick: projects,risks]")
    ap.add_argument("--stages", default=None, help=f"comma-separated, of {','.join(STAGES)}")
    ap.add_argument("--rounds", type=int, default=1, help="times each command on a results folder "
                    "is run (with --against: each side); its median wall time, its largest RSS")
    ap.add_argument("--against", type=Path, default=None, metavar="CHECKOUT",
                    help=f"also time {', '.join(ON_RESULTS)} with this checkout's pmo-sim, alternated")
    args = ap.parse_args(argv)
    against = args.against.resolve() if args.against else None
    print(f"pmo-sim around the engine — pmo-sim {source_commit()}; wall s / peak RSS MB per command"
          + (f"; against {source_commit(against)} ({against})" if against else ""))
    with tempfile.TemporaryDirectory(prefix="pmo-around-") as tmp:
        scratch = Path(tmp)
        families = args.families or ("projects,risks" if args.quick else "projects,pools,risks")
        for kind in families.split(","):
            sizes = (QUICK if args.quick else SIZES)[kind]
            stages = (args.stages.split(",") if args.stages else
                      QUICK_STAGES[kind] if args.quick else STAGES)
            compared = [s for s in stages if against and s in ON_RESULTS]
            labels = [*stages, *(f"{s} then" for s in compared)]
            walls: dict[str, list[float]] = {s: [] for s in labels}
            print(f"\n{kind}: sizes {', '.join(map(str, sizes))}")
            print(f"{'stage':<20}" + "".join(f"{n:>16}" for n in sizes) + f"{'slope':>8}")
            rows: dict[str, list[str]] = {s: [] for s in labels}
            for k, n in enumerate(sizes):
                yaml, folder = scratch / f"{kind}-{n}.yaml", scratch / f"{kind}-{n}"
                yaml.write_text(scenario(kind, n))
                if "run" not in stages and any(s in stages for s in ON_RESULTS):
                    timed(command("run", yaml, folder, scratch))
                for stage in stages:
                    sides = [(stage, None), (f"{stage} then", against)] if stage in compared else \
                        [(stage, None)]
                    got: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in sides}
                    for r in range(args.rounds if stage in ON_RESULTS else 1):
                        for label, checkout in sides[::-1] if (k + r) % 2 else sides:
                            got[label].append(timed(command(stage, yaml, folder, scratch),
                                                    80 if stage == "forecast80" else 100, checkout))
                    for label, runs in got.items():
                        wall, rss = statistics.median(w for w, _ in runs), max(m for _, m in runs)
                        walls[label].append(wall)
                        rows[label].append(f"{wall:7.2f}s {rss:5.0f}MB")
            for label in labels:
                slope = loglog_slope(sizes, walls[label])
                print(f"{label:<20}" + "".join(f"{c:>16}" for c in rows[label]) + f"{slope:8.2f}")
            for stage in compared:
                ratios = [now / then for now, then in zip(walls[stage], walls[f"{stage} then"],
                                                          strict=True)]
                print(f"{stage + ' now/then':<20}" + "".join(f"{r:>16.2f}" for r in ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
