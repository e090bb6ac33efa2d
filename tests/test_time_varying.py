"""Exact traces of every time-varying productivity multiplier, worked out by hand.

A task's duration is fixed when it starts, from its crew's productivity at that instant
(SPEC 4.1). So for each multiplier — a tool adoption's J-curve, a training's gain ramping in,
a new hire's ramp-up — tasks starting before, during and after the change take exactly
effort / productivity(start). One developer works through a chain of tasks, so every start
time is the previous finish.
"""

from __future__ import annotations

from strategies import make_scenario, project, task, task_log


def chain(*efforts: float) -> dict:
    names = [f"t{i}" for i in range(len(efforts))]
    return project("A", *(task(n, e, after=[names[i - 1]] if i else []) for i, (n, e) in
                          enumerate(zip(names, efforts, strict=True))))


def starts_and_finishes(sc) -> list[tuple[str, float, float]]:
    return [(name, start, finish) for _, name, start, finish, _ in task_log(sc)]


def test_a_tool_adoption_changes_nothing_before_its_day_then_dips_and_recovers() -> None:
    # Adoption on day 10: productivity 1 before it; 0.5 on day 10 rising linearly to 1.2 on
    # day 20 (dip 0.5 over 10 days, gain 0.2); 1.2 after.
    #   t0 effort 8 starts 0 at 1     -> 8       t1 effort 1 starts 8 at 1     -> 9
    #   t2 effort 2 starts 9 at 1     -> 11 (the dip from day 10 does not touch a running task)
    #   t3 effort 0.57 starts 11 at 0.5 + 0.7 x 0.1 = 0.57 -> 12
    #   t4 effort 6.4 starts 12 at 0.5 + 0.7 x 0.2 = 0.64  -> 22
    #   t5 effort 1.2 starts 22 at 1.2 -> 23
    sc = make_scenario([chain(8, 1, 2, 0.57, 6.4, 1.2)], pmo={"technology_manager": {"adoptions": [
        {"name": "tool", "day": 10, "dip": 0.5, "dip_days": 10, "productivity_gain": 0.2}]}})
    assert starts_and_finishes(sc) == [("t0", 0, 8), ("t1", 8, 9), ("t2", 9, 11), ("t3", 11, 12),
                                       ("t4", 12, 22), ("t5", 22, 23)]


def test_an_adoption_without_a_dip_is_a_step_on_its_day() -> None:
    # Gain 0.25 from day 4: t0 (0-4) at 1; t1 starts on day 4 exactly, at 1.25: 5 / 1.25 = 4.
    sc = make_scenario([chain(4, 5)], pmo={"technology_manager": {"adoptions": [
        {"name": "tool", "day": 4, "productivity_gain": 0.25}]}})
    assert starts_and_finishes(sc) == [("t0", 0, 4), ("t1", 4, 8)]


def test_a_training_gain_ramps_in_after_the_course() -> None:
    # Programme on day 3 for the only developer, 2 days long, gain 1.0 ramping in over 10 days.
    # The developer finishes t0 (0-5) first, trains 5-7, then productivity is 1 + (t - 7)/10:
    #   t1 effort 1 starts 7 at 1.0 -> 8;  t2 effort 2.2 starts 8 at 1.1 -> 10;
    #   t3 effort 4.5 starts 10 at 1.3 -> 10 + 4.5/1.3;  then t4 at 2 after day 17.
    sc = make_scenario([chain(5, 1, 2.2, 4.5, 4)], pmo={"training_manager": {"programmes": [
        {"name": "course", "skill": "dev", "trainees": 1, "start": 3, "duration_days": 2,
         "productivity_gain": 1.0, "ramp_days": 10}]}})
    t3_end = round(10 + 4.5 / 1.3, 9)
    rate4 = 1 + (t3_end - 7) / 10
    assert starts_and_finishes(sc) == [("t0", 0, 5), ("t1", 7, 8), ("t2", 8, 10), ("t3", 10, t3_end),
                                       ("t4", t3_end, round(t3_end + 4 / min(rate4, 2.0), 9))]


def test_a_new_hire_ramps_up_from_their_start() -> None:
    # One developer, busy on a long task until day 50; a hire arrives on day 10 at
    # productivity 0.5, reaching 1 on day 30 (new_hire_productivity 0.5, ramp 20 days).
    #   B's task x (effort 1) is ready from day 0: the hire takes it on day 10 at 0.5 -> 12;
    #   then y (effort 1.2) at 0.5 + 0.5 x 2/20 = 0.55 -> 12 + 1.2/0.55;
    #   C's task z (arrives day 40, effort 3) at 1 -> 43.
    sc = make_scenario([project("A", task("long", 50)),
                        project("B", task("x", 1), task("y", 1.2, after=["x"])),
                        project("C", task("z", 3), arrival=40)],
                       workforce={"new_hire_productivity": 0.5, "ramp_up_days": 20},
                       pmo={"resource_manager": {"staffing": [{"day": 10, "pool": "dev", "change": 1}]}})
    y_end = round(12 + 1.2 / 0.55, 9)
    assert task_log(sc) == [("A", "long", 0, 50, "dev-1"), ("B", "x", 10, 12, "dev-2"),
                            ("B", "y", 12, y_end, "dev-2"), ("C", "z", 40, 43, "dev-2")]


def test_a_persons_settled_speed_and_day_cost_follow_what_they_stand_for() -> None:
    # The engine reads Person.speed and Person.cost_rate at every start and finish (hot path):
    # they must be base x gain x fte and day_rate x fte, to the bit, after a ramp has ended
    # (its gain folded in) as when the person was made.
    from pmo_sim.engine.state import Person, PoolState, Ramp

    pool = PoolState(0, "dev", day_rate=650.0, productivity=1.1, fte=0.7)
    person = Person("dev-1", pool, 0, 0, pool.productivity, 0.0, float("inf"))
    assert person.speed == 1.1 * 1.0 * 0.7 and person.cost_rate == 650.0 * 0.7
    person.ramps.append(Ramp(0.0, 10.0, 0.5, 1.3))
    assert person.productivity(5.0) == 1.1 * (0.5 + 0.8 * 0.5)
    assert person.speed == 1.1 * 1.0 * 0.7  # nothing folded while the ramp runs
    person.productivity(10.0)  # ended: its gain folded into the settled multiplier
    assert person.gain == 1.3 and person.ramps == []
    assert person.speed == 1.1 * 1.3 * 0.7
