"""Where a phase stops between ``Run`` calls (:func:`spikeflow.driver.phases.run_in_chunks`).

Pure logic, so NEST and the clock are stand-ins here: a fake kernel that records its ``Run``
steps and advances a fake wall clock by a chosen cost per model ms. That the split does not
change the spikes is tested with real NEST (tests/nest/test_pd14_nest.py).
"""

from __future__ import annotations

import pytest

from spikeflow.driver import phases


class FakeKernel:
    """Prepare/Run/Cleanup and a spike counter of the last Run (1 spike per model ms)."""

    def __init__(self, clock, wall_per_ms):
        self.clock, self.wall_per_ms = clock, wall_per_ms
        self.steps = []
        self.local_spike_counter = 0

    def Prepare(self):
        pass

    def Cleanup(self):
        pass

    def Run(self, step):
        self.steps.append(round(step, 6))
        self.clock[0] += step * self.wall_per_ms
        self.local_spike_counter = round(step)


@pytest.fixture
def kernel(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(phases.time, "perf_counter", lambda: clock[0])
    return lambda wall_per_ms: FakeKernel(clock, wall_per_ms)


def _run(nest, duration=1000.0, interval=100.0, min_line_s=1.0, **kwargs):
    lines = []
    counted = phases.run_in_chunks(nest, "simulate", duration, interval, lines.append, min_line_s=min_line_s, **kwargs)
    return counted, lines


def test_without_a_least_wall_time_every_progress_point_is_a_stop(kernel):
    nest = kernel(0.0001)
    counted, lines = _run(nest, min_line_s=0.0)
    assert nest.steps == [100.0] * 10
    assert len(lines) == 10 and counted == 1000


def test_a_fast_run_measures_once_then_runs_to_the_end(kernel):
    nest = kernel(0.0003)  # 100 ms of model time in 0.03 s of wall time
    counted, lines = _run(nest)
    assert nest.steps == [100.0, 900.0]
    assert [line.split(":")[1].split("/")[0].strip() for line in lines] == ["100.0", "1000.0"]
    assert counted == 1000  # every Run's spikes counted


def test_lines_come_about_every_least_wall_time(kernel):
    nest = kernel(0.004)  # 100 ms of model time in 0.4 s: a line every third point
    _run(nest)
    assert nest.steps == [100.0, 300.0, 300.0, 300.0]


def test_a_slow_run_stops_at_every_point(kernel):
    nest = kernel(0.02)  # 100 ms of model time in 2 s
    _run(nest)
    assert nest.steps == [100.0] * 10


def test_hooks_and_events_are_stops_whatever_the_speed(kernel):
    nest = kernel(0.0001)
    hooks, fired = [], []
    _run(
        nest,
        hook_interval=250.0,
        after_chunk=hooks.append,
        events=[(333.0, lambda: fired.append(sum(nest.steps)))],
    )
    assert hooks == [250.0, 500.0, 750.0, 1000.0]
    assert fired == [pytest.approx(333.0)]  # the event ran once the simulation had reached its time
    assert sum(nest.steps) == pytest.approx(1000.0)
    assert set(nest.steps) - {100.0, 150.0, 83.0, 167.0, 250.0} == set()  # no stop beyond hooks, events and the first point


def test_many_progress_points_cost_no_quadratic_search(kernel):
    nest = kernel(1e-6)  # a 1e6 ms phase at 1 ms points: two stops, found by bisection
    _run(nest, duration=1.0e6, interval=1.0)
    assert nest.steps == [1.0, 999999.0]
