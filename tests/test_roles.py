"""Each PMO role on its own, against a small fake world (the role contract, engine/roles.py).

The fake world has a real SimPy clock, real pools, people and projects from a real Plan, but
none of the engine's task life cycle: it records the calls a role makes through ``WorldAPI``
(``apply_change``, ``cancel``, ``claim``...). So each test pins down what the role decides,
hook by hook, without a whole World.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import simpy
from strategies import make_scenario, project, task

from pmo_sim.engine.roles import Accounts, Role
from pmo_sim.engine.state import Person, PoolState, ProjectState, Ramp, TaskState
from pmo_sim.pmo import ROLES, roles_for
from pmo_sim.pmo.change_manager import ChangeManager
from pmo_sim.pmo.dependencies import Dependencies
from pmo_sim.pmo.governance import Governance
from pmo_sim.pmo.innovation_manager import InnovationManager
from pmo_sim.pmo.resource_manager import ResourceManager
from pmo_sim.pmo.technology_manager import TechnologyManager
from pmo_sim.pmo.training_manager import TrainingManager
from pmo_sim.sampling import Sampler
from pmo_sim.scenario.models import Scenario


class FakeWorld:
    """Just enough world for one role: a clock, pools of people, projects; calls are logged."""

    def __init__(self, scenario: Scenario, policy: str | None = None, seed: int = 0):
        self.scenario = scenario
        self.policy = scenario.policies[policy or scenario.policy_names[0]]
        self.plan = Sampler(scenario).plan(seed, 0)
        self.env = simpy.Environment()
        self.t0, self.t1 = scenario.warmup, scenario.horizon
        self.delta = math.log1p(scenario.discount_rate) / scenario.days_per_year
        self.work_share = 1.0
        self.wip = 0
        self.closed = False
        self.down = None
        self.touched = [False] * len(scenario.resources)
        self.touched_pools: list[int] = []
        self.pools = [PoolState(i, n, p.day_rate, p.productivity)
                      for i, (n, p) in enumerate(scenario.resources.items())]
        self.pool_by_name = {p.name: p for p in self.pools}
        for pool, spec in zip(self.pools, scenario.resources.values(), strict=True):
            for slot in range(spec.headcount):
                person = Person(f"{pool.name}-{slot + 1}", pool, slot, 0, pool.productivity, 0.0, math.inf)
                pool.people.append(person)
                pool.idle.append(person)
        self.projects = []
        for plan in self.plan.projects:
            proj = ProjectState(plan, plan.arrival >= self.t0, plan.efforts.tolist())
            net = plan.network
            pools = self.pools
            proj.tasks = [TaskState(proj, e, (i, net.names[i], pools[net.pools[i]], net.people[i],
                                              net.succs[i], ((pools[net.pools[i]], net.people[i]),),
                                              False, net.speeds[i]),
                                    net.npreds[i]) for i, e in enumerate(proj.efforts)]
            self.projects.append(proj)
        self.calls: list[tuple[Any, ...]] = []

    def log(self, *call: Any) -> None:
        self.calls.append((self.env.now, *call))

    # ---- the WorldAPI methods, logged
    def pass_on(self, projects: list[ProjectState], holder: Role) -> None:
        for proj in projects:
            self.log("pass_on", proj.name)

    def admit(self, project: ProjectState) -> None:
        self.wip += 1
        project.status = "open"
        self.log("admit", project.name)

    def cancel(self, project: ProjectState, reason: str = "") -> None:
        project.status = "cancelled"
        project.cancel_reason = reason
        self.log("cancel", project.name, reason)

    def reject(self, project: ProjectState) -> None:
        project.status = "rejected"
        self.log("reject", project.name)

    def apply_change(self, project: ProjectState, fraction: float, disruption: float) -> None:
        self.log("apply_change", project.name, round(fraction, 12), round(disruption, 12))

    def scale_pending_effort(self, project: ProjectState, factor: float) -> None:
        self.log("scale_pending_effort", project.name, factor)

    def start_task(self, task: TaskState, crew: list[Person], setup: float) -> None:
        task.start = self.env.now
        self.log("start_task", task.project.name, task.name, [p.label for p in crew], setup)

    def dispatch(self) -> None:
        self.log("dispatch")

    def touch(self, pool: PoolState) -> None:
        if not self.touched[pool.index]:
            self.touched[pool.index] = True
            self.touched_pools.append(pool.index)

    def claim(self, person: Person, on_free: Callable[[Person], None]) -> None:
        self.log("claim", person.label)
        if person.task is None:
            for p in person.pools:
                p.idle.remove(person)
            on_free(person)
        else:
            person.claim = on_free

    def send_away(self, person: Person) -> None:
        person.away_since = self.env.now
        self.log("send_away", person.label)

    def release(self, person: Person) -> None:
        person.away_since = None
        self.log("release", person.label)

    def change_attrition(self, person: Person, factor: float) -> None:
        self.log("change_attrition", person.label, factor)

    def add_ramp(self, person: Person, ramp: Ramp) -> None:
        self.log("add_ramp", person.label, (ramp.t0, ramp.t1, ramp.m0, ramp.m1))

    def add_pool_ramp(self, pool: PoolState, ramp: Ramp) -> None:
        self.log("add_pool_ramp", pool.name, (ramp.t0, ramp.t1, ramp.m0, ramp.m1))

    def add_skill(self, person: Person, pool: PoolState) -> None:
        self.log("add_skill", person.label, pool.name)


def attached(role_type: type[Role], sc: Scenario, policy: str | None = None,
             seed: int = 0) -> tuple[Any, FakeWorld]:
    world = FakeWorld(sc, policy, seed)
    role = role_type(sc, world.policy)
    role.attach(world)  # type: ignore[arg-type]
    return role, world


def reported(role: Role, world: FakeWorld) -> Accounts:
    acc = Accounts(world.t0, world.t1, world.delta, world.scenario.days_per_year)
    role.report(acc)
    return acc


# --------------------------------------------------------------------------- registry


def test_roles_for_builds_only_what_a_policy_needs() -> None:
    plain = make_scenario([project("A", task("a", 1))])
    assert [type(r) for r in roles_for(plain, "default")] == [ResourceManager]
    busy = make_scenario([project("A", task("a", 1))], changes={"per_project_per_year": 2},
                         pmo={"governance": {"cost_per_year": 1}, "innovation_manager": {}})
    assert [type(r) for r in roles_for(busy, "default")] == [ResourceManager, ChangeManager,
                                                             InnovationManager, Governance]
    assert ROLES[0] is ResourceManager  # the allocator comes first


def test_governance_comes_with_a_budget_or_a_risk_register_and_before_the_dependency_gate() -> None:
    budget = make_scenario([project("A", task("a", 1))], budget={"per_year": 10})
    assert [type(r) for r in roles_for(budget, "default")] == [ResourceManager, Governance]
    risky = make_scenario([project("A", task("a", 1)), project("B", task("b", 1), depends_on=["A"])],
                          risks=[{"name": "r", "probability": 0.5}])
    assert [type(r) for r in roles_for(risky, "default")] == [ResourceManager, Governance, Dependencies]
    role = roles_for(risky, "default")[1]
    # No funding board: closures are none of its business; risks are, and so are arrivals
    # (every project is funded on arrival, and its mitigations are paid then).
    assert "on_close" in role.idle_hooks and not {"on_arrival", "on_admit"} & role.idle_hooks
    assert {"on_arrival", "on_close"} <= roles_for(budget, "default")[1].idle_hooks


# --------------------------------------------------------------------------- technology


def test_technology_manager_adds_j_curves_and_pays_on_the_day() -> None:
    sc = make_scenario([project("A", task("a", 1))], resources={"dev": 1, "qa": 1},
                       discount_rate=0.1, warmup=20, horizon=100, pmo={"technology_manager": {"adoptions": [
                           {"name": "ci", "day": 10, "skills": ["qa"], "cost": 500, "dip": 0.2,
                            "dip_days": 5, "productivity_gain": 0.3},
                           {"name": "ide", "day": 30, "cost": 100},
                           {"name": "late", "day": 100, "cost": 7}]}})
    role, world = attached(TechnologyManager, sc)
    assert world.calls == [(0, "add_pool_ramp", "qa", (10, 15, 0.8, 1.3)),
                           (0, "add_pool_ramp", "dev", (30, 30, 1.0, 1.0)),
                           (0, "add_pool_ramp", "qa", (30, 30, 1.0, 1.0))]
    acc = reported(role, world)
    # Day 10 is before the warm-up (20): not in the KPI, but in NPV; day 100 is the horizon: nothing.
    assert acc.nominal["technology_cost"] == 100
    assert math.isclose(acc.present["technology_cost"],
                        500 * math.exp(-world.delta * 10) + 100 * math.exp(-world.delta * 30))


# --------------------------------------------------------------------------- change manager


def _changes_scenario(cm: dict[str, Any] | None) -> Scenario:
    pmo = {"change_manager": cm} if cm is not None else {}
    return make_scenario([project("A", task("a", 100))], horizon=250,
                         changes={"per_project_per_year": 20, "effort_added": 0.5, "disruption": 2},
                         days_per_year=250, pmo=pmo)


def test_change_manager_without_settings_applies_requests_as_drawn() -> None:
    role, world = attached(ChangeManager, _changes_scenario(None), seed=1)
    proj = world.projects[0]
    times = proj.plan.change_times
    assert len(times) >= 3
    proj.start = 0.0  # started: requests reach it
    role.on_admit(proj)
    world.env.run(until=250)
    assert world.calls == [(float(t), "apply_change", "A", 0.5, 2.0) for t in times]
    assert reported(role, world).counts == {"changes": len(times), "changes_rejected": 0}


def test_change_manager_assesses_rejects_and_reduces() -> None:
    cm = {"assessment_days": 3, "reject_fraction": 0.5, "rework_reduction": 0.2,
          "disruption_reduction": 0.5, "cost_per_year": 1000}
    role, world = attached(ChangeManager, _changes_scenario(cm), seed=1)
    proj = world.projects[0]
    plan = proj.plan
    proj.start = 0.0
    role.on_admit(proj)
    world.env.run(until=250)
    kept = [k for k, u in enumerate(plan.change_u) if u >= 0.5 and plan.change_times[k] + 3 < 250]
    assert world.calls == [(float(plan.change_times[k]) + 3, "apply_change", "A", 0.4, 1.0)
                           for k in kept]
    acc = reported(role, world)
    assert acc.counts["changes"] == len(plan.change_times)
    assert acc.counts["changes_rejected"] == sum(1 for u, t in zip(plan.change_u, plan.change_times,
                                                                   strict=True) if u < 0.5 and t + 3 < 250)
    assert acc.flows == {"pmo_cost": 1000}


def test_change_requests_before_a_project_starts_do_not_reach_it() -> None:
    role, world = attached(ChangeManager, _changes_scenario(None), seed=1)
    proj = world.projects[0]
    role.on_admit(proj)  # admitted but never started
    world.env.run(until=250)
    assert world.calls == [] and reported(role, world).counts["changes"] == 0


# --------------------------------------------------------------------------- governance


def test_stage_gate_cancels_an_overrun_at_the_gate_only_once() -> None:
    # Estimate 10 + 10 = 20 (fixed efforts); rework made the second task 25: forecast 35 > 1.5 x 20.
    sc = make_scenario([project("A", task("a", 10), task("b", 10, after=["a"]))],
                       pmo={"governance": {"stage_gate": {"at_progress": 0.5, "cancel_if_overrun": 1.5}}})
    role, world = attached(Governance, sc)
    a, b = world.projects[0].tasks
    b.effort = 25.0
    a.finish = 5.0
    role.on_task_finish(a)  # done 10 >= 0.5 x 20: the gate looks, and cancels
    assert world.calls == [(0, "cancel", "A", "stage_gate")]
    role.on_task_finish(a)
    assert world.calls == [(0, "cancel", "A", "stage_gate")]


def test_stage_gate_passes_a_project_within_its_overrun() -> None:
    sc = make_scenario([project("A", task("a", 10), task("b", 10, after=["a"]))],
                       pmo={"governance": {"stage_gate": {"at_progress": 0.5, "cancel_if_overrun": 1.5}}})
    role, world = attached(Governance, sc)
    a, b = world.projects[0].tasks
    b.effort = 19.0  # forecast 29 <= 30
    a.finish = 5.0
    role.on_task_finish(a)
    b.effort = 100.0  # later overruns are not looked at again: the gate was passed
    role.on_task_finish(a)
    assert world.calls == []


def test_better_estimating_shrinks_draws_towards_the_mode() -> None:
    sc = make_scenario([project("A", task("a", {"dist": "triangular", "low": 10, "mode": 20, "high": 40}))],
                       pmo={"governance": {"estimate_spread_reduction": 0.25}})
    role, world = attached(Governance, sc)
    plan = world.plan.projects[0]
    drawn = float(plan.efforts[0])
    assert float(role.plan_efforts(plan, plan.efforts)[0]) == 20 + (drawn - 20) * 0.75
    assert "on_task_finish" in role.idle_hooks  # no stage gate: not called


# --------------------------------------------------------------------------- innovation


def test_innovation_time_slows_work_and_ideas_cut_pending_effort() -> None:
    # SPEC 4.1: a project is open from its arrival until completed or cancelled, admitted or
    # not: an idea cuts A (admitted) and B (in the backlog); C is completed, D a proposal
    # waiting for funds (not in the portfolio yet), E arrives on day 400.
    sc = make_scenario([project("A", task("a", 1)), project("B", task("b", 1)),
                        project("C", task("c", 1)), project("D", task("d", 1)),
                        project("E", task("e", 1), arrival=400)], horizon=500,
                       pmo={"innovation_manager": {"time_fraction": 0.1, "ideas_per_year": 5,
                                                   "success_probability": 1, "effort_reduction": 0.2,
                                                   "cost_per_year": 300}})
    role, world = attached(InnovationManager, sc, seed=3)
    assert world.work_share == 0.9
    a, _b, c, d, _e = world.projects
    a.status, c.status, d.status = "open", "completed", "proposal"
    world.env.run(until=500)
    ideas = [cl for cl in world.calls if cl[1] == "scale_pending_effort"]
    assert ideas and all(cl[3] == 0.8 for cl in ideas)
    assert {cl[2] for cl in ideas if cl[0] < 400} == {"A", "B"}
    assert {cl[2] for cl in ideas if cl[0] >= 400} == {"A", "B", "E"}
    assert [cl[0] for cl in ideas] == sorted(cl[0] for cl in ideas)
    assert reported(role, world).flows == {"pmo_cost": 300}


# --------------------------------------------------------------------------- training


def test_training_takes_people_off_work_then_makes_them_better() -> None:
    prog = {"name": "course", "skill": "dev", "trainees": 2, "start": 10, "duration_days": 5,
            "cost_per_trainee": 100, "productivity_gain": 0.5, "ramp_days": 10, "retention_gain": 0.5,
            "cross_skill": "qa"}
    sc = make_scenario([project("A", task("a", 1))], resources={"dev": 3, "qa": 1},
                       pmo={"training_manager": {"programmes": [prog]}})
    role, world = attached(TrainingManager, sc)
    busy = world.pool_by_name["dev"].people[0]
    world.pool_by_name["dev"].idle.remove(busy)
    busy.task = world.projects[0].tasks[0]  # dev-1 is on a task: trained when it ends
    world.env.run(until=30)
    assert world.calls == [
        (10, "claim", "dev-1"), (10, "claim", "dev-2"), (10, "send_away", "dev-2"),
        (15, "add_ramp", "dev-2", (15, 25, 1.0, 1.5)), (15, "change_attrition", "dev-2", 0.5),
        (15, "add_skill", "dev-2", "qa"), (15, "release", "dev-2"), (15, "dispatch"),
    ]
    assert busy.claim is not None  # dev-1's place waits for their task to end
    acc = reported(role, world)
    assert acc.nominal["training_cost"] == 200


def test_gap_driven_training_reads_waits_only_when_set() -> None:
    plain = make_scenario([project("A", task("a", 1))], pmo={"training_manager": {"programmes": [
        {"name": "c", "skill": "dev"}]}})
    role = TrainingManager(plain, plain.policies["default"])
    assert "on_task_start" in role.idle_hooks


# --------------------------------------------------------------------------- resource manager


def test_wip_gate_admits_by_the_rule_in_order() -> None:
    sc = make_scenario([project("A", task("a", 1), arrival=0, priority=3),
                        project("B", task("b", 1), arrival=0, priority=1),
                        project("C", task("c", 1), arrival=0, priority=2)],
                       pmo={"resource_manager": {"allocation": "priority", "wip_limit": 2}})
    role, world = attached(ResourceManager, sc)
    role.enqueue(world.projects)
    assert [c[2] for c in world.calls if c[1] == "admit"] == ["B", "C"]
    world.wip -= 1
    role.project_closed()
    assert [c[2] for c in world.calls if c[1] == "admit"] == ["B", "C", "A"]


def test_dispatch_gives_crews_in_rule_order_with_backfill() -> None:
    # Two developers; ready: X needs 3 (cannot start), Y needs 1, Z needs 1 (fifo: X, Y, Z).
    sc = make_scenario([project("X", task("x", 1, people=3)), project("Y", task("y", 1)),
                        project("Z", task("z", 1))], resources={"dev": 3})
    role, world = attached(ResourceManager, sc)
    dev = world.pool_by_name["dev"]
    dev.idle.pop()  # one of three is away: two free
    for proj in world.projects:
        proj.tasks[0].ready_time = 0.0
        role.task_ready(proj.tasks[0])
    role.dispatch()
    assert [c[1:] for c in world.calls] == [("start_task", "Y", "y", ["dev-1"], 0.0),
                                            ("start_task", "Z", "z", ["dev-2"], 0.0)]
    assert [t.name for t in role.queues[dev.index].tasks()] == ["x"]


def test_no_backfill_keeps_everyone_behind_the_top_task() -> None:
    sc = make_scenario([project("X", task("x", 1, people=3)), project("Y", task("y", 1))],
                       resources={"dev": 3}, pmo={"resource_manager": {"backfill": False}})
    role, world = attached(ResourceManager, sc)
    world.pool_by_name["dev"].idle.pop()
    for proj in world.projects:
        role.task_ready(proj.tasks[0])
    role.dispatch()
    assert world.calls == []


def test_switching_projects_costs_set_up_time() -> None:
    sc = make_scenario([project("A", task("a", 1)), project("B", task("b", 1))], resources={"dev": 2},
                       pmo={"resource_manager": {"switch_cost_days": 2}})
    role, world = attached(ResourceManager, sc)
    a, b = (p.tasks[0] for p in world.projects)
    dev1, dev2 = world.pool_by_name["dev"].people
    dev1.last_project = world.projects[1]  # dev-1 last worked on B
    role.task_ready(a)
    role.dispatch()  # A prefers the fresh dev-2: no set-up
    role.task_ready(b)
    role.dispatch()  # B gets dev-1, who was on B already: no set-up
    assert [c[1:] for c in world.calls] == [("start_task", "A", "a", ["dev-2"], 0.0),
                                            ("start_task", "B", "b", ["dev-1"], 0.0)]


def test_a_crew_from_another_project_pays_the_set_up() -> None:
    sc = make_scenario([project("A", task("a", 1)), project("B", task("b", 1))], resources={"dev": 1},
                       pmo={"resource_manager": {"switch_cost_days": 2}})
    role, world = attached(ResourceManager, sc)
    world.pool_by_name["dev"].people[0].last_project = world.projects[1]
    role.task_ready(world.projects[0].tasks[0])
    role.dispatch()
    assert [c[1:] for c in world.calls] == [("start_task", "A", "a", ["dev-1"], 2)]
