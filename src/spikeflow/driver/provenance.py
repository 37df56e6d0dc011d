"""What a run needs to be reproduced, as the spikes file's ``provenance`` metadata.

spikeflow's version and git commit (dirty or not), the run config's path and hash (and the study
config's, when the workflow passes it), NEST's build as NEST reports it, the MPI library and
mpi4py, Python and numpy, the host and its CPU, the Slurm job and nodes, the Apptainer image and
its digest, and the command line. Nothing here fails a run: an entry that cannot be read says why.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

import spikeflow

# Environment variables of a Slurm job and of an Apptainer/Singularity container worth keeping.
SLURM_VARS = ("SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_JOB_NODELIST", "SLURM_NTASKS", "SLURM_CPUS_PER_TASK", "SLURM_CLUSTER_NAME")
CONTAINER_VARS = ("APPTAINER_CONTAINER", "APPTAINER_NAME", "SINGULARITY_CONTAINER", "SINGULARITY_NAME")


def file_digest(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """sha256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def git_state(where: Path | None = None) -> dict[str, Any]:
    """The git commit of spikeflow's source tree and whether it has uncommitted changes (if it is a checkout).

    Asked once per process and tree (two ``git`` calls, about 6 ms): every run of a batch ran the
    code this process imported, so they share the answer (a copy each).
    """
    return dict(_git_state(where or Path(spikeflow.__file__).resolve().parent))


@lru_cache(maxsize=None)
def _git_state(where: Path) -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None, "note": "not a git checkout (an installed package)"}
    return {"commit": commit, "dirty": bool(status.strip())}


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=None)
def _version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (once per process), or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def nest_build(nest: Any) -> dict[str, Any]:
    """NEST's own build report (version, MPI, OpenMP, GSL, compiler, ...) as plain values."""
    try:
        info = nest.GetKernelStatus("build_info")
    except Exception as err:  # noqa: BLE001 - an older NEST: say so, do not fail the run
        return {"error": str(err)}
    return {str(k): (v if isinstance(v, (bool, int, float, str)) or v is None else str(v)) for k, v in dict(info).items()}


def mpi_library(num_ranks: int) -> dict[str, Any]:
    """mpi4py's version, and the MPI library's own version string when the run uses MPI."""
    out: dict[str, Any] = {"mpi4py": _version("mpi4py")}
    if num_ranks > 1:
        try:
            from mpi4py import MPI

            out["library"] = MPI.Get_library_version().strip().splitlines()[0]
        except Exception as err:  # noqa: BLE001
            out["library"] = f"unknown ({err})"
    return out


def container() -> dict[str, Any] | None:
    """The Apptainer/Singularity image this process runs in, with its sha256, or None outside one."""
    found = {k: os.environ[k] for k in CONTAINER_VARS if k in os.environ}
    if not found:
        return None
    image = found.get("APPTAINER_CONTAINER") or found.get("SINGULARITY_CONTAINER")
    if image and Path(image).is_file():
        try:
            st = os.stat(image)
            found["sha256"] = _image_digest(str(image), st.st_size, st.st_mtime_ns)
        except OSError as err:
            found["sha256"] = f"unreadable ({err.strerror})"
    return found


@lru_cache(maxsize=8)
def _image_digest(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a container image, once per process and version of the file (an image is
    gigabytes; a batch of runs reads it once, not once a run)."""
    return file_digest(path)


def collect(
    nest: Any,
    num_ranks: int,
    *,
    run_config_path: str | os.PathLike | None = None,
    study_config_path: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """The provenance of a run (rank 0's view; every rank runs the same software)."""
    configs: dict[str, Any] = {}
    for key, path in (("run_config", run_config_path), ("study_config", study_config_path)):
        if path is not None and Path(path).is_file():
            configs[key] = {"path": str(Path(path).resolve()), "sha256": file_digest(path)}
    slurm = {k: os.environ[k] for k in SLURM_VARS if k in os.environ}
    return {
        "spikeflow": {"version": spikeflow.__version__, **git_state()},
        **configs,
        "nest_build": nest_build(nest),
        "mpi": mpi_library(num_ranks),
        "python": {"version": platform.python_version(), "executable": sys.executable},
        "packages": {name: _version(name) for name in ("numpy", "h5py", "scipy", "snakemake", "nest-simulator")},
        "host": {
            "hostname": socket.gethostname(),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "machine": platform.machine(),
            "os": platform.platform(),
        },
        "slurm": slurm or None,
        "container": container(),
        "command": list(sys.argv),
    }


def summary_lines(prov: Mapping[str, Any]) -> list[str]:
    """A few lines for ``spikeflow info`` and the report."""
    sf = prov.get("spikeflow", {})
    nest = prov.get("nest_build", {})
    host = prov.get("host", {})
    commit = sf.get("commit")
    lines = [
        f"spikeflow {sf.get('version')}" + (f", commit {commit[:12]}{' (dirty tree)' if sf.get('dirty') else ''}" if commit else ""),
        f"NEST {nest.get('version')} (MPI {nest.get('have_mpi')}, OpenMP {nest.get('threads_model', nest.get('have_threads'))})",
        f"host {host.get('hostname')}: {host.get('cpu')}, {host.get('cores')} cores",
    ]
    for key in ("run_config", "study_config"):
        if key in prov:
            lines.append(f"{key.replace('_', ' ')} {prov[key]['path']} (sha256 {prov[key]['sha256'][:16]})")
    if prov.get("slurm"):
        s = prov["slurm"]
        lines.append(f"Slurm job {s.get('SLURM_JOB_ID')} on {s.get('SLURM_JOB_NODELIST')}")
    if prov.get("container"):
        c = prov["container"]
        lines.append(f"container {c.get('APPTAINER_CONTAINER') or c.get('SINGULARITY_CONTAINER')} (sha256 {str(c.get('sha256'))[:16]})")
    lines.append("command: " + " ".join(prov.get("command", [])))
    return lines


#: Fields of a run's provenance that a study summary compares across its runs: (label, path).
STUDY_FIELDS = (
    ("spikeflow_version", ("spikeflow", "version")),
    ("spikeflow_commit", ("spikeflow", "commit")),
    ("spikeflow_dirty", ("spikeflow", "dirty")),
    ("study_config_sha256", ("study_config", "sha256")),
    ("nest_version", ("nest_build", "version")),
    ("nest_mpi", ("nest_build", "have_mpi")),
    ("mpi_library", ("mpi", "library")),
    ("mpi4py", ("mpi", "mpi4py")),
    ("host", ("host", "hostname")),
    ("cpu", ("host", "cpu")),
    ("slurm_job", ("slurm", "SLURM_JOB_ID")),
    ("container_sha256", ("container", "sha256")),
)


def _field(prov: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = prov
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def study_provenance(
    metadatas: "list[Mapping[str, Any]] | tuple[Mapping[str, Any], ...]",
    inputs: "list[str | os.PathLike] | tuple[str | os.PathLike, ...]" = (),
) -> dict[str, Any]:
    """The provenance of a study-level summary: what made it, and what made its runs.

    Args:
        metadatas: the spikes-file metadata of every run the summary reads (each may hold a
            run's ``provenance``, see :func:`collect`; files other tools wrote have none).
        inputs: the paths of those files, in the same order (recorded as given).

    Returns:
        ``{"analysis": this process (spikeflow version and commit, Python and packages, host,
        command line), "runs": [{"path", "run_id", "seed", <field>: value}] one per input, "across_runs":
        {<field>: sorted distinct values}, "consistent": whether every run has one value of each
        software field (spikeflow commit, NEST version, study config), "runs_without_provenance":
        count}``. The fields are those of :data:`STUDY_FIELDS`.
    """
    paths = [str(p) for p in inputs] or [None] * len(metadatas)
    runs, across, missing = [], {label: set() for label, _ in STUDY_FIELDS}, 0
    for path, meta in zip(paths, metadatas):
        prov = meta.get("provenance") if isinstance(meta, Mapping) else None
        row: dict[str, Any] = {"path": path, "run_id": meta.get("run_id"), "seed": meta.get("seed")}
        if not isinstance(prov, Mapping):
            missing += 1
            row["provenance"] = None
        else:
            for label, where in STUDY_FIELDS:
                value = _field(prov, where)
                row[label] = value
                if value is not None:
                    across[label].add(json_scalar(value))
        runs.append(row)
    software = ("spikeflow_commit", "spikeflow_version", "nest_version", "study_config_sha256")
    return {
        "analysis": {
            "spikeflow": {"version": spikeflow.__version__, **git_state()},
            "python": platform.python_version(),
            "packages": {name: _version(name) for name in ("numpy", "h5py", "scipy", "matplotlib")},
            "host": socket.gethostname(),
            "command": list(sys.argv),
        },
        "runs": runs,
        "across_runs": {label: sorted(values, key=str) for label, values in across.items()},
        "consistent": all(len(across[label]) <= 1 for label in software),
        "runs_without_provenance": missing,
    }


def json_scalar(value: Any) -> Any:
    """A value as a hashable JSON scalar (str for anything that is not bool, int, float, str, None)."""
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)


def study_summary_lines(prov: Mapping[str, Any]) -> list[str]:
    """A few lines on a study summary's provenance for a terminal or the report."""
    across = prov.get("across_runs", {})
    sf = prov.get("analysis", {}).get("spikeflow", {})

    def one(label: str) -> str:
        values = across.get(label) or []
        return ", ".join(str(v)[:12] for v in values) if values else "unknown"

    n = len(prov.get("runs", []))
    lines = [
        f"{n} runs: spikeflow {one('spikeflow_version')} (commit {one('spikeflow_commit')}), NEST {one('nest_version')}, "
        f"study config sha256 {one('study_config_sha256')}, hosts {one('host')}",
        f"analysed by spikeflow {sf.get('version')}" + (f" commit {str(sf.get('commit'))[:12]}" if sf.get("commit") else ""),
    ]
    if not prov.get("consistent", True):
        lines.append("warning: the runs were made by different software or study configs (see across_runs)")
    if prov.get("runs_without_provenance"):
        lines.append(f"{prov['runs_without_provenance']} runs carry no provenance (files spikeflow did not write)")
    return lines
