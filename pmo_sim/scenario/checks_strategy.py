"""Cross-reference checks of strategy, budget, dependencies and risks (SPEC 10.1–10.3).

Called from :func:`pmo_sim.scenario.checks.semantic_problems`; every problem is a located
``(path, message, got)``. What is checked here, beyond what each model validates alone:

* goals: ``alignment`` names only goals of ``strategy.goals``, its values (or, in templates,
  every value its distribution can give) lie in [0, 1]; the goal weights are not all zero;
* budget: no negative yearly amount;
* dependencies: ``depends_on`` names explicit projects (not generated ones, not the project
  itself, not twice), and the explicit projects' dependencies form no cycle. Cycles are found
  as strongly connected components with an iterative Tarjan search, so a dependency chain of
  any length is checked in linear time without recursion;
* risks: unique names, ``applies_to`` naming existing templates and explicit projects,
  ``when`` within [0, 1] and impacts never negative;
* policies: ``risk_mitigation`` names risks of the register; funding needs a ``budget``, and
  ranking or filtering by score needs a ``strategy``.
"""

from __future__ import annotations

import math
import re
from collections import deque
from typing import Any

from pmo_sim.errors import SHOWN_NAMES
from pmo_sim.errors import listed as _names
from pmo_sim.rules.funding import SCORE_RULES
from pmo_sim.scenario.dists import Fixed, _Dist
from pmo_sim.scenario.models import PMO, ProjectSpec, Scenario, Template
from pmo_sim.scenario.overrides import KeyPath

Problems = list[tuple[KeyPath, str, Any]]



def strategy_problems(scenario: Scenario) -> Problems:
    """Every strategy, budget, dependency and risk problem of a validated scenario."""
    out: Problems = []
    goals = list(scenario.strategy.goals) if scenario.strategy is not None else []
    if scenario.strategy is not None and sum(g.weight for g in scenario.strategy.goals.values()) <= 0:
        out.append((("strategy", "goals"), "the goal weights must not all be zero",
                    {name: g.weight for name, g in scenario.strategy.goals.items()}))
    if scenario.budget is not None:
        amounts = scenario.budget.per_year
        for i, amount in enumerate(amounts):
            if amount < 0:
                path: KeyPath = ("budget", "per_year") + ((i,) if len(amounts) > 1 else ())
                out.append((path, "must not be negative", amount))
    for base, spec in _specs(scenario):
        _check_alignment(out, base, spec, goals)
    _check_dependencies(out, scenario)
    _check_risks(out, scenario)
    _check_policy(out, ("pmo",), scenario.pmo, scenario)
    for name, policy in scenario.policies.items():
        if policy is not scenario.pmo:  # the implicit `default` policy *is* pmo
            _check_policy(out, ("policies", name), policy, scenario)
    return out


def _specs(scenario: Scenario) -> list[tuple[KeyPath, ProjectSpec | Template]]:
    specs: list[tuple[KeyPath, ProjectSpec | Template]] = [
        (("projects", i), p) for i, p in enumerate(scenario.projects)]
    if scenario.intake is not None:
        specs += [(("intake", "templates", i), t) for i, t in enumerate(scenario.intake.templates)]
    return specs


def _within(out: Problems, path: KeyPath, dist: _Dist, low: float, high: float, message: str) -> None:
    """Report ``dist`` unless every value it can give lies in [low, high]."""
    lowest, highest = dist.support()
    if low <= lowest and highest <= high:
        return
    if isinstance(dist, Fixed):
        out.append((path, message, dist.value))
    else:
        worst = lowest if lowest < low else highest
        can = "has no upper bound" if worst == math.inf else f"can give {worst:g}"
        out.append((path, f"{message}, but this distribution {can}", dist.model_dump(by_alias=True)))


# --------------------------------------------------------------------------- goals


def _check_alignment(out: Problems, base: KeyPath, spec: ProjectSpec | Template, goals: list[str]) -> None:
    for goal, value in spec.alignment.items():
        path = base + ("alignment", goal)
        if goal not in goals:
            known = f"expected one of: {_names(goals)}" if goals else "the scenario has no strategy.goals"
            out.append((path, f"unknown goal; {known}", goal))
        elif isinstance(value, _Dist):
            _within(out, path, value, 0.0, 1.0, "must lie in [0, 1]")
        elif not 0 <= value <= 1:
            out.append((path, "must lie in [0, 1]", value))


# --------------------------------------------------------------------------- dependencies


def _check_dependencies(out: Problems, scenario: Scenario) -> None:
    explicit = {p.name: i for i, p in enumerate(scenario.projects)}
    generated = ([re.compile(re.escape(t.name) + r"-[0-9]+") for t in scenario.intake.templates]
                 if scenario.intake is not None else [])
    edges: list[list[int]] = [[] for _ in scenario.projects]
    for base, spec in _specs(scenario):
        own = spec.name if isinstance(spec, ProjectSpec) else None
        seen: set[str] = set()
        for k, name in enumerate(spec.depends_on):
            path = base + ("depends_on", k)
            if name == own:
                out.append((path, "a project cannot depend on itself", name))
            elif name in seen:
                out.append((path, "listed twice", name))
            elif name in explicit:
                if own is not None:
                    edges[explicit[own]].append(explicit[name])
            elif any(g.fullmatch(name) for g in generated):
                out.append((path, "names a generated project; depends_on may name explicit projects only",
                            name))
            else:
                out.append((path, f"unknown project; expected one of the explicit projects: "
                            f"{_names(list(explicit))}", name))
            seen.add(name)
    for cycle in _cycles(edges):
        names = [scenario.projects[i].name for i in cycle]
        shown = names if len(names) <= SHOWN_NAMES else [*names[:4], "...", *names[-3:]]
        out.append((("projects", cycle[0], "depends_on"),
                    f"dependency cycle of {len(names) - 1} projects, each depending on the next: "
                    f"{' -> '.join(shown)}", scenario.projects[cycle[0]].depends_on))


def _cycles(edges: list[list[int]]) -> list[list[int]]:
    """One cycle per cyclic strongly connected component, from its lowest index back to it."""
    out = []
    for component in _strongly_connected(edges):
        members = set(component)
        start = min(component)
        # Breadth-first inside the component: the shortest cycle through `start`.
        parent: dict[int, int] = {}
        queue = deque([start])
        while start not in parent:
            node = queue.popleft()
            for nxt in edges[node]:
                if nxt in members and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        path = [start]
        node = parent[start]
        while node != start:
            path.append(node)
            node = parent[node]
        out.append([start, *reversed(path[1:]), start])
    return out


def _strongly_connected(edges: list[list[int]]) -> list[list[int]]:
    """Strongly connected components with more than one node (Tarjan 1972, iteratively).

    Self-loops are not edges here (they are reported on their own), so a component of one
    node is never a cycle.
    """
    order = [-1] * len(edges)  # discovery order, -1 while unvisited
    low = [0] * len(edges)
    on_stack = [False] * len(edges)
    stack: list[int] = []
    found: list[list[int]] = []
    counter = 0
    for root in range(len(edges)):
        if order[root] >= 0:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]  # (node, next edge to follow): the recursion, made explicit
        while work:
            node, i = work[-1]
            if i < len(edges[node]):
                work[-1] = (node, i + 1)
                nxt = edges[node][i]
                if order[nxt] < 0:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack[nxt] = True
                    work.append((nxt, 0))
                elif on_stack[nxt]:
                    low[node] = min(low[node], order[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


# --------------------------------------------------------------------------- risks


def _check_risks(out: Problems, scenario: Scenario) -> None:
    first: dict[str, int] = {}
    templates = [t.name for t in scenario.intake.templates] if scenario.intake is not None else []
    projects = [p.name for p in scenario.projects]
    for i, risk in enumerate(scenario.risks):
        base: KeyPath = ("risks", i)
        if risk.name in first:
            out.append((base + ("name",),
                        f"duplicate risk name; already used at risks.{first[risk.name]}.name", risk.name))
        first.setdefault(risk.name, i)
        targets = risk.applies_to
        if targets is not None:
            if not targets.templates and not targets.projects:
                out.append((base + ("applies_to",), "names no template or project; omit applies_to "
                            "to apply the risk to every project", {}))
            for what, names, known in (("template", targets.templates, templates),
                                       ("project", targets.projects, projects)):
                hint = f"expected one of: {_names(known)}" if known else f"the scenario has no {what}s"
                for k, name in enumerate(names):
                    if name not in known:
                        out.append((base + ("applies_to", what + "s", k), f"unknown {what}; {hint}", name))
        _within(out, base + ("when",), risk.when, 0.0, 1.0,
                "must lie in [0, 1] (a fraction of the planned effort)")
        for field in ("delay", "effort", "cost"):
            _within(out, base + ("impact", field), getattr(risk.impact, field), 0.0, math.inf,
                    "must not be negative")


# --------------------------------------------------------------------------- policies


def _check_policy(out: Problems, base: KeyPath, policy: PMO, scenario: Scenario) -> None:
    governance = policy.governance
    if governance is None:
        return
    risks = list(dict.fromkeys(r.name for r in scenario.risks))
    for name in governance.risk_mitigation:
        if name not in risks:
            known = f"expected one of: {_names(risks)}" if risks else "the scenario has no risks section"
            out.append((base + ("governance", "risk_mitigation", name), f"unknown risk; {known}", name))
    funding = governance.funding
    if funding is None:
        return
    path = base + ("governance", "funding")
    if scenario.budget is None:
        out.append((path, "funding needs a budget section (budget.per_year); without one there are "
                    "no funds to commit", funding.model_dump(exclude_defaults=True)))
    if scenario.strategy is None:
        if funding.rule in SCORE_RULES:
            out.append((path + ("rule",), "ranks by strategic score, but the scenario has no strategy "
                        "section (every score would be 0)", funding.rule))
        if funding.min_score > 0:
            out.append((path + ("min_score",), "needs a strategy section: without goals every score "
                        "is 0 and every proposal would be rejected", funding.min_score))
