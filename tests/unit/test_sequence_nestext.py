"""Build/load helpers of the extension module: binary-wheel refusal and CLI wiring (no compile)."""

import argparse

import pytest

import importlib

b = importlib.import_module("spikeflow.nestext.build")


def test_binary_wheel_is_refused_in_one_sentence(monkeypatch):
    monkeypatch.setattr(b, "wheel_tags", lambda: ["cp311-cp311-manylinux_2_17_x86_64"])
    for call in (lambda: b.build(), lambda: b.load(object())):
        with pytest.raises(b.NestExtensionError) as err:
            call()
        msg = str(err.value)
        assert "binary wheel" in msg and "containers/build-nest.sh" in msg and "\n" not in msg
    assert b.main_build() == 2


def test_cache_path_has_version_and_source_hash(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    pytest.importorskip("nest", reason="needs NEST's headers")
    path = b.module_path()
    assert path.parent.parent == tmp_path / "spikeflow" / "nestext"
    version, digest = path.parent.name.rsplit("-", 1)
    assert version == b.nest_version() and len(digest) == 12


def test_cli_parsers_register():
    from spikeflow.models.sequence.cli import add_parsers

    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["build-ext", "--force"])
    assert args.force and callable(args.func)
    args = parser.parse_args(["sequence", "--config", "c.yaml", "--out", "o.h5"])
    assert str(args.out) == "o.h5"
    # its analysis is `spikeflow analyze sequence` (the old `sequence-analyze --spikes` spelling is gone)
    with pytest.raises(SystemExit):
        parser.parse_args(["sequence-analyze", "--spikes", "s.h5", "--out-dir", "d"])
    from spikeflow.cli import _parser

    args = _parser().parse_args(["analyze", "sequence", "s.h5", "--out-dir", "d", "--side", "x.npz"])
    assert callable(args.func) and str(args.side) == "x.npz"
