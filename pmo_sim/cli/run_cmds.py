"""``pmo-sim run`` and ``pmo-sim compare``: parse, call the experiment API, print.

Output goes to stdout in the chosen ``--format`` (tables for people, SPEC 6.1 JSON or CSV for
programs); everything else (progress bar, warnings, where the results are, how to resume) goes
to stderr, so ``--format json`` output can be piped as is. Exit codes (SPEC 6.1): 0 success,
1 failure during a run, 2 usage error or invalid input, 130 interrupted.
"""

from __future__ import annotations

import copy
import math
import shlex
import sys
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import (
    Finite,
    OutPath,
    Whole,
    handles_errors,
    max_events_option,
    parse_sets,
    refuse_clearing_the_scenario,
    set_option,
)
from pmo_sim.cli.output import callback, emit_json, log_to_stderr, progress_bar, records, say
from pmo_sim.errors import UsageError, printable
from pmo_sim.files import create_folder, remove_empty_folders
from pmo_sim.scenario.names import safe_slug

if TYPE_CHECKING:

    from pmo_sim.experiment import Results
    from pmo_sim.experiment.headstart import HeadStart
    from pmo_sim.scenario.models import Scenario

BACKEND_CHOICES = ("local", "dask", "serial")
#: Exit code of a run whose --precision target was not met within --max-replications.
EXIT_PRECISION_NOT_MET = 3


# --------------------------------------------------------------------------- printing


def _print_decision(res: Results, baseline: str, metrics: list[str], delta: float | None,
                    verbose: bool, summary: bool) -> None:
    """Verdict, summary (``run``), differences, detail under --verbose, and the next step."""
    from pmo_sim.cli.decision import (
        currency_of,
        decide,
        print_comparison_detail,
        print_differences,
        print_summary,
        print_verdict,
    )

    res = res.with_kpis(metrics)  # the verdict reads these KPIs, not all of them
    currency = currency_of(res)
    n = res.replications["replication"].nunique() if len(res.replications) else 0
    say(f"{res.manifest.get('scenario')}: {len(res.policies)} "
        f"polic{'ies' if len(res.policies) != 1 else 'y'} x {n} replication{'s' if n != 1 else ''}, seed "
        f"{res.manifest.get('seed')}" + (f", money in {currency}" if currency else ""), style="dim")
    if len(res.policies) > 1:
        comparison, verdict = decide(res, baseline, metrics, delta, currency)
        print_verdict(verdict, verbose)
    elif not summary:  # compare of one policy: say so, as its --format json and the report do
        print_verdict(decide(res, baseline, metrics, delta, currency)[1], verbose)
    if summary:
        print_summary(res, metrics, currency)
    if len(res.policies) > 1:
        print_differences(comparison, baseline, metrics, currency)
        if verbose:
            print_comparison_detail(comparison, currency)


def _headline(metric: str) -> list[str]:
    """The KPIs a run's verdict and summary show: ``metric``, then the headline ones."""
    from pmo_sim.analysis.metrics import HEADLINE_METRICS

    return list(dict.fromkeys([metric, *HEADLINE_METRICS]))


def _precision_outcome(res: Results) -> tuple[str, bool] | None:
    """The --precision outcome in words, and whether the target was met (None: no target)."""
    spec = res.manifest.get("precision")
    if not spec:
        return None
    # NOTE: the KPI's label from the schema, not pmo_sim.analysis (whose package imports
    # pandas): a --format csv run prints this without a verdict.
    from pmo_sim.experiment.spec import MAX_REPLICATIONS
    from pmo_sim.schema import kpi_info

    n = int(res.manifest.get("replications") or 0)
    label = kpi_info(str(spec["metric"])).label
    what = "paired difference" if spec.get("paired") else "mean"
    reached = spec.get("half_width_rel")
    target = float(spec["rel"])
    if spec.get("target_met"):
        return (f"precision target met: the 95% half-width of every policy's {label} {what} is "
                f"within {_percent(target)} of it ({n:,} replications)", True)
    if reached is None:
        return (f"precision target NOT met: after {n:,} replications the half-width of {label} "
                f"is still undefined (a mean of zero, or too few values)", False)
    # Half-widths shrink as 1/sqrt(n). A tiny target (--precision 1e-300) made the square
    # overflow (a traceback after the run), and a need past the replications a run may have
    # was suggested as a --max-replications that would be refused.
    ratio = float(reached) / target
    needed = math.ceil(ratio ** 2 * n) if ratio < math.sqrt(MAX_REPLICATIONS) else MAX_REPLICATIONS + 1
    if needed > MAX_REPLICATIONS:
        more = (f"more than the {MAX_REPLICATIONS:,} replications a run may have would be "
                f"needed: aim for a wider --precision")
    else:
        more = f"about {needed:,} replications would be needed (--max-replications {needed})"
    return (f"precision target NOT met: after {n:,} replications (the --max-replications cap) "
            f"the widest 95% half-width of {label} is {float(reached):.2%} of its {what}, "
            f"target {_percent(target)}; {more}", False)


#: How long a run that failed or was interrupted waits for its imports meanwhile.
WARM_JOIN_SECONDS = 3.0


def _fresh_folder(base: Path) -> list[Path]:
    """A new, empty folder named ``base`` (``-2``, ``-3``... added if it is taken), created, and
    its parent if this made it (the folders to remove if the run is refused):
    the default ``--out`` of runs started in the same second (a script starting several) was
    the same folder, and all but the first were refused, or, checked at the same instant,
    wrote into it together."""
    made = [] if base.parent.is_dir() else [base.parent]
    create_folder(base.parent)
    for i in range(1, 1000):
        candidate = base if i == 1 else base.with_name(f"{base.name}-{i}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return [candidate, *made]
    raise UsageError(f"{base} and 998 folders named after it exist already; give --out")


def _percent(x: float) -> str:
    """``x`` as a percentage, a tiny one not shown as 0.00%."""
    return f"{x:.2%}" if x >= 1e-4 else f"{x * 100:.3g}%"


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
@click.option("-n", "--replications", type=Whole(min=1), default=100, show_default=True,
              help="Replications per policy (with --resume: as recorded).")
@click.option("--seed", type=Whole(min=0), default=0, show_default=True, help="Root seed.")
@click.option("-j", "--jobs", type=Whole(min=1), default=None,
              help="Worker processes [default: CPU count].")
@click.option("--backend", type=click.Choice(BACKEND_CHOICES), default="local", show_default=True,
              help="local: process pool; dask: Dask distributed; serial: in this process.")
@click.option("--scheduler", metavar="ADDRESS", help="A running Dask scheduler (with --backend dask).")
@click.option("--policy", "policies", multiple=True, metavar="NAME",
              help="Policy to run (repeatable) [default: all].")
@set_option
@max_events_option
@click.option("--out", type=OutPath(file_okay=False), default=None,
              help="Results folder [default: results/<scenario>-<timestamp>].")
@click.option("--precision", type=Finite(min=0, min_open=True), default=None, metavar="REL",
              help="Add replications until the 95% CI half-width of --metric is <= REL x |mean|.")
@click.option("--metric", default="npv", show_default=True, metavar="M",
              help="KPI for --precision and the verdict.")
@click.option("--max-replications", type=Whole(min=1), default=None,
              help="Cap for --precision [default: 10 x --replications, at most 10,000,000].")
@click.option("--paired", is_flag=True, help="--precision on paired differences to the first policy.")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@click.option("--force", is_flag=True, help="Overwrite an existing results folder.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also print every comparison with its p-value, and the selection method.")
@click.option("--chunk-size", type=Whole(min=1), default=None, hidden=True)
@handles_errors
def run(scenario: str, replications: int, seed: int, jobs: int | None, backend: str,
        scheduler: str | None, policies: tuple[str, ...], sets: tuple[str, ...],
        max_events: float, out: str | None, precision: float | None, metric: str,
        max_replications: int | None, paired: bool, resume: bool, force: bool, fmt: str,
        quiet: bool, verbose: bool, chunk_size: int | None) -> None:
    """Monte Carlo: run every policy x replications of SCENARIO on common random numbers.

    Writes a results folder (manifest, scenario, Parquet tables, summary.csv) as chunks
    finish, then prints the verdict in plain words, the mean of the headline KPIs per policy
    and the paired differences to the first policy. Ctrl+C keeps what is finished; --resume
    continues it. Exit code 3: the --precision target was not met within --max-replications
    (the message says what was reached and how many replications it would take). A scenario
    expected to exceed --max-events per replication is refused (exit 2); a replication that
    runs past twice that is stopped (exit 1, naming its policy, replication and seed).
    """
    from pmo_sim.experiment.workers import start_early

    start_early(backend, jobs)  # the workers' fork server starts while the scenario is read
    from pmo_sim.scenario.loader import load_scenario

    log_to_stderr()
    sc = load_scenario(scenario, parse_sets(sets) or None, max_events=max_events)
    from pmo_sim.experiment.headstart import head_start

    # The first chunks go to the workers now; the results machinery is imported and the
    # folder made while they run (pmo_sim.experiment.headstart).
    early = None if resume else head_start(
        sc, replications=replications, seed=seed, policies=policies, jobs=jobs, backend=backend,
        chunk_size=chunk_size, max_events=max_events)
    try:
        claimed = None
        if out is None and not resume:
            claimed = _fresh_folder(Path("results") / f"{safe_slug(sc.name)}-{datetime.now():%Y%m%d-%H%M%S}")
            out = str(claimed[0])
        if out is not None and force:
            refuse_clearing_the_scenario(Path(scenario), Path(out))
        _run_and_tell(sc, claimed, early, **{**click.get_current_context().params, "out": out})
    finally:
        if early is not None:
            early.discard()  # unless the run took it over: refused or interrupted before


def _run_and_tell(sc: Scenario, claimed: list[Path] | None, early: HeadStart | None, *,
                  scenario: str, out: str | None, replications: int, seed: int,
                  jobs: int | None, backend: str, scheduler: str | None,
                  policies: tuple[str, ...], max_events: float, precision: float | None,
                  metric: str, max_replications: int | None, paired: bool, resume: bool,
                  force: bool, fmt: str, quiet: bool, verbose: bool, chunk_size: int | None,
                  **_: Any) -> None:
    """``run`` once its scenario is read and its folder named: the run, then the verdict."""
    from pmo_sim.experiment import run_experiment
    from pmo_sim.experiment.kept import RunInterrupted
    from pmo_sim.experiment.workers import import_meanwhile

    ctx = click.get_current_context()
    explicit_n = ctx.get_parameter_source("replications") != click.core.ParameterSource.DEFAULT
    params = dict(ctx.params)
    command = _command_line(scenario, params, Path(out)) if out else None
    show_bar = not quiet and sys.stderr.isatty()
    # The verdict's modules (pandas, the analysis), imported while the workers run. It does
    # not raise the command's peak memory: the verdict imports them after the run anyway, and
    # holds more then (its tables) than the run does. --format csv prints no verdict, and
    # never imports them. Started once the workers have their first chunks, not before: a
    # thread importing holds the interpreter's lock half the time, and the folder's set-up and
    # the pool's start, on the way to the first chunk, took 0.05-0.1 s longer beside it.
    warming: list[threading.Thread] = []

    def warm() -> None:
        warming.append(import_meanwhile(["pmo_sim.cli.decision"]))
    try:
        with progress_bar(show_bar) as view:
            res = run_experiment(
                sc, replications=replications if (explicit_n or not resume) else None, seed=seed,
                jobs=jobs, backend=backend, scheduler=scheduler, policies=list(policies) or None,
                out=out, resume=resume, force=force, progress=callback(view), precision=precision,
                metric=metric, max_replications=max_replications, paired=paired,
                command=command, chunk_size=chunk_size, max_events=max_events,
                meanwhile=None if fmt == "csv" else warm, head_start=early,
                precision_report=(lambda hw, _n: view.precision(hw, precision or 0.0, metric))
                if view is not None and precision is not None else None)
    except RunInterrupted as exc:
        click.echo(str(exc), err=True)
        sys.exit(130)
    except BaseException:
        if claimed is not None:  # refused before anything was written: the folder goes
            remove_empty_folders(claimed)
        raise
    finally:
        # No import left half-done by another thread (a quick exit). Bounded when the run
        # failed or was interrupted: a Ctrl+C that lands in the interpreter's own import code
        # can leave its import lock held, and the thread waiting for it forever (the command
        # hung after 'interrupted': 1 in ~150 runs of `run -j 2` sent SIGINT at random).
        for thread in warming:
            thread.join(timeout=None if sys.exc_info()[0] is None else WARM_JOIN_SECONDS)

    outcome = _precision_outcome(res)
    if fmt == "csv":
        # summary.csv's text, a few KPIs at a time; no verdict, so no pandas (pmo_sim.analysis)
        click.echo(res.summary_text(), nl=False)
    elif fmt == "json":
        _emit_run_json(res, _headline(metric))
    else:
        from pmo_sim.cli.decision import print_next

        _print_decision(res, res.policies[0], _headline(metric), None, verbose, summary=True)
        if outcome is not None:
            say(outcome[0], style=None if outcome[1] else "bold yellow")
        print_next(res.path, verbose)
    if outcome is not None and not outcome[1]:
        if fmt != "table":
            click.echo(outcome[0], err=True)
        sys.exit(EXIT_PRECISION_NOT_MET)


def _emit_run_json(res: Results, metrics: list[str]) -> None:
    """SPEC 6.1's ``run`` document, plus ``compare`` (the ``compare`` document) with several
    policies and ``precision`` (the manifest's record) for a --precision run."""
    from pmo_sim.analysis.stats import SUMMARY_COLUMNS
    from pmo_sim.cli.decision import compare_document, currency_of

    # Every KPI's summary as summary.csv computes it (a few KPIs at a time), the comparison
    # from the KPIs it shows: never every KPI of every replication in memory at once.
    document: dict[str, Any] = {"results": str(res.path) if res.path else None,
                                "summary": records(res.summary(), SUMMARY_COLUMNS)}
    if len(res.policies) > 1:
        document["compare"] = compare_document(res.with_kpis(metrics), res.policies[0], metrics,
                                               None, currency_of(res))
    if res.manifest.get("precision"):
        document["precision"] = res.manifest["precision"]
    emit_json(document)


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
@click.option("--delta", type=Finite(min=0, min_open=True), default=None,
              help="Smallest difference worth detecting, in the metric's unit (best-policy selection).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("-v", "--verbose", is_flag=True,
              help="Also print every comparison with its p-value, and the selection method.")
@handles_errors
def compare(results: str, baseline: str | None, metrics: tuple[str, ...], delta: float | None,
            fmt: str, verbose: bool) -> None:
    """Paired comparison of the policies in RESULTS against a baseline, with a verdict.

    Differences are taken replication by replication (common random numbers), with 95%
    confidence intervals and multiplicity-adjusted p-values; the verdict on the first metric
    says which policy to choose, by how much, and which policies are practically tied
    (closer than --delta, default 1% of the best mean).
    """
    from pmo_sim.analysis.compare import check_delta
    from pmo_sim.analysis.metrics import HEADLINE_METRICS
    from pmo_sim.analysis.verdict import require_directional
    from pmo_sim.cli.decision import compare_document, currency_of, print_next
    from pmo_sim.experiment import load_results

    log_to_stderr()
    chosen = list(metrics) or ["npv", *[m for m in HEADLINE_METRICS if m != "npv"]]
    res = load_results(results).with_kpis(chosen)
    if res.manifest.get("status") != "complete":
        click.echo(f"warning: {printable(str(results))} is a partial run; comparing what is finished",
                   err=True)
    res.require_replications("compare")
    base = res.resolve_baseline(baseline)
    res.summary(chosen)  # unknown metrics are refused here, before anything is printed
    require_directional(chosen[0])
    if delta is not None:  # and a delta out of range (it was refused after the header line)
        check_delta(delta)
    if fmt == "json":
        emit_json(compare_document(res, base, chosen, delta, currency_of(res)))
        return
    _print_decision(res, base, chosen, delta, verbose, summary=False)
    print_next(res.path, verbose or len(res.policies) < 2)  # one policy: no comparison detail


def run_options(*names: str, changes: Mapping[str, tuple[str, Any]] | None = None
                ) -> list[click.Parameter]:
    """``run``'s option objects of these names, in that order, for the commands that run
    experiments too (so they parse and check ``-n``, ``--seed``, ``-j``... exactly as ``run``).
    ``changes`` gives, per name, another help text and default (None: keep ``run``'s)."""
    by_name = {p.name: p for p in run.params}
    params = []
    for name in names:
        param = by_name[name]
        if changes and name in changes:
            param = copy.copy(param)
            param.help, default = changes[name]
            if default is not None:
                param.default = default
        params.append(param)
    return params
