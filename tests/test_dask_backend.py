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
