"""Helpers of the statistical validation suite: theory, scenario builders, runners, assertions.

Conventions used by every test of ``tests/validation``:

* **Replications are the unit of independence.** A test computes one estimate per
  replication (e.g. the mean wait of that replication's customers), then the mean and its
  standard error ``SE = sd / sqrt(R)`` across the R replications. This is the batch-means idea
  with independent batches, so autocorrelation inside a replication needs no correction.
* **Tolerance** = ``Z_TOL * SE + bias``, with ``Z_TOL = 4`` (a two-sided t test at
  ~0.1 % with 19+ degrees of freedom) plus a small, documented allowance for the deterministic
  bias of a finite warm-up (``BIAS_REL`` of the theoretical value). Seeds are fixed, so the
  suite is deterministic; the 4-sigma band keeps it from being brittle when the engine's
  random-number layout changes, while a real modelling error (a few SE at the default sizes,
  many SE at the full sizes) still fails.
* **Censoring is avoided, not corrected.** Waits are taken from projects arriving in
  ``[warmup, horizon - margin]``, with a margin far beyond the wait distribution's tail, and
  the tests assert that all of those projects have started.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pmo_sim.engine.records import ReplicationRecords
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.scenario.models import Scenario

FULL = os.environ.get("PMO_SIM_FULL", "") not in ("", "0")
REPORT = os.environ.get("PMO_SIM_VALIDATION_REPORT", "") not in ("", "0")  # print every check
Z_TOL = 4.0
BIAS_REL = 0.01


def seed_for(label: str) -> int:
    """A fixed root seed per test, derived from its label (not tuned to make tests pass).

    Distinct tests get distinct seeds, so their sampling errors are independent instead of
    all sharing one lucky or unlucky stream of draws.
    """
    return zlib.crc32(label.encode())


def size(default: int, full: int) -> int:
    """A sample size: ``default`` normally, ``full`` under ``PMO_SIM_FULL=1``."""
    return full if FULL else default


# --------------------------------------------------------------------------- queueing theory


def erlang_c(lam: float, mu: float, c: int) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C), via the stable Erlang B recursion.

    Gross & Harris, *Fundamentals of Queueing Theory*, section 2.3 (M/M/c).
    """
    a = lam / mu
    rho = a / c
    if rho >= 1:
        raise ValueError(f"unstable M/M/c: rho = {rho}")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - rho * (1.0 - b))


@dataclass(frozen=True)
class MMc:
    """Steady-state M/M/c quantities (Gross & Harris, section 2.3)."""

    lam: float
    mu: float
    c: int

    @property
    def rho(self) -> float:
        return self.lam / (self.c * self.mu)

    @property
    def p_wait(self) -> float:
        return erlang_c(self.lam, self.mu, self.c)

    @property
    def drain_rate(self) -> float:
        """Rate of the conditional wait: Wq | Wq > 0 ~ Exponential(c*mu - lam)."""
        return self.c * self.mu - self.lam

    @property
    def wq(self) -> float:
        return self.p_wait / self.drain_rate

    @property
    def wq2(self) -> float:
        """Second moment of the FIFO wait, E[Wq^2] = 2 C / (c mu - lam)^2."""
        return 2.0 * self.p_wait / self.drain_rate**2

    @property
    def l_system(self) -> float:
        """Mean number in system, L = lam (Wq + 1/mu) (Little)."""
        return self.lam * (self.wq + 1.0 / self.mu)

    @property
    def relaxation(self) -> float:
        """Relaxation time ~ 1 / (c mu (1 - sqrt(rho))^2), for sizing the warm-up."""
        return 1.0 / (self.c * self.mu * (1.0 - math.sqrt(self.rho)) ** 2)


def pollaczek_khinchine_wq(lam: float, es: float, es2: float) -> float:
    """M/G/1 mean wait Wq = lam E[S^2] / (2 (1 - rho)) (Pollaczek 1930, Khinchine 1932)."""
    rho = lam * es
    if rho >= 1:
        raise ValueError(f"unstable M/G/1: rho = {rho}")
    return lam * es2 / (2.0 * (1.0 - rho))


def cobham_wq(lams: Sequence[float], es: Sequence[float], es2: Sequence[float]) -> list[float]:
    """Mean waits of non-preemptive priority M/G/1, class 0 most urgent (Cobham 1954).

    Wq_k = W0 / ((1 - sigma_{k-1}) (1 - sigma_k)), W0 = sum_i lam_i E[S_i^2] / 2,
    sigma_k = rho_1 + ... + rho_k.
    """
    w0 = sum(lam * m2 for lam, m2 in zip(lams, es2, strict=True)) / 2.0
    out, sigma = [], 0.0
    for lam, m1 in zip(lams, es, strict=True):
        prev, sigma = sigma, sigma + lam * m1
        out.append(w0 / ((1.0 - prev) * (1.0 - sigma)))
    return out


def lognormal_moments(mean: float, sd: float) -> tuple[float, float]:
    """(E[S], E[S^2]) of a lognormal with arithmetic mean and sd."""
    return mean, sd**2 + mean**2


# --------------------------------------------------------------------------- scenario builders


def one_task_template(name: str, effort: Any, skill: str = "staff", weight: float = 1.0,
                      **fields: Any) -> dict[str, Any]:
    """An intake template whose projects are a single one-person task: one queueing job."""
    return {"name": name, "weight": weight, **fields,
            "tasks": [{"name": "work", "skill": skill, "effort": effort}]}


def queue_scenario(lam: float, servers: int, templates: list[dict[str, Any]], horizon: float,
                   warmup: float, productivity: float = 1.0,
                   policies: dict[str, Any] | None = None, name: str = "queue") -> Scenario:
    """A Poisson(lam) stream of projects into one pool of ``servers`` people."""
    data: dict[str, Any] = {
        "name": name, "horizon": horizon, "warmup": warmup,
        "resources": {"staff": {"headcount": servers, "productivity": productivity}},
        "intake": {"arrivals": {"dist": "exponential", "mean": 1.0 / lam}, "templates": templates},
    }
    if policies:
        data["policies"] = policies
    return Scenario.model_validate(data)


# --------------------------------------------------------------------------- running


def replicate(scenario: Scenario, replications: int, seed: int,
              policies: Sequence[str] | None = None) -> dict[str, list[ReplicationRecords]]:
    """Replications 0..R-1 of every (or the given) policy, keyed by policy name."""
    out: dict[str, list[ReplicationRecords]] = {}
    for r in range(replications):
        for rec in run_replication(scenario, r, seed, policies):
            out.setdefault(rec.policy, []).append(rec)
    return out


def column(rec: ReplicationRecords, name: str) -> np.ndarray:
    """One column of a replication's projects table as a numpy array."""
    return np.asarray(rec.projects[name])


def observed_waits(rec: ReplicationRecords, t_from: float, t_to: float,
                   template: str | None = None) -> np.ndarray:
    """start - arrival of the projects arriving in [t_from, t_to] (optionally one template).

    The window must end far enough before the horizon that every one of them has started:
    this is asserted, so a wait is never silently censored.
    """
    arrival, start = column(rec, "arrival"), column(rec, "start")
    keep = (arrival >= t_from) & (arrival <= t_to)
    if template is not None:
        keep &= column(rec, "template") == template
    unstarted = int(np.isnan(start[keep]).sum())
    assert unstarted == 0, (
        f"{unstarted} projects arriving in [{t_from:.6g}, {t_to:.6g}] never started: a wait beyond "
        "the analysis margin, far in the theoretical tail (wrong queue discipline or capacity, "
        "an unstable queue, or a margin too short)")
    return start[keep] - arrival[keep]


@dataclass
class QueueRun:
    """Replications of a queue scenario and the window whose arrivals are analysed."""

    recs: dict[str, list[ReplicationRecords]]
    t_from: float  # the warm-up
    t_to: float  # horizon - margin

    def waits(self, rec: ReplicationRecords, template: str | None = None) -> np.ndarray:
        return observed_waits(rec, self.t_from, self.t_to, template)

    def estimate(self, fn: Callable[[ReplicationRecords], float],
                 policy: str = "default") -> Estimate:
        return per_replication(self.recs[policy], fn)


def run_queue(lam: float, servers: int, templates: list[dict[str, Any]], customers: int,
              warmup: float, margin: float, replications: int, seed: int,
              productivity: float = 1.0, policies: dict[str, Any] | None = None) -> QueueRun:
    """Simulate a Poisson(lam) queue long enough for ~``customers`` analysed arrivals each.

    The horizon is ``warmup + customers / lam + margin``; waits are analysed for arrivals in
    ``[warmup, horizon - margin]`` (the margin must exceed any plausible wait).
    """
    horizon = warmup + customers / lam + margin
    sc = queue_scenario(lam, servers, templates, horizon=horizon, warmup=warmup,
                        productivity=productivity, policies=policies)
    return QueueRun(replicate(sc, replications, seed), warmup, horizon - margin)


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Estimate:
    """Mean of per-replication values with its standard error."""

    mean: float
    se: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Estimate:
        x = np.asarray(list(values), dtype=float)
        if len(x) < 2:
            raise ValueError("need at least two replications for a standard error")
        return cls(float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x))), len(x))

    def __str__(self) -> str:
        return f"{self.mean:.5g} +/- {self.se:.2g} (SE over {self.n} replications)"


def assert_matches(label: str, est: Estimate, theory: float, bias: float | None = None) -> None:
    """|estimate - theory| <= Z_TOL * SE + bias (default bias: BIAS_REL * |theory|)."""
    allowance = BIAS_REL * abs(theory) if bias is None else bias
    tol = Z_TOL * est.se + allowance
    diff = est.mean - theory
    if REPORT:
        print(f"\n  {label}: sim {est} theory {theory:.5g} z = {diff / est.se:+.2f} "
              f"tol {tol:.3g}", end="")
    assert abs(diff) <= tol, (
        f"{label}: simulated {est} vs theory {theory:.5g}: |diff| = {abs(diff):.3g} > "
        f"tolerance {tol:.3g} = {Z_TOL:g}*SE + bias {allowance:.2g} ({diff / est.se:+.1f} SE)")


def per_replication(recs: Sequence[ReplicationRecords],
                    fn: Callable[[ReplicationRecords], float]) -> Estimate:
    """Estimate of ``fn`` (one number per replication) across replications."""
    return Estimate.of(fn(rec) for rec in recs)
