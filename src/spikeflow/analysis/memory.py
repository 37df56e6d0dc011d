"""Memory analysis: memory per rank and phase across runs, and a fitted memory model.

The model is linear in the share of the network each MPI rank holds::

    peak memory per rank (MB) = a + b * n_neurons / ranks + c * n_connections / ranks

``a`` is what a rank needs before any network exists (Python, NEST kernel, MPI buffers),
``b`` the memory per neuron (state, buffers) and ``c`` per connection (synapse, target
bookkeeping, construction overhead). The coefficients are fitted by non-negative least
squares (:func:`scipy.optimize.nnls`) to the peak resident set of the largest rank
(``peak_rss_mb_max`` of :func:`spikeflow.analysis.costs.run_costs`), so a prediction is a
per-rank request that covers the biggest rank. Three coefficients need runs of at least
three different sizes per rank whose neuron and connection counts do not vary in
proportion.

For PD14 runs, :func:`pd14_prediction` predicts the memory of the network at
``N_scaling = K_scaling`` = 0.1, 0.2, 0.5 and 1 and sets it beside the measured memory and
the reference implementation's table (PyNEST README of INM-6/microcircuit-PD14-model).

Provenance: every fit records what it was fitted on (``MemoryModel.fitted_on``): the runs,
their NEST version and build (``nest_builds``: the build-defining keys of NEST's
``build_info``, :data:`NEST_BUILD_KEYS`, from the spikes files' ``provenance``) and the
machine (``hosts``: CPU, cores). :mod:`spikeflow.resources` warns when the model in use was
fitted on another NEST build than the one installed.

Families: :func:`fit_resource_model` fits one model per model family present in the runs
(``families``), the generic terms (PD14's when PD14 runs are present, else all runs') and a
runtime model (:class:`RuntimeModel`) from the same runs' phase times. A family whose runs
do not determine three coefficients over a wide enough range is *calibrated* to the
generic terms instead (see :func:`calibrate_memory_model`). :class:`ResourceModel` is what
``memory_model.json`` holds.

:func:`memory_analysis` runs all of it over the metadata of several runs and returns a
:class:`MemoryAnalysis` (which also builds the memory.json and memory_model.json documents);
:mod:`spikeflow.tasks.memory` reads the runs, writes the files and draws the figure.

Units: MB = kB / 1024 throughout (the metadata's probes are in kB).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spikeflow.analysis.costs import KB_PER_MB, MEMORY_POINTS, kb_to_mb, memory_probe, run_costs
from spikeflow.io.tables import format_cell

__all__ = [
    "TARGET",
    "PD14_SCALES",
    "PD14_REFERENCE_MB",
    "PER_RANK_COLUMNS",
    "RUN_COLUMNS",
    "PREDICTION_COLUMNS",
    "MemoryModel",
    "RuntimeModel",
    "ResourceModel",
    "NEST_BUILD_KEYS",
    "nest_build_fingerprint",
    "run_provenance",
    "calibrate_memory_model",
    "fit_runtime_model",
    "fit_resource_model",
    "memory_per_rank",
    "fit_memory_model",
    "pd14_size",
    "pd14_prediction",
    "prediction_markdown",
    "MemoryAnalysis",
    "memory_analysis",
]

#: The measured quantity the model is fitted to: peak resident set of the largest rank, MB.
TARGET = "peak_rss_mb_max"
#: PD14 scales (N_scaling = K_scaling) of the prediction table.
PD14_SCALES = (0.1, 0.2, 0.5, 1.0)
#: Memory of the PD14 reference implementation at those scales (its PyNEST README), MB.
PD14_REFERENCE_MB = {0.1: 490.0, 0.2: 1200.0, 0.5: 4400.0, 1.0: 14000.0}

#: Which run: the identity fields of a run_costs record.
_RUN_IDENTITY = ["run_id", "model", "seed", "nest_version"]
#: How big the run was and how it was split: the size fields of a run_costs record.
_RUN_SIZE = [
    "ranks",
    "threads",
    "vps",
    "n_neurons",
    "n_connections",
    "neurons_per_rank",
    "connections_per_rank",
]

#: Columns of memory.csv: one line per run, rank and probe point.
PER_RANK_COLUMNS = [*_RUN_IDENTITY, *_RUN_SIZE, "rank", "host", "point", "peak_rss_mb", "vmsize_mb"]
#: Per-run summary in memory.json ("runs").
RUN_COLUMNS = [
    *_RUN_IDENTITY,
    "N_scaling",
    "K_scaling",
    *_RUN_SIZE,
    *[f"mem_{p}_{kind}_mb_{red}" for p in MEMORY_POINTS for kind in ("peak_rss", "vmsize") for red in ("sum", "max")],
    "peak_rss_mb_max",
    "peak_rss_mb_sum",
    "peak_rss_mb_mean",
    "vmsize_mb_max",
    "vmsize_mb_sum",
]
#: Columns of memory_prediction.csv (memory of the whole job: all ranks, MB).
PREDICTION_COLUMNS = ["scale", "ranks", "neurons", "connections", "predicted_mb", "measured_mb", "reference_mb"]

FORMULA = "peak_mb_per_rank = base_mb + mb_per_neuron * n_neurons / ranks + mb_per_connection * n_connections / ranks"


@dataclass
class MemoryModel:
    """Fitted per-rank memory model (MB).

    Attributes:
        base_mb: memory of a rank without a network, MB.
        mb_per_neuron: MB per neuron on the rank.
        mb_per_connection: MB per connection on the rank.
        residuals_mb: measured - fitted peak memory per rank, MB, one per run in
            ``fitted_on["run_ids"]`` order.
        fitted_on: what the fit saw: ``target``, ``run_ids``, ``models``,
            ``nest_versions``, ``nest_builds`` (the distinct NEST builds, each the
            :data:`NEST_BUILD_KEYS` of NEST's ``build_info``), ``hosts`` (distinct
            machines: cpu, cores, machine), ``method`` ("fit" or "calibrated (...)"),
            ``n_runs``, ``n_sizes`` and ``ranges`` (``[min, max]`` of n_neurons,
            n_connections, ranks, neurons_per_rank, connections_per_rank, peak_mb).
    """

    base_mb: float
    mb_per_neuron: float
    mb_per_connection: float
    residuals_mb: list[float] = field(default_factory=list)
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def predict_mb(self, n_neurons: Any, n_connections: Any, ranks: Any = 1) -> Any:
        """Predicted peak memory per rank, MB.

        Args:
            n_neurons: neurons of the whole network (scalar or array).
            n_connections: connections of the whole network, devices included.
            ranks: MPI ranks the network is split over.

        Returns:
            ``base_mb + mb_per_neuron * n_neurons / ranks + mb_per_connection *
            n_connections / ranks`` (float, or an array for array inputs).
        """
        n = np.asarray(n_neurons, dtype=float)
        k = np.asarray(n_connections, dtype=float)
        r = np.asarray(ranks, dtype=float)
        value = self.base_mb + self.mb_per_neuron * n / r + self.mb_per_connection * k / r
        return float(value) if np.ndim(value) == 0 else value

    @property
    def rmse_mb(self) -> float:
        """Root-mean-square residual of the fit, MB (NaN without residuals)."""
        res = np.asarray(self.residuals_mb, dtype=float)
        return float(np.sqrt(np.mean(res**2))) if res.size else math.nan

    @property
    def max_abs_residual_mb(self) -> float:
        """Largest absolute residual of the fit, MB (NaN without residuals)."""
        res = np.asarray(self.residuals_mb, dtype=float)
        return float(np.abs(res).max()) if res.size else math.nan

    def to_dict(self, residuals: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; ``bytes_per_*`` are the same coefficients in bytes (1 MB = 1024**2 B)."""
        out: dict[str, Any] = {
            "fitted": True,
            "formula": FORMULA,
            "units": "MB = kB / 1024",
            "base_mb": self.base_mb,
            "mb_per_neuron": self.mb_per_neuron,
            "mb_per_connection": self.mb_per_connection,
            "bytes_per_neuron": self.mb_per_neuron * KB_PER_MB**2,
            "bytes_per_connection": self.mb_per_connection * KB_PER_MB**2,
            "rmse_mb": self.rmse_mb,
            "max_abs_residual_mb": self.max_abs_residual_mb,
            "fitted_on": self.fitted_on,
        }
        if residuals:
            out["residuals_mb"] = list(self.residuals_mb)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MemoryModel":
        """Inverse of :meth:`to_dict` (also reads ``memory_model.json``).

        Raises:
            ValueError: if ``data`` records a failed fit or lacks a coefficient.
        """
        if data.get("fitted") is False:
            raise ValueError(f"no memory model: the fit failed ({data.get('error', 'no reason given')})")
        try:
            return cls(
                base_mb=float(data["base_mb"]),
                mb_per_neuron=float(data["mb_per_neuron"]),
                mb_per_connection=float(data["mb_per_connection"]),
                residuals_mb=[float(v) for v in data.get("residuals_mb") or []],
                fitted_on=dict(data.get("fitted_on") or {}),
            )
        except KeyError as err:
            raise ValueError(f"memory model without coefficient {err.args[0]!r}") from None


def memory_per_rank(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Memory of every rank of one run at every probe point, MB.

    Args:
        metadata: run metadata (:func:`spikeflow.io.spikes.read_metadata`).

    Returns:
        One dict per rank and point of :data:`spikeflow.analysis.costs.MEMORY_POINTS`
        ("start" = before the network, then after each phase) with the keys of
        :data:`PER_RANK_COLUMNS`; ``peak_rss_mb`` is the peak resident set of the process
        so far, ``vmsize_mb`` its virtual size at that point (NaN where the probe is
        missing or negative, as with NEST < 3.10).
    """
    costs = run_costs(metadata)
    run = {k: costs[k] for k in PER_RANK_COLUMNS if k in costs}
    rows = []
    for rank in metadata.get("per_rank") or []:
        for point in MEMORY_POINTS:
            probe = memory_probe(rank, point)
            rows.append(
                {
                    **run,
                    "rank": rank.get("rank"),
                    "host": rank.get("host", ""),
                    "point": point,
                    "peak_rss_mb": kb_to_mb(probe.get("peak_rss_kb")),
                    "vmsize_mb": kb_to_mb(probe.get("vmsize_kb")),
                }
            )
    return rows


#: The keys of NEST's ``build_info`` that make a build (what its memory depends on); paths and
#: the build date are kept in the provenance but do not make another build.
NEST_BUILD_KEYS = (
    "version",
    "have_mpi",
    "threads_model",
    "have_threads",
    "have_gsl",
    "have_boost",
    "have_hdf5",
    "have_music",
    "have_sionlib",
    "have_libneurosim",
    "ndebug",
    "hostcpu",
    "hostos",
)
#: What is kept of the provenance's ``host``: the machine, not its name.
HOST_KEYS = ("cpu", "cores", "machine")


def nest_build_fingerprint(build_info: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The build-defining part of NEST's ``build_info`` (:data:`NEST_BUILD_KEYS`), or None without one."""
    if not build_info or "error" in build_info and "version" not in build_info:
        return None
    return {k: build_info[k] for k in NEST_BUILD_KEYS if k in build_info}


def describe_nest_build(build: Mapping[str, Any] | None) -> str:
    """One phrase for a build fingerprint: ``NEST 3.10.0 (MPI, openmp, GSL)``."""
    if not build:
        return "an unknown NEST build"
    features = ["MPI" if build.get("have_mpi") else "no MPI", str(build.get("threads_model", "?"))]
    features += [name for key, name in (("have_gsl", "GSL"), ("have_boost", "Boost")) if build.get(key)]
    return f"NEST {build.get('version', '?')} ({', '.join(features)})"


def run_provenance(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``{"nest_build": fingerprint or None, "host": {cpu, cores, machine} or None}`` of one run's metadata."""
    prov = metadata.get("provenance") or {}
    host = prov.get("host") or {}
    return {
        "nest_build": nest_build_fingerprint(prov.get("nest_build")),
        "host": {k: host[k] for k in HOST_KEYS if k in host} or None,
    }


def _unique(items: Iterable[Any]) -> list[Any]:
    """The distinct non-empty items (dicts compared by content), in first-seen order."""
    seen: list[Any] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen


def _range(values: Iterable[float]) -> list[float]:
    values = [float(v) for v in values]
    return [min(values), max(values)]


def fit_memory_model(records: Sequence[Mapping[str, Any]], target: str = TARGET) -> MemoryModel:
    """Fit the per-rank memory model to runs by non-negative least squares.

    Args:
        records: :func:`spikeflow.analysis.costs.run_costs` records (repeats allowed; runs
            without a finite ``target`` are left out).
        target: the record field fitted, MB (default: peak resident set of the largest
            rank).

    Returns:
        The model, with its residuals and what it was fitted on.

    Raises:
        ValueError: with fewer than 3 distinct sizes per rank (neurons, connections), or if
            neurons and connections per rank vary in proportion so that their coefficients
            cannot be told apart.
    """
    usable = [r for r in records if r.get(target) is not None and math.isfinite(float(r[target]))]
    if not usable:
        raise ValueError(f"no run has a measured {target}; cannot fit a memory model")
    n = np.array([r["n_neurons"] / r["ranks"] for r in usable], dtype=float)
    k = np.array([r["n_connections"] / r["ranks"] for r in usable], dtype=float)
    y = np.array([r[target] for r in usable], dtype=float)

    sizes = sorted({(float(a), float(b)) for a, b in zip(n, k)})
    if len(sizes) < 3:
        listed = "; ".join(f"{a:,.0f} neurons and {b:,.0f} connections per rank" for a, b in sizes)
        raise ValueError(
            f"the memory model has 3 coefficients (base, per neuron, per connection) and needs runs of at "
            f"least 3 different sizes per rank, got {len(sizes)} ({listed}); add runs at other network "
            "sizes or numbers of ranks"
        )
    design = np.column_stack([np.ones_like(n), n, k])
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    scaled = design / scale
    distinct = np.unique(scaled, axis=0)
    if np.linalg.matrix_rank(distinct, tol=1e-9) < 3:
        raise ValueError(
            "neurons and connections per rank vary in proportion across the runs, so memory per neuron and "
            "per connection cannot be told apart; add runs with a different connections-per-neuron ratio "
            "(e.g. another K_scaling)"
        )
    from scipy.optimize import nnls

    coef_scaled, _ = nnls(scaled, y)
    coef = coef_scaled / scale
    residuals = y - design @ coef
    fitted_on = fit_summary(usable, n, k, y, target)
    return MemoryModel(
        base_mb=float(coef[0]),
        mb_per_neuron=float(coef[1]),
        mb_per_connection=float(coef[2]),
        residuals_mb=[float(v) for v in residuals],
        fitted_on=fitted_on,
    )


#: A family's own three-term fit is used only if its runs' peak memory spans at least this
#: factor (max / min): over a narrower range the per-neuron and per-connection terms are not
#: determined and extrapolate badly; the family is calibrated to the generic terms instead.
MIN_FIT_SPAN = 1.5
#: A two-term calibration (base and a factor on the generic size terms) needs this span.
MIN_SCALE_SPAN = 1.2


def _span(records: Sequence[Mapping[str, Any]], target: str) -> float:
    y = [float(r[target]) for r in records if r.get(target) is not None and math.isfinite(float(r[target]))]
    return max(y) / min(y) if y and min(y) > 0 else math.nan


def calibrate_memory_model(
    records: Sequence[Mapping[str, Any]], generic: MemoryModel, target: str = TARGET, family: str = ""
) -> MemoryModel:
    """A family's memory model calibrated to generic terms, from few or narrow runs.

    With runs of at least 2 sizes per rank spanning :data:`MIN_SCALE_SPAN`, the family gets
    ``peak = base + s * (generic size terms)`` (``base`` and ``s >= 0`` by non-negative
    least squares: its own per-neuron and per-connection memory, in the generic ratio);
    otherwise the generic size terms with its own base (``s = 1``, ``base`` = mean of
    measured minus generic size terms, at least 0).

    Returns:
        The model as a :class:`MemoryModel` (coefficients already scaled), ``fitted_on``
        as :func:`fit_memory_model`'s with ``method`` ``"calibrated (base and scale)"`` or
        ``"calibrated (base)"`` and ``calibrated_to`` (the generic terms' models).

    Raises:
        ValueError: if no run has a measured ``target``.
    """
    usable = [r for r in records if r.get(target) is not None and math.isfinite(float(r[target]))]
    if not usable:
        raise ValueError(f"no run has a measured {target}; cannot calibrate a memory model")
    n = np.array([r["n_neurons"] / r["ranks"] for r in usable], dtype=float)
    k = np.array([r["n_connections"] / r["ranks"] for r in usable], dtype=float)
    y = np.array([r[target] for r in usable], dtype=float)
    size_terms = generic.mb_per_neuron * n + generic.mb_per_connection * k
    sizes = {(float(a), float(b)) for a, b in zip(n, k)}
    if len(sizes) >= 2 and _span(usable, target) >= MIN_SCALE_SPAN:
        from scipy.optimize import nnls

        design = np.column_stack([np.ones_like(y), size_terms])
        scale = np.abs(design).max(axis=0)
        scale[scale == 0] = 1.0
        coef, _ = nnls(design / scale, y)
        base, factor = (coef / scale).tolist()
        method = "calibrated (base and scale)"
    else:
        base, factor = max(0.0, float(np.mean(y - size_terms))), 1.0
        method = "calibrated (base)"
    model = MemoryModel(base, factor * generic.mb_per_neuron, factor * generic.mb_per_connection)
    fitted = fit_summary(usable, n, k, y, target)
    fitted.update(method=method, scale=factor, calibrated_to=generic.fitted_on.get("models", []))
    model.fitted_on = fitted
    model.residuals_mb = [float(v) for v in y - model.predict_mb(n, k, 1)]
    return model


def fit_summary(
    usable: Sequence[Mapping[str, Any]], n: np.ndarray, k: np.ndarray, y: np.ndarray, target: str
) -> dict[str, Any]:
    """The ``fitted_on`` of a memory fit over ``usable`` (per-rank sizes ``n``, ``k``, measured ``y``)."""
    return {
        "target": target,
        "run_ids": [r.get("run_id") for r in usable],
        "models": sorted({str(r.get("model", "")) for r in usable}),
        "nest_versions": sorted({str(r.get("nest_version", "")) for r in usable}),
        "nest_builds": _unique(r.get("nest_build") for r in usable),
        "hosts": _unique(r.get("host") for r in usable),
        "method": "fit",
        "n_runs": len(usable),
        "n_sizes": len({(float(a), float(b)) for a, b in zip(n, k)}),
        "ranges": {
            "n_neurons": _range(r["n_neurons"] for r in usable),
            "n_connections": _range(r["n_connections"] for r in usable),
            "ranks": _range(r["ranks"] for r in usable),
            "neurons_per_rank": _range(n),
            "connections_per_rank": _range(k),
            "peak_mb": _range(y),
        },
    }


#: The runtime model's formula (wall seconds of one run).
RUNTIME_FORMULA = (
    "seconds = construction_base_s + s_per_connection * connections / vps"
    " + (s_per_neuron_second * neurons + s_per_connection_second * connections) * model_seconds / vps"
)
#: A job asks for this multiple of the calibrated runtime (at least RUNTIME_MIN_MINUTES):
#: phase times scatter by about +-30 % on a shared machine, activity (spikes per connection)
#: differs between parameter sets, and a cluster node may be slower than the fitted machine.
RUNTIME_SAFETY = 2.0


@dataclass
class RuntimeModel:
    """Fitted wall time of a run (s), from the phase times of measured runs.

    ``construction`` (create + connect) = ``construction_base_s + s_per_connection *
    connections / vps``; ``simulation`` (presimulate + simulate) = ``(s_per_neuron_second *
    neurons + s_per_connection_second * connections) * model_seconds / vps``, with
    ``vps`` = ranks x threads and ``model_seconds`` the presimulated plus simulated model
    time. All coefficients >= 0 (non-negative least squares).
    """

    construction_base_s: float
    s_per_connection: float
    s_per_neuron_second: float
    s_per_connection_second: float
    residuals_s: list[float] = field(default_factory=list)
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def predict_s(self, n_neurons: float, n_connections: float, vps: int, model_seconds: float) -> float:
        """Predicted wall time of the phases of one run, s."""
        vps = max(1, int(vps))
        construction = self.construction_base_s + self.s_per_connection * n_connections / vps
        simulation = (self.s_per_neuron_second * n_neurons + self.s_per_connection_second * n_connections) * model_seconds / vps
        return float(construction + simulation)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        res = np.asarray(self.residuals_s, dtype=float)
        return {
            "formula": RUNTIME_FORMULA,
            "units": "s of wall time",
            "safety_factor": RUNTIME_SAFETY,
            "construction_base_s": self.construction_base_s,
            "s_per_connection": self.s_per_connection,
            "s_per_neuron_second": self.s_per_neuron_second,
            "s_per_connection_second": self.s_per_connection_second,
            "rmse_s": float(np.sqrt(np.mean(res**2))) if res.size else math.nan,
            "residuals_s": list(self.residuals_s),
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RuntimeModel":
        """Inverse of :meth:`to_dict`; ValueError if a coefficient is missing."""
        try:
            return cls(
                construction_base_s=float(data["construction_base_s"]),
                s_per_connection=float(data["s_per_connection"]),
                s_per_neuron_second=float(data["s_per_neuron_second"]),
                s_per_connection_second=float(data["s_per_connection_second"]),
                residuals_s=[float(v) for v in data.get("residuals_s") or []],
                fitted_on=dict(data.get("fitted_on") or {}),
            )
        except KeyError as err:
            raise ValueError(f"runtime model without coefficient {err.args[0]!r}") from None


def fit_runtime_model(records: Sequence[Mapping[str, Any]]) -> RuntimeModel:
    """Fit :class:`RuntimeModel` to runs' phase wall times (means over ranks).

    Raises:
        ValueError: without runs of at least 2 sizes that have phase times.
    """
    usable = [
        r for r in records
        if all(math.isfinite(float(r.get(f"wall_{p}_s", math.nan))) for p in ("create", "connect", "presimulate", "simulate"))
    ]
    if len({(r["n_neurons"], r["n_connections"], r["vps"]) for r in usable}) < 2:
        raise ValueError("the runtime model needs runs of at least 2 sizes with phase times")
    from scipy.optimize import nnls

    def solve(design: np.ndarray, y: np.ndarray) -> np.ndarray:
        scale = np.abs(design).max(axis=0)
        scale[scale == 0] = 1.0
        coef, _ = nnls(design / scale, y)
        return coef / scale

    vps = np.array([r["vps"] for r in usable], dtype=float)
    n = np.array([r["n_neurons"] for r in usable], dtype=float) / vps
    k = np.array([r["n_connections"] for r in usable], dtype=float) / vps
    t = np.array([r["t_presim_s"] + r["t_sim_s"] for r in usable], dtype=float)
    construction = np.array([r["wall_create_s"] + r["wall_connect_s"] for r in usable], dtype=float)
    simulation = np.array([r["wall_presimulate_s"] + r["wall_simulate_s"] for r in usable], dtype=float)
    c0, c1 = solve(np.column_stack([np.ones_like(k), k]), construction)
    s0, s1 = solve(np.column_stack([n * t, k * t]), simulation)
    model = RuntimeModel(float(c0), float(c1), float(s0), float(s1))
    predicted = np.array([model.predict_s(a * v, b * v, v, m) for a, b, v, m in zip(n, k, vps, t)])
    model.residuals_s = [float(v) for v in construction + simulation - predicted]
    model.fitted_on = {
        "target": "wall_create_s + wall_connect_s (construction), wall_presimulate_s + wall_simulate_s (simulation)",
        "run_ids": [r.get("run_id") for r in usable],
        "models": sorted({str(r.get("model", "")) for r in usable}),
        "nest_builds": _unique(r.get("nest_build") for r in usable),
        "hosts": _unique(r.get("host") for r in usable),
        "n_runs": len(usable),
        "ranges": {
            "n_connections": _range(r["n_connections"] for r in usable),
            "vps": _range(vps),
            "model_seconds": _range(t),
            "wall_s": _range(construction + simulation),
        },
    }
    return model


#: Version of the memory_model.json layout written by :meth:`ResourceModel.to_dict`.
RESOURCE_MODEL_FORMAT = 2


@dataclass
class ResourceModel:
    """What ``memory_model.json`` holds: generic memory terms, per-family terms, runtime models.

    The generic memory terms are at the top level of the file (as a :class:`MemoryModel`
    dict, so older readers still read them); ``families`` maps a model family (``pd14``,
    ``clustered``, ...) to its own :class:`MemoryModel`; ``runtime`` holds the generic
    :class:`RuntimeModel` and ``runtime_families`` the per-family ones. A family without
    terms of its own (e.g. a user's model) uses the generic ones.
    """

    memory: MemoryModel
    families: dict[str, MemoryModel] = field(default_factory=dict)
    runtime: RuntimeModel | None = None
    runtime_families: dict[str, RuntimeModel] = field(default_factory=dict)

    def memory_for(self, family: str | None) -> tuple[MemoryModel, str]:
        """The memory model of ``family`` and which terms those are (the family, or "generic")."""
        if family in self.families:
            return self.families[family], str(family)
        return self.memory, "generic"

    def runtime_for(self, family: str | None) -> RuntimeModel | None:
        """The runtime model of ``family`` (its own, else the generic one, else None)."""
        return self.runtime_families.get(family or "", self.runtime)

    @property
    def nest_builds(self) -> list[dict[str, Any]]:
        """The NEST builds (fingerprints) the generic terms were fitted on."""
        return list(self.memory.fitted_on.get("nest_builds") or [])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the layout of memory_model.json)."""
        out = {"format": RESOURCE_MODEL_FORMAT, **self.memory.to_dict(residuals=False)}
        out["families"] = {name: m.to_dict(residuals=False) for name, m in sorted(self.families.items())}
        out["runtime"] = {
            "generic": self.runtime.to_dict() if self.runtime else None,
            "families": {name: m.to_dict() for name, m in sorted(self.runtime_families.items())},
        }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ResourceModel":
        """Inverse of :meth:`to_dict`; also reads a plain :class:`MemoryModel` dict (format 1).

        Raises:
            ValueError: for a failed fit or a missing coefficient (naming the family).
        """
        memory = MemoryModel.from_dict(data)
        families = {}
        for name, entry in (data.get("families") or {}).items():
            try:
                families[str(name)] = MemoryModel.from_dict(entry)
            except ValueError as err:
                raise ValueError(f"family {name!r}: {err}") from None
        runtime = data.get("runtime") or {}
        return cls(
            memory=memory,
            families=families,
            runtime=RuntimeModel.from_dict(runtime["generic"]) if runtime.get("generic") else None,
            runtime_families={str(k): RuntimeModel.from_dict(v) for k, v in (runtime.get("families") or {}).items()},
        )


def fit_resource_model(records: Sequence[Mapping[str, Any]], target: str = TARGET) -> ResourceModel:
    """Fit the generic, per-family memory and runtime models to runs of one or more families.

    Generic memory terms: :func:`fit_memory_model` over the PD14 runs if there are any
    (PD14 spans the widest sizes), else over all runs. Each family (``model`` of the runs;
    a user's model is named by its file or module) gets its own :func:`fit_memory_model`
    when its runs determine it (3 sizes, not proportional) and their peaks span
    :data:`MIN_FIT_SPAN`; otherwise it is calibrated to the generic terms
    (:func:`calibrate_memory_model`). Runtime: :func:`fit_runtime_model` generic (the same
    runs as the memory terms) and per family where the family's runs determine it.

    Raises:
        ValueError: if the generic memory terms cannot be fitted (the reason).
    """
    by_family: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        by_family.setdefault(str(r.get("model", "")), []).append(r)
    base_records = by_family.get("pd14") or list(records)
    generic = fit_memory_model(base_records, target)
    families: dict[str, MemoryModel] = {}
    runtime_families: dict[str, RuntimeModel] = {}
    for name, family_records in by_family.items():
        if family_records is base_records or (len(by_family) == 1):
            families[name] = generic
        else:
            model = None
            if _span(family_records, target) >= MIN_FIT_SPAN:
                try:
                    model = fit_memory_model(family_records, target)
                except ValueError:
                    model = None
            families[name] = model or calibrate_memory_model(family_records, generic, target, name)
        try:
            runtime_families[name] = fit_runtime_model(family_records)
        except ValueError:
            pass
    try:
        runtime = fit_runtime_model(base_records)
    except ValueError:
        runtime = None
    return ResourceModel(generic, families, runtime, runtime_families)


def pd14_size(scale: float, params: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """Neurons and connections of PD14 at ``N_scaling = K_scaling = scale``.

    Args:
        scale: the scaling factor, in (0, 1].
        params: other PD14 parameters (e.g. ``bg_input``); their N/K_scaling are replaced.

    Returns:
        ``(neurons, connections)``: connections are all synapses of the model (recurrent,
        background, thalamic) plus one spike-recorder connection per neuron, as the
        driver builds them.
    """
    from spikeflow.models import pd14

    merged = {**dict(params or {}), "N_scaling": float(scale), "K_scaling": float(scale)}
    description = pd14.describe(pd14.params_from_config(merged))
    neurons = int(sum(p["size"] for p in description["populations"]))
    return neurons, int(sum(description["connections"].values())) + neurons


def _matches_scale(record: Mapping[str, Any], scale: float) -> bool:
    n, k = record.get("N_scaling"), record.get("K_scaling")
    return n is not None and k is not None and math.isclose(n, scale) and math.isclose(k, scale)


def pd14_prediction(
    model: MemoryModel | None,
    scales: Sequence[float] = PD14_SCALES,
    ranks: int = 1,
    params: Mapping[str, Any] | None = None,
    records: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Predicted memory of PD14 at ``N_scaling = K_scaling = scale``, whole job.

    Args:
        model: the fitted model (None: ``predicted_mb`` is NaN).
        scales: scaling factors.
        ranks: MPI ranks of the predicted job.
        params: PD14 parameters besides the scaling (default: the model defaults).
        records: measured runs; a PD14 run at the scale with ``ranks`` ranks fills
            ``measured_mb`` (mean over such runs).

    Returns:
        One dict per scale with :data:`PREDICTION_COLUMNS`: ``predicted_mb`` is
        ``ranks * model.predict_mb(...)``, ``measured_mb`` the measured peak resident set
        summed over ranks (NaN if no run matches), ``reference_mb`` the reference
        implementation's figure (None off its scales or for ``ranks != 1``).
    """
    ranks = int(ranks)
    rows = []
    for scale in scales:
        neurons, connections = pd14_size(scale, params)
        measured = [
            r["peak_rss_mb_sum"]
            for r in records
            if r.get("model") == "pd14" and r.get("ranks") == ranks and _matches_scale(r, scale)
        ]
        reference = next((v for s, v in PD14_REFERENCE_MB.items() if math.isclose(s, scale)), None)
        rows.append(
            _prediction_row(
                model, float(scale), ranks, neurons, connections, measured, reference if ranks == 1 else None
            )
        )
    return rows


def _point_prediction(
    model: MemoryModel | None, point: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A prediction row for an explicit size ``{"n_neurons", "n_connections", "ranks", "scale"?}``."""
    neurons, connections = int(point["n_neurons"]), int(point["n_connections"])
    ranks = int(point.get("ranks", 1))
    measured = [
        r["peak_rss_mb_sum"]
        for r in records
        if r["n_neurons"] == neurons and r["n_connections"] == connections and r["ranks"] == ranks
    ]
    return _prediction_row(model, point.get("scale"), ranks, neurons, connections, measured, point.get("reference_mb"))


def _prediction_row(
    model: MemoryModel | None,
    scale: float | None,
    ranks: int,
    neurons: int,
    connections: int,
    measured_mb: Sequence[float],
    reference_mb: float | None,
) -> dict[str, Any]:
    """One row of :data:`PREDICTION_COLUMNS` (memory of the whole job, MB).

    Args:
        model: the fitted model (None: ``predicted_mb`` is NaN).
        scale: the PD14 scale of the row, or None for an explicit size.
        ranks: MPI ranks of the job.
        neurons: neurons of the network.
        connections: connections of the network, devices included.
        measured_mb: the measured peak resident set summed over ranks, MB, of every
            matching run (``measured_mb`` is their mean, NaN without any).
        reference_mb: a reference figure to set beside the prediction, MB, or None.

    Returns:
        The row: ``predicted_mb = ranks * model.predict_mb(neurons, connections, ranks)``.
    """
    return {
        "scale": scale,
        "ranks": ranks,
        "neurons": neurons,
        "connections": connections,
        "predicted_mb": ranks * model.predict_mb(neurons, connections, ranks) if model else math.nan,
        "measured_mb": float(np.mean(measured_mb)) if measured_mb else math.nan,
        "reference_mb": reference_mb,
    }



def prediction_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """The prediction table as a Markdown table (memory in MB, whole job).

    Args:
        rows: rows of :func:`pd14_prediction` (keys :data:`PREDICTION_COLUMNS`).

    Returns:
        Markdown text without a trailing newline; missing values are "–".
    """
    header = [
        "N_scaling = K_scaling",
        "ranks",
        "neurons",
        "connections",
        "predicted (MB)",
        "measured (MB)",
        "reference (MB)",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for row in rows:
        cells = [
            format_cell(row.get("scale"), "g", "–"),
            format_cell(row.get("ranks"), "d", "–"),
            format_cell(row.get("neurons"), ",d", "–"),
            format_cell(row.get("connections"), ",d", "–"),
            format_cell(row.get("predicted_mb"), ",.0f", "–"),
            format_cell(row.get("measured_mb"), ",.0f", "–"),
            format_cell(row.get("reference_mb"), ",.0f", "–"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _run_summary(record: Mapping[str, Any], model: MemoryModel | None) -> dict[str, Any]:
    row = {key: record.get(key) for key in RUN_COLUMNS}
    row["nest_build"], row["host"] = record.get("nest_build"), record.get("host")
    predicted = model.predict_mb(record["n_neurons"], record["n_connections"], record["ranks"]) if model else math.nan
    row["predicted_mb"] = predicted
    row["residual_mb"] = record.get(TARGET, math.nan) - predicted if model else math.nan
    return row


@dataclass
class MemoryAnalysis:
    """The memory analysis of several runs: per-rank memory, the fitted models, the predictions.

    Attributes:
        records: one :func:`spikeflow.analysis.costs.run_costs` record per run (in input
            order) with its :func:`run_provenance` (``nest_build``, ``host``).
        per_rank: the rows of :func:`memory_per_rank` of every run (memory.csv).
        fitted: the :class:`ResourceModel` fitted by :func:`fit_resource_model`, or None
            when the runs cannot determine one.
        error: why there is no model (the fit's ValueError), or None.
        prediction: prediction rows (:data:`PREDICTION_COLUMNS`; memory of the whole job,
            MB), possibly empty.
    """

    records: list[dict[str, Any]]
    per_rank: list[dict[str, Any]]
    fitted: ResourceModel | None
    error: str | None
    prediction: list[dict[str, Any]]

    @property
    def model(self) -> MemoryModel | None:
        """The generic memory terms of the fit (None without a fit)."""
        return self.fitted.memory if self.fitted else None

    def model_document(self) -> dict[str, Any]:
        """The memory_model.json document: :meth:`ResourceModel.to_dict`, or ``{"fitted": false, "error"}``."""
        return self.fitted.to_dict() if self.fitted else {"fitted": False, "error": self.error}

    def document(self, spikes_files: Sequence[str | os.PathLike] = ()) -> dict[str, Any]:
        """The memory.json document.

        Args:
            spikes_files: the runs' spikes files, as the document names them.

        Returns:
            ``{"target", "units", "formula", "model": to_dict() or None, "families",
            "runtime", "model_error": str or None, "runs": [RUN_COLUMNS + predicted_mb,
            residual_mb], "per_rank": [memory.csv rows], "prediction": [rows],
            "prediction_markdown": str or None, "spikes_files": [...]}``.
        """
        fitted, model = self.fitted, self.model
        return {
            "target": TARGET,
            "units": "MB = kB / 1024",
            "formula": FORMULA,
            "model": model.to_dict() if model else None,
            "families": {name: m.to_dict() for name, m in fitted.families.items()} if fitted else {},
            "runtime": fitted.to_dict()["runtime"] if fitted else None,
            "model_error": self.error,
            "runs": [_run_summary(r, fitted.memory_for(r.get("model"))[0] if fitted else None) for r in self.records],
            "per_rank": self.per_rank,
            "prediction": self.prediction,
            "prediction_markdown": prediction_markdown(self.prediction) if self.prediction else None,
            "spikes_files": [str(p) for p in spikes_files],
        }


def memory_analysis(
    metadatas: Sequence[Mapping[str, Any]],
    predict: Sequence[float | Mapping[str, Any]] | None = None,
) -> MemoryAnalysis:
    """Memory analysis of several runs: per-rank table, fitted models and predictions.

    Args:
        metadatas: the runs' metadata (:func:`spikeflow.io.spikes.read_metadata`).
        predict: sizes to predict: numbers are PD14 scales (N_scaling = K_scaling, on one
            rank, with the other parameters of the first PD14 run), mappings are explicit
            sizes ``{"n_neurons", "n_connections", "ranks" (default 1), "scale",
            "reference_mb"}`` (the last two optional). Default: :data:`PD14_SCALES` if any
            run is PD14, else none.

    Returns:
        The :class:`MemoryAnalysis`; a fit the runs cannot determine (fewer than 3 sizes,
        ...) gives ``fitted=None`` and the reason in ``error``.
    """
    per_rank = [row for m in metadatas for row in memory_per_rank(m)]
    records = [{**run_costs(m), **run_provenance(m)} for m in metadatas]

    try:
        fitted: ResourceModel | None = fit_resource_model(records)
        model: MemoryModel | None = fitted.memory
        error = None
    except ValueError as err:
        fitted, model, error = None, None, str(err)

    pd14_params = next(
        (
            {k: v for k, v in (m.get("config") or {}).get("params", {}).items() if k not in ("N_scaling", "K_scaling")}
            for m in metadatas
            if m.get("model") == "pd14"
        ),
        None,
    )
    if predict is None:
        predict = PD14_SCALES if pd14_params is not None else ()
    prediction = []
    for point in predict:
        if isinstance(point, Mapping):
            prediction.append(_point_prediction(model, point, records))
        else:
            prediction.extend(pd14_prediction(model, [float(point)], params=pd14_params, records=records))
    return MemoryAnalysis(records, per_rank, fitted, error, prediction)
