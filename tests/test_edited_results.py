"""Edits to a results folder that used to be read as if pmo-sim had written them: each is
refused with a message naming the file, the field and what was given (exit 2, no traceback),
and nothing in the folder is changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_hostile_results import SEED, N, _sandbox, _snapshot, pristine

from pmo_sim.cli import main

__all__ = ["pristine"]  # the fixture, shared with test_hostile_results


def _refused(args: list[str], folder: Path) -> str:
    before = _snapshot(folder)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert _snapshot(folder) == before
    return result.output


# --------------------------------------------------------------------------- manifest.json


@pytest.mark.parametrize("which, edit, expected", [
    # a second "seed" before pmo-sim's own: the last one was taken, silently
    ("complete", ('  "seed": ', '  "seed": 99,\n  "seed": '),
     f"the key 'seed' is given more than once in one object (got 99, then {SEED})"),
    ("partial", ('"rows":', '"rows":0,"rows":'),
     "the key 'rows' is given more than once in one object (got 0, then "),
])
def test_a_key_given_twice_in_the_manifest_is_refused(tmp_path: Path, pristine: dict[str, Path],
                                                      which: str, edit: tuple[str, str],
                                                      expected: str) -> None:
    folder, _ = _sandbox(tmp_path, pristine, which)
    manifest = folder / "manifest.json"
    text = manifest.read_text()
    assert edit[0] in text
    manifest.write_text(text.replace(edit[0], edit[1], 1))
    for args in (["compare", str(folder)], ["report", str(folder)],
                 ["run", str(pristine["scenario"]), "-n", str(N), "--seed", str(SEED), "-j", "1",
                  "--out", str(folder), "--resume", "--quiet"]):
        output = _refused(args, folder)
        assert output.startswith(f"error: {manifest}: {expected}"), output
        assert output.endswith("; pmo-sim writes each key once: the manifest was edited\n"), output
