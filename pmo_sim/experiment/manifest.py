"""The manifest of a results folder, checked before anything in the folder is trusted.

Results folders travel: they are mailed, copied to shared drives and edited by hand. So
``manifest.json`` is read as untrusted input, the way a scenario is:

- it must be a JSON object of bounded size and nesting, with the fields and types below
  (a pydantic model in strict mode: ``true`` is not a number, ``"3"`` is not 3);
- the policies are a non-empty list of distinct non-empty names;
- ``tables`` lists the run's tables: the core three (replications, projects, pools) in that
  order, then any of the optional ones (goals, risks) in schema order, each once; a manifest
  without it (written before optional tables existed) has the core three;
- every chunk lies within ``[0, replications)``, chunks do not overlap, and each chunk's files
  are exactly the names pmo-sim gives them (``chunks/<start>-<stop>.<table>.parquet``, for
  exactly the run's tables): a manifest cannot point anywhere else, so nothing outside the
  folder is ever read, written or deleted through it.

A manifest that fails is refused with a :class:`~pmo_sim.errors.UsageError` naming the file,
the entry and what is wrong (exit code 2).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from pmo_sim._version import __version__
from pmo_sim.errors import UsageError, format_got
from pmo_sim.experiment.spec import MAX_REPLICATIONS
from pmo_sim.files import CHUNK_DIR, MANIFEST, DuplicateKey, lock_folder, unique_keys
from pmo_sim.scenario.names import name_problem
from pmo_sim.schema import OPTIONAL_TABLES, TABLES

if TYPE_CHECKING:
    from pmo_sim.scenario.models import Scenario

#: A manifest larger than this is not one pmo-sim wrote (10 million replications in chunks of
#: one would need about 3 GB; in the default chunks of up to 50, about 60 MB).
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
#: pmo-sim writes manifests four levels deep; JSON nested deeper is refused before parsing.
MAX_DEPTH = 16

Count = Annotated[StrictInt, Field(ge=0, le=MAX_REPLICATIONS)]
Positive = Annotated[StrictInt, Field(ge=1, le=MAX_REPLICATIONS)]


class _Model(BaseModel):
    # Unknown keys are kept (a newer pmo-sim may add some); known ones are typed strictly.
    model_config = ConfigDict(extra="allow", strict=True)


class ChunkFile(_Model):
    file: StrictStr
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
    rows: Annotated[StrictInt, Field(ge=0)]


class Chunk(_Model):
    start: Count
    stop: Positive
    files: dict[StrictStr, ChunkFile] | None = None


class PrecisionRecord(_Model):
    rel: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    metric: StrictStr
    paired: bool
    max_replications: Positive
    target_met: bool | None = None
    replications_needed: Positive | None = None


class Manifest(_Model):
    format: StrictStr | None = None
    format_version: StrictInt | None = None
    scenario: StrictStr | None = None
    scenario_sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
    seed: Annotated[StrictInt, Field(ge=0)]
    replications: Positive
    requested_replications: Positive | None = None
    policies: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=1000)]],
                        Field(min_length=1)]
    status: Literal["complete", "partial"]
    command: StrictStr | None = None
    chunk_size: Positive | None = None
    precision: PrecisionRecord | None = None
    resumed: list[StrictStr] | None = None
    tables: list[StrictStr] | None = None
    chunks: list[Chunk] = Field(default_factory=list)


#: What a manifest says of itself: pmo-sim's results, in the layout of this version (a folder
#: from before these fields existed has neither, and is read as version 1).
FORMAT = "pmo-sim-results"
FORMAT_VERSION = 1

REQUIRED = tuple(name for name, f in Manifest.model_fields.items() if f.is_required())


def scenario_sha256(scenario: Scenario) -> str:
    """Fingerprint of the *resolved* scenario (overrides applied), independent of YAML layout.

    Fields left at their defaults are left out, so a newer pmo-sim that adds an optional field
    (off by default) still recognises, and resumes, a folder written before it.
    """
    canonical = json.dumps(scenario.model_dump(mode="json", exclude_defaults=True), sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def chunk_file_name(start: int, stop: int, table: str) -> str:
    """The one name a chunk's file of ``table`` may have, relative to the folder."""
    return f"{CHUNK_DIR}/{start:07d}-{stop:07d}.{table}.parquet"


@dataclass(frozen=True, slots=True)
class ChunkRecord:
    """A finished chunk as a run keeps it in memory: its replications ``[start, stop)`` and,
    per table (in ``tables``' order), its rows and its file's SHA-256 (none in memory-only
    runs). Its file names follow from the range (:func:`chunk_file_name`).

    The manifest's entry for the chunk (:meth:`entry`) is built only to be written: a run of
    100,000 replications keeps thousands of chunks, and the entries as nested dicts of strings
    took 1.7 KB each in the parent (3.5 MB at 100,000 replications), this 0.4 KB.
    """

    start: int
    stop: int
    tables: tuple[str, ...]
    rows: tuple[int, ...]
    digests: tuple[bytes, ...] = ()

    def rows_of(self, table: str) -> int:
        return self.rows[self.tables.index(table)]

    def file_of(self, table: str) -> str:
        return chunk_file_name(self.start, self.stop, table)

    def sha256_of(self, table: str) -> str:
        return self.digests[self.tables.index(table)].hex()

    def entry(self) -> dict[str, Any]:
        """The manifest's entry: ``{"start", "stop", "files": {table: {"file", "sha256",
        "rows"}}}`` (without ``sha256`` in memory)."""
        files: dict[str, dict[str, Any]] = {}
        for i, table in enumerate(self.tables):
            info: dict[str, Any] = {"file": self.file_of(table)}
            if self.digests:
                info["sha256"] = self.digests[i].hex()
            files[table] = {**info, "rows": self.rows[i]}
        return {"start": self.start, "stop": self.stop, "files": files}

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> ChunkRecord:
        """A checked manifest's entry (:func:`check_manifest`: its files are the chunk's own
        names, its checksums 64 hex digits); a complete run's entries list no files."""
        files: Mapping[str, Mapping[str, Any]] = entry.get("files") or {}
        return cls(int(entry["start"]), int(entry["stop"]), tuple(files),
                   tuple(int(f["rows"]) for f in files.values()),
                   tuple(bytes.fromhex(f["sha256"]) for f in files.values()))


def manifest_text(manifest: Mapping[str, Any], chunks: Iterable[Mapping[str, Any]] | None = None) -> str:
    """Readable JSON, one line per chunk: the manifest is rewritten after every chunk, and
    fully indented JSON goes through Python's slow encoder. ``chunks``: the chunk entries, if
    not the manifest's own (built one at a time as they are written)."""
    head = json.dumps({k: v for k, v in manifest.items() if k != "chunks"}, indent=2)
    entries = manifest.get("chunks", []) if chunks is None else chunks
    joined = ",\n    ".join(json.dumps(c, separators=(",", ":")) for c in entries)
    body = f'[\n    {joined}\n  ]' if joined else "[]"
    return f'{head[:-2]},\n  "chunks": {body}\n}}\n'


def claim(root: Path) -> int | None:
    """The lock of a run on the folder ``root`` (:func:`~pmo_sim.files.lock_folder`): a second
    run, or a --resume, in a folder a run is writing cleared its chunk files and overwrote its
    manifest (the first then failed, or listed files that were gone)."""
    try:
        return lock_folder(root)
    except BlockingIOError:
        raise UsageError(f"{root} is in use by another pmo-sim run; wait for it to end (or stop "
                         f"it), or give another --out") from None
    except OSError:
        return None  # what cannot be opened is reported by what reads or writes it next


class _Held(Protocol):
    lock: int | None


H = TypeVar("H", bound=_Held)


def claimed(root: Path, make: Callable[[], H]) -> H:
    """What ``make()`` opens or creates of the folder ``root`` once this run has claimed it
    (:func:`claim`), holding the lock from then on; the lock is let go if ``make`` fails."""
    lock = claim(root)
    try:
        held = make()
    except BaseException:
        if lock is not None:
            os.close(lock)
        raise
    held.lock = lock
    return held


def read_manifest(root: Path) -> dict[str, Any]:
    """``root/manifest.json``, parsed and checked; a :class:`UsageError` saying why not."""
    path = root / MANIFEST
    if path.is_symlink() or not path.is_file():
        # Something else in its place is named, as a table's is: a folder or a named pipe
        # called manifest.json was said to be "missing", and the user looked for no file.
        what = ("is missing (it is a symbolic link)" if path.is_symlink() else
                "is not a file (a folder, pipe or device)" if path.exists() else "is missing")
        raise UsageError(f"{root} is not a results folder: {MANIFEST} {what}")
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise UsageError(f"{path}: larger than {MAX_MANIFEST_BYTES // 2**20} MB; not a manifest "
                             f"pmo-sim wrote")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{root} is not a results folder: {MANIFEST} is unreadable ({exc})") from exc
    _check_depth(text, path)
    try:
        data = json.loads(text, object_pairs_hook=unique_keys)
    except DuplicateKey as exc:
        raise UsageError(f"{path}: the key {exc.key!r} is given more than once in one object "
                         f"(got {format_got(exc.first)}, then {format_got(exc.then)}); pmo-sim "
                         f"writes each key once: the manifest was edited") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"{root} is not a results folder: {MANIFEST} is unreadable (not valid "
                         f"JSON: {exc})") from exc
    except ValueError as exc:  # an integer of thousands of digits (Python's conversion limit)
        raise UsageError(f"{root} is not a results folder: {MANIFEST} holds a number pmo-sim "
                         f"never writes ({str(exc).split(';')[0]})") from exc
    return check_manifest(data, path)



def _check_depth(text: str, path: Path) -> None:
    """Refuse JSON nested deeper than pmo-sim writes, before the parser recurses into it."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise UsageError(f"{path}: nested more than {MAX_DEPTH} levels deep; not a manifest "
                                 f"pmo-sim wrote")
        elif ch in "]}":
            depth -= 1


def check_manifest(data: Any, path: Path) -> dict[str, Any]:
    """The manifest ``data`` checked (types, ranges, chunk ranges and file names)."""
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: the manifest must be a JSON object (got {type(data).__name__})")
    lacking = [k for k in REQUIRED if k not in data]
    if lacking:
        raise UsageError(f"{path.parent} is not a results folder: {MANIFEST} lacks {', '.join(lacking)}")
    try:
        model = Manifest.model_validate(data)
    except ValidationError as exc:
        found = exc.errors(include_url=False)[:5]
        raise UsageError(f"{path}: " + "; ".join(_describe(e, data) for e in found)) from None
    if model.format not in (None, FORMAT):
        raise UsageError(f"{path.parent} is not a pmo-sim results folder: its {MANIFEST} says it holds "
                         f"{model.format!r}, not {FORMAT!r}")
    if model.format_version is not None and not 1 <= model.format_version <= FORMAT_VERSION:
        newer = " (a newer pmo-sim wrote them)" if model.format_version > FORMAT_VERSION else ""
        reads = "version 1" if FORMAT_VERSION == 1 else f"versions 1 to {FORMAT_VERSION}"
        raise UsageError(f"{path.parent}: its results are in format version {model.format_version}; "
                         f"this pmo-sim ({__version__}) reads {reads}{newer}")
    tables = list(TABLES) if model.tables is None else model.tables
    problems = (_replication_problems(model) + _scenario_problems(model.scenario)
                + _policy_problems(model.policies)
                + _table_problems(tables) + _chunk_problems(model, tables))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise UsageError(f"{path}: " + "; ".join(problems[:5]) + more)
    # Optional fields the runner reads get their defaults, so later code never meets a gap.
    return {**data, "requested_replications": model.requested_replications or model.replications,
            "chunks": data.get("chunks") or [], "precision": data.get("precision"),
            "command": model.command, "tables": tables}


#: What a checksum of a manifest must be: what pmo-sim writes (hashlib's hexdigest).
DIGEST_RULE = "must be 64 lowercase hexadecimal digits (0-9, a-f), the SHA-256 pmo-sim wrote"
_DIGESTS = ("sha256", "scenario_sha256")


def _describe(err: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """One of pydantic's errors in pmo-sim's words, located like :func:`_chunk_problems`'
    (``chunks[3] (6-8): files.projects.sha256``); a checksum is said to be what it must be
    (before, in pydantic's words: "String should match pattern '^[0-9a-f]{64}$'")."""
    loc = list(err["loc"])
    where = _where(loc, data)
    if err["type"] == "missing":
        rule = f"; it {DIGEST_RULE}" if loc and loc[-1] in _DIGESTS else ""
        return f"{where} is missing{rule}"
    got = _got(err.get("input"))
    if loc and loc[-1] in _DIGESTS and err["type"] in ("string_pattern_mismatch", "string_type"):
        return f"{where} {DIGEST_RULE} (got {got})"
    return f"{where}: {err['msg']} (got {got})"


def _where(loc: list[Any], data: Mapping[str, Any]) -> str:
    """A field's place: ``seed``, or ``chunks[i] (start-stop): files.TABLE.sha256``."""
    if len(loc) >= 2 and loc[0] == "chunks" and isinstance(loc[1], int):
        chunks = data.get("chunks")
        entry = chunks[loc[1]] if isinstance(chunks, list) and loc[1] < len(chunks) else None
        span = (f" ({entry['start']}-{entry['stop']})" if isinstance(entry, Mapping)
                and all(type(entry.get(k)) is int for k in ("start", "stop")) else "")
        rest = ".".join(str(p) for p in loc[2:])
        return f"chunks[{loc[1]}]{span}" + (f": {rest}" if rest else "")
    return ".".join(str(p) for p in loc) or "the manifest"


def _got(value: Any) -> str:
    """What was given, short: a long string's first 64 characters and its length."""
    if isinstance(value, str) and len(value) > 64:
        return f"{value[:64]!r}... ({len(value):,} characters)"
    got = repr(value)
    return got if len(got) <= 70 else got[:67] + "..."


def _replication_problems(m: Manifest) -> list[str]:
    """The run's length against what was asked: a run starts with ``replications`` equal to
    ``requested_replications``, and only a precision target adds replications. Before, an
    edited ``replications`` was taken as the run's length: a resume ran to it (or stopped
    short of what was asked), and ``compare`` counted the tables' rows against it."""
    asked, n = m.requested_replications, m.replications
    if asked is None:  # written before the field existed: replications is what was asked
        return []
    if n < asked:
        return [f"replications must be at least requested_replications ({asked}): a run never "
                f"ends short of what was asked (got {n})"]
    if n > asked and m.precision is None:
        return [f"replications must equal requested_replications ({asked}) in a run without a "
                f"precision target: only --precision adds replications (got {n})"]
    return []


def _scenario_problems(scenario: str | None) -> list[str]:
    # The scenario's name, printed atop every table and verdict: the rule of a scenario's
    # names, as for the policies (before, an edited one's escape sequences acted on the
    # terminal: "\x1b[2J" cleared it).
    why = name_problem(scenario) if scenario is not None else None
    return [f"scenario: {scenario!r}: {why}"] if why is not None else []


def _policy_problems(policies: list[str]) -> list[str]:
    dup = sorted({p for p in policies if policies.count(p) > 1})
    out = [f"policies: {p!r} is listed more than once" for p in dup]
    # the rule of a scenario's names: a name pmo-sim wrote passes; an edited one with control
    # characters or bidirectional overrides would garble every table and message it is shown in
    out += [f"policies: {p!r}: {why}" for p in policies if (why := name_problem(p)) is not None]
    return out


def _table_problems(tables: list[str]) -> list[str]:
    core, optional = list(TABLES), list(OPTIONAL_TABLES)
    extra = tables[len(core):]
    if tables[:len(core)] != core or any(t not in optional for t in extra) or extra != sorted(
            set(extra), key=optional.index):
        return [f"tables must be {', '.join(core)}, then any of {', '.join(optional)} in that order "
                f"(got {', '.join(tables) or 'none'})"]
    return []


def _chunk_problems(m: Manifest, tables: list[str]) -> list[str]:
    out: list[str] = []
    last_stop = -1
    # in the order of their replications; each named by its place in the manifest's list
    for i, c in sorted(enumerate(m.chunks), key=lambda ic: ic[1].start):
        where = f"chunks[{i}] ({c.start}-{c.stop})"
        if c.stop <= c.start:
            out.append(f"{where}: stop must be after start")
        if c.stop > m.replications:
            out.append(f"{where}: beyond the {m.replications} replications of the run")
        if c.start < last_stop:
            out.append(f"{where}: overlaps the chunk before it")
        last_stop = max(last_stop, c.stop)
        if c.files is None:
            if m.status == "partial":
                out.append(f"{where}: a partial run's chunk must list its files")
            continue
        if set(c.files) != set(tables):
            out.append(f"{where}: files must be exactly the tables {', '.join(tables)} "
                       f"(got {', '.join(sorted(c.files)) or 'none'})")
        for table, info in c.files.items():
            expected = chunk_file_name(c.start, c.stop, table)
            if info.file != expected:
                out.append(f"{where}: file {info.file!r} is not the chunk's own file {expected!r}")
    return out


def resume_command(command: str | None, out: str | Path) -> str:
    """The command that continues the run recorded as ``command`` in the folder ``out``.

    The recorded command line names the folder the run was started in; a folder copied or
    moved elsewhere is continued where it is now, so its ``--out`` is replaced by ``out``
    (before, the hint of a copied folder named the original). ``--force`` is dropped (it
    would start over) and ``--resume`` added.
    """
    if not command:
        return f"run_experiment(..., out={str(out)!r}, resume=True)"
    try:
        words = shlex.split(command)
    except ValueError:  # an edited manifest: what is there cannot be split into words
        words = []
    if words[:2] != ["pmo-sim", "run"] or any(ord(c) < 32 or ord(c) == 127 for c in command):
        # Not the command pmo-sim recorded (a folder travels, and its manifest is read as
        # untrusted): the hint, printed for the user to paste, names no other program and
        # sends no terminal control sequence (before, an edited "rm -rf data #" was printed
        # as the command that continues the run).
        words = ["pmo-sim", "run", "SCENARIO"]
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "--out":
            skip = True  # and its value
        elif word not in ("--force", "--resume") and not word.startswith("--out="):
            kept.append(word)
    return shlex.join([*kept, "--out", str(out), "--resume"])
