"""The "rates" analysis of one run: per-population firing statistics, flags and figures.

For every population of a spikes file, over the analysis window (by default the recorded
time after the presimulation, ``(t_presim, t_stop]`` in ms, NEST's convention: a spike is
stamped at the end of its step), :func:`population_table`
computes firing rates, irregularity (ISI CV, LV), synchrony and spike-count correlations,
compares the mean rate with the model's reference rate when the metadata has one, and
flags populations that are silent or running away. :func:`rates_analysis` returns the
table with the per-neuron rates (:class:`RatesResult`, which also builds the rates.json
document); :func:`format_table` renders the table for the terminal. Reading the spikes file,
writing ``rates.csv``/``rates.json`` and drawing the figures is :mod:`spikeflow.tasks.rates`.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from spikeflow.analysis import spiketrains as st
from spikeflow.analysis.parallel import analysis_threads, map_in_threads
from spikeflow.io.spikes import SpikeData
from spikeflow.io.tables import format_cell, to_json_value  # to_json_value: re-exported

__all__ = ["COLUMNS", "RatesResult", "population_table", "rates_analysis", "format_table", "to_json_value"]

#: Columns of the table, in order (also the CSV header).
COLUMNS = [
    "population",
    "n_nodes",
    "n_spikes",
    "mean_rate_hz",
    "rate_median_hz",
    "rate_std_hz",
    "fraction_silent",
    "cv_isi_mean",
    "cv_isi_median",
    "lv_mean",
    "synchrony",
    "corr_mean",
    "corr_std",
    "n_corr_pairs",
    "reference_rate_hz",
    "rate_ratio_to_reference",
    "flag",
]


def _nan_stat(func, values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(func(values)) if values.size else float("nan")


def analysis_window(
    data: SpikeData, t_start: float | None = None, t_stop: float | None = None
) -> tuple[float, float]:
    """The analysis window ``(t0, t1]`` in ms (NEST's convention): defaults ``(data.t_presim, data.t_stop]``."""
    t0 = data.t_presim if t_start is None else float(t_start)
    t1 = data.t_stop if t_stop is None else float(t_stop)
    if not t1 > t0:
        raise ValueError(f"empty analysis window ({t0}, {t1}] ms")
    return t0, t1


def population_table(
    data: SpikeData,
    t_start: float | None = None,
    t_stop: float | None = None,
    synchrony_bin_ms: float = 3.0,
    corr_bin_ms: float = 2.0,
    corr_sample: int = 50,
    seed: int = 0,
    silent_below_hz: float = 0.1,
    runaway_above_hz: float = 50.0,
    min_spikes: int = 3,
) -> list[dict[str, Any]]:
    """Firing statistics of every population of a run, one row per population.

    Args:
        data: the run's spikes and metadata.
        t_start: window start in ms, exclusive (default ``data.t_presim``: the
            presimulation is excluded, and its last spikes, stamped ``t_presim``, with it).
        t_stop: window end in ms, inclusive (default ``data.t_stop``).
        synchrony_bin_ms: bin width in ms of the population histogram for synchrony.
        corr_bin_ms: bin width in ms of the spike counts for correlations.
        corr_sample: neurons sampled per population for correlations (among those that
            spike in the window; see
            :func:`spikeflow.analysis.spiketrains.spike_count_correlations`).
        seed: seed of the correlation sampling; population i (model order) samples with
            the i-th child of ``np.random.SeedSequence(seed)``, so every population gets
            its own reproducible stream.
        silent_below_hz: a population whose mean rate is below this (spikes/s) is flagged
            "silent".
        runaway_above_hz: a population whose mean rate is above this (spikes/s) is
            flagged "runaway".
        min_spikes: neurons need at least this many spikes in the window for ISI CV/LV.

    Returns:
        One dict per population in model order with the keys of :data:`COLUMNS`:

        * ``population`` (str), ``n_nodes`` (int), ``n_spikes`` (int, in the window);
        * ``mean_rate_hz``, ``rate_median_hz``, ``rate_std_hz``: mean, median and
          standard deviation (ddof=0) of the per-neuron rates in spikes/s, silent neurons
          included;
        * ``fraction_silent``: fraction of neurons without any spike in the window;
        * ``cv_isi_mean``, ``cv_isi_median``, ``lv_mean``: over neurons with at least
          ``min_spikes`` spikes;
        * ``synchrony``: variance/mean of the population count histogram;
        * ``corr_mean``, ``corr_std`` (ddof=0), ``n_corr_pairs``: over the pairwise
          spike-count correlation coefficients of the sampled neurons (pairs with an
          undefined coefficient left out);
        * ``reference_rate_hz``: from metadata ``reference_rates_hz`` (None if absent);
        * ``rate_ratio_to_reference``: mean rate / reference rate (None if there is no
          non-zero reference);
        * ``flag``: "silent", "runaway" or "ok".

        A statistic that is undefined is NaN: all rate statistics of an empty population,
        CV/LV when no neuron has enough spikes, synchrony without spikes, correlations with
        fewer than two active neurons. :mod:`spikeflow.tasks.rates` writes NaN as null in JSON and
        as an empty cell in CSV.
    """
    rows, _ = _population_rows(
        data, t_start, t_stop, synchrony_bin_ms, corr_bin_ms, corr_sample, seed,
        silent_below_hz, runaway_above_hz, min_spikes,
    )
    return rows


def _population_rows(
    data: SpikeData,
    t_start: float | None,
    t_stop: float | None,
    synchrony_bin_ms: float,
    corr_bin_ms: float,
    corr_sample: int,
    seed: int,
    silent_below_hz: float,
    runaway_above_hz: float,
    min_spikes: int,
    threads: int = 1,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """:func:`population_table`'s rows, and the per-neuron rates (spikes/s) of each population.

    One pass per population: the window is a view of the time-sorted spikes, and the
    per-neuron spike counts and ISI sums come from one grouping shared by the rates, ISI CV
    and LV (the same numbers as :func:`spikeflow.analysis.spiketrains.per_neuron_rates`,
    ``isi_cv`` and ``local_variation``, bitwise). Populations are computed on up to
    ``threads`` threads (the numbers do not depend on it).
    """
    t0, t1 = analysis_window(data, t_start, t_stop)
    references = data.metadata.get("reference_rates_hz") or {}
    seeds = np.random.SeedSequence(seed).spawn(len(data.populations))

    def row_of(item: tuple[Any, np.random.SeedSequence]) -> tuple[dict[str, Any], np.ndarray]:
        pop, pop_seed = item
        ids, times, time_sorted = st._windowed(pop.node_ids, pop.times, t0, t1)
        st._check_ids(ids, pop.n_nodes)
        sums = st._isi_sums(ids, times, time_sorted, pop.n_nodes)
        rates = sums["counts"] / ((t1 - t0) / 1000.0)
        cvs, _ = st._cv_values(sums, max(min_spikes, 2))
        lvs, _ = st._lv_values(sums, max(min_spikes, 3))
        del sums
        corrs = st.spike_count_correlations(
            ids,
            times,
            pop.n_nodes,
            t0,
            t1,
            bin_ms=corr_bin_ms,
            n_sample=corr_sample,
            rng=np.random.default_rng(pop_seed),
        )
        corrs = corrs[np.isfinite(corrs)]
        mean_rate = float(rates.mean()) if rates.size else float("nan")
        reference = references.get(pop.name)
        reference = None if reference is None else float(reference)
        ratio = mean_rate / reference if reference else None
        if mean_rate < silent_below_hz or math.isnan(mean_rate):
            flag = "silent"
        elif mean_rate > runaway_above_hz:
            flag = "runaway"
        else:
            flag = "ok"
        row = {
            "population": pop.name,
            "n_nodes": int(pop.n_nodes),
            "n_spikes": int(times.size),
            "mean_rate_hz": mean_rate,
            "rate_median_hz": _nan_stat(np.median, rates),
            "rate_std_hz": _nan_stat(np.std, rates),
            "fraction_silent": (float(np.mean(rates == 0)) if rates.size else float("nan")),
            "cv_isi_mean": _nan_stat(np.mean, cvs),
            "cv_isi_median": _nan_stat(np.median, cvs),
            "lv_mean": _nan_stat(np.mean, lvs),
            "synchrony": st.synchrony(times, t0, t1, bin_ms=synchrony_bin_ms),
            "corr_mean": _nan_stat(np.mean, corrs),
            "corr_std": _nan_stat(np.std, corrs),
            "n_corr_pairs": int(corrs.size),
            "reference_rate_hz": reference,
            "rate_ratio_to_reference": ratio,
            "flag": flag,
        }
        return row, rates

    # populations are independent: each on a thread of its own, computed exactly as alone
    done = map_in_threads(row_of, zip(data.populations.values(), seeds), threads)
    rows = [row for row, _ in done]
    all_rates = {row["population"]: rates for row, rates in done}
    return rows, all_rates


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: row.get(key) for key in COLUMNS}


@dataclass(frozen=True)
class RatesResult:
    """The rates analysis of one run: the table, the per-neuron rates and what it was computed with.

    Attributes:
        rows: the rows of :func:`population_table`, one per population in model order.
        rates_hz: population name -> per-neuron rates in spikes/s, shape (n_nodes,), silent
            neurons included (what the rate box plot draws).
        window_ms: the analysis window ``(t0, t1)`` in ms.
        options: every :func:`population_table` option in effect, the window excepted.
        run_id: the run's id (metadata ``run_id``; None if absent).
        model: the run's model (metadata ``model``; None if absent).
    """

    rows: list[dict[str, Any]]
    rates_hz: dict[str, np.ndarray]
    window_ms: tuple[float, float]
    options: dict[str, Any]
    run_id: Any = None
    model: Any = None

    def document(self, spikes_file: str) -> dict[str, Any]:
        """The rates.json document.

        Args:
            spikes_file: the analysed spikes file, as the document names it.

        Returns:
            ``{"run_id", "model", "spikes_file", "window_ms": [t0, t1], "options",
            "populations": [rows, keys of COLUMNS], "flags": {population: flag}}``, where
            ``flags`` lists only populations whose flag is not "ok" (NaN still NaN; the
            writer turns it into null).
        """
        return {
            "run_id": self.run_id,
            "model": self.model,
            "spikes_file": str(spikes_file),
            "window_ms": list(self.window_ms),
            "options": self.options,
            "populations": [_public(row) for row in self.rows],
            "flags": {row["population"]: row["flag"] for row in self.rows if row["flag"] != "ok"},
        }


def rates_analysis(data: SpikeData, threads: int | None = None, **options: Any) -> RatesResult:
    """The rates analysis of one run's spikes (no files read or written).

    Args:
        data: the run's spikes and metadata.
        threads: populations analysed at once (default
            :func:`spikeflow.analysis.parallel.analysis_threads`: ``OMP_NUM_THREADS``, which
            Snakemake sets to a job's threads, else the CPUs of this process); the results do
            not depend on it.
        **options: :func:`population_table`'s options (t_start, t_stop, synchrony_bin_ms,
            corr_bin_ms, corr_sample, seed, silent_below_hz, runaway_above_hz, min_spikes);
            the others keep their defaults.

    Returns:
        The :class:`RatesResult`.

    Raises:
        TypeError: for an option :func:`population_table` does not have.
    """
    parameters = inspect.signature(population_table).parameters
    unknown = sorted(set(options) - (set(parameters) - {"data"}))
    if unknown:
        raise TypeError(f"population_table() got an unexpected keyword argument {unknown[0]!r}")
    every = {name: options.get(name, parameter.default) for name, parameter in parameters.items() if name != "data"}
    rows, rates = _population_rows(data, **every, threads=analysis_threads() if threads is None else int(threads))
    t0, t1 = analysis_window(data, options.get("t_start"), options.get("t_stop"))
    effective = {name: value for name, value in every.items() if name not in ("t_start", "t_stop")}
    return RatesResult(rows, rates, (t0, t1), effective, data.metadata.get("run_id"), data.metadata.get("model"))


_TEXT_COLUMNS = [
    # header, key, width, format
    ("population", "population", 10, "s"),
    ("neurons", "n_nodes", 8, "d"),
    ("spikes", "n_spikes", 10, "d"),
    ("rate/Hz", "mean_rate_hz", 8, ".3f"),
    ("median", "rate_median_hz", 8, ".3f"),
    ("std", "rate_std_hz", 8, ".3f"),
    ("silent", "fraction_silent", 7, ".1%"),
    ("CV ISI", "cv_isi_mean", 7, ".3f"),
    ("LV", "lv_mean", 7, ".3f"),
    ("sync", "synchrony", 7, ".2f"),
    ("corr", "corr_mean", 8, ".4f"),
    ("ref/Hz", "reference_rate_hz", 8, ".3f"),
    ("ratio", "rate_ratio_to_reference", 7, ".2f"),
    ("flag", "flag", 7, "s"),
]


def format_table(
    rows: Iterable[Mapping[str, Any]],
    silent_below_hz: float = 0.1,
    runaway_above_hz: float = 50.0,
) -> str:
    """Render the table as fixed-width text for the terminal.

    Rates are in spikes/s ("Hz"); "silent" is the fraction of neurons without spikes;
    "-" marks an undefined (NaN) or missing value. After the table comes one line per
    flagged population, e.g. ``WARNING: L23E is silent (0.00 spikes/s < 0.1)``.

    Args:
        rows: rows of :func:`population_table` (or the "populations" of rates.json).
        silent_below_hz: the threshold the rows were flagged with (only quoted in the
            warning lines; the flags themselves come from the rows).
        runaway_above_hz: likewise for "runaway".

    Returns:
        The text, lines separated by newlines, without a trailing newline.
    """
    rows = list(rows)
    header = " ".join(
        f"{title:<{width}}" if fmt == "s" else f"{title:>{width}}"
        for title, _, width, fmt in _TEXT_COLUMNS
    )
    lines = [header.rstrip(), "-" * len(header.rstrip())]
    for row in rows:
        cells = []
        for _, key, width, fmt in _TEXT_COLUMNS:
            text = format_cell(row.get(key), fmt)
            cells.append(f"{text:<{width}}" if fmt == "s" else f"{text:>{width}}")
        lines.append(" ".join(cells).rstrip())
    for row in rows:
        flag = row.get("flag")
        if flag in (None, "ok"):
            continue
        rate_text = format_cell(row.get("mean_rate_hz"), ".2f")
        if flag == "silent":
            detail = f"{rate_text} spikes/s < {silent_below_hz:g}"
        elif flag == "runaway":
            detail = f"{rate_text} spikes/s > {runaway_above_hz:g}"
        else:
            detail = f"{rate_text} spikes/s"
        lines.append(f"WARNING: {row['population']} is {flag} ({detail})")
    return "\n".join(lines)
