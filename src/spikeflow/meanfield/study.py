"""Mean-field study of a clustered E/I network: fixed points, their stability, states, landscape.

:func:`meanfield_study` derives the network from a config's ``params`` section
(:func:`spikeflow.models.clustered.params.derive`), searches the fixed points of
``nu = Phi(nu)``, takes the stability of each from the eigenvalues of the Jacobian
``-I + dPhi/dnu`` (analytic derivative of the Siegert formula, the same numbers as the
finite-difference :func:`spikeflow.meanfield.stability`), classifies each fixed point by its
number ``k`` of co-active excitatory clusters, groups fixed points that differ only by a
permutation of the clusters into *states*, and optionally computes the reduced landscape of
two focus clusters (:func:`spikeflow.meanfield.landscape.reduced_landscape`).

**The search, and why its result does not depend on rounding.** Starts: ``n_init`` random rate
vectors and, with ``patterns``, for every ``k = 0..Q`` the pattern of ``k`` active clusters
(:func:`pattern_starts`) at the active rates :data:`PATTERN_RATES` times ``max_init_rate`` (at
J+ = 16.85 of the toolkit network these reach all 18 pure orbits that starts at 41 active rates
from 10 to 50 Hz reach: k = 0-9 on the high branch and k = 7, 8, 12-17 on the low one). The
random starts are solved by MINPACK ``hybr`` with the analytic Jacobian
(:meth:`~spikeflow.meanfield.landscape.RateModel.phi_and_jacobian`); every root is polished by
Newton's method to a residual at rounding level (:func:`spikeflow.meanfield.fixed_points.polish`). When
the clusters are identical (:func:`spikeflow.meanfield.symmetry.is_cluster_symmetric`; the
clustered presets are; otherwise they go to hybr too), the pattern starts are solved by hybr
inside their symmetric subspaces (one rate per (level, type):
:func:`~spikeflow.meanfield.symmetry.solve_levels`), so the pure ``k``-cluster
states are found systematically, and every fixed point is reported by the canonical member of
its *orbit* (clusters ordered by decreasing rate,
:func:`~spikeflow.meanfield.symmetry.canonical_form`) with the orbit's size (the number of
distinct fixed points its cluster permutations give). Which permutation a start reaches, and how
many starts reach an orbit, therefore change nothing reported. Fixed points closer than
:data:`DEDUP_RTOL` relative to their rates are one. With forward differences instead of the
analytic Jacobian a change of ``Phi`` by one ulp (another quadrature rule of the Siegert integral,
a different BLAS) made 5 of 69 starts converge elsewhere; with it they all land on the same fixed
points (the test in tests/unit/test_meanfield_study.py compares the two quadrature rules and
``Phi`` scaled by 1 +- 4e-16).

**Co-active clusters.** With ``r`` the rates of the Q excitatory clusters (background not
included) of a fixed point: if ``max r - min r < 0.5 Hz`` the fixed point is *uniform*,
``k = 0``. Otherwise the threshold lies in the middle of the largest gap between
consecutive sorted rates (or is the fixed ``active_threshold`` if given) and ``k`` is the
number of clusters above it. A state is *pure* when the E-cluster rates take at most two
values (within 0.05 Hz): one active and one inactive level; mixed states (an intermediate
cluster) are saddles in practice.

**States.** Fixed points are the same state when, after ordering the clusters by their E rate
(then their I partner's rate), all rates agree within 0.01 Hz. A state's ``n_fixed_points``
counts every member of its orbits (a pure k-cluster state of Q clusters: ``C(Q, k)``).

:func:`meanfield_document` and :func:`fixed_point_table` shape a study for ``meanfield.json``
(settings, states, fixed points, landscape summary) and ``fixed_points.csv`` (one row per fixed
point up to cluster permutation, all population rates); :func:`format_meanfield` renders the states for the terminal.
:mod:`spikeflow.tasks.meanfield` writes those and ``meanfield.h5`` (all arrays,
:mod:`spikeflow.io.meanfield`). Units: rates in Hz, eigenvalues in units of 1/tau (rate time constant),
potential in Hz^2.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spikeflow.meanfield.fixed_points import find_fixed_points, initial_rates, polish
from spikeflow.meanfield.landscape import Landscape, RateModel, reduced_landscape
from spikeflow.meanfield.stability import classify
from spikeflow.meanfield.symmetry import (
    canonical_form,
    is_cluster_symmetric,
    orbit_size,
    solve_levels,
)

__all__ = [
    "UNIFORM_SPREAD_HZ",
    "classify_fixed_point",
    "format_meanfield",
    "meanfield_study",
    "pattern_starts",
    "meanfield_document",
    "fixed_point_table",
    "n_fixed_points",
]

#: E-cluster rates spread less than this (Hz): the fixed point is uniform (k = 0).
UNIFORM_SPREAD_HZ = 0.5
#: Rates within this (Hz) count as one level when counting the levels of a fixed point.
LEVEL_TOL_HZ = 0.05
#: Fixed points whose cluster-ordered rates agree within this (Hz) are one state.
STATE_TOL_HZ = 0.01
#: Polished fixed points closer than this relative to ``max(1 Hz, max rate)`` (max norm) are one.
DEDUP_RTOL = 1e-7
#: A polished root counts as a fixed point if ``max |Phi(nu) - nu|`` is at most this (Hz).
RESIDUAL_TOL_HZ = 1e-7
#: Relative step tolerance of hybr; Newton's polish takes every root on to rounding level.
HYBR_TOL = 1e-9
#: Active rates of the pattern starts, as fractions of ``max_init_rate`` (see the module doc).
PATTERN_RATES = (0.8, 0.6, 0.38, 0.32, 0.28, 0.24)

SUMMARY_COLUMNS = (
    "k",
    "orbit_size",
    "rate_active_e_hz",
    "rate_inactive_e_hz",
    "rate_e_bg_hz",
    "rate_i_active_hz",
    "rate_i_inactive_hz",
    "rate_i_bg_hz",
    "verdict",
    "max_re_eig",
    "n_levels",
    "threshold_hz",
)


def _nanmean(x: np.ndarray) -> float:
    return float(np.mean(x)) if np.size(x) else float("nan")


def _levels(rates: np.ndarray, tol: float = LEVEL_TOL_HZ) -> int:
    """Number of distinct values in ``rates`` (consecutive sorted values closer than ``tol`` merge)."""
    if rates.size == 0:
        return 0
    return 1 + int(np.sum(np.diff(np.sort(rates)) > tol))


def classify_fixed_point(
    nu: np.ndarray, types: np.ndarray, cluster: np.ndarray, active_threshold: float | None = None
) -> dict[str, Any]:
    """Co-active clusters and mean rates of one fixed point (see the module doc for the rule).

    Args:
        nu: Rates in Hz, shape (N,).
        types: "E"/"I" per population, (N,).
        cluster: Cluster index per population, -1 for background, (N,).
        active_threshold: Fixed threshold in Hz; default: the middle of the largest gap.

    Returns:
        ``k``, ``active_clusters`` (cluster indices), ``threshold_hz``, ``n_levels`` and the mean
        rates (Hz): ``rate_active_e_hz``, ``rate_inactive_e_hz``, ``rate_e_bg_hz``,
        ``rate_i_active_hz``, ``rate_i_inactive_hz`` (I partners of the active / inactive
        clusters), ``rate_i_bg_hz`` (NaN where a group is empty).
    """
    e_idx = np.flatnonzero((types == "E") & (cluster >= 0))
    e_cl = cluster[e_idx]
    r = nu[e_idx]
    if active_threshold is not None:
        threshold = float(active_threshold)
    elif r.size == 0 or r.max() - r.min() < UNIFORM_SPREAD_HZ:
        threshold = float("inf")
    else:
        s = np.sort(r)
        gap = int(np.argmax(np.diff(s)))
        threshold = 0.5 * (s[gap] + s[gap + 1])
    active = np.sort(e_cl[r > threshold])
    i_idx = np.flatnonzero((types == "I") & (cluster >= 0))
    i_active = np.isin(cluster[i_idx], active)
    return {
        "k": int(active.size),
        "active_clusters": active.tolist(),
        "threshold_hz": threshold if np.isfinite(threshold) else None,
        "n_levels": _levels(r),
        "rate_active_e_hz": _nanmean(r[r > threshold]),
        "rate_inactive_e_hz": _nanmean(r[r <= threshold]),
        "rate_e_bg_hz": _nanmean(nu[(types == "E") & (cluster < 0)]),
        "rate_i_active_hz": _nanmean(nu[i_idx][i_active]),
        "rate_i_inactive_hz": _nanmean(nu[i_idx][~i_active]),
        "rate_i_bg_hz": _nanmean(nu[(types == "I") & (cluster < 0)]),
    }


def _canonical(nu: np.ndarray, types: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Rates with the clusters ordered by (E rate, I partner rate), descending; background last."""
    q = int(cluster.max()) + 1 if cluster.size and cluster.max() >= 0 else 0
    e_rate = np.full(q, np.nan)
    i_rate = np.full(q, np.nan)
    for t, arr in (("E", e_rate), ("I", i_rate)):
        idx = np.flatnonzero((types == t) & (cluster >= 0))
        arr[cluster[idx]] = nu[idx]
    e_key = np.nan_to_num(e_rate, nan=-1.0)
    i_key = np.nan_to_num(i_rate, nan=-1.0)
    order = np.lexsort((-i_key, -e_key))
    bg = nu[cluster < 0]
    return np.concatenate([e_key[order], i_key[order], bg])


def pattern_starts(
    types: np.ndarray, cluster: np.ndarray, high: float, low_e: float = 2.0, rate_i: float = 10.0
) -> np.ndarray:
    """Initial rates with k = 0..Q excitatory clusters active (clusters 0..k-1 at ``high`` Hz).

    Inactive E clusters and the E background start at ``low_e``, all I populations at
    ``rate_i`` (Hz). These reach the symmetric k-cluster states that random starts may miss.

    Returns:
        Rates in Hz, shape (Q + 1, N).
    """
    q = int(cluster.max()) + 1 if cluster.size and cluster.max() >= 0 else 0
    base = np.where(types == "E", low_e, rate_i).astype(float)
    starts = []
    for k in range(q + 1):
        nu = base.copy()
        nu[(types == "E") & (cluster >= 0) & (cluster < k)] = high
        starts.append(nu)
    return np.array(starts)


def _search(
    model: RateModel,
    nu0: np.ndarray,
    level_starts: np.ndarray | None,
    types: np.ndarray,
    cluster: np.ndarray,
    symmetric: bool,
):
    """The distinct polished fixed points from full-space starts ``nu0`` and symmetric-subspace ``level_starts``.

    ``level_starts`` (pattern starts, (n, N) Hz) are solved with the clusters at the start's
    rate levels held equal (:func:`~spikeflow.meanfield.symmetry.solve_levels`). With
    ``symmetric`` every fixed point is replaced by its canonical form. Returns
    :class:`~spikeflow.meanfield.fixed_points.FixedPoints` sorted by mean rate.
    """
    from spikeflow.meanfield.fixed_points import FixedPoints, _deduplicate

    n_pop = model.n_pop
    rates, residuals = [], []
    if len(nu0):
        fps = find_fixed_points(
            model.phi,
            n_pop,
            nu0=nu0,
            phi_and_jacobian=model.phi_and_jacobian,
            tol=HYBR_TOL,
            residual_tol=RESIDUAL_TOL_HZ,
        )
        rates += list(fps.rates)
        residuals += list(fps.residuals)
    if level_starts is not None and len(level_starts):
        e_idx = np.flatnonzero((types == "E") & (cluster >= 0))
        e = np.zeros((len(level_starts), int(cluster.max()) + 1))
        e[:, cluster[e_idx]] = level_starts[:, e_idx]
        levels = np.array([np.unique(-row, return_inverse=True)[1] for row in e])
        for start, lv in zip(level_starts, levels):
            nu = solve_levels(model, start, types, cluster, lv, tol=HYBR_TOL)
            if nu is None:
                continue
            nu, res = polish(model.phi_and_jacobian, nu)
            if res <= RESIDUAL_TOL_HZ:
                rates.append(nu)
                residuals.append(res)
    if symmetric:
        rates = [canonical_form(nu, types, cluster) for nu in rates]
        residuals = [float(np.max(np.abs(model.phi(nu) - nu))) for nu in rates]
    if not rates:
        return FixedPoints(np.empty((0, n_pop)), np.empty(0))
    rates = np.array(rates)
    scale = max(1.0, float(np.max(np.abs(rates))))
    return _deduplicate(rates, np.array(residuals), DEDUP_RTOL * scale)


def _focus_indices(focus: Sequence[str | int] | str | None, names: list[str], types, cluster) -> list[int]:
    if focus is None:
        e = [i for i in range(len(names)) if types[i] == "E" and cluster[i] >= 0]
        return e[:2]
    if isinstance(focus, str):
        focus = [f.strip() for f in focus.split(",") if f.strip()]
    out = []
    for f in focus:
        if isinstance(f, (int, np.integer)):
            if not 0 <= int(f) < len(names):
                raise ValueError(f"focus population index {f} is out of range 0..{len(names) - 1}")
            out.append(int(f))
        elif f in names:
            out.append(names.index(f))
        else:
            raise ValueError(f"focus population {f!r} is not one of {', '.join(names)}")
    if not 1 <= len(out) <= 2:
        raise ValueError(f"the landscape needs one or two focus populations, got {len(out)}")
    return out


def meanfield_study(
    params: Mapping[str, Any],
    *,
    n_init: int = 50,
    seed: int = 1,
    max_init_rate: float = 50.0,
    landscape: bool = True,
    focus: Sequence[str | int] | str | None = None,
    patterns: bool = True,
    active_threshold: float | None = None,
    landscape_step: float | None = None,
    landscape_max: float = 60.0,
    quadrature: str = "adaptive",
) -> dict[str, Any]:
    """Fixed points, stability, states and (optionally) the reduced landscape of a clustered network.

    Args:
        params: The config's ``params`` section (partial or resolved), e.g. ``{"preset": "vnm"}``.
        n_init: Random initial rate vectors, each entry from ``U[0, max_init_rate]`` Hz.
        seed: Seed of the random initial rates.
        max_init_rate: Upper end of the initial rates (Hz); the pattern starts' active rates
            are :data:`PATTERN_RATES` times it.
        landscape: Also compute the reduced landscape.
        focus: One or two focus populations of the landscape (names like ``"E0"``, indices, or
            ``"E0,E1"``); default the first two E clusters.
        patterns: Add the Q + 1 :func:`pattern_starts` at each of :data:`PATTERN_RATES` to
            the random ones.
        active_threshold: Fixed activity threshold in Hz (default: largest-gap rule).
        landscape_step: Grid step of the landscape in Hz (default: see
            :func:`~spikeflow.meanfield.landscape.reduced_landscape`).
        landscape_max: Upper end of the landscape grid in Hz.
        quadrature: The Siegert integral's rule, ``"adaptive"`` or ``"reference"``
            (:data:`spikeflow.meanfield.transfer.QUADRATURES`; both exact to rounding).

    Returns:
        A dict with ``populations`` (names, types, cluster, sizes), ``settings``,
        ``fixed_points`` (one summary dict per distinct fixed point up to cluster permutation,
        the canonical member of its orbit (clusters 0, 1, ... the most active) when the
        clusters are identical; see :data:`SUMMARY_COLUMNS` (``orbit_size``: how many fixed
        points it stands for), plus ``index``, ``state``, ``active_clusters``,
        ``residual_hz``), ``states`` (one dict per group of symmetric duplicates: ``state``,
        ``k``, ``pure``, ``n_fixed_points`` (all orbit members), ``members`` (indices into
        ``fixed_points``), the representative's summary, ``verdicts``), arrays ``rates``
        (n_fp, N) Hz, ``eigenvalues`` (n_fp, N) complex, ``jacobians`` (n_fp, N, N),
        ``residuals`` (n_fp,) Hz, ``landscape``
        (:class:`~spikeflow.meanfield.landscape.Landscape` or None), ``focus_names`` and
        ``elapsed_s``.

    Raises:
        ValueError: for bad arguments or parameters.
    """
    from spikeflow.models.clustered.params import derive, resolve_params

    if n_init < 0 or not max_init_rate > 0:
        raise ValueError(f"n_init must be >= 0 and max_init_rate > 0, got {n_init} and {max_init_rate}")
    t0 = time.perf_counter()
    net = derive(resolve_params(dict(params)))
    lif = net.lif_network()
    model = RateModel(lif, quadrature=quadrature)
    types, cluster = np.asarray(net.types), np.asarray(net.cluster)
    n_pop = lif.n_pop
    symmetric = is_cluster_symmetric(lif, types, cluster)

    random = initial_rates(n_pop, n_init, seed, max_rate=max_init_rate, boost=1.0) if n_init else np.empty((0, n_pop))
    pattern = (
        np.concatenate([pattern_starts(types, cluster, f * max_init_rate) for f in PATTERN_RATES])
        if patterns
        else np.empty((0, n_pop))
    )
    if len(pattern):  # the k = 0 pattern is the same at every active rate
        pattern = pattern[np.sort(np.unique(pattern, axis=0, return_index=True)[1])]
    if not len(random) + len(pattern):
        raise ValueError("no initial conditions: n_init is 0 and pattern starts are off")
    if symmetric:  # pattern starts in their symmetric subspaces, random ones in the full space
        fps = _search(model, random, pattern, types, cluster, symmetric)
    else:
        fps = _search(model, np.concatenate([random, pattern]), None, types, cluster, symmetric)
    t_search = time.perf_counter() - t0

    sizes = [orbit_size(nu, types, cluster) if symmetric else 1 for nu in fps.rates]
    rows, eigs, jacs = [], [], []
    for i, nu in enumerate(fps.rates):
        _, dphi = model.phi_and_jacobian(nu)
        jac = dphi - np.eye(n_pop)
        ev = np.linalg.eigvals(jac)
        ev = ev[np.argsort(-ev.real, kind="stable")]
        row = {"index": i, "orbit_size": sizes[i], **classify_fixed_point(nu, types, cluster, active_threshold)}
        row["verdict"] = classify(ev)
        row["max_re_eig"] = float(ev.real[0])
        row["residual_hz"] = float(fps.residuals[i])
        rows.append(row)
        eigs.append(ev)
        jacs.append(jac)

    # group symmetric duplicates into states
    states: list[dict[str, Any]] = []
    keys: list[np.ndarray] = []
    for row, nu in zip(rows, fps.rates):
        key = _canonical(nu, types, cluster)
        for s, other in zip(states, keys):
            if np.max(np.abs(key - other)) <= STATE_TOL_HZ:
                s["members"].append(row["index"])
                row["state"] = s["state"]
                break
        else:
            row["state"] = len(states)
            keys.append(key)
            states.append({"state": row["state"], "members": [row["index"]]})
    for s in states:
        members = [rows[m] for m in s["members"]]
        rep = members[0]
        s.update({c: rep[c] for c in SUMMARY_COLUMNS})
        s["pure"] = rep["n_levels"] <= 2
        s["n_fixed_points"] = sum(m["orbit_size"] for m in members)
        s["verdicts"] = sorted({m["verdict"] for m in members})
        s["max_re_eig"] = max(m["max_re_eig"] for m in members)
        s["representative"] = rep["index"]
    order = sorted(states, key=lambda s: (s["k"], -np.nan_to_num(s["rate_active_e_hz"]), s["rate_inactive_e_hz"]))
    renumber = {s["state"]: new for new, s in enumerate(order)}
    for s in order:
        s["state"] = renumber[s["state"]]
    for row in rows:
        row["state"] = renumber[row["state"]]

    land = None
    focus_idx: list[int] = []
    if landscape:
        focus_idx = _focus_indices(focus, net.names, types, cluster)
        uniform = [r["index"] for r in rows if r["k"] == 0]
        nu_start = fps.rates[min(uniform, key=lambda i: fps.rates[i].mean())] if uniform else None
        land = reduced_landscape(
            model,
            focus_idx,
            step=landscape_step,
            rate_max=landscape_max,
            nu_start=nu_start,
        )

    n = len(rows)
    return {
        "model": "clustered",
        "populations": {
            "names": list(net.names),
            "types": [str(t) for t in types],
            "cluster": [int(c) for c in cluster],
            "sizes": [int(s) for s in net.sizes],
        },
        "settings": {
            "n_init": int(n_init),
            "seed": int(seed),
            "max_init_rate": float(max_init_rate),
            "pattern_starts": bool(patterns),
            "n_starts": len(random) + len(pattern),
            "quadrature": quadrature,
            "cluster_symmetric": bool(symmetric),
            "active_threshold": active_threshold,
            "landscape": bool(landscape),
            "focus": [net.names[i] for i in focus_idx],
            "landscape_step": None if land is None else land.grid_step,
            "landscape_max": float(landscape_max),
        },
        "params": net.params,
        "fixed_points": rows,
        "states": order,
        "rates": fps.rates,
        "residuals": fps.residuals,
        "eigenvalues": np.array(eigs, dtype=complex).reshape(n, n_pop),
        "jacobians": np.array(jacs).reshape(n, n_pop, n_pop),
        "landscape": land,
        "focus_names": [net.names[i] for i in focus_idx],
        "search_s": t_search,
        "elapsed_s": time.perf_counter() - t0,
    }


def _landscape_summary(land: Landscape | None, names: list[str]) -> dict[str, Any] | None:
    if land is None:
        return None
    return {
        "focus": [names[i] for i in land.focus],
        "grid_min_hz": float(land.grid[0]),
        "grid_max_hz": float(land.grid[-1]),
        "grid_step_hz": land.grid_step,
        "failed_points": int(np.isnan(land.force[..., 0]).sum()),
        "fixed_points": [
            {
                "focus_rates_hz": land.fixed_point_focus[i].tolist(),
                "verdict": land.verdicts[i],
                "max_re_eig": float(land.eigenvalues[i].real.max()),
            }
            for i in range(len(land.verdicts))
        ],
        "paths": [
            {
                "from": p.start,
                "to": p.end,
                "n_points": len(p.points),
                "length_hz": float(p.arc_length[-1]),
                "barrier_from_hz2": p.barrier_start,
                "barrier_to_hz2": p.barrier_end,
                "top_hz": p.points[int(np.argmax(p.potential))].tolist(),
            }
            for p in land.paths
        ],
    }


def n_fixed_points(result: Mapping[str, Any]) -> int:
    """All fixed points a study found, every cluster permutation counted (the sum of the orbit sizes)."""
    return int(sum(r["orbit_size"] for r in result["fixed_points"]))


def meanfield_document(result: Mapping[str, Any]) -> dict[str, Any]:
    """The meanfield.json document of a mean-field study.

    Args:
        result: From :func:`meanfield_study`.

    Returns:
        ``{"model", "populations", "settings", "params", "n_fixed_points" (counting every
        cluster permutation), "n_orbits" (distinct up to permutation: the rows of
        ``fixed_points``), "n_states", "states", "fixed_points", "landscape" (summary or None),
        "search_s", "elapsed_s"}``.
    """
    names = result["populations"]["names"]
    return {
        "model": result["model"],
        "populations": result["populations"],
        "settings": result["settings"],
        "params": result["params"],
        "n_fixed_points": n_fixed_points(result),
        "n_orbits": len(result["fixed_points"]),
        "n_states": len(result["states"]),
        "states": [dict(s) for s in result["states"]],
        "fixed_points": [dict(r) for r in result["fixed_points"]],
        "landscape": _landscape_summary(result["landscape"], names),
        "search_s": result["search_s"],
        "elapsed_s": result["elapsed_s"],
    }


def fixed_point_table(result: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows and columns of fixed_points.csv: one row per fixed point up to cluster permutation, all population rates (Hz).

    Args:
        result: From :func:`meanfield_study`.

    Returns:
        ``(rows, columns)``: ``index``, ``state``, :data:`SUMMARY_COLUMNS`,
        ``active_clusters`` (joined by ";"), ``residual_hz`` and ``rate_<population>_hz``.
    """
    names = result["populations"]["names"]
    rates = np.asarray(result["rates"])
    columns = ["index", "state", *SUMMARY_COLUMNS, "active_clusters", "residual_hz"] + [f"rate_{n}_hz" for n in names]
    rows = []
    for row, nu in zip(result["fixed_points"], rates):
        r = dict(row)
        r["active_clusters"] = ";".join(str(c) for c in row["active_clusters"])
        r.update({f"rate_{n}_hz": float(v) for n, v in zip(names, nu)})
        rows.append(r)
    return rows, columns


def _fmt(x: Any, spec: str = "6.2f") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-".rjust(len(format(0.0, spec)))
    return format(x, spec)


def format_meanfield(result: Mapping[str, Any]) -> str:
    """The states as a text table (one line each), with a landscape summary when present."""
    settings = result["settings"]
    lines = [
        (
            f"{n_fixed_points(result)} fixed point(s) ({len(result['fixed_points'])} up to cluster permutation) "
            f"in {len(result['states'])} state(s) from "
            f"{settings['n_starts']} initial conditions ({result['search_s']:.1f} s search, "
            f"{result['elapsed_s']:.1f} s total)"
        ),
        " state  k  pure  n_fp   E act  E inact   E bg   I act  I inact   I bg  max Re(l)  verdict",
    ]
    for s in result["states"]:
        lines.append(
            f"{s['state']:6d} {s['k']:2d}  {'yes' if s['pure'] else 'no ':>4} {s['n_fixed_points']:5d} "
            f"{_fmt(s['rate_active_e_hz'], '7.2f')} {_fmt(s['rate_inactive_e_hz'], '8.2f')} {_fmt(s['rate_e_bg_hz'])} "
            f"{_fmt(s['rate_i_active_hz'], '7.2f')} {_fmt(s['rate_i_inactive_hz'], '8.2f')} {_fmt(s['rate_i_bg_hz'])} "
            f"{s['max_re_eig']:+10.3f}  {', '.join(s['verdicts'])}"
        )
    land = result["landscape"]
    if land is not None:
        names = result["populations"]["names"]
        focus = ", ".join(names[i] for i in land.focus)
        lines.append(
            f"landscape of {focus}: {land.grid.size}^{land.focus.size} grid, step {land.grid_step:g} Hz, "
            f"{len(land.verdicts)} reduced fixed point(s)"
        )
        for x, v in zip(land.fixed_point_focus, land.verdicts):
            lines.append(f"  ({', '.join(f'{r:.2f}' for r in x)}) Hz: {v}")
        for p in land.paths:
            lines.append(
                f"  path {p.start} -> {p.end}: barrier {p.barrier_start:.2f} / {p.barrier_end:.2f} Hz^2"
            )
    return "\n".join(lines)
