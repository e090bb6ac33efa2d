"""Ctrl+C and SIGTERM in the program: the handler that turns both into a
:class:`KeyboardInterrupt` (a run keeps what finished, says how to resume and exits 130), and
whether an error comes of one.

Imports nothing: :mod:`pmo_sim.__main__` sets the handler before anything else, ahead of the
workers' fork server it starts early.
"""

from __future__ import annotations

#: Whether the program's SIGINT or SIGTERM handler (:func:`interrupt`) has run in this process.
_signalled = False


def interrupt(signum: int, frame: object) -> None:
    """The program's handler of SIGINT and SIGTERM (:mod:`pmo_sim.__main__`,
    :func:`pmo_sim.cli.entry`): a :class:`KeyboardInterrupt`, remembered, for one that comes
    in the middle of a module's import can reach the program as another error
    (:func:`interrupted_by`)."""
    global _signalled
    _signalled = True
    raise KeyboardInterrupt


def interrupted_by(exc: BaseException) -> bool:
    """Whether ``exc`` is an interruption or comes of one: a Ctrl+C or SIGTERM while a class is
    built (Python's "RuntimeError: Error calling __set_name__", caused by it, or pydantic's
    SchemaError, which only names it) ended commands with a traceback and exit code 1, not
    "interrupted" and 130 (found by interrupting `pmo-sim run` at random moments)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return _signalled
