"""Writing a file whole or not at all: the one way pmo-sim writes what it produces.

Results tables, manifests, reports, workbooks, scenario fragments and figures are written
to a fresh temporary name beside their target and renamed over it (:func:`os.replace` is
atomic on one file system), so a reader, an interrupted run or a full disk never leaves a
half-written file under the target's name, and the temporary file never stays behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import select
import shutil
import stat
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

_TEMPORARY = re.compile(r"^\..+\.tmp(\.[^.]+)?$")

#: A results folder (SPEC 7) is a folder holding its manifest; its own files are the manifest,
#: the resolved scenario, the summary, its tables (``<table>.parquet``), its chunk folder and,
#: in a folder of ``roi``'s paired runs, the answer ``report`` reads (``roi.json``).
MANIFEST = "manifest.json"
SCENARIO = "scenario.yaml"
SUMMARY = "summary.csv"
CHUNK_DIR = "chunks"
ROI_JSON = "roi.json"
_RESULTS_OWN = (MANIFEST, SCENARIO, SUMMARY, CHUNK_DIR, ROI_JSON)


def is_temporary(name: str) -> bool:
    """Whether a file name is one of :func:`write_atomically`'s temporary files (left behind
    only by a process killed while writing)."""
    return _TEMPORARY.match(name) is not None


def create_folder(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and its missing parents; a file standing where one of them should be is
    named (:class:`NotADirectoryError` for ``path``: "results/x is a file, not a folder"), and
    so is a symbolic link to nothing (:class:`FileExistsError`: "results/x is a symbolic link
    to /gone, which leads to nothing that exists; ..."), not reported as the bare "File
    exists" or "Not a directory" of the system call."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.ELOOP):
            check_no_file_in_the_way(folder)
        raise  # gone since, or another failure, said as it is
    return folder


def real_path(path: str | os.PathLike[str]) -> Path:
    """``path`` with its symbolic links and ``..`` resolved (:meth:`Path.resolve`), a loop of
    links an :class:`OSError` (``ELOOP``, "Too many levels of symbolic links") as on Python
    3.13, not the :class:`RuntimeError` of 3.11 and 3.12 (a traceback, before, for a link to
    itself given as ``run --out`` or named by an MPSPLIB portfolio)."""
    try:
        return Path(path).resolve()
    except RuntimeError as exc:
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from exc


def is_taken(path: str | os.PathLike[str]) -> bool:
    """Whether something stands at ``path``: a file, a folder, or a symbolic link, even one to
    nothing (a file written there replaces the link: before, ``report --out LINK`` did so
    without ``--force`` when the link led nowhere)."""
    return os.path.lexists(path)


def check_no_file_in_the_way(path: str | os.PathLike[str]) -> None:
    """Raise :func:`create_folder`'s :class:`NotADirectoryError` if a file stands where ``path``
    or one of its parents should be a folder, and its :class:`FileExistsError` if a symbolic
    link to nothing does, creating nothing: a command can refuse such a path at once and
    create its folder only when it has work to write."""
    folder = Path(path)
    blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise NotADirectoryError(errno.ENOTDIR, f"{blocking} is a file, not a folder", str(folder))
    dangling = next((p for p in (folder, *folder.parents) if p.is_symlink() and not p.exists()), None)
    if dangling is not None:  # a link to a missing folder, or a loop of links
        try:
            real_path(dangling)
            where = "which leads to nothing that exists; create the folder it names"
        except OSError:
            where = "which leads back to itself (a loop of links)"
        raise FileExistsError(errno.EEXIST, f"{dangling} is a symbolic link to "
                              f"{os.readlink(dangling)}, {where}, remove the link, or give "
                              f"another path", str(folder))


def remove_run_files(root: Path, files: Sequence[str], folder: str) -> None:
    """Delete a run's ``files`` and its ``folder`` of chunks in ``root`` (``--force``): a
    symbolic link goes, never what it points to.

    One of the ``files`` that is a folder, or a ``folder`` that is not one, is refused first
    (an :class:`OSError` naming it): clearing stopped half-way at it, the manifest and the
    scenario (or every table) deleted and the rest kept, saying only "Is a directory" (or
    "Not a directory").
    """
    odd = [root / name for name in files if (root / name).is_dir() and not (root / name).is_symlink()]
    chunks = root / folder
    if not chunks.is_symlink() and chunks.exists() and not chunks.is_dir():
        odd.append(chunks)
    if odd:
        raise OSError(errno.ENOTDIR if odd[0] == chunks else errno.EISDIR,
                      f"{odd[0]} is {'not a folder' if odd[0] == chunks else 'a folder'}, where "
                      f"pmo-sim writes {'its chunks' if odd[0] == chunks else 'a file'}; move it "
                      f"away, or give another --out")
    for name in files:
        (root / name).unlink(missing_ok=True)
    if chunks.is_symlink():
        chunks.unlink()
    elif chunks.exists():
        shutil.rmtree(chunks)


def lock_folder(path: str | os.PathLike[str]) -> int | None:
    """An exclusive lock on the folder ``path`` (``flock``), held until the returned descriptor
    is closed or the process ends, however it ends; None where the system or the file system
    has no such locks. :class:`BlockingIOError` if another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not a POSIX system
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise
    except OSError:
        os.close(fd)
        return None
    return fd


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], object],
                     make_folder: bool = True, results_own: bool = False) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    ``make_folder`` creates the missing folders first. An :class:`OSError` is raised again
    with ``path`` as its file name (not the temporary one), so that a message built from it
    names the file the user asked for; any other error propagates as it is. A results
    folder's own file is refused (:func:`refuse_results_file`) unless ``results_own``: the
    run writing its folder.
    """
    target = Path(path)
    _refuse_special(target)
    if not results_own:
        refuse_results_file(target)
    # A fresh name (pid and a random part) opened by ``write`` itself: not mkstemp, whose
    # 0600 mode would stick to a report or workbook meant to be shared. It keeps the target's
    # extension, for writers that take the format from the name (matplotlib).
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp{target.suffix}")
    try:
        if make_folder:
            create_folder(target.parent)
        write(tmp)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    return target


def check_can_write_in(folder: str | os.PathLike[str]) -> None:
    """Raise the :class:`OSError` a file created in ``folder``, if it is one, meets (a read-only
    file system, no permission), naming ``folder`` and leaving nothing behind. Met only when
    the file was written, it failed after the work: a whole study ("sweep.csv: Read-only file
    system"), a report rendered, a workbook written before its EMA tables."""
    if not os.path.isdir(folder):
        return  # made by the writer, which reports what stands in its way
    probe = Path(folder) / f".pmo-sim-probe.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, os.fspath(folder)) from exc
    probe.unlink()


def write_synced(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` whole or not at all (:func:`write_atomically`, into a folder
    that exists), synced to disk: a results folder's checkpoint must survive a crash of the
    machine, not only of the process. Only a run writes this way, its own folder's files."""
    raw = data.encode("utf-8") if isinstance(data, str) else data

    def synced(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())

    write_atomically(path, synced, make_folder=False, results_own=True)


def missing_folders(target: Path) -> list[Path]:
    """``target`` and its parents that do not exist yet, innermost first: the folders a
    command that makes ``target`` creates, to remove again (:func:`remove_empty_folders`) if
    it fails."""
    return [p for p in (target, *target.parents) if not (p.exists() or p.is_symlink())]


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove ``folders`` in order (innermost first), each only if it is empty, never what is
    in one; stop at the first that cannot go."""
    for made in folders:
        try:
            made.rmdir()
        except OSError:
            return


def _refuse_special(target: Path) -> None:
    """Refuse a target that is a device, pipe or socket: a rename over it replaces the node
    itself (before, ``pmo-sim report --out /dev/null --force``, run as root, replaced the
    system's /dev/null with the report). A file, a symbolic link (replaced, never followed)
    and a folder (which the rename refuses, by name) are left to the rename."""
    try:
        mode = os.lstat(target).st_mode
    except OSError:
        return  # not there (or not reachable): the write says what is wrong
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode)):
        raise FileExistsError(errno.EEXIST, "exists and is not a file (a device, pipe or socket); "
                              "pmo-sim writes only files: give another path", str(target))


def same_name(one: str | os.PathLike[str], other: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file: their folders resolved, their names not followed (a
    rename replaces a link). False for a path that cannot be resolved (a link loop): the
    read or the write says what is wrong with it."""
    def named(p: str | os.PathLike[str]) -> Path:
        return Path(p).parent.resolve() / Path(p).name

    try:
        return named(one) == named(other)
    except (OSError, RuntimeError):
        return False


def refuse_input(path: str | os.PathLike[str], *inputs: str | os.PathLike[str]) -> None:
    """Refuse an output at ``path`` that is one of the files the command reads (``fit H --out
    H``, ``import psplib F --out F``): with --force the input was replaced by the output, and
    without it was called a file that "exists". :class:`PermissionError` naming ``path``;
    exit code 2. Names are compared where they lead, not followed (a rename replaces a link)."""
    same = [i for i in inputs if same_name(path, i)]
    if same:
        raise PermissionError(errno.EPERM, f"is the input file {same[0]} this command reads: "
                              f"writing there would destroy it, with or without --force; give "
                              f"another path", str(path))


def refuse_results_file(path: str | os.PathLike[str], into: bool = False) -> None:
    """Refuse an output at ``path`` that is a results folder's own file (its manifest,
    scenario, summary or a table) or lies in its chunk folder, whichever results folder it is
    in: a command's output written there, even with ``--force``, destroyed the results
    (before, ``pmo-sim report R --out R/manifest.json --force`` replaced R's manifest with
    the report). :class:`PermissionError` naming ``path``, said why; exit code 2.

    ``into``: ``path`` is a folder the command writes into (``run --out``), followed if it
    is a symbolic link; a file's path is not (a rename replaces the link, not what it names).
    Before, ``run --out L --force`` with ``L`` a link to a partial results folder's chunks/
    wrote a results folder into them.
    """
    target = Path(path)
    try:
        named = target.parent.resolve() / target.name  # the folder it is really in (``..``, links)
        real = target.resolve() if into else named
    except (OSError, RuntimeError):
        return  # not reachable: the write says what is wrong
    linked = real != named
    folder = real.parent
    own = real.name in _RESULTS_OWN or real.suffix == ".parquet"
    if own and _is_results_folder(folder):
        what = (f"is a link to the results folder {folder}'s own {real.name}" if linked else
                f"is the results folder {target.parent}'s own {target.name}")
        raise PermissionError(errno.EPERM, f"{what}: an output written there would destroy the "
                              f"results, with or without --force; give another path", str(path))
    for inner in (folder, *folder.parents):
        if inner.name == CHUNK_DIR and _is_results_folder(inner.parent):
            raise PermissionError(errno.EPERM, f"lies in the results folder {inner.parent}'s "
                                  f"{CHUNK_DIR}/, which only its run writes; give another path",
                                  str(path))


def _is_results_folder(folder: Path) -> bool:
    return os.path.lexists(folder / MANIFEST)


class FileRefused(ValueError):
    """A file :func:`read_bounded` will not read: what is wrong with it, in words."""


class FileTooLarge(FileRefused):
    """A file beyond :func:`read_bounded`'s limit."""


#: A pipe (``<(...)`` in a shell, or a named one) is given up on when nothing comes through
#: it for this long (seconds): a named pipe no program writes to would otherwise wait forever.
PIPE_IDLE_S = 30.0


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a file of at most ``limit`` bytes, read without reading more.

    A file larger than ``limit`` is refused after ``limit + 1`` bytes, whatever its size on
    disk says: a device (``/dev/zero``, or a link to it) or a file growing never ends, a
    special file system may report 0. A pipe is read like a file (``<(...)`` in a shell), as
    long as something comes through it every :data:`PIPE_IDLE_S` seconds. :class:`FileRefused`
    says why; :class:`OSError` as :func:`open` raises it.
    """
    if stat.S_ISFIFO(os.stat(path).st_mode):
        data = _read_pipe(path, limit)
    else:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(f"larger than {_size(limit)}")
    return data


def _read_pipe(path: str | os.PathLike[str], limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of a pipe, waiting at most :data:`PIPE_IDLE_S` for each part.

    Opened without blocking (opening a named pipe blocks until a writer opens it too); a pipe
    that no writer has opened reads as empty at once, so readiness is awaited first: data, or
    the end once a writer has come and gone.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            if not poller.poll(PIPE_IDLE_S * 1000):
                raise FileRefused(f"a pipe nothing came through for {PIPE_IDLE_S:g} s (is a "
                                  f"program writing to it?)")
            try:
                part = os.read(fd, min(2**20, limit + 1 - size))
            except BlockingIOError:  # woken, and another reader took it
                continue
            if not part:
                break  # its writers closed it
            parts.append(part)
            size += len(part)
        return b"".join(parts)
    finally:
        os.close(fd)


def _size(n: int) -> str:
    if n % 2**20 == 0:
        return f"{n // 2**20} MiB"
    return f"{n // 1_000_000} MB" if n % 1_000_000 == 0 else f"{n:,} bytes"


class DuplicateKey(Exception):
    """A JSON object of a file pmo-sim wrote gives one key twice (:func:`unique_keys`)."""

    def __init__(self, key: str, first: Any, then: Any):
        super().__init__(key)
        self.key, self.first, self.then = key, first, then


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' ``object_pairs_hook`` for the files pmo-sim writes: a JSON object's pairs
    as a dict, or :class:`DuplicateKey` for a key given twice (``json`` takes the last one
    silently: an edit hidden after pmo-sim's own value)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key, out[key], value)
        out[key] = value
    return out
