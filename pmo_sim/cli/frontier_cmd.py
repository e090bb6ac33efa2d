"""``pmo-sim frontier``: what each extra unit of budget buys under each funding rule.

Thin: parses ``--budget LOW:HIGH:STEPS``, calls :func:`pmo_sim.experiment.frontier.frontier`,
writes ``frontier.csv`` and the figure of :mod:`pmo_sim.analysis.frontier`, and prints the
table. The experiment options (``-n``, ``--seed``, ``-j``, ``--backend``, ``--scheduler``,
``--policy``, ``--quiet``) are ``run``'s own option objects.
"""

from __future__ import annotations

from typing import Any

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import (
    OutPath,
    force_option,
    handles_errors,
    run_study,
    set_option,
    study_options,
)
from pmo_sim.cli.output import compact, console, emit_json, plain
from pmo_sim.cli.run_cmds import run_options
from pmo_sim.errors import printable

_HELP = {"replications": "Replications per budget and policy (the same worlds at every budget).",
         "policies": "Policy to draw (repeatable) [default: all; those without a funding rule are "
                     "references]."}


@main.command(epilog="""\b
Examples:
  pmo-sim frontier scenarios/strategy.yaml --budget 0.6e6:2.4e6:7
  pmo-sim frontier scenarios/strategy.yaml --budget 0.6e6:2.4e6:7 --metric npv -n 50
  pmo-sim frontier strategy.yaml --budget 1e6:2e6:5 --policy first_come --policy by_score_per_cost
  pmo-sim frontier strategy.yaml --budget 1e6:2e6:5 --format csv > frontier.csv
""")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--budget", "budget", required=True, metavar="LOW:HIGH:STEPS",
              help="Yearly budgets to try: STEPS evenly spaced amounts from LOW to HIGH, each set "
                   "as budget.per_year (the same amount every year).")
@click.option("--metric", type=click.Choice(["strategic_value", "npv", "value_delivered"]),
              default="strategic_value", show_default=True, help="What the budget buys.")
@set_option
@click.option("--out", type=OutPath(file_okay=False), default=None,
              help="Folder for frontier.csv and frontier.png "
                   "[default: results/<scenario file stem>-frontier].")
@force_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@handles_errors
def frontier(scenario: str, budget: str, metric: str, replications: int, seed: int, jobs: int | None,
             backend: str, scheduler: str | None, policies: tuple[str, ...], quiet: bool,
             sets: tuple[str, ...], out: str | None, force: bool, fmt: str) -> None:
    """The efficient frontier: --metric against the yearly budget, per funding policy.

    Every budget and policy runs the same replications from the same --seed (common random
    numbers), so the curves differ by the money, not by noise. Policies without a funding
    rule fund every proposal on arrival: they are drawn as references (the level the rules
    reach once money no longer binds). Prints the mean of --metric with its 95% CI per budget
    and policy, and writes OUT/frontier.csv (budget, policy, funding, metric, mean, ci_low,
    ci_high, n) and OUT/frontier.png (one line per policy with its CI band).
    """
    from pmo_sim.analysis.frontier import frontier_figure
    from pmo_sim.experiment.frontier import FRONTIER_COLUMNS, parse_budgets
    from pmo_sim.experiment.frontier import frontier as study

    budgets = parse_budgets(budget)
    options = study_options(replications, seed, jobs, backend, scheduler, policies)
    table, currency, csv, png = run_study(
        scenario, sets, out, "frontier", quiet, force,
        lambda overrides, progress, ready: study(scenario, budgets, metric=metric, sets=overrides,
                                                 progress=progress, ready=ready, **options),
        frontier_figure)
    if fmt == "json":
        rows = [{c: plain(row[c]) for c in FRONTIER_COLUMNS} for row in table.to_dict("records")]
        emit_json({"metric": metric, "currency": currency, "results": str(csv.parent), "rows": rows})
        return
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
        return
    _print(table, metric, currency)
    click.echo(f"results: {printable(str(csv))}, {printable(str(png))}")


def _print(table: Any, metric: str, currency: str) -> None:
    from rich.table import Table

    from pmo_sim.analysis.format import money
    from pmo_sim.analysis.metrics import metric_info

    out = Table(title=f"{metric_info(metric).label} against the yearly budget: mean [95% CI]")
    out.add_column("budget/year", justify="right")
    rules = dict(zip(table["policy"], table["funding"], strict=True))
    for policy, rule in rules.items():
        out.add_column(f"{policy}\n({rule})", justify="right", overflow="fold")
    for value, rows in table.groupby("budget", sort=False):
        by_policy = {r["policy"]: r for r in rows.to_dict("records")}
        cells = [f"{compact(by_policy[p]['mean'])} [{compact(by_policy[p]['ci_low'])}, "
                 f"{compact(by_policy[p]['ci_high'])}]" for p in rules]
        out.add_row(money(value, currency), *cells)
    console().print(out)


_AT = [p.name for p in frontier.params].index("metric") + 1  # after the command's own options
frontier.params[_AT:_AT] = run_options("replications", "seed", "jobs", "backend", "scheduler",
                                       "policies", "quiet",
                                       changes={n: (h, None) for n, h in _HELP.items()})
