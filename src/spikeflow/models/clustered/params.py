"""Clustered E/I LIF network: parameters as data and everything derived from them.

The network (Papadopoulos et al. 2024; Rostami et al. 2024) has ``Q`` excitatory and ``Q``
inhibitory clusters plus one excitatory and one inhibitory background population, i.e.
``2Q + 2`` populations in the order ``E0 .. E{Q-1}, Ebg, I0 .. I{Q-1}, Ibg`` (background
populations are left out when ``background_fraction`` is 0). That order is also the index
space of perturbation vectors.

Per pathway (pre -> post, lists ``[E->E, E->I, I->E, I->I]``) a base weight ``J`` is multiplied
by ``J+`` between a cluster and itself (E cluster i and I cluster i are partners), by 1 between
background populations, and by ``J-`` everywhere else (this reproduces the uniform-state rates of
the reference mean field to 0.01 Hz), with

* ``balanced`` (Papadopoulos): ``J- = (f_a + f_b - f_a f_b (Q + J+)) / (f_a + f_b - f_a f_b (Q + 1))``,
  ``f`` the fraction of a population type in one cluster;
* ``row_sum`` (Rostami): ``J- = (Q - J+) / (Q - 1)``.

Arousal (level ``x`` in [0, 1]) acts through ``f(x) = 1 / (1 + (x^C - 1)^k)``,
``C = log2(1 / (1 + ((1 - x0)/x0)^(1/k)))``: E->E weights are scaled by ``1 - L f(x)`` and every
external input gains ``M f(x) z`` spikes/s with ``z ~ Beta(10, 10)``. The toolkit draws ``z``
per neuron and time step; for a Poisson input that is the same as a constant extra rate
``M f(x) / 2`` (a Poisson process whose rate is redrawn independently every step is Poisson
with the mean rate, up to a variance excess of under 3 % at arousal 1), which is what is simulated.

Vectorial perturbations (``perturbation`` section) change per-population parameters
relatively: ``p_a -> p_a (1 + delta_a)`` with ``delta = sum_n c_n v_n`` over the involved
populations. Targets and what ``p_a`` is:

========================= ==========================================================
target                    per-population parameter scaled by ``1 + delta_a``
========================= ==========================================================
rate                      rate of each external input of population a
j_baseline                every weight onto population a (row a of J)
j_potentiated             J+ of the inputs population a gets from its own cluster
j_ext                     weight of the external inputs of population a
threshold                 threshold of population a (relative to reset 0)
tau_membrane              membrane time constant
tau_synaptic              synaptic time constant
tau_refractory            refractory period
arousal_level|L|x_0|k|M   the arousal parameter for population a
========================= ==========================================================

All numbers here are plain numpy; no NEST. :func:`derive` is used by the NEST builder
(:mod:`spikeflow.models.clustered`) and by the mean field alike, so both see one network.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

import numpy as np
import yaml

PATHWAYS = ("EE", "EI", "IE", "II")  # pre -> post: E->E, E->I, I->E, I->I
TYPES = ("E", "I")
PERTURBATION_TARGETS = (
    "rate",
    "j_baseline",
    "j_potentiated",
    "j_ext",
    "threshold",
    "tau_membrane",
    "tau_synaptic",
    "tau_refractory",
    "arousal_level",
    "arousal_L",
    "arousal_x_0",
    "arousal_k",
    "arousal_M",
)
# Targets the NEST model can switch on and off during a run (one NEST quantity each); the
# others change recurrent weights or the weight conversion and are static only.
TIMED_TARGETS = ("rate", "j_ext", "threshold", "tau_membrane", "tau_refractory")
AROUSAL_DEFAULTS = {"level": 0.0, "L": 0.75, "x_0": 0.2, "k": 1.25, "M": 13.125}
C_M = 1.0  # pF: NEST membrane capacitance; weights in pA are J * C_M / tau_syn


def presets() -> dict[str, dict[str, Any]]:
    """The shipped parameter sets (``presets.yaml`` beside this file), by name."""
    text = resources.files("spikeflow.models.clustered").joinpath("presets.yaml").read_text()
    return yaml.safe_load(text)


def resolve_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Full parameters: the ``vnm`` base, then the chosen ``preset``, then ``params``.

    Args:
        params: the config's ``params`` section (already schema-checked).

    Returns:
        A new dict with every key of the base preset, ``arousal`` filled from its defaults.
    """
    sets = presets()
    preset = params.get("preset", "vnm")
    if preset not in sets:
        raise ValueError(f"params.preset: unknown preset {preset!r}; known: {', '.join(sorted(sets))}")
    full = copy.deepcopy(sets["vnm"])
    for layer in (sets[preset], params):
        for key, value in layer.items():
            if key == "arousal":
                full["arousal"] = {**full.get("arousal", {}), **value}
            else:
                full[key] = copy.deepcopy(value)
    full["arousal"] = {**AROUSAL_DEFAULTS, **full.get("arousal", {})}
    full["preset"] = preset
    full.setdefault("perturbation", {})
    full.setdefault("stimulus", None)
    return full


def arousal_gain(level: Any, x_0: Any, k: Any) -> np.ndarray:
    """The logistic arousal function ``f(x)`` (0 at x = 0, 1 at x = 1), elementwise.

    Args:
        level: arousal level(s) x in [0, 1].
        x_0: shape parameter x0 in (0, 1) (not the midpoint).
        k: steepness k > 0.

    Returns:
        f(x), dimensionless, same shape as the broadcast inputs.
    """
    x = np.asarray(level, dtype=float)
    x_0 = np.asarray(x_0, dtype=float)
    k = np.asarray(k, dtype=float)
    C = np.log2(1.0 / (1.0 + ((1.0 - x_0) / x_0) ** (1.0 / k)))
    with np.errstate(divide="ignore", over="ignore"):
        base = np.where(x > 0, np.power(np.where(x > 0, x, 1.0), C) - 1.0, np.inf)
        f = 1.0 / (1.0 + np.power(np.maximum(base, 0.0), k))
    return np.where(x > 0, f, 0.0)


def j_minus(j_plus: float, f_pre: float, f_post: float, n_clusters: int, rule: str) -> float:
    """The between-cluster factor J- for a pathway with within-cluster factor ``j_plus``.

    Args:
        j_plus: J+ of the pathway.
        f_pre: fraction of the presynaptic type in one cluster.
        f_post: fraction of the postsynaptic type in one cluster.
        n_clusters: Q.
        rule: ``balanced`` (Papadopoulos) or ``row_sum`` (Rostami).
    """
    if rule == "row_sum":
        return (n_clusters - j_plus) / (n_clusters - 1)
    fa, fb = f_pre, f_post
    return (fa + fb - fa * fb * (n_clusters + j_plus)) / (fa + fb - fa * fb * (n_clusters + 1))


@dataclass
class Perturbation:
    """One perturbation block, drawn and placed over the populations.

    Attributes:
        target: which parameter (see :data:`PERTURBATION_TARGETS`).
        delta: relative change per population, shape (n_pop,).
        vectors: the vectors used, shape (n_vectors, n_involved) (drawn ones included).
        involved: population indices per vector, shape (n_vectors, n_involved).
        coefficients: one per vector.
        onset_ms, offset_ms: when it acts (None/None: always; offset None: until the end).
    """

    target: str
    delta: np.ndarray
    vectors: list[list[float]]
    involved: list[list[int]]
    coefficients: list[float]
    onset_ms: float | None = None
    offset_ms: float | None = None

    @property
    def timed(self) -> bool:
        """True when the perturbation is switched on or off during the run."""
        return (self.onset_ms or 0.0) > 0.0 or self.offset_ms is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "delta": self.delta.tolist(),
            "vectors": self.vectors,
            "involved_clusters": self.involved,
            "params": self.coefficients,
            "onset_ms": self.onset_ms,
            "offset_ms": self.offset_ms,
        }


def draw_perturbation(target: str, spec: Mapping[str, Any], n_pop: int) -> Perturbation:
    """Place (or draw, when ``vectors`` is absent) one perturbation block.

    Without ``vectors``, one vector per entry of ``involved_clusters`` is drawn from a standard
    normal with the block's ``seed`` and normalized to unit length.

    Raises:
        ValueError: on inconsistent lengths or population indices out of range.
    """
    where = f"params.perturbation.{target}"
    if target not in PERTURBATION_TARGETS:
        raise ValueError(f"{where}: unknown target; known: {', '.join(PERTURBATION_TARGETS)}")
    involved = [list(map(int, idx)) for idx in spec["involved_clusters"]]
    coefficients = [float(c) for c in spec["params"]]
    if len(coefficients) != len(involved):
        raise ValueError(f"{where}: {len(coefficients)} params for {len(involved)} involved_clusters entries")
    rng = np.random.default_rng(spec.get("seed"))
    vectors = spec.get("vectors")
    if vectors is None:
        vectors = []
        for idx in involved:
            v = rng.standard_normal(len(idx))
            vectors.append((v / np.linalg.norm(v)).tolist())
    vectors = [list(map(float, v)) for v in vectors]
    if len(vectors) != len(involved):
        raise ValueError(f"{where}: {len(vectors)} vectors for {len(involved)} involved_clusters entries")
    delta = np.zeros(n_pop)
    for vec, idx, coef in zip(vectors, involved, coefficients):
        if len(vec) != len(idx):
            raise ValueError(f"{where}: a vector of length {len(vec)} for {len(idx)} involved populations")
        bad = [i for i in idx if not 0 <= i < n_pop]
        if bad:
            raise ValueError(f"{where}: population index {bad[0]} out of range 0..{n_pop - 1}")
        np.add.at(delta, idx, coef * np.asarray(vec))
    timing = spec.get("time_dependence") or {}
    onset = timing.get("onset_time")
    offset = timing.get("offset_time")
    if timing.get("shape", "hat") not in ("hat", "box"):
        raise ValueError(f"{where}.time_dependence.shape: only hat (box) is supported")
    pert = Perturbation(target, delta, vectors, involved, coefficients, onset, offset)
    if pert.timed and target not in TIMED_TARGETS:
        raise ValueError(
            f"{where}: a time-dependent perturbation of {target} would change recurrent weights during the run; "
            f"only {', '.join(TIMED_TARGETS)} can be switched on and off (drop time_dependence for a static one)"
        )
    return pert


@dataclass
class ClusteredNetwork:
    """Everything the NEST builder and the mean field need, per population (order: see module doc).

    Attributes:
        params: the full resolved parameters.
        names: population names, (n_pop,).
        types: "E" or "I" per population.
        cluster: cluster index per population, -1 for background.
        sizes: neurons per population.
        K: in-degree per block [post, pre] (expected value for pairwise_bernoulli).
        J: weights in mV [post, pre] (J+/J-, arousal and static perturbations applied).
        theta, V_r: threshold and reset in mV.
        tau_m, tau_s, tau_ref: membrane, synaptic and refractory time constants in ms.
        j_ext: weight of each external input in mV.
        c_ext: external inputs per neuron.
        nu_ext: rate of each external input in spikes/s (arousal included).
        mu_ext: DC drive as mean input in mV (I_e = mu_ext * C_m / tau_m).
        perturbations: the placed perturbation blocks (static and timed).
    """

    params: dict[str, Any]
    names: list[str]
    types: np.ndarray
    cluster: np.ndarray
    sizes: np.ndarray
    K: np.ndarray
    J: np.ndarray
    theta: np.ndarray
    V_r: np.ndarray
    tau_m: np.ndarray
    tau_s: np.ndarray
    tau_ref: np.ndarray
    j_ext: np.ndarray
    c_ext: np.ndarray
    nu_ext: np.ndarray
    mu_ext: np.ndarray
    perturbations: list[Perturbation] = field(default_factory=list)

    @property
    def n_pop(self) -> int:
        return len(self.names)

    @property
    def n_clusters(self) -> int:
        return int(self.params["n_clusters"])

    def weights_pA(self) -> np.ndarray:
        """NEST current amplitudes in pA [post, pre]: ``J * C_m / tau_syn(post)``."""
        return self.J * C_M / self.tau_s[:, None]

    def ext_weight_pA(self) -> np.ndarray:
        """External input amplitude per population in pA."""
        return self.j_ext * C_M / self.tau_s

    def dc_pA(self) -> np.ndarray:
        """DC current per population in pA: ``mu_ext * C_m / tau_m``."""
        return self.mu_ext * C_M / self.tau_m

    def lif_network(self):
        """The mean-field description (:class:`spikeflow.meanfield.LIFNetwork`, times in s)."""
        from spikeflow.meanfield import LIFNetwork

        return LIFNetwork(
            K=self.K,
            J=self.J,
            tau_m=self.tau_m / 1000.0,
            tau_ref=self.tau_ref / 1000.0,
            theta=self.theta,
            V_r=self.V_r,
            tau_s=self.tau_s / 1000.0,
            j_ext=self.j_ext,
            c_ext=self.c_ext,
            nu_ext=self.nu_ext,
            mu_ext=self.mu_ext,
        )


def population_layout(p: Mapping[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Names, types, cluster indices and sizes of the populations.

    Raises:
        ValueError: when a type's neurons outside the background do not split into Q clusters
            and there is no background to take the remainder.
    """
    Q = int(p["n_clusters"])
    n_e = int(round(p["n_neurons"] * p["e_fraction"]))
    names, types, cluster, sizes = [], [], [], []
    for t, n_type in zip(TYPES, (n_e, int(p["n_neurons"]) - n_e)):
        n_bg = int(round(p["background_fraction"] * n_type))
        per_cluster, rest = divmod(n_type - n_bg, Q)
        if per_cluster < 1:
            raise ValueError(f"params: {n_type} {t} neurons cannot form {Q} clusters")
        if rest and n_bg == 0:
            raise ValueError(
                f"params: {n_type} {t} neurons do not split into {Q} equal clusters and there is no background "
                "to take the remainder (change n_neurons, n_clusters or background_fraction)"
            )
        n_bg += rest
        for q in range(Q):
            names.append(f"{t}{q}")
            types.append(t)
            cluster.append(q)
            sizes.append(per_cluster)
        if n_bg:
            names.append(f"{t}bg")
            types.append(t)
            cluster.append(-1)
            sizes.append(n_bg)
    return names, np.array(types), np.array(cluster), np.array(sizes)


def _per_type(values: Any, types: np.ndarray) -> np.ndarray:
    """Expand an [E, I] pair to one value per population."""
    e, i = values
    return np.where(types == "E", float(e), float(i))


def _pathway_matrix(values: Any, types: np.ndarray) -> np.ndarray:
    """Expand ``[E->E, E->I, I->E, I->I]`` to a [post, pre] matrix over populations."""
    table = dict(zip(PATHWAYS, map(float, values)))
    return np.array([[table[pre + post] for pre in types] for post in types])


def derive(params: Mapping[str, Any], *, timed_on: tuple[str, ...] = ()) -> ClusteredNetwork:
    """Derive the network from (resolved or partial) parameters.

    Args:
        params: the config's ``params`` (resolved with :func:`resolve_params` if not yet).
        timed_on: timed perturbation targets to apply as if switched on (the builder
            derives the "on" values this way); static perturbations are always applied.

    Returns:
        The derived network.
    """
    p = params if "arousal" in params and "n_clusters" in params and "j_ext" in params else resolve_params(params)
    names, types, cluster, sizes = population_layout(p)
    n_pop = len(names)
    Q = int(p["n_clusters"])
    perturbations = [draw_perturbation(t, spec, n_pop) for t, spec in sorted((p.get("perturbation") or {}).items())]
    scale = {t: np.ones(n_pop) for t in PERTURBATION_TARGETS}
    for pert in perturbations:
        if not pert.timed or pert.target in timed_on:
            scale[pert.target] = scale[pert.target] * (1.0 + pert.delta)

    n_neurons = int(p["n_neurons"])
    w_scale = 1.0 / math.sqrt(n_neurons) if p["weight_scaling"] == "inv_sqrt_n" else 1.0
    arousal = {key: float(p["arousal"][key]) * scale[f"arousal_{key}"] for key in AROUSAL_DEFAULTS}
    gain = arousal_gain(arousal["level"], arousal["x_0"], arousal["k"])  # (n_pop,) per post population

    # connectivity
    conn_prob = _pathway_matrix(p["conn_prob"], types)
    same = np.equal.outer(np.arange(n_pop), np.arange(n_pop))
    if p["connectivity"] == "fixed_indegree":
        K = np.floor(conn_prob * sizes[None, :]).astype(float)
        K = np.where(same, np.minimum(K, sizes[None, :] - 1), K)
    else:
        K = conn_prob * (sizes[None, :] - same)

    # weights: base x J+/J- (x arousal on E->E), rows scaled by perturbations
    J = _pathway_matrix(p["j_baseline"], types) * w_scale
    if p["potentiate"]:
        j_plus_table = dict(zip(PATHWAYS, map(float, p["j_potentiated"])))
        frac = {t: float(sizes[(types == t) & (cluster >= 0)][0]) / sizes[types == t].sum() for t in TYPES}
        factor = np.empty((n_pop, n_pop))
        for a in range(n_pop):
            for b in range(n_pop):
                path = types[b] + types[a]
                jp = j_plus_table[path]
                if cluster[a] >= 0 and cluster[a] == cluster[b]:
                    factor[a, b] = jp * scale["j_potentiated"][a]
                elif cluster[a] < 0 and cluster[b] < 0:
                    factor[a, b] = 1.0  # background to background keeps the base weight
                else:
                    factor[a, b] = j_minus(jp, frac[types[b]], frac[types[a]], Q, p["j_minus_rule"])
        J = J * factor
    ee = np.outer(types == "E", types == "E")
    J = np.where(ee, J * (1.0 - arousal["L"] * gain)[:, None], J)
    J = J * scale["j_baseline"][:, None]

    nu_ext = (_per_type(p["nu_ext"], types) + arousal["M"] * gain / 2.0) * scale["rate"]
    return ClusteredNetwork(
        params=dict(p),
        names=names,
        types=types,
        cluster=cluster,
        sizes=sizes,
        K=K,
        J=J,
        theta=_per_type(p["threshold"], types) * scale["threshold"],
        V_r=_per_type(p["reset_voltage"], types),
        tau_m=_per_type(p["tau_membrane"], types) * scale["tau_membrane"],
        tau_s=_per_type(p["tau_synaptic"], types) * scale["tau_synaptic"],
        tau_ref=_per_type(p["tau_refractory"], types) * scale["tau_refractory"],
        j_ext=_per_type(p["j_ext"], types) * w_scale * scale["j_ext"],
        c_ext=_per_type(p["c_ext"], types),
        nu_ext=nu_ext,
        mu_ext=_per_type(p["mu_ext"], types),
        perturbations=perturbations,
    )
