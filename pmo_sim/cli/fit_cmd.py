"""``pmo-sim fit``: calibrate a scenario from a task history (SPEC 10.7).

Parses the options, calls :func:`pmo_sim.io.calibration.calibrate` (which reads, fits and
writes) and prints one row per fit. A bad CSV is a :class:`~pmo_sim.errors.ScenarioError`
with every problem located ``FILE:LINE:COL``; an existing output is refused without
``--force``: both exit with code 2.
"""

from __future__ import annotations

import math
import sys

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import OutPath, handles_errors
from pmo_sim.cli.output import Col, callback, compact, emit_json, plain, print_table, progress_bar
from pmo_sim.errors import printable


@main.command(epilog="""\b
Examples:
  pmo-sim fit scenarios/history/tasks.csv --out results/fitted.yaml
  pmo-sim fit history.csv --out fitted.yaml --figures figures/ --force
  pmo-sim fit history.csv --out fitted.yaml --format json
\b
The CSV needs the columns project, task, skill, estimate, actual (person-days), start and
finish (YYYY-MM-DD); other columns are ignored.
""")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=OutPath(dir_okay=False), metavar="FRAGMENT.yaml",
              help="Scenario fragment to write (intake arrivals, estimate_error, effort lines).")
@click.option("--figures", type=OutPath(file_okay=False), default=None, metavar="DIR",
              help="Folder for one figure per fit [default: <fragment stem>-figures beside it].")
@click.option("--force", is_flag=True, help="Overwrite an existing fragment and figures.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="json: one document on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handles_errors
def fit(history: str, out: str, figures: str | None, force: bool, fmt: str, quiet: bool) -> None:
    """Fit distributions to a task HISTORY and write a scenario fragment.

    Per skill: the actual effort and the estimate error (actual / estimate), lognormal or
    gamma by AIC among the families a KS test at 5% does not reject, else the empirical
    values (also below 5 rows; fits of fewer than 30 rows are flagged); and the gaps between
    project arrivals (a project's earliest task start) in working days, exponential, gamma
    or lognormal. Writes the fragment (SPEC 3 parameters, a comment per fit) and a figure per
    fit (histogram with the fitted densities, QQ plot); prints a row per fit. A progress bar
    counts the figures on stderr when it is a terminal (not with --quiet).
    """
    from pmo_sim.io.calibration import calibrate

    with progress_bar(not quiet and sys.stderr.isatty(), label="figures") as view:
        result = calibrate(history, out, figures, force=force, progress=callback(view))
    rows = result.fit.rows()
    if fmt == "json":
        emit_json({
            "history": history, "fragment": str(result.fragment),
            "figures": [str(p) for p in result.figures], "tasks": result.fit.tasks,
            "projects": result.fit.projects,
            "fits": [{k: v if k in ("flags", "distribution") else plain(v) for k, v in row.items()}
                     for row in rows],
        })
        return
    # Narrow terminals lose the KS p-value first, then n: the flags say when n is small.
    columns = [Col("skill", "left"), Col("fitted", "left"), Col("family", "left"), Col("mean"),
               Col("sd"), Col("n", priority=2), Col("KS p", priority=3), Col("flags", "left")]
    cells = [[row["skill"] or "-", row["quantity"], row["family"], compact(row["mean"]),
              compact(row["sd"]), str(row["n"]),
              "-" if math.isnan(row["ks_pvalue"]) else f"{row['ks_pvalue']:.3f}",
              "; ".join(row["flags"])] for row in rows]
    print_table(f"{history}: {result.fit.tasks} tasks, {result.fit.projects} projects", columns, cells)
    folder = result.figures[0].parent if result.figures else None
    click.echo(f"fragment: {printable(str(result.fragment))}"
               + (f"\nfigures: {printable(str(folder))}" if folder else ""))
