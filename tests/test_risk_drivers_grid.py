"""risk_drivers by hand: a risk absent from a policy or a replication counts zeros there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pmo_sim.analysis.risks import MEASURES, risk_drivers


def test_sums_per_replication_with_zeros_where_a_risk_has_no_row() -> None:
    projects = pd.DataFrame([{"policy": pol, "replication": r, "project": "A", "value_per_day": 0.0,
                              "start": 0.0, "finish": 10.0, "effort_done": 5.0, "status": "completed"}
                             for pol in ("p", "q") for r in range(3)])
    rows = [("p", 0, "slip", True, False, 4.0), ("p", 0, "slip", True, False, 2.0),
            ("p", 2, "slip", False, False, 0.0), ("p", 1, "leak", True, True, 6.0),
            ("q", 1, "leak", False, True, 0.0)]
    risks = pd.DataFrame([{"policy": pol, "replication": r, "project": "A", "risk": name,
                           "occurred": hit, "mitigated": mit, "delay": d, "effort_added": 0.0,
                           "cost": 10 * d} for pol, r, name, hit, mit, d in rows])
    out = risk_drivers(risks, projects, replications=3).set_index(["policy", "risk"])
    assert out.loc[("p", "slip"), "mitigated"] == False  # noqa: E712
    assert out.loc[("p", "leak"), "mitigated"] == True  # noqa: E712
    assert out.loc[("q", "slip"), "mitigated"] == False  # noqa: E712  (no row at all)
    assert out.loc[("p", "slip"), "applicable"] == pytest.approx(3 / 3)
    assert out.loc[("p", "slip"), "strikes"] == pytest.approx(2 / 3)
    assert out.loc[("q", "slip"), "strikes"] == 0.0
    assert out.loc[("p", "slip"), "cost"] == pytest.approx(60 / 3)       # 60, 0, 0
    assert out.loc[("p", "leak"), "cost"] == pytest.approx(60 / 3)       # 0, 60, 0
    hw = out.loc[("p", "slip"), "cost_ci_high"] - out.loc[("p", "slip"), "cost"]
    assert hw == pytest.approx(4.303 * np.std([60, 0, 0], ddof=1) / np.sqrt(3), rel=1e-3)
    assert "cost" in MEASURES
