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

from strategies import make_scenario, task_log  # noqa: E402


@pytest.fixture
def tiny_scenario() -> Callable[..., Scenario]:
    """Factory: ``tiny_scenario([project(...), ...], resources={"dev": 2}, pmo={...})``."""
    return make_scenario


@pytest.fixture
def task_trace() -> Callable[..., Any]:
    """Factory: ``task_trace(scenario, policy=None, seed=0)`` -> [(project, task, start, finish, crew)]."""
    return task_log
