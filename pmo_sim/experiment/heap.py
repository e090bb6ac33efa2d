"""The process's heap: the C library's large blocks in a run's parent, and what the cyclic
garbage collector looks at in a process that only simulates.

**Large blocks.**

A run's parent moves columns through memory in blocks of tens of kilobytes to several
megabytes: chunk tables received from the workers, slices of them buffered into a row group,
the Parquet writer's pages (Arrow allocates from the C library's ``malloc``: see
``pmo_sim/__init__.py``). glibc serves a block of 128 KiB or more by a memory mapping of its
own, returned to the system when freed; but the first time such a block is freed it raises
that threshold to the block's size (up to 32 MiB), so that later blocks of that size come from
the heap, between small long-lived allocations: when they are freed the heap keeps their pages
in the middle, and the process's memory grows with the tables it has written. Measured with
``benchmarks/parent_memory.py`` (the parent of a ``-j 2`` run, 100,000 canned replications of
the reference scenario): peak 141-147 MB with glibc's moving threshold, 134 MB with it held
at 128 KiB (115-117 MB at 1,000 replications either way).

:func:`map_large_blocks` holds the threshold where it starts. The ``pmo-sim`` program calls it
first thing (``pmo_sim.__main__``); a library does not change its caller's allocator, so
``run_experiment`` does not: a notebook running long experiments can call it once itself.
Workers are separate interpreters (a fork server or ``spawn``) and keep glibc's default: a
replication's allocations are small.

**The collector.** A replication makes tens of thousands of objects and frees almost all of
them by reference counting (:func:`pmo_sim.experiment.replicate.fewer_collections`); but now
and then Python's collector runs a *full* collection, which traverses every object of the
process — the modules imported, the scenario, the compiled networks — some ~50,000 objects
of which none is ever garbage. Measured at the reference size (`benchmarks/`): one full
collection in 32 replications, 22 ms of ~230 ms of CPU (~9%), landing wherever the counts
happen to fall. A process that from now on only simulates and ends with the run (a pool's
worker; the ``pmo-sim`` program running ``-j 1``) *freezes* what it has made so far
(:func:`gc.freeze`: moved to a generation the collector never traverses), so a full
collection looks only at what the replications made. A library caller's process (a
notebook) is never frozen: it lives on, and garbage frozen with the rest would never be freed.

This module imports nothing of pmo_sim (the program's entry calls it before its imports).
"""

from __future__ import annotations

import ctypes
import gc
import os

#: Whether this process is the ``pmo-sim`` program's own (:func:`program_owns_process`).
_PROGRAM = False

#: glibc's ``mallopt`` parameter number of the mapping threshold (``<malloc.h>``).
M_MMAP_THRESHOLD = -3
#: glibc's initial threshold: blocks this large or larger are mapped on their own.
LARGE_BLOCK = 128 * 1024


def glibc() -> bool:
    """Whether this process runs on the GNU C library (``mallopt`` means what it says here)."""
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError, AttributeError):  # no such name here (not glibc, not POSIX)
        return False


def map_large_blocks() -> bool:
    """Hold glibc's mapping threshold at :data:`LARGE_BLOCK` for the rest of the process:
    every block that large or larger is mapped when allocated and unmapped when freed, so a
    long run's parent gives back what its tables used. True when set; False (nothing done)
    where the C library is not glibc.
    """
    if not glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))


def program_owns_process() -> None:
    """Say that this process is the ``pmo-sim`` program's: it ends when its command does, so it
    may be frozen before it simulates in-process (:func:`owned_by_program`)."""
    global _PROGRAM
    _PROGRAM = True


def owned_by_program() -> bool:
    """Whether this process is the ``pmo-sim`` program's (not a library caller's)."""
    return _PROGRAM


def freeze_start_up() -> None:
    """Move every object made so far to the collector's permanent generation (see the module's
    docstring): for a process that only simulates from now on and ends with the run."""
    gc.freeze()
