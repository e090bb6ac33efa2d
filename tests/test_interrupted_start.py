"""Ctrl+C (or SIGTERM) in the first moments of a command: the message and exit code 130 of an
interruption, no traceback, and no half-made results folder left behind."""

from __future__ import annotations

import subprocess
import sys
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


def test_ctrl_c_while_the_command_line_is_imported_is_an_interruption(tmp_path: Path) -> None:
    # before: Python's traceback of whatever import the Ctrl+C hit (the first second of
    # every command), ending with KeyboardInterrupt
    done = _program(tmp_path, ["validate", "x.yaml"],
                    "import builtins\n"
                    "real = builtins.__import__\n"
                    "def hit(name, *args, **kwargs):\n"
                    "    if name == 'pmo_sim.cli':\n"
                    "        raise KeyboardInterrupt\n"
                    "    return real(name, *args, **kwargs)\n"
                    "builtins.__import__ = hit\n")
    assert (done.returncode, done.stderr, done.stdout) == (130, "interrupted\n", "")


def _program(cwd: Path, args: list[str], patch: str) -> subprocess.CompletedProcess[str]:
    """The ``pmo-sim`` program run with ``args`` in a fresh process, after ``patch`` (code)."""
    code = f"import sys\n{patch}sys.argv = ['pmo-sim', *{args!r}]\n" \
           "from pmo_sim.__main__ import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_ctrl_c_while_click_parses_the_options_is_an_interruption(tmp_path: Path) -> None:
    # before: Click's "Aborted!" and exit 1 (seen from a SIGINT 1.5 s into `run -j 2` on a
    # loaded machine), not the interruption's message and 130
    done = _program(tmp_path, ["run", "x.yaml", "-n", "5"],
                    "import click\n"
                    "def hit(self, *args, **kwargs):\n"
                    "    raise KeyboardInterrupt\n"
                    "click.types.IntRange.convert = hit\n")
    assert (done.returncode, done.stderr.strip(), done.stdout) == (130, "interrupted", "")


def test_a_signal_while_the_scenario_validator_is_built_waits_for_the_build() -> None:
    # pydantic-core wraps an exception raised while it builds a validator into a SchemaError:
    # SIGTERM 0.9 s into `run -j 2` on a loaded host ended with pydantic's schema and exit 1
    code = ("import os, signal\n"
            "import pydantic._internal._model_construction as mc\n"
            "from pmo_sim.scenario.models import Scenario\n"
            "from pmo_sim.scenario.loader import load_scenario_text\n"
            "def stop(*args):\n"
            "    raise KeyboardInterrupt\n"
            "signal.signal(signal.SIGTERM, stop)\n"
            "real = mc.complete_model_class\n"
            "def build(*args, **kwargs):\n"
            "    os.kill(os.getpid(), signal.SIGTERM)\n"
            "    return real(*args, **kwargs)\n"
            "mc.complete_model_class = build\n"
            "try:\n"
            "    load_scenario_text('name: x')\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted once built:', Scenario.__pydantic_complete__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.stdout, done.returncode) == ("interrupted once built: True\n", 0), done.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_the_workers_fork_server_starts_with_ctrl_c_ignored() -> None:
    # A Ctrl+C goes to the terminal's whole process group, the fork server included: before,
    # one in the server's first second printed its traceback (from its interpreter's start-up
    # or its preloading) under the run's "interrupted". Read at once, before the server has
    # imported anything of its own: it was started ignoring SIGINT.
    code = ("import signal\n"
            "from multiprocessing import forkserver\n"
            "from pmo_sim.experiment.workers import start_early\n"
            "start_early('local', 2)\n"
            "pid = forkserver._forkserver._forkserver_pid\n"
            "status = open(f'/proc/{pid}/status').read().splitlines()\n"
            "ignored = int(next(s for s in status if s.startswith('SigIgn:')).split()[1], 16)\n"
            "print(bool(ignored >> (signal.SIGINT - 1) & 1), signal.getsignal(signal.SIGINT))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # ignored in the server; the parent's own handler put back
    assert done.stdout == "True <built-in function default_int_handler>\n"


def _class_built_when_interrupted(*args: object, **kwargs: object) -> None:
    # what Python raises when Ctrl+C comes while a class is built (a module being imported)
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise RuntimeError("Error calling __set_name__ on 'cached_property' instance 'epsneg' "
                           "in 'finfo'") from exc


def test_an_error_that_comes_of_ctrl_c_is_an_interruption(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # before: a traceback ending in "RuntimeError: Error calling __set_name__" and exit code 1
    # (found by sending SIGINT and SIGTERM to `pmo-sim run` at random moments)
    from pmo_sim.cli import scenario_cmds

    monkeypatch.setattr(scenario_cmds, "load_scenario", _class_built_when_interrupted)
    result = CliRunner().invoke(main, ["validate", str(write_tiny(tmp_path))])
    assert (result.exit_code, result.output) == (130, "interrupted\n"), result.exception


def test_an_error_that_does_not_come_of_ctrl_c_is_not_taken_for_one() -> None:
    from pmo_sim.interrupts import interrupted_by

    assert interrupted_by(KeyboardInterrupt())
    try:
        _class_built_when_interrupted()
    except RuntimeError as exc:
        assert interrupted_by(exc)
    assert not interrupted_by(RuntimeError("a bug"))
