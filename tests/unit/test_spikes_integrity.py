"""A spikes file is checked against itself on read: checksums, counts, window, node ids, dtypes.

Each damaged file here would otherwise be analysed without a word (a NaN time dropped, a
flipped bit moving a spike, a count that no longer adds up); each must be refused in one
sentence naming the file, the population and what is wrong.
"""

from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pytest

from spikeflow.io.spikes import PopulationSpikes, SpikesFileError, read_metadata, read_spikes, write_spikes

T_PRESIM, T_SIM = 100.0, 900.0


def make_pops(rng, n_e=1000):
    e = PopulationSpikes("E", 50, rng.integers(0, 50, n_e).astype(np.uint64), rng.uniform(0.0, T_PRESIM + T_SIM, n_e))
    i = PopulationSpikes("I", 10, rng.integers(0, 10, 200).astype(np.uint64), rng.uniform(0.0, T_PRESIM + T_SIM, 200))
    return [e, i]


def make_meta(pops, **extra):
    meta = {
        "t_presim_ms": T_PRESIM,
        "t_sim_ms": T_SIM,
        "model": "toy",
        "run_id": "toy",
        "populations": [{"name": p.name, "size": p.n_nodes} for p in pops],
        "spike_counts": {p.name: p.n_spikes for p in pops},
    }
    meta.update(extra)
    return meta


@pytest.fixture
def good(tmp_path):
    pops = make_pops(np.random.default_rng(5))
    return write_spikes(tmp_path / "spikes.h5", pops, make_meta(pops)), pops


def refused(path, match):
    """The one-sentence refusal of ``path``: it names the file and matches ``match``."""
    with pytest.raises(SpikesFileError, match=match) as info:
        read_spikes(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message, message
    assert isinstance(info.value, ValueError)  # the CLI's one-sentence errors
    return message


def test_datasets_carry_checksums_and_values_are_bit_identical(good):
    path, pops = good
    with h5py.File(path) as f:
        for name in ("E", "I"):
            for key in ("timestamps", "node_ids"):
                assert f[f"spikes/{name}/{key}"].fletcher32, f"{name}/{key} has no fletcher32 checksum"
        assert f["spikes/E/timestamps"].dtype == np.float64 and f["spikes/E/node_ids"].dtype == np.uint64
    data = read_spikes(path)
    for pop in pops:
        ref = pop.sorted_by_time()
        got = data.populations[pop.name]
        assert got.times.view(np.uint64).tobytes() == ref.times.view(np.uint64).tobytes()
        assert got.node_ids.tobytes() == ref.node_ids.tobytes()


def test_empty_population_is_written_and_read(tmp_path):
    pops = [PopulationSpikes("E", 5, np.empty(0, np.uint64), np.empty(0))]
    path = write_spikes(tmp_path / "s.h5", pops, make_meta(pops))
    assert read_spikes(path).populations["E"].n_spikes == 0


def flip_bit(path, dataset, element, bit):
    """Flip one bit of one element of a chunked dataset, in the file's bytes (as a disk would)."""
    with h5py.File(path) as f:
        ds = f[dataset]
        info = ds.id.get_chunk_info(0)
        offset = info.byte_offset + element * ds.dtype.itemsize + bit // 8
    with open(path, "r+b") as raw:
        raw.seek(offset)
        byte = raw.read(1)[0]
        raw.seek(offset)
        raw.write(bytes([byte ^ (1 << (bit % 8))]))


def test_a_flipped_bit_in_the_timestamps_is_detected(good):
    path, _ = good
    # the lowest mantissa bit of one spike time: the time moves by 1e-13 ms, every other check passes
    flip_bit(path, "spikes/E/timestamps", 500, 0)
    message = refused(path, "fletcher32 checksum")
    assert "population E" in message and "timestamps" in message


def test_a_flipped_bit_via_the_cli_is_one_sentence_with_status_2(good, tmp_path):
    path, _ = good
    flip_bit(path, "spikes/E/timestamps", 10, 40)
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from spikeflow.cli import main; sys.exit(main(sys.argv[1:]))",
         "analyze", "rates", str(path), "--out-dir", str(tmp_path / "rates")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spikeflow: error: spikes file ") and str(path) in lines[0], proc.stderr
    assert not (tmp_path / "rates").exists() or not any((tmp_path / "rates").iterdir())


@pytest.mark.parametrize(
    "value, match",
    [(np.nan, r"include 1 NaN values"), (np.inf, r"include 1 infinite values"), (-np.inf, r"include 1 infinite values")],
)
def test_non_finite_times_are_refused(tmp_path, value, match):
    pops = make_pops(np.random.default_rng(1))
    pops[0].times[7] = value
    path = write_spikes(tmp_path / "s.h5", pops, make_meta(pops))
    assert "population E" in refused(path, match)


@pytest.mark.parametrize("t", [T_PRESIM + T_SIM + 0.1, -0.5, 5000.0])
def test_times_outside_the_recorded_window_are_refused(tmp_path, t):
    pops = make_pops(np.random.default_rng(2))
    pops[1].times[3] = t
    path = write_spikes(tmp_path / "s.h5", pops, make_meta(pops))
    message = refused(path, r"1 of its 200 spike times lie outside the recorded window 0-1000 ms")
    assert "population I" in message


def test_spikes_at_the_window_edges_are_accepted(tmp_path):
    pops = make_pops(np.random.default_rng(3))
    pops[0].times[0], pops[0].times[1] = 0.0, T_PRESIM + T_SIM
    path = write_spikes(tmp_path / "s.h5", pops, make_meta(pops))
    assert read_spikes(path).populations["E"].times.max() == T_PRESIM + T_SIM


def test_wrong_spike_counts_are_refused(tmp_path):
    pops = make_pops(np.random.default_rng(4))
    meta = make_meta(pops)
    meta["spike_counts"]["E"] += 1
    path = write_spikes(tmp_path / "s.h5", pops, meta)
    assert "population E" in refused(path, r"it has 1000 spikes but the metadata's spike_counts says 1001")


def test_counts_naming_a_population_the_file_lacks_are_refused(tmp_path):
    pops = make_pops(np.random.default_rng(4))
    meta = make_meta(pops)
    meta["spike_counts"]["X"] = 3
    path = write_spikes(tmp_path / "s.h5", pops, meta)
    assert "population X" in refused(path, r"no such population")


def test_node_ids_beyond_the_population_are_refused(tmp_path):
    pops = make_pops(np.random.default_rng(6))
    pops[0].node_ids[10] = 50  # n_nodes = 50: ids 0..49
    path = write_spikes(tmp_path / "s.h5", pops, make_meta(pops))
    assert "population E" in refused(path, r"1 of its 1000 node ids are >= its size n_nodes = 50")


def test_n_nodes_disagreeing_with_the_metadata_is_refused(tmp_path):
    pops = make_pops(np.random.default_rng(6))
    meta = make_meta(pops)
    meta["populations"][1]["size"] = 11
    path = write_spikes(tmp_path / "s.h5", pops, meta)
    assert "population I" in refused(path, r"n_nodes attribute is 10 but the metadata's populations give it 11")


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_node_ids_of_another_type_are_refused(good, dtype):
    path, _ = good
    with h5py.File(path, "r+") as f:
        g = f["spikes/E"]
        ids = g["node_ids"][()]
        del g["node_ids"]
        g.create_dataset("node_ids", data=ids.astype(dtype))
    message = refused(path, r"its node_ids are \w+, not an unsigned integer type")
    assert "population E" in message


def test_unsorted_times_of_a_by_time_file_are_refused(good):
    path, _ = good
    with h5py.File(path, "r+") as f:
        ts = f["spikes/E/timestamps"]
        t = ts[()]
        t[[3, 4]] = t[[4, 3]] if t[3] != t[4] else (t[3], t[3] - 1e-3)
        ts[...] = t
    refused(path, r"not in time order")


def test_mismatched_lengths_are_refused(good):
    path, _ = good
    with h5py.File(path, "r+") as f:
        g = f["spikes/I"]
        ids = g["node_ids"][()]
        del g["node_ids"]
        g.create_dataset("node_ids", data=ids[:-1])
    assert "population I" in refused(path, r"200 timestamps but 199 node ids")


def test_damaged_metadata_json_is_refused(good):
    path, _ = good
    with h5py.File(path, "r+") as f:
        f["metadata"].attrs["populations"] = '[{"name": "E", "size": 5'
    with pytest.raises(SpikesFileError, match="metadata entry 'populations' is not valid JSON"):
        read_metadata(path)


def test_sequence_files_record_from_the_presimulation_on(tmp_path):
    """The sequence family records from t_presim: its phases say so, and earlier spikes are refused."""
    rng = np.random.default_rng(8)
    t_presim, t_sim = 200.0, 600.0
    phases = [
        {"name": "test_before", "start_ms": t_presim, "stop_ms": 300.0, "plasticity": False},
        {"name": "train", "start_ms": 300.0, "stop_ms": 700.0, "plasticity": True},
        {"name": "test_after", "start_ms": 700.0, "stop_ms": t_presim + t_sim, "plasticity": False},
    ]
    pops = [
        PopulationSpikes("wta", 20, rng.integers(0, 20, 300).astype(np.uint64), rng.uniform(t_presim, t_presim + t_sim, 300)),
        PopulationSpikes("inputs", 8, rng.integers(0, 8, 100).astype(np.uint64), rng.uniform(t_presim, t_presim + t_sim, 100)),
    ]
    meta = {"model": "sequence", "t_presim_ms": t_presim, "t_sim_ms": t_sim, "phases": phases,
            "populations": [{"name": "wta", "size": 20}, {"name": "inputs", "size": 8}],
            "spike_counts": {"wta": 300, "inputs": 100}}
    ok = write_spikes(tmp_path / "ok.h5", pops, meta)
    assert read_spikes(ok).populations["wta"].n_spikes == 300
    pops[0].times[0] = t_presim - 1.0
    bad = write_spikes(tmp_path / "bad.h5", pops, meta)
    assert "population wta" in refused(bad, r"outside the recorded window 200-800 ms")


def test_training_epoch_files_without_run_metadata_are_read(tmp_path):
    """Per-epoch files carry only {"epoch": e}: no window or counts to check, the rest still is."""
    pops = make_pops(np.random.default_rng(9))
    path = write_spikes(tmp_path / "spikes_epoch0001.h5", pops, {"epoch": 1})
    data = read_spikes(path)
    assert list(data.populations) == ["E", "I"] and data.populations["E"].n_spikes == 1000
    pops[0].times[0] = np.nan
    bad = write_spikes(tmp_path / "spikes_epoch0002.h5", pops, {"epoch": 2})
    refused(bad, "NaN")


def test_files_without_checksums_are_still_read(tmp_path):
    """Files written before checksums were added (contiguous datasets) are read and checked."""
    pops = make_pops(np.random.default_rng(10))
    meta = make_meta(pops)
    path = tmp_path / "old.h5"
    write_spikes(path, pops, meta)
    with h5py.File(path, "r+") as f:
        for name in ("E", "I"):
            for key in ("timestamps", "node_ids"):
                data = f[f"spikes/{name}/{key}"][()]
                attrs = dict(f[f"spikes/{name}/{key}"].attrs)
                del f[f"spikes/{name}/{key}"]
                ds = f.create_dataset(f"spikes/{name}/{key}", data=data)
                ds.attrs.update(attrs)
                assert not ds.fletcher32
    assert read_spikes(path).populations["I"].n_spikes == 200
