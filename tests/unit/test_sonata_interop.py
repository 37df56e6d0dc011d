"""Spikes files other tools read, and other tools' spikes files spikeflow reads.

- spikeflow's files carry SONATA's root attributes and are read fully, sorting included, by
  libsonata (BlueBrain) and bmtk (Allen Institute): every count and every time bit for bit;
- a file bmtk wrote (its own writer: int64 node ids, gzip, text sorting, no n_nodes, no
  run metadata) is read by spikeflow's read_spikes, `spikeflow info` and
  `spikeflow analyze rates`, which say what it lacks; the read-time checks still apply;
- `spikeflow export nwb` writes an NWB Units table that pynwb reads back: one unit per neuron,
  spike times = spikeflow's ms / 1000 bit for bit, the run's metadata.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from spikeflow.cli import main
from spikeflow.io.spikes import (
    SONATA_MAGIC,
    PopulationSpikes,
    SpikesFileError,
    read_metadata,
    read_spikes,
    write_spikes,
)
from tests.conftest import require_module

T_PRESIM, T_SIM, RESOLUTION = 100.0, 900.0, 0.1
HOW = "pip install -e '.[test]' (installs libsonata, bmtk and pynwb)"


@pytest.fixture(scope="module")
def libsonata():
    return require_module("libsonata", HOW)


@pytest.fixture(scope="module")
def bmtk_spikes():
    """bmtk's spike-train module (its SONATA reader and writer)."""
    require_module("bmtk", HOW)
    from types import SimpleNamespace

    with _quiet():
        from bmtk.utils.reports.spike_trains import SpikeTrains
        from bmtk.utils.reports.spike_trains.core import SortOrder

    return SimpleNamespace(SpikeTrains=SpikeTrains, SortOrder=SortOrder)


@pytest.fixture(scope="module")
def pynwb():
    return require_module("pynwb", HOW)


class _quiet:
    """Silence the deprecation warnings bmtk's imports raise."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def _population(rng, name, n_nodes, n_spikes, active=None):
    """Spikes on NEST's time grid (multiples of the resolution), ties and silent neurons included."""
    active = n_nodes if active is None else active
    steps = rng.integers(1, round((T_PRESIM + T_SIM) / RESOLUTION) + 1, n_spikes)
    return PopulationSpikes(name, n_nodes, rng.integers(0, active, n_spikes).astype(np.uint64), steps * RESOLUTION)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A spikeflow file: a population over several HDF5 chunks, one with silent neurons, one empty."""
    rng = np.random.default_rng(15)
    pops = [
        _population(rng, "L23E", 400, 300_000),  # > 2 chunks of 131072
        _population(rng, "L23I", 100, 5_000, active=60),  # neurons 60-99 silent
        PopulationSpikes("L4E", 30, np.zeros(0, np.uint64), np.zeros(0)),
    ]
    meta = {
        "spikeflow_version": "0.1.0",
        "nest_version": "3.10.0",
        "python_version": "3.11",
        "model": "pd14",
        "study": "interop",
        "run_id": "seed15",
        "seed": 15,
        "num_ranks": 1,
        "threads_per_rank": 2,
        "resolution_ms": RESOLUTION,
        "t_presim_ms": T_PRESIM,
        "t_sim_ms": T_SIM,
        "record_start_ms": 0.0,
        "finished_at": "2026-01-02T03:04:05+00:00",
        "populations": [{"name": p.name, "size": p.n_nodes} for p in pops],
        "spike_counts": {p.name: p.n_spikes for p in pops},
        "config": {"model": "pd14", "simulation": {"seed": 15}},
    }
    path = write_spikes(tmp_path_factory.mktemp("run") / "spikes.h5", pops, meta)
    return path, {p.name: p.sorted_by_time() for p in pops}


def _bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def assert_bit_identical(times, expected):
    assert times.dtype == np.float64 and times.shape == expected.shape
    assert np.array_equal(_bits(times), _bits(expected))


# --- spikeflow's files as SONATA files ------------------------------------------------------


def test_root_attributes_are_sonatas(run):
    path, _ = run
    with h5py.File(path) as f:
        magic, version = f.attrs.get_id("magic"), f.attrs.get_id("version")
        assert magic.dtype == np.dtype("<u4") and magic.shape == ()
        assert int(f.attrs["magic"]) == 0x0A7A == int(SONATA_MAGIC)
        assert version.dtype == np.dtype("<u4") and version.shape == (2,)
        assert list(f.attrs["version"]) == [0, 1]
        for name in ("L23E", "L23I", "L4E"):
            g = f[f"spikes/{name}"]
            assert h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype) == {"none": 0, "by_id": 1, "by_time": 2}
            assert g.attrs["sorting"] == 2
            assert g["node_ids"].attrs["sorting"] == "by_time"  # where bmtk looks first
            assert g["timestamps"].fletcher32 and g["node_ids"].fletcher32


def test_libsonata_reads_everything_bit_for_bit(run, libsonata):
    path, pops = run
    reader = libsonata.SpikeReader(str(path))
    assert sorted(reader.get_population_names()) == sorted(pops)
    for name, pop in pops.items():
        population = reader[name]
        assert population.sorting == "by_time"
        assert population.time_units == "ms"
        got = population.get_dict()
        assert got["node_ids"].dtype == np.uint64
        assert np.array_equal(got["node_ids"], pop.node_ids)
        assert_bit_identical(got["timestamps"], pop.times)
        if pop.n_spikes:
            assert population.times == (pop.times[0], pop.times[-1])
    # libsonata's time query uses the sorting (binary search on by_time); bounds off the grid
    t0, t1 = 123.456789, 456.789012
    window = libsonata.SpikeReader(str(path))["L23E"].get(tstart=t0, tstop=t1)
    e = pops["L23E"]
    keep = (e.times >= t0) & (e.times <= t1)
    assert len(window) == int(keep.sum())
    assert [t for _, t in window] == e.times[keep].tolist()


def test_bmtk_reads_everything_sorting_included(run, bmtk_spikes):
    path, pops = run
    with _quiet():
        trains = bmtk_spikes.SpikeTrains.load(str(path))
        assert sorted(trains.populations) == sorted(pops)
        for name, pop in pops.items():
            assert trains.sort_order(population=name) == bmtk_spikes.SortOrder.by_time  # was "unknown"
            assert trains.units(population=name) == "ms"
            assert trains.n_spikes(population=name) == pop.n_spikes
            df = trains.to_dataframe(populations=name)
            assert np.array_equal(df["node_ids"].to_numpy(), pop.node_ids)
            assert_bit_identical(df["timestamps"].to_numpy(), pop.times)
        e = pops["L23I"]
        for node in (0, 7, 59):
            assert_bit_identical(np.asarray(trains.get_times(node, population="L23I")), e.times[e.node_ids == node])


def test_nests_window_with_libsonata_and_bmtk_as_the_docs_say(run, libsonata, bmtk_spikes):
    """NEST's window (t0, t1] on the 0.1 ms grid: libsonata's ``get(tstart, tstop)`` and bmtk's
    ``time_window`` include both ends, so README tells users to start them half a step late;
    the spikes they return are then those of spikeflow's analyses, boundaries included."""
    from spikeflow.analysis.spiketrains import in_window

    path, pops = run
    e = pops["L23E"]
    t0, t1 = T_PRESIM, T_PRESIM + 500.0
    assert np.any(e.times == t0) and np.any(e.times == t1)  # spikes exactly on both ends
    ids, times = in_window(e.node_ids, e.times, t0, t1)
    window = libsonata.SpikeReader(str(path))["L23E"].get(tstart=t0 + RESOLUTION / 2, tstop=t1)
    assert [t for _, t in window] == times.tolist()
    assert [n for n, _ in window] == ids.tolist()
    with _quiet():
        trains = bmtk_spikes.SpikeTrains.load(str(path))
        for node in (0, 7, 399):
            got = np.asarray(trains.get_times(node, population="L23E", time_window=(t0 + RESOLUTION / 2, t1)))
            assert sorted(got.tolist()) == sorted(times[ids == node].tolist())


def test_files_written_before_the_sonata_attributes_are_still_read(run, tmp_path):
    path, pops = run
    old = tmp_path / "old.h5"
    old.write_bytes(path.read_bytes())
    with h5py.File(old, "r+") as f:
        del f.attrs["magic"], f.attrs["version"]
        for name in pops:
            del f[f"spikes/{name}/node_ids"].attrs["sorting"]
    data = read_spikes(old)
    assert data.missing == ()
    assert_bit_identical(data.populations["L23E"].times, pops["L23E"].times)


# --- other tools' files read by spikeflow ---------------------------------------------------


@pytest.fixture(scope="module")
def bmtk_file(tmp_path_factory, bmtk_spikes):
    """A spikes file written by bmtk's own writer (two populations), and what went into it."""
    rng = np.random.default_rng(51)
    truth = {}
    with _quiet():
        trains = bmtk_spikes.SpikeTrains(default_population="V1")
        for name, n_nodes, n in (("V1", 80, 4_000), ("LGN", 25, 600)):
            ids = rng.integers(0, n_nodes, n)
            ids[0] = n_nodes - 1  # so that max id + 1 is the population size
            times = rng.integers(1, 10_000, n) * RESOLUTION
            trains.add_spikes(node_ids=ids, timestamps=times, population=name)
            truth[name] = PopulationSpikes(name, n_nodes, ids.astype(np.uint64), times).sorted_by_time()
        path = tmp_path_factory.mktemp("bmtk") / "spikes.h5"
        trains.to_sonata(str(path), sort_order=bmtk_spikes.SortOrder.by_time)
    with h5py.File(path) as f:  # what makes it a foreign file
        assert "metadata" not in f and f["spikes/V1/node_ids"].dtype == np.int64
        assert f["spikes/V1"].attrs["sorting"] == "by_time" and "n_nodes" not in f["spikes/V1"].attrs
    return path, truth


def test_read_spikes_reads_a_bmtk_file_and_says_what_it_lacks(bmtk_file, capsys):
    path, truth = bmtk_file
    data = read_spikes(path)
    assert set(data.populations) == set(truth)
    for name, expected in truth.items():
        pop = data.populations[name]
        assert pop.n_nodes == expected.n_nodes
        assert pop.node_ids.dtype == np.uint64
        got = pop.sorted_by_time()
        assert np.array_equal(got.node_ids, expected.node_ids)
        assert_bit_identical(got.times, expected.times)
    missing = " ".join(data.missing)
    assert "no /metadata" in missing
    assert "population V1: no n_nodes attribute, inferred as the largest node id + 1 = 80" in data.missing
    assert "node_ids are int64" in missing
    last = max(float(t.times.max()) for t in truth.values())
    assert data.t_presim == 0.0 and data.t_stop == last  # the window (0, last] analyses the last spike
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"spikeflow: note: {path} was not written by spikeflow: no /metadata")


def test_analyze_rates_on_a_bmtk_file(bmtk_file, tmp_path, capsys):
    path, truth = bmtk_file
    assert main(["analyze", "rates", str(path), "--out-dir", str(tmp_path / "rates")]) == 0
    out = capsys.readouterr()
    assert "was not written by spikeflow" in out.err
    rows = {row["population"]: row for row in json.loads((tmp_path / "rates" / "rates.json").read_text())["populations"]}
    duration_s = max(float(t.times.max()) for t in truth.values()) / 1000.0
    for name, expected in truth.items():
        assert rows[name]["n_nodes"] == expected.n_nodes
        assert rows[name]["n_spikes"] == expected.n_spikes  # every spike in the window, the last one too
        assert rows[name]["mean_rate_hz"] == pytest.approx(expected.n_spikes / expected.n_nodes / duration_s)


def test_info_on_a_bmtk_file(bmtk_file, capsys):
    path, _ = bmtk_file
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "SONATA spikes file version 0.1, not written by spikeflow" in out
    assert "      V1:      80 neurons      4,000 spikes" in out
    assert "missing: no /metadata" in out and "inferred as the largest node id + 1 = 25" in out


@pytest.mark.parametrize("order", ["by_id", "none"])
def test_other_sort_orders_of_bmtk_are_read(tmp_path, bmtk_spikes, order):
    rng = np.random.default_rng(3)
    ids, times = rng.integers(0, 9, 300), rng.integers(1, 10_000, 300) * RESOLUTION
    with _quiet():
        trains = bmtk_spikes.SpikeTrains(default_population="p")
        trains.add_spikes(node_ids=ids, timestamps=times, population="p")
        trains.to_sonata(str(tmp_path / "s.h5"), sort_order=getattr(bmtk_spikes.SortOrder, order))
    got = read_spikes(tmp_path / "s.h5", notes_to_stderr=False).populations["p"].sorted_by_time()
    expected = PopulationSpikes("p", 9, ids.astype(np.uint64), times).sorted_by_time()
    assert np.array_equal(got.node_ids, expected.node_ids)
    assert_bit_identical(got.times, expected.times)


def _foreign(path, ids, times, **attrs):
    with h5py.File(path, "w") as f:
        g = f.create_group("spikes/p")
        g.create_dataset("node_ids", data=ids)
        g.create_dataset("timestamps", data=times).attrs["units"] = attrs.pop("units", "ms")
        g.attrs.update(attrs)
    return path


def test_a_foreign_file_still_gets_the_read_time_checks(tmp_path):
    bad = [
        (np.array([0, -1]), np.array([1.0, 2.0]), {}, "1 of its 2 node ids are negative"),
        (np.array([0, 1], np.uint64), np.array([1.0, np.nan]), {}, "NaN"),
        (np.array([0, 1], np.uint64), np.array([2.0, 1.0]), {"sorting": "by_time"}, "not in time order"),
        (np.array([1, 0], np.uint64), np.array([1.0, 2.0]), {"sorting": "by_id"}, "node ids are not in order"),
        (np.array([0, 1], np.uint64), np.array([1.0, 2.0]), {"sorting": "sideways"}, "not one of none, by_id, by_time"),
        (np.array([0, 5], np.uint64), np.array([1.0, 2.0]), {"n_nodes": 3}, "node ids are >= its size n_nodes = 3"),
        (np.array([0.0, 1.0]), np.array([1.0, 2.0]), {}, "not an unsigned integer type"),
        (np.array([0, 1], np.uint64), np.array([1.0, 2.0]), {"units": "furlongs"}, "in 'furlongs', not ms"),
    ]
    for i, (ids, times, attrs, match) in enumerate(bad):
        path = _foreign(tmp_path / f"bad{i}.h5", ids, times, **attrs)
        with pytest.raises(SpikesFileError, match=match) as info:
            read_spikes(path, notes_to_stderr=False)
        assert str(path) in str(info.value) and "does not follow the SONATA spike layout" in str(info.value)


def test_a_foreign_file_in_seconds_is_read_in_ms(tmp_path):
    path = _foreign(tmp_path / "s.h5", np.array([0, 1], np.uint64), np.array([0.5, 1.25]), units="s")
    data = read_spikes(path, notes_to_stderr=False)
    assert data.populations["p"].times.tolist() == [500.0, 1250.0]
    assert any("in seconds, converted to ms" in note for note in data.missing)
    assert any("no SONATA magic attribute" in note for note in data.missing)


# --- NWB export -----------------------------------------------------------------------------


def test_export_nwb_is_read_back_by_pynwb(run, tmp_path, pynwb, capsys):
    path, pops = run
    out = tmp_path / "run.nwb"
    assert main(["export", "nwb", str(path), "--out", str(out)]) == 0
    assert "530 units" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nwb"]  # written atomically, no temp file left
    meta = read_metadata(path)
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert nwb.identifier == "seed15"
        assert "pd14" in nwb.session_description and "interop" in nwb.session_description
        notes = json.loads(nwb.notes)
        assert notes["nest_version"] == "3.10.0" and notes["seed"] == 15 and notes["threads_per_rank"] == 2
        assert json.loads(nwb.scratch["spikeflow_metadata"].data) == json.loads(json.dumps(meta))
        assert nwb.session_start_time.isoformat() == "2026-01-02T03:04:05+00:00"
        units = nwb.units
        assert units.resolution == RESOLUTION / 1000.0
        assert len(units) == sum(p.n_nodes for p in pops.values())  # one unit per neuron, silent ones too
        population = np.asarray(units["population"][:])
        node_id = np.asarray(units["node_id"][:])
        index = np.asarray(units["spike_times"].data[:])  # the column is its index (NWB's spike_times_index)
        flat = np.asarray(units["spike_times"].target.data[:])
        assert_bit_identical(np.asarray(units["obs_intervals"][0]).ravel(), np.array([0.0, T_PRESIM + T_SIM]) / 1000.0)
        start = 0
        for name, pop in pops.items():  # units in population order, by node id within one
            rows = np.flatnonzero(population == name)
            assert np.array_equal(rows, np.arange(rows[0], rows[0] + pop.n_nodes))
            assert np.array_equal(node_id[rows], np.arange(pop.n_nodes))
            ends = index[rows].astype(np.int64)
            counts = np.diff(np.concatenate(([start], ends)))
            assert np.array_equal(counts, np.bincount(pop.node_ids.astype(np.int64), minlength=pop.n_nodes))
            order = np.lexsort((pop.times, pop.node_ids))
            assert_bit_identical(flat[start : ends[-1]], pop.times[order] / 1000.0)  # every spike, bit for bit
            for row in (rows[0], rows[len(rows) // 2], rows[-1]):  # through pynwb's ragged access too
                k = int(node_id[row])
                assert_bit_identical(np.asarray(units["spike_times"][row]), pop.times[pop.node_ids == k] / 1000.0)
            start = int(ends[-1])
        assert start == flat.size == sum(p.n_spikes for p in pops.values())


def test_export_nwb_of_a_bmtk_file(bmtk_file, tmp_path, pynwb, capsys):
    path, truth = bmtk_file
    out = tmp_path / "bmtk.nwb"
    assert main(["export", "nwb", str(path), "--out", str(out)]) == 0
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        assert nwb.identifier == "spikes"
        assert len(nwb.units) == sum(t.n_nodes for t in truth.values())
        assert "inferred as the largest node id + 1 = 80" in " ".join(json.loads(nwb.notes)["missing"])
        assert nwb.units["spike_times"].target.data.shape[0] == sum(t.n_spikes for t in truth.values())
