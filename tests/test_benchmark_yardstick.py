"""The benchmark's hand-written SimPy yardsticks and pmo-sim tell the same story.

The yardsticks (benchmarks/yardstick.py for fifo, benchmarks/yardstick_wsjf.py for wsjf)
re-implement the portfolio rules independently for speed comparison; if one ever disagrees
with pmo-sim on the reference portfolio, one of them is wrong, and the speed ratio the
benchmark prints would compare different models.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        import run as bench
    finally:
        sys.path.remove(str(BENCH))
    return bench


# fifo: the rule alone; wsjf: the rule alone (a policy the benchmark adds in memory);
# wsjf-wip: the reference's wsjf policy with a WIP limit of 4 (backlog ranked by the rule).
@pytest.mark.parametrize("policy", ["fifo", "wsjf", "wsjf-wip"])
def test_yardstick_agrees_exactly_with_pmo_sim_on_the_reference_portfolio(policy: str) -> None:
    bench = _bench()
    differences = bench.agreement(bench.load_reference(with_wsjf=True), 0, range(8), policy)
    assert differences, "nothing was compared"
    assert all(d == 0 for d in differences.values()), differences
