"""The ``pmo-sim`` program leaves without unloading its modules, and loses nothing doing so:
its exit status, everything it printed, and what ``atexit`` handlers do (each case in a real
subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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


def test_the_installed_program_exits_with_the_commands_status(tmp_path: Path) -> None:
    program = str(Path(sys.executable).parent / "pmo-sim")  # the console script of this venv
    ok = subprocess.run([program, "validate", str(ROOT / "scenarios" / "baseline.yaml")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("ok")
    missing = subprocess.run([program, "validate", str(tmp_path / "missing.yaml")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert "file not found" in missing.stderr and "Traceback" not in missing.stderr
