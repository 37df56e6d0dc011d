"""Run costs and the scaling analysis on synthetic run metadata with known answers (no NEST)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from spikeflow.analysis.costs import reduce_timer, run_costs
from spikeflow.analysis.scaling import (
    COLUMNS,
    classify_series,
    group_repeats,
    scaling_table,
    strong_scaling,
    weak_scaling,
)
from spikeflow.tasks import scaling as scaling_task
from tests.unit.synthetic_runs import PNG_MAGIC, strict_json, write_runs

FIGURES = ("scaling_phases.png", "scaling_rtf.png", "scaling_efficiency.png")
assert set(FIGURES) | {"scaling.csv", "scaling.json"} == set(scaling_task.OUTPUTS.values())


def make_metadata(
    run_id,
    *,
    n_neurons=1000,
    n_connections=100_000,
    ranks=1,
    threads=1,
    seed=1,
    simulate_s=10.0,
    rank_walls=None,
    t_sim_ms=1000.0,
    t_presim_ms=100.0,
    peak_rss_kb=500_000,
    kernel=None,
    params=None,
    model="toy",
):
    """Metadata as the driver writes it; every rank gets the same numbers unless given per rank.

    rank_walls: optional list (one per rank) of {phase: wall_s}; default create 1 s, connect 2 s,
    presimulate simulate_s * t_presim / t_sim, simulate ``simulate_s``.
    """
    if rank_walls is None:
        presim_s = simulate_s * t_presim_ms / t_sim_ms
        walls = {"create": 1.0, "connect": 2.0, "presimulate": presim_s, "simulate": simulate_s}
        rank_walls = [walls] * ranks
    n_e = int(0.8 * n_neurons)
    per_rank = []
    for r in range(ranks):
        per_rank.append(
            {
                "rank": r,
                "host": "node0",
                "phases": {
                    p: {"wall_s": w, "vmsize_kb": 2 * peak_rss_kb, "peak_rss_kb": peak_rss_kb}
                    for p, w in rank_walls[r].items()
                },
                "memory_start": {"vmsize_kb": 100_000, "peak_rss_kb": 50_000},
                "kernel": dict(kernel[r]) if kernel else {"time_simulate": simulate_s / 10},
                "spike_counts": {"E": 0, "I": 0},
                "nest_spike_counter": {"presimulate": 10, "simulate": 100},
            }
        )
    return {
        "model": model,
        "run_id": run_id,
        "study": "synthetic",
        "seed": seed,
        "num_ranks": ranks,
        "threads_per_rank": threads,
        "virtual_processes": ranks * threads,
        "t_presim_ms": t_presim_ms,
        "t_sim_ms": t_sim_ms,
        "nest_version": "3.10.0",
        "populations": [{"name": "E", "size": n_e}, {"name": "I", "size": n_neurons - n_e}],
        "spike_counts": {"E": 0, "I": 0},
        "num_connections": n_connections,
        "config": {"model": model, "params": dict(params or {"size": n_neurons})},
        "per_rank": per_rank,
    }


# Amdahl: T(p) = T1 * (f + (1 - f) / p) with serial fraction f
T1, SERIAL = 10.0, 0.1
SPLITS = [(1, 1), (1, 2), (2, 2), (2, 4)]  # (ranks, threads): 1, 2, 4, 8 VPs


def amdahl(p):
    return T1 * (SERIAL + (1 - SERIAL) / p)


def strong_records(seeds=(1, 2, 3)):
    """Three seeds per configuration at T * (1 - 1 %, 1, 1 + 1 %): mean T, SD 1 % of T."""
    records = []
    for ranks, threads in SPLITS:
        for seed, factor in zip(seeds, (0.99, 1.0, 1.01)):
            meta = make_metadata(
                f"r{ranks}t{threads}s{seed}", ranks=ranks, threads=threads, seed=seed,
                simulate_s=amdahl(ranks * threads) * factor,
            )
            records.append(run_costs(meta))
    return records


def weak_records():
    records = []
    for ranks, threads in SPLITS:
        vps = ranks * threads
        meta = make_metadata(
            f"weak{vps}",
            n_neurons=1000 * vps,
            n_connections=100_000 * vps,
            ranks=ranks,
            threads=threads,
            simulate_s=5.0 * (1 + 0.05 * math.log2(vps)),
        )
        records.append(run_costs(meta))
    return records


# --- costs --------------------------------------------------------------------------------


def test_reduce_timer_scalar_list_and_missing():
    assert reduce_timer(1.5) == 1.5
    assert reduce_timer(2) == 2.0
    assert reduce_timer([0.5, 0.9, 0.7]) == 0.9
    assert reduce_timer(np.array([0.1, 0.3])) == 0.3
    assert math.isnan(reduce_timer([]))
    assert math.isnan(reduce_timer(None))
    assert math.isnan(reduce_timer("n/a"))


def test_run_costs_reduces_ranks_threads_and_memory():
    kernel = [
        {"time_update": [0.5, 0.9, 0.7], "time_simulate": 4.0, "num_connections": 60},
        {"time_update": [1.1, 0.3, 0.2], "time_simulate": 6.0, "num_connections": 40},
    ]
    walls = [
        {"create": 1.0, "connect": 2.0, "presimulate": 0.5, "simulate": 8.0},
        {"create": 3.0, "connect": 4.0, "presimulate": 1.5, "simulate": 12.0},
    ]
    meta = make_metadata(
        "two-ranks", n_neurons=1000, n_connections=100, ranks=2, threads=3, rank_walls=walls, kernel=kernel,
        t_sim_ms=2000.0, t_presim_ms=500.0, peak_rss_kb=1024 * 300,
        params={"N_scaling": 0.1, "K_scaling": 0.2},
    )
    meta["per_rank"][1]["phases"]["simulate"]["peak_rss_kb"] = 1024 * 400
    meta["write_s"] = 0.25
    c = run_costs(meta)
    assert (c["ranks"], c["threads"], c["vps"]) == (2, 3, 6)
    assert (c["n_neurons"], c["n_connections"]) == (1000, 100)
    assert c["t_sim_s"] == 2.0 and c["t_presim_s"] == 0.5
    # wall time: mean and max over ranks
    assert c["wall_create_s"] == 2.0 and c["wall_create_s_max"] == 3.0
    assert c["wall_simulate_s"] == 10.0 and c["wall_simulate_s_max"] == 12.0
    assert c["wall_total_s"] == pytest.approx(2 + 3 + 1 + 10)
    assert math.isnan(c["wall_collect_s"]) and c["wall_write_s"] == 0.25
    assert c["real_time_factor"] == pytest.approx(10.0 / 2.0)
    assert c["real_time_factor_max"] == pytest.approx(6.0)
    assert c["presim_real_time_factor"] == pytest.approx(1.0 / 0.5)
    # per-thread lists: max over threads (0.9, 1.1), then mean over ranks
    assert c["nest_time_update_s"] == pytest.approx(1.0)
    assert c["nest_time_simulate_s"] == pytest.approx(5.0)
    assert c["nest_num_connections"] == 100
    assert c["nest_spikes_simulate"] == 200
    # memory: MB = kB / 1024, summed over ranks and largest rank
    assert c["mem_simulate_peak_rss_mb_sum"] == pytest.approx(700.0)
    assert c["mem_simulate_peak_rss_mb_max"] == pytest.approx(400.0)
    assert c["mem_connect_vmsize_mb_sum"] == pytest.approx(2 * 600.0)
    assert c["peak_rss_mb_max"] == pytest.approx(400.0)
    assert c["peak_rss_mb_sum"] == pytest.approx(700.0)
    assert c["peak_rss_mb_mean"] == pytest.approx(350.0)
    assert c["mem_start_peak_rss_mb_sum"] == pytest.approx(2 * 50_000 / 1024)
    assert (c["N_scaling"], c["K_scaling"]) == (0.1, 0.2)


def test_run_costs_missing_vmsize_is_nan():
    meta = make_metadata("old-nest")
    for phase in meta["per_rank"][0]["phases"].values():
        phase["vmsize_kb"] = -1
    c = run_costs(meta)
    assert math.isnan(c["mem_simulate_vmsize_mb_sum"])
    assert c["vmsize_mb_max"] == pytest.approx(100_000 / 1024)  # only the start probe is valid
    assert c["N_scaling"] is None


# --- grouping and series ------------------------------------------------------------------


def test_group_repeats_mean_and_sd():
    rows = group_repeats(strong_records())
    assert [r["vps"] for r in rows] == [1, 2, 4, 8]
    for row in rows:
        t = amdahl(row["vps"])
        assert row["n_seeds"] == 3 and row["seeds"] == [1, 2, 3]
        assert row["wall_simulate_s"] == pytest.approx(t)
        assert row["wall_simulate_s_sd"] == pytest.approx(0.01 * t)
        assert row["real_time_factor"] == pytest.approx(t)
        assert row["wall_create_s_sd"] == pytest.approx(0.0)


def test_strong_scaling_amdahl():
    rows = strong_scaling(strong_records())
    for row in rows:
        p = row["vps"]
        speedup = 1 / (SERIAL + (1 - SERIAL) / p)
        assert row["speedup"] == pytest.approx(speedup)
        assert row["efficiency"] == pytest.approx(speedup / p)
        assert row["vps_ref"] == 1
        assert row["reference"] == (p == 1)
        assert row["series"] == "strong"
    assert rows[0]["efficiency_sd"] == 0.0
    # two means with 1 % relative SD each: ratio SD = efficiency * sqrt(2) * 1 %
    assert rows[-1]["efficiency_sd"] == pytest.approx(rows[-1]["efficiency"] * math.sqrt(2) * 0.01)


def test_strong_scaling_compares_real_time_factors():
    # the 2-VP run simulates twice as long: its wall time doubles, its real-time factor does not
    records = [
        run_costs(make_metadata("short", simulate_s=amdahl(1))),
        run_costs(make_metadata("long", threads=2, simulate_s=2 * amdahl(2), t_sim_ms=2000.0)),
    ]
    rows = strong_scaling(records)
    assert rows[1]["speedup"] == pytest.approx(T1 / amdahl(2))


def test_strong_scaling_rejects_different_networks():
    with pytest.raises(ValueError, match="one network"):
        strong_scaling(weak_records())


def test_weak_scaling_efficiency():
    rows = weak_scaling(weak_records())
    for row in rows:
        assert row["efficiency"] == pytest.approx(1 / (1 + 0.05 * math.log2(row["vps"])))
        assert math.isnan(row["speedup"])
    with pytest.raises(ValueError, match="neurons per VP"):
        weak_scaling(strong_records())


def test_classify_series():
    assert classify_series(group_repeats(strong_records()))[0] == "strong"
    kind, reason = classify_series(weak_records())
    assert kind == "weak" and "1,000 neurons per VP" in reason
    one = [run_costs(make_metadata("one"))]
    assert classify_series(one)[0] == "none"
    # same VP count, different splits: still no series
    split = [run_costs(make_metadata("a", ranks=1, threads=2)), run_costs(make_metadata("b", ranks=2, threads=1))]
    assert classify_series(split)[0] == "none"
    # neurons per VP off by 20 %: not weak
    off = weak_records()
    off[-1] = run_costs(make_metadata("off", n_neurons=9600, n_connections=960_000, ranks=2, threads=4))
    assert classify_series(off)[0] == "mixed"
    # connection counts that differ by seed (< 1 %) are still the same network
    jitter = [run_costs(make_metadata("j1", n_connections=100_000)),
              run_costs(make_metadata("j2", n_connections=100_300, threads=2))]
    assert classify_series(jitter)[0] == "strong"


def test_mixed_becomes_strong_series_per_network():
    records = strong_records()
    for ranks, threads in SPLITS[:2]:
        meta = make_metadata(
            f"big{ranks}{threads}", n_neurons=5000, n_connections=900_000, ranks=ranks, threads=threads,
            simulate_s=30.0 / (ranks * threads),
        )
        records.append(run_costs(meta))
    records.append(run_costs(make_metadata("lonely", n_neurons=3000, n_connections=300_000, threads=2)))
    table = scaling_table(records)
    assert table["series"] == "mixed" and "strong scaling per network for 1,000, 5,000 neurons" in table["reason"]
    big = [r for r in table["rows"] if r["n_neurons"] == 5000]
    assert [r["efficiency"] for r in big] == pytest.approx([1.0, 1.0])
    assert [r["series"] for r in table["rows"]] == ["strong"] * 6 + ["none"]
    lonely = table["rows"][-1]
    assert math.isnan(lonely["efficiency"]) and lonely["series_label"] == "3,000 neurons (no series)"


def test_single_run_table():
    table = scaling_table([run_costs(make_metadata("one"))])
    (row,) = table["rows"]
    assert table["series"] == "none"
    assert row["efficiency"] == 1.0 and row["reference"] is True
    assert math.isnan(row["wall_simulate_s_sd"])


# --- end to end ---------------------------------------------------------------------------


def _check_figures(out):
    for name in FIGURES:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name


def test_scaling_task_end_to_end(tmp_path):
    kernel = [{"time_update": [0.2, 0.4], "time_simulate": 1.0}]
    metas = []
    for ranks, threads in SPLITS[:3]:
        vps = ranks * threads
        for seed in (1, 2):
            metas.append(
                make_metadata(
                    f"r{ranks}t{threads}s{seed}", ranks=ranks, threads=threads, seed=seed,
                    simulate_s=amdahl(vps) * (1 + 0.02 * (seed - 1.5)), kernel=kernel * ranks,
                )
            )
    # a single seed: SD null
    metas.append(make_metadata("r2t4s1", ranks=2, threads=4, simulate_s=amdahl(8), kernel=kernel * 2))
    paths = write_runs(tmp_path / "runs", metas)
    out = tmp_path / "scaling"
    document = scaling_task.run(paths, out)
    assert document["series"] == "strong"

    data = strict_json(out / "scaling.json")
    assert data["series"] == "strong" and "strong scaling" in data["reason"]
    assert data["reference"] == {"vps": 1, "ranks": 1, "threads": 1, "n_neurons": 1000}
    assert len(data["runs"]) == 7
    last = data["rows"][-1]
    assert last["vps"] == 8 and last["wall_simulate_s_sd"] is None
    assert last["efficiency"] == pytest.approx(1 / (SERIAL + (1 - SERIAL) / 8) / 8, rel=1e-6)
    assert last["nest_time_update_s"] == pytest.approx(0.4)

    with open(out / "scaling.csv", newline="") as f:
        reader = csv.DictReader(f)
        table = list(reader)
    assert reader.fieldnames[: len(COLUMNS)] == COLUMNS
    assert "nest_time_update_s" in reader.fieldnames
    assert [int(r["vps"]) for r in table] == [1, 2, 4, 8]
    assert table[0]["seeds"] == "1;2" and table[-1]["wall_simulate_s_sd"] == ""
    assert float(table[1]["speedup"]) == pytest.approx(T1 / amdahl(2))
    _check_figures(out)
    assert not list(out.glob(".*tmp*"))


def test_scaling_task_single_run(tmp_path):
    paths = write_runs(tmp_path, [make_metadata("only")])
    document = scaling_task.run(paths, tmp_path / "out")
    assert document["series"] == "none"
    data = strict_json(tmp_path / "out" / "scaling.json")
    (row,) = data["rows"]
    assert row["efficiency"] == 1.0 and row["real_time_factor"] == pytest.approx(10.0)
    _check_figures(tmp_path / "out")


def test_scaling_task_weak(tmp_path):
    metas = [
        make_metadata(f"w{r * t}", n_neurons=1000 * r * t, n_connections=100_000 * r * t, ranks=r, threads=t,
                      simulate_s=5.0 * (1 + 0.05 * math.log2(r * t)))
        for r, t in SPLITS
    ]
    document = scaling_task.run(write_runs(tmp_path, metas), tmp_path / "out")
    assert document["series"] == "weak"
    assert [r["efficiency"] for r in document["rows"]] == pytest.approx([1 / (1 + 0.05 * k) for k in range(4)])
    _check_figures(tmp_path / "out")


def test_scaling_document_is_what_the_task_writes(tmp_path):
    """The pure table and document (no files) are what the task writes; no input, no output folder."""
    from spikeflow.analysis.scaling import scaling_csv, scaling_document
    from spikeflow.io.spikes import read_metadata
    from spikeflow.io.tables import rows_to_csv, to_json_value

    metas = [make_metadata(f"r{r}t{t}", ranks=r, threads=t, simulate_s=amdahl(r * t)) for r, t in SPLITS[:2]]
    paths = write_runs(tmp_path / "runs", metas)
    document = scaling_task.run(paths, tmp_path / "out")
    records = [run_costs(read_metadata(p)) for p in paths]  # the metadata as the files hold it
    table = scaling_table(records)
    written = strict_json(tmp_path / "out" / "scaling.json")
    assert to_json_value(document) == written
    provenance = written.pop("provenance")  # the study summary records what made it and its runs
    assert [r["path"] for r in provenance["runs"]] == [str(p) for p in paths]
    assert to_json_value(scaling_document(table, records, paths)) == written
    assert rows_to_csv(*scaling_csv(table["rows"])) == (tmp_path / "out" / "scaling.csv").read_text()
    with pytest.raises(ValueError, match="at least one spikes file"):
        scaling_task.run([], tmp_path / "none")
    assert not (tmp_path / "none").exists()
