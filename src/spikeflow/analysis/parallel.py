"""Threads for analyses whose parts are independent (e.g. one population each).

numpy releases the GIL in its array loops, sorts and gathers, so per-population statistics
computed in threads overlap on the cores; each part is computed exactly as alone, so results
do not depend on the number of threads.
"""

from __future__ import annotations

import importlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from types import ModuleType
from typing import Callable, Iterable, TypeVar

__all__ = ["analysis_threads", "map_in_threads", "import_beside"]

T = TypeVar("T")
R = TypeVar("R")


def analysis_threads(environ: dict[str, str] | None = None) -> int:
    """The threads an analysis process may use.

    ``OMP_NUM_THREADS`` when set to a positive integer (Snakemake sets it to a job's
    ``threads``, so an analysis job uses the cores it was given), otherwise the CPUs this
    process may run on.
    """
    env = os.environ if environ is None else environ
    text = env.get("OMP_NUM_THREADS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def map_in_threads(fn: Callable[[T], R], items: Iterable[T], threads: int) -> list[R]:
    """``[fn(x) for x in items]``, in order, on up to ``threads`` threads (1: in this thread)."""
    items = list(items)
    if threads <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
        return list(pool.map(fn, items))


def import_beside(module: str, threads: int) -> Callable[[], ModuleType]:
    """Start importing ``module`` on a thread of its own, when ``threads`` > 1.

    For a slow import needed later (matplotlib for the figures: about 0.3 s) that can run
    while the process's threads do numpy work, which releases the GIL.

    Returns:
        A function that gives the module, waiting for the import (with 1 thread: importing
        it then); an error of the import is raised there.
    """
    if threads <= 1:
        return lambda: importlib.import_module(module)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import")
    future: Future[ModuleType] = pool.submit(importlib.import_module, module)
    pool.shutdown(wait=False)  # the thread ends with the import
    return future.result
