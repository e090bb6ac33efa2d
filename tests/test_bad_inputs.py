"""Every broken scenario gets exit code 2 and clear, located messages, never a traceback.

Each file in ``tests/bad_inputs`` holds one case: ``# expect:`` lines give exact problem
lines (or distinctive substrings of them) and ``# set:`` lines give ``--set`` overrides.
Inputs that cannot carry a comment (wrong encodings, an empty file) are in ``BINARY_CASES``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main

BAD = Path(__file__).parent / "bad_inputs"
LOCATED = re.compile(r"^(?:[\w.-]+\.yaml|--set):\d+:\d+: ")

BINARY_CASES = {
    "latin1.yaml": (
        "name: caf\xe9\nhorizon: 100\n".encode("latin-1"),
        "latin1.yaml:1:10: the file is not UTF-8 text (byte 0xe9 cannot be decoded); save it as UTF-8",
    ),
    "utf16.yaml": (
        "name: tiny\nhorizon: 100\n".encode("utf-16"),
        "utf16.yaml:1:1: the file is UTF-16 encoded; save it as UTF-8",
    ),
    "empty.yaml": (b"", "empty.yaml:1:1: the file is empty"),
    "blank.yaml": (b"\n   \n", "blank.yaml:1:1: the file is empty"),
    "nul.yaml": (b"name: a\x00b\nhorizon: 1\n",
                 "nul.yaml:1:8: YAML syntax error: control characters are not allowed"),
}


def _case(path: Path) -> tuple[list[str], list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    expects = [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]
    sets = [line.removeprefix("# set: ") for line in lines if line.startswith("# set: ")]
    return expects, sets


def _validate(name: str, sets: list[str]) -> tuple[int, str]:
    args = ["validate", name]
    for item in sets:
        args += ["--set", item]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def test_corpus_is_large_and_every_case_has_an_expectation() -> None:
    files = sorted(BAD.glob("*.yaml"))
    assert len(files) >= 40
    for path in files:
        assert _case(path)[0], f"{path.name} has no '# expect:' line"


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_input(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BAD)
    expects, sets = _case(path)
    code, output = _validate(path.name, sets)
    assert code == 2, output
    assert "Traceback" not in output
    problems = output.splitlines()[:-1]
    assert problems and all(LOCATED.match(line) for line in problems), output
    assert re.fullmatch(r"\d+ problems? found\.", output.splitlines()[-1])
    for expect in expects:
        assert any(expect in line for line in problems), f"missing {expect!r} in:\n{output}"


@pytest.mark.parametrize("name", sorted(BINARY_CASES))
def test_bad_bytes(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data, expect = BINARY_CASES[name]
    (tmp_path / name).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    code, output = _validate(name, [])
    assert code == 2
    assert "Traceback" not in output
    assert LOCATED.match(output)
    assert expect in output, output


def test_missing_file_is_reported_without_traceback(tmp_path: Path) -> None:
    code, output = _validate(str(tmp_path / "nope.yaml"), [])
    assert code == 2
    assert f"{tmp_path / 'nope.yaml'}: file not found" in output
    assert "Traceback" not in output
