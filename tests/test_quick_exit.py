"""The ``pmo-sim`` program leaves without unloading its modules, and loses nothing doing so:
its exit status, everything it printed, and what ``atexit`` handlers do (each case in a real
subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pmo_sim.experiment.workers import guess_pool, runs_elsewhere

ROOT = Path(__file__).parents[1]


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize(("code", "status", "stderr"), [
    ("0", 0, ""), ("None", 0, ""), ("2", 2, ""), ("3", 3, ""), ("'bad input'", 1, "bad input\n")])
def test_status_output_and_atexit_handlers_survive(code: str, status: int, stderr: str) -> None:
    done = _python(f"""
        import atexit, sys
        from pmo_sim.cli import quick_exit
        atexit.register(lambda: print("handler ran"))
        sys.stdout.write("unflushed line\\n")  # a pipe is block-buffered: still in the buffer
        quick_exit({code})
        print("never")
    """)
    assert done.returncode == status
    assert done.stdout == "unflushed line\nhandler ran\n"
    assert done.stderr == stderr


def test_a_running_thread_gets_the_normal_exit() -> None:
    done = _python("""
        import threading, time
        from pmo_sim.cli import quick_exit
        def late():
            time.sleep(0.3)
            print("thread finished")
        threading.Thread(target=late).start()
        quick_exit(4)
    """)
    assert done.returncode == 4
    assert done.stdout == "thread finished\n"


def test_the_workers_fork_server_alone_leaves_without_its_teardown(tmp_path: Path) -> None:
    # The fork server holds the command's output open until it ends: it skips the teardown of
    # what it imported for its workers (which kept a reader of the output waiting ~0.2 s after
    # the command ended). Its workers inherit the choice from it; any other process that
    # imports the module keeps its normal exit, atexit handlers included.
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import atexit, concurrent.futures as cf, sys
        from pmo_sim.experiment.workers import PRELOAD, mp_context

        def quick():
            return sys.modules["pmo_sim.experiment.server_exit"].QUICK

        if __name__ == "__main__":
            assert PRELOAD[0] == "pmo_sim.experiment.server_exit"
            with cf.ProcessPoolExecutor(1, mp_context=mp_context()) as pool:
                print("worker", pool.submit(quick).result())
            atexit.register(lambda: print("handler ran"))
            import pmo_sim.experiment.server_exit as here
            print("here", here.QUICK)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "worker True\nhere False\nhandler ran\n"


def test_the_installed_program_exits_with_the_commands_status(tmp_path: Path) -> None:
    program = str(Path(sys.executable).parent / "pmo-sim")  # the console script of this venv
    ok = subprocess.run([program, "validate", str(ROOT / "scenarios" / "baseline.yaml")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("ok")
    missing = subprocess.run([program, "validate", str(tmp_path / "missing.yaml")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert "file not found" in missing.stderr and "Traceback" not in missing.stderr


def test_the_program_is_pmo_sim_main_and_runs_as_a_module() -> None:
    # The installed `pmo-sim` and `python -m pmo_sim` are one program (pmo_sim.__main__).
    script = Path(sys.executable).with_name("pmo-sim").read_text()
    assert "from pmo_sim.__main__ import main" in script
    done = subprocess.run([sys.executable, "-m", "pmo_sim", "--version"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.startswith("pmo-sim, version ")


def test_replications_run_elsewhere_with_dask_or_a_pool_of_several() -> None:
    assert [runs_elsewhere(b, j) for b, j in (("serial", 4), ("local", 1), ("local", 2), ("dask", 1))] \
        == [False, False, True, True]


@pytest.mark.parametrize(("args", "guess"), [
    ([], None), (["validate", "x.yaml"], None), (["--help"], None),
    (["run", "x.yaml"], ("local", None)), (["run", "x.yaml", "-j", "1"], ("local", 1)),
    (["run", "x.yaml", "-j2"], ("local", 2)), (["run", "x.yaml", "--jobs=3", "-q"], ("local", 3)),
    (["run", "x.yaml", "--jobs", "4"], ("local", 4)), (["run", "x.yaml", "-j", "many"], ("local", None)),
    (["run", "x.yaml", "-j", "²"], ("local", None)), (["run", "x.yaml", "-j", "9" * 5000], ("local", None)),
    (["run", "x.yaml", "-j"], ("local", None)), (["run", "x.yaml", "--backend"], ("", None)),
    (["run", "x.yaml", "--backend", "dask"], ("dask", None)),
    (["run", "x.yaml", "--backend=serial"], ("serial", None)),
    (["run", "--", "-j", "1"], ("local", None)),  # after "--" words are arguments
])
def test_the_pool_is_guessed_from_the_words_of_a_run(args: list[str], guess: object) -> None:
    # Before its imports the program starts the workers' fork server when a `run` will use
    # local workers (start_early decides from this guess; run asks again once Click parsed).
    assert guess_pool(args) == guess


@pytest.mark.parametrize("words", [["-j", "9" * 5000], ["-j", "²"], ["--jobs=-3"], ["-j"]])
def test_hostile_jobs_words_get_clicks_message_not_a_traceback(words: list[str]) -> None:
    # The program reads the words before Click does (to start the workers' fork server early);
    # whatever they are, Click's own refusal is what the user sees.
    done = subprocess.run([sys.executable, "-m", "pmo_sim", "run", "scenarios/baseline.yaml", "-n",
                           "2", *words], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "Error" in done.stderr


def test_a_parallel_run_through_the_module_gives_the_serial_tables(tmp_path: Path) -> None:
    scenario = ROOT / "scenarios" / "baseline.yaml"
    for jobs in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "pmo_sim", "run", str(scenario), "-n", "4",
                               "-j", jobs, "--seed", "7", "--out", str(tmp_path / jobs), "-q",
                               "--format", "csv"], capture_output=True, text=True, timeout=180,
                              cwd=ROOT)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "1" / "summary.csv").read_bytes() == (tmp_path / "2" / "summary.csv").read_bytes()
