"""Round 10 of the checks against exact answers: a WIP limit below the headcount (M/M/K inside
M/M/c), the variance reduction of common random numbers with its covariance computed by
quadrature, standardised estimates through a stage gate (triangular closed forms), and a
capped intake thinned by the funding board's ``min_score`` (mixed binomial-Poisson moments).
Cases the earlier rounds (tests/test_theory_round8.py, tests/test_theory_round9.py,
tests/validation) do not cover.

As before: seeded replications (reproducible, not flaky), one number per replication, and
the mean over replications compared with the exact value within ``Z`` = 4 standard errors
(``check`` of round 8; a two-sided test at about 6e-5 per check), plus a stated allowance for
a queue's warm-up. Distributional checks use a chi-square p-value floor of 1e-4 (round 9's
``P_FLOOR``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import integrate, stats
from test_theory_round8 import WARMUP_BIAS, Z, check, col, erlang_c, expo, job, queue, replicate, spans
from test_theory_round9 import P_FLOOR

from pmo_sim.engine.records import ReplicationRecords
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.loader import scenario_from_dict


def replicate_loaded(data: dict[str, Any], replications: int,
                     seed: int) -> dict[str, list[ReplicationRecords]]:
    """round 8's ``replicate`` through the loader, which deep-merges each policy over ``pmo``
    (SPEC 5); ``Scenario.model_validate`` takes a policy as given."""
    sc = scenario_from_dict(data)
    out: dict[str, list[ReplicationRecords]] = {}
    for r in range(replications):
        for rec in run_replication(sc, r, seed, None):
            out.setdefault(rec.policy, []).append(rec)
    return out


def test_a_wip_limit_below_the_headcount_makes_the_pool_an_mmk_queue() -> None:
    """Poisson one-task projects (lam 1.4, Exp(1) effort) on 4 people with ``wip_limit: 2``:
    an admitted project finds a free person at once, so the WIP gate, not the pool, is the
    queue: M/M/2 with a = lam / mu = 1.4 (rho 0.7), the other two people never busy at once
    with them. Erlang C(2, 1.4) = 0.5765; Wq = C / (2 mu - lam) = 0.9608 (start - arrival, all
    of it in the backlog); L = lam Wq + a = 2.745 (avg_in_system); avg_wip = the mean number in
    service = a = 1.4 (not E[min(N, 2)] of an M/M/4, 1.35); utilisation = a / 4 = 0.35.
    Warm-up 200 days (relaxation time of an M/M/2 at rho 0.7 is ~ 1 / (mu (1 - sqrt rho))^2 / 2,
    about 20 days)."""
    lam, k, people = 1.4, 2, 4
    a = lam
    pw = erlang_c(a, k)
    wq = pw / (k - lam)
    warm, margin = 200.0, 60.0
    horizon = warm + 2500 / lam + margin
    runs = replicate(queue(lam, {"staff": {"headcount": people}}, [job(expo(1.0))], horizon, warm,
                           {"resource_manager": {"wip_limit": k}}), 30, seed=10101)["default"]
    t1 = horizon - margin
    check("P(wait)", [float((spans(r, "start", warm, t1) > 1e-9).mean()) for r in runs], pw, WARMUP_BIAS)
    check("Wq", [spans(r, "start", warm, t1).mean() for r in runs], wq, 2 * WARMUP_BIAS)
    for r in runs:  # an admitted project starts at once: nobody waits for a person
        started = ~np.isnan(col(r, "start"))
        assert (col(r, "start")[started] == col(r, "admitted")[started]).all()
    check("avg_in_system", [r.kpis["avg_in_system"] for r in runs], lam * wq + a, 2 * WARMUP_BIAS)
    check("avg_wip", [r.kpis["avg_wip"] for r in runs], a, WARMUP_BIAS)
    check("utilisation", [r.kpis["utilisation"] for r in runs], a / people, WARMUP_BIAS)


def crn_moments() -> dict[str, float]:
    """E, Var of A = max(X, Y), B = max(X / 2, Y) and Cov(A, B), X, Y iid Exp(1).

    E A = 3/2, Var A = 5/4; E B = 1/2 + 1 - 1/3 = 7/6 (E max = E U + E V - E min, min of rates
    2 and 1 has mean 1/3), E B^2 = 2/4 + 2 - 2/9; E[A B] by quadrature over the quarter plane
    (split on the diagonal and on y = x / 2, where the integrand has kinks)."""
    def joint(y: float, x: float) -> float:
        return max(x, y) * max(x / 2, y) * math.exp(-x - y)

    eab = 0.0
    for lo, hi in ((lambda x: 0.0, lambda x: x / 2), (lambda x: x / 2, lambda x: x),
                   (lambda x: x, lambda x: 60.0)):
        part, err = integrate.dblquad(joint, 0, 60, lo, hi, epsabs=1e-12, epsrel=1e-12)
        assert err < 1e-9
        eab += part
    ea, eb = 1.5, 7 / 6
    var_b = 2 / 4 + 2 - 2 / 9 - eb**2
    return {"ea": ea, "eb": eb, "var_a": 1.25, "var_b": var_b, "cov": eab - ea * eb}


def test_common_random_numbers_cut_the_variance_of_a_difference_by_twice_the_covariance() -> None:
    """One project of two parallel Exp(1) tasks on two one-person pools; policy ``tool`` doubles
    the first pool from day 0. In replication r both policies see the same efforts X, Y
    (SPEC 4.2), so the cycle times are A = max(X, Y) and B = max(X / 2, Y) of the same draws:
    Var(A - B) = Var A + Var B - 2 Cov(A, B) = 5/18, against Var A + Var B = 13/6 for
    independent runs (Cov = 17/18 by quadrature, ``crn_moments``). Checked: the means, the
    covariance and the paired variance, each within 4 SE (the SE of a sample variance or
    covariance is estimated from its own squared deviations, the delta method), and the
    paired and unpaired variances differing by 2 Cov. Policies drawing their own efforts
    would make the covariance 0 and the paired variance 2.17: many SE away."""
    m = crn_moments()
    data: dict[str, Any] = {
        "name": "crn", "horizon": 100,
        "resources": {"p1": {"headcount": 1}, "p2": {"headcount": 1}},
        "policies": {"plain": {}, "tool": {"technology_manager": {"adoptions": [
            {"name": "t", "day": 0, "skills": ["p1"], "productivity_gain": 1.0}]}}},
        "projects": [{"name": "A", "tasks": [
            {"name": "x", "skill": "p1", "effort": expo(1.0)},
            {"name": "y", "skill": "p2", "effort": expo(1.0)}]}]}
    n = 3000
    runs = replicate_loaded(data, n, seed=10102)
    a = np.array([r.kpis["mean_cycle_time"] for r in runs["plain"]])
    b = np.array([r.kpis["mean_cycle_time"] for r in runs["tool"]])
    check("E A", a.tolist(), m["ea"])
    check("E B", b.tolist(), m["eb"])
    # Sample (co)variances as means of per-replication products about the exact means.
    check("Cov(A, B)", ((a - m["ea"]) * (b - m["eb"])).tolist(), m["cov"])
    d = a - b
    paired = m["var_a"] + m["var_b"] - 2 * m["cov"]
    check("Var(A - B)", ((d - (m["ea"] - m["eb"])) ** 2).tolist(), paired)
    unpaired = m["var_a"] + m["var_b"]
    assert paired < unpaired / 7  # the point of CRN here: a variance 7.8 times smaller
    sample_gap = float(a.var(ddof=1) + b.var(ddof=1) - d.var(ddof=1))
    se_gap = 2 * float(np.std((a - a.mean()) * (b - b.mean()), ddof=1)) / math.sqrt(n)
    assert abs(sample_gap - 2 * m["cov"]) <= Z * se_gap, (sample_gap, 2 * m["cov"], se_gap)


def test_standard_estimates_shrink_the_triangular_spread_and_the_stage_gates_cancellations() -> None:
    """a ~ triangular(5, 10, 30) then b = 10; stage gate at 0.25 of the plan 20 (a's finish),
    cancelling above 1.2 x 20 = 24. With ``estimate_spread_reduction`` s the effort of a is
    10 + (1 - s)(e - 10), so effort_planned has mean 20 + (1 - s) 5 and variance
    (1 - s)^2 x 525 / 18 (triangular: (a^2 + b^2 + c^2 - ab - ac - bc) / 18), and A is cancelled
    iff e > 10 + 4 / (1 - s): P = (30 - x)^2 / ((30 - 5)(30 - 10)) for x >= the mode: 0.512,
    0.288, 0.032 at s = 0, 0.5, 0.75. The draw keeps its rank (common random numbers), so the
    replications a larger s cancels are a subset of those a smaller one cancels. 2,000
    replications: binomial SE <= 0.011."""
    shrink = {"s0": 0.0, "s50": 0.5, "s75": 0.75}
    data: dict[str, Any] = {
        "name": "gate", "horizon": 100, "resources": {"dev": {"headcount": 1}},
        "pmo": {"governance": {"stage_gate": {"at_progress": 0.25, "cancel_if_overrun": 1.2}}},
        "policies": {name: {"governance": {"estimate_spread_reduction": s}} for name, s in shrink.items()},
        "projects": [{"name": "A", "tasks": [
            {"name": "a", "skill": "dev", "effort": {"dist": "triangular", "low": 5, "mode": 10, "high": 30}},
            {"name": "b", "skill": "dev", "effort": 10, "after": ["a"]}]}]}
    runs = replicate_loaded(data, 2000, seed=10103)
    cancelled = {}
    for name, s in shrink.items():
        planned = np.array([col(r, "effort_planned")[0] for r in runs[name]])
        check(f"{name} mean", planned.tolist(), 20 + (1 - s) * 5)
        check(f"{name} var", ((planned - 20 - (1 - s) * 5) ** 2).tolist(), (1 - s) ** 2 * 525 / 18)
        cancelled[name] = np.array([r.kpis["projects_cancelled"] for r in runs[name]], dtype=bool)
        x = 10 + 4 / (1 - s)
        check(f"{name} P(cancel)", cancelled[name].astype(float).tolist(), (30 - x) ** 2 / 500)
        # The gate's rule itself, replication by replication: cancelled iff a > 14.
        a_effort = planned - 10
        assert (cancelled[name] == (a_effort > 14)).all()
    assert not (cancelled["s50"] & ~cancelled["s0"]).any()
    assert not (cancelled["s75"] & ~cancelled["s50"]).any()


def test_a_capped_intake_thinned_by_min_score_has_mixed_binomial_poisson_moments() -> None:
    """Poisson proposals (mean gap 5 days) over a horizon of 200, at most ``count`` = 40 of
    them (SPEC 4: the first one gap after day 0), each with a score ~ U(0, 1) (one goal, its
    alignment drawn per project), funded on arrival (a budget no proposal exhausts) unless its
    score is below ``min_score`` = 0.3. The arrivals M = min(40, N), N ~ Poisson(40); each is
    rejected independently with p = 0.3, so E[rejected] = p E M and Var[rejected] =
    p (1 - p) E M + p^2 Var M, and funded + rejected = M. E M = sum_{k<40} k P(N = k) +
    40 P(N >= 40) = 37.48; Var M likewise. The distribution of M against its pmf by a
    chi-square test."""
    lam, horizon, cap, p = 0.2, 200.0, 40, 0.3
    data: dict[str, Any] = {
        "name": "thin", "horizon": horizon,
        "resources": {"dev": {"headcount": 50, "day_rate": 0}},
        "strategy": {"goals": {"g": {"weight": 1}}},
        "budget": {"per_year": 1e9},
        "intake": {"arrivals": expo(1 / lam), "count": cap, "templates": [
            {"name": "t", "cost_estimate": 1, "alignment": {"g": {"dist": "uniform", "low": 0, "high": 1}},
             "tasks": [{"name": "w", "duration": 1}]}]},
        "pmo": {"governance": {"funding": {"rule": "arrival", "review_every": 0, "min_score": p}}}}
    runs = replicate(data, 2000, seed=10104)["default"]
    arrived = np.array([r.kpis["projects_arrived"] for r in runs], dtype=int)
    rejected = np.array([r.kpis["projects_rejected"] for r in runs], dtype=float)
    funded = np.array([r.kpis["projects_funded"] for r in runs], dtype=int)
    assert (funded + rejected == arrived).all() and arrived.max() <= cap
    ks = np.arange(cap + 1)
    pmf = stats.poisson.pmf(ks, lam * horizon)
    pmf[cap] = stats.poisson.sf(cap - 1, lam * horizon)  # P(N >= cap), all at cap
    em = float(ks @ pmf)
    vm = float(ks**2 @ pmf) - em**2
    check("E arrived", arrived.tolist(), em)
    check("E rejected", rejected.tolist(), p * em)
    check("Var rejected", ((rejected - p * em) ** 2).tolist(), p * (1 - p) * em + p**2 * vm)
    # Chi-square of M in bins of expected count >= 5: <= 27, 28 .. 39, 40.
    probs = np.array([pmf[:28].sum(), *pmf[28:cap], pmf[cap]])
    observed = np.array([(arrived <= 27).sum(), *[(arrived == j).sum() for j in range(28, cap)],
                         (arrived == cap).sum()])
    assert observed.sum() == len(arrived) and (probs * len(arrived) >= 5).all()
    assert stats.chisquare(observed, probs * len(arrived)).pvalue > P_FLOOR


def test_proposals_waiting_for_periodic_reviews_with_a_max_wait_are_uniform_on_the_review_grid() -> None:
    """Poisson proposals (lam 0.5 a day), reviewed every N = 10 days with ``max_wait`` w = 4, a
    budget none exhausts, one-day tasks that need nobody. A Poisson arrival falls uniformly
    in its review period, so the time U to the next review is U(0, N): the proposal is funded
    at that review if U <= w, else rejected at arrival + w (SPEC 10.2). So P(rejected) = (N - w)
    / N = 0.6, a funded proposal waited U(0, w) (mean 2; Kolmogorov-Smirnov on the pooled
    waits), and every funding day is a multiple of N. A proposal stays min(U, w), mean
    w - w^2 / (2N) = 3.2 days, so the level of proposals, avg_in_system - avg_wip (a funded
    project is admitted at once: no WIP limit), is lam x 3.2 = 1.6 (Little). The window starts
    at the warm-up 20, after the first reviews, so the level is stationary throughout."""
    lam, n_days, w, horizon, warm = 0.5, 10.0, 4.0, 1500.0, 20.0
    data: dict[str, Any] = {
        "name": "grid", "horizon": horizon, "warmup": warm,
        "resources": {"dev": {"headcount": 1, "day_rate": 0}},
        "budget": {"per_year": 1e9},
        "intake": {"arrivals": expo(1 / lam), "templates": [
            {"name": "t", "cost_estimate": 1, "tasks": [{"name": "w", "duration": 1}]}]},
        "pmo": {"governance": {"funding": {"rule": "arrival", "review_every": n_days, "max_wait": w}}}}
    runs = replicate_loaded(data, 40, seed=10105)["default"]
    waits = []
    for r in runs:
        funded, arrival = col(r, "funded"), col(r, "arrival")
        ok = ~np.isnan(funded)
        assert np.allclose(funded[ok] / n_days, np.round(funded[ok] / n_days))
        waits.append(funded[ok & (arrival >= warm)] - arrival[ok & (arrival >= warm)])
    check("P(rejected)", [r.kpis["projects_rejected"] / r.kpis["projects_arrived"] for r in runs],
          (n_days - w) / n_days)
    check("funded wait", [float(x.mean()) for x in waits], w / 2)
    assert stats.kstest(np.concatenate(waits), stats.uniform(0, w).cdf).pvalue > P_FLOOR
    check("proposals level", [r.kpis["avg_in_system"] - r.kpis["avg_wip"] for r in runs],
          lam * (w - w**2 / (2 * n_days)))


def test_rework_on_a_task_waiting_for_its_person_compounds_geometrically_per_poisson_request() -> None:
    """A starts at 0 with a zero-duration milestone, so it is started and open from day 0; its
    task b (10 person-days) waits for the only developer, held by H's task until the horizon
    (200). Change requests reach A as a Poisson process at lam = 2 a year of 250 days, and
    while b waits A's remaining effort is b alone, so each request multiplies b by 1 + f_i,
    f_i ~ lognormal (mean 0.1, sd 0.05), no pause. With N ~ Poisson(lam T), T = 200:
    E[(1 + f)^N] = exp(lam T E f) and E[(1 + f)^{2N}] = exp(lam T (E(1 + f)^2 - 1)) (the
    Poisson probability generating function), so A's rework 10 ((1 + f)^N - 1) has mean
    10 (e^{0.16} - 1) = 1.735 and a closed-form variance; A's ``changes`` count is N, mean 1.6."""
    lam, horizon, e = 2 / 250, 200.0, 10.0
    mean_f, sd_f = 0.1, 0.05
    data: dict[str, Any] = {
        "name": "compound", "horizon": horizon,
        "resources": {"dev": {"headcount": 1}},
        "changes": {"per_project_per_year": 2, "disruption": 0,
                    "effort_added": {"dist": "lognormal", "mean": mean_f, "sd": sd_f}},
        "projects": [
            {"name": "H", "tasks": [{"name": "h", "skill": "dev", "effort": 1000}]},
            {"name": "A", "tasks": [{"name": "m", "duration": 0},
                                    {"name": "b", "skill": "dev", "effort": e, "after": ["m"]}]}]}
    runs = replicate_loaded(data, 3000, seed=10106)["default"]
    rework = np.array([col(r, "rework_effort")[col(r, "project") == "A"][0] for r in runs])
    changes = np.array([col(r, "changes")[col(r, "project") == "A"][0] for r in runs], dtype=float)
    mu = lam * horizon
    m1 = math.exp(mu * mean_f)
    m2 = math.exp(mu * (2 * mean_f + sd_f**2 + mean_f**2))  # E(1 + f)^2 - 1 = 2 Ef + Ef^2
    check("E changes", changes.tolist(), mu)
    check("E rework", rework.tolist(), e * (m1 - 1))
    check("Var rework", ((rework - e * (m1 - 1)) ** 2).tolist(), e**2 * (m2 - m1**2))
    assert ((changes == 0) == (rework == 0)).all()


def test_a_two_task_chain_on_one_person_under_fifo_is_an_mg1_with_the_summed_service() -> None:
    """Poisson projects (lam 0.9) of two tasks in sequence on the one developer: a ~ Exp(mean
    0.5), then b = 0.3. fifo ranks by project arrival first (SPEC 5), so when a ends its b,
    ready that instant, goes before every later project's a: each project holds the person
    for S = a + b without a break, an M/G/1 with E S = 0.8 (rho 0.72), E S^2 = Var a + (E S)^2
    = 0.25 + 0.64 = 0.89. Pollaczek-Khinchine: Wq = lam E S^2 / (2 (1 - rho)) = 1.4304 (start -
    arrival), cycle = Wq + E S = 2.2304. (Were b ranked by its ready time behind the projects
    already waiting, the person would interleave projects and the cycle would grow.) Warm-up
    300 days, far beyond the relaxation time of an M/G/1 at rho 0.72 (tens of days)."""
    lam, ea, eb = 0.9, 0.5, 0.3
    es, es2 = ea + eb, ea**2 + (ea + eb) ** 2
    rho = lam * es
    wq = lam * es2 / (2 * (1 - rho))
    warm, margin = 300.0, 150.0
    horizon = warm + 3000 / lam + margin
    template = {"name": "chain", "tasks": [
        {"name": "a", "skill": "staff", "effort": expo(ea)},
        {"name": "b", "skill": "staff", "effort": eb, "after": ["a"]}]}
    runs = replicate_loaded(queue(lam, {"staff": {"headcount": 1}}, [template], horizon, warm), 30,
                            seed=10107)["default"]
    t1 = horizon - margin
    check("Wq", [spans(r, "start", warm, t1).mean() for r in runs], wq, 2 * WARMUP_BIAS)
    check("cycle", [spans(r, "finish", warm, t1).mean() for r in runs], wq + es, 2 * WARMUP_BIAS)
    check("utilisation", [r.kpis["utilisation"] for r in runs], rho, WARMUP_BIAS)


def test_two_one_person_pools_cross_skilled_both_ways_are_one_mm2_queue() -> None:
    """Pools a and b of one person each; on day 0 a course of no days (SPEC 5: ``cross_skill``)
    lets each work in the other's pool too. One-task projects of either pool arrive as Poisson
    processes of 0.7 a day each, Exp(1) effort. Whatever order a free person takes the two
    pools' tasks in, as long as nobody idles while a task of a pool they can work in waits,
    the number of projects in system is the birth-death chain of an M/M/2 with lam = 1.4,
    a = 1.4 (rho 0.7): L = lam Wq + a = 2.745 with Erlang C(2, 1.4) = 0.5765, Wq = C / (2 - 1.4)
    = 0.9608, and the mean wait over both pools is Wq (Little). Without the cross-skilling
    these are two M/M/1 at rho 0.7: L = 4.667, Wq = 2.333, many SE away."""
    lam, c = 1.4, 2
    pw = erlang_c(lam, c)
    wq = pw / (c - lam)
    warm, margin = 200.0, 60.0
    horizon = warm + 2500 / lam + margin
    courses = [{"name": f"to-{other}", "skill": own, "trainees": 1, "start": 0, "duration_days": 0,
                "cross_skill": other} for own, other in (("a", "b"), ("b", "a"))]
    templates = [{"name": f"job-{pool}", "weight": 1,
                  "tasks": [{"name": "w", "skill": pool, "effort": expo(1.0)}]} for pool in ("a", "b")]
    data = queue(lam, {"a": {"headcount": 1}, "b": {"headcount": 1}}, templates, horizon, warm,
                 {"training_manager": {"programmes": courses}})
    runs = replicate_loaded(data, 30, seed=10108)["default"]
    t1 = horizon - margin
    check("avg_in_system", [r.kpis["avg_in_system"] for r in runs], lam * wq + lam, 2 * WARMUP_BIAS)
    check("Wq", [spans(r, "start", warm, t1).mean() for r in runs], wq, 2 * WARMUP_BIAS)
    check("P(wait)", [float((spans(r, "start", warm, t1) > 1e-9).mean()) for r in runs], pw, WARMUP_BIAS)
    check("utilisation", [r.kpis["utilisation"] for r in runs], lam / c, WARMUP_BIAS)


def test_slots_opened_by_a_staffing_plan_turn_over_as_the_pre_drawn_ones_do() -> None:
    """A pool of 1 person grown by a staffing plan to 4 on day 0; nobody works; attrition 12.5
    a year (r = 0.05 a day), Exp(mean 10) hiring delays (s = 0.1 a day). Every slot, the three
    opened by the plan included (their occupants' draws come in blocks of 4 from streams of
    their own, several blocks per slot here: some 13 leave each), is a two-state Markov chain
    started occupied: P(occupied at t) = s / (r + s) + r / (r + s) e^{-(r + s) t}, so over [0, 400]
    up = 400 s / (r + s) + r (1 - e^{-(r + s) 400}) / (r + s)^2 = 266.9 per slot:
    headcount_avg = 4 up / 400, leavers = 4 r up (a planned hire who leaves is a leaver, the
    plan's own hires are not hires), hires = 4 s (400 - up). The pool that never grew (1
    slot) is the same chain: its headcount_avg is up / 400. Draws that were reused or
    correlated across blocks would show in the counts' means."""
    r, s, h = 0.05, 0.1, 400.0
    data: dict[str, Any] = {
        "name": "slots", "horizon": h, "days_per_year": 250,
        "resources": {"grown": {"headcount": 1, "day_rate": 1}, "plain": {"headcount": 1, "day_rate": 1}},
        "workforce": {"attrition_per_year": r * 250, "hiring_delay": expo(1 / s)},
        "pmo": {"resource_manager": {"staffing": [{"day": 0, "pool": "grown", "change": 3}]}}}
    runs = replicate_loaded(data, 300, seed=10109)["default"]
    up = h * s / (r + s) + r * (1 - math.exp(-(r + s) * h)) / (r + s) ** 2
    heads = [dict(zip(rec.pools["pool"], rec.pools["headcount_avg"], strict=True)) for rec in runs]
    check("grown headcount_avg", [x["grown"] for x in heads], 4 * up / h)
    check("plain headcount_avg", [x["plain"] for x in heads], up / h)
    check("leavers", [rec.kpis["leavers"] for rec in runs], 5 * r * up)
    check("hires", [rec.kpis["hires"] for rec in runs], 5 * s * (h - up))
