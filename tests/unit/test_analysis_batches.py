"""Study-level cost (issue 13, part 4): per-run analyses of several runs in one process.

``spikeflow analyze rates A.h5 B.h5 --out-dir DA DB`` (and ``analyze attractors``) runs the task
once per pair and must write what a separate call per run writes, byte for byte (tables, JSON,
figures); a failure names its run. Synthetic planted runs, no NEST; the workflow's analysis
batches are tested with real runs in tests/workflow/test_run_groups.py.
"""

from __future__ import annotations

import pytest

from spikeflow.cli import main
from tests.unit.test_attractors import make_run

ATTRACTOR_FLAGS = ["--min-state-ms", "10.0", "--threshold-method", "midpoint"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two planted clustered runs of different seeds (different spikes, so a mix-up shows)."""
    root = tmp_path_factory.mktemp("runs")
    return [make_run(root / f"seed{seed}" / "spikes.h5", seed=seed) for seed in (1, 2)]


def files(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("kind, flags", [("rates", ["--runaway-above-hz", "100.0"]), ("attractors", ATTRACTOR_FLAGS)])
def test_one_process_writes_what_one_call_per_run_writes(runs, tmp_path, capsys, kind, flags):
    alone = []
    for i, spikes in enumerate(runs):
        assert main(["analyze", kind, str(spikes), "--out-dir", str(tmp_path / "alone" / str(i)), *flags]) == 0
        alone.append(capsys.readouterr().out)
    dirs = [tmp_path / "batch" / str(i) for i in range(len(runs))]
    logs = [tmp_path / "logs" / f"{i}.log" for i in range(len(runs))]
    assert main(["analyze", kind, *map(str, runs), "--out-dir", *map(str, dirs), "--log", *map(str, logs), *flags]) == 0
    assert capsys.readouterr().out == "".join(alone)  # what each call printed, in order
    for i, (d, log) in enumerate(zip(dirs, logs)):
        written = files(d)
        assert any(name.endswith(".png") for name in written) and any(name.endswith(".json") for name in written)
        assert written == files(tmp_path / "alone" / str(i)), (kind, i)
        assert log.read_text() == alone[i]
    assert files(dirs[0]) != files(dirs[1])  # the two runs differ: each directory got its own run


def test_as_many_out_dirs_and_logs_as_spikes_files(runs, tmp_path, capsys):
    assert main(["analyze", "rates", *map(str, runs), "--out-dir", str(tmp_path / "a")]) == 2
    assert "2 spikes file(s) but 1 --out-dir value(s)" in capsys.readouterr().err
    assert main(["analyze", "attractors", str(runs[0]), "--out-dir", str(tmp_path / "a"), "--log", "x", "y"]) == 2
    assert "1 spikes file(s) but 2 --log value(s)" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("kind", ["rates", "attractors"])
def test_a_failing_run_is_named_and_stops_the_rest(runs, tmp_path, capsys, kind):
    broken = tmp_path / "seed9" / "spikes.h5"
    broken.parent.mkdir()
    broken.write_bytes(b"not an HDF5 file")
    order = [runs[0], broken, runs[1]]
    dirs = [tmp_path / "out" / str(i) for i in range(3)]
    logs = [tmp_path / "logs" / f"{i}.log" for i in range(3)]
    code = main(["analyze", kind, *map(str, order), "--out-dir", *map(str, dirs), "--log", *map(str, logs)])
    err = capsys.readouterr().err
    assert code != 0
    assert f"spikeflow: analyze {kind} of {broken} (2 of 3 in this process) failed" in err, err
    assert f"analyze {kind} of {broken} (2 of 3 in this process) failed" in logs[1].read_text()
    assert (dirs[0] / f"{kind}.json").is_file()  # the run before it finished
    assert not logs[2].exists() and not (dirs[2] / f"{kind}.json").exists()  # the one after it did not start
