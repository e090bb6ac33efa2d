"""The ``pmo-sim`` program (and ``python -m pmo_sim``): the command line, its workers' fork
server started first.

A ``run`` with worker processes waits for their fork server, which takes ~0.4 s to start and
import the engine. Started here, before the command line imports Click, pydantic and its
commands (~0.15 s), it imports alongside them instead of after: the workers are ready that
much sooner (a run of 20 replications with ``-j 2``: 1.24 s against 1.33 s, median of 8
alternated). Then, while it starts, glibc's heap is told to map large blocks on their own
(:mod:`pmo_sim.experiment.heap`: a long run's parent gives back what its tables used).
Nothing else happens here; see :mod:`pmo_sim.cli`.
"""

from __future__ import annotations

import signal
import sys


def main() -> None:
    _standard_streams()
    from pmo_sim.interrupts import interrupt, interrupted_by

    for signum in (signal.SIGINT, signal.SIGTERM):  # as the command line does (pmo_sim.cli.entry)
        signal.signal(signum, interrupt)
    try:
        from pmo_sim.experiment.workers import guess_pool, start_early

        pool = guess_pool(sys.argv[1:])
        if pool is not None:
            start_early(*pool)
        from pmo_sim.experiment.heap import map_large_blocks, program_owns_process

        map_large_blocks()
        program_owns_process()
        from pmo_sim.cli import entry
    except BaseException as exc:
        if not interrupted_by(exc):
            raise
        # Ctrl+C or SIGTERM in the first second, while the command line is imported: nothing
        # was done yet. Before, Python's traceback of whatever import it hit.
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    entry()


def _standard_streams() -> None:
    """Open the null device on any of file descriptors 0-2 the program was started without
    (``pmo-sim run S >&-``, ``2>&-``, as cron or a daemon may start it), and give Python a
    stream on it. Before, sys.stdout (or stderr) was None: ``run``'s ``sys.stderr.isatty()``
    and the exit's flush were AttributeError tracebacks, exit 1 after the work was done, and
    the first file opened took the free descriptor, where a worker's output would have gone."""
    import os

    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            setattr(sys, name, open(fd, mode, closefd=False))  # noqa: SIM115 (the process's own)


if __name__ == "__main__":
    main()
