"""``pmo-sim forecast``: when will each project land, P80? (SPEC 10.6)

Thin: opens the results, calls :meth:`pmo_sim.experiment.Results.forecast` (the numbers are
:func:`pmo_sim.analysis.forecast.forecast`'s) and prints them as a table that fits the
terminal, as JSON or as CSV.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import handles_errors
from pmo_sim.cli.output import Col, emit_json, log_to_stderr, plain, print_table, say
from pmo_sim.errors import printable

if TYPE_CHECKING:
    import pandas as pd

    from pmo_sim.experiment import Results

#: The mark of a template's (pooled) row in the table.
POOLED = " *"


def _cells(row: dict[str, Any], dated: bool, by: bool, extra: list[str]) -> list[str]:
    from pmo_sim.analysis import format as fmt
    from pmo_sim.analysis.forecast import NOT_REACHED

    def when(q: str) -> str:
        day = row[q]
        if day == float("inf"):
            return NOT_REACHED
        return row[f"{q}_date"].isoformat() if dated else fmt.days(day, bare=True)

    due = row["due_on"].isoformat() if dated and row["due_on"] is not None else \
        fmt.days(row["due"], bare=True) if fmt.finite(row["due"]) is not None else "-"
    cells = [row["policy"], row["name"] + (POOLED if row["kind"] == "template" else ""),
             when("p50"), when("p80"), when("p90"), due,
             fmt.rate(row["p_on_time"]) if fmt.finite(row["p_on_time"]) is not None else "-"]
    if by:
        cells.append(fmt.rate(row["p_by"]))
    cells += [fmt.rate(row[c]) for c in ("p_unfinished", *extra)]
    return [*cells, f"{row['n']:,}"]


def _table(res: Results, table: pd.DataFrame, by: str | None) -> None:
    sc = res.scenario
    dated = "p80_date" in table.columns
    unit = "date" if dated else "(day)"
    extra = [c for c in ("p_cancelled", "p_rejected") if (table[c] > 0).any()]
    columns = [Col("policy", "left"), Col("project", "left"), Col(f"P50 {unit}", priority=2),
               Col(f"P80 {unit}"), Col(f"P90 {unit}", priority=3), Col("due", priority=5),
               Col("on time", priority=1)]
    if by is not None:
        columns.append(Col(f"by {by}"))
    columns += [Col("unfinished", priority=4),
                *[Col(c[2:], priority=6) for c in extra], Col("n", priority=7)]
    rows = [_cells({str(c): v for c, v in r.items()}, dated, by is not None, extra)
            for r in table.to_dict("records")]
    if table["policy"].nunique() == 1:   # one policy: its name goes in the title instead
        columns, rows = columns[1:], [r[1:] for r in rows]
    n = int(res.replications.groupby("policy")["replication"].nunique().min())
    one = f", policy {table['policy'].iloc[0]}" if table["policy"].nunique() == 1 else ""
    print_table(f"When will it land? {sc.name}{one}: {n} replications", columns, rows)
    notes = ["P80: the finish by which 80% of the simulated futures had finished it (P50, P90 "
             "likewise); \"> horizon\": fewer than that had finished by the horizon "
             f"(day {sc.horizon:g})."]
    if dated:
        notes.append("Dates: the working day (Monday to Friday) on which the work ended, day 0 "
                     f"being {sc.calendar.start_date.isoformat()}.")   # type: ignore[union-attr]
    if (table["kind"] == "template").any():
        notes.append(f"{POOLED.strip()} a template: all its generated projects after the "
                     "warm-up, pooled over the replications.")
    say(" ".join(notes), style="dim")


def _document(res: Results, table: pd.DataFrame, by: str | None) -> dict[str, Any]:
    from pmo_sim.analysis.forecast import UNITS

    sc = res.scenario
    start = sc.calendar.start_date if sc.calendar else None
    rows = [{str(c): (v.isoformat() if UNITS[str(c)] == "date" and v is not None else plain(v))
             for c, v in r.items()} for r in table.to_dict("records")]
    return {"results": str(res.path), "scenario": sc.name, "status": res.manifest.get("status"),
            "horizon": sc.horizon, "start_date": start.isoformat() if start else None,
            "by": None if table.empty or by is None else plain(table["by"].iloc[0]),
            "note": "p10..p90 are finish days (working days); null means not reached by the "
                    "horizon. *_date and due_on are the working days the work ends on; p_* "
                    "are probabilities (fractions).",
            "units": {c: UNITS[c] for c in table.columns}, "forecasts": rows}


@main.command(epilog="""\b
Examples:
  pmo-sim forecast results/baseline-20250101-120000
  pmo-sim forecast results/x --policy focused --project "CRM upgrade" --by 300
  pmo-sim forecast results/x --template platform --by 2027-06-30 --format csv
""")
@click.argument("results", type=click.Path())
@click.option("--policy", metavar="NAME", help="Only this policy [default: every policy].")
@click.option("--project", "projects", multiple=True, metavar="NAME",
              help="An explicit project to forecast (repeatable).")
@click.option("--template", "templates", multiple=True, metavar="NAME",
              help="A template, its generated projects pooled (repeatable). Without --project "
                   "and --template: every project, then every template.")
@click.option("--by", metavar="DAY|DATE",
              help="Also the chance of finishing by this working day, or by the end of this "
                   "date (YYYY-MM-DD; needs calendar.start_date).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True,
              help="table: fits the terminal; json/csv: every column (a percentile not reached "
                   "by the horizon is null in json, inf in csv).")
@handles_errors
def forecast(results: str, policy: str | None, projects: tuple[str, ...],
             templates: tuple[str, ...], by: str | None, fmt: str) -> None:
    """When will each project land? P50/P80/P90 finish dates and the chances of RESULTS.

    Per policy, for each explicit project (and each template, its generated projects
    pooled), over the replications: the finish day (and date, with calendar.start_date) by
    which 10%, 50%, 80% and 90% of the simulated futures had finished it, "> horizon" when
    fewer had; the chance of finishing by its due date and by --by; the chances of being
    cancelled, rejected or still unfinished at the horizon.
    """
    from pmo_sim.experiment import load_results

    log_to_stderr()
    res = load_results(results)
    if not res.complete:
        click.echo(f"warning: {printable(str(results))} is a partial run; forecasting from what is finished",
                   err=True)
    table = res.forecast(policy=policy, by=by, projects=list(projects) or None,
                         templates=list(templates) or None)
    if fmt == "json":
        emit_json(_document(res, table, by))
    elif fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    elif table.empty:
        say("Nothing to forecast: these results hold no projects.")
    else:
        _table(res, table, by)
