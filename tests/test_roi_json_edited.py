"""An edited ``roi.json`` is refused as an edited manifest is: a key given twice (before,
its last value was taken silently), JSON nested deeper than Python's parser goes (before, a
traceback: RecursionError) and a file far larger than pmo-sim writes (before, read whole)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pmo_sim.cli import main

SCENARIOS = Path(__file__).parents[1] / "scenarios"


@pytest.fixture(scope="module")
def roi_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("roi")
    out = base / "roi"
    result = CliRunner().invoke(main, ["roi", str(SCENARIOS / "training.yaml"), "--policy",
                                       "upskill", "--programme", "dev-course", "-n", "2", "-j",
                                       "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _report(folder: Path, tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["report", str(folder), "--out", str(tmp_path / "r.html"),
                                       "--force"])
    return result.exit_code, result.output


def test_a_key_given_twice_is_refused(roi_folder: Path, tmp_path: Path) -> None:
    path = roi_folder / "roi.json"
    original = path.read_text()
    assert _report(roi_folder, tmp_path)[0] == 0
    try:
        at = original.index('"question": {') + len('"question": {')
        path.write_text(original[:at] + '"policy": "no_training", ' + original[at:])
        code, output = _report(roi_folder, tmp_path)
        assert code == 2
        assert output == (f"error: {path}: the key 'policy' is given more than once in one "
                          f"object (got 'no_training', then 'upskill'); pmo-sim writes each key once: "
                          f"the file was edited\n")
        path.write_text("[" * 100_000 + "]" * 100_000)
        assert _report(roi_folder, tmp_path) == (
            2, f"error: {path} is not a readable ROI record: nested deeper than pmo-sim writes\n")
        path.write_text(original + " " * 2**20)
        assert _report(roi_folder, tmp_path) == (
            2, f"error: {path} is not a readable ROI record: larger than 1 MiB\n")
    finally:
        path.write_text(original)
