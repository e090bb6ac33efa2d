"""What every command shares: error handling and the options defined once."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pmo_sim.errors import (
    PmoSimError,
    ScenarioError,
    UsageError,
    cannot_write,
    machine_failed,
    refuse_folder_for_file,
)
from pmo_sim.files import (
    check_can_write_in,
    check_no_file_in_the_way,
    create_folder,
    is_taken,
    missing_folders,
    refuse_input,
    refuse_results_file,
    remove_empty_folders,
    write_atomically,
)
from pmo_sim.interrupts import interrupted_by
from pmo_sim.numerals import is_plain, not_plain
from pmo_sim.scenario.limits import DEFAULT_MAX_EVENTS
from pmo_sim.scenario.names import safe_slug

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
        except OSError as exc:
            # A file or folder named on the command line cannot be used (exit 2), or the
            # machine failed a write (a full disk: exit 1, as a failure during a run).
            where = f"{exc.filename}: " if exc.filename else _unnamed(exc)
            if not exc.filename and machine_failed(exc):
                # Standard output is full: nothing more goes to it (Python's flush at exit
                # would fail again, with "Exception ignored" on stderr).
                with contextlib.suppress(OSError, ValueError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            fail(f"error: {where}{exc.strerror or exc}", 1 if machine_failed(exc) else 2)
        except MemoryError:
            # The limits keep a valid scenario far from this; what is left is a machine with
            # less memory than the command needs: a message, not a traceback.
            fail("error: out of memory: this machine has less free memory than the command "
                 "needs (try fewer replications, a smaller portfolio, or fewer --jobs)", 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except Exception as exc:
            if not interrupted_by(exc):  # not an error of one (a class built when it came)
                raise
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]


def _unnamed(exc: OSError) -> str:
    """What an error without a file name was writing: every file pmo-sim writes is named
    (:func:`~pmo_sim.files.write_atomically`), so a full disk without one is standard output
    redirected to a file (``pmo-sim forecast DIR --format csv > out.csv``)."""
    if not machine_failed(exc):
        return ""
    try:
        return f"cannot write standard output ({os.readlink('/proc/self/fd/1')}): "
    except OSError:  # no /proc: not Linux
        return "cannot write standard output: "


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


class OutPath(click.Path):
    """Where a command writes: a :class:`click.Path`, never empty (an empty ``--out`` was
    taken for the current folder, an empty ``--ema`` wrote its files there)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("must not be empty: give a path", param, ctx)
        return super().convert(value, param, ctx)


class _Plain(click.ParamType):
    """A number option's text is plain ASCII (:func:`pmo_sim.numerals.is_plain`): click reads
    numbers with ``int()``/``float()``, which took ``--seed ٣`` (an Arabic-Indic digit) as 3.
    Every option that takes a number has a type built on this (tests/test_cli_numbers.py)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not is_plain(value):
            self.fail(f"{not_plain(value)}.", param, ctx)
        return super().convert(value, param, ctx)


class Whole(_Plain, click.IntRange):
    """A whole number in a range, written with ASCII digits."""


class Finite(_Plain, click.FloatRange):
    """A number in a range, and finite: Python reads ``inf`` and ``nan`` as floats, and
    click's range lets ``nan`` through (no comparison with it is true)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


max_events_option = click.option(
    "--max-events", type=Finite(min=1), default=DEFAULT_MAX_EVENTS, show_default=True,
    metavar="N",
    help="Refuse a scenario expected to make more than N simulation events per replication and "
         "policy (an estimate from arrivals, tasks, change requests, leavers, ideas and training).",
)

force_option = click.option(
    "--force", is_flag=True, help="Replace the files an earlier command left under the same names.")


def refuse_replacing(paths: list[Path], force: bool, inputs: tuple[str, ...] = ()) -> None:
    """Nothing already written is replaced without ``--force`` (SPEC 9): the outputs a
    command is about to write are checked before any work, so a long study is not run only
    to be refused at the end. A results folder's own file, or one of the ``inputs`` the
    command reads (``sweep F/sweep.csv --out F``), is refused even with ``--force``
    (:func:`~pmo_sim.files.refuse_results_file`, :func:`~pmo_sim.files.refuse_input`)."""
    for path in paths:
        refuse_results_file(path)
        refuse_input(path, *inputs)
        # (sweep and trace ran the whole study, wrote their table, then failed at the figure)
        refuse_folder_for_file(path)
    found = [str(p) for p in paths if is_taken(p)]
    if found and not force:
        them = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
        raise UsageError(f"{them} already exist{'s' if len(found) == 1 else ''}; use --force to "
                         f"overwrite {'it' if len(found) == 1 else 'them'}")


def refuse_clearing_the_scenario(scenario: Path, out: Path, also: tuple[str, ...] = ()) -> None:
    """``--force`` clears pmo-sim's own files from ``--out`` (its tables, manifest,
    ``scenario.yaml``, ``summary.csv``, ``chunks/``) and writes the command's own (``also``:
    roi's roi.json...): never over the scenario file being run (``run``, ``roi``)."""
    from pmo_sim.experiment.manifest import CHUNK_DIR
    from pmo_sim.experiment.store import OWN_FILES

    try:
        source = scenario.resolve()
        chunks = (out / CHUNK_DIR).resolve()
        own = [name for name in (*OWN_FILES, *also)
               if (out / name).exists() and os.path.samefile(out / name, scenario)]
    except OSError:
        return  # what cannot be looked at here is refused or reported by the run itself
    if own or source.is_relative_to(chunks):
        raise UsageError(f"--force would replace or delete the scenario file {scenario}: "
                         f"{out} holds it as pmo-sim's own "
                         f"{own[0] if own else CHUNK_DIR + '/'}; choose another --out")


set_option = click.option(
    "--set", "sets", multiple=True, metavar="PATH=VALUE",
    help="Override a scenario field, e.g. --set resources.developers.headcount=15 (repeatable).",
)


# --------------------------------------------------------------------------- output folders


def default_folder(name: str, kind: str) -> Path:
    """``results/<name>-<kind>``, the name made safe for a folder (SPEC 6)."""
    return Path("results") / f"{safe_slug(name)}-{kind}"


def output_folder(out: str | None, default: Path, create: bool = True) -> Path:
    """The folder a command writes to (``--out``, else ``default``), created before any work,
    so that a path that cannot be written is refused at once (exit 2), not after the study.
    ``create=False`` only refuses a path a file stands in the way of, creating nothing."""
    folder = Path(out) if out else default
    try:
        if create:
            create_folder(folder)
            check_can_write_in(folder)
        else:
            check_no_file_in_the_way(folder)
    except OSError as exc:
        raise cannot_write(f"the results folder {folder}", exc) from exc
    return folder


Progress = Callable[[int, int], None] | None


def study_options(replications: int, seed: int, jobs: int | None, backend: str,
                  scheduler: str | None, policies: tuple[str, ...]) -> dict[str, Any]:
    """The run options sweep, sensitivity and frontier hand to their study, as keywords."""
    return {"replications": replications, "seed": seed, "jobs": jobs, "backend": backend,
            "scheduler": scheduler, "policies": list(policies) or None}


StudyCall = Callable[[dict[str, str], Progress, Callable[[], None]], "pd.DataFrame"]


def run_study(scenario: str, sets: tuple[str, ...], out: str | None, kind: str, quiet: bool,
              force: bool, study: StudyCall, figure: Callable[[pd.DataFrame, str], Figure],
              ) -> tuple[pd.DataFrame, str, Path, Path]:
    """What sweep, sensitivity and frontier share before their own output: warnings to
    stderr; the scenario loaded with its ``--set`` overrides (a bad one is refused before any
    work) for its currency; an earlier study's files in the output folder refused unless
    ``force``; ``study(overrides, progress, ready)`` run under a progress bar. The study calls
    ``ready()`` once it has checked everything (its points, its size) and before it runs
    anything: the output folder is created then (a path that cannot be written is refused
    before the study runs), and a study refused never creates it. The table and
    ``figure(table, currency)`` are then saved as ``<kind>.csv`` and ``<kind>.png``. Returns
    the table, the currency and the paths of the two files."""
    from pmo_sim.cli.output import callback, log_to_stderr, progress_bar
    from pmo_sim.scenario.loader import load_scenario

    log_to_stderr()
    overrides = dict(parse_sets(sets))
    currency = load_scenario(scenario, overrides or None).currency
    default = default_folder(Path(scenario).stem, kind)
    target = Path(out) if out else default
    output_folder(out, default, create=False)
    refuse_replacing(study_files(target, kind), force, inputs=(scenario,))

    def ready() -> None:
        output_folder(out, default)

    # A study that fails once running (a Dask scheduler out of reach, Ctrl+C, a full disk)
    # leaves no empty folder behind.
    with no_empty_folder_left(target):
        with progress_bar(not quiet and sys.stderr.isatty()) as progress:
            table = study(overrides, callback(progress), ready)
        csv, png = save_study(target, kind, table, figure(table, currency))
    return table, currency, csv, png


@contextlib.contextmanager
def no_empty_folder_left(target: Path) -> Iterator[None]:
    """On a failure inside, remove the folders this command created for ``target`` (it and
    its parents that did not exist before) while they are empty: nothing else is touched."""
    missing = missing_folders(target)
    try:
        yield
    except BaseException:
        remove_empty_folders(missing)
        raise


def save_outputs(table: pd.DataFrame, csv: Path, figure: Figure | Axes, png: Path) -> None:
    """A table and its figure, each written whole or not at all: to a temporary file renamed
    over the name, so that a symbolic link in its place is replaced, never written through,
    and a full disk leaves no half file."""
    from pmo_sim.analysis.plots import save

    write_atomically(csv, lambda tmp: table.to_csv(tmp, index=False), make_folder=False)
    write_atomically(png, lambda tmp: save(figure, tmp), make_folder=False)


def write_text(target: Path, text: str, make_folder: bool = False) -> None:
    """A text file a command writes (a scenario, a schema), whole or not at all: a full disk
    leaves no empty or half file, and a symbolic link in its place is replaced, never written
    through."""
    try:
        write_atomically(target, lambda tmp: tmp.write_text(text, encoding="utf-8"),
                         make_folder=make_folder)
    except OSError as exc:
        raise cannot_write(target, exc) from None


def study_files(folder: Path, kind: str) -> list[Path]:
    """Where a study writes its table and its figure: ``<kind>.csv`` and ``<kind>.png``."""
    return [folder / f"{kind}.csv", folder / f"{kind}.png"]


def save_study(folder: Path, kind: str, table: pd.DataFrame, figure: Figure) -> tuple[Path, Path]:
    """A study's table and figure as ``<kind>.csv`` and ``<kind>.png`` in ``folder``."""
    csv, png = study_files(folder, kind)
    save_outputs(table, csv, figure, png)
    return csv, png
