"""What NEST or the machine would refuse mid-run is refused before any job, naming the key (issue 11, item 5)."""

from __future__ import annotations

import pytest

from spikeflow.cli import main
from spikeflow.config import ConfigError, load_study
from spikeflow.resources import study_resources

TINY = {"model": "pd14", "params": {"N_scaling": 0.02, "K_scaling": 0.02}}


def _study(**sections):
    cfg = {**TINY, **sections}
    study = load_study(cfg)
    study_resources(study)  # what the workflow and `spikeflow validate` run
    return study


@pytest.mark.parametrize(
    "sections, match",
    [
        ({"simulation": {"threads": 1000}}, r"1000 threads per node.*resources.node_cores"),
        ({"simulation": {"threads": 2, "ranks": 64}}, r"128 threads per node"),
        ({"simulation": {"resolution": 0.0001}}, r"'simulation.resolution' is 0.0001 ms.*\(tic\) of 0.001 ms"),
        ({"simulation": {"resolution": 0.0015}}, r"multiple of its time step"),
        ({"params": {"N_scaling": 0.0001, "K_scaling": 0.0001}}, r"population \w+ has no neurons"),
        ({"simulation": {"t_sim": 1.0e8, "progress_interval": 1.0}}, r"progress_interval.*chunks"),
        ({"resources": {"node_memory_mb": 100}}, r"more than its 1 node\(s\) of 100 MB"),
    ],
)
def test_refused_with_the_key(sections, match):
    with pytest.raises(ConfigError, match=match) as err:
        _study(**{k: {**TINY.get(k, {}), **v} for k, v in sections.items()})
    assert "\n" not in str(err.value)


def test_more_nodes_or_declared_cores_make_it_fit():
    _study(simulation={"threads": 32}, resources={"node_cores": 16})
    _study(simulation={"threads": 4, "ranks": 8}, resources={"nodes": 8})


def test_training_unknown_synapse_parameter():
    cfg = {"model": "training", "params": {"synapse_params": {"lamda": 0.01}}, "simulation": {"t_sim": 600.0}}
    with pytest.raises(ConfigError, match="'lamda', which stdp_synapse does not take.*lambda"):
        load_study(cfg)


def test_clustered_connection_probability_above_one():
    cfg = {"model": "clustered", "params": {"preset": "vnm", "conn_prob": [0.2, 1.5, 0.5, 0.5]}}
    with pytest.raises(ConfigError, match=r"params.conn_prob.1.*maximum of 1"):
        load_study(cfg)


def test_validate_runs_the_workflow_checks(tmp_path, capsys, monkeypatch):
    path = tmp_path / "study.yaml"
    path.write_text("model: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nresources: {node_memory_mb: 100}\n")
    assert main(["validate", str(path)]) == 2
    assert "100 MB" in capsys.readouterr().err
    # ranks > 1 on a NEST without MPI (the NEST probe replaced: this machine's NEST has MPI)
    path.write_text("model: pd14\nparams: {N_scaling: 0.02, K_scaling: 0.02}\nsimulation: {ranks: 2, threads: 1}\n")
    monkeypatch.setattr("spikeflow.preflight.nest_has_mpi", lambda: False)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "asks for 2 MPI ranks, but the NEST installed here has no MPI" in err and err.count("\n") == 1
