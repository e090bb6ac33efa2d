"""The ``pmo-sim`` command line: a thin Click group over the Python API.

Each command module parses options, calls :mod:`pmo_sim` and prints; no model logic lives
here. Errors a user can act on (:class:`pmo_sim.errors.PmoSimError`) become a clear message
on stderr and the documented exit code, never a traceback (see :mod:`pmo_sim.cli.common`).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading

import click

from pmo_sim import __version__
from pmo_sim.interrupts import interrupt


class OnceCommand(click.Command):
    """A command whose options of one value are given at most once each.

    Click keeps the last of ``--out A --out B``, and A was dropped without a word (likewise
    ``-n``, ``--format``, ``frontier --budget``...): which one the user meant is not for the
    program to guess. Repeatable options (``--set``, ``--vary``, ``--policy``) and flags may
    be repeated as before.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:  # the order options came in, once per occurrence (parsing has no side effect)
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
        except click.UsageError:
            order = []  # reported as Click reports it, below
        seen: set[str | None] = set()
        for param in order:
            if isinstance(param, click.Option) and not (param.multiple or param.count or param.is_flag):
                if param.name in seen:
                    raise click.UsageError(f"{' / '.join(param.opts)} is given more than once; "
                                           "give it once", ctx)
                seen.add(param.name)
        return super().parse_args(ctx, args)


class PmoGroup(click.Group):
    """The ``pmo-sim`` group: its commands are :class:`OnceCommand`, its groups its own kind."""

    command_class = OnceCommand
    group_class = type


@click.group(cls=PmoGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pmo-sim")
def main() -> None:
    """Simulate how a portfolio of projects gets delivered under PMO policies.

    \b
    Start here:
      pmo-sim new my-portfolio            write a commented starter scenario
      pmo-sim validate my-portfolio.yaml  check it
      pmo-sim run scenarios/baseline.yaml -n 200
      pmo-sim compare results/baseline-<timestamp>
    """


def entry() -> None:
    """The ``pmo-sim`` program: the command line, then a quick exit (:func:`quick_exit`).

    SIGTERM (``kill``, a batch system's time limit) interrupts like Ctrl+C: a run keeps what
    finished, says how to resume and exits 130, and no half-written file stays behind. Before,
    the default action ended the process at once: no message, the run's latest chunks not yet
    in its manifest, temporary files left, and multiprocessing's warnings on stderr.
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)
    try:
        code = _program()
    except SystemExit as exc:
        code = exc.code
    quick_exit(code)


def _program() -> str | int | None:
    """The command line's exit code: Click's standalone mode, except that Ctrl+C or SIGTERM
    anywhere, Click's own parsing included, is "interrupted" and 130 (before: "Aborted!"
    and 1 while Click parsed the options, ~0.1 s on a loaded machine; inside a command its
    error handler says "interrupted" already)."""
    try:
        rv = main.main(standalone_mode=False)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            sys.stderr.write("interrupted\n")
            return 130
        click.echo("Aborted!", err=True)  # end of input at a prompt, as Click says it
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:  # in Click's own teardown
        sys.stderr.write("interrupted\n")
        return 130
    # A command returns None; Click returns an exit code of its own (--help, --version).
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0


def quick_exit(code: str | int | None) -> None:
    """Leave the process with ``code`` (what ``sys.exit`` takes) without tearing down modules.

    Unloading pandas, pyarrow and scipy at exit takes a quarter of a second, after every
    command, for nothing: the process is ending. Everything that must happen at exit still
    does — the streams are flushed and the ``atexit`` handlers run (logging, multiprocessing's
    clean-up of its temporary files) — only the module teardown is skipped. When another
    thread still runs, or a stream cannot be flushed (a closed pipe), the normal exit is
    taken, with its usual behaviour.
    """
    if threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as sys.exit does: a message goes to stderr, the status is 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def _register() -> None:
    # Command modules register themselves on `main`; imported here so `pmo_sim.cli:main`
    # is complete whichever way it is loaded.
    from pmo_sim.cli import (  # noqa: F401
        analysis_cmds,
        export_cmd,
        fit_cmd,
        forecast_cmd,
        frontier_cmd,
        import_cmd,
        report_cmd,
        run_cmds,
        scenario_cmds,
        sensitivity_cmd,
    )


_register()
