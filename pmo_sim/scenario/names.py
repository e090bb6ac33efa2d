"""Names in a scenario, and the file names made from them.

Every name a scenario gives (the scenario, pools, projects, templates, tasks, policies,
programmes, adoptions) is text of 1 to :data:`~pmo_sim.scenario.limits.MAX_NAME_CHARS`
characters without control characters (NUL, tabs, line breaks, escape sequences, bidirectional
overrides...), neither blank nor beginning or ending with spaces: names are
printed in tables, written in results and used in file names, where such characters corrupt
output or are refused by the file system.

The scenario name and policy names become parts of file and folder names
(``results/<scenario>-<timestamp>``, ``trace-<policy>-r<R>.csv``) through :func:`safe_slug`,
so a name such as ``../../x`` or ``/abs/x`` can never place a file outside its folder.
"""

from __future__ import annotations

import re
import unicodedata

from pmo_sim.scenario.limits import MAX_NAME_CHARS

SLUG_MAX_CHARS = 48
"""The longest slug: with a timestamp or a replication number it stays a short file name."""

_CONTROL = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, lone surrogates, line/paragraph separators
#: Bidirectional embeddings, overrides and isolates: in a name they reorder how the text around
#: them is shown (U+202E shows "baseline" as "enilesab", and a table's columns out of place).
_BIDI = frozenset({*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))})
_UNSAFE_RUN = re.compile(r"[^\w.-]+")
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                       *(f"LPT{i}" for i in range(1, 10))})


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid name, or None."""
    if len(name) > MAX_NAME_CHARS:
        return f"a name may have at most {MAX_NAME_CHARS} characters, this one has {len(name):,}"
    if not (name.isascii() and name.isprintable()):  # most names: no control, no bidirectional one
        for i, ch in enumerate(name):
            if unicodedata.category(ch) in _CONTROL:
                return (f"a name must not contain control characters; character {i + 1} is "
                        f"U+{ord(ch):04X}")
            if ch in _BIDI:
                return (f"a name must not contain bidirectional text controls (they change how "
                        f"the text around them is shown); character {i + 1} is U+{ord(ch):04X}")
    # A blank name shows as nothing in every table; " dev" and "dev" look alike but are two
    # names (a task's `skill: dev` then names no pool, a --policy "dev" no policy), and so do
    # "dev" and "dev" with a zero-width space (U+200B, a format character) after it.
    core = name.strip() if name.isascii() else trim_name(name)
    if not core:
        return "a name must not be blank (only spaces or invisible characters)"
    if core != name:
        return "a name must not begin or end with spaces or invisible characters"
    return None


#: Characters that show as nothing and join nothing: zero-width space, word joiner, byte-order
#: mark, soft hyphen, Mongolian vowel separator. Not the joiners (U+200C, U+200D) nor tag
#: characters, which emoji and scripts use, at a name's end too (a flag ends with a tag).
_INVISIBLE = frozenset("\u200b\u2060\ufeff\u00ad\u180e")


def trim_name(name: str) -> str:
    """``name`` without the spaces and invisible characters (:data:`_INVISIBLE`) at its ends."""
    def invisible(ch: str) -> bool:
        return ch.isspace() or ch in _INVISIBLE
    start, end = 0, len(name)
    while start < end and invisible(name[start]):
        start += 1
    while end > start and invisible(name[end - 1]):
        end -= 1
    return name[start:end]


def check_name(name: str) -> str:
    """Pydantic validator of a name: returns it unchanged or raises ValueError."""
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


def check_label(text: str) -> str:
    """Pydantic validator of a short label shown in tables, workbooks and on the terminal (the
    currency): printable characters only (an escape sequence would act on the terminal, a
    control character cannot go into a workbook)."""
    if not text.isprintable():
        raise ValueError("must be printable, without control characters (tabs, line breaks, "
                         "escape sequences)")
    return text


def safe_slug(name: str, fallback: str = "scenario") -> str:
    """A file-name-safe form of ``name``: the same for the same name, never empty.

    Letters and digits (any script), ``_``, ``-`` and ``.`` survive; every run of other
    characters (``/``, ``\\``, spaces, punctuation, control characters) becomes one ``-``.
    Leading and trailing ``.`` and ``-`` are stripped, so the slug is never ``.``, ``..`` or a
    hidden file; it has at most :data:`SLUG_MAX_CHARS` characters and no path separator. An
    empty result becomes ``fallback``; a Windows device name (``CON``, ``NUL``...) gets a ``_``.
    """
    slug = _UNSAFE_RUN.sub("-", unicodedata.normalize("NFC", name))
    slug = slug[:SLUG_MAX_CHARS].strip(".-") or fallback
    if slug.split(".")[0].upper() in _RESERVED:
        slug = "_" + slug
    return slug
