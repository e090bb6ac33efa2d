"""Shared fixtures: small scenario factories for engine tests.

The builders themselves live in ``tests/strategies.py`` (plain functions, importable from
Hypothesis tests too); these fixtures only expose them to tests that prefer fixtures.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pmo_sim.scenario.models import Scenario

if str(Path(__file__).parent) not in sys.path:  # `import strategies` in any --import-mode
    sys.path.insert(0, str(Path(__file__).parent))

from hypothesis import settings  # noqa: E402
from strategies import FULL, make_scenario, task_log  # noqa: E402

# The default suite (the one CI runs) draws the same Hypothesis examples on every run, so a
# green suite stays green for the same code; PMO_SIM_FULL=1 explores afresh each time (and
# more examples), which is where new counterexamples are found and then pinned as named cases.
settings.register_profile("default-suite", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile("explore" if FULL else "default-suite")


@pytest.fixture
def tiny_scenario() -> Callable[..., Scenario]:
    """Factory: ``tiny_scenario([project(...), ...], resources={"dev": 2}, pmo={...})``."""
    return make_scenario


@pytest.fixture
def task_trace() -> Callable[..., Any]:
    """Factory: ``task_trace(scenario, policy=None, seed=0)`` -> [(project, task, start, finish, crew)]."""
    return task_log


TINY_RUN = """name: tiny
horizon: 100
resources:
  dev: {headcount: 2, day_rate: 100}
projects:
  - {name: P, value_per_day: 10, tasks: [{name: a, skill: dev, effort: 5}]}
"""


@pytest.fixture
def tiny_results(tmp_path: Path) -> Path:
    """A complete results folder (``tmp_path / "r"``) of a one-project, one-pool scenario
    (``tmp_path / "s.yaml"``), 2 replications: for tests that edit a folder and read it."""
    import pmo_sim as ps

    path = tmp_path / "s.yaml"
    path.write_text(TINY_RUN)
    ps.run_experiment(ps.load_scenario(path), replications=2, jobs=1, out=tmp_path / "r")
    return tmp_path / "r"


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 200 KB filesystem (tmpfs) that fills up mid-run; needs permission to mount."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)
