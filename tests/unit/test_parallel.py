"""spikeflow.analysis.parallel.load_then_work: loads in order on the calling thread, work on threads."""

from __future__ import annotations

import threading
import time

import pytest

from spikeflow.analysis.parallel import load_then_work


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_results_in_order_loads_on_the_calling_thread_one_at_a_time(threads):
    caller = threading.get_ident()
    loaded, alive, peak, lock = [], set(), [0], threading.Lock()

    def load(x):
        assert threading.get_ident() == caller
        loaded.append(x)
        with lock:
            alive.add(x)
            peak[0] = max(peak[0], len(alive))
        return x * 10

    def work(x, value):
        time.sleep(0.002 * (x % 3))  # out of order if nothing kept the order
        with lock:
            alive.discard(x)
        return (x, value, threading.get_ident())

    results = load_then_work(load, work, range(12), threads)
    assert [r[:2] for r in results] == [(x, 10 * x) for x in range(12)]
    assert loaded == list(range(12))
    assert peak[0] <= threads + 1  # what the memory holds at most
    if threads > 1:
        assert {r[2] for r in results} != {caller}


def test_a_failing_work_stops_the_loads_and_is_raised():
    loaded = []

    def work(x, value):
        if x == 1:
            raise ValueError("population 1 is damaged")
        time.sleep(0.01)

    with pytest.raises(ValueError, match="damaged"):
        load_then_work(lambda x: loaded.append(x) or x, work, range(50), 2)
    assert len(loaded) < 50


def test_a_failing_load_is_raised_after_the_started_work_ends():
    finished = []

    def load(x):
        if x == 3:
            raise OSError("its timestamps dataset fails its fletcher32 checksum")
        return x

    def work(x, value):
        time.sleep(0.01)
        finished.append(x)

    with pytest.raises(OSError, match="fletcher32"):
        load_then_work(load, work, range(10), 2)
    assert sorted(finished) == [0, 1, 2]
