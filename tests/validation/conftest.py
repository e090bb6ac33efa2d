"""Shared set-up of the statistical validation suite (tests/validation).

The suite compares the engine with closed-form queueing and scheduling results. The reusable
pieces -- theory formulas, scenario builders, replication runners and the CI-based assertion --
live in :mod:`validation_helpers` next to this file; it is put on ``sys.path`` here so the
suite works under both pytest import modes (``prepend`` and ``importlib``).

Sizes: every test reads its sample sizes through ``size(default, full)``. The default keeps
the whole folder well under 90 s on 2 cores; ``PMO_SIM_FULL=1`` switches to the full sizes
(narrower confidence intervals, same assertions).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from validation_helpers import FULL, size  # noqa: E402

__all__ = ["FULL", "size"]


def pytest_report_header(config: pytest.Config) -> str:
    return f"pmo-sim validation sizes: {'FULL (PMO_SIM_FULL=1)' if FULL else 'default'}"
