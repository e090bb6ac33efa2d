"""The Monte Carlo runner: reproducibility across jobs and chunkings, validation, results API.

The tiny scenario here (two pools, ten generated projects, two policies, 200 days) is shared
with the store, CLI and Dask tests; it runs a replication in ~10 ms.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_sim.errors import ReplicationFailed, UsageError
from pmo_sim.experiment import Results, load_results, run_experiment
from pmo_sim.experiment.backends import (
    CHUNK_EVENTS,
    CHUNK_ROWS,
    SHORTEST,
    Load,
    auto_chunk_size,
    chunk_ranges,
    load_of,
    missing_ranges,
)
from pmo_sim.experiment.replicate import run_replication
from pmo_sim.experiment.spec import Seams
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario
from pmo_sim.schema import KEY_COLUMNS, KPI_COLUMNS, POOLS, PROJECTS

ROOT = Path(__file__).resolve().parents[1]

TINY_YAML = """\
name: tiny
horizon: 200
discount_rate: 0.08
resources:
  dev: {headcount: 4, day_rate: 500}
  ana: {headcount: 2, day_rate: 550}
intake:
  arrivals: {dist: exponential, mean: 12}
  count: 10
  templates:
    - name: enh
      due: 40
      value_per_day: {dist: lognormal, mean: 800, sd: 300}
      tasks:
        - {name: spec, skill: ana, effort: {dist: triangular, low: 2, mode: 4, high: 8}}
        - {name: build, skill: dev, effort: {dist: pert, low: 5, mode: 10, high: 30}, people: 2,
           after: [spec]}
changes:
  per_project_per_year: 3
  effort_added: {dist: lognormal, mean: 0.15, sd: 0.1}
  disruption: {dist: exponential, mean: 2}
policies:
  base: {}
  focused:
    resource_manager: {allocation: wsjf, wip_limit: 2}
"""

TABLES = ("replications", "projects", "pools")


def write_tiny(folder: Path, text: str = TINY_YAML) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(text)
    return path


def assert_same_tables(a: Results, b: Results) -> None:
    for name in TABLES:
        pdt.assert_frame_equal(getattr(a, name), getattr(b, name))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_scenario(write_tiny(tmp_path_factory.mktemp("sc")), None)


@pytest.fixture(scope="module")
def reference(tiny: Scenario) -> Results:
    """12 replications, serial, one replication per chunk."""
    return run_experiment(tiny, replications=12, seed=3, jobs=1, chunk_size=1)


def test_tables_have_spec_columns_and_sorted_rows(reference: Results, tiny: Scenario) -> None:
    res = reference
    assert tuple(res.replications.columns) == KEY_COLUMNS + KPI_COLUMNS
    assert tuple(res.projects.columns) == KEY_COLUMNS + PROJECTS.names
    assert tuple(res.pools.columns) == KEY_COLUMNS + POOLS.names
    expected = [(p, r) for p in tiny.policy_names for r in range(12)]
    assert list(res.replications[["policy", "replication"]].itertuples(index=False, name=None)) == expected
    assert pd.api.types.is_string_dtype(res.replications["policy"])
    assert res.manifest["status"] == "complete" and res.path is None
    # the rows are exactly what the engine returns for that (seed, replication)
    rec = run_replication(tiny, 5, 3, ["focused"])[0]
    row = res.replications.query("policy == 'focused' and replication == 5").iloc[0]
    assert row["npv"] == pytest.approx(rec.kpis["npv"], rel=0, abs=0)


@pytest.mark.parametrize("chunk_size", [5, 12, 50])
def test_results_do_not_depend_on_chunking(tiny: Scenario, reference: Results, chunk_size: int) -> None:
    assert_same_tables(run_experiment(tiny, replications=12, seed=3, jobs=1, chunk_size=chunk_size),
                       reference)


def test_process_pool_matches_serial(tiny: Scenario, reference: Results) -> None:
    assert_same_tables(run_experiment(tiny, replications=12, seed=3, jobs=2), reference)


def test_other_seed_differs(tiny: Scenario, reference: Results) -> None:
    other = run_experiment(tiny, replications=12, seed=4, jobs=1)
    assert not other.replications["npv"].equals(reference.replications["npv"])


def test_policy_subset_in_scenario_order(tiny: Scenario, reference: Results) -> None:
    res = run_experiment(tiny, replications=12, seed=3, jobs=1, policies=["focused"])
    assert res.policies == ["focused"]
    expected = reference.replications.query("policy == 'focused'").reset_index(drop=True)
    pdt.assert_frame_equal(res.replications, expected)


def test_unknown_policy_lists_known_ones(tiny: Scenario) -> None:
    with pytest.raises(UsageError, match="base, focused"):
        run_experiment(tiny, replications=2, policies=["nope"])


@pytest.mark.parametrize("kwargs", [
    {"replications": 0}, {"seed": -1}, {"precision": 0.0}, {"metric": "nope"},
    {"replications": 10, "max_replications": 5}, {"backend": "cloud"}, {"jobs": 0},
    {"resume": True},
])
def test_bad_options_are_usage_errors(tiny: Scenario, kwargs: dict) -> None:
    with pytest.raises(UsageError):
        run_experiment(tiny, **{"replications": 2, **kwargs})


def test_chunk_helpers() -> None:
    assert chunk_ranges([0, 1, 2, 5, 6, 9], 2) == [(0, 2), (2, 3), (5, 7), (9, 10)]
    assert auto_chunk_size(100, 2) == 13 and auto_chunk_size(10_000, 2) == 50
    assert auto_chunk_size(3, 8) == 1


def test_the_last_chunks_shrink_for_the_workers_to_finish_together() -> None:
    sizes = [b - a for a, b in missing_ranges([], 400, 50, workers=2)]
    assert sizes == [50, 50, 50, 50, 50, 38, 28, 21, 16, 12, 9, 7, 5, 4, 4, 4, 2]
    assert [b - a for a, b in missing_ranges([], 400, 50)] == [50] * 8  # one worker: all equal
    # a resume counts what is left, not the whole run
    assert list(missing_ranges([(0, 350)], 400, 50, workers=2)) == [
        (350, 363), (363, 373), (373, 380), (380, 385), (385, 389), (389, 393), (393, 397),
        (397, 400)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 40)), max_size=6),
       st.integers(0, 320), st.integers(1, 60), st.integers(1, 9))
def test_missing_ranges_cover_exactly_what_is_missing(spans: list[tuple[int, int]], target: int,
                                                      size: int, workers: int) -> None:
    done: list[tuple[int, int]] = []
    for start, length in sorted(spans):  # chunks never overlap
        if not done or start >= done[-1][1]:
            done.append((start, start + length))
    covered = {r for a, b in done for r in range(a, b)}
    ranges = list(missing_ranges(done, target, size, workers))
    got = [r for a, b in ranges for r in range(a, b)]
    assert got == [r for r in range(target) if r not in covered]  # each once, in order
    assert all(0 < b - a <= size for a, b in ranges)
    if workers == 1:  # cut only by the size and the chunks already done
        assert ranges == [r for a, b in _gaps(done, target) for r in _equal(a, b, size)]
    else:  # never below a sixteenth of the size unless a gap or the end cuts it
        ends = {a for a, _ in done} | {target}
        assert all(b - a >= -(-size // SHORTEST) or b in ends for a, b in ranges)


def _gaps(done: list[tuple[int, int]], target: int) -> list[tuple[int, int]]:
    out, at = [], 0
    for a, b in [*done, (target, target)]:
        if at < min(a, target):
            out.append((at, min(a, target)))
        at = max(at, b)
    return out


def _equal(a: int, b: int, size: int) -> list[tuple[int, int]]:
    return [(x, min(x + size, b)) for x in range(a, b, size)]


def test_chunks_are_sized_by_the_work_and_rows_of_a_replication() -> None:
    # Without an estimate: at most 50 replications a chunk; with one, at most CHUNK_EVENTS of
    # work and CHUNK_ROWS rows, and still about four chunks per worker.
    reference = load_of([load_scenario(ROOT / "benchmarks" / "reference.yaml")], 3)
    assert reference.rows == 3 * (1 + 40 + 4) and 2_000 < reference.events < 3_500
    assert auto_chunk_size(400, 2, reference) == 50  # four chunks per worker bind first
    assert auto_chunk_size(10_000, 2, reference) == int(CHUNK_EVENTS / reference.events)
    cheap = Load(events=24.0, rows=2.0)
    assert auto_chunk_size(30_000, 2, cheap) == 3_750 and auto_chunk_size(30_000, 2) == 50
    assert auto_chunk_size(1_000, 1, Load(events=100.0, rows=2_000.0)) == CHUNK_ROWS // 2_000
    assert auto_chunk_size(1_000, 2, Load(events=500_000.0, rows=8_000.0)) == 1
    assert auto_chunk_size(7, 2, Load(events=0.0, rows=0.0)) == 1


def test_precision_adds_replications_until_met(tiny: Scenario) -> None:
    res = run_experiment(tiny, replications=10, seed=0, jobs=1, precision=0.05, metric="npv",
                         max_replications=60)
    spec = res.manifest["precision"]
    n = res.replications["replication"].nunique()
    assert n == spec["replications_needed"] == res.manifest["replications"]
    assert 10 <= n <= 60
    if spec["target_met"]:
        from pmo_sim.analysis.stats import relative_half_widths

        assert (relative_half_widths(res.replications, "npv") <= 0.05).all()
    else:
        assert n == 60
    # deterministic: the same run takes the same decisions
    again = run_experiment(tiny, replications=10, seed=0, jobs=2, precision=0.05, metric="npv",
                           max_replications=60)
    assert_same_tables(res, again)


def test_unreachable_precision_stops_at_max(tiny: Scenario) -> None:
    res = run_experiment(tiny, replications=4, seed=0, jobs=1, precision=1e-9, paired=True,
                         max_replications=14)
    assert res.manifest["precision"]["target_met"] is False
    assert res.replications["replication"].nunique() == 14


def _failing_replicate(scenario: Scenario, replication: int, seed: int, policies: list[str]) -> list:
    if replication == 3 and "focused" in policies:
        raise ValueError("boom")
    return run_replication(scenario, replication, seed, policies)


def test_failed_replication_is_reported_and_run_stays_partial(tiny: Scenario, tmp_path: Path) -> None:
    with pytest.raises(ReplicationFailed) as info:
        run_experiment(tiny, replications=6, seed=7, jobs=1, chunk_size=2, out=tmp_path / "r",
                       seams=Seams(replicate=_failing_replicate))
    exc = info.value
    assert (exc.policy, exc.replication, exc.seed) == ("focused", 3, 7)
    assert "ValueError: boom" in str(exc)
    partial = load_results(tmp_path / "r")
    assert partial.manifest["status"] == "partial"
    assert partial.manifest["failure"]["replication"] == 3
    assert not (tmp_path / "r" / "replications.parquet").exists()
    assert sorted(partial.replications["replication"].unique()) == [0, 1]


def test_results_api(reference: Results, tmp_path: Path) -> None:
    summary = reference.summary(["npv"])
    assert list(summary["policy"]) == ["base", "focused"] and set(summary["n"]) == {12}
    cmp = reference.compare(metric="npv")
    assert list(cmp["policy"]) == ["focused"] and (cmp["baseline"] == "base").all()
    assert reference.select_best("npv").metric == "npv"
    with pytest.raises(UsageError, match="unknown baseline"):
        reference.compare(baseline="nope")
    saved = reference.save(tmp_path / "saved")
    loaded = load_results(saved)
    assert_same_tables(loaded, reference)
    assert loaded.manifest["status"] == "complete"
    assert loaded.scenario.name == "tiny"
    pdt.assert_frame_equal(pd.read_csv(saved / "summary.csv"), reference.summary(),
                           check_dtype=False)
    with pytest.raises(UsageError, match="not empty"):
        reference.save(saved)


def test_workers_run_the_parents_pmo_sim_whatever_folder_it_runs_from(tmp_path: Path) -> None:
    """Python 3.11's fork server preloads modules with its own sys.path, which starts with the
    working folder: run from a folder holding another ``pmo_sim`` (another checkout), it
    would preload that one into every worker. The workers must run the parent's."""
    import subprocess
    import sys

    other = tmp_path / "elsewhere"
    (other / "pmo_sim").mkdir(parents=True)
    marker = tmp_path / "imported"
    (other / "pmo_sim" / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()  # another pmo_sim: it must never be imported\n")
    scenario = write_tiny(tmp_path)
    code = (f"from pmo_sim.experiment import run_experiment\n"
            f"from pmo_sim.scenario.loader import load_scenario\n"
            f"if __name__ == '__main__':\n"
            f"    sc = load_scenario({str(scenario)!r}, None)\n"
            f"    res = run_experiment(sc, replications=6, seed=3, jobs=2)\n"
            f"    print(res.replications['npv'].sum().hex())\n")
    script = tmp_path / "run.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=other, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    here = run_experiment(load_scenario(scenario, None), replications=6, seed=3, jobs=1)
    assert done.stdout.strip() == here.replications["npv"].sum().hex()


def test_the_fork_server_preloads_the_engine_where_it_finds_the_same_pmo_sim(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pmo_sim.experiment.workers import server_finds_this_pmo_sim

    monkeypatch.chdir(ROOT)  # the checkout itself: the same package
    assert server_finds_this_pmo_sim()
    monkeypatch.chdir(tmp_path)  # a folder without one: found as the parent finds it
    monkeypatch.setattr(sys, "path", [str(tmp_path / "bin"), *sys.path[1:]])
    assert server_finds_this_pmo_sim()
    monkeypatch.setattr(sys, "path", [str(ROOT), *sys.path[1:]])  # a script beside a checkout
    assert not server_finds_this_pmo_sim()
    (tmp_path / "pmo_sim").mkdir()  # another checkout where it runs
    monkeypatch.setattr(sys, "path", [str(tmp_path / "bin"), *sys.path[1:]])
    assert not server_finds_this_pmo_sim()
