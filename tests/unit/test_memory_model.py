"""The memory analysis and fitted memory model on synthetic run metadata (no NEST)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from spikeflow.analysis.costs import run_costs
from spikeflow.analysis.memory import (
    PD14_REFERENCE_MB,
    PD14_SCALES,
    PER_RANK_COLUMNS,
    PREDICTION_COLUMNS,
    MemoryModel,
    ResourceModel,
    RuntimeModel,
    calibrate_memory_model,
    memory_analysis,
    fit_memory_model,
    fit_resource_model,
    fit_runtime_model,
    nest_build_fingerprint,
    memory_per_rank,
    pd14_prediction,
    pd14_size,
    prediction_markdown,
)
from spikeflow.tasks import memory as memory_task
from tests.unit.synthetic_runs import PNG_MAGIC, strict_json, write_runs

# true model: 300 MB + 2 kB per neuron + 48 B per connection (per rank)
A, B, C = 300.0, 2.0 / 1024, 48.0 / 1024**2
# (neurons, connections) of PD14-like networks; connections grow faster than neurons
SIZES = [(7717, 3_004_241), (15_435, 11_986_109), (23_000, 27_000_000), (38_586, 74_797_411)]
HELD_OUT = (77_169, 299_035_306)


def true_mb(n, k, ranks=1):
    return A + B * n / ranks + C * k / ranks


def make_metadata(run_id, n_neurons, n_connections, ranks=1, peak_mb=None, seed=1, model="toy", params=None,
                  nest_version="3.10.0"):
    """Metadata whose largest rank peaks at ``peak_mb`` (default: the true model), others 10 % lower."""
    peak_mb = true_mb(n_neurons, n_connections, ranks) if peak_mb is None else peak_mb
    per_rank = []
    for r in range(ranks):
        peak_kb = peak_mb * 1024 * (1.0 if r == 0 else 0.9)
        phases = {
            p: {"wall_s": 1.0, "vmsize_kb": 2 * peak_kb * f, "peak_rss_kb": peak_kb * f}
            for p, f in (("create", 0.3), ("connect", 1.0), ("presimulate", 1.0), ("simulate", 1.0))
        }
        per_rank.append({"rank": r, "host": f"node{r}", "phases": phases,
                         "memory_start": {"vmsize_kb": 0.5 * peak_kb, "peak_rss_kb": 0.2 * peak_kb}, "kernel": {}})
    n_e = int(0.8 * n_neurons)
    return {
        "model": model,
        "run_id": run_id,
        "seed": seed,
        "num_ranks": ranks,
        "threads_per_rank": 1,
        "virtual_processes": ranks,
        "t_presim_ms": 100.0,
        "t_sim_ms": 1000.0,
        "nest_version": nest_version,
        "populations": [{"name": "E", "size": n_e}, {"name": "I", "size": n_neurons - n_e}],
        "spike_counts": {"E": 0, "I": 0},
        "num_connections": n_connections,
        "config": {"model": model, "params": dict(params or {"size": n_neurons})},
        "per_rank": per_rank,
    }


def exact_records():
    records = [run_costs(make_metadata(f"s{i}", n, k)) for i, (n, k) in enumerate(SIZES)]
    records.append(run_costs(make_metadata("s1-2ranks", *SIZES[1], ranks=2)))
    return records


def test_exact_data_recovers_coefficients():
    model = fit_memory_model(exact_records())
    assert model.base_mb == pytest.approx(A, rel=1e-6)
    assert model.mb_per_neuron == pytest.approx(B, rel=1e-6)
    assert model.mb_per_connection == pytest.approx(C, rel=1e-6)
    assert model.max_abs_residual_mb < 1e-6
    assert len(model.residuals_mb) == 5
    # a held-out larger network, on one and on four ranks
    assert model.predict_mb(*HELD_OUT) == pytest.approx(true_mb(*HELD_OUT), rel=1e-6)
    assert model.predict_mb(*HELD_OUT, ranks=4) == pytest.approx(true_mb(*HELD_OUT, ranks=4), rel=1e-6)
    assert model.fitted_on["n_sizes"] == 5
    assert model.fitted_on["nest_versions"] == ["3.10.0"]
    assert model.fitted_on["ranges"]["ranks"] == [1, 2]
    assert model.fitted_on["ranges"]["n_neurons"] == [7717, 38_586]


def test_noisy_data_within_tolerance():
    rng = np.random.default_rng(7)
    records = []
    for i, (n, k) in enumerate(SIZES):
        for seed in range(3):
            noisy = true_mb(n, k) + rng.normal(0, 5.0)
            records.append(run_costs(make_metadata(f"s{i}-{seed}", n, k, peak_mb=noisy, seed=seed)))
    model = fit_memory_model(records)
    assert model.mb_per_connection == pytest.approx(C, rel=0.05)
    assert model.base_mb == pytest.approx(A, abs=30.0)
    assert model.rmse_mb < 10.0
    assert model.predict_mb(*HELD_OUT) == pytest.approx(true_mb(*HELD_OUT), rel=0.05)


def test_coefficients_are_non_negative():
    # memory that falls with connections would need c < 0: nnls clamps it at 0
    records = [run_costs(make_metadata(f"d{i}", n, k, peak_mb=1000.0 - k / 1e6)) for i, (n, k) in enumerate(SIZES)]
    model = fit_memory_model(records)
    assert min(model.base_mb, model.mb_per_neuron, model.mb_per_connection) >= 0.0


def test_too_few_sizes_is_a_clear_error():
    records = [run_costs(make_metadata(f"r{s}", *SIZES[0], seed=s)) for s in range(3)]
    records.append(run_costs(make_metadata("other", *SIZES[1])))
    with pytest.raises(ValueError, match="at least 3 different sizes per rank, got 2"):
        fit_memory_model(records)


def test_proportional_sizes_are_an_error():
    records = [run_costs(make_metadata(f"p{n}", n, 100 * n)) for n in (1000, 2000, 4000)]
    with pytest.raises(ValueError, match="in proportion"):
        fit_memory_model(records)


def test_model_dict_round_trip():
    model = fit_memory_model(exact_records())
    data = json.loads(json.dumps(model.to_dict(), allow_nan=False))
    again = MemoryModel.from_dict(data)
    assert again == model
    assert data["bytes_per_connection"] == pytest.approx(48.0, rel=1e-6)
    slim = MemoryModel.from_dict(model.to_dict(residuals=False))
    assert slim.residuals_mb == [] and slim.base_mb == model.base_mb
    with pytest.raises(ValueError, match="fit failed"):
        MemoryModel.from_dict({"fitted": False, "error": "too few sizes"})


def test_memory_per_rank_rows():
    rows = memory_per_rank(make_metadata("two", *SIZES[0], ranks=2))
    assert len(rows) == 2 * 5
    assert set(rows[0]) == set(PER_RANK_COLUMNS)
    last = [r for r in rows if r["rank"] == 1 and r["point"] == "simulate"][0]
    assert last["peak_rss_mb"] == pytest.approx(0.9 * true_mb(*SIZES[0], ranks=2))
    assert last["connections_per_rank"] == SIZES[0][1] / 2


def test_pd14_prediction_table():
    model = MemoryModel(A, B, C)
    measured = run_costs(make_metadata("pd14-0.1", *pd14_size(0.1), peak_mb=555.0, model="pd14",
                                       params={"N_scaling": 0.1, "K_scaling": 0.1}))
    rows = pd14_prediction(model, records=[measured])
    assert [r["scale"] for r in rows] == list(PD14_SCALES)
    assert [r["reference_mb"] for r in rows] == [490.0, 1200.0, 4400.0, 14000.0]
    full = rows[-1]
    assert full["neurons"] == 77_169
    assert full["connections"] > 298_880_968  # recurrent synapses plus devices
    assert full["predicted_mb"] == pytest.approx(true_mb(full["neurons"], full["connections"]))
    assert rows[0]["measured_mb"] == pytest.approx(555.0)
    assert math.isnan(rows[1]["measured_mb"])
    text = prediction_markdown(rows)
    lines = text.splitlines()
    assert len(lines) == 2 + 4 and lines[0].startswith("| N_scaling = K_scaling |")
    assert "| 0.1 | 1 | 7,717 |" in lines[2] and lines[2].endswith("| 555 | 490 |")
    assert "| – |" in lines[3]  # no measurement at 0.2


def test_memory_task_pd14_end_to_end(tmp_path):
    metas = []
    for scale in (0.02, 0.05, 0.1):
        n, k = pd14_size(scale)
        params = {"N_scaling": scale, "K_scaling": scale, "bg_input": "poisson"}
        metas.append(make_metadata(f"pd14-{scale}", n, k, model="pd14", params=params))
    n, k = pd14_size(0.05)
    metas.append(make_metadata("pd14-0.05-2ranks", n, k, ranks=2, model="pd14",
                               params={"N_scaling": 0.05, "K_scaling": 0.05, "bg_input": "poisson"}))
    out = tmp_path / "memory"
    document = memory_task.run(write_runs(tmp_path / "runs", metas), out)

    model = MemoryModel.from_dict(strict_json(out / "memory_model.json"))
    assert model.base_mb == pytest.approx(A, rel=1e-6)
    assert model.mb_per_connection == pytest.approx(C, rel=1e-6)
    assert model.fitted_on["run_ids"] == [m["run_id"] for m in metas]

    data = strict_json(out / "memory.json")
    assert data["model_error"] is None and data["model"]["base_mb"] == pytest.approx(A, rel=1e-6)
    assert len(data["per_rank"]) == (3 + 2) * 5
    assert [r["residual_mb"] for r in data["runs"]] == pytest.approx([0.0] * 4, abs=1e-6)
    assert "| 1 | 1 | 77,169 |" in data["prediction_markdown"]
    assert document["prediction"][-1]["predicted_mb"] == pytest.approx(true_mb(*pd14_size(1.0)), rel=1e-6)

    with open(out / "memory_prediction.csv", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == PREDICTION_COLUMNS
    assert [float(r["reference_mb"]) for r in rows] == list(PD14_REFERENCE_MB.values())
    assert float(rows[0]["measured_mb"]) == pytest.approx(true_mb(*pd14_size(0.1)))
    assert rows[1]["measured_mb"] == ""
    with open(out / "memory.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == PER_RANK_COLUMNS
        assert len(list(reader)) == 25
    png = (out / "memory.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5000


def test_memory_task_without_enough_sizes(tmp_path):
    metas = [make_metadata("a", *SIZES[0]), make_metadata("b", *SIZES[1])]
    out = tmp_path / "memory"
    document = memory_task.run(write_runs(tmp_path, metas), out, predict=[{"n_neurons": 100, "n_connections": 10_000}])
    assert document["model"] is None and "at least 3 different sizes" in document["model_error"]
    saved = strict_json(out / "memory_model.json")
    assert saved["fitted"] is False and "at least 3" in saved["error"]
    data = strict_json(out / "memory.json")
    assert data["prediction"][0]["predicted_mb"] is None
    assert (out / "memory.png").read_bytes().startswith(PNG_MAGIC)
    assert (out / "memory_prediction.csv").exists()


# --- provenance, families and runtime (issue 11, item 10) ---


BUILD = {"version": "3.10.0", "have_mpi": True, "threads_model": "openmp", "have_gsl": True, "built": "Dec 1 2026",
         "prefix": "/tmp/x"}
HOST = {"hostname": "vm", "cpu": "Test CPU", "cores": 2, "machine": "x86_64", "os": "Linux"}
# true runtime: 0.5 s + 1 us per connection and VP to build; 0.1 ms per neuron and 2 us per connection, model s and VP
RT = (0.5, 1e-6, 1e-4, 2e-6)


def with_runtime(meta, vps=2):
    """Phase times of the true runtime model (create takes none of the construction)."""
    n = sum(p["size"] for p in meta["populations"])
    k = meta["num_connections"]
    meta["threads_per_rank"], meta["virtual_processes"] = vps // meta["num_ranks"], vps
    t_pre, t_sim = meta["t_presim_ms"] / 1000, meta["t_sim_ms"] / 1000
    walls = {"create": 0.0, "connect": RT[0] + RT[1] * k / vps,
             "presimulate": (RT[2] * n + RT[3] * k) * t_pre / vps, "simulate": (RT[2] * n + RT[3] * k) * t_sim / vps}
    for rank in meta["per_rank"]:
        for phase, wall in walls.items():
            rank["phases"][phase]["wall_s"] = wall
    meta["provenance"] = {"nest_build": dict(BUILD), "host": dict(HOST)}
    return meta


def family_metas():
    metas = [with_runtime(make_metadata(f"pd14-{i}", n, k, model="pd14")) for i, (n, k) in enumerate(SIZES)]
    # a family with 3x the memory per connection over a wide range: its own fit
    for i, (n, k) in enumerate([(1000, 1e5), (3000, 2e6), (6000, 1e7)]):
        metas.append(with_runtime(make_metadata(f"big-{i}", n, int(k), model="bigsyn", peak_mb=200 + 3 * C * k + B * n)))
    # a family of tiny networks (one size): calibrated, its own base and the generic size terms
    metas.append(with_runtime(make_metadata("tiny", 50, 1000, model="tiny", peak_mb=170.0)))
    return metas


def test_fit_records_the_nest_build_and_machine(tmp_path):
    out = tmp_path / "memory"
    memory_task.run(write_runs(tmp_path / "runs", family_metas()), out, predict=[])
    saved = strict_json(out / "memory_model.json")
    assert saved["format"] == 2
    fitted_on = saved["fitted_on"]
    assert fitted_on["models"] == ["pd14"]  # generic terms: PD14's
    assert fitted_on["nest_builds"] == [nest_build_fingerprint(BUILD)]
    assert "built" not in fitted_on["nest_builds"][0] and fitted_on["nest_builds"][0]["have_mpi"] is True
    assert fitted_on["hosts"] == [{"cpu": "Test CPU", "cores": 2, "machine": "x86_64"}]
    model = ResourceModel.from_dict(saved)
    assert model.nest_builds == fitted_on["nest_builds"]
    assert set(model.families) == {"pd14", "bigsyn", "tiny"}
    # a plain MemoryModel reader still reads the generic terms
    assert MemoryModel.from_dict(saved).base_mb == pytest.approx(A, rel=1e-6)


def test_families_get_their_own_terms_or_a_calibration():
    records = [run_costs(m) for m in family_metas()]
    model = fit_resource_model(records)
    pd14_terms, which = model.memory_for("pd14")
    assert which == "pd14" and pd14_terms.mb_per_connection == pytest.approx(C, rel=1e-6)
    big, which = model.memory_for("bigsyn")
    assert which == "bigsyn" and big.fitted_on["method"] == "fit"
    assert big.mb_per_connection == pytest.approx(3 * C, rel=1e-3) and big.base_mb == pytest.approx(200, abs=1)
    tiny, _ = model.memory_for("tiny")
    assert tiny.fitted_on["method"] == "calibrated (base)"
    assert tiny.predict_mb(50, 1000) == pytest.approx(170.0)
    assert tiny.mb_per_connection == pd14_terms.mb_per_connection
    # a user's model (not in the file) falls back to the generic terms
    assert model.memory_for("/home/me/brunel.py") == (model.memory, "generic")
    again = ResourceModel.from_dict(json.loads(json.dumps(model.to_dict(), allow_nan=False)))
    assert again.memory_for("bigsyn")[0].mb_per_connection == big.mb_per_connection
    assert again.runtime_for("tiny") is again.runtime  # one size: no runtime terms of its own


def test_calibration_with_two_sizes_scales_the_generic_terms():
    generic = MemoryModel(A, B, C, fitted_on={"models": ["pd14"]})
    records = [run_costs(make_metadata(f"t{k}", n, k, model="t", peak_mb=150 + 2 * (B * n + C * k)))
               for n, k in ((1000, 1_000_000), (4000, 8_000_000))]
    model = calibrate_memory_model(records, generic)
    assert model.fitted_on["method"] == "calibrated (base and scale)"
    assert model.fitted_on["scale"] == pytest.approx(2.0, rel=1e-6) and model.base_mb == pytest.approx(150, rel=1e-6)


def test_runtime_model_recovers_its_coefficients():
    records = [run_costs(with_runtime(make_metadata(f"r{i}", n, k), vps=v))
               for i, ((n, k), v) in enumerate(zip(SIZES, (2, 2, 4, 1)))]
    model = fit_runtime_model(records)
    assert [model.construction_base_s, model.s_per_connection, model.s_per_neuron_second,
            model.s_per_connection_second] == pytest.approx(list(RT), rel=1e-6)
    assert max(abs(r) for r in model.residuals_s) < 1e-9
    assert model.fitted_on["nest_builds"] == []  # run_costs records carry no provenance
    assert RuntimeModel.from_dict(model.to_dict()) == model
    with pytest.raises(ValueError, match="at least 2 sizes"):
        fit_runtime_model(records[:1])


def test_memory_analysis_is_pure_and_the_figure_takes_its_result(tmp_path):
    """memory_analysis works on metadata in memory; the figure is drawn from its result."""
    from spikeflow.plots.memory import plot_memory

    metas = [make_metadata(f"r{i}", n, k) for i, (n, k) in enumerate(SIZES)]
    result = memory_analysis(metas, predict=[{"n_neurons": 100, "n_connections": 10_000}])
    assert result.error is None and result.model.base_mb == pytest.approx(A, rel=1e-6)
    assert len(result.per_rank) == len(SIZES) * 5 and len(result.prediction) == 1
    assert result.document(["a.h5"])["spikes_files"] == ["a.h5"]
    assert result.model_document()["format"] == 2
    failed = memory_analysis(metas[:2], predict=[])
    assert failed.model is None and failed.model_document() == {"fitted": False, "error": failed.error}
    for res, name in ((result, "fit.png"), (failed, "none.png")):
        assert plot_memory(res, tmp_path / name).read_bytes().startswith(PNG_MAGIC)
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".png"]
    assert set(memory_task.OUTPUTS.values()) == {"memory.json", "memory_model.json", "memory.csv",
                                                  "memory_prediction.csv", "memory.png"}
