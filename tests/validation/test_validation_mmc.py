"""M/M/c against the Erlang C formula (Gross & Harris, Fundamentals of Queueing Theory, 2.3).

One-task, one-person projects arriving as a Poisson stream into a pool of c people are an
M/M/c queue with FIFO service: exponential effort E with mean m done at productivity p is an
exponential service time of mean m / p.
"""

from __future__ import annotations

import numpy as np
import pytest
from validation_helpers import MMc, assert_matches, one_task_template, run_queue, seed_for, size

# (servers, load rho, mean effort, productivity): service time mean = effort / productivity.
LOADS = [
    pytest.param(1, 0.50, 1.0, 1.0, id="c1-rho0.50"),
    pytest.param(3, 0.70, 4.0, 2.0, id="c3-rho0.70"),
    pytest.param(5, 0.85, 1.5, 0.75, id="c5-rho0.85", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("servers", "rho", "effort", "productivity"), LOADS)
def test_mmc_matches_erlang_c(servers: int, rho: float, effort: float, productivity: float) -> None:
    """Erlang C (Gross & Harris 2.3): P(wait) = C(c, a), Wq = C / (c mu - lam),
    E[Wq^2] = 2 C / (c mu - lam)^2 (FIFO: Wq | Wq > 0 is exponential), utilisation = rho and,
    by Little's law, L = lam (Wq + 1/mu) (avg_in_system).

    The second moment is what makes FIFO visible: P(wait), Wq and rho are the same under any
    non-preemptive work-conserving order, E[Wq^2] is not (it doubles under LIFO at rho=0.5).
    Warm-up: 5 relaxation times 1/(c mu (1 - sqrt(rho))^2); analysis margin before the
    horizon: 25 / (c mu - lam), so P(a counted wait is censored) = C e^-25.
    """
    mu = productivity / effort
    q = MMc(lam=rho * servers * mu, mu=mu, c=servers)
    run = run_queue(q.lam, servers, [one_task_template("job", {"dist": "exponential", "mean": effort})],
                    customers=size(4_000, 40_000), warmup=5 * q.relaxation,
                    margin=25.0 / q.drain_rate, replications=size(20, 60),
                    seed=seed_for(f"mmc-{servers}-{rho}"), productivity=productivity)

    assert_matches("P(wait)", run.estimate(lambda r: float(np.mean(run.waits(r) > 1e-9))), q.p_wait)
    assert_matches("Wq", run.estimate(lambda r: float(np.mean(run.waits(r)))), q.wq)
    assert_matches("E[Wq^2]", run.estimate(lambda r: float(np.mean(run.waits(r) ** 2))), q.wq2)
    assert_matches("utilisation", run.estimate(lambda r: r.kpis["utilisation"]), q.rho)
    assert_matches("pool utilisation", run.estimate(lambda r: r.pools["utilisation"][0]), q.rho)
    assert_matches("L (avg_in_system)", run.estimate(lambda r: r.kpis["avg_in_system"]), q.l_system)
