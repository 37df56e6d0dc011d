"""Hostile study configs (issue 11, items 3, 4 and 6): refused at once, in one sentence.

The corpus is data: ``tests/data/hostile_configs/*.yaml``, one case per file, whose first line is
``# expect: <part of the error message>`` (or ``# expect: valid`` for a file that must be
accepted; its ``# check: key == value, ...`` line lists values the loaded study must have).

Every case runs ``load_study(path)`` in a forked child process under an address-space limit and
a 20 s timeout, so a regression (a billion-laughs file expanded, a sweep of 10^6 runs built, a
RecursionError) fails the test instead of hanging or exhausting the machine. No test asserts on
wall-clock time. A few cases also go through the ``spikeflow validate`` command line.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from spikeflow.config import ConfigError, load_study

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile_configs"
CASES = sorted(CORPUS.glob("*.yaml"))
TIMEOUT_S = 20
MEMORY_HEADROOM = 1 << 30  # address space a child may add to what it inherited


def _header(path: Path) -> dict[str, str]:
    """The ``# expect:`` and ``# check:`` comment lines at the top of a case."""
    out = {}
    for raw in path.read_bytes().splitlines()[:3]:
        line = raw.decode("latin-1")
        for field in ("expect", "check"):
            if line.startswith(f"# {field}: "):
                out[field] = line[len(f"# {field}: ") :].strip()
    assert "expect" in out, f"{path.name} has no '# expect:' first line"
    return out


def _child(config: object, conn) -> None:  # noqa: ANN001 - a multiprocessing connection
    vsize = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (vsize + MEMORY_HEADROOM, resource.RLIM_INFINITY))
    try:
        study = load_study(config)
        conn.send(("ok", [run.config for run in study.runs]))
    except ConfigError as err:
        conn.send(("ConfigError", str(err)))
    except BaseException as err:  # noqa: BLE001 - anything else is the failure being looked for
        conn.send((type(err).__name__, "".join(traceback.format_exception(err))[-2000:]))
    finally:
        conn.close()


def _load_guarded(config: object, name: str) -> tuple[str, object]:
    """(outcome, payload) of load_study(config) in a forked child with bounded memory and time."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(str(config) if isinstance(config, Path) else config, child))
    proc.start()
    child.close()
    try:
        if not parent.poll(TIMEOUT_S):
            pytest.fail(f"load_study({name}) did not answer within {TIMEOUT_S} s")
        return parent.recv()
    except EOFError:
        pytest.fail(f"load_study({name}) died without an answer (exit code {proc.exitcode})")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


def _get(cfg: dict, dotted: str) -> object:
    node = cfg
    for part in dotted.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_hostile_config(path: Path) -> None:
    header = _header(path)
    outcome, payload = _load_guarded(path, path.name)
    if header["expect"] == "valid":
        assert outcome == "ok", f"{path.name} was refused: {payload}"
        for check in filter(None, (c.strip() for c in header.get("check", "").split(","))):
            key, expected = (s.strip() for s in check.split("=="))
            value = _get(payload[0], key)
            assert isinstance(value, float) and math.isclose(value, float(expected)), f"{key} is {value!r}, not {expected}"
        return
    assert outcome == "ConfigError", f"{path.name}: expected a ConfigError, got {outcome}: {payload}"
    message = str(payload)
    assert "\n" not in message, f"not one line: {message!r}"
    assert header["expect"] in message, f"{message!r} does not say {header['expect']!r}"
    assert "Traceback" not in message


def test_corpus_covers_the_issue() -> None:
    """The cases issue 11 names are all there (a deleted file would otherwise pass unseen)."""
    names = {p.stem for p in CASES}
    assert {
        "billion_laughs_sweep", "billion_laughs_params", "sweep_million_runs", "t_sim_inf", "t_sim_nan",
        "bg_rate_nan", "bg_rate_inf", "tau_m_nan", "silent_below_hz_nan", "accept_exponents", "deep_nesting",
        "non_utf8", "mixed_keys", "malformed", "empty", "top_level_list",
    } <= names


def _deep_list(depth: int) -> list:
    node: list = []
    for _ in range(depth):
        node = [node]
    return node


def _cyclic_list() -> list:
    node: list = [1]
    node.append(node)
    return node


# What Snakemake hands to load_study: the config read by its own loader (yte, YAML 1.1,
# yaml.FullLoader), in which aliases are shared references, not copies.
SNAKEMAKE_CASES = {
    "billion_laughs_sweep": "expands to more than 200,000 values",
    "billion_laughs_params": "expands to more than 200,000 values",
    "mixed_keys": "config has the key 1 at the top level, which is not a string",
    "nested_int_key": "config has the key 2 under 'simulation', which is not a string",
    "t_sim_nan": "config key 'simulation.t_sim' is nan",
    "accept_exponents": "config key 'simulation.resolution' is the string '1e-1', not a number",
    "alias_cycle": "nests lists and mappings more than 64 deep",
}


@pytest.mark.parametrize("name", sorted(SNAKEMAKE_CASES))
def test_config_mapping_as_snakemake_reads_it(name: str) -> None:
    yaml = pytest.importorskip("yaml")
    with open(CORPUS / f"{name}.yaml", encoding="utf-8") as f:
        config = yaml.load(f, Loader=yaml.FullLoader)  # what snakemake.common.configfile (yte) does
    outcome, payload = _load_guarded(config, f"<{name} as read by Snakemake>")
    assert outcome == "ConfigError", f"{name}: expected a ConfigError, got {outcome}: {payload}"
    assert "\n" not in str(payload) and SNAKEMAKE_CASES[name] in str(payload), payload


@pytest.mark.parametrize(
    "config, expect",
    [
        # 200, not 20,000: load_study deep-copies a mapping before validating it, which recurses
        # (Snakemake's own YAML reader already fails on 20,000 nested brackets in a file)
        ({"model": "pd14", "params": {"deep": _deep_list(200)}}, "config nests lists and mappings more than 64 deep"),
        ({"model": "pd14", "sweep": {"simulation.seed": _cyclic_list()}}, "more than 64 deep"),
        ({"model": "pd14", ("a", "b"): 1}, "has the key ('a', 'b') at the top level"),
    ],
    ids=["deep", "cycle", "tuple-key"],
)
def test_config_mapping_built_in_python(config: dict, expect: str) -> None:
    outcome, payload = _load_guarded(config, expect)
    assert outcome == "ConfigError" and "\n" not in str(payload) and expect in str(payload), payload


CLI_CASES = ["billion_laughs_params", "sweep_million_runs", "t_sim_inf", "deep_nesting", "non_utf8", "mixed_keys", "malformed"]


@pytest.mark.parametrize("name", CLI_CASES)
def test_spikeflow_validate_says_one_sentence(name: str) -> None:
    path = CORPUS / f"{name}.yaml"
    expect = _header(path)["expect"]
    script = Path(sys.executable).with_name("spikeflow")
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from spikeflow.cli import main; sys.exit(main())"]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        proc = subprocess.run(
            [*cmd, "validate", str(path)], capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (4 << 30, resource.RLIM_INFINITY)),
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"spikeflow validate {path.name} did not answer within {TIMEOUT_S} s")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("spikeflow: error: ") and expect in lines[0]


def test_nonfinite_allowed_only_where_the_schema_says_so() -> None:
    """``x-allow-nonfinite: true`` on a key (no shipped key has it) lets inf/NaN through there,
    and a sweep's values are checked against the schema of the key they set."""
    from spikeflow.config import _check_finite

    schema = {
        "type": "object",
        "properties": {
            "free": {"type": "number", "x-allow-nonfinite": True},
            "strict": {"type": "number"},
            "section": {"type": "object", "x-allow-nonfinite": True},
        },
    }
    inf = float("inf")
    _check_finite({"free": inf, "section": {"x": [float("nan")]}}, schema)
    _check_finite({"sweep": {"free": [1.0, inf]}}, schema)
    with pytest.raises(ConfigError, match=r"config key 'strict' is inf; it must be a finite number"):
        _check_finite({"free": inf, "strict": inf}, schema)
    with pytest.raises(ConfigError, match=r"sweep key 'strict' has the value -inf \(entry 2\)"):
        _check_finite({"sweep": {"free": [inf], "strict": [1.0, -inf]}}, schema)
    with pytest.raises(ConfigError, match=r"config key 'params.strict' is nan"):
        _check_finite({"strict": float("nan")}, schema, root="params")


def test_written_configs_read_back_the_same() -> None:
    """A resolved config written by spikeflow (``spikeflow resolve``) reads back unchanged with
    spikeflow's YAML 1.2 reader and with a YAML 1.1 one (Snakemake's): strings such as ``1e5``
    (a float in 1.2) and ``yes`` (a boolean in 1.1) are quoted."""
    import yaml

    from spikeflow.config import dump_yaml
    from spikeflow.io.yaml_safe import load_config_text

    data = {
        "study": "1e5", "series": "2e-3", "flag": "yes", "octal": "010", "time": "1:30", "date": "2024-01-01",
        "x": 1e-5, "y": 1e9, "big": 10**20, "on": True, "none": None, "list": [1, "2", -3.5], "nested": {"hex": "0x1f"},
    }
    text = dump_yaml(data)
    assert load_config_text(text) == data
    assert yaml.safe_load(text) == data
