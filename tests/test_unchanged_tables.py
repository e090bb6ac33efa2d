"""Scenarios that do not use strategy, funding, dependencies or risks give the tables they gave
before those features existed (SPEC 10: "same tables, same numbers for the same seed").

``tests/data/unchanged_tables.json`` was written by this module (``python
tests/test_unchanged_tables.py``) with the engine of the commit before it learned funding,
dependencies and risks (33ac59a: ``git archive 33ac59a pmo_sim`` into a folder put first on
``PYTHONPATH``, run from outside the checkout; 33ac59a includes the fix of the training
J-curve, which changed ``training.yaml``'s numbers on purpose), on
the bundled scenario files as they are now: for every one, replications 0-2 of every policy
from seed 0, the SHA-256 of each table (replications, projects, pools; the columns that existed
then, numbers to 12 significant digits) and each numeric column's sum, which says *where* a
difference lies when the digest no longer matches. ``strategy.yaml`` has the new sections;
the old engine ignored them, so its golden tables are those of the scenario with the sections
removed, and that is what the test recomputes now.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "data" / "unchanged_tables.json"
SCENARIOS = sorted((ROOT / "scenarios").rglob("*.yaml"))
REPLICATIONS = 3
TABLE_NAMES = ("replications", "projects", "pools")


def without_features(sc: Scenario) -> Scenario:
    """The scenario with its strategy, budget, risks, alignments, dependencies and funding removed."""
    data = sc.model_dump(mode="json", by_alias=True)
    for key in ("strategy", "budget", "risks"):
        data.pop(key, None)
    for spec in data["projects"] + (data["intake"]["templates"] if data.get("intake") else []):
        for key in ("alignment", "depends_on", "cost_estimate"):
            spec.pop(key, None)
    for policy in [data["pmo"], *data["policies"].values()]:
        if policy.get("governance"):
            policy["governance"].pop("funding", None)
            policy["governance"].pop("risk_mitigation", None)
    return Scenario.model_validate(data)


def _cell(x: Any) -> str:
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return str(x)
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return f"{float(x):.12g}"


def tables(sc: Scenario) -> dict[str, dict[str, list[Any]]]:
    """Every table of replications 0..REPLICATIONS-1 of every policy, as columns."""
    out: dict[str, dict[str, list[Any]]] = {t: {} for t in TABLE_NAMES}
    for r in range(REPLICATIONS):
        for rec in run_replication(sc, r, 0):
            parts = {"replications": {k: [v] for k, v in rec.kpis.items()},
                     "projects": rec.projects, "pools": rec.pools}
            for name, cols in parts.items():
                n = len(next(iter(cols.values())))
                key = {"policy": [rec.policy] * n, "replication": [r] * n}
                for col, values in {**key, **cols}.items():
                    out[name].setdefault(col, []).extend(values)
    return out


def digest(columns: dict[str, list[Any]], names: list[str]) -> dict[str, Any]:
    rows = zip(*(columns[c] for c in names), strict=True)
    text = "\n".join(",".join(_cell(x) for x in row) for row in rows)
    sums = {c: float(f"{sum(v for v in columns[c] if not math.isnan(v)):.10g}") for c in names
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in columns[c])}
    return {"columns": names, "rows": len(columns[names[0]]), "sums": sums,
            "sha256": hashlib.sha256(text.encode()).hexdigest()}


def _scenario(path: Path) -> Scenario:
    sc = load_scenario(path)
    return without_features(sc) if sc.strategy or sc.risks or sc.budget else sc


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenarios_without_the_new_sections_give_the_same_tables(path: Path) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))[str(path.relative_to(ROOT))]
    now = tables(_scenario(path))
    for name in TABLE_NAMES:
        want = golden[name]
        got = digest(now[name], want["columns"])
        assert got["rows"] == want["rows"], (path.stem, name)
        assert got["sums"] == want["sums"], (path.stem, name)
        assert got["sha256"] == want["sha256"], (path.stem, name)


if __name__ == "__main__":  # pragma: no cover - writes the golden file (at the commit named above)
    out = {}
    for path in SCENARIOS:
        now = tables(_scenario(path))
        out[str(path.relative_to(ROOT))] = {name: digest(now[name], list(now[name]))
                                            for name in TABLE_NAMES}
    GOLDEN.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    sys.exit(0)
