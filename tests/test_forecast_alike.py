"""The forecast's statistics computed for many groups of one size at once (``_stats_alike``)
are :func:`_stats`'s, group by group, to the bit: percentiles, due days (equal, differing or
missing), the chances on time (settled or not by the horizon) and by a day."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_sim.analysis.forecast import _stats, _stats_alike

STATUSES = np.array(["completed", "cancelled", "rejected", "open", "backlog"], dtype=object)


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        type(a[k]) is type(b[k]) and (a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])))
        for k in a)


@settings(max_examples=200, deadline=None)
@given(groups=st.integers(1, 6), size=st.integers(1, 9), seed=st.integers(0, 2**32 - 1),
       by=st.one_of(st.none(), st.floats(0, 120)), horizon=st.sampled_from([60.0, 100.0]),
       due_kind=st.sampled_from(["same", "varied", "none", "some"]))
def test_groups_computed_together_are_computed_alone(groups: int, size: int, seed: int,
                                                     by: float | None, horizon: float,
                                                     due_kind: str) -> None:
    rng = np.random.default_rng(seed)
    total = groups * size
    status = STATUSES[rng.integers(0, len(STATUSES), total)]
    days = np.where(status == "completed", rng.integers(0, 120, total).astype(float), np.inf)
    due = {"same": np.repeat(rng.integers(30, 130, groups).astype(float), size),
           "varied": rng.integers(30, 130, total).astype(float),
           "none": np.full(total, np.nan),
           "some": np.where(rng.random(total) < 0.5, np.nan, rng.integers(30, 130, total))}[due_kind]
    at = list(rng.permutation(total).reshape(groups, size))
    together = _stats_alike(at, days, status, due.astype(float), by, horizon)
    for rows, row in zip(at, together, strict=True):
        assert _same(row, _stats(days[rows], status[rows], due.astype(float)[rows], by, horizon))
