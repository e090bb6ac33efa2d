"""One replication under every requested policy: the unit of work of every backend.

:func:`run_replication` draws the replication's Plan once and runs each policy on it with
the roles that policy needs, so that all policies of a replication see the same world
(common random numbers). It is a pure function of (scenario, seed, replication, policies);
the :class:`~pmo_sim.sampling.Sampler` (compiled task networks) is passed in so a chunk of
replications compiles the scenario once.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pmo_sim.engine import ReplicationRecords, Role, World
from pmo_sim.errors import unknown_policy
from pmo_sim.pmo import roles_for
from pmo_sim.sampling import Plan, Sampler
from pmo_sim.scenario.limits import DEFAULT_MAX_EVENTS
from pmo_sim.scenario.models import Scenario

#: A replication is stopped once it processes this many times the scenario's event budget.
RUNAWAY_FACTOR = 2


def run_replication(scenario: Scenario, replication: int, seed: int,
                    policies: Sequence[str] | None = None, trace: bool = False,
                    sampler: Sampler | None = None,
                    extra_roles: Sequence[type[Role]] = (),
                    max_events: float | None = DEFAULT_MAX_EVENTS) -> list[ReplicationRecords]:
    """Simulate replication ``replication`` of every requested policy on one shared Plan.

    ``extra_roles`` are role classes added after the policy's own (each built with the
    scenario and the policy, and attached if ``wanted``): a seam for trying a new lever
    before it has a place in :data:`pmo_sim.pmo.ROLES`. ``max_events`` is the event budget a
    scenario was checked against: a replication that processes more than
    :data:`RUNAWAY_FACTOR` times it is stopped (None: no cap).
    """
    names = list(scenario.policies) if policies is None else list(policies)
    unknown = [n for n in names if n not in scenario.policies]
    if unknown:
        raise unknown_policy(unknown[:1], list(scenario.policies))
    cap = None if max_events is None else int(RUNAWAY_FACTOR * max_events)
    with fewer_collections():
        plan = (sampler or Sampler(scenario)).plan(seed, replication)
        # One policy per call, so that no role or world outlives it: one still referenced when
        # the collector's threshold is restored (a role keeps its world) would be promoted to
        # an older generation and traversed by every later collection (it once cost a tenth
        # of a replication's CPU at the reference size).
        return [_run_policy(scenario, name, plan, extra_roles, trace, cap) for name in names]


def _run_policy(scenario: Scenario, name: str, plan: Plan, extra_roles: Sequence[type[Role]],
                trace: bool, cap: int | None) -> ReplicationRecords:
    policy = scenario.policies[name]
    roles = roles_for(scenario, name) + [cls(scenario, policy) for cls in extra_roles
                                         if cls.wanted(scenario, policy)]
    world = World(scenario, name, plan, roles, trace=trace, event_cap=cap)
    records = world.run()
    world.dispose()  # freed by reference counting when this returns, not by the cyclic collector
    return records


@contextmanager
def fewer_collections(young: int = 1_000_000) -> Iterator[None]:
    """Let the cyclic garbage collector look at young objects every ``young`` allocations
    (Python's default: 700) while a replication runs, then restore the thresholds.

    A replication builds many objects that live as long as it does (plans, task and project
    states, events in flight); at the default threshold the collector keeps traversing them,
    which costs up to half the CPU of a large portfolio's replication and grows faster than
    the portfolio. Reference counting still frees almost everything at once; only garbage in
    cycles waits a little longer: a replication makes next to none while it runs (what the
    roles hold at its end, 200-3,000 objects for a bundled scenario's policies, is collected
    once the thresholds are back). Nested or concurrent use leaves a raised threshold alone.

    NOTE: a million, not a hundred thousand (stop 31): a 64× portfolio keeps more than 100,000
    objects alive, so the collector traversed them once or twice a replication, ~35 ms of
    ~400 (9%), where a 16× one never reached it: a step in the cost between 16× and 64×
    (`benchmarks/scaling.py`'s slope with people scaled 1.10). At a million: 1.8 ms.
    """
    old = gc.get_threshold()
    if old[0] >= young:
        yield
        return
    gc.set_threshold(young, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
