"""Edges an eleventh hostile-input probe found.

- ``run_experiment(sc, seed=None)``, ``simulate(sc, seed=None)`` or ``replication=None``,
  ``sweep``/``sensitivity`` with ``seed=None`` or ``replications=None``: a TypeError from deep
  inside ("'<' not supported between instances of 'NoneType' and 'int'"). A TypeError naming
  the argument now, before anything runs (``run_experiment(replications=None)`` still means
  the default);
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY_RUN as TINY

import pmo_sim as ps


@pytest.fixture
def tiny(tmp_path: Path) -> Any:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    return ps.load_scenario(path)


@pytest.mark.parametrize(("call", "name"), [
    (lambda sc: ps.run_experiment(sc, replications=1, seed=None, jobs=1), "seed"),
    (lambda sc: ps.simulate(sc, seed=None), "seed"),
    (lambda sc: ps.simulate(sc, replication=None), "replication"),
    (lambda sc: ps.sweep(sc, "resources.dev.headcount", [2, 3], seed=None, jobs=1), "seed"),
    (lambda sc: ps.sweep(sc, "resources.dev.headcount", [2, 3], replications=None, jobs=1),
     "replications"),
    (lambda sc: ps.sensitivity(sc, {"resources.dev.headcount": (2, 3)}, seed=None, jobs=1), "seed"),
])
def test_none_for_a_seed_or_a_count_is_named(tiny: Any, call: Callable[[Any], Any], name: str) -> None:
    with pytest.raises(TypeError, match=f"^{name} must be an integer, not NoneType"):
        call(tiny)
