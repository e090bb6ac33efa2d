"""Reading an MPSPLIB portfolio file (Homberger's multi-project format, ``mp_*.xml``).

MPSPLIB (www.mpsplib.com; Homberger 2007) combines PSPLIB single-mode instances into
multi-project problems. A portfolio is a small XML file (its DTD is ``mp.dtd``)::

    <mp-list>
      <mp>
        <name>mp_j30_a2_nr2</name>
        <project-list>
          <project><filename>KolischInstanzen/j30/j309_9.sm</filename><start>0</start></project>
          <project><filename>KolischInstanzen/j30/j3033_3.sm</filename><start>5</start></project>
        </project-list>
        <resources>
          <resource>21</resource><resource>0</resource><resource>0</resource><resource>0</resource>
        </resources>
      </mp>
    </mp-list>

Each project is a ``.sm`` file (a path relative to the ``.xml``) released at ``start``.
Resource k is *global* (shared by every project, with that many units) when its capacity is
positive, and *local* when it is 0: each project then keeps its own pool of resource k with
the availability its ``.sm`` file gives.

The reader is built for hostile files: it keeps the line of every element for error messages,
refuses entity declarations (no "billion laughs"), reads no external DTD, bounds the size,
and only opens ``.sm`` files inside the folder of the ``.xml`` (a bare file name beside the
``.xml`` is accepted too, for instances whose folders were flattened).
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmo_sim.errors import Problem, ScenarioError
from pmo_sim.files import real_path
from pmo_sim.scenario.checks import MAX_HORIZON
from pmo_sim.scenario.limits import MAX_PEOPLE
from pmo_sim.scenario.names import trim_name

MAX_PROJECTS = 1_000
#: The most digits a whole number of an instance may have: PSPLIB's have a few, and Python's
#: int() refuses more than 4,300.
MAX_DIGITS = 15


def stem_name(path: Path) -> str:
    """The name an instance's file gives (a project's, a scenario's): its stem without the
    spaces and invisible characters around it (a name may not begin or end with one), or
    "instance" when blank."""
    return trim_name(path.stem) or "instance"


def whole_number(text: str) -> int | None:
    """``text`` as a whole number, 0 or more, in at most :data:`MAX_DIGITS` ASCII digits; None
    if it is not one. (``str.isdigit`` alone also takes "²", which int() then refused with a
    traceback, and digits of other scripts.)"""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS else None


def too_long(text: str) -> str:
    """What to add to "expected a whole number" for ``text``: its digits, if too many."""
    return f" of at most {MAX_DIGITS} digits" if text.isascii() and text.isdigit() else ""


@dataclass
class _Element:
    tag: str
    line: int
    column: int
    text: str = ""
    children: list[_Element] = field(default_factory=list)

    def all(self, tag: str) -> list[_Element]:
        return [c for c in self.children if c.tag == tag]


@dataclass(frozen=True)
class PortfolioProject:
    """One ``<project>``: its ``.sm`` file (resolved) and release date."""

    file: Path
    written: str  # the file name as the portfolio writes it
    release: int
    line: int  # of its <filename>
    start_at: tuple[int, int] = (0, 0)  # line and column of its <start>


@dataclass(frozen=True)
class Portfolio:
    name: str
    projects: tuple[PortfolioProject, ...]
    capacities: tuple[int, ...]  # per resource: > 0 global, 0 local to each project
    capacities_line: int


def _fail(path: Path, message: str, line: int | None = None, column: int | None = None,
          got: Any = None, has_got: bool = False) -> ScenarioError:
    return ScenarioError([Problem(message, file=str(path), line=line, column=column, got=got,
                                  has_got=has_got)])


def _parse_xml(path: Path, data: bytes) -> _Element:
    parser = xml.parsers.expat.ParserCreate()
    stack: list[_Element] = [_Element("", 0, 0)]

    def start(tag: str, _attrs: dict[str, str]) -> None:
        el = _Element(tag, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
        stack[-1].children.append(el)
        stack.append(el)

    def end(_tag: str) -> None:
        stack.pop()

    def text(chars: str) -> None:
        stack[-1].text += chars

    def entity(*_args: Any) -> None:
        raise _fail(path, "entity declarations are not allowed in a portfolio file",
                    parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise _fail(path, f"not valid XML: {xml.parsers.expat.ErrorString(exc.code)}", exc.lineno,
                    exc.offset + 1) from None
    return stack[0]


def _one(path: Path, parent: _Element, tag: str) -> _Element:
    found = parent.all(tag)
    if not found:
        raise _fail(path, f"<{parent.tag}> has no <{tag}> element", parent.line, parent.column)
    if len(found) > 1:
        raise _fail(path, f"a second <{tag}> in <{parent.tag}>; MPSPLIB gives one", found[1].line,
                    found[1].column)
    return found[0]


def _whole(path: Path, el: _Element, what: str, most: int) -> int:
    """The whole number of ``el``, at most ``most`` (the scenario's limit of what it becomes:
    refused here, at its element, not in the generated scenario's lines)."""
    value = el.text.strip()
    number = whole_number(value)
    if number is None:
        raise _fail(path, f"{what} must be a whole number, 0 or more{too_long(value).replace(' ', ', ', 1)}",
                    el.line, el.column, value, True)
    if number > most:
        raise _fail(path, f"{what} must be at most {most:,}", el.line, el.column, number, True)
    return number


def _resolve(path: Path, el: _Element) -> Path:
    written = el.text.strip().replace("\\", "/")
    if not written:
        raise _fail(path, "empty <filename>", el.line, el.column)
    try:
        root = real_path(path.parent)
        candidate = real_path(root / written)
    except OSError as exc:  # a loop of symbolic links
        raise _fail(path, f"cannot follow the project file: {exc.strerror}", el.line, el.column,
                    written, True) from exc
    if not candidate.is_relative_to(root):
        raise _fail(path, "a project file must be inside the folder of the portfolio file", el.line,
                    el.column, written, True)
    for option in (candidate, root / Path(written).name):
        if option.is_file():
            return option
    raise _fail(path, f"project file not found (looked for {written} and for {Path(written).name} "
                f"in {root})", el.line, el.column, written, True)


def read_portfolio(path: Path, data: bytes) -> Portfolio:
    """The portfolio in ``data`` (the bytes of ``path``), its project files resolved."""
    top = _parse_xml(path, data)
    mp = next((el for el in top.children if el.tag == "mp"), None)
    if mp is None and top.children:
        mp = next((el for el in top.children[0].children if el.tag == "mp"), None)
    if mp is None:
        raise _fail(path, "no <mp> element: not an MPSPLIB portfolio (<mp-list><mp>...</mp></mp-list>)", 1, 1)
    names = mp.all("name")
    name = names[0].text.strip() if names and names[0].text.strip() else stem_name(path)
    elements = _one(path, mp, "project-list").all("project")
    if not elements:
        raise _fail(path, "the <project-list> has no <project>", mp.line, mp.column)
    if len(elements) > MAX_PROJECTS:
        raise _fail(path, f"more than {MAX_PROJECTS} projects", elements[MAX_PROJECTS].line)
    projects = []
    for el in elements:
        filename, start = _one(path, el, "filename"), _one(path, el, "start")
        # a release becomes an arrival day before the horizon; a capacity a pool's units
        projects.append(PortfolioProject(_resolve(path, filename), filename.text.strip(),
                                         _whole(path, start, "a project's start", MAX_HORIZON - 1),
                                         filename.line, (start.line, start.column)))
    resources = _one(path, mp, "resources")
    capacities = tuple(_whole(path, r, "a resource capacity", MAX_PEOPLE)
                       for r in resources.all("resource"))
    if not capacities:
        raise _fail(path, "<resources> lists no <resource>", resources.line, resources.column)
    return Portfolio(name, tuple(projects), capacities, resources.line)
