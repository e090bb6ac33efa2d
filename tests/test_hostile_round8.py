"""Edges an eighth hostile-input probe found.

- ``load_scenario(..., overrides={PATH: VALUE})`` with numpy scalars, as an analyst's notebook
  gives them (a value read from a DataFrame): ``numpy.int64(4)`` for a headcount was refused
  as "expected a whole number (got 4)", ``numpy.bool_(True)`` for the horizon was taken as a
  horizon of 1 day (Python's ``True`` is refused), and ``numpy.str_("x")`` for a name was a
  TypeError "a string or stream input is required" from the YAML reader. Numpy integers are
  integers and numpy booleans booleans now, and a text subclass is read as its text;
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pmo_sim as ps

QUEUE = Path(__file__).parent.parent / "scenarios" / "queue_mmc.yaml"


def test_numpy_scalars_in_overrides_are_the_python_values_they_hold() -> None:
    sc = ps.load_scenario(QUEUE, overrides={"resources.people.headcount": np.int64(4),
                                            "horizon": np.float32(1500.0),
                                            "name": np.str_("numpy_name")})
    assert sc.resources["people"].headcount == 4
    assert sc.horizon == 1500.0
    assert sc.name == "numpy_name"
    with pytest.raises(ps.ScenarioError, match=r"horizon: expected a number, not true/false"):
        ps.load_scenario(QUEUE, overrides={"horizon": np.bool_(True)})


def test_numpy_scalars_in_scenario_data_are_the_python_values_they_hold() -> None:
    from pmo_sim.scenario.loader import scenario_from_dict
    data: dict[str, Any] = {
        "name": np.str_("data"), "horizon": np.int64(100),
        "resources": {"people": {"headcount": np.uint8(2), "day_rate": np.float32(500)}},
    }
    sc = scenario_from_dict(data)
    assert (sc.name, sc.horizon, sc.resources["people"].headcount) == ("data", 100, 2)
    with pytest.raises(ps.ScenarioError, match=r"horizon: expected a number, not true/false"):
        scenario_from_dict({**data, "horizon": np.bool_(True)})
