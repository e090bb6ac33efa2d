"""A problem's path is shown cut when it is longer than any path of names could be: an unknown
key of 99,000 characters (an explicit YAML key, ``? kkk...``) was echoed whole in each of its
problems, one line of ~100 KB per problem, 7 MB of messages for a file of 70 such keys."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pmo_sim.cli import main
from pmo_sim.errors import MAX_PATH_CHARS, Problem

HEAD = """name: b
horizon: 200
resources:
  dev: {headcount: 2, day_rate: 100}
projects:
  - {name: P, tasks: [{name: a, skill: dev, effort: 5}]}
"""


def test_a_huge_unknown_key_is_shown_cut_with_its_length(tmp_path: Path) -> None:
    key = "k" * 99_000
    path = tmp_path / "long.yaml"
    path.write_text(HEAD + "".join(f"? {key}{i}\n: 1\n" for i in range(3)))
    out = CliRunner().invoke(main, ["validate", str(path)])
    assert out.exit_code == 2
    lines = out.output.splitlines()
    assert len(lines) == 4 and all(len(line) < 1000 for line in lines), [len(x) for x in lines]
    assert "... (99,001 characters): unknown key; expected one of: name," in lines[0]
    document = CliRunner().invoke(main, ["validate", str(path), "--format", "json"])
    errors = json.loads(document.output)["errors"]
    assert all(len(e["path"]) <= MAX_PATH_CHARS for e in errors)


def test_a_path_of_names_is_shown_whole() -> None:
    path = ".".join(["n" * 200] * 1)
    assert str(Problem("wrong", path=path, file="f")) == f"f: {path}: wrong"
