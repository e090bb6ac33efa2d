"""The report's page model: sections of paragraphs, tables and inline SVG figures.

:mod:`pmo_sim.analysis.report` builds a list of :class:`Section` objects and the Jinja2
template (``templates/report.html.j2``) renders them in order; this module holds the pieces
both share, and turns a matplotlib figure into self-contained, id-safe SVG markup.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from markupsafe import Markup
from matplotlib.figure import Figure

RC: dict[Any, Any] = {  # (Any keys: matplotlib types them as a Literal of rc names)
    "svg.fonttype": "none",          # text stays text: small, selectable, no glyph defs
    "svg.hashsalt": "pmo-sim",       # deterministic ids: the same results give the same file
    "text.parse_math": False,        # a '$' in a policy name is a dollar, not mathtext
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


# --------------------------------------------------------------------------- page model


@dataclass
class Cell:
    """A table cell: its main text, smaller lines below it, and a CSS class."""

    text: str
    sub: Sequence[str] = ()
    css: str = ""


@dataclass
class HtmlTable:
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    css: str = ""


@dataclass
class FigureBlock:
    number: int
    title: str
    caption: str
    svg: Markup


@dataclass
class Section:
    """One section of the page, in reading order."""

    id: str
    title: str
    headline: str = ""
    paragraphs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: list[HtmlTable] = field(default_factory=list)
    figures: list[FigureBlock] = field(default_factory=list)
    terms: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    css: str = ""


def svg_markup(fig: Figure, key: str, label: str) -> Markup:
    """``fig`` as inline SVG markup with no external references and ids unique to ``key``."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]                                   # no XML prolog or DTD URL
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)  # no RDF/creator URLs
    svg = re.sub(r'\s(?:xmlns(?::\w+)?|width|height)="[^"]*"', "", svg[:svg.index(">")]) \
        + svg[svg.index(">"):]                                      # HTML needs no namespaces
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{key}-\1"', svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', rf"\1{key}-\2", svg)
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{Markup.escape(label)}"', 1)
    return Markup(svg)  # noqa: S704 - matplotlib escapes the text it writes into SVG


def when(stamp: Any) -> str:
    """An ISO timestamp of the manifest as ``2025-01-31 14:05 UTC`` (as is if unparsable)."""
    if not stamp:
        return ""
    try:
        t = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc)
    return f"{t:%Y-%m-%d %H:%M}" + (" UTC" if t.tzinfo is not None else "")
