"""The C library's heap in a run's parent: large blocks mapped on their own.

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

This module imports nothing of pmo_sim (the program's entry calls it before its imports).
"""

from __future__ import annotations

import ctypes
import os

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
