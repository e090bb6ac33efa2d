"""The unit of work of a Monte Carlo run: a *chunk* of consecutive replications.

A :class:`ChunkTask` says what to simulate, a :class:`ChunkResult` carries back its columnar
records (or the :class:`ChunkFailure` that stopped it). Both sides of a run use these: the
parent, which cuts the work into tasks and stores the results
(:mod:`pmo_sim.experiment.runner`), and the workers, which simulate them
(:mod:`pmo_sim.experiment.simulate`). This module imports nothing of the engine, so a parent
whose chunks run in worker processes never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pmo_sim.errors import unknown_policy
from pmo_sim.scenario.limits import DEFAULT_MAX_EVENTS
from pmo_sim.schema import TABLES as SCHEMA_TABLES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pmo_sim.experiment.columns import Packed
    from pmo_sim.experiment.spec import Replicate
    from pmo_sim.scenario.models import Scenario

#: The tables of every results folder (SPEC 7.1-7.3), in file order.
TABLES = tuple(SCHEMA_TABLES)


def tables_for(scenario: Scenario) -> tuple[str, ...]:
    """The tables a run of ``scenario`` stores: the core three, then ``goals`` when it has a
    strategy and ``risks`` when it has a risk register (SPEC 10.8)."""
    return (*TABLES, *(("goals",) if scenario.strategy is not None else ()),
            *(("risks",) if scenario.risks else ()))


def chosen_policies(scenario: Scenario, policies: Sequence[str] | None) -> list[str]:
    """The policies a run simulates: ``policies`` (all when none) in the scenario's order,
    duplicates dropped; a :class:`~pmo_sim.errors.UsageError` naming any it does not have."""
    known = scenario.policy_names
    if not policies:
        return known
    unknown = [p for p in policies if p not in known]
    if unknown:
        raise unknown_policy(unknown, known)
    chosen = set(policies)
    return [p for p in known if p in chosen]


@dataclass(frozen=True)
class ChunkTask:
    """Replications ``start .. stop-1`` of ``scenario`` under ``policies``, from root ``seed``."""

    scenario: Scenario
    seed: int
    start: int
    stop: int
    policies: tuple[str, ...]
    #: the replication function; None means :func:`pmo_sim.experiment.replicate.run_replication`
    replicate: Replicate | None = None
    #: the event budget (a runaway replication is stopped past twice it)
    max_events: float | None = DEFAULT_MAX_EVENTS


@dataclass(frozen=True)
class ChunkFailure:
    """Which replication raised, and why (becomes :class:`pmo_sim.errors.ReplicationFailed`)."""

    policy: str
    replication: int
    seed: int
    cause: str
    details: str = ""


@dataclass
class ChunkResult:
    """The records of one chunk, columnar per table; or the failure that stopped it."""

    start: int
    stop: int
    tables: dict[str, Packed] = field(default_factory=dict)
    failure: ChunkFailure | None = None
