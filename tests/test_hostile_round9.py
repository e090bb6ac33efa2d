"""Edges a ninth hostile-input probe found.

- ``run -j 40`` (more workers than the machine allows): the run's head start submitted its
  first chunks to a pool of 40 before the run refused the option, so some twenty worker
  processes started before "--jobs 40 is more than this machine can use" (the very thing
  the limit is there to prevent); ``-j 2**62`` or more was a traceback (ValueError from
  itertools.islice). The head start checks the backend's options first now, and leaves the
  refusal to the run;
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_hostile_round3 import invoke

import pmo_sim as ps

TINY = """name: tiny
horizon: 100
resources:
  dev: {headcount: 2, day_rate: 100}
projects:
  - {name: P, value_per_day: 10, tasks: [{name: a, skill: dev, effort: 5}]}
"""


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(TINY)
    return path


@pytest.mark.parametrize("jobs", [40, 2**62, 10**30])
def test_too_many_jobs_start_no_worker_before_the_refusal(tiny_file: Path, tmp_path: Path,
                                                          jobs: int) -> None:
    from pmo_sim.experiment.backends import max_jobs
    from pmo_sim.experiment.headstart import head_start

    assert jobs > max_jobs()
    early = head_start(ps.load_scenario(tiny_file), replications=400, seed=0, policies=(),
                       jobs=jobs, chunk_size=1, max_events=None)
    if early is not None:
        early.discard()
    assert early is None  # no pool, no worker process started
    out = tmp_path / "out"
    code, text = invoke("run", str(tiny_file), "-n", "2", "-q", "-j", str(jobs), "--out", str(out))
    assert code == 2, text
    assert f"--jobs {jobs} is more than this machine can use" in text
    assert not out.exists()
