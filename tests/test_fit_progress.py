"""``pmo-sim fit`` draws two figures per skill (about a quarter of a second each: a history of
100 skills took a minute) and shows a progress bar counting them, as ``run`` does for its
replications: on stderr, only when it is a terminal, never with ``--quiet``; stdout is the
same either way. Before, it was silent until the table."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from pmo_sim.io.calibration import calibrate

HISTORY = Path(__file__).parents[1] / "scenarios" / "history" / "tasks.csv"


def test_calibrate_reports_each_figure_written(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    result = calibrate(HISTORY, tmp_path / "f.yaml", progress=lambda done, total: calls.append((done, total)))
    n = len(result.figures)
    assert n > 2 and calls == [(k, n) for k in range(n + 1)]


def _fit_with_stderr_on_a_terminal(tmp_path: Path, *options: str) -> tuple[str, str]:
    """stdout and stderr of ``pmo-sim fit`` run with its stderr on a pseudo-terminal."""
    main, other = pty.openpty()
    try:
        child = subprocess.Popen([sys.executable, "-m", "pmo_sim", "fit", str(HISTORY), "--out",
                                  str(tmp_path / "f.yaml"), "--force", *options],
                                 stdout=subprocess.PIPE, stderr=other, text=True,
                                 env={**os.environ, "COLUMNS": "100"})
        os.close(other)
        err = b""
        while chunk := _read(main):  # read as it comes: a full terminal would block the child
            err += chunk
        out = child.communicate(timeout=300)[0]
    finally:
        os.close(main)
    assert child.returncode == 0, err
    return out, err.decode(errors="replace")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal's other side is closed: all is read
        return b""


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_fit_shows_progress_on_a_terminal_only_and_not_when_quiet(tmp_path: Path) -> None:
    shown, bar = _fit_with_stderr_on_a_terminal(tmp_path)
    quiet, nothing = _fit_with_stderr_on_a_terminal(tmp_path, "--quiet")
    assert "figures" in bar and "/" in bar
    assert "figures" not in nothing
    assert shown == quiet and "fragment:" in shown and "figures" not in shown.split("fragment:")[0]
