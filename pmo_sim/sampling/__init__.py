"""Random streams and the per-replication Plan: what the world does, drawn up front.

Common random numbers are built in, not hoped for. Everything random that the world does —
project arrivals, the projects' sampled attributes, change requests, leavers and hiring
delays — is drawn *before* the simulation starts, as vectors, into a :class:`Plan` that every
policy of the replication then runs on. A policy can change *what happens* with a change
request or a leaver (assess it, reject it, retain the person), never *which* ones come.

Streams: one root seed; replication ``r``'s source ``s`` uses
``SeedSequence(seed, spawn_key=(r, s, ...))``, which is exactly the child
``SeedSequence(seed).spawn(...)[r].spawn(...)[s]``. A stream depends only on its key, so
adding replications (``--precision``), resuming, chunking or parallelism change nothing.

* Change requests of a project are a Poisson process over ``[arrival, horizon]`` drawn in
  absolute time; a request takes effect only if it falls while the project is started and
  open. By the memoryless property this is a Poisson process with the given rate while the
  project is open and started, and every policy sees the same requests at the same times.
* Estimate error (``scenario.estimate_error``): a task whose skill has a ratio takes its
  sampled effort times one draw of the ratio, from the ESTIMATE_ERROR stream keyed by the
  project (explicit project i: ``(0, i)``; template k: ``(1, k)``, drawn as vectors like the
  efforts), so the multipliers depend only on (seed, replication, project). A scenario
  without ratios draws nothing from that stream.
* A person's leaving is a unit exponential "hazard budget" E: they leave when their
  cumulative attrition hazard reaches E (E / rate with a constant rate). A policy that lowers
  the rate (retention) delays the *same* leaver rather than drawing a new one.
* Risk strikes are pre-drawn per (risk, project) whatever the policy, so a mitigated risk
  strikes in a subset of the same replications (:class:`~pmo_sim.sampling.strategy.StrategyPlanner`).
"""

from pmo_sim.sampling.plans import Network, Plan, ProjectPlan, compile_network
from pmo_sim.sampling.sampler import MAX_GENERATED_PROJECTS, Sampler
from pmo_sim.sampling.streams import Source, stream

__all__ = ["MAX_GENERATED_PROJECTS", "Network", "Plan", "ProjectPlan", "Sampler", "Source",
           "compile_network", "stream"]
