"""What the benchmark scripts share: the reference scenario's path, memory and CPU probes, and
the commit being measured.

It imports nothing of pmo-sim at module level, so that a fresh process can time pmo-sim's
own imports (benchmarks/montecarlo.py) after importing this.
"""

from __future__ import annotations

import contextlib
import resource
import subprocess
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.yaml"


class TreePeak(threading.Thread):
    """Samples the RSS of this process and, with ``tree``, all its descendants (forkserver
    workers are grandchildren, invisible to RUSAGE_CHILDREN); keeps the peak of the sum, and
    the CPU time each descendant had used when last seen (``descendants_cpu_s``: short by at
    most one sampling interval per process)."""

    def __init__(self, every: float = 0.02, tree: bool = True):
        super().__init__(daemon=True)
        self.every = every
        self.tree = tree
        self.peak_mb = 0.0
        self._cpu: dict[int, float] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        me = psutil.Process()
        while not self._stop_event.is_set():
            total = me.memory_info().rss
            for proc in me.children(recursive=True) if self.tree else []:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
                    t = proc.cpu_times()
                    self._cpu[proc.pid] = t.user + t.system
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop_event.wait(self.every)

    def stop(self) -> float:
        self._stop_event.set()
        if self.ident is not None:  # started
            self.join()
        return self.peak_mb

    @property
    def descendants_cpu_s(self) -> float:
        return sum(self._cpu.values())


def rss_mb(usage: resource.struct_rusage) -> float:
    return usage.ru_maxrss / 1024.0  # Linux reports kilobytes


def cpu_seconds(who: int) -> float:
    u = resource.getrusage(who)
    return u.ru_utime + u.ru_stime


def source_commit(checkout: Path | None = None) -> str:
    """The git commit of the pmo_sim package being measured, or of the one in ``checkout``
    (``+changes`` if its checkout has uncommitted changes under ``pmo_sim/``), or its version
    outside a checkout."""
    import pmo_sim

    where = str(checkout / "pmo_sim" if checkout is not None else Path(pmo_sim.__file__).resolve().parent)
    try:
        head = subprocess.run(["git", "-C", where, "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--", "."], check=True,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"version {pmo_sim.__version__}" if checkout is None else str(checkout)
    return head + ("+changes" if dirty else "")
