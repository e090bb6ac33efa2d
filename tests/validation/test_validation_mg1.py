"""M/G/1 against the Pollaczek-Khinchine mean-value formula.

Source: Pollaczek (1930), Khinchine (1932); e.g. Gross & Harris, Fundamentals of Queueing
Theory, section 5.1.1: Wq = lam E[S^2] / (2 (1 - rho)). One person, one-task projects.
"""

from __future__ import annotations

import numpy as np
import pytest
from validation_helpers import (
    assert_matches,
    lognormal_moments,
    one_task_template,
    pollaczek_khinchine_wq,
    run_queue,
    seed_for,
    size,
)

# (label, effort distribution, E[S], E[S^2], load)
SERVICES = [
    pytest.param({"dist": "fixed", "value": 1.0}, 1.0, 1.0, 0.7, id="MD1-rho0.70"),
    pytest.param({"dist": "lognormal", "mean": 1.0, "sd": 1.5}, *lognormal_moments(1.0, 1.5), 0.5,
                 id="lognormal-cv1.5-rho0.50"),
]


@pytest.mark.parametrize(("effort", "es", "es2", "rho"), SERVICES)
def test_mg1_matches_pollaczek_khinchine(effort: dict, es: float, es2: float, rho: float) -> None:
    """Pollaczek-Khinchine: Wq = lam E[S^2] / (2 (1 - rho)); also P(wait) = rho and
    utilisation = rho (M/G/1, any service law; Gross & Harris 5.1.1).

    M/D/1 has E[S^2] = E[S]^2 (half the M/M/1 wait); the lognormal with cv 1.5 has
    E[S^2] = 3.25 E[S]^2, so a wrong variance in the effort sampler moves Wq visibly.
    Warm-up 300 E[S], margin 400 E[S] before the horizon (asserted to censor nobody).
    """
    lam = rho / es
    wq = pollaczek_khinchine_wq(lam, es, es2)
    run = run_queue(lam, 1, [one_task_template("job", effort)], customers=size(5_000, 50_000),
                    warmup=300 * es, margin=400 * es, replications=size(20, 60),
                    seed=seed_for(f"mg1-{effort['dist']}-{rho}"))

    assert_matches("Wq", run.estimate(lambda r: float(np.mean(run.waits(r)))), wq)
    assert_matches("P(wait)", run.estimate(lambda r: float(np.mean(run.waits(r) > 1e-9))), rho)
    assert_matches("utilisation", run.estimate(lambda r: r.kpis["utilisation"]), rho)
