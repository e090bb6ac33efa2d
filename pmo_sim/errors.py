"""Errors users can act on.

Bad input (a scenario, an override, an option, a results folder) is reported as one or more
:class:`Problem` lines ``FILE:LINE:COL: dotted.path: what is wrong (got VALUE)`` and exit code
2 (SPEC section 9). A :class:`ScenarioError` carries *all* problems found at once.
"""

from __future__ import annotations

import errno
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located in its file."""

    message: str
    path: str = ""
    file: str = "<input>"
    line: int | None = None
    column: int | None = None
    got: Any = field(default=None)
    has_got: bool = False

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column if self.column is not None else 1}"
        text = f"{where}: "
        if self.path:
            text += f"{short_path(self.path)}: "
        text += self.message
        if self.has_got:
            text += f" (got {format_got(self.got)})"
        return printable(text)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "path": short_path(self.path),
                "message": self.message if not self.has_got
                else f"{self.message} (got {format_got(self.got)})"}


#: A problem's path longer than this is shown cut, with its length: a path is made of names (at
#: most 200 characters each) and indices, and an unknown key of 100,000 characters made each
#: of its problems a line of 100 KB (7 MB of messages for a file of 70 such keys).
MAX_PATH_CHARS = 300


def short_path(path: str) -> str:
    """``path``, or its first characters and its length when it is longer than :data:`MAX_PATH_CHARS`."""
    if len(path) <= MAX_PATH_CHARS:
        return path
    return f"{path[:MAX_PATH_CHARS - 60]}... ({len(path):,} characters)"


def printable(text: str) -> str:
    """``text`` with unprintable characters escaped, so a problem is always one clean line.

    Keys, names and paths come from the user's file and may hold tabs, line breaks or terminal
    escape sequences; printed raw they would split a problem over lines or recolour the terminal.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


SHOWN_NAMES = 8
"""How many names a message lists before it says how many more there are (a --set naming no
item of a list of 20,000 projects made a line of 150 KB)."""


def listed(names: Sequence[str]) -> str:
    """``names`` for a message: the first :data:`SHOWN_NAMES`, then how many in all."""
    if not names:
        return "none"
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown if len(names) <= SHOWN_NAMES else f"{shown}, ... ({len(names)} in all)"


def format_got(value: Any, limit: int = 60) -> str:
    """A short, readable rendering of an offending value."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict):  # (never str() of a huge container: it can be megabytes)
        text = "a mapping" if len(value) > limit or len(str(value)) > limit else str(dict(value))
    elif isinstance(value, list):
        text = "a list" if len(value) > limit or len(str(value)) > limit else str(list(value))
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_results(results: object) -> None:
    """A :class:`TypeError` naming what was given unless ``results`` is a Results (told by its
    attributes: the analysis package, which cannot import pmo_sim.experiment, checks with this
    too). ``pmo_sim.forecast(path)``, ``render_report(table)``... failed deep inside with an
    AttributeError."""
    if not all(hasattr(results, a) for a in ("replications", "manifest", "policies", "compare")):
        hint = (" (open the folder first: pmo_sim.load_results(path))"
                if isinstance(results, str | os.PathLike) else "")
        raise TypeError(f"results must be a Results{hint}, not {type(results).__name__}")


def check_pathlike(value: object, what: str, alternative: str = "") -> None:
    """A :class:`TypeError` naming ``what`` unless ``value`` is a path (text or os.PathLike;
    ``alternative``: what else it may be, such as "or a Scenario"). ``load_scenario({})``,
    ``write_report(res, None)``, ``out=5``... failed on Python's own "expected str, bytes or
    os.PathLike object, not dict", naming no argument."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{what} must be a path (str or os.PathLike){alternative}, not "
                        f"{type(value).__name__}")


class PmoSimError(Exception):
    """Base of the errors pmo-sim raises on purpose."""

    exit_code = 1


class UsageError(PmoSimError):
    """Bad option, bad results folder, refused resume: exit code 2."""

    exit_code = 2


def check_flags(**flags: object) -> None:
    """Each flag is True or False (or 0, 1): ``force="no"`` is true, and overwrote a results
    folder; a :class:`TypeError` naming the flag."""
    for name, value in flags.items():
        if not (isinstance(value, bool) or (isinstance(value, numbers.Integral) and value in (0, 1))):
            raise TypeError(f"{name} must be True or False, not {type(value).__name__} ({value!r})")


def unknown_policy(unknown: Sequence[str], known: Sequence[str],
                   owner: str = "the scenario has", what: str = "policy") -> UsageError:
    """The error for policy names asked for but not in ``known``: ``unknown WHAT 'x'; OWNER:
    a, b, ...``, the known names :func:`listed` (a scenario may have hundreds of policies)."""
    return UsageError(f"unknown {what} {', '.join(map(repr, unknown))}; {owner}: {listed(known)}")


class ScenarioError(UsageError):
    """A scenario (or an override of it) is invalid; carries every problem found.

    ``more`` counts problems found but not listed (a long list, such as a history CSV's, is
    capped so the first problems stay readable).
    """

    def __init__(self, problems: list[Problem], more: int = 0):
        self.problems = list(problems)
        self.more = more
        text = "\n".join(str(p) for p in self.problems)
        super().__init__(text + (f"\n... and {more} more" if more else ""))


class WriteFailed(PmoSimError):
    """A file could not be written for a reason of the machine, not of the input (a full disk,
    a quota, an I/O error): exit 1, as a failure during a run. A path the user gave that cannot
    be written (a file where a folder should be, no permission) is a :class:`UsageError`."""


#: ``errno`` values of a write the machine failed, whatever the path: no space left, a quota
#: exceeded, an I/O error, a file larger than the file system takes, no memory for it.
MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.ENOMEM})


def machine_failed(exc: OSError) -> bool:
    """Whether ``exc`` is a failure of the machine (exit 1) rather than of a path given (exit 2)."""
    return exc.errno in MACHINE_ERRNOS


def refuse_folder_for_file(path: os.PathLike[str], writer: str = "this command") -> None:
    """Refuse ``path`` when it is a folder (not a link to one) where ``writer`` writes a file,
    ``--force`` or not: it cannot be replaced, and met only when the file is written, it
    failed after the work, outputs half written ("Is a directory", exit 2)."""
    if os.path.isdir(path) and not os.path.islink(path):
        raise UsageError(f"{os.fspath(path)} is a folder, where {writer} writes a file of that "
                         "name; move it away, or write elsewhere")


def folder_not_empty(root: os.PathLike[str], resumable: bool = True) -> UsageError:
    """The error for a results folder ``root`` that is not empty, without ``--force``; its
    hint names ``--resume`` only where the writer can resume (``roi --out R`` and
    ``Results.save(R)`` said "use --resume to continue the run in it": neither can)."""
    resume = "use --resume to continue the run in it, " if resumable else "use "
    return UsageError(f"results folder {os.fspath(root)} already exists and is not empty; "
                      f"{resume}--force to overwrite it, or another --out")


def cannot_write(what: object, exc: OSError) -> PmoSimError:
    """The error to raise for ``exc``, met writing ``what``: ``cannot write WHAT: REASON``, a
    :class:`WriteFailed` (exit 1) when the machine failed, else a :class:`UsageError` (exit 2)."""
    message = f"cannot write {what}: {exc.strerror or exc}"
    return WriteFailed(message) if machine_failed(exc) else UsageError(message)


class WorkerLost(PmoSimError):
    """The machine let a run down: a worker process died (killed, out of memory), or the run
    ran out of memory in this process, while running replications: exit 1."""


class ReplicationFailed(PmoSimError):
    """A replication raised: reported with its policy, replication and seed."""

    def __init__(self, policy: str, replication: int, seed: int, cause: str):
        self.policy, self.replication, self.seed, self.cause = policy, replication, seed, cause
        super().__init__(
            f"replication {replication} of policy {policy!r} (seed {seed}) failed: {cause}"
        )

    def __reduce__(self) -> tuple[type, tuple[str, int, int, str]]:
        # Picklable, so a worker process can raise it to its parent.
        return (type(self), (self.policy, self.replication, self.seed, self.cause))
