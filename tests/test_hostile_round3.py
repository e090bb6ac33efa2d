"""Edges a third hostile-input probe found: each must end in exit 2 with a message naming what
is wrong, never a traceback, and nothing may be written that the command then refuses.

- a partial results folder whose every chunk is left out (corrupt, or the run interrupted
  before its first one): ``export`` failed with a traceback (``KeyError: 'v0'``), ``compare``
  said "unknown baseline 'base'; policies in these results: " (none);
- ``export --xlsx F --ema F``: the workbook was written, then ``--ema`` refused it as a file;
- ``sweep --vary PATH=low:high:steps`` with an end not finite: an integer of 400 digits failed
  with a traceback (OverflowError), 1e400 or .inf were reported as values "nan" and "inf" of
  the grid;
- ``run --resume`` with another precision target than the run's (or none, or one added to a run
  of fixed replications): the target was silently replaced, or the run stopped short of its
  target and called it not met;
- a risks table that cannot be read (a column of the wrong type): the report and the workbook
  left their risk section out without a word, exit 0;
- ``fit H --out H`` and ``import psplib F --out F``: with --force the input was replaced;
- risk amounts near 1e300 in an edited risks table: numpy's overflow warnings on stderr.
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


@pytest.fixture
def grown(tmp_path: Path) -> tuple[Path, Path]:
    """A precision run (target 1e-6 of npv, at most 30 replications) interrupted after it added
    replications, and its scenario file."""
    scenario_file = write_tiny(tmp_path)
    out = tmp_path / "grown"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(load_scenario(scenario_file, None), replications=4, seed=3, jobs=1,
                       chunk_size=2, out=out, precision=1e-6, max_replications=30,
                       seams=Seams(stop_after_chunks=4))
    return scenario_file, out


def _resume(scenario_file: Path, out: Path, *extra: str) -> tuple[int, str]:
    return invoke("run", str(scenario_file), "--seed", "3", "-j", "1", "--out", str(out), "--resume",
                  "--quiet", "--format", "csv", *extra)


@pytest.mark.parametrize("extra, now", [
    # before: exit 3, "precision target NOT met: after 14 replications (the --max-replications
    # cap)", the folder marked complete at 14 of the 30 the target allowed
    ((), "none"),
    # before: the manifest's target replaced by the new one, exit 0
    (("--precision", "0.5", "--metric", "on_time_rate"), "--precision 0.5 --metric on_time_rate"),
    (("--precision", "1e-6", "--paired"), "--precision 1e-06 --metric npv --paired"),
    (("--precision", "1e-6", "--max-replications", "31"),
     "--precision 1e-06 --metric npv --max-replications 31"),
])
def test_a_precision_run_resumed_with_another_target_is_refused(grown: tuple[Path, Path],
                                                                extra: tuple[str, ...], now: str) -> None:
    scenario_file, out = grown
    before = (out / "manifest.json").read_bytes()
    code, text = _resume(scenario_file, out, *extra)
    assert code == 2, text
    assert (f"cannot resume {out}: the precision target differs (manifest: --precision 1e-06 "
            f"--metric npv --max-replications 30; now: {now})") in text
    assert (out / "manifest.json").read_bytes() == before


def test_a_precision_run_resumed_without_its_cap_keeps_the_recorded_one(grown: tuple[Path, Path]) -> None:
    # before: the cap went back to 10 x -n (40), not the 30 the run was given
    scenario_file, out = grown
    code, text = _resume(scenario_file, out, "--precision", "1e-6")
    assert code == 3, text  # the target (unreachable) not met within the cap
    assert "after 30 replications (the --max-replications cap)" in text


def test_a_run_of_fixed_replications_resumed_with_a_precision_target_is_refused(tmp_path: Path) -> None:
    # before: the 6-replication run became a precision run of up to 60 replications
    scenario_file = write_tiny(tmp_path)
    out = tmp_path / "partial"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(load_scenario(scenario_file, None), replications=6, seed=3, jobs=1,
                       chunk_size=2, out=out, command="x", seams=Seams(stop_after_chunks=2))
    code, text = _resume(scenario_file, out, "--precision", "0.1")
    assert code == 2, text
    assert "the precision target differs (manifest: none; now: --precision 0.1 --metric npv)" in text
    assert _resume(scenario_file, out)[0] == 0


@pytest.fixture(scope="module")
def with_risks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("risks")
    out = base / "run"
    run_experiment(load_scenario(Path(__file__).parent.parent / "scenarios" / "strategy.yaml", None),
                   replications=2, seed=0, jobs=1, out=out)
    return out


@pytest.mark.parametrize("command", ["report", "export"])
def test_a_risks_table_that_cannot_be_read_is_named_not_left_out(with_risks: Path, tmp_path: Path,
                                                                 command: str) -> None:
    # before: exit 0, the report without its risk section and the workbook without its risks
    # sheet, nothing said (the table's UsageError was taken for "no risk register")
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "edited"
    shutil.copytree(with_risks, folder)
    table = pq.read_table(folder / "risks.parquet")
    i = table.schema.get_field_index("delay")
    late = pa.array(["late"] * table.num_rows)
    pq.write_table(table.set_column(i, "delay", late), folder / "risks.parquet")
    out = tmp_path / ("r.html" if command == "report" else "r.xlsx")
    code, text = invoke(command, str(folder), "--out" if command == "report" else "--xlsx", str(out))
    assert code == 2, text
    assert (f"{folder / 'risks.parquet'} is not a pmo-sim risks table: it has columns of the wrong "
            f"type: delay (string, expected float)") in text
    assert not out.exists()


@pytest.mark.parametrize("command", ["fit", "import"])
@pytest.mark.parametrize("force", [True, False])
def test_an_output_that_is_the_input_file_is_refused(tmp_path: Path, command: str, force: bool) -> None:
    # before: with --force the history (or the instance) was replaced by the fragment (or the
    # scenario), exit 0; without it, "exists; use --force to overwrite it"
    import shutil

    root = Path(__file__).parent.parent
    source = (root / "scenarios" / "history" / "tasks.csv" if command == "fit"
              else root / "tests" / "data" / "psplib" / "j30" / "j301_1.sm")
    given = tmp_path / source.name
    shutil.copy(source, given)
    args = (["fit", str(given)] if command == "fit" else ["import", "psplib", str(given)])
    code, out = invoke(*args, "--out", str(tmp_path / "." / source.name), *(["--force"] if force else []))
    assert code == 2, out
    assert f"is the input file {given} this command reads: writing there would destroy it" in out
    assert given.read_bytes() == source.read_bytes()


def test_a_risks_table_of_huge_costs_is_reported_without_numpy_warnings(with_risks: Path,
                                                                         tmp_path: Path) -> None:
    # before: "RuntimeWarning: overflow encountered in square" from numpy, twice, on stderr
    import shutil
    import warnings

    import pyarrow as pa
    import pyarrow.parquet as pq

    import pmo_sim as ps

    folder = tmp_path / "edited"
    shutil.copytree(with_risks, folder)
    table = pq.read_table(folder / "risks.parquet")
    i = table.schema.get_field_index("cost")
    pq.write_table(table.set_column(i, "cost", pa.array([1e300] * table.num_rows)), folder / "risks.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drivers = ps.load_results(folder).risk_drivers()
    assert (drivers["cost"] >= 1e300).all()


def test_an_mpsplib_import_never_writes_over_a_project_file_it_reads(tmp_path: Path) -> None:
    # before: `import psplib mp.xml --out KolischInstanzen/j30/j309_9.sm --force` replaced
    # the portfolio's own project file with the scenario, exit 0
    import shutil

    source = Path(__file__).parent / "data" / "psplib" / "mpsplib"
    folder = tmp_path / "mp"
    shutil.copytree(source, folder)
    project = folder / "KolischInstanzen" / "j30" / "j309_9.sm"
    before = project.read_bytes()
    code, out = invoke("import", "psplib", str(folder / "mp_j30_a2_nr2.xml"), "--out", str(project),
                       "--force")
    assert code == 2, out
    assert f"is the input file {project} this command reads: writing there would destroy it" in out
    assert project.read_bytes() == before


@pytest.mark.parametrize("command", ["report", "compare", "export"])
def test_a_corrupt_chunk_left_out_is_a_warning_line_for_every_reader(tmp_path: Path, command: str) -> None:
    # before: report printed "chunk 0-1 (...) is corrupt ...; left out" without the
    # "warning: " that compare and export put before it
    out = tmp_path / "partial"
    sc = load_scenario(write_tiny(tmp_path), None)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(sc, replications=6, seed=3, jobs=1, chunk_size=2, out=out, command="x",
                       seams=Seams(stop_after_chunks=2))
    first = sorted((out / "chunks").glob("*.replications.parquet"))[0]
    with first.open("ab") as f:
        f.write(b"x")
    args = {"report": ["--out", str(tmp_path / "r.html")], "compare": [],
            "export": ["--xlsx", str(tmp_path / "x.xlsx")]}[command]
    code, text = invoke(command, str(out), *args)
    assert code == 0, text
    lines = [line for line in text.splitlines() if "is corrupt" in line]
    assert lines and all(line.startswith("warning: chunk ") for line in lines), text
