"""What every command shares: error handling and the options defined once."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pmo_sim.errors import PmoSimError, ScenarioError
from pmo_sim.scenario.limits import DEFAULT_MAX_EVENTS

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    click.echo(message, err=True)
    sys.exit(code)


def handles_errors(fn: F) -> F:
    """Turn pmo-sim's own errors into a message on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ScenarioError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            if exc.more:
                click.echo(f"... and {exc.more} more not shown", err=True)
            n = len(exc.problems) + exc.more
            click.echo(f"{n} problem{'s' if n != 1 else ''} found.", err=True)
            sys.exit(exc.exit_code)
        except PmoSimError as exc:
            fail(f"error: {exc}", exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def parse_sets(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """``--set PATH=VALUE`` pairs, in command-line order; VALUE is parsed as YAML by the loader.

    A list, not a mapping: the same PATH may be set twice (the last wins), and a problem with
    the n-th ``--set`` is located at ``--set:n``.
    """
    out: list[tuple[str, str]] = []
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected PATH=VALUE (got {item!r})", param_hint="--set")
        path, value = item.split("=", 1)
        if not path.strip():
            raise click.BadParameter(f"empty PATH in {item!r}", param_hint="--set")
        out.append((path.strip(), value))
    return out


max_events_option = click.option(
    "--max-events", type=click.FloatRange(min=1), default=DEFAULT_MAX_EVENTS, show_default=True,
    metavar="N",
    help="Refuse a scenario expected to make more than N simulation events per replication and "
         "policy (an estimate from arrivals, tasks, change requests, leavers, ideas and training).",
)

set_option = click.option(
    "--set", "sets", multiple=True, metavar="PATH=VALUE",
    help="Override a scenario field, e.g. --set resources.developers.headcount=15 (repeatable).",
)
