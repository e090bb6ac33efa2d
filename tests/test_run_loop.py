"""The engine's event loop (``clock.run_until``) is SimPy's ``env.run(until=...)`` written out:
the same events in the same order, the same clock, the same event ids and queue afterwards
(the ``events`` KPI is read from them), and a failed event stops the run the same way; a
:class:`~pmo_sim.engine.clock.Clock`'s direct entries are handed over in their place in the
order by either loop."""

from __future__ import annotations

from pathlib import Path

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_sim.engine.clock import Clock, run_until

Delays = st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 4.0]), min_size=1, max_size=12)


class Subject:
    """A direct entry's class (as a task state is the engine's)."""

    def __init__(self, d: float):
        self.d = d


def _model(env: Clock, delays: list[float], log: list[tuple]) -> None:
    """Processes and bare timeouts with ties, some landing exactly on the stop times."""

    def worker(name: int, gaps: list[float]):
        for k, gap in enumerate(gaps):
            yield env.timeout(gap)
            log.append((env.now, "p", name, k))
            if k == 1:
                env.timeout(gap).callbacks.append(lambda e, n=name: log.append((env.now, "t", n)))

    for i in range(3):
        env.process(worker(i, delays[i:] + delays[:i]))
    for d in delays:
        env.timeout(d).callbacks.append(lambda e, d=d: log.append((env.now, "bare", d)))
        # A task's completion, as the engine schedules it, handled by the engine's loop or SimPy's.
        env.schedule_direct(Subject(d), d + 0.25)
    env.direct_class, env.direct_handler = Subject, lambda s: log.append((env.now, "due", s.d))


def _run(stops: list[float], delays: list[float], ours: bool) -> tuple:
    env = Clock()
    log: list[tuple] = []
    _model(env, delays, log)
    for at in stops:
        if ours:
            run_until(env, at)
        else:
            env.run(until=at)
        log.append(("stop", env.now, len(env._queue)))
    return log, env.now, next(env._eid), [(t, p) for t, p, _, _ in sorted(env._queue)]


@settings(max_examples=60)
@given(delays=Delays, cuts=st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0, 5.0]), min_size=1,
                                      max_size=4, unique=True))
def test_run_until_is_simpy_run(delays: list[float], cuts: list[float]) -> None:
    stops = sorted(cuts)
    assert _run(stops, delays, ours=True) == _run(stops, delays, ours=False)


def test_a_failed_event_stops_the_run_like_simpy() -> None:
    def failing(env: simpy.Environment):
        yield env.timeout(1)
        raise KeyError("boom")

    for ours in (True, False):
        env = simpy.Environment()
        env.process(failing(env))
        with pytest.raises(KeyError, match="boom") as info:
            run_until(env, 5) if ours else env.run(until=5)
        assert isinstance(info.value.__cause__, KeyError)
        assert env.now == 1


def test_a_stop_time_not_after_now_is_refused() -> None:
    env = simpy.Environment(initial_time=3)
    with pytest.raises(ValueError, match="greater than the current"):
        run_until(env, 3)


def test_a_replication_leaves_nothing_for_the_older_generations() -> None:
    """The world of a replication is freed by the collection its end triggers: none of its task
    states is promoted to an older generation, where every later collection would traverse it."""
    import gc

    from pmo_sim.engine.state import TaskState
    from pmo_sim.experiment.replicate import run_replication
    from pmo_sim.sampling import Sampler
    from pmo_sim.scenario.loader import load_scenario

    scenario = load_scenario(Path(__file__).parents[1] / "scenarios" / "baseline.yaml")
    sampler = Sampler(scenario)

    def older() -> set[int]:  # task states other tests may hold are there already
        return {id(o) for g in (1, 2) for o in gc.get_objects(generation=g) if type(o) is TaskState}

    gc.collect()
    before = older()
    for r in range(3):
        run_replication(scenario, r, 0, sampler=sampler)
    assert older() - before == set()


def test_a_clock_binds_simpys_event_classes_once_as_simpy_does() -> None:
    # SimPy binds them only for Environment itself (BoundClass.bind_early reads the instance's
    # own class): without this, every env.timeout(...) of a Clock made a bound method.
    env = Clock()
    for name in ("timeout", "event", "process", "all_of", "any_of"):
        assert name in vars(env), name
    assert env.timeout is env.timeout  # one bound object, not one per access
    assert vars(simpy.Environment()).keys() <= vars(env).keys()


@pytest.mark.parametrize("rule", ["fifo", "srpt", "min_slack"])
def test_a_replications_roles_are_freed_by_reference_counting(rule: str) -> None:
    """``World.dispose`` disposes of the roles too: a role that binds its own methods to itself
    (the resource manager does, for speed) is a cycle, which kept its queues, and every project
    and task still waiting in them at the horizon, for the collector to traverse (11,000 objects
    a replication under ``min_slack`` in an overloaded generated portfolio, against 300)."""
    import gc
    import weakref

    from pmo_sim.engine import World
    from pmo_sim.pmo import roles_for
    from pmo_sim.sampling import Sampler
    from pmo_sim.scenario.loader import load_scenario
    from pmo_sim.scenario.models import Scenario

    data = load_scenario(Path(__file__).parents[1] / "scenarios" / "governance.yaml").model_dump(
        mode="json", exclude_none=True)
    data["policies"] = {"p": {**data["pmo"], "resource_manager": {"allocation": rule}}}
    scenario = Scenario.model_validate(data)
    plan = Sampler(scenario).plan(0, 0)
    roles = roles_for(scenario, "p")
    alive = [weakref.ref(role) for role in roles]
    assert len(alive) > 1  # the resource manager and governance at least
    gc.disable()  # what reference counting alone frees
    try:
        world = World(scenario, "p", plan, roles)
        records = world.run()
        world.dispose()
        del world, roles
        assert [type(r()).__name__ for r in alive if r() is not None] == []
    finally:
        gc.enable()
    assert records.kpis["projects_completed"] > 0  # the records outlive the roles
