"""The Plan's part of strategy, funding and risks (SPEC 10.1-10.3)."""

from __future__ import annotations

import numpy as np

from pmo_sim.sampling.plans import Network, ProjectPlan
from pmo_sim.sampling.streams import Source, stream
from pmo_sim.scenario.dists import Distribution
from pmo_sim.scenario.models import AnyPool, ProjectSpec, Scenario, Template

# --------------------------------------------------------------------------- strategy and risks


class StrategyPlanner:
    """The Plan's part of SPEC 10.1-10.3: estimates, alignment and score, dependencies, risks.

    Estimates are deterministic: ``cost_estimate`` (given, or the sum over tasks of central
    effort in person-days x the pool's day rate) and ``planned_duration`` (the critical path of
    the central efforts, a task taking central / (people x pool productivity) days). Without
    strategy or risks nothing new is drawn, so such a scenario's Plans are unchanged.

    Draws have their own streams: template alignment from ``Source.ALIGNMENT`` (a stream per
    template, a vector per goal); risks from ``Source.RISKS``, a stream per (risk, group,
    quantity) over a fixed, policy-free order — group 0 the explicit projects by file index,
    group 1 the generated ones by generation index — so a project's draws do not depend on
    how many projects follow it (but for a normal distribution's redraws of negatives).
    """

    def __init__(self, scenario: Scenario, explicit: list[Network], templates: list[Network]):
        self.scenario = scenario
        self.n_explicit = len(explicit)
        self.specs: list[ProjectSpec | Template] = [*scenario.projects,
                                                    *(scenario.intake.templates if scenario.intake else [])]
        pools = list(scenario.resources.values())
        self.estimates = [_estimates(spec, net, pools)
                          for spec, net in zip(self.specs, explicit + templates, strict=True)]
        # Spec index by (template, name): explicit projects by name, generated ones by template.
        self.index = {("", p.name): i for i, p in enumerate(scenario.projects)}
        self.index |= {(s.name, ""): self.n_explicit + k for k, s in enumerate(self.specs[self.n_explicit:])}
        self.goals = list(scenario.strategy.goals) if scenario.strategy is not None else []
        self.weights = np.array(scenario.strategy.weights() if scenario.strategy is not None else [])

    def _spec(self, p: ProjectPlan) -> int:  # index into self.specs
        return self.index[(p.template, "" if p.template else p.name)]

    def draw(self, seed: int, replication: int, projects: list[ProjectPlan]) -> None:
        """Estimates, alignment, score and risk draws; ``p.index`` is still the file/generation index."""
        members: dict[int, list[ProjectPlan]] = {}  # generated projects by template
        for p in projects:
            spec = self._spec(p)
            p.cost_estimate, p.planned_duration = self.estimates[spec]
            if not p.template:
                aligned = self.specs[spec].alignment
                self._set_alignment(p, np.array([aligned.get(g, 0.0) for g in self.goals]))
            elif self.goals:
                members.setdefault(spec, []).append(p)
        for spec, group in members.items():
            tpl = self.specs[spec]
            assert isinstance(tpl, Template)
            rng = stream(seed, replication, Source.ALIGNMENT, spec - self.n_explicit)
            draws = np.column_stack([tpl.alignment[g].sample(rng, len(group)) if g in tpl.alignment
                                     else np.zeros(len(group)) for g in self.goals])
            for p, row in zip(group, draws, strict=True):
                self._set_alignment(p, row)
        if self.scenario.risks:
            self._risks(seed, replication, projects)

    def _set_alignment(self, p: ProjectPlan, alignment: np.ndarray) -> None:
        # Alignments lie in [0, 1] and the weights sum to 1: the clip only removes rounding.
        p.alignment, p.score = alignment, min(1.0, float(self.weights @ alignment)) if self.goals else 0.0

    def _risks(self, seed: int, replication: int, projects: list[ProjectPlan]) -> None:
        # (group, position): explicit projects by file index, generated ones by generation index.
        slots = [(1, p.index - self.n_explicit) if p.template else (0, p.index) for p in projects]
        sizes = (self.n_explicit, sum(1 for p in projects if p.template))
        rows: list[list[tuple[float, ...]]] = [[] for _ in projects]
        for r, risk in enumerate(self.scenario.risks):
            quantities = (None, risk.when, risk.impact.delay, risk.impact.effort, risk.impact.cost)
            draws = [np.column_stack([_risk_draws(seed, replication, r, group, q, dist, size)
                                      for q, dist in enumerate(quantities)])
                     for group, size in enumerate(sizes)]
            targets = risk.applies_to
            for row, p, (group, pos) in zip(rows, projects, slots, strict=True):
                if targets is None or p.name in targets.projects or p.template in targets.templates:
                    row.append((r, *draws[group][pos].tolist()))
        for p, row in zip(projects, rows, strict=True):
            table = np.array(row, dtype=float).reshape(-1, 6)
            p.risk_index = table[:, 0].astype(int)
            p.risk_u, p.risk_when, p.risk_delay, p.risk_effort, p.risk_cost = table[:, 1:].T.copy()

    def link(self, projects: list[ProjectPlan]) -> None:
        """``depends_on`` and ``dependents`` as indices into the arrival-sorted ``projects``."""
        present = {p.name: p.index for p in projects if not p.template}
        waiting: dict[int, list[int]] = {}
        for p in projects:
            spec = self.specs[self._spec(p)]
            if not spec.depends_on:
                continue
            p.blocked = any(name not in present for name in spec.depends_on)
            p.depends_on = tuple(sorted({present[n] for n in spec.depends_on if n in present}))
            for d in p.depends_on:
                waiting.setdefault(d, []).append(p.index)
        for d, dependents in waiting.items():
            projects[d].dependents = tuple(dependents)


def _risk_draws(seed: int, replication: int, risk: int, group: int, quantity: int,
                dist: Distribution | None, size: int) -> np.ndarray:
    """One quantity of one risk over one group of projects: strike uniforms when ``dist`` is None."""
    rng = stream(seed, replication, Source.RISKS, risk, group, quantity)
    return rng.random(size) if dist is None else dist.sample(rng, size)


def _estimates(spec: ProjectSpec | Template, net: Network, pools: list[AnyPool]) -> tuple[float, float]:
    """(cost_estimate, planned_duration) of a project or template, from its central values.

    Planned duration: the critical path of the tasks' planned durations (``net.planned``).
    Cost, per task: people are costed by effort — central person-days × the crew's mean day
    rate (for a one-skill task, effort × day rate, whatever the crew size or productivity);
    equipment, and the people of a fixed-duration task, by time held — planned days × units ×
    day rate.
    """
    cost = 0.0
    for i, needs in enumerate(net.needs):
        people = [(u, pools[k].day_rate) for k, u in needs if pools[k].kind == "people"]
        held = sum(u * pools[k].day_rate for k, u in needs if pools[k].kind != "people")
        if net.is_duration[i]:
            held += sum(u * r for u, r in people)
        elif people:
            cost += float(net.central[i]) * sum(u * r for u, r in people) / sum(u for u, _ in people)
        cost += net.planned[i] * held
    finish = np.zeros(len(net.names))
    for t in net.order:
        start = max((finish[q] for q in net.preds[t]), default=0.0)
        finish[t] = start + net.planned[t]
    return (spec.cost_estimate if spec.cost_estimate is not None else cost), float(finish.max())
