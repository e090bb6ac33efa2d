"""Edges a third hostile-input probe found: each must end in exit 2 with a message naming what
is wrong, never a traceback, and nothing may be written that the command then refuses.

- a partial results folder whose every chunk is left out (corrupt, or the run interrupted
  before its first one): ``export`` failed with a traceback (``KeyError: 'v0'``), ``compare``
  said "unknown baseline 'base'; policies in these results: " (none);
- ``export --xlsx F --ema F``: the workbook was written, then ``--ema`` refused it as a file.
- ``sweep --vary PATH=low:high:steps`` with an end not finite: an integer of 400 digits failed
  with a traceback (OverflowError), 1e400 or .inf were reported as values "nan" and "inf" of
  the grid.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiment import write_tiny

from pmo_sim.cli import main
from pmo_sim.experiment import run_experiment
from pmo_sim.experiment.spec import Seams
from pmo_sim.scenario.loader import load_scenario


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("round3")
    out = base / "run"
    run_experiment(load_scenario(write_tiny(base), None), replications=4, seed=3, jobs=1, out=out)
    return out


@pytest.fixture
def hollow(tmp_path: Path) -> Path:
    """A partial results folder whose every chunk is corrupt (so every reader leaves it out)."""
    out = tmp_path / "partial"
    sc = load_scenario(write_tiny(tmp_path), None)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(sc, replications=6, seed=3, jobs=1, chunk_size=2, out=out, command="x",
                       seams=Seams(stop_after_chunks=2))
    for chunk in sorted((out / "chunks").glob("*.replications.parquet")):
        with chunk.open("ab") as f:
            f.write(b"x")
    return out


@pytest.mark.parametrize("args, what", [
    (("export", "{r}", "--xlsx", "{t}/x.xlsx"), "export"),
    (("export", "{r}", "--ema", "{t}/ema"), "export"),
    (("compare", "{r}"), "compare"),
    (("compare", "{r}", "--format", "json"), "compare"),
    (("report", "{r}", "--out", "{t}/r.html"), "report"),
])
def test_a_partial_folder_without_a_finished_replication_is_named(hollow: Path, tmp_path: Path,
                                                                  args: tuple[str, ...], what: str) -> None:
    # before: export --xlsx: exit 1, KeyError: 'v0'; export --ema: exit 0, two files of headers;
    # compare: "unknown baseline 'base'; policies in these results: "
    code, out = invoke(*(a.format(r=hollow, t=tmp_path) for a in args))
    assert code == 2, out
    assert f"these results have no finished replication: nothing to {what}" in out
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "ema").exists()
    assert not (tmp_path / "r.html").exists()


def test_the_api_compare_of_no_finished_replication_is_named(hollow: Path) -> None:
    import pmo_sim as ps
    from pmo_sim.errors import UsageError

    res = ps.load_results(hollow)
    for call in (res.compare, res.select_best):
        with pytest.raises(UsageError, match="no finished replication: nothing to compare"):
            call()


def test_export_to_one_path_for_the_workbook_and_the_ema_tables_writes_nothing(finished: Path,
                                                                               tmp_path: Path) -> None:
    # before: the workbook was written, then "error: .../x.xlsx is a file; --ema needs a folder"
    target = tmp_path / "x.xlsx"
    code, out = invoke("export", str(finished), "--xlsx", str(target),
                       "--ema", str(tmp_path / "." / "x.xlsx"))
    assert code == 2, out
    assert f"--xlsx and --ema name the same path, {target}" in out
    assert not target.exists()


@pytest.mark.parametrize("spec", [
    "1:" + "9" * 400 + ":2",   # before: OverflowError: int too large to convert to float, exit 1
    "1e3:1e400:2",             # before: "horizon: must be a finite number ... (got nan)", never typed
    ".nan:5:2",
    "1:.inf:3",
])
def test_a_sweep_range_whose_ends_are_not_finite_is_refused_as_given(finished: Path, tmp_path: Path,
                                                                     spec: str) -> None:
    code, out = invoke("sweep", str(finished / "scenario.yaml"), "-n", "1", "-j", "1", "--quiet",
                       "--out", str(tmp_path / "sw"), "--vary", f"horizon={spec}")
    assert code == 2, out
    assert "--vary: low and high must be finite numbers, of at most 1e308 in size (got 'horizon=" in out
    assert not (tmp_path / "sw").exists()


def test_a_sweep_range_wider_than_the_largest_float_is_refused(finished: Path, tmp_path: Path) -> None:
    code, out = invoke("sweep", str(finished / "scenario.yaml"), "-n", "1", "-j", "1", "--quiet",
                       "--out", str(tmp_path / "sw"), "--vary", "horizon=-9e307:9e307:3")
    assert code == 2, out
    assert ("--vary: high - low must be a finite number (at most 1.8e308) "
            "(got 'horizon=-9e307:9e307:3')") in out
