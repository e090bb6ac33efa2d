"""How the local backend's worker processes start, and starting that early.

Workers are forked from a *fork server*: a clean, single-threaded process that has imported
the engine once (:data:`PRELOAD`), so each worker starts fast and no process is forked while
the parent runs threads (``spawn`` where there is no fork server). The server takes a fifth
of a second or more to start and import the engine; :func:`start_early` launches it without
waiting, so that this overlaps what the parent does next (the command line's imports,
loading the scenario, creating the results folder) instead of delaying the first chunk.

This module imports nothing of pmo_sim: the program's entry (``pmo_sim.__main__``) calls it
before the command line's imports, guessing from ``sys.argv`` whether a ``run`` will need
workers (:func:`guess_pool`).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from multiprocessing import context as mp_context_module
from multiprocessing.context import BaseContext

#: What the fork server imports once, before forking workers: everything a chunk needs, and
#: :mod:`~pmo_sim.experiment.server_exit` (the server ends without its teardown).
PRELOAD = ["pmo_sim.experiment.server_exit", "pmo_sim.experiment.backends",
           "pmo_sim.experiment.simulate"]

#: The exit status of a local pool's worker that ran out of memory
#: (:func:`pmo_sim.experiment.backends.run_chunk_in_worker`): the parent reads it from the
#: dead worker to say why the pool broke.
OUT_OF_MEMORY_EXIT = 86


class _ExitOutOfMemory:
    """A process of the parent's own that ends with :data:`OUT_OF_MEMORY_EXIT`, and nothing on
    stderr, when it runs out of memory anywhere, in multiprocessing's code as in pmo-sim's.

    pmo-sim's code in a worker exits so itself (``run_chunk_in_worker``); but a worker can run
    out of memory before that code runs, receiving or unpickling its task in the pool's own
    loop. multiprocessing then printed "Process ForkServerProcess-1: Traceback ...
    MemoryError" on stderr, under pmo-sim's message, and the worker's exit status (1) did not
    say why it died.
    """

    def run(self) -> None:
        try:
            super().run()  # type: ignore[misc]
        except MemoryError:
            os._exit(OUT_OF_MEMORY_EXIT)  # nothing more can be relied on: see run_chunk_in_worker


class SpawnWorker(_ExitOutOfMemory, mp_context_module.SpawnProcess):
    """A spawned process of a local pool (:class:`_ExitOutOfMemory`)."""


class _SpawnContext(mp_context_module.SpawnContext):
    Process = SpawnWorker


if hasattr(mp_context_module, "ForkServerProcess"):  # POSIX
    class ForkServerWorker(_ExitOutOfMemory, mp_context_module.ForkServerProcess):
        """A process of a local pool forked from the fork server (:class:`_ExitOutOfMemory`)."""

    class _ForkServerContext(mp_context_module.ForkServerContext):
        Process = ForkServerWorker


def mp_context() -> BaseContext:
    """The multiprocessing context of local pools: fork server if there is one, else spawn;
    its processes end quietly with :data:`OUT_OF_MEMORY_EXIT` when memory runs out."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = _ForkServerContext()
        ctx.set_forkserver_preload(PRELOAD if server_finds_this_pmo_sim() else [])
        return ctx
    return _SpawnContext()


def server_finds_this_pmo_sim() -> bool:
    """Whether a fork server started now would preload this very pmo_sim.

    The server is a fresh interpreter (``python -c``) that preloads with its own sys.path
    (Python 3.11 ignores the parent's there), which starts with the working folder, then
    follows the parent's. Run from a folder holding another ``pmo_sim`` (another checkout), or
    by a parent that found this one through its own first sys.path entry (a script beside a
    checkout), the server would preload another pmo_sim, and every worker forked from it would
    simulate with another engine than the parent's. Then nothing is preloaded: a worker
    imports pmo-sim when it unpickles its first task, with the parent's sys.path, which
    multiprocessing gives it (the same pmo_sim; the import then costs each worker ~0.3 s).
    """
    home = os.path.realpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
    try:
        cwd = os.path.realpath(os.getcwd())
    except OSError:  # the working folder was removed: the server's first entry finds nothing
        cwd = ""
    if cwd and any(os.path.exists(os.path.join(cwd, name)) for name in ("pmo_sim", "pmo_sim.py")):
        return cwd == home
    first = sys.path[0] if sys.path else ""
    return os.path.realpath(first or cwd or os.curdir) != home


def unguarded_script() -> str | None:
    """Why the workers could not start, when the program is a script that runs an experiment
    at its top level: a worker process imports the script again (a fork server or spawn does,
    as every multiprocessing start method but a plain fork), which starts the experiment again
    inside the worker, and multiprocessing stops it. None when that is not the case."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not path or hasattr(sys, "ps1"):
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as source:
            guarded = "__main__" in source.read(1_000_000)
    except OSError:
        return None
    if guarded:
        return None
    return (f"the worker processes could not start: each imports {path} again, which runs the "
            "experiment again inside it; put the calls of your script under "
            "`if __name__ == \"__main__\":`, or run it with jobs=1")


def worker_count(jobs: int | None) -> int:
    """The workers of a run with ``-j jobs`` (None: one per CPU this process may run on: a
    batch system's CPU set, or ``taskset``, leaves it fewer than the machine has)."""
    if jobs:
        return jobs
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity on this platform (macOS, Windows)
        return os.cpu_count() or 1


def runs_elsewhere(backend: str, jobs: int | None) -> bool:
    """Whether a run's replications run in worker processes while its parent waits: on Dask,
    or in a local pool of more than one (``local`` with one job runs in-process, as
    ``serial`` does; :func:`~pmo_sim.experiment.backends.make_backend`)."""
    return backend == "dask" or (backend == "local" and worker_count(jobs) > 1)


def start_early(backend: str, jobs: int | None) -> None:
    """Launch the fork server now if a run with these options will use a local pool.

    Returns at once; the server imports :data:`PRELOAD` in the background. It is the one
    every later local pool of this process forks from (as it would be without this call),
    and it ends with the process.
    """
    if backend != "local" or not runs_elsewhere(backend, jobs):
        return
    if mp_context().get_start_method() == "forkserver":
        import signal
        from multiprocessing import forkserver

        # The server starts with Ctrl+C ignored (as it ignores it once it has preloaded; an
        # ignored signal stays ignored across exec, and Python then sets no handler of its
        # own): before, a Ctrl+C in its first second, sent to the terminal's whole process
        # group, printed the server's traceback from its start-up under the run's
        # "interrupted". The parent's own Ctrl+C meanwhile is held (blocked: Linux keeps a
        # blocked signal pending even while ignored) and delivered once its handler is back.
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is None):  # not a handler Python can put back
            forkserver.ensure_running()
            return
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            forkserver.ensure_running()
        finally:
            signal.signal(signal.SIGINT, handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


def guess_pool(args: Sequence[str]) -> tuple[str, int | None] | None:
    """The backend and ``-j`` of a ``pmo-sim run`` command line, guessed from its words alone
    (None: not a ``run``), for :func:`start_early` before the command line's own imports.

    Click parses the words properly afterwards, and ``run`` calls :func:`start_early` again
    (nothing happens if the server runs); so a wrong guess (an option value that looks like
    ``-j``, combined short flags) only starts the server later, or for nothing.
    """
    if not args or args[0] != "run":
        return None
    backend, jobs = "local", None
    words = iter(args[1:])
    for word in words:
        if word == "--":
            break
        name, eq, value = word.partition("=")
        if name.startswith("-j") and not name.startswith("--") and len(name) > 2:
            name, value = "-j", name[2:]  # -j2
        elif name in ("-j", "--jobs", "--backend") and not eq:
            value = next(words, "")
        if name in ("-j", "--jobs"):
            # Any word may come here (Click refuses a bad one later): "²" is a digit to
            # str.isdigit, and int() refuses more than 4,300 digits.
            jobs = int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
        elif name == "--backend":
            backend = value
    return backend, jobs


def import_meanwhile(modules: Sequence[str]) -> threading.Thread:
    """Import ``modules`` on a thread, now: what the parent needs after its workers are done,
    imported while they run.

    After the run the parent works alone, so every second of its work is a second of the
    run's wall time; while the workers run, an import costs them about half its time (the
    cores are shared), once. Join the thread before using the modules (no import is then
    half-done by another thread, and the process can take its quick exit). A failed import
    is left for the code that needs the module to meet, and report, itself.
    """
    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    thread = threading.Thread(target=load, name="pmo-sim-imports", daemon=True)
    thread.start()
    return thread
