"""glibc's malloc, asked to keep freed memory (analysis processes) or to give it back (batched runs).

An analysis reads one population after another into arrays of tens of MB and frees each
after use. glibc's malloc gives such blocks back to the system (``munmap``, or a trimmed
heap) and maps fresh memory for the next one, so every population costs page faults on
memory it just had, and in a process with threads every unmapping interrupts the other
cores to flush their TLBs. On a virtual machine both are slow: on the 2-core machine of
``bench/README.md`` memory touched for the first time costs 1.5-2 ms per MB. With
:func:`retain_freed_memory` blocks up to 32 MiB come from malloc's heaps and freed memory stays
there for the next array; the process's peak memory is what it was (the largest arrays
still get their own mapping), only nothing is given back before it exits.
:func:`give_back_freed_memory` is the opposite, for a batch of runs in one process: the
previous run's network freed, the next starts near a fresh process's size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache
from typing import Any

__all__ = ["libc", "retain_freed_memory", "give_back_freed_memory"]

#: mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: Blocks at least this large get their own mapping: glibc's largest threshold on 64-bit
#: systems (``DEFAULT_MMAP_THRESHOLD_MAX``); a larger value is refused.
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of a heap beyond this is given back (mallopt takes an int: 2 GiB - 1).
TRIM_THRESHOLD = 2**31 - 1


@lru_cache(maxsize=1)
def libc() -> Any:
    """The C library, looked up once per process (``find_library`` runs ``ldconfig``), or None."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def give_back_freed_memory() -> bool:
    """glibc's ``malloc_trim(0)``: freed heap pages back to the system. False without glibc."""
    try:
        libc().malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def retain_freed_memory() -> bool:
    """Set glibc's malloc to keep freed memory for reuse (see the module docstring).

    Returns:
        True if it took effect; False where the C library is not glibc (macOS, musl) or
        refuses the settings (nothing is changed then).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = libc().mallopt
    except AttributeError:  # no C library, or one without mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
