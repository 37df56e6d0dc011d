"""The task layer (spikeflow.tasks): analyses are pure, figures open no file, one command shape.

Each task's own behaviour (what it writes) is tested beside its analysis (test_rates_analysis,
test_costs_scaling, test_memory_model, test_validation, test_attractors, test_meanfield_study,
test_sequence_analysis); here are the rules every analysis follows, and the training figures.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

import spikeflow
from spikeflow.cli import _parser
from spikeflow.tasks import describe, outputs
from tests.unit.synthetic_runs import PNG_MAGIC

SRC = Path(spikeflow.__file__).parent

#: The computing modules: no file is read or written there, and no figure drawn.
ANALYSES = [
    *sorted((SRC / "analysis").glob("*.py")),
    *sorted((SRC / "meanfield").glob("*.py")),
    SRC / "models" / "clustered" / "attractors.py",
    SRC / "models" / "sequence" / "analysis.py",
    SRC / "models" / "training" / "metrics.py",
]
#: The figure modules: they receive results and arrays, and open no input file.
FIGURES = [
    *sorted((SRC / "plots").glob("*.py")),
    *sorted((SRC / "models").glob("*/plots.py")),
    SRC / "models" / "clustered" / "attractor_plots.py",
]
#: What reads or writes a file, or draws.
FILE_IO = ("h5py", "np.load", "np.save", "open(", "read_spikes", "read_metadata", "read_text", "write_text",
           "write_csv", "write_json", "atomic_path", "json.load")
DRAWING = ("spikeflow.plots", "attractor_plots", "matplotlib", "models.sequence.plots", "models.training.plots")

#: The tasks, by the ``spikeflow analyze`` subcommand that calls them.
KINDS = {
    "rates": "rates", "scaling": "scaling", "memory": "memory", "validate": "validate", "attractors": "attractors",
    "attractor-summary": "attractors", "meanfield": "meanfield", "meanfield-verdict": "meanfield_verdict",
    "sequence": "sequence", "training": "training",
}


def _code(path: Path) -> str:
    """The module's code without its docstrings and comments (names in prose do not count)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body[0] = ast.Pass()
    return ast.unparse(tree)


@pytest.mark.parametrize("path", ANALYSES, ids=lambda p: str(p.relative_to(SRC)))
def test_analyses_read_write_and_draw_nothing(path):
    code = _code(path)
    found = [word for word in FILE_IO + DRAWING if word in code]
    assert not found, f"{path.relative_to(SRC)} does file I/O or draws: {found}"


@pytest.mark.parametrize("path", FIGURES, ids=lambda p: str(p.relative_to(SRC)))
def test_figures_open_no_file(path):
    code = _code(path).replace("atomic_path", "")  # common.save_figure writes the PNG atomically
    found = [word for word in ("h5py", "np.load", "read_spikes", "read_metadata", "read_text", "json.load") if word in code]
    found += re.findall(r"(?<![A-Za-z_])open\(", code)  # open( and x.open(, not subprocess.Popen(
    assert not found, f"{path.relative_to(SRC)} opens files: {found}"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_analysis_is_analyze_kind_with_out_dir_listing_its_files():
    kinds = _subcommands(_subcommands(_parser())["analyze"])
    assert set(kinds) == set(KINDS)
    for kind, parser in kinds.items():
        task = importlib.import_module(f"spikeflow.tasks.{KINDS[kind]}")
        names = task.SUMMARY_OUTPUTS if kind == "attractor-summary" else task.OUTPUTS
        (out,) = [a for a in parser._actions if "--out-dir" in a.option_strings]
        assert out.required and describe(names) in out.help, kind
        assert not [a for a in parser._actions if "--out" in a.option_strings], kind


def test_commands_that_write_a_folder_take_out_dir():
    commands = _subcommands(_parser())
    for name in ("run", "train"):
        assert [a for a in commands[name]._actions if "--out-dir" in a.option_strings and a.required], name
    # the old spellings of two analyses are gone: one shape, `spikeflow analyze KIND`
    assert "meanfield" not in commands and "sequence-analyze" not in commands
    # a command that writes one file names it with --out
    for name in ("resolve", "simulate", "info"):
        assert [a for a in commands[name]._actions if "--out" in a.option_strings], name


def test_output_tables_are_read_only_and_described():
    names = outputs(json="a.json", table="a.csv", figure="a.png")
    assert describe(names) == "a.json, a.csv and a.png" and describe(outputs(json="x.json")) == "x.json"
    with pytest.raises(TypeError):
        names["json"] = "b.json"


def _epochs_h5(path, n_epochs=3, n_bins=4):
    """An epochs.h5 as write_epochs_h5 lays it out: two populations, one plastic pathway."""
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.attrs["weight_unit"] = "pA"
        f.create_dataset("epoch", data=np.arange(1, n_epochs + 1))
        for pop in ("E", "I"):
            f.create_dataset(f"populations/{pop}/rate_hz", data=rng.uniform(1, 10, n_epochs))
            f.create_dataset(f"populations/{pop}/cv_isi", data=rng.uniform(0.5, 1.5, n_epochs))
        g = f.create_group("weights/EE")
        g.attrs["pathway"] = "E->E"
        g.create_dataset("histogram", data=rng.integers(0, 50, (n_epochs + 1, n_bins)))
        g.create_dataset("edges", data=np.linspace(0.0, 10.0, n_bins + 1))
        for key in ("mean", "std", "change_mean", "change_abs_mean"):
            g.create_dataset(key, data=rng.uniform(0, 1, n_epochs + 1))
    return path


def test_training_figures_are_drawn_from_the_epoch_history(tmp_path):
    from spikeflow.models.training import plots
    from spikeflow.models.training.outputs import read_epochs_h5
    from spikeflow.tasks import training

    path = _epochs_h5(tmp_path / "epochs.h5")
    history = read_epochs_h5(path)
    assert history.weight_unit == "pA" and list(history.populations) == ["E", "I"]
    assert [p.name for p in history.pathways] == ["E->E"] and history.pathways[0].histogram.shape == (4, 4)
    assert plots.rates_over_epochs(history, tmp_path / "r.png").read_bytes().startswith(PNG_MAGIC)
    written = training.run(path, tmp_path / "figures")
    assert list(written) == list(training.FIGURES)
    assert {p.name for p in (tmp_path / "figures").iterdir()} == set(training.OUTPUTS.values())
    for p in written.values():
        assert p.read_bytes().startswith(PNG_MAGIC)


def test_analyze_training_command(tmp_path, capsys):
    from spikeflow.cli import main

    path = _epochs_h5(tmp_path / "epochs.h5")
    assert main(["analyze", "training", str(path), "--out-dir", str(tmp_path / "f")]) == 0
    assert "3 figures" in capsys.readouterr().out
    assert main(["analyze", "training", str(tmp_path / "missing.h5"), "--out-dir", str(tmp_path / "g")]) == 2
