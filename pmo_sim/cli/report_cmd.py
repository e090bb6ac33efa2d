"""``pmo-sim report``: one self-contained HTML report of a results folder.

Parses the options, calls :func:`pmo_sim.analysis.report.write_report` and prints where the
file is. A partial results folder is reported with a warning (here and in the page).
"""

from __future__ import annotations

from pathlib import Path

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import OutPath, handles_errors
from pmo_sim.errors import printable


@main.command(epilog="""\b
Examples:
  pmo-sim report results/baseline-20250101-120000          # writes .../report.html
  pmo-sim report results/x --out x.html --metric on_time_rate --metric npv
  pmo-sim report results/x --baseline focused --force
""")
@click.argument("results", type=click.Path())
@click.option("--out", type=OutPath(), default=None, metavar="FILE",
              help="HTML file to write [default: RESULTS/report.html].")
@click.option("--metric", "metrics", multiple=True, metavar="M",
              help="KPI for the tables and the forest plot (repeatable) [default: the headline "
                   "KPIs]; the first one decides the verdict.")
@click.option("--baseline", metavar="NAME", help="Policy to compare against [default: the first].")
@click.option("--force", is_flag=True, help="Overwrite an existing report file.")
@handles_errors
def report(results: str, out: str | None, metrics: tuple[str, ...], baseline: str | None,
           force: bool) -> None:
    """Write a self-contained HTML report of RESULTS (verdict, KPI tables, figures).

    The file needs no network to open, mail or print: figures are inline SVG and the
    style is inline. It prints the path of the file written.
    """
    from pmo_sim.analysis.report import write_report
    from pmo_sim.cli.output import log_to_stderr
    from pmo_sim.experiment import load_results

    log_to_stderr()  # a corrupt chunk left out is a "warning: ..." line, as in compare and export
    res = load_results(results)
    if not res.complete:
        click.echo(f"warning: {printable(results)} is a partial run; reporting what is finished", err=True)
    path = write_report(res, Path(out) if out else Path(results) / "report.html", force=force,
                        metrics=list(metrics) or None, baseline=baseline)
    click.echo(printable(str(path)))  # a path with a line break stays one line
