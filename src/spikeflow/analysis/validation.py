"""Statistical validation with a verdict: a run (or an ensemble of runs) against a reference ensemble.

The method is the one of the PD14 reference repository (Dasbach et al. 2021) and NetworkUnit:
compare, population by population, the *distributions over neurons* of three statistics

* ``rate``: firing rate of every neuron (spikes/s, silent neurons included),
* ``cv``: coefficient of variation of the inter-spike intervals (neurons with at least
  ``min_spikes`` spikes in the window),
* ``corr``: Pearson correlation coefficients of spike counts in ``corr_bin_ms`` bins of the
  pairs of ``corr_sample`` sampled active neurons,

all computed by :mod:`spikeflow.analysis.spiketrains` over the same window, and judge the
candidate's distance from the reference against the reference's own natural variability:
the distances between its seeds.

The rule (:data:`RULE`, stated in every output)
------------------------------------------------
For a population ``p``, a statistic ``s`` and a measure ``m`` (two measures:
``ks``, the two-sample Kolmogorov-Smirnov distance :func:`scipy.stats.ks_2samp`, and
``effect``, the absolute difference of the two samples' means in units of their pooled
standard deviation, Cohen's d):

* the reference's spread is the set ``{m(r_j, r_k) : j < k}`` over all pairs of the reference's
  seeds (single run against single run);
* the candidate's distance is ``median{m(c_i, r_j)}`` over all candidate runs ``i`` and all
  reference seeds ``j`` (again single run against single run, so that both sides compare
  samples of the same size);
* the cell passes when the candidate's distance is at most ``factor`` times the ``quantile``
  of the reference's spread; the defaults are ``quantile = 1`` (the maximum) and
  ``factor = 2`` (:data:`DEFAULT_QUANTILE`, :data:`DEFAULT_FACTOR`).

A cell ``(p, s)`` passes when both measures pass. A cell with a sample of fewer than
``min_samples`` values on either side in any comparison is "undetermined" (too few neurons
fire enough for a CV, or fewer than two active neurons for correlations) and does not count.
The verdict is PASS when every determined cell passes, FAIL otherwise.

Why twice the maximum: the defaults were calibrated on the shipped PD14 references by
validating the reference against itself (leave seeds out, validate them against the rest; see
docs/validation.md). A run whose distances lie beyond the maximum of ``n`` exchangeable ones
happens with probability about ``1/(n+1)`` per cell, and there are 24 cells and two measures:
with ``factor = 1`` 18 of 45 leave-two-out validations of the scale-0.1 reference failed, with
``factor = 1.5`` one, with ``factor = 2`` none. A really different network lies far beyond:
``g = -3`` instead of -4, or a background rate 6 % lower, puts the rate distances at 2-13
(KS) and 2.5-49 (effect size) times the maximum, and every rate cell fails.

Reference ensembles
-------------------
A reference is a compressed ``.npz`` of per-neuron statistics (not spikes) with a JSON beside
it saying how it was made (``bench/make_validation_reference.py`` writes both with
:func:`spikeflow.io.references.save_reference`). Shipped ones
live in ``spikeflow/data/validation/`` and are named by their stem without ``_microcircuit``,
e.g. ``pd14_scale0.1``. Arrays in the npz are keyed ``{stat}/{population}/{seed}``; rates are
stored as spike counts (``uint16``, exact: rate = count / window length), CVs and correlations
as ``float16``; a candidate's CVs and correlations are rounded to float16 too
(:func:`quantize`), so that tied values stay tied on both sides.

Candidate seeds must differ from the reference's: both implementations make the same NEST
calls, so equal seeds give equal spikes and would prove nothing; :func:`validate` refuses them.

Everything here is a pure function over arrays and :class:`~spikeflow.io.spikes.SpikeData`:
reference files are read and written by :mod:`spikeflow.io.references`, and
:mod:`spikeflow.tasks.validate` (``spikeflow analyze validate``) reads the spikes files, calls
:func:`validate_runs` and writes ``validation.csv``, ``validation.txt``, ``validation.json``
and ``validation.png``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import ks_2samp

from spikeflow.analysis import spiketrains as st

__all__ = [
    "COLUMNS",
    "DEFAULT_FACTOR",
    "DEFAULT_QUANTILE",
    "MEASURES",
    "RULE",
    "STATISTICS",
    "Ensemble",
    "compare",
    "effect_size",
    "ensemble_from_spikes",
    "format_validation",
    "ks_distance",
    "meanfield_verdict",
    "combine_meanfield_verdicts",
    "quantize",
    "rule_text",
    "run_statistics",
    "summary_line",
    "validate",
    "validate_runs",
    "validation_text",
    "figure_title",
]

#: The statistics compared, in order.
STATISTICS = ("rate", "cv", "corr")
#: Units / meaning of each statistic, for tables and figures.
STATISTIC_LABELS = {
    "rate": "firing rate (spikes/s)",
    "cv": "CV of ISIs",
    "corr": "spike-count correlation",
}
#: The distance measures, in order.
MEASURES = ("ks", "effect")
MEASURE_LABELS = {
    "ks": "KS distance",
    "effect": "|difference of means| / pooled SD",
}
DEFAULT_QUANTILE = 1.0
DEFAULT_FACTOR = 2.0
DEFAULT_MIN_SAMPLES = 5
DEFAULT_CORR_BIN_MS = 2.0
DEFAULT_CORR_SAMPLE = 50
DEFAULT_MIN_SPIKES = 3
DEFAULT_SAMPLE_SEED = 12345


def rule_text(quantile: float = DEFAULT_QUANTILE, factor: float = DEFAULT_FACTOR, min_samples: int = DEFAULT_MIN_SAMPLES) -> str:
    """The pass rule in one paragraph (written into every output)."""
    scale = "" if factor == 1.0 else f"{factor:g} x "
    which = "maximum" if quantile == 1.0 else f"{100 * quantile:g}th percentile"
    return (
        "Per population and statistic (rate, CV of ISIs, spike-count correlation) and for each "
        "measure (KS distance; |difference of means| / pooled SD): the candidate's distance is the "
        "median over all (candidate run, reference seed) pairs; it passes when it is <= "
        f"{scale}the {which} of the reference's seed-to-seed distances "
        "(all pairs of reference seeds). A cell passes when both measures pass; a cell with fewer "
        f"than {min_samples} values on a side is undetermined and not counted. "
        "Verdict: PASS when every determined cell passes."
    )


RULE = rule_text()


# --------------------------------------------------------------------------- statistics
def run_statistics(
    populations: Mapping[str, tuple[np.ndarray, np.ndarray, int]],
    t_start: float,
    t_stop: float,
    corr_bin_ms: float = DEFAULT_CORR_BIN_MS,
    corr_sample: int = DEFAULT_CORR_SAMPLE,
    min_spikes: int = DEFAULT_MIN_SPIKES,
    sample_seed: int = DEFAULT_SAMPLE_SEED,
    run_seed: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Per-neuron statistics of one run, population by population.

    Args:
        populations: name -> (node_ids (0-based within the population), times in ms, n_nodes),
            in the model's population order.
        t_start: window start, ms.
        t_stop: window end, ms (the window convention of :mod:`spiketrains`).
        corr_bin_ms: bin of the spike counts for correlations, ms.
        corr_sample: active neurons sampled per population for correlations.
        min_spikes: neurons need at least this many spikes in the window for a CV.
        sample_seed: seed of the correlation sampling; population ``i`` of the run with seed
            ``run_seed`` samples with ``np.random.default_rng((sample_seed, run_seed, i))``.
        run_seed: the run's simulation seed (enters the sampling seed only).

    Returns:
        ``{"rate": {pop: rates (n_nodes,)}, "cv": {pop: cvs}, "corr": {pop: coefficients}}``;
        NaN CVs and correlations (undefined values) are dropped.
    """
    out: dict[str, dict[str, np.ndarray]] = {s: {} for s in STATISTICS}
    for i, (name, (ids, times, n_nodes)) in enumerate(populations.items()):
        out["rate"][name] = st.per_neuron_rates(ids, times, n_nodes, t_start, t_stop)
        cv = st.isi_cv(ids, times, t_start, t_stop, min_spikes=min_spikes)
        out["cv"][name] = cv[np.isfinite(cv)]
        rng = np.random.default_rng((int(sample_seed), int(run_seed), i))
        corr = st.spike_count_correlations(
            ids, times, n_nodes, t_start, t_stop, bin_ms=corr_bin_ms, n_sample=corr_sample, rng=rng
        )
        out["corr"][name] = corr[np.isfinite(corr)]
    return out


# --------------------------------------------------------------------------- measures
def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance (``scipy.stats.ks_2samp(a, b).statistic``)."""
    # method="asymp": the statistic is the same, only its p-value (unused here) is approximated;
    # the exact p-value costs O(n m) per pair and dominated the whole analysis.
    return float(ks_2samp(np.asarray(a, float), np.asarray(b, float), method="asymp").statistic)


def effect_size(a: np.ndarray, b: np.ndarray) -> float:
    """``|mean(a) - mean(b)| / sqrt((var(a) + var(b)) / 2)`` (Cohen's d, sample variances).

    0 when both samples are constant and equal, ``inf`` when they are constant and differ.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = abs(a.mean() - b.mean())
    va = a.var(ddof=1) if a.size > 1 else 0.0
    vb = b.var(ddof=1) if b.size > 1 else 0.0
    pooled = math.sqrt((va + vb) / 2.0)
    if pooled == 0.0:
        return 0.0 if diff == 0.0 else float("inf")
    return float(diff / pooled)


_MEASURE_FUNCS = {"ks": ks_distance, "effect": effect_size}


# --------------------------------------------------------------------------- ensembles
def quantize(stat: str, values: np.ndarray) -> np.ndarray:
    """Values at the precision a reference file stores them (float64 out).

    CVs and correlations are rounded to float16, rates are left as they are (the file stores
    them exactly, as spike counts). Candidate and reference pass through the same rounding, so
    that tied values (many correlations of sparse binary count vectors are exactly equal, e.g.
    every pair of one-spike neurons without a coincidence) stay tied on both sides; compared
    at different precisions a tie cluster would split and move the KS distance by its size.
    """
    values = np.asarray(values, dtype=np.float64)
    if stat == "rate":
        return values
    return values.astype(np.float16).astype(np.float64)



@dataclass
class Ensemble:
    """Per-neuron statistics of several runs of one model.

    Attributes:
        seeds: the runs' simulation seeds, in order.
        stats: ``stats[stat][pop]`` is a list (one entry per run, in ``seeds`` order) of 1-d
            arrays.
        window_ms: the analysis window ``(t_start, t_stop)`` the statistics were computed over.
        info: free-form description (scale, implementation, how it was made).
    """

    seeds: list[int]
    stats: dict[str, dict[str, list[np.ndarray]]]
    window_ms: tuple[float, float]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def populations(self) -> list[str]:
        return list(self.stats["rate"])

    @classmethod
    def from_runs(
        cls,
        runs: Sequence[Mapping[str, Mapping[str, np.ndarray]]],
        seeds: Sequence[int],
        window_ms: tuple[float, float],
        info: Mapping[str, Any] | None = None,
    ) -> Ensemble:
        """Build from the outputs of :func:`run_statistics`, one per seed."""
        if len(runs) != len(seeds):
            raise ValueError(f"{len(runs)} runs but {len(seeds)} seeds")
        if not runs:
            raise ValueError("an ensemble needs at least one run")
        pops = list(runs[0]["rate"])
        stats = {s: {p: [quantize(s, r[s][p]) for r in runs] for p in pops} for s in STATISTICS}
        return cls([int(x) for x in seeds], stats, (float(window_ms[0]), float(window_ms[1])), dict(info or {}))


def compare(
    candidate: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    quantile: float = DEFAULT_QUANTILE,
    factor: float = DEFAULT_FACTOR,
    min_samples: int = DEFAULT_MIN_SAMPLES,
) -> dict[str, Any]:
    """One cell of the verdict: candidate runs against reference seeds for one statistic.

    Args:
        candidate: one 1-d sample per candidate run.
        reference: one 1-d sample per reference seed (at least two).
        quantile: quantile of the seed-to-seed distances that bounds the candidate's.
        factor: the bound is ``factor`` x that quantile.
        min_samples: every sample needs at least this many values, else "undetermined".

    Returns:
        ``{"status": "pass"|"fail"|"undetermined", "n_candidate": [...], "n_reference": [...],
        "candidate_mean", "reference_mean", and per measure m: "m_candidate" (median of the
        candidate-vs-reference distances), "m_candidate_all" (all of them, candidate-major),
        "m_seed_to_seed" (all reference pairs), "m_threshold", "m_pass"}``.
    """
    if len(reference) < 2:
        raise ValueError("the reference needs at least two seeds for a seed-to-seed spread")
    if not candidate:
        raise ValueError("no candidate runs")
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"quantile must lie in (0, 1], got {quantile}")
    if not factor > 0:
        raise ValueError(f"factor must be > 0, got {factor}")
    cand = [np.asarray(c, float) for c in candidate]
    ref = [np.asarray(r, float) for r in reference]
    cell: dict[str, Any] = {
        "n_candidate": [int(c.size) for c in cand],
        "n_reference": [int(r.size) for r in ref],
    }
    pooled_c, pooled_r = np.concatenate(cand), np.concatenate(ref)
    cell["candidate_mean"] = float(pooled_c.mean()) if pooled_c.size else float("nan")
    cell["reference_mean"] = float(pooled_r.mean()) if pooled_r.size else float("nan")
    if min(c.size for c in cand) < min_samples or min(r.size for r in ref) < min_samples:
        cell["status"] = "undetermined"
        for m in MEASURES:
            cell.update({f"{m}_candidate": float("nan"), f"{m}_candidate_all": [], f"{m}_seed_to_seed": [],
                         f"{m}_threshold": float("nan"), f"{m}_pass": None})
        return cell
    passes = []
    for m in MEASURES:
        f = _MEASURE_FUNCS[m]
        spread = np.array([f(ref[j], ref[k]) for j, k in combinations(range(len(ref)), 2)])
        dists = np.array([f(c, r) for c in cand for r in ref])
        threshold = factor * float(np.quantile(spread, quantile))
        value = float(np.median(dists))
        ok = bool(value <= threshold)
        passes.append(ok)
        cell.update({
            f"{m}_candidate": value,
            f"{m}_candidate_all": dists.tolist(),
            f"{m}_seed_to_seed": spread.tolist(),
            f"{m}_threshold": threshold,
            f"{m}_pass": ok,
        })
    cell["status"] = "pass" if all(passes) else "fail"
    return cell


#: Columns of validation.csv, in order.
COLUMNS = [
    "population",
    "statistic",
    "status",
    "candidate_mean",
    "reference_mean",
    "ks_candidate",
    "ks_seed_to_seed_median",
    "ks_seed_to_seed_max",
    "ks_threshold",
    "ks_pass",
    "effect_candidate",
    "effect_seed_to_seed_median",
    "effect_seed_to_seed_max",
    "effect_threshold",
    "effect_pass",
    "n_candidate_min",
    "n_reference_min",
]


def _row(pop: str, stat: str, cell: Mapping[str, Any]) -> dict[str, Any]:
    row = {"population": pop, "statistic": stat, "status": cell["status"],
           "candidate_mean": cell["candidate_mean"], "reference_mean": cell["reference_mean"],
           "n_candidate_min": min(cell["n_candidate"]), "n_reference_min": min(cell["n_reference"])}
    for m in MEASURES:
        spread = np.asarray(cell[f"{m}_seed_to_seed"], float)
        row[f"{m}_candidate"] = cell[f"{m}_candidate"]
        row[f"{m}_seed_to_seed_median"] = float(np.median(spread)) if spread.size else float("nan")
        row[f"{m}_seed_to_seed_max"] = float(spread.max()) if spread.size else float("nan")
        row[f"{m}_threshold"] = cell[f"{m}_threshold"]
        row[f"{m}_pass"] = cell[f"{m}_pass"]
    return row


def validate(
    candidate: Ensemble,
    reference: Ensemble,
    quantile: float = DEFAULT_QUANTILE,
    factor: float = DEFAULT_FACTOR,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    window_tolerance_ms: float = 1e-6,
) -> dict[str, Any]:
    """The verdict of a candidate ensemble against a reference ensemble (see the module's rule).

    Refuses (``ValueError``) a candidate whose populations differ from the reference's, whose
    analysis window has another length (the statistics depend on it), or which shares a seed
    with the reference.

    Returns:
        ``{"verdict": "PASS"|"FAIL", "rule": text, "quantile", "factor", "min_samples",
        "candidate_seeds", "reference_seeds", "window_ms", "n_pass", "n_fail",
        "n_undetermined", "failed": ["POP/stat", ...], "rows": [table rows, COLUMNS],
        "cells": {pop: {stat: compare(...)}}}``.
    """
    if candidate.populations != reference.populations:
        raise ValueError(
            f"the candidate's populations {candidate.populations} differ from the reference's "
            f"{reference.populations}"
        )
    len_c = candidate.window_ms[1] - candidate.window_ms[0]
    len_r = reference.window_ms[1] - reference.window_ms[0]
    if abs(len_c - len_r) > window_tolerance_ms:
        raise ValueError(
            f"the candidate's analysis window is {len_c:g} ms long but the reference's is "
            f"{len_r:g} ms; the statistics depend on it, so the windows must be equally long"
        )
    shared = sorted(set(candidate.seeds) & set(reference.seeds))
    if shared:
        raise ValueError(
            f"candidate seed(s) {shared} are seeds of the reference too; equal seeds give equal "
            "spikes and prove nothing: run the candidate with other seeds"
        )
    cells: dict[str, dict[str, Any]] = {}
    rows = []
    for pop in reference.populations:
        cells[pop] = {}
        for stat in STATISTICS:
            cell = compare(candidate.stats[stat][pop], reference.stats[stat][pop], quantile, factor, min_samples)
            cells[pop][stat] = cell
            rows.append(_row(pop, stat, cell))
    failed = [f"{r['population']}/{r['statistic']}" for r in rows if r["status"] == "fail"]
    n_pass = sum(r["status"] == "pass" for r in rows)
    return {
        "verdict": "FAIL" if failed else ("PASS" if n_pass else "UNDETERMINED"),
        "rule": rule_text(quantile, factor, min_samples),
        "quantile": quantile,
        "factor": factor,
        "min_samples": min_samples,
        "candidate_seeds": list(candidate.seeds),
        "reference_seeds": list(reference.seeds),
        "candidate_window_ms": list(candidate.window_ms),
        "reference_window_ms": list(reference.window_ms),
        "n_pass": n_pass,
        "n_fail": len(failed),
        "n_undetermined": sum(r["status"] == "undetermined" for r in rows),
        "failed": failed,
        "rows": rows,
        "cells": cells,
    }


def summary_line(result: Mapping[str, Any], reference_name: str = "the reference") -> str:
    """One line for the report and the terminal."""
    total = result["n_pass"] + result["n_fail"]
    q = result["quantile"]
    which = "maximum" if q == 1.0 else f"{100 * q:g}th percentile"
    text = (
        f"validation against {reference_name} ({len(result['reference_seeds'])} seeds): "
        f"{result['verdict']} - {result['n_pass']}/{total} population-statistic cells within the "
        f"reference's seed-to-seed spread (<= {result['factor']:g} x its "
        f"{which}; KS and effect size)"
    )
    if result["n_undetermined"]:
        text += f", {result['n_undetermined']} undetermined"
    if result["failed"]:
        text += "; failed: " + ", ".join(result["failed"])
    return text


# --------------------------------------------------------------------------- spikes files
def ensemble_from_spikes(
    datas: Iterable[Any],
    window_length_ms: float | None = None,
    corr_bin_ms: float = DEFAULT_CORR_BIN_MS,
    corr_sample: int = DEFAULT_CORR_SAMPLE,
    min_spikes: int = DEFAULT_MIN_SPIKES,
    sample_seed: int = DEFAULT_SAMPLE_SEED,
) -> Ensemble:
    """An ensemble from :class:`spikeflow.io.spikes.SpikeData` objects (one per run).

    Each run is analysed from the end of its presimulation, over ``window_length_ms`` (default:
    the whole simulated time). All runs must give the same window.
    """
    runs, seeds, windows = [], [], []
    for data in datas:
        t0 = data.t_presim
        t1 = data.t_stop if window_length_ms is None else t0 + float(window_length_ms)
        if t1 > data.t_stop + 1e-9:
            raise ValueError(
                f"run {data.metadata.get('run_id')!r} ends at {data.t_stop:g} ms, before the "
                f"window ({t0:g}, {t1:g}] ms ends"
            )
        seed = int(data.metadata.get("seed", 0))
        pops = {name: (p.node_ids, p.times, p.n_nodes) for name, p in data.populations.items()}
        runs.append(run_statistics(pops, t0, t1, corr_bin_ms, corr_sample, min_spikes, sample_seed, seed))
        seeds.append(seed)
        windows.append((t0, t1))
    if not runs:
        raise ValueError("no candidate runs")
    if len(set(windows)) != 1:
        raise ValueError(f"the candidate runs have different analysis windows: {sorted(set(windows))}")
    return Ensemble.from_runs(runs, seeds, windows[0])


# --------------------------------------------------------------------------- candidate runs against a reference
def _reference_name(reference: Ensemble) -> str:
    return str(reference.info.get("name", "the reference"))


def _check_model(datas: Sequence[Any], reference: Ensemble) -> list[str]:
    """Differences between the candidate runs' model and the reference's (warnings, not errors)."""
    notes = []
    model = reference.info.get("model", {})
    want = model.get("N_scaling")
    for data in datas:
        cfg = data.metadata.get("config") or {}
        params = cfg.get("params") or {}
        got = params.get("N_scaling")
        run = data.metadata.get("run_id")
        if data.metadata.get("model") not in (None, "pd14") and want is not None:
            notes.append(f"run {run!r} is model {data.metadata.get('model')!r}, the reference is pd14")
        if want is not None and got is not None and abs(float(got) - float(want)) > 1e-12:
            notes.append(f"run {run!r} has N_scaling {got}, the reference {want}")
    return notes


def validate_runs(
    datas: Sequence[Any],
    reference: Ensemble,
    quantile: float = DEFAULT_QUANTILE,
    factor: float = DEFAULT_FACTOR,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    spikes_files: Sequence[str | os.PathLike] = (),
) -> dict[str, Any]:
    """The verdict of candidate runs against a reference ensemble, as the validation.json document.

    Computes the candidates' statistics over a window as long as the reference's (from the end
    of each run's presimulation, with the reference's correlation bin, sample size, CV
    threshold and sampling seed: its ``info["statistics"]``) and validates them
    (:func:`validate`).

    Args:
        datas: the candidate runs (:class:`spikeflow.io.spikes.SpikeData`), seeds disjoint from
            the reference's.
        reference: the reference ensemble (:func:`spikeflow.io.references.load_reference`).
        quantile, factor, min_samples: the rule's parameters (:func:`validate`).
        spikes_files: the candidates' spikes files, as the document names them.

    Returns:
        ``{"verdict", "summary" (one line), "rule", "reference": {name, path, implementation,
        nest_version, seeds, window_ms, model, statistics}, "candidate": {spikes_files,
        run_ids, seeds, window_ms}, "notes": [model mismatches], "quantile", "factor",
        "min_samples", "n_pass", "n_fail", "n_undetermined", "failed", "rows" (COLUMNS),
        "cells": {pop: {stat: compare(...)}}}``.
    """
    opts = reference.info.get("statistics", {})
    length = reference.window_ms[1] - reference.window_ms[0]
    cand = ensemble_from_spikes(
        datas,
        window_length_ms=length,
        corr_bin_ms=float(opts.get("corr_bin_ms", DEFAULT_CORR_BIN_MS)),
        corr_sample=int(opts.get("corr_sample", DEFAULT_CORR_SAMPLE)),
        min_spikes=int(opts.get("min_spikes_for_cv", DEFAULT_MIN_SPIKES)),
        sample_seed=int(opts.get("sample_seed", DEFAULT_SAMPLE_SEED)),
    )
    result = validate(cand, reference, quantile=quantile, factor=factor, min_samples=min_samples)
    name = _reference_name(reference)
    return {
        "verdict": result["verdict"],
        "summary": summary_line(result, name),
        "rule": result["rule"],
        "reference": {
            "name": name,
            "path": reference.info.get("path"),
            "implementation": reference.info.get("implementation"),
            "nest_version": reference.info.get("nest_version"),
            "seeds": reference.seeds,
            "window_ms": list(reference.window_ms),
            "model": reference.info.get("model"),
            "statistics": opts,
        },
        "candidate": {
            "spikes_files": [str(p) for p in spikes_files],
            "run_ids": [d.metadata.get("run_id") for d in datas],
            "seeds": cand.seeds,
            "window_ms": list(cand.window_ms),
        },
        "notes": _check_model(datas, reference),
        **{k: result[k] for k in ("quantile", "factor", "min_samples", "n_pass", "n_fail", "n_undetermined", "failed", "rows", "cells")},
    }


def validation_text(document: Mapping[str, Any]) -> str:
    """The validation.txt text: the summary line, the rule and any notes, one per line."""
    return f"{document['summary']}\nrule: {document['rule']}\n" + "".join(f"note: {n}\n" for n in document["notes"])


def figure_title(document: Mapping[str, Any]) -> str:
    """The validation figure's title: reference, verdict and how many determined cells pass."""
    name = document["reference"]["name"]
    return (f"validation against {name}: {document['verdict']} "
            f"({document['n_pass']}/{document['n_pass'] + document['n_fail']} cells pass)")


def format_validation(document: Mapping[str, Any]) -> str:
    """The terminal text of a validation.json document (:func:`validate_runs`): the table in short, then the summary line."""
    header = (f"{'population':<10} {'statistic':<9} {'KS':>7} {'KS max':>7} {'KS thr':>7} "
              f"{'effect':>7} {'eff thr':>7}  status")
    lines = [header]
    for r in document["rows"]:
        def f(x):
            return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"
        lines.append(f"{r['population']:<10} {r['statistic']:<9} {f(r['ks_candidate']):>7} "
                     f"{f(r['ks_seed_to_seed_max']):>7} {f(r['ks_threshold']):>7} "
                     f"{f(r['effect_candidate']):>7} {f(r['effect_threshold']):>7}  {r['status']}")
    lines += [f"note: {n}" for n in document.get("notes", [])]
    lines += ["", document["summary"], f"rule: {document['rule']}"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- clustered vs mean field
def meanfield_verdict(data: Any, tolerance: float = 0.10, t_start: float | None = None, t_stop: float | None = None) -> dict[str, Any]:
    """Verdict of a clustered run at J+ = 1 against its mean field: E and I rates within ``tolerance``.

    The mean field is the self-consistent rate ``nu = Phi(nu)`` of the run's own parameters
    (:func:`spikeflow.meanfield.rate_map`, solved from 5 spikes/s everywhere); at J+ = 1 (no
    potentiation) the network has one uniform asynchronous state, the one the mean field
    describes. For each type (E, I) the simulated rate (spikes of all that type's populations
    in ``(t_start, t_stop]``, NEST's window, default the simulation phase, per neuron and second) passes when
    ``|simulated / mean field - 1| <= tolerance``; the verdict is PASS when both pass.

    Args:
        data: a :class:`spikeflow.io.spikes.SpikeData` of a clustered run (its metadata holds
            the resolved config).
        tolerance: relative tolerance (default 10 %, the bound the NEST tests hold).
        t_start, t_stop: analysis window in ms.

    Returns:
        ``{"verdict", "rule", "tolerance", "window_ms", "types": {"E": {"simulated_hz",
        "meanfield_hz", "relative_difference", "pass"}, "I": {...}}, "summary"}``.
    """
    from functools import partial

    from scipy import optimize

    from spikeflow.meanfield import rate_map
    from spikeflow.models.clustered.params import derive, resolve_params

    cfg = data.metadata.get("config") or {}
    if data.metadata.get("model", cfg.get("model")) != "clustered":
        raise ValueError(f"the mean-field verdict is for the clustered model, not {data.metadata.get('model')!r}")
    params = resolve_params(cfg.get("params") or {})
    if params.get("potentiate") and any(float(j) != 1.0 for j in params.get("j_potentiated", [])):
        raise ValueError(
            "the mean-field verdict needs J+ = 1 (params.potentiate false, or every j_potentiated 1): "
            "with potentiated clusters the network visits many states and one fixed point does not describe it"
        )
    net = derive(params)
    phi = partial(rate_map, network=net.lif_network())
    sol = optimize.root(lambda r: phi(r) - r, np.full(net.n_pop, 5.0), tol=1e-12)
    if not sol.success:
        raise ValueError(f"the mean-field fixed point was not found: {sol.message}")
    nu = sol.x
    t0 = data.t_presim if t_start is None else float(t_start)
    t1 = data.t_stop if t_stop is None else float(t_stop)
    types = {}
    for kind in ("E", "I"):
        idx = [i for i, t in enumerate(net.types) if t == kind]
        expected = float(np.average(nu[idx], weights=np.asarray(net.sizes)[idx]))
        names = [net.names[i] for i in idx]
        size = sum(data.populations[n].n_nodes for n in names)
        spikes = sum(float(st.per_neuron_rates(data.populations[n].node_ids, data.populations[n].times,
                                               data.populations[n].n_nodes, t0, t1).sum()) for n in names)
        simulated = spikes / size
        rel = simulated / expected - 1.0
        types[kind] = {"simulated_hz": simulated, "meanfield_hz": expected, "relative_difference": rel,
                       "pass": bool(abs(rel) <= tolerance)}
    verdict = "PASS" if all(t["pass"] for t in types.values()) else "FAIL"
    rule = (f"at J+ = 1 the mean rate of the E and of the I neurons lies within {100 * tolerance:g} % "
            "of the mean field's self-consistent rate (both must)")
    summary = (f"mean-field validation: {verdict} - E {types['E']['simulated_hz']:.2f} vs "
               f"{types['E']['meanfield_hz']:.2f} spikes/s ({100 * types['E']['relative_difference']:+.1f} %), "
               f"I {types['I']['simulated_hz']:.2f} vs {types['I']['meanfield_hz']:.2f} spikes/s "
               f"({100 * types['I']['relative_difference']:+.1f} %); tolerance {100 * tolerance:g} %")
    return {"verdict": verdict, "rule": rule, "tolerance": tolerance, "window_ms": [t0, t1],
            "types": types, "summary": summary}


def combine_meanfield_verdicts(runs: Sequence[Mapping[str, Any]], tolerance: float = 0.10) -> dict[str, Any]:
    """One verdict over several runs' :func:`meanfield_verdict` results: PASS when every run passes.

    Args:
        runs: the runs' results (each may carry ``run_id`` and ``spikes_file`` beside
            :func:`meanfield_verdict`'s keys).
        tolerance: the relative tolerance the runs were judged with.

    Returns:
        ``{"verdict", "summary" (one line: the run's own for a single run), "rule",
        "tolerance", "n_runs", "n_pass", "runs": [...]}``.

    Raises:
        ValueError: without runs.
    """
    if not runs:
        raise ValueError("the mean-field verdict needs at least one run")
    n_pass = sum(r["verdict"] == "PASS" for r in runs)
    verdict = "PASS" if n_pass == len(runs) else "FAIL"
    if len(runs) == 1:
        summary = runs[0]["summary"]
    else:
        spans = []
        for kind in ("E", "I"):
            rel = [100 * r["types"][kind]["relative_difference"] for r in runs]
            spans.append(f"{kind} {min(rel):+.1f} % to {max(rel):+.1f} %")
        summary = (f"mean-field validation: {verdict} - {n_pass}/{len(runs)} runs within {100 * tolerance:g} % "
                   f"of the mean field ({', '.join(spans)})")
    return {"verdict": verdict, "summary": summary, "rule": runs[0]["rule"], "tolerance": tolerance,
            "n_runs": len(runs), "n_pass": n_pass, "runs": list(runs)}
