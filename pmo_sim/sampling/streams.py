"""Random streams: one root seed, one independent stream per (replication, source, ...).

Replication ``r``'s source ``s`` uses ``SeedSequence(seed, spawn_key=(r, s, ...))``, which is
exactly the child ``SeedSequence(seed).spawn(...)[r].spawn(...)[s]``. A stream depends only on
its key, so adding replications (``--precision``), resuming, chunking or parallelism change
nothing; a new mechanism takes a new slot and leaves every other stream as it was.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Source(IntEnum):
    """Spawn-key slots of the random sources of a replication (never renumber)."""

    ARRIVALS = 0
    TEMPLATE_CHOICE = 1
    EXPLICIT = 2
    GENERATED = 3
    CHANGES = 4
    WORKFORCE = 5
    INNOVATION = 6
    GOVERNANCE = 7
    ESTIMATE_ERROR = 8  # per-skill estimate-error multipliers (calibration from history)
    ALIGNMENT = 9  # templates' strategic alignment draws
    RISKS = 10  # the risk register: strike uniforms, timing and impacts per (risk, project)


def stream(seed: int, replication: int, source: Source | int, *more: int) -> np.random.Generator:
    """The generator of one random source of one replication."""
    ss = np.random.SeedSequence(seed, spawn_key=(replication, int(source), *more))
    return np.random.Generator(np.random.PCG64(ss))
