"""The validation verdict (spikeflow.analysis.validation) on synthetic spike trains with known answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import ks_2samp

from spikeflow.analysis import validation as v
from spikeflow.io import references
from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.tasks import meanfield_verdict as verdict_task
from spikeflow.tasks import validate as validate_task

from .synthetic_runs import PNG_MAGIC, strict_json

POPS = {"A": 300, "B": 120}
T0, T1 = 200.0, 1200.0


def synthetic_run(seed, rate_scale=1.0, common=0.3, t0=T0, t1=T1, pops=POPS):
    """Spikes of one 'run': per-neuron rates lognormal (drawn anew per seed, like another network
    instance), spikes Bernoulli per 1 ms with a shared population modulation (correlations)."""
    rng = np.random.default_rng(seed)
    out = {}
    steps = int(t1)
    for k, (name, n) in enumerate(pops.items()):
        rates = rate_scale * rng.lognormal(np.log(4.0 + 4 * k), 0.6, n)  # spikes/s
        shared = np.clip(1.0 + common * rng.standard_normal(steps // 2).repeat(2), 0.0, None)
        p = np.clip(rates[:, None] * 1e-3 * shared[None, :], 0, 1)
        ids, bins = np.nonzero(rng.random((n, steps)) < p)
        times = bins + 0.1 * rng.integers(1, 10, bins.size)
        out[name] = (ids.astype(np.uint64), times.astype(float), n)
    return out


def ensemble(seeds, **kw):
    runs = [v.run_statistics(synthetic_run(s, **kw), T0, T1, run_seed=s) for s in seeds]
    return v.Ensemble.from_runs(runs, seeds, (T0, T1), {"name": "synthetic"})


@pytest.fixture(scope="module")
def reference():
    return ensemble(list(range(100, 106)))


# --------------------------------------------------------------------------- measures
def test_ks_distance_is_scipys():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(0.5, 1, 70)
    assert v.ks_distance(a, b) == pytest.approx(ks_2samp(a, b).statistic, rel=1e-12)  # same statistic, last bit aside
    assert v.ks_distance(a, a) == 0.0


def test_effect_size_known_values():
    a = np.array([1.0, 2.0, 3.0])  # mean 2, var 1
    b = np.array([3.0, 4.0, 5.0])  # mean 4, var 1
    assert v.effect_size(a, b) == pytest.approx(2.0)
    assert v.effect_size(b, a) == pytest.approx(2.0)
    assert v.effect_size(np.ones(4), np.ones(3)) == 0.0
    assert v.effect_size(np.ones(4), np.full(3, 2.0)) == float("inf")


def test_run_statistics_uses_spiketrains():
    from spikeflow.analysis import spiketrains as st

    run = synthetic_run(1)
    stats = v.run_statistics(run, T0, T1, run_seed=1)
    ids, times, n = run["A"]
    np.testing.assert_array_equal(stats["rate"]["A"], st.per_neuron_rates(ids, times, n, T0, T1))
    cv = st.isi_cv(ids, times, T0, T1)
    np.testing.assert_array_equal(stats["cv"]["A"], cv[np.isfinite(cv)])
    assert stats["corr"]["A"].size == 50 * 49 // 2
    # the sampling is deterministic in (sample seed, run seed, population index)
    again = v.run_statistics(run, T0, T1, run_seed=1)
    np.testing.assert_array_equal(stats["corr"]["B"], again["corr"]["B"])


# --------------------------------------------------------------------------- the rule
def test_compare_rule_by_hand():
    rng = np.random.default_rng(3)
    ref = [rng.normal(size=200) for _ in range(5)]
    cand = [rng.normal(size=200) for _ in range(2)]
    cell = v.compare(cand, ref, quantile=0.95, factor=1.0)
    spread = [ks_2samp(ref[j], ref[k]).statistic for j in range(5) for k in range(j + 1, 5)]
    dists = [ks_2samp(c, r).statistic for c in cand for r in ref]
    assert cell["ks_seed_to_seed"] == pytest.approx(spread)
    assert cell["ks_candidate"] == pytest.approx(np.median(dists))
    assert cell["ks_threshold"] == pytest.approx(np.quantile(spread, 0.95))
    assert cell["ks_pass"] == (np.median(dists) <= np.quantile(spread, 0.95))
    # the factor scales the threshold; quantile 1 is the max
    assert v.compare(cand, ref, quantile=1.0, factor=2.0)["ks_threshold"] == pytest.approx(2 * max(spread))


def test_compare_undetermined_and_bad_arguments():
    ref = [np.arange(10.0), np.arange(10.0) + 1]
    cell = v.compare([np.arange(3.0)], ref, min_samples=5)
    assert cell["status"] == "undetermined" and cell["ks_pass"] is None
    with pytest.raises(ValueError, match="two seeds"):
        v.compare([np.arange(10.0)], ref[:1])
    with pytest.raises(ValueError, match="quantile"):
        v.compare([np.arange(10.0)], ref, quantile=0)


def test_same_model_other_seeds_passes(reference):
    cand = ensemble([1, 2])
    result = v.validate(cand, reference)
    assert result["verdict"] == "PASS", result["failed"]
    assert result["n_pass"] == 6 and result["n_fail"] == 0
    assert "2 x the maximum" in result["rule"]


def test_changed_rates_fail(reference):
    result = v.validate(ensemble([1, 2], rate_scale=1.5), reference)
    assert result["verdict"] == "FAIL"
    assert {"A/rate", "B/rate"} <= set(result["failed"])
    row = next(r for r in result["rows"] if r["population"] == "A" and r["statistic"] == "rate")
    assert row["ks_candidate"] > row["ks_seed_to_seed_max"]


def test_changed_correlations_fail(reference):
    """Stronger shared input: only the correlation cells fail (rates and CVs stay in the spread)."""
    result = v.validate(ensemble([1, 2], common=1.5), reference)
    assert result["verdict"] == "FAIL"
    assert set(result["failed"]) == {"A/corr", "B/corr"}


def test_refusals(reference):
    with pytest.raises(ValueError, match="prove nothing"):
        v.validate(ensemble([1, 101]), reference)
    short = v.Ensemble.from_runs([v.run_statistics(synthetic_run(1), T0, T0 + 500, run_seed=1)], [1], (T0, T0 + 500))
    with pytest.raises(ValueError, match="equally long"):
        v.validate(short, reference)
    other = v.Ensemble.from_runs([v.run_statistics(synthetic_run(1, pops={"A": 300}), T0, T1, run_seed=1)], [1], (T0, T1))
    with pytest.raises(ValueError, match="populations"):
        v.validate(other, reference)


def test_summary_line(reference):
    result = v.validate(ensemble([1, 2], rate_scale=1.5), reference)
    line = v.summary_line(result, "synthetic")
    assert line.startswith("validation against synthetic (6 seeds): FAIL")
    assert "A/rate" in line


# --------------------------------------------------------------------------- files
def test_reference_round_trip(tmp_path, reference):
    npz, js = references.save_reference(tmp_path / "ref_microcircuit.npz", reference)
    back = references.load_reference(npz)
    assert back.seeds == reference.seeds and back.window_ms == reference.window_ms
    for pop in reference.populations:
        for a, b in zip(reference.stats["rate"][pop], back.stats["rate"][pop]):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)  # counts: exact
        for a, b in zip(reference.stats["corr"][pop], back.stats["corr"][pop]):
            np.testing.assert_allclose(a, b, atol=2e-3, rtol=1e-3)  # float16
    assert json.loads(js.read_text())["seeds"] == reference.seeds
    with pytest.raises(ValueError, match="unknown reference"):
        references.reference_path("no_such_reference")


def test_shipped_references_load():
    shipped = sorted(references.SHIPPED_DIR.glob("*.npz"))
    if not shipped:
        pytest.skip("no shipped reference yet: run bench/make_validation_reference.py")
    for path in shipped:
        ref = references.load_reference(path.stem.replace("_microcircuit", ""))
        assert len(ref.seeds) >= 5 and ref.populations[0] == "L23E"
        assert path.stat().st_size < 500_000
        assert ref.info["nest_version"] and ref.info["implementation"].startswith("microcircuit")


def _write_run(path, seed, **kw):
    run = synthetic_run(seed, t0=0.0, **kw)
    pops = [PopulationSpikes(name, n, ids, times) for name, (ids, times, n) in run.items()]
    meta = {"run_id": f"seed{seed}", "model": "synthetic", "seed": seed, "t_presim_ms": T0,
            "t_sim_ms": T1 - T0, "config": {"params": {}}}
    return write_spikes(path, pops, meta)


def test_validate_task_writes_table_json_figure(tmp_path, reference):
    ref_path, _ = references.save_reference(tmp_path / "ref.npz", reference)
    files = [_write_run(tmp_path / f"s{s}.h5", s) for s in (1, 2)]
    doc = validate_task.run(files, ref_path, tmp_path / "out")
    assert doc["verdict"] == "PASS"
    assert (tmp_path / "out" / "validation.png").read_bytes()[:8] == PNG_MAGIC
    saved = strict_json(tmp_path / "out" / "validation.json")
    assert saved["verdict"] == "PASS" and saved["rule"] == v.RULE
    assert saved["candidate"]["seeds"] == [1, 2] and saved["reference"]["seeds"] == reference.seeds
    csv = (tmp_path / "out" / "validation.csv").read_text().splitlines()
    assert csv[0].split(",") == v.COLUMNS and len(csv) == 1 + 2 * 3
    assert "PASS" in v.format_validation(doc)
    assert (tmp_path / "out" / "validation.txt").read_text().splitlines()[0] == doc["summary"]

    bad = [_write_run(tmp_path / f"b{s}.h5", s, rate_scale=0.6) for s in (1, 2)]
    doc = validate_task.run(bad, ref_path, tmp_path / "bad")
    assert doc["verdict"] == "FAIL" and "A/rate" in doc["summary"]
    assert (tmp_path / "bad" / "validation.png").read_bytes()[:8] == PNG_MAGIC


# --------------------------------------------------------------------------- clustered vs mean field
def _clustered_data(rate_factor, params):
    from functools import partial

    from scipy import optimize

    from spikeflow.io.spikes import SpikeData
    from spikeflow.meanfield import rate_map
    from spikeflow.models.clustered.params import derive, resolve_params

    net = derive(resolve_params(params))
    phi = partial(rate_map, network=net.lif_network())
    nu = optimize.root(lambda r: phi(r) - r, np.full(net.n_pop, 5.0), tol=1e-12).x
    rng = np.random.default_rng(4)
    t0, t1 = 100.0, 2100.0
    pops = {}
    for name, size, rate in zip(net.names, net.sizes, nu * rate_factor):
        counts = rng.poisson(rate * (t1 - t0) / 1000.0, int(size))
        ids = np.repeat(np.arange(int(size)), counts).astype(np.uint64)
        pops[name] = PopulationSpikes(name, int(size), ids, rng.uniform(t0, t1, ids.size))
    meta = {"model": "clustered", "t_presim_ms": t0, "t_sim_ms": t1 - t0, "config": {"model": "clustered", "params": params}}
    return SpikeData(pops, meta)


def test_meanfield_verdict_passes_at_the_fixed_point_and_fails_off_it():
    params = {"preset": "vnm", "potentiate": False, "n_neurons": 400, "n_clusters": 4}
    good = v.meanfield_verdict(_clustered_data(1.0, params))
    assert good["verdict"] == "PASS" and abs(good["types"]["E"]["relative_difference"]) < 0.05
    assert "10 %" in good["rule"] and good["summary"].startswith("mean-field validation: PASS")
    bad = v.meanfield_verdict(_clustered_data(1.3, params))
    assert bad["verdict"] == "FAIL" and not bad["types"]["E"]["pass"]
    with pytest.raises(ValueError, match="J\\+ = 1"):
        v.meanfield_verdict(_clustered_data(1.0, params | {"potentiate": True}))


def test_validate_runs_is_the_task_without_files(tmp_path, reference):
    """validate_runs works on SpikeData and an Ensemble in memory: the document the task writes."""
    from spikeflow.io.spikes import read_spikes

    ref_path, _ = references.save_reference(tmp_path / "ref.npz", reference)
    files = [_write_run(tmp_path / f"s{s}.h5", s) for s in (1, 2)]
    written = validate_task.run(files, ref_path, tmp_path / "out", figures=False)
    doc = v.validate_runs([read_spikes(f) for f in files], references.load_reference(ref_path), spikes_files=files)
    provenance = written.pop("provenance")  # the study summary records what made it and its runs
    assert [r["path"] for r in provenance["runs"]] == [str(f) for f in files]
    assert json.dumps(doc, default=str) == json.dumps(written, default=str)
    assert any(line.startswith("provenance: 2 runs:") for line in (tmp_path / "out" / "validation.txt").read_text().splitlines())
    assert {p.name for p in (tmp_path / "out").iterdir()} == set(validate_task.OUTPUTS.values()) - {"validation.png"}
    assert v.validation_text(doc).splitlines()[0] == doc["summary"]


def _clustered_file(path, rate_factor, params):
    data = _clustered_data(rate_factor, params)
    data.metadata["run_id"] = path.stem
    return write_spikes(path, list(data.populations.values()), data.metadata)


def test_meanfield_verdict_task_writes_the_verdict_and_one_line(tmp_path):
    params = {"preset": "vnm", "potentiate": False, "n_neurons": 400, "n_clusters": 4}
    good = _clustered_file(tmp_path / "good.h5", 1.0, params)
    bad = _clustered_file(tmp_path / "bad.h5", 1.3, params)
    doc = verdict_task.run([good], tmp_path / "one")
    assert doc["verdict"] == "PASS" and doc["n_runs"] == 1 and doc["runs"][0]["run_id"] == "good"
    saved = strict_json(tmp_path / "one" / "verdict.json")
    assert saved["verdict"] == "PASS" and saved["runs"][0]["spikes_file"] == str(good)
    lines = (tmp_path / "one" / "verdict.txt").read_text().splitlines()
    assert lines[0] == doc["summary"] and lines[0].startswith("mean-field validation: PASS") and lines[1].startswith("rule:")
    both = verdict_task.run([good, bad], tmp_path / "two", tolerance=0.1)
    assert both["verdict"] == "FAIL" and both["n_pass"] == 1
    assert both["summary"].startswith("mean-field validation: FAIL - 1/2 runs within 10 %")
    assert verdict_task.run([bad], tmp_path / "loose", tolerance=0.5)["verdict"] == "PASS"
    for args, message in (([], "at least one spikes file"), ([good], "--tolerance must be > 0")):
        with pytest.raises(ValueError, match=message):
            verdict_task.run(args, tmp_path / "never", tolerance=0.0 if args else 0.1)
    potentiated = _clustered_file(tmp_path / "pot.h5", 1.0, params | {"potentiate": True})
    with pytest.raises(ValueError, match="J\\+ = 1"):
        verdict_task.run([potentiated], tmp_path / "never")
    assert not (tmp_path / "never").exists()


def test_meanfield_verdict_command(tmp_path, capsys):
    from spikeflow.cli import main

    params = {"preset": "vnm", "potentiate": False, "n_neurons": 400, "n_clusters": 4}
    bad = _clustered_file(tmp_path / "bad.h5", 1.3, params)
    out = tmp_path / "verdict"
    assert main(["analyze", "meanfield-verdict", str(bad), "--out-dir", str(out)]) == 0
    assert capsys.readouterr().out.startswith("mean-field validation: FAIL")
    assert main(["analyze", "meanfield-verdict", str(bad), "--out-dir", str(out), "--strict"]) == 1
    assert main(["analyze", "meanfield-verdict", str(bad), "--out-dir", str(out), "--tolerance", "0.5", "--strict"]) == 0
    assert main(["analyze", "meanfield-verdict", str(bad), "--out-dir", str(out), "--tolerance", "-1"]) == 2
    assert "--tolerance must be > 0" in capsys.readouterr().err
