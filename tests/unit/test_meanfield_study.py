"""Tests of the mean-field study of clustered networks (spikeflow.meanfield.study, its task
spikeflow.tasks.meanfield and ``spikeflow analyze meanfield``) and its figures, against the corrected fixed-point classification of the reference doc
(clustered-meanfield.md section 3). Units: Hz; eigenvalues in 1/tau."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
from functools import partial
from pathlib import Path

import h5py
import numpy as np
import pytest

from spikeflow.config import ConfigError
from spikeflow.meanfield import rate_map, stability
from spikeflow.meanfield.landscape import RateModel
from spikeflow.meanfield.study import (
    classify_fixed_point,
    fixed_point_table,
    format_meanfield,
    meanfield_document,
    meanfield_study,
    pattern_starts,
)
from spikeflow.meanfield.symmetry import (
    canonical_form,
    cluster_permutation,
    is_cluster_symmetric,
    orbit,
    orbit_size,
)
from spikeflow.models.clustered.params import derive, resolve_params
from spikeflow.tasks import meanfield as meanfield_task
from spikeflow.tasks.cli import add_analyze_parser, meanfield_given
from tests.unit.test_landscape import TWO_CLUSTER


@pytest.fixture(scope="module")
def vnm_mf():
    """The toolkit's mean-field default (J+ 15.75, arousal 0.001): 50 random starts + patterns."""
    return meanfield_study({"preset": "vnm_meanfield"}, n_init=50, seed=1, landscape=False)


@pytest.fixture(scope="module")
def vnm():
    """The spiking-network default (J+ 16.85, arousal 0.3)."""
    return meanfield_study({"preset": "vnm"}, n_init=5, seed=2, landscape=False)


@pytest.fixture(scope="module")
def two():
    return meanfield_study(TWO_CLUSTER, n_init=10, seed=1, landscape=True, landscape_step=2.0)


def pure(result, k):
    return [s for s in result["states"] if s["k"] == k and s["pure"]]


def one_pure(result, k):
    states = pure(result, k)
    assert len(states) == 1, f"expected one pure k={k} state, got {len(states)}"
    return states[0]


def is_stable(state):
    return all(v.startswith("stable") for v in state["verdicts"])


# ------------------------------------------------------------------ reference table, MF default


def test_vnm_meanfield_uniform_state_is_a_saddle(vnm_mf):
    s = one_pure(vnm_mf, 0)
    assert s["rate_inactive_e_hz"] == pytest.approx(8.54, abs=0.05)
    assert s["rate_e_bg_hz"] == pytest.approx(2.43, abs=0.05)
    assert s["rate_i_inactive_hz"] == pytest.approx(11.1, abs=0.05)
    assert s["rate_i_bg_hz"] == pytest.approx(12.9, abs=0.05)
    assert s["verdicts"] == ["saddle"] and s["max_re_eig"] > 0.05


def test_vnm_meanfield_one_active_cluster_is_a_saddle(vnm_mf):
    s = one_pure(vnm_mf, 1)
    assert s["rate_active_e_hz"] == pytest.approx(38.0, abs=0.1)
    assert s["rate_inactive_e_hz"] == pytest.approx(6.7, abs=0.1)
    assert s["verdicts"] == ["saddle"]


@pytest.mark.parametrize("k, active", [(2, 38.1), (3, 36.4), (4, 32.9), (5, 28.7), (6, 24.7)])
def test_vnm_meanfield_coactive_states_are_stable(vnm_mf, k, active):
    s = one_pure(vnm_mf, k)
    assert s["rate_active_e_hz"] == pytest.approx(active, abs=0.1)
    assert is_stable(s) and s["max_re_eig"] < 0
    assert 1.6 < s["rate_inactive_e_hz"] < 4.8  # 4.7 -> 1.7 Hz from k = 2 to 6


@pytest.mark.parametrize("k, active", [(7, 21.3), (8, 18.5)])
def test_vnm_meanfield_large_states_are_saddles(vnm_mf, k, active):
    s = one_pure(vnm_mf, k)
    assert s["rate_active_e_hz"] == pytest.approx(active, abs=0.1)
    assert s["verdicts"] == ["saddle"]


def test_vnm_meanfield_only_pure_2_to_6_states_are_stable(vnm_mf):
    stable = sorted(s["k"] for s in vnm_mf["states"] if is_stable(s))
    assert stable == [2, 3, 4, 5, 6]
    assert all(s["pure"] for s in vnm_mf["states"] if is_stable(s))


def test_symmetric_duplicates_are_one_state(vnm_mf):
    rows = vnm_mf["fixed_points"]
    types = np.array(vnm_mf["populations"]["types"])
    cluster = np.array(vnm_mf["populations"]["cluster"])
    assert vnm_mf["settings"]["cluster_symmetric"] is True
    assert sum(len(s["members"]) for s in vnm_mf["states"]) == len(rows)
    assert sum(s["n_fixed_points"] for s in vnm_mf["states"]) == sum(r["orbit_size"] for r in rows)
    # one canonical fixed point stands for all C(18, 3) = 816 permutations of the 3-cluster state
    s3 = one_pure(vnm_mf, 3)
    assert s3["n_fixed_points"] == math.comb(18, 3) == 816 and len(s3["members"]) == 1
    rep = rows[s3["representative"]]
    assert rep["active_clusters"] == [0, 1, 2] and rep["orbit_size"] == 816
    assert all(np.all(np.diff(vnm_mf["rates"][r["index"], :18]) <= 1e-9) for r in rows)  # canonical order
    # a permuted copy is a fixed point too, and its canonical form is the representative
    model = RateModel(derive({"preset": "vnm_meanfield"}).lif_network(), quadrature="adaptive")
    nu = vnm_mf["rates"][s3["representative"]]
    order = np.array([5, 11, 17] + [c for c in range(18) if c not in (5, 11, 17)])
    perm = nu[cluster_permutation(types, cluster, np.argsort(order))]
    assert sorted(np.flatnonzero(perm[:18] > 30).tolist()) == [5, 11, 17]
    assert np.max(np.abs(model.phi(perm) - perm)) < 1e-10
    np.testing.assert_array_equal(canonical_form(perm, types, cluster), nu)


def test_orbits_and_symmetry_check():
    net = derive(resolve_params(TWO_CLUSTER))
    lif, types, cluster = net.lif_network(), np.asarray(net.types), np.asarray(net.cluster)
    assert is_cluster_symmetric(lif, types, cluster)
    broken = dataclasses.replace(lif, theta=lif.theta * np.array([1, 1.001, 1, 1, 1, 1]))
    assert not is_cluster_symmetric(broken, types, cluster)
    nu = np.array([50.0, 3.0, 2.5, 12.0, 11.0, 13.0])  # canonical: cluster 0 the most active
    members = list(orbit(nu, types, cluster))
    np.testing.assert_array_equal(members[0], nu)
    np.testing.assert_array_equal(members[1], [3.0, 50.0, 2.5, 11.0, 12.0, 13.0])
    assert len(members) == orbit_size(nu, types, cluster) == 2
    assert orbit_size(np.array([7.0, 7.0, 2.5, 12.0, 12.0, 13.0]), types, cluster) == 1
    assert orbit_size(np.array([7.0, 7.0, 2.5, 12.0, 11.0, 13.0]), types, cluster) == 2  # I partners differ
    with pytest.raises(ValueError, match="limit"):
        list(orbit(nu, types, cluster, limit=1))


def test_analytic_stability_agrees_with_finite_differences(vnm_mf):
    lif = derive({"preset": "vnm_meanfield"}).lif_network()
    phi = partial(rate_map, network=lif)
    for s in vnm_mf["states"][:8]:
        i = s["representative"]
        ref = stability(phi, vnm_mf["rates"][i])
        assert ref.verdict == vnm_mf["fixed_points"][i]["verdict"]
        assert ref.eigenvalues[0].real == pytest.approx(vnm_mf["fixed_points"][i]["max_re_eig"], abs=1e-4)


# ------------------------------------------------------------------ reference table, SNN default


def test_vnm_uniform_and_one_active_are_saddles(vnm):
    s0 = one_pure(vnm, 0)
    assert s0["rate_inactive_e_hz"] == pytest.approx(9.39, abs=0.05)
    assert s0["rate_e_bg_hz"] == pytest.approx(2.27, abs=0.05)
    assert s0["rate_i_inactive_hz"] == pytest.approx(11.9, abs=0.05)
    assert s0["rate_i_bg_hz"] == pytest.approx(13.8, abs=0.05)
    assert s0["verdicts"] == ["saddle"]
    s1 = one_pure(vnm, 1)
    assert s1["rate_active_e_hz"] == pytest.approx(47.1, abs=0.1)
    assert s1["verdicts"] == ["saddle"]


@pytest.mark.parametrize("k, active", [(2, 47.5), (3, 45.2), (4, 40.6), (5, 35.2), (6, 30.3)])
def test_vnm_coactive_states_are_stable(vnm, k, active):
    s = one_pure(vnm, k)
    assert s["rate_active_e_hz"] == pytest.approx(active, abs=0.1)
    assert is_stable(s)
    assert 0.9 < s["rate_inactive_e_hz"] < 4.4  # 4.3 -> 1.0 Hz


@pytest.mark.parametrize("k, active", [(7, 26.0), (8, 22.5)])
def test_vnm_large_states_are_saddles(vnm, k, active):
    s = one_pure(vnm, k)
    assert s["rate_active_e_hz"] == pytest.approx(active, abs=0.1)
    assert s["verdicts"] == ["saddle"]


# ------------------------------------------------------------------ independence of rounding

JPLUS_CONFIG = Path(__file__).resolve().parents[2] / "workflow" / "config" / "clustered-jplus.yaml"


def _reported(result):
    """What a study reports about its fixed points: per fixed point and per state, without timings."""
    fps = [(r["k"], r["orbit_size"], r["verdict"], r["active_clusters"], r["state"]) for r in result["fixed_points"]]
    keys = ("state", "k", "pure", "n_fixed_points", "members", "verdicts", "representative")
    return fps, [tuple(str(s[c]) for c in keys) for s in result["states"]]


def _assert_same_result(a, b):
    assert _reported(a) == _reported(b)
    np.testing.assert_allclose(a["rates"], b["rates"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a["eigenvalues"], b["eigenvalues"], rtol=1e-6, atol=1e-9)
    assert np.all(a["residuals"] < 1e-10) and np.all(b["residuals"] < 1e-10)


def test_the_search_does_not_depend_on_the_last_bit_of_phi(monkeypatch):
    """J+ = 16.85 of clustered-jplus.yaml with the workflow's options: Phi scaled by 1 +- 4e-16,
    or the other quadrature rule, gives the same fixed points, stabilities and states. (With a
    forward-difference Jacobian and every found permutation reported, 5 of the 69 starts went
    elsewhere: 65 fixed points in 23 states, or 66 in 25.)"""
    from spikeflow.config import load_study, load_yaml

    params = load_study(load_yaml(JPLUS_CONFIG)).select("j_potentiated.0-16.85_seed1").config["params"]
    options = {"n_init": 50, "seed": 1, "max_init_rate": 50.0, "landscape": False}
    base = meanfield_study(params, **options)
    assert len(base["states"]) >= 23 and sorted(s["k"] for s in base["states"] if is_stable(s)) == [2, 3, 4, 5, 6]
    siegert = RateModel._siegert
    for factor in (1 + 4e-16, 1 - 4e-16):
        monkeypatch.setattr(RateModel, "_siegert", lambda self, mu, sigma, f=factor: siegert(self, mu, sigma) * f)
        _assert_same_result(base, meanfield_study(params, **options))
    monkeypatch.setattr(RateModel, "_siegert", siegert)
    other = "reference" if base["settings"]["quadrature"] == "adaptive" else "adaptive"
    _assert_same_result(base, meanfield_study(params, **options, quadrature=other))


# ------------------------------------------------------------------ 2_cluster_mf


def test_two_cluster_uniform_saddle_and_stable_one_active_state(two):
    assert len(two["fixed_points"]) == 2 and len(two["states"]) == 2  # one per orbit
    s0 = one_pure(two, 0)
    assert s0["rate_inactive_e_hz"] == pytest.approx(21.8, abs=0.05)
    assert s0["rate_e_bg_hz"] == pytest.approx(2.55, abs=0.05)
    assert s0["rate_i_bg_hz"] == pytest.approx(13.0, abs=0.05)
    assert s0["verdicts"] == ["saddle"] and s0["max_re_eig"] == pytest.approx(0.15, abs=0.01)
    # the I "clusters" (J+ 1 on every I pathway) behave exactly like the I background
    assert s0["rate_i_inactive_hz"] == pytest.approx(s0["rate_i_bg_hz"], abs=1e-9)
    s1 = one_pure(two, 1)
    assert s1["rate_active_e_hz"] == pytest.approx(51.1, abs=0.05)
    assert s1["rate_inactive_e_hz"] == pytest.approx(2.53, abs=0.05)
    assert is_stable(s1) and s1["max_re_eig"] == pytest.approx(-0.20, abs=0.01)
    assert s1["n_fixed_points"] == 2  # E0 or E1 active


def test_two_cluster_landscape_agrees_with_the_search(two):
    land = two["landscape"]
    assert two["focus_names"] == ["E0", "E1"]
    types, cluster = np.array(two["populations"]["types"]), np.array(two["populations"]["cluster"])
    stable_full = sorted(
        tuple(np.round(nu[:2], 3))
        for s in two["states"]
        if is_stable(s)
        for i in s["members"]
        for nu in orbit(two["rates"][i], types, cluster)
    )
    assert len(stable_full) == 2
    stable_land = sorted(tuple(np.round(x, 3)) for x, v in zip(land.fixed_point_focus, land.verdicts) if v.startswith("stable"))
    assert stable_land == stable_full
    assert len(land.paths) == 1


# ------------------------------------------------------------------ pure logic


def test_classify_fixed_point_rules():
    types = np.array(["E"] * 4 + ["I"] * 4)
    cluster = np.array([0, 1, 2, -1, 0, 1, 2, -1])
    nu = np.array([10.0, 10.2, 10.1, 2.0, 11.0, 11.0, 11.0, 13.0])
    c = classify_fixed_point(nu, types, cluster)
    assert c["k"] == 0 and c["threshold_hz"] is None and c["n_levels"] == 3
    assert c["rate_inactive_e_hz"] == pytest.approx(10.1) and np.isnan(c["rate_active_e_hz"])
    nu = np.array([40.0, 3.0, 12.0, 2.0, 25.0, 8.0, 9.0, 13.0])
    c = classify_fixed_point(nu, types, cluster)  # largest gap between 12 and 40
    assert c["k"] == 1 and c["active_clusters"] == [0] and c["threshold_hz"] == pytest.approx(26.0)
    assert c["rate_i_active_hz"] == 25.0 and c["rate_i_inactive_hz"] == pytest.approx(8.5)
    assert c["rate_e_bg_hz"] == 2.0 and c["rate_i_bg_hz"] == 13.0
    c = classify_fixed_point(nu, types, cluster, active_threshold=5.0)
    assert c["k"] == 2 and c["active_clusters"] == [0, 2]


def test_pattern_starts():
    net = derive(resolve_params(TWO_CLUSTER))
    starts = pattern_starts(net.types, net.cluster, high=40.0)
    assert starts.shape == (3, 6)
    np.testing.assert_array_equal(starts[:, :3], [[2, 2, 2], [40, 2, 2], [40, 40, 2]])
    assert np.all(starts[:, 3:] == 10.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_init_rate"):
        meanfield_study({"preset": "vnm"}, max_init_rate=0.0, landscape=False)
    with pytest.raises(ValueError, match="not one of"):
        meanfield_study(TWO_CLUSTER, n_init=1, landscape=True, focus="E7")


# ------------------------------------------------------------------ output


def _write(result, out):
    """The tables of a study, as the task writes them (no figures)."""
    from spikeflow.io.meanfield import write_meanfield_h5
    from spikeflow.io.tables import write_csv, write_json

    names = meanfield_task.OUTPUTS
    return {
        "json": write_json(out / names["json"], meanfield_document(result)),
        "csv": write_csv(out / names["table"], *fixed_point_table(result)),
        "h5": write_meanfield_h5(result, out / names["h5"]),
    }


def test_write_and_format(two, tmp_path):
    paths = _write(two, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fixed_points.csv", "meanfield.h5", "meanfield.json"]
    doc = json.loads(paths["json"].read_text())
    assert doc["n_fixed_points"] == 3 and doc["n_orbits"] == 2 and doc["n_states"] == 2
    assert doc["landscape"]["focus"] == ["E0", "E1"] and len(doc["landscape"]["paths"]) == 1
    lines = paths["csv"].read_text().splitlines()
    assert len(lines) == 3 and "rate_Ibg_hz" in lines[0] and "orbit_size" in lines[0]
    with h5py.File(paths["h5"]) as f:
        assert f["fixed_points/rates"].shape == (2, 6)
        assert f["fixed_points/orbit_size"][:].tolist() == [1, 2]
        assert f["fixed_points/eigenvalues"].dtype.kind == "c"
        assert f["landscape/force"].shape == (31, 31, 2)
        assert f["landscape/paths/0/potential"].shape[0] > 2
        assert [n.decode() if isinstance(n, bytes) else n for n in f["names"][:]] == two["populations"]["names"]
    text = format_meanfield(two)
    assert "saddle" in text and "stable" in text and "landscape of E0, E1" in text


def test_figures(two, tmp_path):
    from spikeflow.plots.meanfield import plot_meanfield

    paths = plot_meanfield(two, {name: tmp_path / f"{name}.png" for name in meanfield_task.FIGURES})
    assert set(paths) == {"states", "spectra", "landscape"}
    for p in paths.values():
        assert p.stat().st_size > 10_000


def test_one_population_landscape_figure(tmp_path):
    from spikeflow.plots.meanfield import plot_landscape

    result = meanfield_study(TWO_CLUSTER, n_init=0, focus="E0", landscape_step=1.0)
    land = result["landscape"]
    assert land.focus.tolist() == [0] and land.potential.shape == (61,)
    assert plot_landscape(result, tmp_path / "l.png").stat().st_size > 10_000


def test_figures_keep_every_label_inside(two, tmp_path, monkeypatch):
    """The states and landscape figures have fixed margins (no tight_layout): measured after drawing."""
    from spikeflow.plots import meanfield as plots
    from tests.unit.figure_checks import kept_figures, texts_outside

    drawn = kept_figures(monkeypatch, plots)
    plots.plot_states(two, tmp_path / "s.png")
    plots.plot_landscape(two, tmp_path / "l.png")
    plots.plot_landscape(meanfield_study(TWO_CLUSTER, n_init=0, focus="E0", landscape_step=1.0), tmp_path / "l1.png")
    assert len(drawn) == 3
    for fig in drawn:
        assert texts_outside(fig) == []
        plots.pyplot().close(fig)


# ------------------------------------------------------------------ command line


class _Parser:
    """``spikeflow analyze`` as a parser: ``parse_args(["meanfield", ...])`` parses ``analyze meanfield ...``."""

    def __init__(self):
        self.parser = argparse.ArgumentParser(prog="spikeflow")
        add_analyze_parser(self.parser.add_subparsers(dest="command"))

    def parse_args(self, argv):
        return self.parser.parse_args(["analyze", *argv])


def _parser():
    return _Parser()


def meanfield_options(section, args):
    """The task's options from a parsed ``analyze meanfield`` command line, as its handler passes them."""
    return meanfield_task.study_options(section, **meanfield_given(args))


def test_options_default_from_config_and_command_line_wins():
    args = _parser().parse_args(["meanfield", "c.yaml", "--out-dir", "d", "--seed", "7", "--no-landscape"])
    section = {"enabled": True, "n_init": 12, "seed": 1, "max_init_rate": 30.0, "landscape": True}
    assert meanfield_options(section, args) == {"n_init": 12, "seed": 7, "max_init_rate": 30.0, "landscape": False}
    # the workflow writes the config's options as flags (spikeflow.resources.analysis_flags)
    args = _parser().parse_args(["meanfield", "c.yaml", "--out-dir", "d", "--n-init", "3", "--landscape", "False"])
    assert meanfield_options(section, args)["landscape"] is False
    assert meanfield_options(section, args)["n_init"] == 3
    with pytest.raises(SystemExit):
        _parser().parse_args(["meanfield", "c.yaml", "--out-dir", "d", "--landscape", "maybe"])
    args = _parser().parse_args(["meanfield", "c.yaml", "--out-dir", "d", "--n-init", "-1"])
    with pytest.raises(ValueError, match="n-init"):
        meanfield_options(section, args)


def _write_config(path, text):
    path.write_text(text)
    return path


TWO_YAML = """
study: two
model: clustered
params:
  n_neurons: 800
  n_clusters: 2
  background_fraction: 0.75
  j_baseline: [0.8, 2.5, -10.6, -9.7]
  j_potentiated: [20, 1, 1, 1]
  threshold: [4.86, 5.98]
  j_ext: [14.5, 12.9]
  c_ext: [128, 128]
  nu_ext: [7, 7]
  arousal: {level: 0.275}
analysis:
  meanfield: {enabled: true, n_init: 4, landscape: false}
"""


def test_command_runs_a_config(tmp_path, capsys):
    cfg = _write_config(tmp_path / "two.yaml", TWO_YAML)
    out = tmp_path / "mf"
    args = _parser().parse_args(["meanfield", str(cfg), "--out-dir", str(out)])
    assert args.func(args) == 0
    assert "stable" in capsys.readouterr().out
    doc = json.loads((out / "meanfield.json").read_text())
    assert doc["settings"]["n_init"] == 4 and doc["settings"]["landscape"] is False
    assert doc["landscape"] is None
    figures = ["meanfield_landscape.png", "meanfield_spectra.png", "meanfield_states.png"]
    assert all((out / name).exists() for name in figures)  # the same files with or without landscape


def test_command_errors_are_one_sentence(tmp_path):
    parser = _parser()
    pd14 = _write_config(tmp_path / "pd.yaml", "model: pd14\n")
    args = parser.parse_args(["meanfield", str(pd14), "--out-dir", str(tmp_path / "o")])
    with pytest.raises(ConfigError, match="model clustered"):
        args.func(args)
    sweep = _write_config(tmp_path / "s.yaml", TWO_YAML + "sweep:\n  params.arousal.level: [0.1, 0.2]\n")
    args = parser.parse_args(["meanfield", str(sweep), "--out-dir", str(tmp_path / "o")])
    with pytest.raises(ConfigError, match="choose one with --run"):
        args.func(args)


def test_without_the_symmetry_every_fixed_point_is_reported(monkeypatch):
    """Clusters that are not identical: no orbits, each fixed point its own row; symmetric
    duplicates still group into one state."""
    from spikeflow.meanfield import study

    monkeypatch.setattr(study, "is_cluster_symmetric", lambda *args: False)
    result = meanfield_study(TWO_CLUSTER, n_init=10, seed=1, landscape=False)
    assert result["settings"]["cluster_symmetric"] is False
    assert [r["orbit_size"] for r in result["fixed_points"]] == [1, 1, 1]
    s1 = one_pure(result, 1)
    assert s1["n_fixed_points"] == 2 and len(s1["members"]) == 2
    assert sorted(tuple(result["fixed_points"][m]["active_clusters"]) for m in s1["members"]) == [(0,), (1,)]
