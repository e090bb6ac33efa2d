"""``pmo-sim export``: a results folder as an Excel workbook and/or EMA Workbench tables.

Thin: opens the results, calls :func:`pmo_sim.io.excel.write_workbook` and
:func:`pmo_sim.io.ema.write_ema`, and prints what it wrote.
"""

from __future__ import annotations

import os

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import OutPath, handles_errors
from pmo_sim.cli.output import log_to_stderr
from pmo_sim.errors import UsageError, printable


@main.command(epilog="""\b
Examples:
  pmo-sim export results/baseline-20250101-120000 --xlsx baseline.xlsx
  pmo-sim export results/x --xlsx x.xlsx --baseline focused --force
  pmo-sim export results/x --ema results/x/ema      # experiments.csv + outcomes.csv for PRIM
""")
@click.argument("results", type=click.Path())
@click.option("--xlsx", type=OutPath(dir_okay=False), metavar="FILE",
              help="Excel workbook to write: summary, comparison, forecast, risks (with a risk "
                   "register), kpis-<policy>, "
                   "projects and about sheets.")
@click.option("--ema", type=OutPath(file_okay=False), metavar="DIR",
              help="Folder for EMA Workbench's experiments.csv and outcomes.csv.")
@click.option("--baseline", metavar="NAME", help="Policy the comparison is against [default: the first].")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@handles_errors
def export(results: str, xlsx: str | None, ema: str | None, baseline: str | None, force: bool) -> None:
    """Export RESULTS for people and tools outside pmo-sim.

    --xlsx writes a workbook a strategist can open in Excel: numbers formatted (currency,
    %, days), units in the headers, header rows frozen. --ema writes the run as EMA
    Workbench's experiments/outcomes pair (one row per policy x replication) for PRIM
    scenario discovery. An existing file is kept unless --force.
    """
    from pmo_sim.experiment import load_results
    from pmo_sim.io import ema as ema_tables
    from pmo_sim.io import excel

    if xlsx is None and ema is None:
        raise click.UsageError("give --xlsx FILE, --ema DIR, or both")
    if baseline is not None and xlsx is None:  # else ignored, even a name no policy has
        raise UsageError(f"--baseline is for the workbook's comparison (--xlsx); the EMA tables "
                         f"compare nothing (got --baseline {baseline!r})")
    # Both targets are checked before either is written: no half-done export.
    if xlsx is not None:
        excel.check_target(xlsx, force)
    if ema is not None:
        ema_tables.check_target(ema, force)
    if xlsx is not None and ema is not None and os.path.realpath(xlsx) == os.path.realpath(ema):
        raise UsageError(f"--xlsx and --ema name the same path, {xlsx}: the workbook is a file, "
                         f"the EMA tables go in a folder; give each its own")
    log_to_stderr()
    res = load_results(results)
    if not res.complete:
        click.echo(f"warning: {printable(results)} is a partial run; exporting what is finished", err=True)
    res.require_replications("export")  # before anything is written
    if xlsx is not None:
        workbook = excel.write_workbook(res, xlsx, baseline=baseline, force=force)
        click.echo(f"workbook: {printable(str(workbook))}")
    if ema is not None:
        folder = ema_tables.write_ema(res, ema, force=force)
        click.echo(f"EMA experiments and outcomes: {printable(str(folder / 'experiments.csv'))}, "
                   f"{printable(str(folder / 'outcomes.csv'))}")
