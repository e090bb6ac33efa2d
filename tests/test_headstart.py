"""A run's head start (pmo_sim.experiment.headstart): the first chunks submitted before the
run is set up are taken over when they are the run's own, ended otherwise, and the tables are
the same either way."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_experiment import assert_same_tables, write_tiny

import pmo_sim.experiment.backends as backends
from pmo_sim.cli import main
from pmo_sim.errors import UsageError
from pmo_sim.experiment import Results, load_results, run_experiment
from pmo_sim.experiment.headstart import HeadStart, head_start
from pmo_sim.experiment.kept import RunInterrupted
from pmo_sim.experiment.work import ChunkResult, ChunkTask
from pmo_sim.scenario.loader import load_scenario
from pmo_sim.scenario.models import Scenario

N, SEED = 24, 5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return load_scenario(write_tiny(tmp_path_factory.mktemp("sc")), None)


@pytest.fixture(scope="module")
def serial(tiny: Scenario) -> Results:
    return run_experiment(tiny, replications=N, seed=SEED, jobs=1)


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[backends.LocalBackend]:
    """Every local pool made meanwhile."""
    made: list[backends.LocalBackend] = []
    init = backends.LocalBackend.__init__

    def record(self: backends.LocalBackend, jobs: int) -> None:
        init(self, jobs)
        made.append(self)

    monkeypatch.setattr(backends.LocalBackend, "__init__", record)
    return made


def _start(tiny: Scenario, seed: int = SEED, **options: object) -> HeadStart:
    early = head_start(tiny, **{"replications": N, "seed": seed, "policies": (), "jobs": 2,
                                "max_events": None, **options})  # type: ignore[arg-type]
    assert early is not None
    return early


def _ended(pool: backends.LocalBackend, within: float = 10.0) -> bool:
    """Whether the pool's worker processes have all ended."""
    processes = list(getattr(pool._pool, "_processes", None) or {})
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(p.is_alive() for p in multiprocessing.active_children() if p.pid in processes):
            return True
        time.sleep(0.05)
    return False


def test_the_run_takes_over_its_own_first_chunks(tiny: Scenario, serial: Results,
                                                pools: list[backends.LocalBackend]) -> None:
    early = _start(tiny, max_events=1e9)
    res = run_experiment(tiny, replications=N, seed=SEED, jobs=2, max_events=1e9, head_start=early)
    assert len(pools) == 1  # the head start's pool ran the whole run: no second pool
    assert_same_tables(res, serial)


def test_other_first_chunks_are_ended_and_the_run_is_its_own(
        tiny: Scenario, serial: Results, pools: list[backends.LocalBackend]) -> None:
    early = _start(tiny, seed=SEED + 1)  # another seed: not the run's tasks
    res = run_experiment(tiny, replications=N, seed=SEED, jobs=2, max_events=None, head_start=early)
    assert len(pools) == 2 and _ended(pools[0])
    assert_same_tables(res, serial)


def test_a_chosen_policy_subset_is_split_as_the_run_splits_it(
        tiny: Scenario, pools: list[backends.LocalBackend]) -> None:
    early = _start(tiny, policies=("focused",), chunk_size=5)
    res = run_experiment(tiny, replications=N, seed=SEED, jobs=2, max_events=None,
                         policies=["focused"], chunk_size=5, head_start=early)
    assert len(pools) == 1 and res.policies == ["focused"]
    assert head_start(tiny, replications=N, seed=SEED, policies=("nope",), jobs=2,
                      max_events=None) is None  # the run refuses it; nothing is started


@pytest.mark.parametrize("jobs, backend", [(1, "local"), (2, "serial")])
def test_a_head_start_given_to_a_run_without_a_local_pool_is_ended(
        tiny: Scenario, serial: Results, pools: list[backends.LocalBackend], jobs: int,
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    here: list[int] = []
    run_chunk = backends.run_chunk

    def in_this_process(task: ChunkTask) -> ChunkResult:
        here.append(task.stop - task.start)
        return run_chunk(task)

    monkeypatch.setattr(backends, "run_chunk", in_this_process)
    early = _start(tiny)  # the same first tasks, but this run simulates in-process
    res = run_experiment(tiny, replications=N, seed=SEED, jobs=jobs, backend=backend,
                         max_events=None, head_start=early)
    assert sum(here) == N  # every replication run here, as asked, none on the head start's pool
    assert len(pools) == 1 and _ended(pools[0])
    assert_same_tables(res, serial)


def test_no_head_start_where_no_local_pool_runs(tiny: Scenario) -> None:
    for jobs, backend in ((1, "local"), (2, "serial"), (2, "dask")):
        assert head_start(tiny, replications=N, seed=SEED, policies=(), jobs=jobs,
                          backend=backend, max_events=None) is None


def test_a_refused_run_ends_the_head_start_at_once(tiny: Scenario, tmp_path: Path,
                                                   pools: list[backends.LocalBackend]) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("not a results folder")
    early = _start(tiny)
    with pytest.raises(UsageError, match="already exists"):
        run_experiment(tiny, replications=N, seed=SEED, jobs=2, out=taken, head_start=early)
    assert _ended(pools[0]) and sorted(p.name for p in taken.iterdir()) == ["mine.txt"]


def test_an_interrupted_run_ends_the_head_start(tiny: Scenario, tmp_path: Path,
                                                pools: list[backends.LocalBackend]) -> None:
    def interrupt(done: int, total: int) -> None:  # before the run takes the chunks over
        raise KeyboardInterrupt

    early = _start(tiny)
    with pytest.raises(RunInterrupted):
        run_experiment(tiny, replications=N, seed=SEED, jobs=2, out=tmp_path / "r",
                       progress=interrupt, head_start=early)
    assert _ended(pools[0])


def test_the_command_line_runs_with_a_head_start_and_ends_it_when_refused(
        tmp_path: Path, serial: Results, pools: list[backends.LocalBackend]) -> None:
    scenario = write_tiny(tmp_path)
    out = tmp_path / "r"
    args = ["run", str(scenario), "-n", str(N), "--seed", str(SEED), "-j", "2", "-q"]
    ran = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert len(pools) == 1  # the head start's pool, taken over
    assert_same_tables(load_results(out), serial)
    again = CliRunner().invoke(main, [*args, "--out", str(out)])  # the folder is in the way
    assert again.exit_code == 2 and "already exists" in again.output
    assert len(pools) == 2 and _ended(pools[1])


def test_ctrl_c_before_the_run_takes_over_ends_the_head_start(
        tmp_path: Path, pools: list[backends.LocalBackend], monkeypatch: pytest.MonkeyPatch) -> None:
    import pmo_sim.cli.run_cmds as run_cmds

    def interrupted(*args: object, **kwargs: object) -> None:  # while the API is imported
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmds, "_run_and_tell", interrupted)
    ran = CliRunner().invoke(main, ["run", str(write_tiny(tmp_path)), "-n", str(N), "-j", "2",
                                    "-q", "--out", str(tmp_path / "r")])
    assert ran.exit_code == 130 and "interrupted" in ran.output
    assert len(pools) == 1 and _ended(pools[0]) and not (tmp_path / "r").exists()


def test_a_head_start_given_to_a_dask_run_is_ended(tiny: Scenario, serial: Results,
                                                  pools: list[backends.LocalBackend]) -> None:
    pytest.importorskip("distributed")
    early = _start(tiny)  # the same first tasks (two Dask workers split as two local ones)
    res = run_experiment(tiny, replications=N, seed=SEED, jobs=2, backend="dask",
                         max_events=None, head_start=early)
    assert len(pools) == 1 and _ended(pools[0])
    assert_same_tables(res, serial)
