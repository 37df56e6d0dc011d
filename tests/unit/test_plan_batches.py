"""Study-level cost (issue 13, part 4), the pure logic: which runs share a process (``--config
batch=N``), the run config written inside Snakemake's process, and the environment a NEST process
gets before ``import nest``. No NEST, no Snakemake; the real runs are in tests/workflow/test_run_groups.py."""

from __future__ import annotations

import json

import pytest

import spikeflow.resources as resources
from spikeflow.cli import main
from spikeflow.config import ConfigError
from spikeflow.driver.run import LAUNCHED_BY, prepare_nest_process
from spikeflow.plan import Plan, local_cores, parse_batch_size, resolved_run_yaml

ENSEMBLE = {
    "study": "ens",
    "model": "pd14",
    "params": {"N_scaling": 0.02, "K_scaling": 0.02},
    "simulation": {"t_presim": 100.0, "t_sim": 200.0, "threads": 2},
    "sweep": {"simulation.seed": list(range(1, 8))},
}


@pytest.fixture(autouse=True)
def no_nest_probe(monkeypatch):
    """The memory model's build check would start NEST in a subprocess; here it says nothing."""
    monkeypatch.setattr(resources, "nest_build_info", lambda: None)


def plan(config=ENSEMBLE, **overrides):
    merged = {**config, **overrides}
    return Plan(merged, overrides=overrides)


def test_without_batch_every_run_has_a_job_of_its_own():
    p = plan()
    assert p.batches == [] and p.batched == set()
    assert p.runs_pattern(mpi=False).count("|") == len(p.runs) - 1


def test_batches_are_balanced_and_cover_every_run_once():
    p = plan(batch=3)  # 7 runs, at most 3 per batch: 3 batches of 2, 2 and 3
    sizes = [len(b.runs) for b in p.batches]
    assert sorted(sizes) == [2, 2, 3] and sum(sizes) == 7
    assert [r for b in p.batches for r in b.runs] == list(p.runs)  # study order kept
    assert [b.name for b in p.batches] == ["run_batch1", "run_batch2", "run_batch3"]
    assert p.runs_pattern(mpi=False) == "(?!)"  # no run left for the per-run rule
    first = p.batches[0]
    assert first.threads == 2
    assert first.mem_mb == max(p.resources[r]["mem_mb"] for r in first.runs)
    assert first.runtime == sum(p.resources[r]["runtime"] for r in first.runs)


def test_batch_outputs_name_every_run_of_the_batch():
    p = plan(batch=7)
    (batch,) = p.batches
    outputs = p.batch_outputs(batch)
    assert [o.path for k, o in outputs.items() if k.startswith("spikes")] == [f"results/ens/{r}/spikes.h5" for r in batch.runs]
    assert list(outputs) == [f"{kind}_{i}" for i in range(7) for kind in ("config", "spikes", "provenance")]
    assert p.batch_files(batch, "provenance") == [f"results/ens/{r}/provenance.txt" for r in batch.runs]


def test_runs_of_different_threads_go_to_different_batches():
    config = {**ENSEMBLE, "sweep": {"simulation.seed": [1, 2], "simulation.threads": [1, 2]}}
    p = plan(config, batch=10)
    assert sorted((b.threads, len(b.runs)) for b in p.batches) == [(1, 2), (2, 2)]


@pytest.mark.parametrize(
    "change",
    [
        {"run": "seed3"},  # one run asked for: it runs alone
        {"analysis": {"memory": {"enabled": True}}},  # each run's memory in a process of its own
        {"analysis": {"scaling": {"enabled": True}}},  # each run's cost in a process of its own
        {"batch": 1},
        {"batch": "off"},
    ],
    ids=["one-run", "memory", "scaling", "size-1", "off"],
)
def test_no_batches_where_they_would_change_what_is_measured_or_asked(change):
    overrides = {"batch": 4, **change}
    config = {**ENSEMBLE, **{k: v for k, v in change.items() if k == "analysis"}}
    p = Plan({**config, **overrides}, overrides=overrides)
    assert p.batches == []


def test_mpi_runs_and_other_families_are_not_batched():
    mpi = {**ENSEMBLE, "sweep": {"simulation.seed": [1, 2, 3], "simulation.ranks": [1, 2]}}
    p = plan(mpi, batch=10)
    assert all(p.runs[r].ranks == 1 for b in p.batches for r in b.runs)
    assert len(p.batched) == 3 and len(p.mpi_runs()) == 3
    training = {"study": "t", "model": "training", "simulation": {"t_sim": 600.0}, "sweep": {"simulation.seed": [1, 2, 3]}}
    assert plan(training, batch=10).batches == []


def test_batch_is_a_command_line_choice_not_a_study_key():
    with pytest.raises(ConfigError, match="unknown config key 'batch'"):
        Plan({**ENSEMBLE, "batch": 4})  # in the study file: refused like any unknown key
    assert parse_batch_size("20") == 20 and parse_batch_size(5) == 5 and parse_batch_size("off") is None
    assert parse_batch_size("auto") == "auto"
    with pytest.raises(ConfigError, match="config key 'batch'"):
        parse_batch_size("many")


def test_run_config_text_is_what_spikeflow_resolve_writes(tmp_path):
    p = plan()
    run_id = list(p.runs)[2]
    text = p.run_config_json(run_id)
    main(["resolve", "--json", text, "--out", str(tmp_path / "cli.yaml")])
    assert resolved_run_yaml(json.loads(text)) == (tmp_path / "cli.yaml").read_text()
    assert resolved_run_yaml(ENSEMBLE, run_id) == (tmp_path / "cli.yaml").read_text()  # resolving is idempotent


def test_batch_outputs_hold_every_runs_config_and_spikes():
    p = plan(batch=2)
    batch = p.batches[0]
    outputs = p.batch_outputs(batch)
    assert outputs["config_1"].path == f"results/ens/{batch.runs[1]}/config.yaml"
    assert outputs["spikes_1"].path == f"results/ens/{batch.runs[1]}/spikes.h5"


@pytest.mark.parametrize(
    "launcher, psec",
    [("mpirun --bind-to none", True), ("/usr/bin/mpiexec", True), ("srun", False), ("srun apptainer exec img.sif", False)],
)
def test_mpi_launch_prefix(launcher, psec):
    text = Plan.mpi_launch(launcher, 2, 3)
    assert text.startswith("export SRUN_CPUS_PER_TASK=3; ") and text.endswith(f"{launcher} -n 2 ")
    assert ('PMIX_MCA_psec="${PMIX_MCA_psec:-native}"' in text) is psec


def test_a_process_nobody_launched_skips_the_mpi_security_probe():
    env = {"PATH": "/usr/bin"}
    assert prepare_nest_process(env) == {"PYNEST_QUIET": "1", "PMIX_MCA_psec": "native"}
    assert env["PMIX_MCA_psec"] == "native"


@pytest.mark.parametrize("launcher", LAUNCHED_BY)
def test_a_launched_rank_keeps_the_launchers_settings(launcher):
    env = {launcher: "2"}
    assert "PMIX_MCA_psec" not in prepare_nest_process(env) and "PMIX_MCA_psec" not in env


def test_what_the_user_set_is_kept():
    env = {"PMIX_MCA_psec": "munge", "PYNEST_QUIET": "0"}
    assert prepare_nest_process(env) == {} and env == {"PMIX_MCA_psec": "munge", "PYNEST_QUIET": "0"}


@pytest.mark.parametrize("cores, threads, expected", [(2, 2, [7]), (4, 2, [3, 4]), (2, 1, [3, 4]), (1, 2, [7]), (None, 2, [])])
def test_auto_gives_one_batch_per_slot_of_the_cores(cores, threads, expected):
    config = {**ENSEMBLE, "simulation": {**ENSEMBLE["simulation"], "threads": threads}}
    p = Plan({**config, "batch": "auto"}, overrides={"batch": "auto"}, cores=cores)
    assert sorted(len(b.runs) for b in p.batches) == expected


class FakeWorkflow:
    """What local_cores reads of Snakemake's workflow object (pure logic, no Snakemake)."""

    def __init__(self, local_exec=True, remote_exec=False, cores=2):
        self.local_exec, self.remote_exec = local_exec, remote_exec
        self.global_resources = {"_cores": type("Resource", (), {"value": cores})()}


def test_auto_only_where_snakemake_runs_the_jobs_itself():
    assert local_cores(FakeWorkflow()) == 2
    assert local_cores(FakeWorkflow(local_exec=False)) is None  # a cluster executor
    assert local_cores(FakeWorkflow(remote_exec=True)) is None  # inside a job it submitted
    assert local_cores(FakeWorkflow(cores=None)) is None
    assert local_cores(object()) is None


def test_the_build_probe_is_a_singleton_without_the_launchers_variables(monkeypatch):
    from spikeflow.preflight import probe_env

    monkeypatch.setenv("PMIX_RANK", "0")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.delenv("PMIX_MCA_psec", raising=False)
    env = probe_env()
    assert "PMIX_RANK" not in env and "OMPI_COMM_WORLD_SIZE" not in env
    assert env["PMIX_MCA_psec"] == "native" and env["PYNEST_QUIET"] == "1"
    monkeypatch.setenv("PMIX_MCA_psec", "munge")  # the user's choice is kept
    assert probe_env()["PMIX_MCA_psec"] == "munge"


# ------------------------------------------------------------------ analysis batches
CLUSTERED = {
    "study": "cl",
    "model": "clustered",
    "params": {"preset": "vnm", "n_neurons": 400, "n_clusters": 4, "c_ext": [64, 64]},
    "simulation": {"t_presim": 100.0, "t_sim": 1000.0, "threads": 2},
    "sweep": {"simulation.seed": list(range(1, 6))},
    "analysis": {"attractors": {"enabled": True, "min_state_ms": 10.0}},
}


def test_without_run_batches_every_analysis_has_a_job_of_its_own():
    for p in (plan(), Plan({**ENSEMBLE, "batch": "auto"}, overrides={"batch": "auto"}, cores=None)):
        assert p.analysis_batches == []
        assert p.analysis_runs_pattern("rates") == p.runs_pattern(mpi=False) == "|".join(p.runs)


def test_analyses_of_batched_runs_go_to_one_job_per_core():
    p = Plan({**ENSEMBLE, "batch": "auto"}, overrides={"batch": "auto"}, cores=2)  # 7 runs of 2 threads: one run batch
    assert [len(b.runs) for b in p.batches] == [7]
    assert [(b.name, b.kind, b.runs) for b in p.analysis_batches] == [
        ("analyze_rates_batch1", "rates", ("seed1", "seed2", "seed3")),
        ("analyze_rates_batch2", "rates", ("seed4", "seed5", "seed6", "seed7")),
    ]
    assert all(list(b.flags) == p.analysis_flags("rates", b.runs[0]) for b in p.analysis_batches)
    assert p.analysis_runs_pattern("rates") == "(?!)"  # no run left for analyze_rates
    four = Plan({**ENSEMBLE, "batch": "auto"}, overrides={"batch": "auto"}, cores=4)
    assert [len(b.runs) for b in four.batches] == [3, 4]
    assert [len(b.runs) for b in four.analysis_batches] == [2, 2, 2]  # 4 parts of 7 runs; the part of one run runs alone
    assert four.analysis_runs_pattern("rates") == "seed1"


def test_batch_n_allows_at_most_n_runs_per_analysis_job():
    p = Plan({**ENSEMBLE, "batch": 2}, overrides={"batch": 2}, cores=2)
    assert [b.runs for b in p.analysis_batches] == [b.runs for b in p.batches]  # seed1 runs alone, then 3 x 2 runs
    assert p.analysis_runs_pattern("rates") == "seed1"
    cluster = Plan({**ENSEMBLE, "batch": 4}, overrides={"batch": 4}, cores=None)  # a cluster: no cores to fill
    assert [len(b.runs) for b in cluster.analysis_batches] == [3, 4]


def test_only_runs_with_equal_analysis_options_share_a_job():
    config = {**ENSEMBLE, "sweep": {"simulation.seed": [1, 2, 3, 4], "analysis.rates.corr_sample": [20, 40]}}
    p = Plan({**config, "batch": "auto"}, overrides={"batch": "auto"}, cores=1)
    assert len(p.batches) == 1 and len(p.analysis_batches) == 2
    for b in p.analysis_batches:
        assert {tuple(p.analysis_flags("rates", r)) for r in b.runs} == {b.flags}
        assert len(b.runs) == 4


def test_clustered_runs_batch_their_attractor_analyses_too():
    p = Plan({**CLUSTERED, "batch": "auto"}, overrides={"batch": "auto"}, cores=2)
    assert [(b.name, len(b.runs)) for b in p.analysis_batches] == [
        ("analyze_rates_batch1", 2), ("analyze_rates_batch2", 3),
        ("analyze_attractors_batch1", 2), ("analyze_attractors_batch2", 3),
    ]
    batch = p.analysis_batches[2]
    assert "--min-state-ms" in batch.flags and "--runaway-above-hz" not in batch.flags
    outputs = p.analysis_batch_outputs(batch)
    assert list(outputs) == [f"{role}_{i}" for i in range(2) for role in ("json", "h5", "states", "rates", "sequence", "transitions")]
    assert outputs["json_1"].path == "results/cl/seed2/attractors/attractors.json"
    assert outputs["states_1"].caption == "../report/attractors_states.rst" and outputs["states_1"].subcategory == "seed2"
    assert outputs["h5_0"].caption == ""  # not in the report, as in the per-run rule
    files = p.analysis_batch_files(batch)
    assert files == {
        "spikes": ["results/cl/seed1/spikes.h5", "results/cl/seed2/spikes.h5"],
        "out_dirs": ["results/cl/seed1/attractors", "results/cl/seed2/attractors"],
        "logs": ["results/cl/seed1/logs/analyze_attractors.log", "results/cl/seed2/logs/analyze_attractors.log"],
    }


def test_per_run_analysis_outputs_are_those_of_the_rules():
    p = plan()
    rates = p.analysis_outputs("rates")
    assert [o.path for o in rates.values()] == [
        f"results/ens/{{run}}/rates/{name}" for name in ("rates.json", "rates.csv", "raster.png", "rate_boxplot.png", "rates_vs_reference.png")
    ]
    assert rates["json"].caption == "" and rates["table"].caption == "../report/rates_table.rst"
    assert p.analysis_log("rates") == "results/ens/{run}/logs/analyze_rates.log"
    assert p.per_run_analyses() == ["rates"]
