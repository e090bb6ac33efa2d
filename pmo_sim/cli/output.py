"""Output helpers every command shares: JSON-safe values, compact numbers, rich tables on
stdout, the progress bar and library warnings on stderr."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import pandas as pd



def plain(value: Any) -> Any:
    """A JSON-safe scalar: numpy to Python, NaN/NA to null."""
    if hasattr(value, "item"):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(df: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    return [{c: plain(row[c]) for c in columns} for row in df.to_dict("records")]


def emit_json(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, allow_nan=False))


class _StderrHandler(logging.Handler):
    """Warnings of the library (e.g. a corrupt chunk recomputed) as ``warning: ...`` lines."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def log_to_stderr() -> None:
    logger = logging.getLogger("pmo_sim")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler(logging.WARNING)
        logger.addHandler(handler)
    logger.propagate = False


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr, only on a terminal; yields the runner's callback."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("replications"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("run", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def compact(x: Any) -> str:
    v = plain(x)
    if v is None:
        return "-"
    if isinstance(v, float):
        # Compact, so that a mean and its CI fit a table cell: 4.687M, 51.2k, 0.667.
        if abs(v) >= 1e6:
            return f"{v / 1e6:,.3f}M"
        if abs(v) >= 1e4:
            return f"{v / 1e3:,.1f}k"
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(v)


def console() -> Any:
    from rich.console import Console

    return Console(soft_wrap=False, width=max(100, Console().width))
