"""Round 8 of the checks against exact answers: queueing and renewal theory on cases the
validation suite (tests/validation: M/M/c, M/G/1, two-class priority, Little, networks) does
not cover.

Each test builds a tiny scenario whose KPIs theory gives exactly, runs independent
replications (seeded: reproducible) and compares the mean over replications with the exact
value within ``Z`` standard errors (plus a small stated allowance for a finite warm-up where
the queue starts empty). One number per replication makes the replications the unit of
independence, so autocorrelation inside a replication needs no correction.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from scipy import stats

from pmo_sim.engine.records import ReplicationRecords
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.models import Scenario

Z = 4.0  # a two-sided test at about 1e-4 per check: seeds are fixed, so this is not flaky
REPORT = os.environ.get("PMO_SIM_VALIDATION_REPORT", "") not in ("", "0")
WARMUP_BIAS = 0.01  # relative allowance for the finite warm-up of a queue started empty


def replicate(data: dict[str, Any], replications: int, seed: int) -> dict[str, list[ReplicationRecords]]:
    sc = Scenario.model_validate(data)
    out: dict[str, list[ReplicationRecords]] = {}
    for r in range(replications):
        for rec in run_replication(sc, r, seed, None):
            out.setdefault(rec.policy, []).append(rec)
    return out


def check(label: str, values: list[float], exact: float, bias: float = 0.0) -> None:
    """|mean - exact| <= Z * SE + bias * |exact| over the replications' values."""
    x = np.asarray(values, dtype=float)
    mean, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))
    tol = Z * se + bias * abs(exact)
    if REPORT:
        z = (mean - exact) / se
        print(f"\n  {label}: {mean:.5g} +/- {se:.2g}, exact {exact:.5g}, z = {z:+.2f}", end="")
    assert abs(mean - exact) <= tol, f"{label}: pmo-sim {mean:.5g} +/- {se:.2g} (SE), exact {exact:.5g}"


def col(rec: ReplicationRecords, name: str) -> np.ndarray:
    return np.asarray(rec.projects[name])


def spans(rec: ReplicationRecords, end: str, t0: float, t1: float, template: str | None = None) -> np.ndarray:
    """``end`` - arrival of the projects arriving in [t0, t1]; asserts none is censored."""
    arrival, stop = col(rec, "arrival"), col(rec, end)
    keep = (arrival >= t0) & (arrival <= t1)
    if template is not None:
        keep &= col(rec, "template") == template
    assert not np.isnan(stop[keep]).any(), f"a project arriving in [{t0}, {t1}] has no {end}"
    return stop[keep] - arrival[keep]


def queue(lam: float, resources: dict[str, Any], templates: list[dict[str, Any]], horizon: float,
          warmup: float, pmo: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "q", "horizon": horizon, "warmup": warmup, "resources": resources,
        "intake": {"arrivals": {"dist": "exponential", "mean": 1.0 / lam}, "templates": templates}}
    if pmo:
        data["pmo"] = pmo
    return data


def job(effort: Any, name: str = "job", people: int = 1, **template: Any) -> dict[str, Any]:
    """A template of one-task projects: one queueing job of pool ``staff``."""
    return {"name": name, **template,
            "tasks": [{"name": "w", "skill": "staff", "effort": effort, "people": people}]}


def expo(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def erlang_c(a: float, c: int) -> float:
    """P(wait) in M/M/c with offered load a = lam / mu (Erlang B recursion, then C)."""
    b = 1.0
    for i in range(1, c + 1):
        b = a * b / (i + a * b)
    return b / (1.0 - (a / c) * (1.0 - b))


# ----------------------------------------------------------------------------- queues


def test_a_wip_limit_over_one_person_keeps_mm1_and_caps_the_admitted_level() -> None:
    """M/M/1 (lam 0.7, mu 1) with ``wip_limit: 2``: one-task projects need the one person, so
    the backlog is the M/M/1 queue in arrival order and nothing changes for the queue:
    L = rho / (1 - rho) = 2.333 (avg_in_system), Wq = rho / (mu - lam) = 2.333 (start -
    arrival). Admitted projects are min(N, K) of the N in system, so avg_wip =
    E[min(N, 2)] = sum_n min(n, K) (1 - rho) rho^n = rho (1 - rho^K) / (1 - rho) = 1.19.
    Warm-up 200 days (5 relaxation times 1 / (mu (1 - sqrt rho)^2) = 37 days)."""
    lam, k = 0.7, 2
    rho, warm, n = lam, 200.0, 3000.0
    horizon = warm + n / lam + 100
    runs = replicate(queue(lam, {"staff": {"headcount": 1}}, [job(expo(1.0))], horizon, warm,
                           {"resource_manager": {"wip_limit": k}}), 50, seed=8101)["default"]
    check("avg_wip", [r.kpis["avg_wip"] for r in runs], rho * (1 - rho**k) / (1 - rho), WARMUP_BIAS)
    check("avg_in_system", [r.kpis["avg_in_system"] for r in runs], rho / (1 - rho), 2 * WARMUP_BIAS)
    check("Wq", [spans(r, "start", warm, horizon - 100).mean() for r in runs], rho / (1 - lam),
          2 * WARMUP_BIAS)


def test_crews_of_k_from_a_pool_of_c_times_k_people_are_an_mmc_queue() -> None:
    """Every task needs a crew of k = 2 from a pool of 6 people of productivity 0.5: crews are
    taken and freed whole, so the pool is c = 3 servers, each a crew of summed productivity
    k p = 1 working an exponential effort of mean 2 person-days: mu = k p / E = 0.5 a day
    (SPEC 2: E / (k p)). At lam = 1.05 (rho 0.7): Erlang C P(wait) = 0.4923, Wq = C /
    (c mu - lam) = 1.0941, cycle = Wq + 1 / mu = 3.0941, utilisation = rho."""
    c, k, p, e, rho = 3, 2, 0.5, 2.0, 0.7
    mu = k * p / e
    lam = rho * c * mu
    pw = erlang_c(lam / mu, c)
    warm, margin = 100.0, 60.0
    horizon = warm + 3000 / lam + margin
    runs = replicate(queue(lam, {"staff": {"headcount": c * k, "productivity": p}},
                           [job(expo(e), people=k)], horizon, warm), 30, seed=8102)["default"]
    t1 = horizon - margin
    check("P(wait)", [float((spans(r, "start", warm, t1) > 1e-9).mean()) for r in runs], pw, WARMUP_BIAS)
    check("Wq", [spans(r, "start", warm, t1).mean() for r in runs], pw / (c * mu - lam), WARMUP_BIAS)
    check("cycle", [spans(r, "finish", warm, t1).mean() for r in runs], pw / (c * mu - lam) + 1 / mu,
          WARMUP_BIAS)
    check("utilisation", [r.kpis["utilisation"] for r in runs], rho)


def test_a_switch_cost_is_a_fixed_set_up_in_the_pollaczek_khinchine_formula() -> None:
    """One person, one-task projects (each a different project, so every task pays the set-up
    s = 0.5 of ``switch_cost_days``), exponential effort of mean 1: S = s + Exp(1), E[S] = 1.5,
    E[S^2] = s^2 + 2 s + 2 = 3.25. At lam = 1/3 (rho 0.5), P-K: Wq = lam E[S^2] / (2 (1 - rho))
    = 1.0833, cycle = Wq + E[S] = 2.5833, utilisation = rho (set-up time is busy time)."""
    s, lam = 0.5, 1.0 / 3.0
    es, es2 = s + 1.0, s * s + 2 * s + 2.0
    rho = lam * es
    wq = lam * es2 / (2 * (1 - rho))
    warm, margin = 300.0, 100.0
    horizon = warm + 4000 / lam + margin
    runs = replicate(queue(lam, {"staff": {"headcount": 1}}, [job(expo(1.0))], horizon, warm,
                           {"resource_manager": {"switch_cost_days": s}}), 30, seed=8103)["default"]
    check("Wq", [spans(r, "start", warm, horizon - margin).mean() for r in runs], wq, WARMUP_BIAS)
    check("cycle", [spans(r, "finish", warm, horizon - margin).mean() for r in runs], wq + es, WARMUP_BIAS)
    check("utilisation", [r.kpis["utilisation"] for r in runs], rho)


def test_srpt_over_two_fixed_efforts_is_a_two_class_priority_queue() -> None:
    """``srpt`` ranks one-task projects by their effort; with efforts 0.5 and 2 (equally
    likely) it is the non-preemptive two-class priority M/G/1 (Cobham 1954; Phipps 1956 for
    shortest-job-first), short first, each class FIFO. lam = 0.5: W0 = sum lam_i E[S_i^2] / 2 =
    0.53125, sigma_1 = 0.125, sigma_2 = 0.625; Wq_short = W0 / (1 - sigma_1) = 0.6071,
    Wq_long = W0 / ((1 - sigma_1)(1 - sigma_2)) = 1.6190."""
    lam = 0.5
    w0 = 0.5 * lam * (0.5 * 0.5**2 + 0.5 * 2.0**2)
    s1 = 0.5 * lam * 0.5
    s2 = s1 + 0.5 * lam * 2.0
    warm, margin = 300.0, 200.0
    horizon = warm + 6000 / lam + margin
    runs = replicate(queue(lam, {"staff": {"headcount": 1}},
                           [job(0.5, name="short"), job(2.0, name="long")], horizon, warm,
                           {"resource_manager": {"allocation": "srpt"}}), 16, seed=8104)["default"]
    t1 = horizon - margin
    check("Wq short", [spans(r, "start", warm, t1, "short").mean() for r in runs], w0 / (1 - s1),
          WARMUP_BIAS)
    check("Wq long", [spans(r, "start", warm, t1, "long").mean() for r in runs],
          w0 / ((1 - s1) * (1 - s2)), 2 * WARMUP_BIAS)


def test_a_two_task_chain_through_two_pools_is_a_jackson_tandem() -> None:
    """design (pool a, Exp mean 1.2) then build (pool b, Exp mean 1.6), one person each,
    Poisson lam = 0.5: FIFO by project arrival keeps the order in which designs finish, so
    this is a tandem of M/M/1 queues (Burke; Jackson 1957). Cycle = 1 / (mu_a - lam) +
    1 / (mu_b - lam) = 3 + 8 = 11; start - arrival is queue a's Wq = rho_a / (mu_a - lam) =
    1.8; pool b's mean wait (ready -> crew) is rho_b / (mu_b - lam) = 6.4; utilisations 0.6
    and 0.8."""
    lam, ma, mb = 0.5, 1.2, 1.6
    warm, margin = 300.0, 200.0
    horizon = warm + 3000 / lam + margin
    tmpl = {"name": "j", "tasks": [
        {"name": "design", "skill": "a", "effort": expo(ma)},
        {"name": "build", "skill": "b", "effort": expo(mb), "after": ["design"]}]}
    runs = replicate(queue(lam, {"a": {"headcount": 1}, "b": {"headcount": 1}}, [tmpl], horizon,
                           warm), 30, seed=8105)["default"]
    t1 = horizon - margin
    check("cycle", [spans(r, "finish", warm, t1).mean() for r in runs],
          1 / (1 / ma - lam) + 1 / (1 / mb - lam), 2 * WARMUP_BIAS)
    check("Wq a", [spans(r, "start", warm, t1).mean() for r in runs], lam * ma * ma / (1 - lam * ma),
          WARMUP_BIAS)
    assert list(runs[0].pools["pool"]) == ["a", "b"]
    check("pool b mean_wait", [r.pools["mean_wait"][1] for r in runs], lam * mb * mb / (1 - lam * mb),
          2 * WARMUP_BIAS)
    check("utilisation a", [r.pools["utilisation"][0] for r in runs], lam * ma)
    check("utilisation b", [r.pools["utilisation"][1] for r in runs], lam * mb)


def test_one_equipment_unit_shared_by_three_people_is_the_single_server() -> None:
    """Each task ``needs`` one person and the one rig: the rig is an M/M/1 server (lam 0.6,
    Exp mean 1), the three people never bind. Wq = rho / (mu - lam) = 1.5; rig utilisation
    0.6, people's 0.6 / 3 = 0.2."""
    lam = 0.6
    warm, margin = 200.0, 100.0
    horizon = warm + 3000 / lam + margin
    tmpl = {"name": "j", "tasks": [{"name": "w", "needs": {"staff": 1, "rig": 1}, "effort": expo(1.0)}]}
    res = {"staff": {"headcount": 3}, "rig": {"kind": "equipment", "units": 1}}
    runs = replicate(queue(lam, res, [tmpl], horizon, warm), 30, seed=8106)["default"]
    check("Wq", [spans(r, "start", warm, horizon - margin).mean() for r in runs], lam / (1 - lam),
          WARMUP_BIAS)
    assert list(runs[0].pools["pool"]) == ["staff", "rig"]
    check("rig utilisation", [r.pools["utilisation"][1] for r in runs], lam)
    check("staff utilisation", [r.pools["utilisation"][0] for r in runs], lam / 3)


def test_part_time_and_innovation_time_slow_the_server_to_e_over_fte_times_the_rest() -> None:
    """One person of fte 0.5 who spends 20% of their time on innovation works an effort E in
    E / (0.5 x 0.8) days: exponential effort of mean 1 is an exponential service of mean 2.5.
    At lam = 0.3 (rho 0.75) M/M/1: Wq = rho E[S] / (1 - rho) = 7.5; utilisation = rho (the
    share of the person's time held by tasks, innovation time inside them)."""
    lam, mean_s = 0.3, 1.0 / (0.5 * 0.8)
    rho = lam * mean_s
    warm, margin = 600.0, 300.0
    horizon = warm + 2500 / lam + margin
    runs = replicate(queue(lam, {"staff": {"headcount": 1, "fte": 0.5}}, [job(expo(1.0))], horizon, warm,
                           {"innovation_manager": {"time_fraction": 0.2}}), 30, seed=8107)["default"]
    check("Wq", [spans(r, "start", warm, horizon - margin).mean() for r in runs],
          rho * mean_s / (1 - rho), 2 * WARMUP_BIAS)
    check("utilisation", [r.kpis["utilisation"] for r in runs], rho)


def test_priority_over_two_people_is_the_multi_server_non_preemptive_priority_queue() -> None:
    """Two people, exponential efforts of mean 1, urgent (``priority: 1``, lam 0.5) and normal
    (``priority: 3``, lam 0.9) projects under ``allocation: priority``: the M/M/c
    non-preemptive priority queue (Cobham 1954; Gross & Harris 3.4.2): with equal service
    rates, Wq_k = (C(c, a) / (c mu)) / ((1 - sigma_{k-1})(1 - sigma_k)), sigma_k = sum_{i<=k}
    lam_i / (c mu). a = 1.4, C = 0.5765: Wq_urgent = 0.3843, Wq_normal = 1.2810."""
    c, l1, l2 = 2, 0.5, 0.9
    lam = l1 + l2
    w0 = erlang_c(lam, c) / c
    s1, s2 = l1 / c, lam / c
    warm, margin = 200.0, 100.0
    horizon = warm + 5000 / lam + margin
    tmpls = [job(expo(1.0), name="urgent", weight=l1, priority=1),
             job(expo(1.0), name="normal", weight=l2, priority=3)]
    runs = replicate(queue(lam, {"staff": {"headcount": c}}, tmpls, horizon, warm,
                           {"resource_manager": {"allocation": "priority"}}), 20, 8108)["default"]
    t1 = horizon - margin
    check("Wq urgent", [spans(r, "start", warm, t1, "urgent").mean() for r in runs], w0 / (1 - s1),
          WARMUP_BIAS)
    check("Wq normal", [spans(r, "start", warm, t1, "normal").mean() for r in runs],
          w0 / ((1 - s1) * (1 - s2)), 2 * WARMUP_BIAS)


def test_on_time_rate_and_mean_delay_of_an_mm1_follow_its_exponential_sojourn() -> None:
    """FIFO M/M/1 (lam 0.6, mu 1): the time in system is Exp(mu - lam) (Gross & Harris 2.2.4),
    so with every project due 4 days after arrival on_time_rate = P(T <= 4) = 1 - e^{-1.6}
    = 0.7981 and mean_delay = E[max(0, T - 4)] = e^{-1.6} / 0.4 = 0.5047 (over all completed
    projects, on-time ones at 0); throughput_per_year = lam x 250 = 150. The KPIs count the
    projects completed in the window, so those arriving in its last days are slightly the
    quicker ones: a bias of order E[T] / window = 1e-3, inside the allowance."""
    lam, due = 0.6, 4.0
    warm = 200.0
    horizon = warm + 4000 / lam
    runs = replicate(queue(lam, {"staff": {"headcount": 1}}, [job(expo(1.0), due=due)], horizon, warm),
                     60, 8109)["default"]
    check("on_time_rate", [r.kpis["on_time_rate"] for r in runs], 1 - math.exp(-(1 - lam) * due),
          WARMUP_BIAS)
    check("mean_delay", [r.kpis["mean_delay"] for r in runs], math.exp(-(1 - lam) * due) / (1 - lam),
          2 * WARMUP_BIAS)
    check("throughput_per_year", [r.kpis["throughput_per_year"] for r in runs], lam * 250, WARMUP_BIAS)


# ----------------------------------------------------------------------------- renewals


def up_time(a: float, d: float, t0: float, t1: float) -> float:
    """∫_{t0}^{t1} P(slot occupied at t) dt for a slot filled at day 0 whose occupants stay
    Exp(a) and whose vacancies last exactly d. The n-th occupant (n = 0, 1, ...) arrives at
    Gamma(n, a) + n d and is there at t iff also Exp(a) > the time since, so
    P(occupied at t) = sum_n e^{-a s} (a s)^n / n!, s = t - n d >= 0 (a Poisson term), whose
    integral over s is a Gamma(n + 1, a) distribution function / a."""
    total, n = 0.0, 0
    while n * d < t1:
        lo, hi = max(t0 - n * d, 0.0), t1 - n * d
        total += (stats.gamma.cdf(hi, n + 1, scale=1 / a) - stats.gamma.cdf(lo, n + 1, scale=1 / a)) / a
        n += 1
    return total


def hires_between(a: float, d: float, t0: float, t1: float) -> float:
    """Expected arrivals of replacements in [t0, t1]: the n-th comes at Gamma(n, a) + n d."""
    total, n = 0.0, 1
    while n * d < t1:
        cdf = stats.gamma(n, scale=1 / a).cdf
        total += cdf(t1 - n * d) - cdf(max(t0 - n * d, 0.0))
        n += 1
    return total


def idle_pool(workforce: dict[str, Any], headcount: int, horizon: float, warmup: float) -> dict[str, Any]:
    return {"name": "w", "horizon": horizon, "warmup": warmup, "days_per_year": 250,
            "resources": {"staff": {"headcount": headcount, "day_rate": 100}}, "workforce": workforce}


def test_attrition_with_a_fixed_hiring_delay_is_an_alternating_renewal_process() -> None:
    """10 people, nobody busy (so a leaver leaves at once), attrition 2 a year (a = 2/250 a
    day), hiring delay fixed 40 days, window [200, 1000]. Each slot alternates Exp(a)
    tenures and 40-day vacancies from an occupied start; ``up_time`` integrates its occupancy
    exactly (no steady-state approximation): headcount_avg = 10 x up / 800 = 7.5758 (steady
    state 10 x 125 / 165 = 7.5758), leavers = a x 10 x up = 48.48,
    labour_cost = 100 x 10 x up, hires = 10 x E[replacements arriving in the window]."""
    a, d, n, w, h = 2 / 250, 40.0, 10, 200.0, 1000.0
    runs = replicate(idle_pool({"attrition_per_year": 2, "hiring_delay": d}, n, h, w), 300, 8111)["default"]
    up = up_time(a, d, w, h)
    check("headcount_avg", [r.pools["headcount_avg"][0] for r in runs], n * up / (h - w))
    check("leavers", [r.kpis["leavers"] for r in runs], n * a * up)
    check("hires", [r.kpis["hires"] for r in runs], n * hires_between(a, d, w, h))
    check("labour_cost", [r.kpis["labour_cost"] for r in runs], 100 * n * up)


def test_attrition_with_an_exponential_hiring_delay_is_a_two_state_markov_chain() -> None:
    """The same slot with Exp(mean 50) vacancies is a two-state Markov chain (leave rate a =
    1/250, fill rate b = 1/50) started occupied: P(occupied at t) = b / (a + b) + a / (a + b)
    e^{-(a + b) t}; over [0, 500], up = 500 b / (a + b) + a (1 - e^{-(a + b) 500}) / (a + b)^2.
    leavers = a x up, hires = b x (500 - up) per slot; 8 slots."""
    a, b, n, h = 1 / 250, 1 / 50, 8, 500.0
    runs = replicate(idle_pool({"attrition_per_year": 1, "hiring_delay": expo(50.0)}, n, h, 0.0),
                     400, 8112)["default"]
    up = h * b / (a + b) + a * (1 - math.exp(-(a + b) * h)) / (a + b) ** 2
    check("headcount_avg", [r.pools["headcount_avg"][0] for r in runs], n * up / h)
    check("leavers", [r.kpis["leavers"] for r in runs], n * a * up)
    check("hires", [r.kpis["hires"] for r in runs], n * b * (h - up))


def test_retention_training_lowers_the_leaving_rate_once_the_course_is_over() -> None:
    """20 idle people, attrition 1 a year (a = 1/250), all trained on day 0 for 20 days with
    ``retention_gain: 0.5`` and no replacement within the horizon (hiring delay 10,000): each
    first occupant stays with hazard a during the course and a (1 - 0.5) after it (README:
    training, *then* the attrition rate falls). Survival S(t) = e^{-a t} (t < 20), e^{-20 a -
    a (t - 20) / 2} after, so headcount_avg over [0, 500] = 20 (int_0^20 S + int_20^500 S) / 500
    = 12.162 (12.642 if the gain held from day 0, 8.647 without it)."""
    a, g, course, n, h = 1 / 250, 0.5, 20.0, 20, 500.0
    data = idle_pool({"attrition_per_year": 1, "hiring_delay": 10_000}, n, h, 0.0)
    data["pmo"] = {"training_manager": {"programmes": [
        {"name": "stay", "skill": "staff", "trainees": n, "start": 0, "duration_days": course,
         "retention_gain": g}]}}
    runs = replicate(data, 400, 8116)["default"]
    slow = a * (1 - g)
    up = (1 - math.exp(-a * course)) / a + math.exp(-a * course) * (1 - math.exp(-slow * (h - course))) / slow
    check("headcount_avg", [r.pools["headcount_avg"][0] for r in runs], n * up / h)
    check("leavers", [r.kpis["leavers"] for r in runs], n * (1 - math.exp(-a * course - slow * (h - course))))


def one_project(effort: float, people: int = 1, count: int = 1, **sections: Any) -> dict[str, Any]:
    return {"name": "p", "horizon": 400, "days_per_year": 250, "resources": {"dev": {"headcount": people}},
            "projects": [{"name": f"P{i}", "tasks": [{"name": "t", "skill": "dev", "effort": effort}]}
                         for i in range(count)], **sections}


def test_change_requests_are_poisson_while_started_and_rejection_thins_them() -> None:
    """One project of one 100-day task, 5 change requests a project-year (250 days) that add
    nothing and pause nothing: the project is started and open for exactly 100 days, so the
    count is Poisson with mean = variance = 5 x 100 / 250 = 2. With ``reject_fraction: 0.25``
    each request is rejected independently: rejected ~ Poisson(0.5), and the requests are the
    same (common random numbers), so ``changes`` is identical under both policies."""
    data = one_project(100.0, changes={"per_project_per_year": 5, "effort_added": 0, "disruption": 0},
                       policies={"plain": {}, "control": {"change_manager": {"reject_fraction": 0.25}}})
    runs = replicate(data, 2000, 8113)
    counts = [r.kpis["changes"] for r in runs["plain"]]
    check("changes", counts, 2.0)
    x = np.asarray(counts)
    check("variance of changes", list((x - x.mean()) ** 2 * len(x) / (len(x) - 1)), 2.0)
    assert counts == [r.kpis["changes"] for r in runs["control"]]
    assert {r.kpis["mean_cycle_time"] for r in runs["plain"]} == {100.0}
    check("changes_rejected", [r.kpis["changes_rejected"] for r in runs["control"]], 0.5)


def test_overlapping_disruptions_stretch_a_task_by_e_to_the_rate_times_the_mean_pause() -> None:
    """50 one-task projects (effort 10) on 50 people, each hit by change requests at rate r =
    0.1 a day (25 a project-year) while started and open, each pausing the project an Exp(mean
    5) time, nothing added. A request during a pause extends it to its own end (pauses overlap,
    they do not add: ``paused_until`` is a maximum), so each pause spell is a busy period of an
    M/G/inf queue, of mean (e^{r E[D]} - 1) / r, and the 10 working days meet Poisson(r 10) of
    them: E[cycle] = 10 + 10 r (e^{r E[D]} - 1) / r = 10 e^{0.5} = 16.487 (adding the pauses
    up would give 10 (1 + 0.5) = 15). Requests count while paused too: E[changes] = r E[cycle]
    per project."""
    r, mean_d = 0.1, 5.0
    data = one_project(10.0, people=50, count=50,
                       changes={"per_project_per_year": r * 250, "effort_added": 0,
                                "disruption": expo(mean_d)})
    runs = replicate(data, 200, 8114)["default"]
    cycle = 10 * math.exp(r * mean_d)
    check("mean_cycle_time", [x.kpis["mean_cycle_time"] for x in runs], cycle)
    check("changes per project", [x.kpis["changes"] / 50 for x in runs], r * cycle)
    check("utilisation", [x.kpis["utilisation"] for x in runs], cycle / 400)  # pauses hold the crew


def test_risk_strikes_are_binomial_and_mitigation_thins_and_scales_them() -> None:
    """40 one-task projects (effort 20, one person each, ample people), one risk of
    probability 0.3 at ``when: 0`` (it strikes on admission, before work starts) with a
    10-day delay and a cost of 1000. Strikes ~ Binomial(40, 0.3): mean 12, variance 8.4;
    a struck project finishes on day 30, the others on 20: mean_cycle_time = 20 + 10 x 0.3
    = 23; risk_cost = 1000 x strikes. Mitigated (cost 50, probability_reduction 0.5,
    impact_reduction 0.3): Binomial(40, 0.15), mean 6, delay 7 (finish 27), cost 700 a
    strike, mitigation 40 x 50 = 2000, and a strike only where the unmitigated risk struck."""
    data = one_project(20.0, people=40, count=40,
                       risks=[{"name": "slip", "probability": 0.3, "when": 0,
                               "impact": {"delay": 10, "cost": 1000}}],
                       policies={"plain": {}, "careful": {"governance": {"risk_mitigation": {
                           "slip": {"cost": 50, "probability_reduction": 0.5, "impact_reduction": 0.3}}}}})
    runs = replicate(data, 600, 8115)
    plain, careful = runs["plain"], runs["careful"]
    events = [r.kpis["risk_events"] for r in plain]
    check("risk_events", events, 12.0)
    x = np.asarray(events)
    check("variance of risk_events", list((x - x.mean()) ** 2 * len(x) / (len(x) - 1)), 8.4)
    check("mean_cycle_time", [r.kpis["mean_cycle_time"] for r in plain], 23.0)
    assert all(r.kpis["risk_cost"] == 1000 * r.kpis["risk_events"] for r in plain)
    check("mitigated risk_events", [r.kpis["risk_events"] for r in careful], 6.0)
    check("mitigated mean_cycle_time", [r.kpis["mean_cycle_time"] for r in careful], 20 + 7 * 0.15)
    assert all(math.isclose(r.kpis["risk_cost"], 700 * r.kpis["risk_events"]) for r in careful)
    assert {r.kpis["mitigation_cost"] for r in careful} == {2000.0}
    for p, c in zip(plain, careful, strict=True):
        hit_p, hit_c = col(p, "finish") > 20, col(c, "finish") > 20
        assert not (hit_c & ~hit_p).any()
        assert set(col(c, "finish")[hit_c]) <= {27.0}


def test_successful_ideas_cut_the_waiting_task_geometrically_per_poisson_success() -> None:
    """One person, tasks a (50) then b (40). Ideas come at 10 a year (r = 0.04 a day), each
    succeeding with probability 0.6 and cutting the effort of tasks not yet started by 20%;
    running tasks keep theirs. While a runs (50 days) b waits and meets N ~ Poisson(0.04 x
    0.6 x 50 = 1.2) successes, b's effort becomes 40 x 0.8^N, E[0.8^N] = e^{-1.2 x 0.2}:
    E[cycle] = E[effort_done] = 50 + 40 e^{-0.24} = 81.465 (ideas while b runs change
    nothing); effort_planned stays 90."""
    data = one_project(50.0, pmo={"innovation_manager": {
        "ideas_per_year": 10, "success_probability": 0.6, "effort_reduction": 0.2}})
    data["projects"][0]["tasks"].append({"name": "b", "skill": "dev", "effort": 40, "after": ["t"]})
    runs = replicate(data, 2000, 8117)["default"]
    exact = 50 + 40 * math.exp(-0.04 * 0.6 * 50 * 0.2)
    check("mean_cycle_time", [r.kpis["mean_cycle_time"] for r in runs], exact)
    check("effort_done", [r.projects["effort_done"][0] for r in runs], exact)
    assert {r.projects["effort_planned"][0] for r in runs} == {90.0}


def test_a_stage_gate_cancels_exactly_the_draws_beyond_its_overrun() -> None:
    """40 projects of two tasks, a (fixed 10) then b ~ triangular(5, 10, 30), ample people;
    plan = sum of modes = 20. The gate at 50% is reached when a finishes (10 of 20 done) and
    cancels when the forecast 10 + b exceeds 1.5 x 20 = 30, i.e. b > 20: P = (30 - 20)^2 /
    ((30 - 5)(30 - 10)) = 0.2, so cancellations ~ Binomial(40, 0.2), mean 8. With
    ``estimate_spread_reduction: 0.5`` b moves half-way to its mode, 10 + (b - 10) / 2 <= 20:
    never cancelled. A gate at 51% is first reached by the last task: nothing is cancelled
    (README: work done counts finished tasks)."""
    gate = {"stage_gate": {"at_progress": 0.5, "cancel_if_overrun": 1.5}}
    data = one_project(10.0, people=40, count=40, policies={
        "plain": {"governance": gate},
        "estimates": {"governance": {**gate, "estimate_spread_reduction": 0.5}},
        "late": {"governance": {"stage_gate": {"at_progress": 0.51, "cancel_if_overrun": 1.5}}}})
    for project in data["projects"]:
        project["tasks"].append({"name": "b", "skill": "dev", "after": ["t"],
                                 "effort": {"dist": "triangular", "low": 5, "mode": 10, "high": 30}})
    runs = replicate(data, 300, 8118)
    check("projects_cancelled", [r.kpis["projects_cancelled"] for r in runs["plain"]], 8.0)
    assert {r.kpis["projects_cancelled"] for r in runs["estimates"]} == {0}
    assert {r.kpis["projects_cancelled"] for r in runs["late"]} == {0}


def test_rework_of_the_remaining_effort_follows_the_remaining_work_process() -> None:
    """One person works a project of 20 person-days; change requests come at 0.05 a day while
    it is open, each adding 20% of the effort then remaining (running work included) and
    pausing nothing. Whatever tasks hold it, the remaining work R falls at 1 a day and jumps to
    1.2 R at each request, until it reaches 0. The expectation of that process has no closed
    form, so it is taken from an independent Monte Carlo of R (200,000 paths): E[cycle] =
    20 + E[rework] = 22.37. The same process runs whether the 20 days are one task (rework
    becomes new tasks after it) or two of 10 (rework goes to the one not started)."""
    rng = np.random.default_rng(8119)
    cycles, reworks = [], []
    for _ in range(200_000):
        left, t, added = 20.0, 0.0, 0.0
        while (gap := rng.exponential(20.0)) < left:
            t, left = t + gap, left - gap
            added += 0.2 * left
            left *= 1.2
        cycles.append(t + left)
        reworks.append(added)
    changes = {"per_project_per_year": 0.05 * 250, "effort_added": 0.2, "disruption": 0}
    one = replicate(one_project(20.0, changes=changes), 2000, 8120)["default"]
    check("mean_cycle_time, one task", [r.kpis["mean_cycle_time"] for r in one], float(np.mean(cycles)))
    check("rework_effort, one task", [r.kpis["rework_effort"] for r in one], float(np.mean(reworks)))
    data = one_project(10.0, changes=changes)
    data["projects"][0]["tasks"].append({"name": "b", "skill": "dev", "effort": 10, "after": ["t"]})
    two = replicate(data, 2000, 8121)["default"]
    check("mean_cycle_time, two tasks", [r.kpis["mean_cycle_time"] for r in two], float(np.mean(cycles)))
