"""What every command shares: error handling and the options defined once."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pmo_sim.errors import PmoSimError, ScenarioError

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


def parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    """``--set PATH=VALUE`` pairs, in order; VALUE is parsed as YAML by the loader."""
    out: dict[str, str] = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected PATH=VALUE (got {item!r})", param_hint="--set")
        path, value = item.split("=", 1)
        if not path.strip():
            raise click.BadParameter(f"empty PATH in {item!r}", param_hint="--set")
        out[path.strip()] = value
    return out


set_option = click.option(
    "--set", "sets", multiple=True, metavar="PATH=VALUE",
    help="Override a scenario field, e.g. --set resources.developers.headcount=15 (repeatable).",
)
