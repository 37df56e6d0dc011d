"""Threads for analyses whose parts are independent (e.g. one population each).

numpy releases the GIL in its array loops, sorts and gathers, so per-population statistics
computed in threads overlap on the cores; each part is computed exactly as alone, so results
do not depend on the number of threads.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, TypeVar

__all__ = ["analysis_threads", "map_in_threads", "load_then_work"]

T = TypeVar("T")
R = TypeVar("R")
L = TypeVar("L")


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


def load_then_work(load: Callable[[T], L], work: Callable[[T, L], R], items: Iterable[T], threads: int) -> list[R]:
    """``[work(x, load(x)) for x in items]``, in order: every ``load`` on this thread, one after
    another, the ``work`` on up to ``threads`` other threads.

    For loads that cannot overlap each other but can overlap the work: HDF5 reads one dataset
    at a time even when several threads ask (h5py's lock), so populations read on every
    thread wait for each other, while their binning (numpy, which releases the GIL) could run.
    The next item is loaded while ``threads`` are worked on, and no more: at most
    ``threads + 1`` loaded items are held at once. An error of a load or of a work is raised
    here (after the work already started has ended).
    """
    items = list(items)
    if threads <= 1 or len(items) <= 1:
        return [work(x, load(x)) for x in items]
    futures: list[Future[R]] = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        running: set[Future[R]] = set()
        for x in items:
            while len(running) > threads:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()  # a failed work stops the loads
            loaded = load(x)
            future = pool.submit(work, x, loaded)
            del loaded  # held by the work only
            futures.append(future)
            running.add(future)
    return [future.result() for future in futures]
