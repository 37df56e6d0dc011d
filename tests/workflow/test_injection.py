"""No config value reaches a shell unquoted, and no study writes outside ``results/``.

Every string-valued key of the study and model-parameter schemas (found by walking the schemas,
so a key added later is covered without editing this test), every sweep key and sweep value,
gets a shell-injection payload; the real workflow then runs (``snakemake --cores 2``, not a dry
run). Whether the config is refused (one sentence naming the key) or accepted and run, the
payload's marker file must never appear.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from spikeflow.config import _schema, load_study
from tests.conftest import REPO
from tests.workflow.snakemake_run import run_snakemake

# A base study per schema whose string keys are tried: the smallest shipped study of the family,
# with every analysis on that a string key feeds (the attractor summary needs two runs).
BASES = {
    "pd14": "tiny.yaml",
    "clustered": "clustered-tiny.yaml",
    "training": "training.yaml",
    "sequence": "sequence-tiny.yaml",
}


def payload(marker: Path) -> str:
    """A string that creates ``marker`` if any shell evaluates it, quoted or not (single, double, none)."""
    m = str(marker)
    return f"x'$(touch {m})'\"$(touch {m})\";touch {m};`touch {m}`"


def string_keys(schema: dict, path: tuple = ()) -> list[tuple]:
    """Paths (tuples of keys; ``[]`` for a list item) of every string-valued property of a JSON schema."""
    found = []
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        found.append(path)
    for key, sub in (schema.get("properties") or {}).items():
        found += string_keys(sub, path + (key,))
    if isinstance(schema.get("items"), dict):
        found += string_keys(schema["items"], path + ("[]",))
    for key in ("oneOf", "anyOf"):
        for sub in schema.get(key, []):
            found += string_keys(sub, path)
    return found


def places() -> list[tuple[str, str, tuple]]:
    """(family, schema, key path) of every string key, plus the sweep's own keys and values."""
    out = [("clustered", "study", p) for p in string_keys(_schema("study"))]
    for family in BASES:
        out += [(family, f"{family}.params", ("params",) + p) for p in string_keys(_schema(f"{family}.params"))]
    out += [("pd14", "sweep key", ("sweep", "<key>")), ("pd14", "sweep value", ("sweep", "simulation.seed"))]
    return sorted(set(out))


def place_payload(cfg: dict, path: tuple, value: str) -> None:
    """Put ``value`` at ``path`` of ``cfg`` (a ``[]`` part makes a one-entry list of sweep cases)."""
    if path == ("sweep", "<key>"):
        cfg["sweep"] = {f"params.{value}": [1, 2]}
        return
    if path == ("sweep", "simulation.seed"):
        cfg["sweep"] = {"simulation.seed": [1, value]}
        return
    node = cfg
    for i, key in enumerate(path[:-1]):
        if path[i + 1] == "[]":
            node[key] = [{"series": "a", "simulation": {"seed": 1}}]
            node = node[key][0]
            break
        node = node.setdefault(key, {})
    leaf = path[-1]
    node[leaf] = value


@pytest.mark.workflow
@pytest.mark.parametrize("family,where,path", places(), ids=lambda v: ".".join(v) if isinstance(v, tuple) else v)
def test_injection_payload_never_runs(workdir, family, where, path):
    marker = workdir / "PWNED"
    cfg = yaml.safe_load((REPO / "workflow" / "config" / BASES[family]).read_text())
    cfg = copy.deepcopy(cfg)
    place_payload(cfg, path, payload(marker))
    (workdir / "study.yaml").write_text(yaml.safe_dump(cfg))
    proc = run_snakemake("--cores", "2", "--configfile", "study.yaml", cwd=workdir, check=False)
    assert not marker.exists(), f"the payload at {'.'.join(path)} ran in a shell:\n{proc.stdout}\n{proc.stderr}"
    if proc.returncode != 0:
        text = proc.stdout + proc.stderr
        assert "invalid config" in text, text


@pytest.mark.workflow
def test_every_string_key_is_tried():
    """The schema walk finds the keys that reach a rule today (so it would find a new one too)."""
    keys = {".".join(p) for _, _, p in places()}
    assert {"study", "analysis.attractors.group_by", "sweep.cases.[].series"} <= keys


@pytest.mark.parametrize("name", ["..", ".", ".hidden", "a/b", "../x", "", "x" * 101])
def test_study_name_must_be_a_plain_name(name):
    with pytest.raises(ValueError, match="'study'"):
        load_study({"model": "pd14", "study": name, "params": {"N_scaling": 0.02, "K_scaling": 0.02}})


def test_run_names_must_be_plain_names():
    from spikeflow.config import ConfigError, check_plain_name

    for bad in ("..", ".", ".x", "a/b"):
        with pytest.raises(ConfigError, match="not a plain name"):
            check_plain_name(bad)
    check_plain_name("seed55_g-4.5")


def test_group_by_must_name_a_key_of_the_config():
    base = yaml.safe_load((REPO / "workflow" / "config" / "clustered-tiny.yaml").read_text())
    base["analysis"]["attractors"]["group_by"] = "params.no_such_key"
    with pytest.raises(ValueError, match="group_by' names 'params.no_such_key'"):
        load_study(base)
    base["analysis"]["attractors"]["group_by"] = "simulation.seed"
    assert len(load_study(base).runs) == 2
