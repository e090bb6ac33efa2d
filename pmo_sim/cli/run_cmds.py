"""``pmo-sim run`` and ``pmo-sim compare``: parse, call the experiment API, print.

Output goes to stdout in the chosen ``--format`` (tables for people, SPEC 6.1 JSON or CSV for
programs); everything else (progress bar, warnings, where the results are, how to resume) goes
to stderr, so ``--format json`` output can be piped as is. Exit codes (SPEC 6.1): 0 success,
1 failure during a run, 2 usage error or invalid input, 130 interrupted.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import handles_errors, parse_sets, set_option
from pmo_sim.cli.output import compact, console, emit_json, log_to_stderr, plain, progress_bar, records
from pmo_sim.scenario.names import safe_slug

if TYPE_CHECKING:

    from pmo_sim.experiment import Results

BACKEND_CHOICES = ("local", "dask", "serial")
SPEC_COMPARE_KEYS = ("policy", "metric", "diff_mean", "ci_low", "ci_high", "p_value", "p_adjusted",
                     "better")


# --------------------------------------------------------------------------- printing


def _print_summary(res: Results, metrics: Sequence[str]) -> None:
    from rich.table import Table

    from pmo_sim.analysis.metrics import metric_info

    summary = res.summary(list(metrics))
    table = Table(title=f"{res.manifest.get('scenario')}: mean [95% CI] per policy")
    table.add_column("policy", style="bold")
    table.add_column("n", justify="right")
    for m in metrics:
        table.add_column(metric_info(m).label, justify="right")
    for policy, rows in summary.groupby("policy", sort=False):
        by_metric = {r["metric"]: r for r in rows.to_dict("records")}
        cells = [f"{compact(by_metric[m]['mean'])}\n[{compact(by_metric[m]['ci_low'])}, "
                 f"{compact(by_metric[m]['ci_high'])}]" for m in metrics]
        table.add_row(str(policy), str(int(rows["n"].max())), *cells)
    console().print(table)


def _print_comparison(res: Results, baseline: str, metrics: Sequence[str], delta: float | None,
                      best_metric: str) -> None:
    from rich.table import Table

    from pmo_sim.analysis.compare import verdict_text

    comparison = res.compare(baseline=baseline, metrics=list(metrics))
    selection = res.select_best(metric=best_metric, delta=delta)
    if len(comparison):
        table = Table(title=f"difference to '{baseline}' (paired, 95% CI)")
        for col in ("policy", "metric", "diff_mean", "ci_low", "ci_high", "p_adjusted", "better"):
            table.add_column(col, justify="left" if col in ("policy", "metric") else "right")
        for row in comparison.to_dict("records"):
            better = plain(row["better"])
            table.add_row(str(row["policy"]), str(row["metric"]), compact(row["diff_mean"]),
                          compact(row["ci_low"]), compact(row["ci_high"]), compact(row["p_adjusted"]),
                          "-" if better is None else ("yes" if better else "no"))
        console().print(table)
    click.echo(verdict_text(comparison, selection))


def _command_line(scenario: str, params: dict[str, Any], out: Path) -> str:
    """The run as a command line (recorded in the manifest, the base of the resume hint)."""
    words = ["pmo-sim", "run", scenario, "-n", str(params["replications"]), "--seed",
             str(params["seed"]), "--backend", params["backend"]]
    if params["jobs"]:
        words += ["-j", str(params["jobs"])]
    if params["scheduler"]:
        words += ["--scheduler", params["scheduler"]]
    for p in params["policies"]:
        words += ["--policy", p]
    for s in params["sets"]:
        words += ["--set", s]
    if params["precision"] is not None:
        words += ["--precision", str(params["precision"]), "--metric", params["metric"]]
        if params["max_replications"]:
            words += ["--max-replications", str(params["max_replications"])]
        if params["paired"]:
            words.append("--paired")
    if params["chunk_size"]:
        words += ["--chunk-size", str(params["chunk_size"])]
    return shlex.join([*words, "--out", str(out)])


# --------------------------------------------------------------------------- run


@main.command(epilog="""\b
Examples:
  pmo-sim run scenarios/baseline.yaml -n 200 -j 4
  pmo-sim run baseline.yaml --policy baseline --policy focused --set resources.developers.headcount=15
  pmo-sim run baseline.yaml --precision 0.02 --metric npv --max-replications 2000
  pmo-sim run baseline.yaml --backend dask --scheduler tcp://scheduler-host:8786
  pmo-sim run baseline.yaml --out results/base --resume     # continue an interrupted run
  pmo-sim run baseline.yaml --format json --quiet > run.json
""")
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("-n", "--replications", type=click.IntRange(min=1), default=100, show_default=True,
              help="Replications per policy (with --resume: as recorded).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Root seed.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes [default: CPU count].")
@click.option("--backend", type=click.Choice(BACKEND_CHOICES), default="local", show_default=True,
              help="local: process pool; dask: Dask distributed; serial: in this process.")
@click.option("--scheduler", metavar="ADDRESS", help="A running Dask scheduler (with --backend dask).")
@click.option("--policy", "policies", multiple=True, metavar="NAME",
              help="Policy to run (repeatable) [default: all].")
@set_option
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Results folder [default: results/<scenario>-<timestamp>].")
@click.option("--precision", type=click.FloatRange(min=0, min_open=True), default=None, metavar="REL",
              help="Add replications until the 95% CI half-width of --metric is <= REL x |mean|.")
@click.option("--metric", default="npv", show_default=True, help="KPI for --precision and the verdict.")
@click.option("--max-replications", type=click.IntRange(min=1), default=None,
              help="Cap for --precision [default: 10 x --replications].")
@click.option("--paired", is_flag=True, help="--precision on paired differences to the first policy.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@click.option("--force", is_flag=True, help="Overwrite an existing results folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, hidden=True)
@handles_errors
def run(scenario: str, replications: int, seed: int, jobs: int | None, backend: str,
        scheduler: str | None, policies: tuple[str, ...], sets: tuple[str, ...], out: str | None,
        precision: float | None, metric: str, max_replications: int | None, paired: bool,
        resume: bool, force: bool, fmt: str, quiet: bool, chunk_size: int | None) -> None:
    """Monte Carlo: run every policy x replications of SCENARIO on common random numbers.

    Writes a results folder (manifest, scenario, Parquet tables, summary.csv) as chunks
    finish, then prints the summary, the comparison against the first policy and the
    best-policy verdict. Ctrl+C keeps what is finished; --resume continues it.
    """
    from pmo_sim.experiment import run_experiment
    from pmo_sim.experiment.runner import RunInterrupted
    from pmo_sim.scenario.loader import load_scenario

    log_to_stderr()
    sc = load_scenario(scenario, parse_sets(sets) or None)
    ctx = click.get_current_context()
    explicit_n = ctx.get_parameter_source("replications") != click.core.ParameterSource.DEFAULT
    if out is None and not resume:
        out = str(Path("results") / f"{safe_slug(sc.name)}-{datetime.now():%Y%m%d-%H%M%S}")
    params = dict(ctx.params)
    command = _command_line(scenario, params, Path(out)) if out else None
    show_bar = not quiet and sys.stderr.isatty()
    try:
        with progress_bar(show_bar) as progress:
            res = run_experiment(
                sc, replications=replications if (explicit_n or not resume) else None, seed=seed,
                jobs=jobs, backend=backend, scheduler=scheduler, policies=list(policies) or None,
                out=out, resume=resume, force=force, progress=progress, precision=precision,
                metric=metric, max_replications=max_replications, paired=paired,
                command=command, chunk_size=chunk_size)
    except RunInterrupted as exc:
        click.echo(str(exc), err=True)
        sys.exit(130)

    if fmt == "json":
        from pmo_sim.analysis.stats import SUMMARY_COLUMNS

        emit_json({"results": str(res.path) if res.path else None,
                    "summary": records(res.summary(), SUMMARY_COLUMNS)})
        return
    if fmt == "csv":
        click.echo(res.summary().to_csv(index=False), nl=False)
        return
    from pmo_sim.analysis.metrics import HEADLINE_METRICS

    headline = list(dict.fromkeys([*HEADLINE_METRICS, metric]))
    _print_summary(res, headline)
    if len(res.policies) > 1:
        _print_comparison(res, res.policies[0], headline, None, metric)
    spec = res.manifest.get("precision")
    if spec:
        state = "met" if spec.get("target_met") else "NOT met"
        click.echo(f"precision target {spec['rel']} on {spec['metric']}: {state} with "
                   f"{spec.get('replications_needed')} replications")
    click.echo(f"results: {res.path}")


# --------------------------------------------------------------------------- compare


@main.command(epilog="""\b
Examples:
  pmo-sim compare results/baseline-20250101-120000
  pmo-sim compare results/x --baseline focused --metric npv --metric on_time_rate
  pmo-sim compare results/x --metric npv --delta 50000 --format json
""")
@click.argument("results", type=click.Path())
@click.option("--baseline", metavar="NAME", help="Policy to compare against [default: the first].")
@click.option("--metric", "metrics", multiple=True, metavar="M",
              help="KPI to compare (repeatable) [default: the headline KPIs]; the first one "
                   "decides the best policy.")
@click.option("--delta", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Smallest difference worth detecting, in the metric's unit (best-policy selection).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@handles_errors
def compare(results: str, baseline: str | None, metrics: tuple[str, ...], delta: float | None,
            fmt: str) -> None:
    """Paired comparison of the policies in RESULTS against a baseline, with a verdict.

    Differences are taken replication by replication (common random numbers), with 95%
    confidence intervals and multiplicity-adjusted p-values; the best policy on the first
    metric is selected with an indifference zone --delta.
    """
    from pmo_sim.analysis.metrics import HEADLINE_METRICS
    from pmo_sim.experiment import load_results

    log_to_stderr()
    res = load_results(results)
    if res.manifest.get("status") != "complete":
        click.echo(f"warning: {results} is a partial run; comparing what is finished", err=True)
    chosen = list(metrics) or ["npv", *[m for m in HEADLINE_METRICS if m != "npv"]]
    base = res.resolve_baseline(baseline)
    if fmt == "json":
        comparison = res.compare(baseline=base, metrics=chosen)
        sel = res.select_best(metric=chosen[0], delta=delta)
        emit_json({"baseline": base, "rows": records(comparison, SPEC_COMPARE_KEYS),
                    "best": {"metric": sel.metric, "policy": sel.policy, "method": sel.method,
                             "confident": bool(sel.confident)}})
        return
    _print_comparison(res, base, chosen, delta, chosen[0])
