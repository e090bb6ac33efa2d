"""The benchmark's hand-written SimPy yardstick and pmo-sim tell the same story.

The yardstick (benchmarks/yardstick.py) re-implements the portfolio rules independently for
speed comparison; if the two ever disagree on the reference portfolio, one of them is wrong,
and the speed ratio the benchmark prints would compare different models.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_yardstick_agrees_exactly_with_pmo_sim_on_the_reference_portfolio() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import run as bench
    finally:
        sys.path.remove(str(BENCH))
    differences = bench.agreement(bench.load_reference(), 0, range(8))
    assert differences, "nothing was compared"
    assert all(d == 0 for d in differences.values()), differences
