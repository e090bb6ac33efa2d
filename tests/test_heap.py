"""The ``pmo-sim`` program's heap gives back large blocks, and a process that only simulates
has what it made before frozen for the collector (``pmo_sim.experiment.heap``).

Each check runs in a fresh interpreter: glibc's mapping threshold is process-wide and, once
held, stays held. The probe frees a hundred 1 MiB blocks allocated between small long-lived
ones (as a run's parent frees column buffers between its Python objects) and reports how much
of them the process still holds.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pmo_sim.experiment.heap import glibc

on_glibc = pytest.mark.skipif(not (sys.platform.startswith("linux") and glibc()),
                              reason="glibc's mallopt on Linux (/proc/self/statm)")

PROBE = """
import gc, sys
{setup}
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
warm = bytearray(1 << 20); del warm  # glibc raises its threshold when a mapped block is freed
before = rss_mb()
blocks, pins = [], []
for _ in range(100):
    blocks.append(bytearray(1 << 20))
    pins.append(bytearray(2000))  # small, long-lived, from the heap between the blocks
del blocks
gc.collect()
print(rss_mb() - before)
"""


def held_mb(setup: str) -> float:
    # glibc's own settings from the environment (Dask's nanny, imported by other tests, sets
    # MALLOC_TRIM_THRESHOLD_, which also stops the threshold from moving) are left out: the
    # probe must see glibc's defaults unless the setup changes them
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True,
                         text=True, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


@on_glibc
def test_glibc_default_keeps_freed_blocks_between_live_ones() -> None:
    # The behaviour the module works around: without it the 100 MiB stay with the process.
    assert held_mb("") > 50


@on_glibc
def test_large_blocks_mapped_are_given_back() -> None:
    setup = "from pmo_sim.experiment.heap import map_large_blocks\nassert map_large_blocks()"
    assert held_mb(setup) < 10


@on_glibc
def test_the_program_maps_large_blocks_before_its_command() -> None:
    # pmo-sim's entry point (pmo_sim.__main__.main) up to its command line, which is left out
    # (it ends the process with os._exit).
    setup = ("import pmo_sim.cli\n"
             "pmo_sim.cli.entry = lambda: None\n"
             "sys.argv = ['pmo-sim', '--version']\n"
             "from pmo_sim.__main__ import main\n"
             "main()")
    assert held_mb(setup) < 10


# --------------------------------------------------------------------------- the collector

FROZEN = """
import gc, tempfile
{setup}
from pmo_sim import load_scenario, run_experiment
sc = load_scenario("scenarios/baseline.yaml")
before = gc.get_freeze_count()
run_experiment(sc, replications=2, jobs=1)
print(before, gc.get_freeze_count())
"""


def freeze_counts(setup: str) -> tuple[int, int]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", FROZEN.format(setup=setup)], capture_output=True,
                         text=True, check=True, cwd=root)
    before, after = out.stdout.split()[-2:]
    return int(before), int(after)


def test_a_library_callers_process_is_never_frozen() -> None:
    # A notebook lives on after a run: garbage frozen with the rest would never be freed.
    assert freeze_counts("") == (0, 0)


def test_the_programs_serial_run_freezes_its_start_up_engine_included() -> None:
    before, after = freeze_counts(
        "from pmo_sim.experiment.heap import program_owns_process\nprogram_owns_process()")
    assert before == 0
    # what was made before the first replication: the modules, the engine among them
    assert after > 20_000


def test_a_pool_worker_is_frozen_with_the_engine_it_was_forked_with() -> None:
    script = ("import gc\n"
              "from pmo_sim.experiment.backends import LocalBackend\n"
              "b = LocalBackend(1)\n"
              "counts = b._pool.submit(gc.get_freeze_count).result()\n"
              "b.close()\n"
              "print(gc.get_freeze_count(), counts)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    parent, worker = map(int, out.stdout.split()[-2:])
    assert parent == 0  # the parent is a library caller here
    assert worker > 20_000
