"""The fast reader of a results folder's ``scenario.yaml`` (:mod:`pmo_sim.scenario.plain`):
the same tree as the careful reader for plain data, None for anything else, and a folder whose
``scenario.yaml`` was edited still refused (exit 2, the careful reader's located message)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main
from pmo_sim.errors import ScenarioError
from pmo_sim.experiment import load_results
from pmo_sim.scenario.limits import MAX_DEPTH
from pmo_sim.scenario.loader import dump_scenario, load_scenario, load_written_scenario
from pmo_sim.scenario.plain import read_plain_yaml
from pmo_sim.scenario.reader import read_yaml

BUNDLED = sorted(Path(__file__).parents[1].joinpath("scenarios").glob("*.yaml"))


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types (1 is not 1.0, nor True) and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True)) and \
            all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@pytest.mark.parametrize("text", [
    "a: yes\nb: 0x1F\nc: 1_000\nd: .inf\ne: ~\nf: -.nan\ng: 1e3\nh: 0o17\ni: 2020-01-01\nj: '5'",
    'k: "x\\ty"\nl: True\nm: FALSE\nn: Null\no: nULL\np: -_0\nq: 0x_\nr: +.5\ns: 1.',
    "- 1\n- 2", "a: |\n  x\n  y\nb: >\n  p\n  q\n", "? a\n: 1", "a: b\n  c d\n  e",
    "a: [1, {b: c}, 'd']\nb: {}\nc: []\nd: ''\ne:", "'1': 1\n1: 2\n2.5: x",
    "a: 99999999999999999999999999999", "x: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1),
])
def test_plain_data_reads_as_the_careful_reader_reads_it(text: str) -> None:
    assert _same(read_plain_yaml(text), read_yaml(text, "x")[0])


@pytest.mark.parametrize("text", [
    "a: 1\na: 2", "1: a\n1.0: b", "a: &x {b: 1}\nc: *x", "<<: {a: 1}", "'<<': 1", "a: !!str 5",
    "a: ! 5", "a: !foo 5", "null: 1", "~: 1", "true: 1", "[1, 2]: 3", "{a: 1}: 2",
    '"\\ud800": 1', 'a: "\\ud800"', "a: 1\n---\nb: 2", "", "# only\n", "a: 1\nb: [1, 2,",
    "a: b: c", "a: @x", "x: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH, "x: '" + "a" * 100_001 + "'",
    "a: " + "9" * 5000,
])
def test_anything_else_is_left_to_the_careful_reader(text: str) -> None:
    assert read_plain_yaml(text) is None


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenarios_and_their_dumps_read_alike(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = read_plain_yaml(text)
    assert fast is None or _same(fast, read_yaml(text, str(path))[0])
    written = tmp_path / "scenario.yaml"
    written.write_text(dump_scenario(load_scenario(path)), encoding="utf-8")
    dumped = written.read_text(encoding="utf-8")
    assert _same(read_plain_yaml(dumped), read_yaml(dumped, "x")[0])
    assert load_written_scenario(written) == load_scenario(written, max_events=None)


@pytest.mark.parametrize("edit, message", [
    (lambda t: t + "name: again\n", "duplicate key"),                 # not plain: careful reader
    (lambda t: t.replace("horizon:", "horizon: -1 #", 1), "horizon"),  # plain, invalid
    (lambda t: "\t" + t, "YAML syntax error"),
])
def test_an_edited_scenario_yaml_is_still_refused_where_it_is_wrong(
        tiny_results: Path, edit: Any, message: str) -> None:
    path = tiny_results / "scenario.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ScenarioError, match=message) as caught:
        load_written_scenario(path)
    assert caught.value.problems[0].line is not None  # located, by the careful reader
    result = CliRunner().invoke(main, ["forecast", str(tiny_results)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no longer loads" in result.output


def test_a_plain_edit_that_loads_is_caught_by_the_fingerprint(tiny_results: Path) -> None:
    path = tiny_results / "scenario.yaml"
    text = path.read_text(encoding="utf-8")
    assert read_plain_yaml(text) is not None
    path.write_text(text.replace("currency: EUR", "currency: USD"), encoding="utf-8")
    result = CliRunner().invoke(main, ["forecast", str(tiny_results)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "fingerprint" in result.output
    assert load_results(tiny_results).manifest["scenario_sha256"]


def test_the_ascii_shortcut_of_name_problem_judges_as_the_character_walk() -> None:
    """name_problem passes printable ASCII names without looking at each character (0.45 s of
    a 2,000-project scenario's 74,000 names): the same verdicts as the walk on every ASCII
    character, alone and within a name."""
    import unicodedata

    from pmo_sim.scenario import names

    for code in range(128):
        ch = chr(code)
        walk = unicodedata.category(ch) in names._CONTROL or ch in names._BIDI
        assert (names.name_problem(ch) is not None) == (walk or ch.isspace())  # blank: refused
        assert (names.name_problem(f"P{ch}1") is not None) == walk
    assert names.name_problem("P\u202e1") is not None and names.name_problem("Projekt ü") is None
