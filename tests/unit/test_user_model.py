"""A user's own model, found by file, module or entry point, validated like a built-in family (no NEST)."""

from __future__ import annotations

import shutil
import sys
import textwrap

import pytest

from spikeflow.config import ConfigError, load_study, resolve_run
from spikeflow.models import ModelNotFoundError, get_model
from spikeflow.resources import run_resources
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "brunel" / "brunel.py"


@pytest.fixture
def study_dir(tmp_path):
    """A folder outside spikeflow's tree with the example model beside a study config."""
    shutil.copy(EXAMPLE, tmp_path / "brunel.py")
    return tmp_path


def _study(folder, text):
    path = folder / "study.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_model_file_beside_the_study_is_found_and_validated(study_dir):
    path = _study(study_dir, """
        study: b
        model: brunel.py
        params: {order: 50, g: 6.0}
        sweep: {params.eta: [1.0, 2.0], simulation.seed: [1, 2]}
    """)
    study = load_study(path)
    assert [r.run_id for r in study.runs] == ["eta1.0_seed1", "eta1.0_seed2", "eta2.0_seed1", "eta2.0_seed2"]
    cfg = study.runs[0].config
    assert cfg["model"] == str((study_dir / "brunel.py").resolve())  # canonical: the absolute path
    assert cfg["params"]["g"] == 6.0 and cfg["params"]["J"] == 0.1  # defaults filled from the declaration
    model = get_model(cfg["model"])
    d = model.params_from_config(cfg["params"])
    desc = model.describe(d)
    assert desc["populations"] == [{"name": "E", "size": 200}, {"name": "I", "size": 50}]
    # every neuron gets C_E = 20 and C_I = 5 inputs plus one Poisson connection
    assert desc["connections"] == {"static_synapse": 250 * 26}
    assert desc["derived"]["nu_thr_hz"] == pytest.approx(1000 * 20.0 / (0.1 * 20 * 20.0))
    res = run_resources(study.runs[0])
    assert res["mem_mb"] > 0 and res["runtime"] >= 10  # Slurm resources from the declared counts


@pytest.mark.parametrize(
    "params, match",
    [
        ({"gg": 5.0}, r"unknown config key 'params.gg'"),
        ({"g": -1.0}, r"'params.g'.*minimum"),
        ({"order": 2.5}, r"'params.order'.*integer"),
        ({"epsilon": 1.5}, r"'params.epsilon'.*maximum"),
        ({"tau_m": ".nan"}, r"'params.tau_m'"),
    ],
)
def test_bad_parameters_are_refused_in_one_sentence(study_dir, params, match):
    import yaml

    text = yaml.safe_dump({"model": "brunel.py", "params": params}).replace("'.nan'", ".nan")
    with pytest.raises(ConfigError, match=match) as err:
        load_study(_study(study_dir, text))
    assert "\n" not in str(err.value)


def test_too_many_connections_per_vp_are_refused_before_any_job(study_dir):
    # order 20000: 100,000 neurons x 10,000 inputs = 1e9 connections, > NEST's 134,217,726 per VP and model
    with pytest.raises(ConfigError, match="virtual processes"):
        load_study(_study(study_dir, "model: brunel.py\nparams: {order: 20000}\n"))


def test_model_named_as_module_and_class(study_dir, monkeypatch):
    (study_dir / "mylab").mkdir()
    (study_dir / "mylab" / "__init__.py").write_text("")
    shutil.copy(EXAMPLE, study_dir / "mylab" / "nets.py")
    monkeypatch.syspath_prepend(str(study_dir))
    run = resolve_run({"model": "mylab.nets:Brunel", "params": {"order": 10}})
    assert run.config["model"] == "mylab.nets:Brunel" and run.config["params"]["order"] == 10


def test_model_registered_as_an_entry_point(study_dir, monkeypatch):
    """An installed package's model: an entry point of the group spikeflow.models (a real dist-info on sys.path)."""
    pkg = study_dir / "site"
    (pkg / "labnets").mkdir(parents=True)
    (pkg / "labnets" / "__init__.py").write_text("")
    shutil.copy(EXAMPLE, pkg / "labnets" / "brunel.py")
    info = pkg / "labnets-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: labnets\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[spikeflow.models]\nbrunel = labnets.brunel:Brunel\n")
    monkeypatch.syspath_prepend(str(pkg))
    run = resolve_run({"model": "brunel", "params": {"order": 10}})
    assert get_model(run.config["model"]).label == "Brunel"


@pytest.mark.parametrize(
    "source, match",
    [
        ("def broken(:\n", "cannot be loaded at line 1: SyntaxError"),
        ("import spikeflow\nx = 1\n", "defines no spikeflow Model subclasses"),
        ("from spikeflow import Model\nclass A(Model): pass\nclass B(Model): pass\n", "defines 2 .*A, B.*mine.py:ClassName"),
        ("raise RuntimeError('no licence server')\n", "RuntimeError: no licence server"),
        ("from spikeflow import Model\nclass A(Model):\n    params = {'x': 1.0}\n", r"params\['x'\] must be a spikeflow Param"),
    ],
)
def test_broken_model_files_give_one_sentence(tmp_path, source, match):
    (tmp_path / "mine.py").write_text(source)
    with pytest.raises(ConfigError, match=match) as err:
        load_study(_study(tmp_path, "model: mine.py\n"))
    assert "\n" not in str(err.value)


def test_unknown_model_names_every_way_to_give_one(tmp_path):
    with pytest.raises(ConfigError, match="known models: clustered, pd14, sequence, training.*docs/your-model.md"):
        load_study(_study(tmp_path, "model: brnuel\n"))
    with pytest.raises(ConfigError, match="model file nothere.py does not exist"):
        load_study(_study(tmp_path, "model: nothere.py\n"))
    with pytest.raises(ModelNotFoundError, match="cannot import module"):
        get_model("no_such_pkg.sub:Model")


def test_param_schema_types_and_units():
    from spikeflow.models.api import Param

    assert Param(5, minimum=1).schema() == {"type": "integer", "minimum": 1, "default": 5}
    s = Param(20.0, "membrane time constant", unit="ms", exclusive_minimum=0).schema()
    assert s == {"type": "number", "exclusiveMinimum": 0, "default": 20.0, "description": "membrane time constant (ms)"}
    assert Param(True).schema()["type"] == "boolean"
    assert Param("exp", choices=["exp", "alpha"]).schema()["enum"] == ["exp", "alpha"]
    assert Param([1.0, 2.0], minimum=0).schema() == {"type": "array", "items": {"type": "number", "minimum": 0}, "default": [1.0, 2.0]}
    with pytest.raises(TypeError):
        Param({"a": 1}).schema()


def test_parameter_values_are_read_only():
    from spikeflow.models.api import Values

    p = Values({"g": 5.0})
    assert p.g == 5.0 and p["g"] == 5.0 and dict(p) == {"g": 5.0}
    with pytest.raises(AttributeError):
        p.g = 4.0
    with pytest.raises(AttributeError, match="no parameter 'h'"):
        p.h


def test_model_file_is_reloaded_when_it_changes(tmp_path):
    import os

    src = EXAMPLE.read_text()
    (tmp_path / "net.py").write_text(src)
    path = str((tmp_path / "net.py").resolve())
    assert get_model(path).model.params["g"].default == 5.0
    (tmp_path / "net.py").write_text(src.replace('"g": Param(5.0,', '"g": Param(4.5,'))
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert get_model(path).model.params["g"].default == 4.5
    sys.modules.pop("mylab", None)
