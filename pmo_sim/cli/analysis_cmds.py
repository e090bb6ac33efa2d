"""``pmo-sim trace``, ``roi`` and ``sweep``: look inside one replication, price a programme,
and move one or several parameters.

Thin like the rest of the CLI: the work is in :mod:`pmo_sim.experiment.single`,
:mod:`pmo_sim.experiment.roi`, :mod:`pmo_sim.experiment.sweep` and :mod:`pmo_sim.analysis.plots`.
The experiment options (``-n``, ``--seed``, ``-j``, ``--backend``, ``--scheduler``,
``--policy``) are ``run``'s own option objects, so they read and behave the same everywhere.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import (
    OutPath,
    Whole,
    default_folder,
    force_option,
    handles_errors,
    no_empty_folder_left,
    output_folder,
    parse_sets,
    refuse_clearing_the_scenario,
    refuse_replacing,
    run_study,
    save_outputs,
    set_option,
    study_options,
)
from pmo_sim.cli.output import (
    Col,
    callback,
    compact,
    console,
    emit_json,
    log_to_stderr,
    plain,
    print_table,
    progress_bar,
    say,
)
from pmo_sim.cli.run_cmds import run_options
from pmo_sim.errors import printable
from pmo_sim.scenario.names import safe_slug


def _share(command: click.Command, *names: str, **help_texts: str) -> None:
    # After the SCENARIO argument, before the command's own options.
    command.params[1:1] = run_options(*names, changes={n: (h, None) for n, h in help_texts.items()})


_EXPERIMENT = ("replications", "seed", "jobs", "backend", "scheduler")
_N_HELP = "Replications per policy (paired across policies)."


# --------------------------------------------------------------------------- trace


@main.command(epilog="""\b
Examples:
  pmo-sim trace scenarios/training.yaml --policy upskill --replication 3
  pmo-sim trace baseline.yaml --policy focused --replication 0 --seed 7 --out results/look
  pmo-sim trace baseline.yaml --policy focused --replication 0 --format csv > tasks.csv
""")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--policy", required=True, metavar="NAME", help="Policy to simulate.")
@click.option("--replication", type=Whole(min=0), required=True, metavar="R",
              help="Replication number (the same random world as replication R of `run`).")
@set_option
@click.option("--out", type=OutPath(file_okay=False), default=None,
              help="Folder for the task log and the chart [default: results/<scenario>-trace].")
@force_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table",
              show_default=True,
              help="table: the KPIs; csv: the task log on stdout (the files are written either way).")
@handles_errors
def trace(scenario: str, policy: str, replication: int, seed: int, sets: tuple[str, ...],
          out: str | None, force: bool, fmt: str) -> None:
    """One replication of one policy, with its task log: who did what when.

    Writes OUT/trace-<policy>-r<R>.csv (one row per task: project, task, pool, ready, start,
    finish, effort, crew, people) and OUT/trace-<policy>-r<R>.png, a Gantt chart with one
    row per person grouped by pool, bars coloured by project (by template when there are
    many) with a legend, and people who left marked; prints the replication's KPIs. With
    the same --seed, replication R is exactly replication R of `pmo-sim run`.
    """
    from pmo_sim.analysis.plots import gantt
    from pmo_sim.experiment.single import simulate
    from pmo_sim.scenario.loader import load_scenario

    sc = load_scenario(scenario, parse_sets(sets) or None)
    default = default_folder(sc.name, "trace")
    stem = (Path(out) if out else default) / f"trace-{safe_slug(policy, 'policy')}-r{replication}"
    refuse_replacing([stem.with_suffix(".csv"), stem.with_suffix(".png")], force, inputs=(scenario,))
    one = simulate(sc, policy=policy, seed=seed, replication=replication)
    with no_empty_folder_left(stem.parent):
        output_folder(out, default)
        start = sc.calendar.start_date if sc.calendar is not None else None
        save_outputs(one.tasks, stem.with_suffix(".csv"),
                     gantt(one.tasks, projects=one.projects, start_date=start), stem.with_suffix(".png"))
    if fmt == "csv":
        click.echo(one.tasks.to_csv(index=False), nl=False)
    else:
        from pmo_sim.analysis import format as number
        from pmo_sim.analysis.metrics import metric_info

        rows = [[metric_info(str(name)).label,
                 number.value(value, metric_info(str(name)).unit, sc.currency)]
                for name, value in one.kpis.items()]
        print_table(f"{sc.name}: policy {policy}, replication {replication}, seed {seed}",
                    [Col("KPI", "left"), Col("value")], rows)
    click.echo(f"task log: {printable(str(stem.with_suffix('.csv')))}\n"
               f"Gantt chart: {printable(str(stem.with_suffix('.png')))}", err=fmt == "csv")


_share(trace, "seed")


# --------------------------------------------------------------------------- roi


@main.command(epilog="""\b
Definitions (per replication, P minus the baseline, common random numbers):
  investment = extra training_cost + technology_cost + pmo_cost
  benefit    = extra value_delivered - extra labour_cost
  ROI %      = 100 x (benefit - investment) / investment;  BCR = benefit / investment
  --basis cash (default): undiscounted amounts over the horizon;
  --basis npv: present values; benefit - investment is then exactly the NPV difference
  payback    = first day on which cumulative benefit >= investment (see the README)

\b
Examples:
  pmo-sim roi scenarios/training.yaml --policy upskill --programme dev-course -n 200
  pmo-sim roi scenarios/training.yaml --policy new_tool --against no_training --basis npv
  pmo-sim roi training.yaml --policy upskill --programme dev-course --out results/course
  pmo-sim roi training.yaml --policy upskill --programme dev-course --format json
  pmo-sim roi training.yaml --policy upskill --programme dev-course --format csv > roi.csv
""")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--policy", required=True, metavar="P", help="The policy that spends.")
@click.option("--programme", metavar="NAME", help="Price this training programme of P "
              "(P as is against P without it) [default, without --against: P's only programme].")
@click.option("--against", metavar="Q", help="Price P's extra spend over policy Q.")
@click.option("--basis", type=click.Choice(["cash", "npv"]), default="cash", show_default=True,
              help="cash: undiscounted over the horizon; npv: present values at day 0.")
@set_option
@click.option("--out", type=OutPath(file_okay=False), default=None,
              help="Write the paired runs as a results folder, with roi.json, roi.csv and "
                   "roi.png (then: pmo-sim report OUT).")
@click.option("--force", is_flag=True, help="Overwrite an existing --out folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True, help="json: the document; csv: one row per paired replication "
                                      "(as roi.csv).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handles_errors
def roi(scenario: str, policy: str, programme: str | None, against: str | None, basis: str,
        replications: int, seed: int, jobs: int | None, backend: str, scheduler: str | None,
        sets: tuple[str, ...], out: str | None, force: bool, fmt: str, quiet: bool) -> None:
    """Return on investment of a training programme (--programme) or of a policy (--against).

    Both policies run on the same random worlds, so each replication gives a paired
    investment, benefit, ROI and benefit-cost ratio (BCR). Prints the answer in plain words
    and where the benefit comes from (value gained, labour difference, capacity lost to
    training, training fees and other costs), each with a 95% CI; the chance that it pays
    (P(ROI > 0)) and the median payback day.
    """

    from pmo_sim.analysis.roi import ROI_JSON
    from pmo_sim.experiment.roi import ROI_CSV, ROI_FIGURE
    from pmo_sim.experiment.roi import roi as roi_study
    from pmo_sim.scenario.loader import load_scenario

    if programme is not None and against is not None:  # neither: P's only programme
        raise click.UsageError("give exactly one of --programme NAME and --against Q")
    log_to_stderr()
    sc = load_scenario(scenario, parse_sets(sets) or None)
    if out is not None and force:
        refuse_clearing_the_scenario(Path(scenario), Path(out), also=(ROI_JSON, ROI_CSV, ROI_FIGURE))
    with progress_bar(not quiet and sys.stderr.isatty()) as view:
        result = roi_study(sc, policy, programme=programme, against=against, basis=basis,
                           replications=replications, seed=seed, jobs=jobs, backend=backend,
                           scheduler=scheduler, out=out, force=force, progress=callback(view),
                           command=shlex.join(sys.argv) if out else None)
    if fmt == "json":
        document = result.to_json()
        document.pop("question")
        emit_json(document)
        return
    if fmt == "csv":
        click.echo(result.table.to_csv(index=False), nl=False)
        return
    _print_roi(result, sc.name)
    if out:
        say(f"results: {out} (roi.json, roi.csv, roi.png)")
        say(f"next: pmo-sim report {out}   (an HTML report to share)")


def _print_roi(result: Any, scenario: str) -> None:
    from pmo_sim.analysis import format as number

    q, doc = result.question, result.document
    basis = "cash, undiscounted" if q.basis == "cash" else "present values"
    say(f"{scenario}: {doc['replications']} paired replications of {q.policy} and "
        f"{q.baseline}, seed {doc['seed']}, {basis}, money in {q.currency}", style="dim")
    say(doc["verdict"], style="bold")
    rows = [[row["label"], number.value(row["mean"], row["unit"], q.currency),
             number.value_range(row["ci_low"], row["ci_high"], row["unit"], q.currency)]
            for row in doc["breakdown"]]
    rows.append(["P(ROI > 0)", f"{doc['p_positive']:.0%}", ""])
    payback = number.finite(doc["payback_day_median"])
    rows.append(["payback day (median)", "not within the horizon" if payback is None
                 else f"day {payback:,.0f}", f"{doc['payback_share']:.0%} pay back"])
    print_table("Where the return comes from (mean per replication, 95% CI)",
                [Col("", "left"), Col("mean"), Col("95% CI", priority=1)], rows)


_share(roi, *_EXPERIMENT, replications=_N_HELP)


# --------------------------------------------------------------------------- sweep


@main.command(epilog="""\b
Examples:
  pmo-sim sweep scenarios/baseline.yaml --vary resources.developers.headcount=6,8,10,12
  pmo-sim sweep baseline.yaml --vary resources.developers.headcount=6:12:4 --metric mean_cycle_time
  pmo-sim sweep baseline.yaml --vary resources.developers.headcount=6,8 --vary resources.testers.headcount=2,3
  pmo-sim sweep baseline.yaml --vary pmo.resource_manager.wip_limit=2,4,8 --policy baseline
  pmo-sim sweep baseline.yaml --vary pmo.resource_manager.allocation=fifo,edd,wsjf --format csv
""")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--vary", "varies", required=True, multiple=True,
              metavar="PATH=V1,V2,...|PATH=low:high:steps",
              help="A field to vary (any --set path) and its values: a list, or `steps` evenly "
                   "spaced values from low to high (integers for integer fields). Repeat for a "
                   "full grid of several fields.")
@click.option("--metric", default="npv", show_default=True, metavar="M", help="KPI to summarise.")
@set_option
@click.option("--out", type=OutPath(file_okay=False), default=None,
              help="Folder for sweep.csv and sweep.png [default: results/<scenario file stem>-sweep].")
@force_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@handles_errors
def sweep(scenario: str, varies: tuple[str, ...], metric: str, replications: int, seed: int,
          jobs: int | None, backend: str, scheduler: str | None, policies: tuple[str, ...],
          sets: tuple[str, ...], quiet: bool, out: str | None, force: bool, fmt: str) -> None:
    """Run every policy (or --policy ones) at every combination of the --vary values.

    Every point and policy runs on the same seed (common random numbers), so the results
    differ by the parameters, not by sampling noise. Prints the mean of --metric with its
    95% CI per point and policy, and writes OUT/sweep.csv (a column per varied field, then
    policy, metric, mean, ci_low, ci_high, n) and OUT/sweep.png: for one field the metric
    against its value, one line per policy with CIs; for two a heat map per policy; for
    more, heat maps of the first two fields in small multiples of the others.
    """
    from pmo_sim.analysis.plots import sweep_figure
    from pmo_sim.experiment.sweep import RESULT_COLUMNS, axes_of, parse_vary
    from pmo_sim.experiment.sweep import sweep as run_sweep

    axes = axes_of([parse_vary(v) for v in varies], None)
    options = study_options(replications, seed, jobs, backend, scheduler, policies)
    table, currency, csv, png = run_study(
        scenario, sets, out, "sweep", quiet, force,
        lambda overrides, progress, ready: run_sweep(scenario, axes, metric=metric, sets=overrides,
                                                     progress=progress, ready=ready, **options),
        sweep_figure)
    if fmt == "json":
        columns = [*axes, *RESULT_COLUMNS]
        emit_json({"parameters": list(axes), "metric": metric, "results": str(csv.parent),
                   "rows": [{c: plain(row[c]) for c in columns} for row in table.to_dict("records")]})
        return
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
        return
    _print_sweep(table, list(axes), metric)
    click.echo(f"results: {printable(str(csv))}, {printable(str(png))}")


def _print_sweep(table: Any, params: list[str], metric: str) -> None:
    from rich.table import Table

    from pmo_sim.analysis.metrics import metric_info

    out = Table(title=f"{metric_info(metric).label} against {', '.join(params)}: mean [95% CI]")
    for param in params:
        out.add_column(param, overflow="fold")
    policies = list(dict.fromkeys(table["policy"]))
    for policy in policies:
        out.add_column(str(policy), justify="right")
    for point, rows in table.groupby(params, sort=False):
        by_policy = {r["policy"]: r for r in rows.to_dict("records")}
        cells = [f"{compact(by_policy[p]['mean'])} [{compact(by_policy[p]['ci_low'])}, "
                 f"{compact(by_policy[p]['ci_high'])}]" for p in policies]
        out.add_row(*[str(v) for v in (point if isinstance(point, tuple) else (point,))], *cells)
    console().print(out)


_share(sweep, *_EXPERIMENT, "policies", "quiet", replications=_N_HELP)
