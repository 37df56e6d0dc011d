"""Figures drawn by a second process (:mod:`spikeflow.plots.process`, issue 13 part 1).

A real spawned process draws real figures; nothing is mocked. Checked: the rates analysis
writes byte for byte the same files with the figure process as without it; a figure that fails
in the process fails the analysis with one sentence and leaves no ``rates.json``; a process that
died is reported at once (no hang); small runs and one-thread analyses start no process.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import numpy as np
import pytest

from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.plots.process import FigureProcess, FigureProcessError, worth_a_process
from spikeflow.tasks import rates as rates_task

T_PRESIM, T_SIM = 100.0, 900.0


@pytest.fixture(scope="module")
def spikes(tmp_path_factory):
    """A PD14-like run of two populations whose metadata counts its spikes."""
    rng = np.random.default_rng(5)
    pops = []
    for name, size, rate in (("L23E", 400, 3.0), ("L23I", 100, 6.0)):
        n = rng.poisson(size * rate * (T_PRESIM + T_SIM) / 1000.0)
        times = np.sort(np.round(rng.uniform(0.1, T_PRESIM + T_SIM, n), 1))
        pops.append(PopulationSpikes(name, size, rng.integers(0, size, n).astype(np.uint64), times))
    meta = {
        "run_id": "seed5",
        "model": "pd14",
        "t_presim_ms": T_PRESIM,
        "t_sim_ms": T_SIM,
        "populations": [{"name": p.name, "size": p.n_nodes} for p in pops],
        "spike_counts": {p.name: int(p.n_spikes) for p in pops},
    }
    return write_spikes(tmp_path_factory.mktemp("run") / "spikes.h5", pops, meta)


def _analyse(spikes, out, monkeypatch, in_process):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setattr(rates_task, "FIGURE_PROCESS_MIN_SPIKES", 10**12 if in_process else 0)
    rates_task.run(spikes, out)
    return {p.name: p.read_bytes() for p in out.iterdir()}


def test_the_same_files_with_and_without_the_figure_process(spikes, tmp_path, monkeypatch):
    started = []
    real = FigureProcess.__init__
    monkeypatch.setattr(FigureProcess, "__init__", lambda self, module: (started.append(module), real(self, module))[1])
    alone = _analyse(spikes, tmp_path / "alone", monkeypatch, in_process=True)
    assert started == []
    beside = _analyse(spikes, tmp_path / "beside", monkeypatch, in_process=False)
    assert started == [rates_task.PLOTS]
    assert set(alone) == set(rates_task.OUTPUTS.values())
    assert beside == alone  # every PNG, rates.csv and rates.json, byte for byte


def test_a_figure_that_fails_in_the_process_fails_the_analysis(spikes, tmp_path, monkeypatch):
    out = tmp_path / "out"
    (out / rates_task.OUTPUTS["boxplot"]).mkdir(parents=True)  # the figure cannot be written there
    with pytest.raises(FigureProcessError, match="rate_boxplot failed in the figure process"):
        _analyse(spikes, out, monkeypatch, in_process=False)
    assert not (out / rates_task.OUTPUTS["json"]).exists()  # the analysis did not finish


def test_a_process_that_died_is_reported_at_once(tmp_path):
    outcome = []

    def draw_after_kill():
        with FigureProcess("spikeflow.plots.rates") as fp:
            os.kill(fp._process.pid, signal.SIGKILL)
            fp._process.wait(timeout=30)
            try:
                fp.draw("rates_vs_reference", [], tmp_path / "x.png")
                fp.finish()
            except FigureProcessError as err:
                outcome.append(str(err))

    worker = threading.Thread(target=draw_after_kill, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "waiting for a dead figure process hung"
    assert len(outcome) == 1 and "figure process ended (exit code -9)" in outcome[0]
    assert not (tmp_path / "x.png").exists()


def test_figures_are_drawn_in_the_order_asked_and_errors_say_which(tmp_path):
    rows = [{"population": "L23E", "mean_rate_hz": 1.0, "reference_rate_hz": 0.9, "flag": "ok"}]
    with FigureProcess("spikeflow.plots.rates") as fp:
        fp.draw("rates_vs_reference", rows, tmp_path / "a.png")
        fp.draw("no_such_figure", tmp_path / "b.png")
        with pytest.raises(FigureProcessError, match="no_such_figure failed in the figure process: AttributeError"):
            fp.finish()
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("threads", "n_spikes", "worth"),
    [(2, 1000, True), (1, 10**9, False), (2, 999, False), (4, None, False)],
)
def test_a_process_only_for_large_runs_with_cores_to_spare(threads, n_spikes, worth):
    assert worth_a_process(threads, n_spikes, 1000) is worth


def test_attractor_figures_the_same_with_and_without_the_figure_process(tmp_path, monkeypatch):
    from spikeflow.tasks import attractors as attractors_task
    from tests.unit.test_attractors import make_run

    run = make_run(tmp_path / "spikes.h5", seed=3)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    started = []
    real = FigureProcess.__init__
    monkeypatch.setattr(FigureProcess, "__init__", lambda self, module: (started.append(module), real(self, module))[1])
    written = {}
    for minimum in (10**15, 0):
        monkeypatch.setattr(attractors_task, "FIGURE_PROCESS_MIN_VALUES", minimum)
        out = tmp_path / f"min{minimum}"
        attractors_task.run(run, out, min_state_ms=10.0, threshold_method="midpoint")
        written[minimum] = {p.name: p.read_bytes() for p in out.iterdir()}
    assert started == [attractors_task.PLOTS]  # with the minimum 0 only
    assert set(written[0]) == set(attractors_task.OUTPUTS.values())
    assert written[0] == written[10**15]  # the figures, attractors.h5, states.csv and the JSON, byte for byte


def test_without_an_interpreter_to_start_the_figures_are_drawn_here(spikes, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    drawn = _analyse(spikes, tmp_path / "out", monkeypatch, in_process=False)
    assert set(drawn) == set(rates_task.OUTPUTS.values())
