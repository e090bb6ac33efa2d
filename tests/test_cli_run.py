"""``pmo-sim run`` and ``pmo-sim compare``: outputs, exit codes, and real interruptions.

The interruption tests run the real ``pmo-sim`` executable in a subprocess and stop it with
SIGINT (Ctrl+C: exit 130, partial folder kept) or SIGKILL (no chance to clean up: the atomic
writes must still leave a folder that ``--resume`` completes into the uninterrupted tables).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_experiment import TINY_YAML, assert_same_tables, write_tiny

from pmo_sim.cli import main
from pmo_sim.experiment import load_results, run_experiment
from pmo_sim.experiment.backends import check_backend, max_jobs
from pmo_sim.scenario.loader import load_scenario

SUMMARY_KEYS = {"policy", "metric", "mean", "sd", "ci_low", "ci_high", "p10", "p50", "p90", "n"}
COMPARE_KEYS = {"policy", "metric", "diff_mean", "ci_low", "ci_high", "p_value", "p_adjusted",
                "better"}
PMO_SIM = str(Path(sys.executable).with_name("pmo-sim"))


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    return write_tiny(tmp_path)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("done")
    res = invoke("run", str(write_tiny(folder)), "-n", "8", "-j", "1", "--out", str(folder / "r"))
    assert res.exit_code == 0, res.output
    return folder / "r"


def test_help_has_examples() -> None:
    for command in ("run", "compare"):
        res = invoke(command, "--help")
        assert res.exit_code == 0 and "Examples:" in res.output


def test_run_json_is_the_spec_document(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    res = invoke("run", str(scenario_file), "-n", "6", "-j", "1", "--out", str(out),
                 "--format", "json", "--set", "resources.dev.headcount=5")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) == {"results", "summary", "compare"} and doc["results"] == str(out)
    assert doc["summary"] and all(set(row) == SUMMARY_KEYS for row in doc["summary"])
    assert {row["policy"] for row in doc["summary"]} == {"base", "focused"}
    # Several policies: the SPEC 6.1 compare document, with the plain verdict added.
    assert doc["compare"]["baseline"] == "base" and doc["compare"]["rows"]
    assert all(set(r) == COMPARE_KEYS for r in doc["compare"]["rows"])
    assert doc["compare"]["verdict"] and doc["compare"]["currency"] == "EUR"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["command"].startswith("pmo-sim run")
    assert load_scenario(out / "scenario.yaml", None).resources["dev"].headcount == 5


def test_a_parallel_run_prints_what_a_serial_run_prints(scenario_file: Path, tmp_path: Path) -> None:
    # With workers, the verdict's modules are imported on a thread while they run: the same
    # output, and the thread is over when the command ends (so that it can exit quickly).
    outs = {j: tmp_path / f"j{j}" for j in ("1", "2")}
    runs = {j: invoke("run", str(scenario_file), "-n", "6", "-j", j, "--seed", "3", "--out", str(out))
            for j, out in outs.items()}
    assert runs["1"].exit_code == runs["2"].exit_code == 0
    assert (runs["2"].stdout.replace(str(outs["2"]), "OUT")
            == runs["1"].stdout.replace(str(outs["1"]), "OUT"))
    assert "pmo-sim-imports" not in [t.name for t in threading.enumerate()]


@pytest.mark.parametrize("jobs", [1, 2])
def test_meanwhile_is_called_once_when_workers_hold_the_first_chunks(scenario_file: Path, jobs: int
                                                                     ) -> None:
    # What the command line imports while its workers run starts only once they have work
    # (an importing thread slowed the set-up on the way to the first chunk), once per run,
    # even when a precision target adds replications; never when the run is in-process.
    import multiprocessing

    calls: list[int] = []
    res = run_experiment(load_scenario(scenario_file), replications=4, jobs=jobs, chunk_size=1,
                         precision=1e-9, max_replications=14,
                         meanwhile=lambda: calls.append(len(multiprocessing.active_children())))
    assert len(res.replications) == 2 * 14  # two policies; the target grew the run twice
    assert calls == ([] if jobs == 1 else [calls[0]]) and all(n >= 1 for n in calls)


def test_run_csv_prints_summary_csv(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    res = invoke("run", str(scenario_file), "-n", "4", "-j", "1", "--out", str(out), "--format", "csv")
    assert res.exit_code == 0
    assert res.stdout == (out / "summary.csv").read_text()


def test_compare_table_output(finished: Path) -> None:
    res = invoke("compare", str(finished))
    assert res.exit_code == 0
    assert "focused" in res.stdout and "Difference to base" in res.stdout
    assert "next: pmo-sim report" in res.stdout and str(finished) in res.stdout.split()
    assert "Kim-Nelson" not in res.stdout and "δ" not in res.stdout   # only with --verbose
    verbose = invoke("compare", str(finished), "--verbose")
    assert "Kim-Nelson" in verbose.stdout and "p (adj.)" in verbose.stdout


def test_run_table_prints_summary_comparison_and_folder(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    res = invoke("run", str(scenario_file), "-n", "4", "-j", "1", "--out", str(out), "--policy", "base",
                 "--policy", "focused")
    assert res.exit_code == 0
    assert "Mean per policy ± 95% CI" in res.stdout and "Difference to base" in res.stdout
    words = res.stdout.split()   # a long path may stand on a line of its own
    at = words.index("results:")
    assert words[at + 1] == str(out) and words[at + 2:at + 5] == ["next:", "pmo-sim", "report"]


def test_compare_json(finished: Path) -> None:
    res = invoke("compare", str(finished), "--metric", "npv", "--metric", "on_time_rate",
                 "--format", "json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert set(doc) >= {"baseline", "rows", "best"} and doc["baseline"] == "base"
    assert set(doc) - {"baseline", "rows", "best"} == {"verdict", "currency", "decision"}
    assert [r["metric"] for r in doc["rows"]] == ["npv", "on_time_rate"]
    assert all(set(r) == COMPARE_KEYS for r in doc["rows"])
    assert set(doc["best"]) == {"metric", "policy", "method", "confident"}
    assert isinstance(doc["verdict"], str) and doc["verdict"].endswith(".")
    assert doc["best"]["metric"] == "npv" and isinstance(doc["best"]["confident"], bool)


@pytest.mark.parametrize("args", [["--baseline", "nope"], ["--metric", "nope"]])
def test_compare_bad_options_exit_2(finished: Path, args: list[str]) -> None:
    assert invoke("compare", str(finished), *args).exit_code == 2


def test_compare_refuses_non_results_folder(tmp_path: Path) -> None:
    res = invoke("compare", str(tmp_path))
    assert res.exit_code == 2
    assert "not a results folder" in res.stderr and "Traceback" not in res.output


def test_existing_folder_refused_without_resume_or_force(finished: Path, scenario_file: Path) -> None:
    before = (finished / "manifest.json").read_text()
    res = invoke("run", str(scenario_file), "-n", "8", "--out", str(finished))
    assert res.exit_code == 2
    assert "--resume" in res.stderr and "--force" in res.stderr
    assert (finished / "manifest.json").read_text() == before


def test_resume_with_other_seed_or_scenario_exits_2(finished: Path, tmp_path: Path) -> None:
    res = invoke("run", str(write_tiny(tmp_path)), "--seed", "1", "--out", str(finished), "--resume")
    assert res.exit_code == 2 and "seed differs" in res.stderr
    other = write_tiny(tmp_path, TINY_YAML.replace("count: 10", "count: 11"))
    res = invoke("run", str(other), "--out", str(finished), "--resume")
    assert res.exit_code == 2 and "scenario differs" in res.stderr


def test_unknown_policy_and_bad_set_exit_2(scenario_file: Path, tmp_path: Path) -> None:
    res = invoke("run", str(scenario_file), "--policy", "nope", "--out", str(tmp_path / "r"))
    assert res.exit_code == 2 and "base, focused" in res.stderr
    res = invoke("run", str(scenario_file), "--set", "resources.nope.x=1", "--out", str(tmp_path / "r"))
    assert res.exit_code == 2


def test_more_workers_than_the_machine_can_use_are_refused_before_any_start(
        scenario_file: Path, tmp_path: Path) -> None:
    """-j 100000 would start a process per chunk in flight (~100 MB each) before saying anything."""
    res = invoke("run", str(scenario_file), "-n", "2", "-j", str(max_jobs() + 1),
                 "--out", str(tmp_path / "r"))
    assert res.exit_code == 2 and f"at most {max_jobs()} (4 per CPU" in res.stderr
    assert not (tmp_path / "r").exists()
    # a remote Dask scheduler has its own workers: the limit is about this machine
    check_backend("dask", 10 * max_jobs(), "tcp://scheduler:8786")


def test_unwritable_out_is_a_clear_error(scenario_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    res = invoke("run", str(scenario_file), "-n", "2", "-j", "1", "--out", str(blocker / "r"))
    assert res.exit_code == 2 and "cannot write the results folder" in res.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root can write anywhere: nothing to check then
            res = invoke("run", str(scenario_file), "-n", "2", "-j", "1", "--out", str(locked / "r"))
            assert res.exit_code == 2 and "cannot write" in res.stderr
            assert "Traceback" not in res.output
    finally:
        locked.chmod(0o700)


# --------------------------------------------------------------------------- real processes


def _start(scenario_file: Path, out: Path, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PMO_SIM, "run", str(scenario_file), "-n", str(n), "-j", "2", "--chunk-size", "1",
         "--seed", "2", "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_chunks(proc: subprocess.Popen[str], out: Path, count: int,
                     listed: bool = True) -> None:
    """Until ``count`` chunks are listed in the manifest (or, ``listed=False``, have their
    files written: the manifest is rewritten at most about once a second)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run finished before it could be interrupted"
        try:
            if listed and len(json.loads((out / "manifest.json").read_text())["chunks"]) >= count:
                return
            if not listed and len(list((out / "chunks").glob("*.pools.parquet"))) >= count:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    proc.kill()
    pytest.fail("no chunk finished in time")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interruption_exits_130_keeps_finished_chunks_and_says_how_to_resume(
        scenario_file: Path, tmp_path: Path, signum: int) -> None:
    # SIGTERM (`kill`, a batch system's time limit) is an interruption like Ctrl+C; before, it
    # ended the process at once (exit -15, no message, multiprocessing's "leaked semaphore"
    # warning, the latest chunks not listed)
    out = tmp_path / "r"
    # Far more replications than finish before the signal: the manifest lists chunks about
    # once a second, and 400 one-replication chunks could all finish before the signal came
    # (exit 0, seen once on a loaded host once the engine was faster).
    proc = _start(scenario_file, out, 4000)
    _wait_for_chunks(proc, out, 3)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "continue with" in stderr and "--resume" in stderr and str(out) in stderr
    assert "Traceback" not in stderr and "leaked" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial" and len(manifest["chunks"]) >= 3
    for chunk in manifest["chunks"]:
        for info in chunk["files"].values():
            assert (out / info["file"]).is_file()
    listed = sum(c["stop"] - c["start"] for c in manifest["chunks"])
    assert f"{listed} of 4000 replications are finished" in stderr
    assert not (out / "replications.parquet").exists()
    assert load_results(out).manifest["status"] == "partial"


def test_sigkill_then_resume_equals_uninterrupted(scenario_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = _start(scenario_file, out, 150)
    _wait_for_chunks(proc, out, 2, listed=False)  # killed whatever the manifest lists yet
    proc.kill()
    proc.communicate(timeout=30)
    assert json.loads((out / "manifest.json").read_text())["status"] == "partial"
    res = subprocess.run([PMO_SIM, "run", str(scenario_file), "-n", "150", "-j", "2", "--seed", "2",
                          "--out", str(out), "--resume", "--quiet", "--format", "json"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["results"] == str(out)
    reference = run_experiment(load_scenario(scenario_file, None), replications=150, seed=2, jobs=1)
    assert_same_tables(load_results(out), reference)
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"), reference.summary(),
                                  check_dtype=False)


def _grandchildren(pid: int) -> list[int]:
    """Worker processes: the forkserver is the run's child, its children are the workers."""
    def children(p: int) -> list[int]:
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == p:
                    out.append(int(entry.name))
        return out

    return [g for c in children(pid) for g in children(c)]


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find worker processes")
def test_killed_worker_fails_clearly_keeps_chunks_and_resumes(scenario_file: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = _start(scenario_file, out, 400)
    _wait_for_chunks(proc, out, 2)
    workers = _grandchildren(proc.pid)
    assert workers, "no worker processes found"
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1, stderr
    assert "a worker process died" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "partial" and len(manifest["chunks"]) >= 2
    res = subprocess.run([PMO_SIM, "run", str(scenario_file), "-n", "400", "-j", "2", "--seed", "2",
                          "--out", str(out), "--resume", "--quiet", "--format", "json"],
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    reference = run_experiment(load_scenario(scenario_file, None), replications=400, seed=2, jobs=1)
    assert_same_tables(load_results(out), reference)


CROWD = "name: crowd\nhorizon: 50\nresources:\n" + "".join(
    f"  pool{i}: {{headcount: 100000, day_rate: 100}}\n" for i in range(5)) + """\
projects:
  - name: p
    tasks:
      - {name: t, skill: pool0, effort: 5}
"""


def _vm_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmPeak for {pid}")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find worker processes")
def test_a_worker_out_of_memory_is_a_message_and_keeps_finished_chunks(tmp_path: Path) -> None:
    # before: under `ulimit -v`, a replication ran out of memory as CPython's "SystemError:
    # error return without exception set", reported as a failed replication whose report
    # could not be sent either; the workers printed multiprocessing's tracebacks and the run
    # ended in "a worker process died (BrokenProcessPool ...)". Here the workers' address
    # space is capped mid-run (500,000 people: each replication needs ~250 MB more than an
    # idle worker), below what a replication needs and well above what an idle worker holds.
    import resource

    scenario = tmp_path / "crowd.yaml"
    scenario.write_text(CROWD)
    out = tmp_path / "r"
    args = [PMO_SIM, "run", str(scenario), "-n", "6", "-j", "2", "--chunk-size", "1", "--out", str(out)]
    proc = subprocess.Popen([*args, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_chunks(proc, out, 1, listed=False)
    workers = _grandchildren(proc.pid)
    assert len(workers) == 2, "no worker processes found"
    limit = (max(_vm_peak_kb(w) for w in workers) - 120_000) * 1024
    for worker in workers:
        resource.prlimit(worker, resource.RLIMIT_AS, (limit, limit))
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert stderr.startswith("error: a worker ran out of memory while running replications"), stderr
    assert "Traceback" not in stderr and "SystemError" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    kept = sum(c["stop"] - c["start"] for c in manifest["chunks"])
    assert manifest["status"] == "partial" and kept >= 1
    assert f"{kept} of 6 replications are kept in {out}; continue with: " in stderr
    res = subprocess.run([*args, "--resume", "--quiet", "--format", "json"], capture_output=True,
                         text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    assert load_results(out).replications["replication"].tolist() == list(range(6))


# A worker that runs out of memory in multiprocessing's own code, receiving or unpickling its
# task, before pmo-sim's code runs: the parent's message is the out-of-memory one, and the
# worker prints nothing (before: "Process ForkServerProcess-1:\nTraceback ... MemoryError"
# on stderr, and exit status 1, which the parent could not tell from any other death).
_OOM_IN_MULTIPROCESSING = r"""
import os, resource, sys
from pmo_sim.errors import WorkerLost
from pmo_sim.experiment.backends import LocalBackend
from pmo_sim.experiment.work import ChunkTask


class Huge:
    # unpickled in the worker as bytes(2**62): no memory can hold it
    def __reduce__(self):
        return (bytes, (2**62,))


def vm_size(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024


if __name__ == "__main__":
    backend = LocalBackend(1)
    if sys.argv[1] == "rlimit":  # the worker's address space capped just above what it holds
        worker = backend._pool.submit(os.getpid).result()
        limit = vm_size(worker) + 64 * 2**20
        resource.prlimit(worker, resource.RLIMIT_AS, (limit, limit))
        task = ChunkTask(b"x" * (256 * 2**20), 1, 0, 1, ("base",))
    else:
        task = ChunkTask(Huge(), 1, 0, 1, ("base",))
    try:
        list(backend.stream([task]))
    except WorkerLost as exc:
        print(exc)
    print([p.exitcode for p in backend._pool._processes.values()])
"""


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to read a worker's size")
@pytest.mark.parametrize("how", ["unpickling", "rlimit"])
def test_a_worker_out_of_memory_in_multiprocessing_exits_quietly(tmp_path: Path, how: str) -> None:
    from pmo_sim.experiment.backends import OUT_OF_MEMORY
    from pmo_sim.experiment.workers import OUT_OF_MEMORY_EXIT

    script = tmp_path / "oom.py"
    script.write_text(_OOM_IN_MULTIPROCESSING)
    res = subprocess.run([sys.executable, str(script), how], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert res.stdout == f"{OUT_OF_MEMORY}\n[{OUT_OF_MEMORY_EXIT}]\n", (res.stdout, res.stderr)
    assert res.stderr == "", res.stderr
