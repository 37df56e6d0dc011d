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

Units: MB = kB / 1024 throughout (the metadata's probes are in kB).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from spikeflow.analysis.costs import KB_PER_MB, MEMORY_POINTS, kb_to_mb, memory_probe, read_runs, run_costs
from spikeflow.io.tables import format_cell, write_csv, write_json

__all__ = [
    "TARGET",
    "PD14_SCALES",
    "PD14_REFERENCE_MB",
    "PER_RANK_COLUMNS",
    "RUN_COLUMNS",
    "PREDICTION_COLUMNS",
    "MemoryModel",
    "memory_per_rank",
    "fit_memory_model",
    "pd14_size",
    "pd14_prediction",
    "prediction_markdown",
    "analyze_memory",
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
            ``nest_versions``, ``n_runs``, ``n_sizes`` and ``ranges`` (``[min, max]`` of
            n_neurons, n_connections, ranks, neurons_per_rank, connections_per_rank,
            peak_mb).
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
    fitted_on = {
        "target": target,
        "run_ids": [r.get("run_id") for r in usable],
        "models": sorted({str(r.get("model", "")) for r in usable}),
        "nest_versions": sorted({str(r.get("nest_version", "")) for r in usable}),
        "n_runs": len(usable),
        "n_sizes": len(sizes),
        "ranges": {
            "n_neurons": _range(r["n_neurons"] for r in usable),
            "n_connections": _range(r["n_connections"] for r in usable),
            "ranks": _range(r["ranks"] for r in usable),
            "neurons_per_rank": _range(n),
            "connections_per_rank": _range(k),
            "peak_mb": _range(y),
        },
    }
    return MemoryModel(
        base_mb=float(coef[0]),
        mb_per_neuron=float(coef[1]),
        mb_per_connection=float(coef[2]),
        residuals_mb=[float(v) for v in residuals],
        fitted_on=fitted_on,
    )


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
    predicted = model.predict_mb(record["n_neurons"], record["n_connections"], record["ranks"]) if model else math.nan
    row["predicted_mb"] = predicted
    row["residual_mb"] = record.get(TARGET, math.nan) - predicted if model else math.nan
    return row


def analyze_memory(
    spikes_paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    predict: Sequence[float | Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Memory analysis of several runs: per-rank table, fitted model, prediction, figure.

    Writes into ``out_dir`` (created if needed), each file atomically:

    * ``memory.csv``: one line per run, rank and probe point, columns
      :data:`PER_RANK_COLUMNS` (MB; NaN as empty cells);
    * ``memory_model.json``: the coefficients and what they were fitted on
      (:meth:`MemoryModel.to_dict` without residuals), or ``{"fitted": false, "error"}``
      if the runs cannot determine a model (fewer than 3 sizes, ...);
    * ``memory_prediction.csv`` (:data:`PREDICTION_COLUMNS`) if there is a prediction:
      for PD14 runs at :data:`PD14_SCALES` unless ``predict`` says otherwise;
    * ``memory.png``: measured peak memory per rank against connections per rank, the
      fitted model along the measured and predicted sizes, and the predicted points;
    * ``memory.json`` (written last, strict JSON): ``{"target", "units", "formula",
      "model": to_dict() or null, "model_error": str or null, "runs": [RUN_COLUMNS +
      predicted_mb, residual_mb], "per_rank": [memory.csv rows], "prediction": [rows],
      "prediction_markdown": str or null, "spikes_files": [...]}``.

    Args:
        spikes_paths: spikes files of the runs.
        out_dir: output directory.
        predict: sizes to predict: numbers are PD14 scales (N_scaling = K_scaling, on one
            rank, with the other parameters of the first PD14 input run), mappings are
            explicit sizes ``{"n_neurons", "n_connections", "ranks" (default 1),
            "scale", "reference_mb"}`` (both optional). Default: :data:`PD14_SCALES` if
            any run is PD14, else none.

    Returns:
        The document written to ``memory.json`` (before the NaN -> null conversion).
    """
    out_dir, metadatas, records = read_runs(spikes_paths, out_dir, "analyze_memory")
    per_rank = [row for m in metadatas for row in memory_per_rank(m)]

    try:
        model: MemoryModel | None = fit_memory_model(records)
        error = None
    except ValueError as err:
        model, error = None, str(err)

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

    write_csv(out_dir / "memory.csv", per_rank, PER_RANK_COLUMNS)
    write_json(
        out_dir / "memory_model.json",
        model.to_dict(residuals=False) if model else {"fitted": False, "error": error},
    )
    if prediction:
        write_csv(out_dir / "memory_prediction.csv", prediction, PREDICTION_COLUMNS)

    from spikeflow.plots.memory import plot_memory  # matplotlib only when drawing

    plot_memory(records, model, prediction, out_dir / "memory.png", error=error)

    document = {
        "target": TARGET,
        "units": "MB = kB / 1024",
        "formula": FORMULA,
        "model": model.to_dict() if model else None,
        "model_error": error,
        "runs": [_run_summary(r, model) for r in records],
        "per_rank": per_rank,
        "prediction": prediction,
        "prediction_markdown": prediction_markdown(prediction) if prediction else None,
        "spikes_files": [str(p) for p in spikes_paths],
    }
    write_json(out_dir / "memory.json", document)
    return document
