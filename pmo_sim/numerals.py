"""Numbers as typed on the command line: ASCII digits and number syntax only.

Python's ``int()`` and ``float()`` read any Unicode decimal digit (``int("٣") == 3``,
``float("３.５") == 3.5``) and Unicode spaces around it, so an option read with them took
Arabic-Indic or full-width digits as numbers. Every option that takes a number (a day, a
count, an amount) is refused with :func:`is_plain` before it is read: the text must be ASCII,
and then ``int``/``float`` accept exactly the plain number syntax.
"""

from __future__ import annotations


def is_plain(text: str) -> bool:
    """Whether ``text`` may be read as a number: it holds ASCII characters only."""
    return text.isascii()


def not_plain(text: str) -> str:
    """Why ``text`` is refused as a number."""
    return f"{text!r} is not a number written with ASCII digits (0-9)"

