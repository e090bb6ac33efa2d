"""Two-class non-preemptive priority M/G/1 (Cobham 1954) and Kleinrock's conservation law.

Sources: A. Cobham, "Priority assignment in waiting line problems", Operations Research 2
(1954); L. Kleinrock, Queueing Systems Vol. II (1976), section 3.4 (conservation law);
Gross & Harris, Fundamentals of Queueing Theory, section 3.4.
"""

from __future__ import annotations

import numpy as np
import pytest
from validation_helpers import (
    Estimate,
    QueueRun,
    assert_matches,
    cobham_wq,
    column,
    one_task_template,
    pollaczek_khinchine_wq,
    run_queue,
    seed_for,
    size,
)

from pmo_sim.engine.records import ReplicationRecords

# Class 1 (priority 1): short exponential jobs; class 2 (priority 2): long gamma jobs.
LAMS = (0.4, 1.0 / 3.0)
MEANS = (0.5, 1.5)
SDS = (0.5, 1.0)  # exponential (sd = mean) and gamma(mean 1.5, sd 1)
ES2 = tuple(m * m + s * s for m, s in zip(MEANS, SDS, strict=True))
RHOS = tuple(lam * m for lam, m in zip(LAMS, MEANS, strict=True))  # 0.2 and 0.5: total 0.7
W0 = sum(lam * m2 for lam, m2 in zip(LAMS, ES2, strict=True)) / 2.0  # mean residual work
CONSERVED = sum(RHOS) * W0 / (1.0 - sum(RHOS))  # sum_k rho_k Wq_k, any admissible discipline
CLASSES = ("urgent", "routine")
POLICIES = {"fifo": {}, "priority": {"resource_manager": {"allocation": "priority"}}}


@pytest.fixture(scope="module")
def two_class_run() -> QueueRun:
    """Both policies on the same replications (common random numbers), simulated once."""
    templates = [
        one_task_template("urgent", {"dist": "exponential", "mean": MEANS[0]}, weight=LAMS[0],
                          priority=1),
        one_task_template("routine", {"dist": "gamma", "mean": MEANS[1], "sd": SDS[1]},
                          weight=LAMS[1], priority=2),
    ]
    return run_queue(sum(LAMS), 1, templates, customers=size(6_000, 30_000), warmup=200.0,
                     margin=600.0, replications=size(20, 40), seed=seed_for("cobham"),
                     policies=POLICIES)


def _class_wait(run: QueueRun, policy: str, k: int) -> Estimate:
    return run.estimate(lambda r: float(run.waits(r, CLASSES[k]).mean()), policy)


@pytest.mark.slow
def test_priority_classes_match_cobham(two_class_run: QueueRun) -> None:
    """Cobham (1954): Wq_k = W0 / ((1 - sigma_{k-1})(1 - sigma_k)), W0 = sum lam_i E[S_i^2] / 2,
    under `priority`; under `fifo` both classes wait the Pollaczek-Khinchine Wq of the merged
    stream. Classes come from template weights (Poisson thinning) and `priority: 1 | 2`.
    """
    run = two_class_run
    cobham = cobham_wq(LAMS, MEANS, ES2)
    lam = sum(LAMS)
    pk = pollaczek_khinchine_wq(lam, sum(RHOS) / lam, 2.0 * W0 / lam)  # merged stream
    for k, name in enumerate(CLASSES):
        assert_matches(f"priority: Wq of class {name}", _class_wait(run, "priority", k), cobham[k])
        assert_matches(f"fifo: Wq of class {name}", _class_wait(run, "fifo", k), pk)


@pytest.mark.slow
def test_conservation_law_fifo_vs_priority(two_class_run: QueueRun) -> None:
    """Kleinrock's conservation law (Queueing Systems II, 3.4): for non-preemptive,
    work-conserving disciplines whose choice does not use the service times,
    sum_k rho_k Wq_k = rho W0 / (1 - rho) is the same for every discipline.

    Both policies run on the same replications (common random numbers), so the paired
    difference has a small SE; it must be 0 within 4 SE + 1 % of the CONSERVED (the allowance covers
    the O(CV^2) bias of per-replication class means, which are ratios of random sums; ~0.3 %
    measured), and each side must match rho W0 / (1 - rho).

    The sample-path form is sharper: the time-average work waiting in queue,
    (1/T) sum_j S_j Wq_j, is pathwise the same for every work-conserving non-preemptive
    discipline on the same arrivals and efforts (the total workload and each job's residual
    work S_j^2/2 do not depend on the order); only window-edge effects may differ (1e-3 allowance).
    """
    run = two_class_run

    def weighted(policy: str) -> list[float]:
        return [sum(rho * run.waits(rec, name).mean() for rho, name in zip(RHOS, CLASSES, strict=True))
                for rec in run.recs[policy]]

    fifo, prio = weighted("fifo"), weighted("priority")
    assert_matches("fifo: sum rho_k Wq_k", Estimate.of(fifo), CONSERVED)
    assert_matches("priority: sum rho_k Wq_k", Estimate.of(prio), CONSERVED)
    diff = Estimate.of(p - f for p, f in zip(prio, fifo, strict=True))
    assert_matches("priority - fifo: sum rho_k Wq_k", diff, 0.0, bias=0.01 * CONSERVED)

    def queued_work(rec: ReplicationRecords) -> float:
        arrival = column(rec, "arrival")
        keep = (arrival >= run.t_from) & (arrival <= run.t_to)
        work = column(rec, "effort_planned")[keep]  # = service time at productivity 1
        return float(np.sum(work * run.waits(rec)) / (run.t_to - run.t_from))

    paired = [queued_work(p) - queued_work(f)
              for p, f in zip(run.recs["priority"], run.recs["fifo"], strict=True)]
    assert_matches("priority - fifo: work in queue (sample path)", Estimate.of(paired), 0.0,
                   bias=1e-3 * CONSERVED)
