"""``pmo-sim sensitivity``: which scenario fields move a KPI (tornado, Morris, Sobol).

Thin: parses ``--vary PATH=LOW:HIGH``, calls :func:`pmo_sim.experiment.sensitivity.sensitivity`,
writes ``sensitivity.csv`` and the figure of :mod:`pmo_sim.analysis.sensitivity_plots`, and
prints the table. The experiment options (``--seed``, ``-j``, ``--backend``, ``--scheduler``,
``--policy``, ``--quiet``) are ``run``'s own option objects; ``-n`` counts replications per
design point.
"""

from __future__ import annotations

from typing import Any

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import (
    OutPath,
    Whole,
    force_option,
    handles_errors,
    run_study,
    set_option,
    study_options,
)
from pmo_sim.cli.output import compact, console, emit_json, plain
from pmo_sim.cli.run_cmds import run_options
from pmo_sim.errors import printable

_OPTIONS = {"replications": ("Replications per design point, the same worlds at every point.", 20),
            "policies": ("Policy to study (repeatable) [default: all].", None)}


@main.command(epilog="""\b
Examples:
  pmo-sim sensitivity scenarios/baseline.yaml --vary resources.developers.headcount=5:9 \\
      --vary resources.testers.headcount=2:4 --vary changes.per_project_per_year=1:5 --policy baseline
  pmo-sim sensitivity baseline.yaml --vary ... --method morris --samples 10 -n 10
  pmo-sim sensitivity baseline.yaml --vary ... --method sobol --samples 64 -n 5 --format json
  pmo-sim sensitivity my-portfolio.yaml -n 30        # ranges and metric from its sensitivity: section

\b
Design points (k factors): tornado 2k, morris SAMPLES x (k + 1), sobol SAMPLES x (k + 2);
each runs -n replications per policy.
""")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--vary", "varies", multiple=True, metavar="PATH=LOW:HIGH",
              help="A field (any --set path holding a number) and its range (repeatable) "
                   "[default: the scenario's sensitivity.ranges].")
@click.option("--metric", default=None, metavar="M",
              help="KPI to study [default: the scenario's sensitivity.metric, else npv].")
@click.option("--method", type=click.Choice(["tornado", "morris", "sobol"]), default="tornado",
              show_default=True, help="tornado: one at a time, low vs high, paired; morris: "
              "elementary effects; sobol: variance shares.")
@click.option("--samples", type=Whole(min=2), default=None, metavar="N",
              help="Morris trajectories [default 10] or Sobol base samples, a power of 2 [default 64].")
@set_option
@click.option("--out", type=OutPath(file_okay=False), default=None,
              help="Folder for sensitivity.csv and sensitivity.png "
                   "[default: results/<scenario file stem>-sensitivity].")
@force_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@handles_errors
def sensitivity(scenario: str, varies: tuple[str, ...], metric: str | None, method: str,
                samples: int | None, replications: int, seed: int, jobs: int | None, backend: str,
                scheduler: str | None, policies: tuple[str, ...], quiet: bool, sets: tuple[str, ...],
                out: str | None, force: bool, fmt: str) -> None:
    """Which of the --vary fields move --metric, and how much, on common random numbers.

    Every design point runs replications 0..n-1 from the same --seed, so replication r is
    the same random world everywhere. tornado: each field at LOW and at HIGH with the
    others as in the scenario; the effect HIGH - LOW is paired per replication, with a 95%
    paired t CI, ranked by |effect|. morris: SALib's elementary effects (mu*, its CI, sigma),
    ranked by mu*. sobol: SALib's first-order S1 and total ST indices with CIs, ranked by
    ST. Integer fields are sampled on [LOW - 0.5, HIGH + 0.5] and rounded. Writes
    OUT/sensitivity.csv (one row per policy, field and statistic) and OUT/sensitivity.png.
    """
    from pmo_sim.analysis.sensitivity import SENSITIVITY_COLUMNS
    from pmo_sim.analysis.sensitivity_plots import sensitivity_figure
    from pmo_sim.experiment.sensitivity import parse_range
    from pmo_sim.experiment.sensitivity import sensitivity as study
    from pmo_sim.experiment.sweep import axes_of

    ranges = axes_of([parse_range(v) for v in varies], None) if varies else None
    options = study_options(replications, seed, jobs, backend, scheduler, policies)
    table, currency, csv, png = run_study(
        scenario, sets, out, "sensitivity", quiet, force,
        lambda overrides, progress, ready: study(scenario, ranges, metric=metric, method=method,
                                                 samples=samples, sets=overrides, progress=progress,
                                                 ready=ready, **options),
        sensitivity_figure)
    if fmt == "json":
        emit_json({"method": method, "metric": str(table["metric"].iloc[0]), "results": str(csv.parent),
                   "rows": [{c: plain(row[c]) for c in SENSITIVITY_COLUMNS}
                            for row in table.to_dict("records")]})
        return
    _print(table)
    click.echo(f"results: {printable(str(csv))}, {printable(str(png))}")


def _cell(row: dict[str, Any]) -> str:
    if row["ci_low"] is None or row["ci_low"] != row["ci_low"]:  # NaN: no interval
        return compact(row["value"])
    return f"{compact(row['value'])} [{compact(row['ci_low'])}, {compact(row['ci_high'])}]"


def _print(table: Any) -> None:
    from rich.table import Table

    from pmo_sim.analysis.metrics import metric_info

    method = str(table["method"].iloc[0])
    statistics = list(dict.fromkeys(table["statistic"]))
    label = metric_info(str(table["metric"].iloc[0])).label
    for policy, rows in table.groupby("policy", sort=False):
        out = Table(title=f"{method} sensitivity of {label}, policy {policy}: value [95% CI]")
        out.add_column("rank", justify="right")
        out.add_column("field", overflow="fold")
        out.add_column("range")
        for statistic in statistics:
            out.add_column(statistic, justify="right")
        for parameter, group in rows.groupby("parameter", sort=False):
            by_stat = {r["statistic"]: r for r in group.to_dict("records")}
            first = next(iter(by_stat.values()))
            out.add_row(str(first["rank"]), str(parameter), f"{first['low']:g}:{first['high']:g}",
                        *[_cell(by_stat[s]) for s in statistics])
        console().print(out)


_AT = [p.name for p in sensitivity.params].index("samples") + 1  # after the command's own options
sensitivity.params[_AT:_AT] = run_options("replications", "seed", "jobs", "backend", "scheduler",
                                          "policies", "quiet", changes=_OPTIONS)
