"""``analysis.rates.figures`` / ``analysis.attractors.figures`` (issue 13, part 4): per-run
figures are most of a short run's analysis; a large ensemble may do without them.

With ``false`` the analysis writes its tables and JSON, byte for byte what it writes with the
figures, and no PNG; the workflow's rules then neither expect nor report the figures; a sweep
may not vary the key (it decides every run's files). Synthetic planted runs, no NEST; the
workflow run with the key is in tests/workflow/test_workflow.py.
"""

from __future__ import annotations

import pytest

from spikeflow.cli import main
from spikeflow.config import ConfigError, load_study
from spikeflow.plan import Plan
from spikeflow.tasks import attractors as attractors_task
from spikeflow.tasks import rates as rates_task
from tests.unit.test_attractors import make_run

FLAGS = {"rates": [], "attractors": ["--min-state-ms", "10.0", "--threshold-method", "midpoint"]}
TASKS = {"rates": rates_task, "attractors": attractors_task}


@pytest.fixture(scope="module")
def spikes(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("run") / "spikes.h5", seed=3)


@pytest.mark.parametrize("kind", ["rates", "attractors"])
def test_without_figures_the_same_files_but_the_figures(spikes, tmp_path, capsys, kind):
    written = {}
    for figures in ("true", "false"):
        out = tmp_path / figures
        assert main(["analyze", kind, str(spikes), "--out-dir", str(out), "--figures", figures, *FLAGS[kind]]) == 0
        written[figures] = {p.name: p.read_bytes() for p in out.iterdir()}
    drawn = set(TASKS[kind].FIGURES)
    assert drawn <= set(written["true"]) and not drawn & set(written["false"])
    assert set(written["false"]) == set(TASKS[kind].OUTPUTS.values()) - drawn
    assert {name: data for name, data in written["true"].items() if name not in drawn} == written["false"]


def test_figures_option_takes_true_or_false_only(spikes, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "rates", str(spikes), "--out-dir", str(tmp_path / "x"), "--figures", "sometimes"])
    assert "expected true or false" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def _clustered(analysis, sweep=None):
    config = {
        "study": "figs",
        "model": "clustered",
        "params": {"preset": "vnm"},
        "simulation": {"t_presim": 100.0, "t_sim": 200.0},
        "analysis": analysis,
    }
    if sweep:
        config["sweep"] = sweep
    return config


@pytest.mark.parametrize("figures", [True, False])
def test_plan_expects_and_reports_the_figures_only_when_drawn(figures):
    plan = Plan(_clustered({"rates": {"figures": figures}, "attractors": {"enabled": True, "figures": figures}}))
    for kind, task in TASKS.items():
        names = {o.path.rsplit("/", 1)[-1] for o in plan.analysis_outputs(kind).values()}
        assert (set(task.FIGURES) <= names) if figures else not set(task.FIGURES) & names
        assert {"rates.json", "attractors.json"} & names  # the tables and the JSON either way
        flags = plan.analysis_flags(kind, next(iter(plan.runs)))
        assert flags[flags.index("--figures") + 1] == str(figures)  # what the rule passes to the task


def test_a_sweep_may_not_vary_the_figures():
    sweep = {"cases": [{"analysis": {"rates": {"figures": True}}}, {"analysis": {"rates": {"figures": False}}}]}
    with pytest.raises(ConfigError, match="'analysis.rates.figures' differs between the runs"):
        load_study(_clustered({}, sweep=sweep))


def test_figures_must_be_a_boolean():
    with pytest.raises(ConfigError, match="figures"):
        load_study(_clustered({"rates": {"figures": "no"}}))
