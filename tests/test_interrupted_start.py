"""Ctrl+C (or SIGTERM) in the first moments of a command: the message and exit code 130 of an
interruption, no traceback, and no half-made results folder left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main


def test_ctrl_c_while_the_folder_is_set_up_leaves_no_half_made_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # before: the folder stayed with only an empty chunks/ (no manifest): the same command
    # then said 'already exists and is not empty; use --resume' and --resume said 'not a
    # results folder: manifest.json is missing'
    from pmo_sim.experiment import store

    scenario = write_tiny(tmp_path)
    out = tmp_path / "new" / "run"
    real = store.write_synced

    def interrupted(path: Path, data: bytes | str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "write_synced", interrupted)
    args = ["run", str(scenario), "-n", "2", "-j", "1", "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 130, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert not (tmp_path / "new").exists()
    monkeypatch.setattr(store, "write_synced", real)
    result = CliRunner().invoke(main, args)  # the same command now runs
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").is_file()
