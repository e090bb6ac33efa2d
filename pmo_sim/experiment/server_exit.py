"""Imported by the workers' fork server only (first of :data:`~pmo_sim.experiment.workers.PRELOAD`):
the server ends at once when its last client has gone, and ignores Ctrl+C while it imports.

The server inherits the command's standard output and error, and holds them open until it
ends. Ending normally, it tore down every module it had imported for its workers (numpy,
pydantic, the engine): 0.1-0.25 s after ``pmo-sim run -j 2`` itself had ended, during which a
caller reading the command's output (``$(pmo-sim run ...)``, a pipe, ``subprocess.run`` with
``capture_output``) still waited for the end of it. The server holds no file or resource of
its own to release (its listener and pipes are closed before it exits; its workers are
forked children that leave with ``os._exit``), so nothing is lost by skipping the teardown.

Anywhere else (the module imported by mistake in a parent) this does nothing: it acts only
when imported by the fork server's own ``main``.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType


def _imported_by_fork_server() -> bool:
    from multiprocessing import forkserver

    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "main" and code.co_filename == forkserver.__file__:
            return True
        frame = frame.f_back
    return False


def _exit_now() -> None:
    os._exit(0)  # the server's exit status when its last client has gone, as before


#: Whether this process is the fork server, which ends without its teardown.
QUICK = _imported_by_fork_server()

if QUICK:
    # Ctrl+C reaches the server too (the terminal's whole process group): ignored from here,
    # as the server ignores it once it has imported what it preloads. Before, one during
    # those imports printed the server's traceback under the run's "interrupted".
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # atexit runs its functions last registered first: this one runs before multiprocessing's
    # own (which, in the server, has nothing to finalize) and the interpreter's teardown.
    atexit.register(_exit_now)
