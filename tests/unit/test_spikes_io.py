"""The spikes file: SONATA spike layout, metadata round trip, atomic writes."""

import h5py
import numpy as np
import pytest

from spikeflow.io.spikes import PopulationSpikes, read_metadata, read_spikes, write_spikes


def _pops(rng):
    a = PopulationSpikes("E", 10, rng.integers(0, 10, 50).astype(np.uint64), rng.uniform(0, 100, 50))
    b = PopulationSpikes("I", 3, np.array([2, 0, 1], np.uint64), np.array([5.0, 5.0, 1.0]))
    return a, b


def test_sonata_layout(tmp_path):
    path = write_spikes(tmp_path / "s.h5", _pops(np.random.default_rng(1)), {"t_presim_ms": 0.0, "t_sim_ms": 100.0})
    with h5py.File(path) as f:
        g = f["spikes/I"]
        assert g["timestamps"].dtype == np.float64 and g["timestamps"].attrs["units"] == "ms"
        assert g["node_ids"].dtype == np.uint64
        assert h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype) == {"none": 0, "by_id": 1, "by_time": 2}
        assert g.attrs["sorting"] == 2
        # by_time, ties by node id
        assert list(g["timestamps"][()]) == [1.0, 5.0, 5.0]
        assert list(g["node_ids"][()]) == [1, 0, 2]
        ts = f["spikes/E/timestamps"][()]
        assert np.all(np.diff(ts) >= 0)


def test_round_trip_keeps_spikes_and_metadata(tmp_path):
    pops = _pops(np.random.default_rng(2))
    meta = {
        "t_presim_ms": 10.0,
        "t_sim_ms": 90.0,
        "model": "m",
        "populations": [{"name": "E", "size": 10}, {"name": "I", "size": 3}],
        "per_rank": [{"rank": 0, "kernel": {"time_update": [0.1, 0.2]}}],
        "flag": True,
    }
    write_spikes(tmp_path / "s.h5", pops, meta)
    data = read_spikes(tmp_path / "s.h5")
    assert list(data.populations) == ["E", "I"]
    for orig in pops:
        got = data.populations[orig.name]
        assert got.n_nodes == orig.n_nodes
        ref = orig.sorted_by_time()
        np.testing.assert_array_equal(got.times, ref.times)
        np.testing.assert_array_equal(got.node_ids, ref.node_ids)
    stored = read_metadata(tmp_path / "s.h5")
    assert stored == data.metadata
    assert stored.pop("write_s") > 0  # the writer records its own duration
    assert stored == meta
    assert data.t_presim == 10.0 and data.t_stop == 100.0


def test_failed_write_leaves_no_file(tmp_path):
    target = tmp_path / "s.h5"

    class Unstorable:
        pass

    with pytest.raises(TypeError):
        write_spikes(target, _pops(np.random.default_rng(3)), {"bad": Unstorable()})
    assert list(tmp_path.iterdir()) == []


def test_mismatched_arrays_are_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        PopulationSpikes("E", 2, np.zeros(3, np.uint64), np.zeros(2))


def test_missing_file_is_one_sentence(tmp_path):
    with pytest.raises(FileNotFoundError, match="no spikes file"):
        read_spikes(tmp_path / "nope.h5")
