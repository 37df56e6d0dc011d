"""The rates analysis (spikeflow.analysis.rates) and its task (spikeflow.tasks.rates) end to end on
synthetic spikes files (no NEST)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from spikeflow.analysis import rates as rates_analysis
from spikeflow.analysis.rates import COLUMNS, format_table, population_table
from spikeflow.io.spikes import PopulationSpikes, read_spikes, write_spikes
from spikeflow.plots import rates as plots
from spikeflow.tasks import rates as rates_task

T_PRESIM, T_SIM = 500.0, 2000.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ["raster.png", "rate_boxplot.png", "rates_vs_reference.png"]
assert set(FIGURES) | {"rates.csv", "rates.json"} == set(rates_task.OUTPUTS.values())  # the names the task writes


def poisson(rng, n, rate_hz, t0, t1):
    counts = rng.poisson(rate_hz * (t1 - t0) / 1000.0, n)
    return np.repeat(np.arange(n, dtype=np.uint64), counts), rng.uniform(t0, t1, counts.sum())


def presim_burst(n, t=100.0, spikes_per_neuron=20):
    """Every neuron fires a fast burst inside the presimulation."""
    ids = np.repeat(np.arange(n, dtype=np.uint64), spikes_per_neuron)
    times = t + np.tile(np.arange(spikes_per_neuron) * 1.0, n)
    return ids, times


def make_population(name, n, ids_times):
    ids = np.concatenate([it[0] for it in ids_times])
    times = np.concatenate([it[1] for it in ids_times])
    return PopulationSpikes(name, n, ids, times)


@pytest.fixture(scope="module")
def spikes_file(tmp_path_factory):
    rng = np.random.default_rng(42)
    t1 = T_PRESIM + T_SIM
    pops = [
        # ok, with a presimulation burst that must not count
        make_population("L4E", 200, [poisson(rng, 200, 5.0, 0.0, t1), presim_burst(200)]),
        # ok, no reference rate
        make_population("L4I", 50, [poisson(rng, 50, 8.0, 0.0, t1)]),
        # fires only during the presimulation: silent in the analysis window
        make_population("L5E", 100, [presim_burst(100, spikes_per_neuron=50)]),
        # runaway
        make_population("L5I", 50, [poisson(rng, 50, 80.0, 0.0, t1)]),
    ]
    metadata = {
        "t_presim_ms": T_PRESIM,
        "t_sim_ms": T_SIM,
        "model": "toy",
        "run_id": "toy-0001",
        "populations": [{"name": p.name, "size": p.n_nodes} for p in pops],
        "reference_rates_hz": {"L4E": 5.0, "L5E": 1.0, "L5I": 10.0},
    }
    return write_spikes(tmp_path_factory.mktemp("run") / "spikes.h5", pops, metadata)


@pytest.fixture(scope="module")
def analysed(spikes_file, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("analysis") / "rates"  # does not exist yet
    rows = rates_task.run(spikes_file, out_dir)
    return out_dir, rows


def by_name(rows):
    return {row["population"]: row for row in rows}


def test_table_rows_and_flags(spikes_file):
    data = read_spikes(spikes_file)
    rows = population_table(data)
    assert [row["population"] for row in rows] == ["L4E", "L4I", "L5E", "L5I"]
    assert all(list(row) == COLUMNS for row in rows)
    rows = by_name(rows)
    assert {name: row["flag"] for name, row in rows.items()} == {
        "L4E": "ok", "L4I": "ok", "L5E": "silent", "L5I": "runaway",
    }
    ok = rows["L4E"]
    assert ok["mean_rate_hz"] == pytest.approx(5.0, rel=0.1)
    assert ok["rate_ratio_to_reference"] == pytest.approx(ok["mean_rate_hz"] / 5.0)
    assert 0.7 < ok["cv_isi_mean"] < 1.05  # Poisson, but ~10 spikes per neuron bias CV low
    assert ok["lv_mean"] == pytest.approx(1.0, abs=0.15)
    assert ok["synchrony"] == pytest.approx(1.0, abs=0.2)
    assert abs(ok["corr_mean"]) < 0.02 and ok["n_corr_pairs"] == 50 * 49 // 2
    assert rows["L4I"]["reference_rate_hz"] is None
    assert rows["L4I"]["rate_ratio_to_reference"] is None
    # undefined statistics of a population without spikes are NaN
    silent = rows["L5E"]
    assert silent["n_spikes"] == 0 and silent["fraction_silent"] == 1.0
    assert silent["mean_rate_hz"] == 0.0 and silent["rate_ratio_to_reference"] == 0.0
    for key in ("cv_isi_mean", "cv_isi_median", "lv_mean", "synchrony", "corr_mean",
                "corr_std"):
        assert math.isnan(silent[key]), key
    assert silent["n_corr_pairs"] == 0


def test_presimulation_is_excluded(spikes_file):
    data = read_spikes(spikes_file)
    rows = by_name(population_table(data))
    pop = data.populations["L4E"]
    after = int(np.sum(pop.times > T_PRESIM))  # NEST's window (t_presim, t_stop]
    assert rows["L4E"]["n_spikes"] == after < pop.n_spikes
    assert rows["L4E"]["mean_rate_hz"] == pytest.approx(after / (200 * T_SIM / 1000.0))
    # over the whole run the bursts count and the silent population wakes up
    whole = by_name(population_table(data, t_start=0.0))
    assert whole["L4E"]["n_spikes"] == pop.n_spikes
    assert whole["L5E"]["flag"] == "ok" and whole["L5E"]["n_spikes"] == 100 * 50
    assert whole["L4E"]["synchrony"] > 10  # the burst is synchronous


def test_thresholds_and_seed_are_options(spikes_file):
    data = read_spikes(spikes_file)
    strict = by_name(population_table(data, silent_below_hz=6.0, runaway_above_hz=100.0))
    assert strict["L4E"]["flag"] == "silent" and strict["L5I"]["flag"] == "ok"
    a = population_table(data, corr_sample=10, seed=1)
    b = population_table(data, corr_sample=10, seed=1)
    assert [r["corr_mean"] for r in a][:2] == [r["corr_mean"] for r in b][:2]
    assert a[0]["n_corr_pairs"] == 45


def test_rates_task_writes_outputs(analysed):
    out_dir, rows = analysed
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        ["rates.csv", "rates.json", *FIGURES]
    )  # and no temporary files left behind

    document = json.loads(
        (out_dir / "rates.json").read_text(),
        parse_constant=lambda token: pytest.fail(f"invalid JSON token {token}"),
    )
    assert document["run_id"] == "toy-0001" and document["model"] == "toy"
    assert document["window_ms"] == [T_PRESIM, T_PRESIM + T_SIM]
    assert document["flags"] == {"L5E": "silent", "L5I": "runaway"}
    assert [r["population"] for r in document["populations"]] == ["L4E", "L4I", "L5E", "L5I"]
    assert all(list(r) == COLUMNS for r in document["populations"])
    silent = document["populations"][2]
    assert silent["cv_isi_mean"] is None and silent["synchrony"] is None
    assert document["options"]["silent_below_hz"] == 0.1

    with open(out_dir / "rates.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == COLUMNS and len(table) == 4
    assert table[2]["population"] == "L5E" and table[2]["cv_isi_mean"] == ""
    assert float(table[0]["mean_rate_hz"]) == rows[0]["mean_rate_hz"]

    for name in FIGURES:
        content = (out_dir / name).read_bytes()
        assert content.startswith(PNG_MAGIC) and len(content) > 10_000, name


def test_rates_analysis_is_the_task_without_files(spikes_file, analysed):
    """The pure analysis gives what the task writes; it reads and writes nothing itself."""
    out_dir, rows = analysed
    data = read_spikes(spikes_file)
    result = rates_analysis.rates_analysis(data)
    as_json = rates_analysis.to_json_value
    assert as_json(result.rows) == as_json(rows)
    written = json.loads((out_dir / "rates.json").read_text())
    assert json.loads(json.dumps(as_json(result.document(str(spikes_file))))) == written
    assert {name: r.size for name, r in result.rates_hz.items()} == {"L4E": 200, "L4I": 50, "L5E": 100, "L5I": 50}
    assert result.window_ms == (T_PRESIM, T_PRESIM + T_SIM) and "t_start" not in result.options
    with pytest.raises(TypeError, match="'bin_width'"):
        rates_analysis.rates_analysis(data, bin_width=1.0)


def test_format_table_warns_about_flags(analysed):
    _, rows = analysed
    text = format_table(rows)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["population", "neurons", "spikes"]
    assert any(line.startswith("L4E ") for line in lines)
    assert "WARNING: L5E is silent (0.00 spikes/s < 0.1)" in lines
    runaway = [line for line in lines if line.startswith("WARNING: L5I is runaway (")]
    assert len(runaway) == 1 and runaway[0].endswith("spikes/s > 50)")
    assert not any("L4E is" in line for line in lines)
    # rows read back from rates.json (NaN as None) format too
    assert format_table(json.loads(json.dumps(rates_analysis.to_json_value(rows)))) == text


def test_failed_analysis_leaves_no_finished_outputs(spikes_file, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("killed while drawing")

    monkeypatch.setattr(plots, "rates_vs_reference", broken)
    with pytest.raises(RuntimeError):
        rates_task.run(spikes_file, tmp_path / "out")
    assert not (tmp_path / "out" / "rates.json").exists()
    assert not (tmp_path / "out" / "rates.csv").exists()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_figures_variants(spikes_file, tmp_path):
    data = read_spikes(spikes_file)
    paths = [
        plots.raster(data, tmp_path / "raster.png", t_window=(0.0, 400.0),
                     max_neurons_per_pop=20),
        plots.rate_boxplot({"A": np.array([1.0, 2.0, 3.0]), "B": np.zeros(4)},
                           tmp_path / "box.png"),
        plots.rates_vs_reference(
            [{"population": "A", "mean_rate_hz": 2.0, "reference_rate_hz": None,
              "rate_ratio_to_reference": None, "flag": "ok"},
             {"population": "B", "mean_rate_hz": float("nan"), "reference_rate_hz": None,
              "rate_ratio_to_reference": None, "flag": "silent"}],
            tmp_path / "bars.png",
        ),
    ]
    for path in paths:
        assert path.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_populations_on_threads_give_the_same_bits(spikes_file, threads):
    """Populations analysed on several threads: every number, and the order, as on one."""
    data = read_spikes(spikes_file)
    one = rates_analysis.rates_analysis(data, threads=1)
    many = rates_analysis.rates_analysis(data, threads=threads)
    assert [row["population"] for row in many.rows] == ["L4E", "L4I", "L5E", "L5I"]
    assert json.dumps(rates_analysis.to_json_value(many.rows)) == json.dumps(rates_analysis.to_json_value(one.rows))
    assert all(np.array_equal(many.rates_hz[k], one.rates_hz[k]) for k in one.rates_hz)
    assert many.options == one.options and "threads" not in many.options


def test_analysis_threads_follow_omp_num_threads():
    from spikeflow.analysis.parallel import analysis_threads, map_in_threads

    assert analysis_threads({"OMP_NUM_THREADS": "3"}) == 3  # Snakemake sets it to a job's threads
    fallback = analysis_threads({})
    assert fallback >= 1
    assert analysis_threads({"OMP_NUM_THREADS": "0"}) == fallback == analysis_threads({"OMP_NUM_THREADS": "two"})
    assert map_in_threads(lambda x: x * x, range(7), 3) == [0, 1, 4, 9, 16, 25, 36]
