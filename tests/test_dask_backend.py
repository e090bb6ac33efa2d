"""The Dask backend on a real LocalCluster (two worker processes): same tables as local runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_experiment import assert_same_tables, write_tiny

from pmo_sim.errors import UsageError
from pmo_sim.experiment import load_results, run_experiment
from pmo_sim.scenario.loader import load_scenario

pytest.importorskip("distributed")
pytestmark = pytest.mark.dask


def test_dask_local_cluster_matches_serial_and_process_pool(tmp_path: Path) -> None:
    scenario = load_scenario(write_tiny(tmp_path), None)
    serial = run_experiment(scenario, replications=10, seed=1, jobs=1)
    pool = run_experiment(scenario, replications=10, seed=1, jobs=2)
    dask = run_experiment(scenario, replications=10, seed=1, jobs=2, backend="dask",
                          chunk_size=3, out=tmp_path / "r")
    assert_same_tables(pool, serial)
    assert_same_tables(dask, serial)
    assert dask.manifest["backend"] == "dask"
    assert_same_tables(load_results(tmp_path / "r"), serial)


def test_scheduler_needs_dask_backend(tmp_path: Path) -> None:
    scenario = load_scenario(write_tiny(tmp_path), None)
    with pytest.raises(UsageError, match="--backend dask"):
        run_experiment(scenario, replications=2, scheduler="tcp://127.0.0.1:1")


@pytest.mark.parametrize("command", [
    ["run", "{scenario}", "-n", "4"],
    ["sweep", "{scenario}", "--vary", "resources.dev.headcount=2,3", "-n", "2"],
])
def test_an_unreachable_scheduler_leaves_no_folder_and_a_rerun_needs_no_force(
        tmp_path: Path, command: list[str]) -> None:
    # before: refused after 10 s with exit 2, and `run` had already written the results
    # folder (manifest, scenario, no chunk) that then refused the same command run again;
    # `sweep` left its folder, empty
    from click.testing import CliRunner

    from pmo_sim.cli import main

    args = [a.format(scenario=write_tiny(tmp_path)) for a in command]
    out = tmp_path / "out" / "x"
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--backend", "dask",
                                       "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2, result.output
    assert "error: cannot reach the Dask scheduler 'tcp://127.0.0.1:9'" in result.output
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(main, [*args, "--out", str(out), "-j", "1", "-q"])
    assert result.exit_code == 0, result.output


def test_a_server_that_is_no_scheduler_is_said_so_not_out_of_memory(tmp_path: Path) -> None:
    # before: an SSH server's banner was read as the length of a Dask message, distributed
    # tried to allocate exabytes, and the run said "out of memory" with exit 1
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]

    def greet() -> None:
        with server:
            server.settimeout(20)
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                conn.sendall(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")
                threading.Timer(2, conn.close).start()

    threading.Thread(target=greet, daemon=True).start()
    scenario = load_scenario(write_tiny(tmp_path), None)
    with pytest.raises(UsageError, match=r"cannot reach the Dask scheduler 'tcp://127\.0\.0\.1:\d+': "
                                         r"something answers there, but not as a Dask scheduler"):
        run_experiment(scenario, replications=2, backend="dask", scheduler=f"tcp://127.0.0.1:{port}")
    server.close()


def test_an_empty_scheduler_is_refused_not_taken_for_none(tmp_path: Path) -> None:
    # before: --scheduler '' started a local cluster (with --backend dask) or was ignored
    scenario = load_scenario(write_tiny(tmp_path), None)
    with pytest.raises(UsageError, match=r"--scheduler must be a Dask scheduler's address.*got ''"):
        run_experiment(scenario, replications=2, backend="dask", scheduler="")
    with pytest.raises(UsageError, match="--scheduler needs --backend dask"):
        run_experiment(scenario, replications=2, scheduler="")


def test_a_runs_own_local_cluster_has_its_workers_frozen_with_the_engine() -> None:
    # As a local pool's workers are (pmo_sim.experiment.heap): the collector never traverses
    # the engine and distributed's modules again in a worker that ends with the run.
    import gc
    import sys

    from pmo_sim.experiment.backends import DaskBackend

    before = gc.get_freeze_count()  # (other tests' benchmarks may have frozen this process)
    backend = DaskBackend(1)
    try:
        frozen = backend._client.run(gc.get_freeze_count)
        engine = backend._client.run(lambda: "pmo_sim.engine.world" in sys.modules)
    finally:
        backend.close()
    assert list(engine.values()) == [True]
    assert all(n > 20_000 for n in frozen.values()), frozen
    assert gc.get_freeze_count() == before  # this process (the caller's) is left alone
