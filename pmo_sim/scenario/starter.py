"""The commented starter scenario that ``pmo-sim new NAME`` writes.

It shows every section of the scenario format (SPEC section 4) with comments a newcomer can
follow, keeps the optional effect sections switched on with modest values, and stays small
(a one-year horizon, a dozen projects) so that a replication simulates in well under a second.
"""

from __future__ import annotations

import json

_TEMPLATE = """\
# pmo-sim scenario: {title}
# Check it:     pmo-sim validate {file}
# Run it:       pmo-sim run {file} -n 100
# Times are in working days, effort in person-days, money in `currency`.
# A random quantity is a plain number or a distribution, e.g.
#   {{dist: triangular, low: 5, mode: 8, high: 15}}  (see `pmo-sim schema` for all of them)

name: {name}
description: A small portfolio to start from   # optional, shown in reports
horizon: 250               # days simulated (one year of working days)
warmup: 0                  # projects arriving before this day are left out of the KPIs
days_per_year: 250         # converts annual rates, costs and the discount rate
currency: EUR
discount_rate: 0.08        # annual, for the NPV

# Working days are Monday to Friday; day 0 is start_date (optional: without a calendar,
# days are just numbered). Nothing progresses on holidays and during closures.
calendar:
  start_date: 2027-01-04
  holidays: [2027-04-02, 2027-05-24]
  closures: [{{start: 245, days: 5}}]    # in working days: the year-end week

# Pools (at least one): people with one skill, or equipment (kind: equipment).
resources:
  developers: {{headcount: 6, day_rate: 600}}
  analysts: {{headcount: 2, day_rate: 650, productivity: 1.0, fte: 0.8}}  # 80% of their time on projects
  test_env: {{kind: equipment, units: 1, day_rate: 80}}    # held by the tasks that need it

# Explicit projects: each is a network of tasks.
projects:
  - name: CRM upgrade
    arrival: 0             # day it enters the portfolio
    due: 120               # days after arrival (optional)
    priority: 1            # 1 is the most urgent (default 3)
    value_per_day: 2000    # benefit per day once delivered
    budget: 150000         # optional; cost above it counts as overrun
    tasks:
      - name: analysis
        skill: analysts    # must name a pool above
        effort: {{dist: triangular, low: 10, mode: 15, high: 25}}
        people: 1          # crew size (default 1)
      - name: build
        skill: developers
        effort: {{dist: pert, low: 60, mode: 80, high: 140}}
        people: 3
        after: [analysis]  # starts when these tasks of the same project are finished
      - name: integration test
        needs: {{developers: 1, test_env: 1}}   # several pools at once, instead of skill + people
        effort: {{dist: triangular, low: 5, mode: 8, high: 15}}
        after: [build]
      - name: vendor licence
        duration: {{dist: triangular, low: 10, mode: 15, high: 30}}  # fixed time, needs nobody
  - name: Data warehouse
    arrival: 20
    priority: 2
    value_per_day: 1500
    tasks:
      - {{name: design, skill: analysts, effort: 12}}
      - {{name: load, skill: developers, effort: {{dist: uniform, low: 40, high: 70}}, people: 2,
         after: [design]}}

# Generated pipeline: projects named <template>-1, <template>-2, ... (optional).
intake:
  arrivals: {{dist: exponential, mean: 25}}   # days between arrivals
  count: 10                                 # at most this many generated projects
  templates:
    - name: enhancement
      weight: 3                             # relative frequency among templates
      due: 60
      priority: {{dist: choice, values: [2, 3], weights: [1, 2]}}
      value_per_day: {{dist: lognormal, mean: 400, sd: 200}}
      tasks:
        - {{name: change, skill: developers, effort: {{dist: pert, low: 5, mode: 10, high: 25}}}}
    - name: report
      weight: 1
      value_per_day: 150
      tasks:
        - {{name: spec, skill: analysts, effort: 3}}
        - {{name: build, skill: developers, effort: 6, after: [spec]}}

# Random change requests that add rework (optional; remove the section to switch it off).
changes:
  per_project_per_year: 2                               # rate while a project is open
  effort_added: {{dist: lognormal, mean: 0.1, sd: 0.05}}  # fraction of remaining effort
  disruption: {{dist: exponential, mean: 1}}              # days the project's work pauses

# People leave and are replaced (optional).
workforce:
  attrition_per_year: 0.1          # per person
  hiring_delay: {{dist: uniform, low: 40, high: 80}}
  new_hire_productivity: 0.5       # rises to 1.0 over ramp_up_days
  ramp_up_days: 60

# The PMO's default levers, shared by every policy.
pmo:
  resource_manager:
    allocation: fifo               # fifo, priority, edd, srpt, wsjf, min_slack, lst or lft
    backfill: true
  change_manager:
    assessment_days: 2             # changes wait for assessment before they apply
    managers: 1
    rework_reduction: 0.2          # assessed changes add 20% less effort
    cost_per_year: 20000

# What `pmo-sim sensitivity {file}` varies when no --vary is given (optional): each
# field (any --set path holding a number) from low to high, and the KPI it moves.
sensitivity:
  metric: npv
  ranges:
    resources.developers.headcount: [4, 8]
    changes.per_project_per_year: [1, 4]

# What is compared: each policy is deep-merged over `pmo` (give only what changes).
policies:
  baseline: {{}}
  focused:
    resource_manager: {{allocation: wsjf, wip_limit: 3}}
    training_manager:
      programmes:
        - name: devops
          skill: developers
          trainees: 2              # people (or a fraction of the pool below 1)
          start: 30
          duration_days: 5
          cost_per_trainee: 2000
          productivity_gain: 0.1
          ramp_days: 20
    technology_manager:
      adoptions:
        - {{name: ci-pipeline, day: 60, skills: [developers], cost: 20000, productivity_gain: 0.05,
           dip: 0.1, dip_days: 15}}
    innovation_manager: {{time_fraction: 0.05, ideas_per_year: 4, success_probability: 0.3,
                         effort_reduction: 0.02}}
    governance:
      stage_gate: {{at_progress: 0.5, cancel_if_overrun: 1.8}}
      estimate_spread_reduction: 0.2
      cost_per_year: 30000
  capacity:
    resource_manager:
      allocation: lft                # each task by its latest finish within its project
      staffing:                      # planned hires (> 0) and releases (< 0)
        - {{day: 60, pool: developers, change: 2}}
      contractors:                   # requested when a developer task waited trigger_wait days
        - {{pool: developers, max: 2, lead_time: 10, day_rate: 900, productivity: 0.9, trigger_wait: 10,
           release_idle: 5}}
"""


def starter_scenario(name: str) -> str:
    """A commented starter scenario named ``name`` (YAML text)."""
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    return _TEMPLATE.format(title=stem, file=f"{stem}.yaml", name=json.dumps(stem))
