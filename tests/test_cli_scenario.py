"""``pmo-sim validate``, ``schema`` and ``new`` through Click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import MINIMAL_YAML

from pmo_sim.cli import main
from pmo_sim.scenario.loader import load_scenario

TINY = MINIMAL_YAML


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_ok(tiny: Path) -> None:
    code, out, err = invoke("validate", str(tiny))
    assert code == 0, err
    assert out.splitlines() == [
        "ok", "scenario 'tiny': 1 policy (default), 1 pool (developers), 1 project",
    ]


def test_validate_problems_on_stderr(tiny: Path) -> None:
    code, out, err = invoke("validate", str(tiny), "--set", "horizon=0", "--set", "resources.devs.x=1")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "--set:2:1: resources.devs.x: no such key; expected one of: developers (got 'devs')",
        "--set:1:1: horizon: must be greater than 0 (got 0)",
        "2 problems found.",
    ]


def test_validate_json(tiny: Path) -> None:
    code, out, _ = invoke("validate", str(tiny), "--format", "json")
    assert code == 0 and json.loads(out) == {"ok": True, "errors": []}
    tiny.write_text(TINY.replace("headcount: 2", "headcount: 5.5"), encoding="utf-8")
    code, out, err = invoke("validate", str(tiny), "--format", "json")
    assert code == 2 and err == ""
    assert json.loads(out) == {"ok": False, "errors": [{
        "file": str(tiny), "line": 4, "column": 27, "path": "resources.developers.headcount",
        "message": "expected a whole number (got 5.5)",
    }]}


def test_validate_json_for_a_missing_file(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(tmp_path / "none.yaml"), "--format", "json")
    assert code == 2
    assert json.loads(out)["errors"][0]["message"] == "file not found"


def test_bad_set_syntax_is_a_usage_error(tiny: Path) -> None:
    code, _, err = invoke("validate", str(tiny), "--set", "horizon")
    assert code == 2 and "expected PATH=VALUE" in err


def test_schema_to_stdout_and_file(tmp_path: Path) -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["title"] == "pmo-sim scenario"
    target = tmp_path / "scenario.schema.json"
    code, out, _ = invoke("schema", "--out", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text(encoding="utf-8")) == schema


def test_new_writes_a_starter_that_validates(tmp_path: Path) -> None:
    code, out, _ = invoke("new", "my-portfolio.yaml", "--dir", str(tmp_path / "scenarios"))
    assert code == 0
    target = tmp_path / "scenarios" / "my-portfolio.yaml"
    assert f"wrote {target}" in out
    assert load_scenario(target).name == "my-portfolio"
    assert invoke("validate", str(target))[0] == 0


def test_new_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    target.write_text("precious", encoding="utf-8")
    code, _, err = invoke("new", "mine", "--dir", str(tmp_path))
    assert code == 2 and "already exists; use --force" in err
    assert target.read_text(encoding="utf-8") == "precious"
    assert invoke("new", "mine", "--dir", str(tmp_path), "--force")[0] == 0
    assert load_scenario(target).name == "mine"


def test_new_rejects_a_path_as_name(tmp_path: Path) -> None:
    code, _, err = invoke("new", "a/b", "--dir", str(tmp_path))
    assert code == 2 and "use --dir" in err


@pytest.mark.parametrize("command", ["validate", "schema", "new"])
def test_help_has_examples(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0 and "Examples:" in out and f"pmo-sim {command}" in out
