"""Generated hostile scenarios: never a traceback, never exit 1 from validation, never an escape.

The strategies start from a small valid scenario and break it the ways a careless or hostile
user would: values replaced by numbers of every magnitude (0, negative, 1e-300, 1e300, 2**63,
NaN, infinity), odd text (NUL, control characters, ``../``, absolute paths, very long, any
Unicode), wrong types, random extra structure, and YAML features (anchors and aliases, merge
keys, standard and forbidden tags). Each file goes through ``pmo-sim validate`` (Click's
CliRunner); a file that validates is also run (``run -n 1 -j 1``). Every example must end with
exit 0 or 2, every problem line must be located, and nothing may be written outside the
example's own folder. Run more examples with ``PMO_SIM_FULL=1``.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import FULL

from pmo_sim.cli import main

LOCATED = re.compile(r"^(?:s\.yaml|--set):\d+:\d+: ")
SETTINGS = settings(max_examples=300 if FULL else 40, deadline=timedelta(seconds=30),
                    suppress_health_check=[HealthCheck.too_slow], derandomize=not FULL)

BASE: dict[str, Any] = {
    "name": "hostile",
    "horizon": 60,
    "resources": {"dev": {"headcount": 2, "day_rate": 100}, "qa": {"headcount": 1}},
    "projects": [
        {"name": "A", "due": 40, "tasks": [
            {"name": "build", "skill": "dev",
             "effort": {"dist": "triangular", "low": 2, "mode": 4, "high": 8}},
            {"name": "test", "skill": "qa", "effort": 3, "after": ["build"]},
        ]},
    ],
    "intake": {"arrivals": {"dist": "exponential", "mean": 20}, "count": 3,
               "templates": [{"name": "small", "tasks": [{"name": "do", "skill": "dev", "effort": 2}]}]},
    "changes": {"per_project_per_year": 2, "effort_added": 0.1},
    "workforce": {"attrition_per_year": 0.1, "hiring_delay": 5},
    "pmo": {"resource_manager": {"allocation": "fifo"}},
    "policies": {"base": {}, "focused": {"resource_manager": {"wip_limit": 1}}},
}

NUMBERS = st.sampled_from([0, -1, 1, 2, 0.5, 1e-300, -1e-300, 1e300, -1e300, 2**63, -(2**63), 10**30,
                           float("nan"), float("inf"), float("-inf"), 1e15, 1e16, 100_000, 100_001])
TEXT = st.one_of(
    st.sampled_from(["", "\x00", "a\x00b", "tab\there", "line\nbreak", "\x1b[31mred", "../../x",
                     "/abs/x", "..", ".", "C:\\x", "con", "dev", "qa", "build", "<<", "~", "null",
                     "yes", "0x1F", "1_000", ".inf", "\u202e", "é" * 3, "x" * 300]),
    st.text(max_size=12),
)
SCALARS = st.one_of(NUMBERS, TEXT, st.booleans(), st.none(), st.integers(), st.floats())
DISTS = st.fixed_dictionaries({"dist": st.sampled_from(
    ["fixed", "uniform", "triangular", "pert", "normal", "lognormal", "exponential", "gamma",
     "empirical", "choice", "weibull"])}, optional={
    "value": NUMBERS, "low": NUMBERS, "mode": NUMBERS, "high": NUMBERS, "mean": NUMBERS, "sd": NUMBERS,
    "lambda": NUMBERS, "values": st.lists(NUMBERS, max_size=3), "weights": st.lists(NUMBERS, max_size=3)})
VALUES = st.recursive(st.one_of(SCALARS, DISTS), lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, path + (i,))
    return out


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    for seg in path[:-1]:
        tree = tree[seg]
    tree[path[-1]] = value


@st.composite
def scenario_texts(draw: st.DrawFn) -> str:
    """YAML text of a broken scenario: mutated values, extra keys, aliases, merges, tags."""
    tree = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(0, 4))):
        paths = _paths(tree)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "extra", "share"]))
        target: Any = tree
        for seg in path[:-1]:
            target = target[seg]
        if action == "replace":
            _set(tree, path, draw(VALUES))
        elif action == "extra" and isinstance(target, dict):
            target[draw(TEXT)] = draw(VALUES)
        elif action == "share":  # the same object twice: PyYAML writes an anchor and an alias
            other = draw(st.sampled_from(paths))
            node: Any = tree
            for seg in other:
                node = node[seg]
            if not _paths(node) or path[: len(other)] != other:
                _set(tree, path, node)
    text = yaml.safe_dump(tree, allow_unicode=draw(st.booleans()), sort_keys=False)
    return draw(_yaml_features(text))


@st.composite
def _yaml_features(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 2))):
        feature = draw(st.sampled_from(["merge", "tag", "bad_tag", "merge_scalar", "alias_bomb"]))
        if feature == "merge" and "  dev:" in lines and "  qa:" in lines:  # qa: {<<: *dev, ...}
            lines[lines.index("  dev:")] = "  dev: &d"
            lines.insert(lines.index("  qa:") + 1, "    <<: *d")
        elif feature == "tag":
            lines = [ln.replace("horizon: ", "horizon: !!int ", 1) for ln in lines]
        elif feature == "bad_tag":
            tag = draw(st.sampled_from(["!!python/object/apply:os.system", "!custom", "!!binary",
                                        "!!python/name:builtins.exec", "!!set"]))
            lines = [ln.replace("name: ", f"name: {tag} ", 1) for ln in lines]
        elif feature == "merge_scalar":
            lines[:0] = ["x: &x 3", "y: {<<: *x}"]
        else:
            lines[:0] = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
                f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    return "\n".join(lines) + "\n"


def _check_output(result: Any) -> None:
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        problems = result.output.splitlines()[:-1]
        assert problems and all(LOCATED.match(line) for line in problems), result.output


def _tree(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


@SETTINGS
@given(text=scenario_texts(), sets=st.lists(st.tuples(st.sampled_from(
    ["name", "horizon", "projects.0.name", "projects.²", "policies.focused.resource_manager.wip_limit",
     "resources.dev.headcount", "projects.A.tasks.0.effort"]), st.sampled_from(
    ["../../x", "/abs/x", "1", "abc", "9223372036854775808", "[1,", "!!python/object:x y", "{a: 1}",
     "\x00", "1e300", "-1"])), max_size=2))
def test_hostile_scenarios_never_crash_or_escape(text: str, sets: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outer = Path(tmp)
        cwd = outer / "work"
        cwd.mkdir()
        (cwd / "s.yaml").write_text(text, encoding="utf-8")
        flags = [x for p, v in sets for x in ("--set", f"{p}={v}")]
        runner = CliRunner()
        before = os.getcwd()
        os.chdir(cwd)  # the default results folder is relative: results/<slug>-<timestamp>
        try:
            result = runner.invoke(main, ["validate", "s.yaml", *flags])
            _check_output(result)
            event(f"validate exit {result.exit_code}")
            if result.exit_code == 0:  # what validates, runs
                run = runner.invoke(main, ["run", "s.yaml", "-n", "1", "-j", "1", "-q", *flags])
                assert run.exit_code == 0, run.output
        finally:
            os.chdir(before)
        written = _tree(outer)
        assert all(p.parts[0] == "work" for p in written), written
        assert all(p.parts[1] in ("s.yaml", "results") for p in written if len(p.parts) > 1), written
