"""Commands about the scenario file itself: ``validate``, ``schema`` and ``new``.

They never simulate anything: they check a scenario (with the same loader ``run`` uses, so
a scenario that validates is one ``run`` accepts), describe the format, or write a commented
starter file to begin from.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pmo_sim.cli import main
from pmo_sim.cli.common import (
    OutPath,
    force_option,
    handles_errors,
    max_events_option,
    parse_sets,
    refuse_replacing,
    set_option,
    write_text,
)
from pmo_sim.errors import ScenarioError, UsageError, printable
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario
from pmo_sim.scenario.names import name_problem


def _summary(scenario: Scenario) -> str:
    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    parts = [
        f"{count(len(scenario.policies), 'policy').replace('policys', 'policies')} "
        f"({', '.join(scenario.policy_names)})",
        f"{count(len(scenario.resources), 'pool')} ({', '.join(scenario.pool_names)})",
        count(len(scenario.projects), "project"),
    ]
    if scenario.intake is not None:
        limit = "until the horizon" if scenario.intake.count is None else f"up to {scenario.intake.count}"
        parts.append(f"an intake of {count(len(scenario.intake.templates), 'template')} ({limit})")
    return f"scenario {scenario.name!r}: " + ", ".join(parts)


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))  # a folder: the loader says so
@set_option
@max_events_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: `ok` or one line per problem on stderr; json: one document on stdout.")
@handles_errors
def validate(scenario: Path, sets: tuple[str, ...], max_events: float, fmt: str) -> None:
    """Check SCENARIO and report every problem at once.

    Prints `ok` and a one-line summary (exit 0), or one line per problem,
    FILE:LINE:COL: path: what is wrong (got VALUE), on stderr (exit 2). A scenario
    expected to make more than --max-events simulation events per replication is a
    problem too (at the field that makes it large).

    \b
    Examples:
      pmo-sim validate portfolio.yaml
      pmo-sim validate portfolio.yaml --set resources.developers.headcount=15
      pmo-sim validate portfolio.yaml --format json | jq '.errors[].message'
    """
    try:
        overrides = parse_sets(sets)
        loaded = load_scenario(scenario, overrides=overrides, max_events=max_events)
        if loaded.sensitivity is not None:  # its ranges' paths, as `sensitivity` checks them
            from pmo_sim.experiment.sensitivity import check_declared

            check_declared(scenario, loaded, dict(overrides))
    except ScenarioError as exc:
        if fmt != "json":
            raise
        click.echo(json.dumps({"ok": False, "errors": [p.as_dict() for p in exc.problems]}, indent=2))
        sys.exit(exc.exit_code)
    if fmt == "json":
        click.echo(json.dumps({"ok": True, "errors": []}, indent=2))
    else:
        click.echo("ok")
        click.echo(_summary(loaded))


@main.command()
@click.option("--out", type=OutPath(dir_okay=False, writable=True, path_type=Path),
              help="Write the schema to this file instead of stdout.")
@force_option
@handles_errors
def schema(out: Path | None, force: bool) -> None:
    """Print the JSON Schema of the scenario format.

    Editors use it to complete and check scenario files as you type; add
    `# yaml-language-server: $schema=scenario.schema.json` at the top of a scenario.

    \b
    Examples:
      pmo-sim schema > scenario.schema.json
      pmo-sim schema --out scenario.schema.json
    """
    from pmo_sim.scenario.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    refuse_replacing([out], force)
    write_text(out, text)
    click.echo(f"wrote {printable(str(out))}", err=True)


@main.command()
@click.argument("name")
@click.option("--dir", "directory", type=OutPath(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write NAME.yaml into (created if missing).")
@click.option("--force", is_flag=True, help="Overwrite NAME.yaml if it already exists.")
@handles_errors
def new(name: str, directory: Path, force: bool) -> None:
    """Write a commented starter scenario to DIR/NAME.yaml.

    The starter shows every section of the format with comments, loads
    without errors and simulates in about a second: edit it from there.

    \b
    Examples:
      pmo-sim new my-portfolio
      pmo-sim new my-portfolio.yaml --dir scenarios
      pmo-sim new my-portfolio --force        # overwrite an existing file
    """
    from pmo_sim.scenario.starter import starter_scenario

    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    if not stem or "/" in stem or "\\" in stem:
        raise UsageError(f"NAME must be a plain file name, without folders (got {name!r}); use --dir")
    if not stem.strip("."):  # "." wrote a hidden "..yaml" of a scenario named "."
        raise UsageError(f"NAME must be a plain file name, not dots only (got {name!r})")
    if not stem.isprintable():
        raise UsageError(f"NAME must be printable, without control characters (got {name!r})")
    if (why := name_problem(stem)) is not None:  # the scenario it names: " x" wrote one validate refused
        raise UsageError(f"NAME is the scenario's name: {why} (got {name!r})")
    target = directory / f"{stem}.yaml"
    refuse_replacing([target], force)
    write_text(target, starter_scenario(stem), make_folder=True)
    click.echo(f"wrote {printable(str(target))}")
    click.echo(f"next: pmo-sim validate {printable(str(target))}")
