"""Plastic training networks: parameters as data, the neuron x synapse compatibility table, derived sizes.

Nothing here imports NEST. The tables say what each supported NEST neuron and synapse model
needs (weight units, which state variables a checkpoint saves and restores, which parameters
are common to all connections of a model) and which combinations spikeflow refuses, with the
reason; the test ``tests/nest/test_training_compat.py`` runs every combination in NEST and
checks that each one either trains or is refused as the table says.

Network: ``n_neurons`` neurons, a fraction ``frac_exc`` excitatory (population ``E``), the rest
inhibitory (``I``); every pathway (E->E, E->I, I->E, I->I) is connected ``pairwise_bernoulli``
with probability ``density`` (no autapses, no multapses). Excitatory weights are ``weight``,
inhibitory ones ``-g * weight`` (negative: NEST's conductance models route negative weights to
their inhibitory conductance). Every neuron gets Poisson drive; optionally a population ``X``
of ``pattern_inputs`` parrot neurons replays frozen spike patterns. The pathways listed in
``plastic`` use ``synapse_model``, all others ``static_synapse``.

Units: weights pA (current-based neurons) or nS (conductance-based), times ms, rates spikes/s.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

from spikeflow.config import ConfigError
from spikeflow.models.params import check_known_keys

# --- neuron models ---------------------------------------------------------------------------
# kind: how weights act (current in pA / conductance in nS); weight, drive_weight: defaults that
# give about 5-15 spikes/s at density 0.1 and drive_rate_hz 8000 (calibrated in NEST 3.10;
# hh_cond_exp_traub fires tonically at its defaults, about 50 spikes/s);
# state: the state variables a checkpoint saves and restores (besides V_m): those NEST 3.10 exposes
# through GetStatus and accepts in SetStatus (the iaf_psc_* synaptic currents are recordable only,
# so they start from 0 after every epoch boundary).
NEURON_MODELS: dict[str, dict[str, Any]] = {
    "iaf_psc_alpha": {"kind": "current", "unit": "pA", "weight": 8.0, "drive_weight": 8.0, "state": []},
    "iaf_psc_exp": {"kind": "current", "unit": "pA", "weight": 22.0, "drive_weight": 22.0, "state": []},
    "iaf_cond_alpha": {"kind": "conductance", "unit": "nS", "weight": 1.0, "drive_weight": 1.0, "state": ["g_ex", "g_in", "dg_ex", "dg_in"]},
    "iaf_cond_exp": {"kind": "conductance", "unit": "nS", "weight": 2.5, "drive_weight": 2.5, "state": ["g_ex", "g_in"]},
    "aeif_cond_alpha": {"kind": "conductance", "unit": "nS", "weight": 3.0, "drive_weight": 3.0, "state": ["g_ex", "g_in", "dg_ex", "dg_in", "w"]},
    "hh_cond_exp_traub": {
        "kind": "conductance",
        "unit": "nS",
        "weight": 0.5,
        "drive_weight": 0.1,
        "state": ["Act_m", "Inact_h", "Act_n"],
    },
}

# --- synapse models ---------------------------------------------------------------------------
# plastic: whether weights (or release state) change; state: per-connection state variables a
# checkpoint saves and restores besides the weight; common: True for models whose parameters are
# shared by all connections of the model (set on a model copy, not per connection);
# weight_common: the weight itself is a common parameter (one weight per model copy);
# wmax: the model has a weight bound Wmax that must have the sign of the weight;
# refuse: None, or the reason spikeflow will not train with the model.
SYNAPSE_MODELS: dict[str, dict[str, Any]] = {
    "static_synapse": {"plastic": False, "state": [], "common": False, "wmax": False, "refuse": None},
    "static_synapse_hom_w": {"plastic": False, "state": [], "common": True, "weight_common": True, "wmax": False, "refuse": None},
    "tsodyks_synapse": {"plastic": True, "state": ["x", "y", "u"], "common": False, "wmax": False, "refuse": None},
    "tsodyks_synapse_hom": {"plastic": True, "state": ["x", "y", "u"], "common": True, "weight_common": True, "wmax": False, "refuse": None},
    "tsodyks2_synapse": {"plastic": True, "state": ["x", "u"], "common": False, "wmax": False, "refuse": None},
    "quantal_stp_synapse": {"plastic": True, "state": ["u", "n", "a"], "common": False, "wmax": False, "refuse": None},
    "ht_synapse": {"plastic": True, "state": ["P"], "common": False, "wmax": False, "refuse": None},
    "stdp_synapse": {"plastic": True, "state": ["Kplus"], "common": False, "wmax": True, "refuse": None},
    "stdp_synapse_hom": {"plastic": True, "state": ["Kplus"], "common": True, "wmax": True, "refuse": None},
    "stdp_pl_synapse_hom": {"plastic": True, "state": ["Kplus"], "common": True, "wmax": False, "refuse": None},
    "stdp_triplet_synapse": {"plastic": True, "state": ["Kplus", "Kplus_triplet"], "common": False, "wmax": True, "refuse": None},
    "stdp_nn_symm_synapse": {"plastic": True, "state": [], "common": False, "wmax": True, "refuse": None},
    "stdp_nn_pre_centered_synapse": {"plastic": True, "state": ["Kplus"], "common": False, "wmax": True, "refuse": None},
    "stdp_nn_restr_synapse": {"plastic": True, "state": [], "common": False, "wmax": True, "refuse": None},
    "vogels_sprekeler_synapse": {"plastic": True, "state": ["Kplus"], "common": False, "wmax": True, "refuse": None},
    "jonke_synapse": {"plastic": True, "state": ["Kplus"], "common": True, "wmax": True, "refuse": None},
    "stdp_facetshw_synapse_hom": {
        "plastic": True,
        "state": ["a_causal", "a_acausal", "a_thresh_th", "a_thresh_tl"],
        "common": True,
        "wmax": False,
        "refuse": None,
    },
    "stdp_dopamine_synapse": {
        "plastic": True,
        "state": ["c", "n"],
        "common": True,
        "wmax": True,
        "refuse": None,
        "needs": "volume_transmitter",
    },
}

NEURON_CHOICES = tuple(NEURON_MODELS)
SYNAPSE_CHOICES = tuple(SYNAPSE_MODELS)
PATHWAYS = ("E->E", "E->I", "I->E", "I->I", "X->E", "X->I")

# Combinations NEST refuses or spikeflow cannot train honestly, (neuron, synapse) -> reason.
# Filled from running every combination in NEST 3.10 (tests/nest/test_training_compat.py keeps
# it true); "*" stands for every neuron model.
INCOMPATIBLE: dict[tuple[str, str], str] = {
    (neuron, "stdp_facetshw_synapse_hom"): (
        "NEST's stdp_facetshw_synapse_hom (hardware-discretized STDP) drives the inhibitory weights of "
        "conductance-based neurons to about -3e10 within 40 ms (measured with NEST 3.10)"
    )
    for neuron in ("iaf_cond_alpha", "aeif_cond_alpha")
}

# Synapse state variables NEST stores as integers (set back as int when restoring a checkpoint).
INTEGER_STATE = frozenset({"n", "a"})


def compatibility(neuron_model: str, synapse_model: str) -> str | None:
    """Why spikeflow refuses to train ``synapse_model`` on ``neuron_model`` neurons, or None if it trains.

    Args:
        neuron_model: one of :data:`NEURON_CHOICES`.
        synapse_model: one of :data:`SYNAPSE_CHOICES`.

    Returns:
        A one-sentence reason, or None.
    """
    if neuron_model not in NEURON_MODELS:
        return f"neuron model {neuron_model!r} is not supported (supported: {', '.join(NEURON_CHOICES)})"
    if synapse_model not in SYNAPSE_MODELS:
        return f"synapse model {synapse_model!r} is not supported (supported: {', '.join(SYNAPSE_CHOICES)})"
    reason = SYNAPSE_MODELS[synapse_model]["refuse"]
    if reason:
        return reason
    return INCOMPATIBLE.get((neuron_model, synapse_model)) or INCOMPATIBLE.get(("*", synapse_model))


def compatibility_table() -> list[dict[str, Any]]:
    """Every neuron x synapse combination with its verdict, as rows (neuron, synapse, trains, reason)."""
    rows = []
    for neuron in NEURON_CHOICES:
        for synapse in SYNAPSE_CHOICES:
            reason = compatibility(neuron, synapse)
            rows.append({"neuron_model": neuron, "synapse_model": synapse, "trains": reason is None, "reason": reason or ""})
    return rows


@dataclass(frozen=True)
class TrainingParams:
    """User-settable parameters of a training network (the ``params`` block of a ``model: training`` config).

    Attributes:
        n_neurons: neurons in the network (E and I together).
        frac_exc: fraction of excitatory neurons, in (0, 1].
        density: connection probability of every recurrent pathway, in [0, 1].
        neuron_model: NEST neuron model (:data:`NEURON_CHOICES`).
        neuron_params: overrides of the neuron model's NEST defaults.
        synapse_model: NEST synapse model of the plastic pathways (:data:`SYNAPSE_CHOICES`).
        synapse_params: parameters of the synapse model (set on a model copy per pathway).
        plastic: pathways that use ``synapse_model`` (:data:`PATHWAYS`); the others are static.
        weight: excitatory weight, pA or nS (None: the neuron model's default).
        g: inhibitory weights are ``-g * weight``.
        delay: synaptic delay of all recurrent and input connections, ms.
        wmax_factor: for synapse models with a bound Wmax not given in ``synapse_params``:
            Wmax = wmax_factor * initial weight (with the weight's sign).
        drive_rate_hz: rate of the independent Poisson drive of every neuron, spikes/s (0: none).
        drive_weight: weight of the Poisson drive, pA or nS (None: the neuron model's default).
        n_patterns: number of frozen spike patterns replayed by population X (0: no X).
        pattern_inputs: neurons in X.
        pattern_ms: length of one pattern, ms.
        pattern_rate_hz: rate of the Poisson spike trains the patterns are drawn from, spikes/s.
        pattern_density: connection probability X -> E and X -> I.
        pattern_weight: weight of X's connections, pA or nS (None: ``weight``).
        pattern_order: ``cyclic`` (0, 1, 2, ...) or ``random`` (drawn per epoch from the seed).
        dopamine_rate_hz: rate of the Poisson dopamine neurons feeding the volume transmitter
            of ``stdp_dopamine_synapse``, spikes/s.
        dopamine_neurons: number of those dopamine neurons.
        epoch_ms: length of one epoch, ms.
        n_epochs: number of epochs.
        histogram_bins: bins of the per-epoch weight histograms.
        record_weights_max: at most this many plastic weights are kept per epoch in epochs.h5
            (all are always in the checkpoints).
    """

    n_neurons: int = 200
    frac_exc: float = 0.8
    density: float = 0.1
    neuron_model: str = "iaf_psc_alpha"
    neuron_params: dict = field(default_factory=dict)
    synapse_model: str = "stdp_synapse"
    synapse_params: dict = field(default_factory=dict)
    plastic: tuple = ("E->E",)
    weight: float | None = None
    g: float = 4.0
    delay: float = 1.5
    wmax_factor: float = 3.0
    drive_rate_hz: float = 8000.0
    drive_weight: float | None = None
    n_patterns: int = 0
    pattern_inputs: int = 50
    pattern_ms: float = 100.0
    pattern_rate_hz: float = 10.0
    pattern_density: float = 0.2
    pattern_weight: float | None = None
    pattern_order: str = "cyclic"
    dopamine_rate_hz: float = 5.0
    dopamine_neurons: int = 10
    epoch_ms: float = 200.0
    epoch_boundary: str = "restart"
    n_epochs: int = 3
    histogram_bins: int = 20
    record_weights_max: int = 100_000

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> "TrainingParams":
        """Build from a (schema-validated) ``params`` mapping; unknown keys are an error."""
        check_known_keys(cls, params, "training")
        values = dict(params)
        if "plastic" in values:
            values["plastic"] = tuple(values["plastic"])
        return replace(cls(), **values)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["plastic"] = list(self.plastic)
        return out


@dataclass(frozen=True)
class TrainingDerived:
    """What the NEST builder and the driver need, derived from :class:`TrainingParams`.

    Attributes:
        params: the parameters.
        n_exc, n_inh: sizes of E and I.
        weight: excitatory weight (pA or nS).
        drive_weight: Poisson drive weight (pA or nS).
        pattern_weight: weight of X's connections (pA or nS).
        pathway_weights: pathway -> initial weight (signed).
        expected_connections: pathway -> expected number of connections (density x pairs).
        unit: weight unit, ``pA`` or ``nS``.
    """

    params: TrainingParams
    n_exc: int
    n_inh: int
    weight: float
    drive_weight: float
    pattern_weight: float
    pathway_weights: dict[str, float]
    expected_connections: dict[str, int]
    unit: str

    @property
    def populations(self) -> dict[str, int]:
        """Population name -> size, in recording order (X only with patterns)."""
        pops = {"E": self.n_exc, "I": self.n_inh}
        if self.params.n_patterns > 0:
            pops["X"] = self.params.pattern_inputs
        return {k: v for k, v in pops.items() if v > 0}

    @property
    def total_ms(self) -> float:
        """Trained time, ms: n_epochs x epoch_ms."""
        return self.params.n_epochs * self.params.epoch_ms

    def synapse_of(self, pathway: str) -> str:
        """The synapse model a pathway uses."""
        return self.params.synapse_model if pathway in self.params.plastic else "static_synapse"


# The parameters each synapse model takes (read from nest.GetDefaults of NEST 3.10, without the
# read-only entries and the volume transmitter, which spikeflow connects itself); a key of
# params.synapse_params that is not here is refused before any job.
SYNAPSE_PARAMETERS = {
    "static_synapse": ('delay', 'weight'),
    "static_synapse_hom_w": ('delay', 'weight'),
    "tsodyks_synapse": ('U', 'delay', 'tau_fac', 'tau_psc', 'tau_rec', 'u', 'weight', 'x', 'y'),
    "tsodyks_synapse_hom": ('U', 'delay', 'tau_fac', 'tau_psc', 'tau_rec', 'u', 'weight', 'x', 'y'),
    "tsodyks2_synapse": ('U', 'delay', 'tau_fac', 'tau_rec', 'u', 'weight', 'x'),
    "quantal_stp_synapse": ('U', 'a', 'delay', 'n', 'tau_fac', 'tau_rec', 'u', 'weight'),
    "ht_synapse": ('P', 'delay', 'delta_P', 'tau_P', 'weight'),
    "stdp_synapse": ('Kplus', 'Wmax', 'alpha', 'delay', 'lambda', 'mu_minus', 'mu_plus', 'tau_plus', 'weight'),
    "stdp_synapse_hom": ('Kplus', 'Wmax', 'alpha', 'delay', 'lambda', 'mu_minus', 'mu_plus', 'tau_plus', 'weight'),
    "stdp_pl_synapse_hom": ('Kplus', 'alpha', 'delay', 'lambda', 'mu', 'tau_plus', 'weight'),
    "stdp_triplet_synapse": ('Aminus', 'Aminus_triplet', 'Aplus', 'Aplus_triplet', 'Kplus', 'Kplus_triplet', 'Wmax', 'delay', 'tau_plus', 'tau_plus_triplet', 'weight'),
    "stdp_nn_symm_synapse": ('Wmax', 'alpha', 'delay', 'lambda', 'mu_minus', 'mu_plus', 'tau_plus', 'weight'),
    "stdp_nn_pre_centered_synapse": ('Kplus', 'Wmax', 'alpha', 'delay', 'lambda', 'mu_minus', 'mu_plus', 'tau_plus', 'weight'),
    "stdp_nn_restr_synapse": ('Wmax', 'alpha', 'delay', 'lambda', 'mu_minus', 'mu_plus', 'tau_plus', 'weight'),
    "vogels_sprekeler_synapse": ('Kplus', 'Wmax', 'alpha', 'delay', 'eta', 'tau', 'weight'),
    "jonke_synapse": ('Kplus', 'Wmax', 'alpha', 'beta', 'delay', 'lambda', 'mu_minus', 'mu_plus', 'tau_plus', 'weight'),
    "stdp_facetshw_synapse_hom": ('Wmax', 'a_acausal', 'a_causal', 'a_thresh_th', 'a_thresh_tl', 'configbit_0', 'configbit_1', 'delay', 'driver_readout_time', 'init_flag', 'lookuptable_0', 'lookuptable_1', 'lookuptable_2', 'next_readout_time', 'no_synapses', 'readout_cycle_duration', 'reset_pattern', 'synapse_id', 'synapses_per_driver', 'tau_minus_stdp', 'tau_plus', 'weight', 'weight_per_lut_entry'),
    "stdp_dopamine_synapse": ('A_minus', 'A_plus', 'Kplus', 'Wmax', 'Wmin', 'b', 'c', 'delay', 'n', 'tau_c', 'tau_n', 'tau_plus', 'weight'),
}


def derive(p: TrainingParams) -> TrainingDerived:
    """Check the parameters and derive sizes, weights and expected connection counts.

    Raises:
        ConfigError: (a ValueError) one sentence naming the bad parameter, incompatible models included.
    """
    reason = compatibility(p.neuron_model, p.synapse_model)
    if reason:
        raise ConfigError(f"params.synapse_model {p.synapse_model} with params.neuron_model {p.neuron_model} is refused: {reason}")
    unknown = sorted(set(p.synapse_params) - set(SYNAPSE_PARAMETERS.get(p.synapse_model, p.synapse_params)))
    if unknown:
        raise ConfigError(
            f"params.synapse_params has {unknown[0]!r}, which {p.synapse_model} does not take "
            f"(it takes {', '.join(SYNAPSE_PARAMETERS[p.synapse_model])})"
        )
    if p.n_neurons < 1:
        raise ConfigError(f"params.n_neurons is {p.n_neurons}; it must be at least 1")
    if not 0 < p.frac_exc <= 1:
        raise ConfigError(f"params.frac_exc is {p.frac_exc}; it must be in (0, 1]")
    unknown = [x for x in p.plastic if x not in PATHWAYS]
    if unknown:
        raise ConfigError(f"params.plastic names the unknown pathway {unknown[0]!r}; pathways: {', '.join(PATHWAYS)}")
    if len(set(p.plastic)) != len(p.plastic):
        raise ConfigError("params.plastic names a pathway twice")
    if any(x.startswith("X") for x in p.plastic) and p.n_patterns == 0:
        raise ConfigError("params.plastic names an X pathway but params.n_patterns is 0, so there is no X population")
    if p.n_epochs < 1 or p.epoch_ms <= 0:
        raise ConfigError("params.n_epochs must be at least 1 and params.epoch_ms positive")
    if p.n_patterns > 0 and p.pattern_ms > p.epoch_ms:
        raise ConfigError(f"params.pattern_ms {p.pattern_ms} is longer than params.epoch_ms {p.epoch_ms}")
    neuron = NEURON_MODELS[p.neuron_model]
    weight = float(neuron["weight"] if p.weight is None else p.weight)
    if weight <= 0:
        raise ConfigError(f"params.weight is {weight}; it must be positive (inhibitory weights are -g * weight)")
    drive_weight = float(neuron["drive_weight"] if p.drive_weight is None else p.drive_weight)
    pattern_weight = float(weight if p.pattern_weight is None else p.pattern_weight)
    n_exc = int(round(p.n_neurons * p.frac_exc))
    n_inh = p.n_neurons - n_exc
    sizes = {"E": n_exc, "I": n_inh, "X": p.pattern_inputs if p.n_patterns > 0 else 0}
    pathway_weights, expected = {}, {}
    for pathway in PATHWAYS:
        src, tgt = pathway.split("->")
        w = weight if src == "E" else (-p.g * weight if src == "I" else pattern_weight)
        pathway_weights[pathway] = float(w)
        density = p.pattern_density if src == "X" else p.density
        pairs = sizes[src] * sizes[tgt] - (sizes[src] if src == tgt else 0)
        expected[pathway] = int(round(density * pairs))
    for pathway in p.plastic:
        if sizes[pathway.split("->")[0]] == 0 or sizes[pathway.split("->")[1]] == 0:
            raise ConfigError(f"params.plastic names {pathway}, but one of its populations is empty")
    if p.synapse_model == "stdp_pl_synapse_hom" and any(pathway_weights[x] < 0 for x in p.plastic):
        raise ConfigError(
            "stdp_pl_synapse_hom has no weight bound and drives negative (inhibitory) weights the wrong way; "
            "make only excitatory pathways (E->*, X->*) plastic"
        )
    return TrainingDerived(
        params=p,
        n_exc=n_exc,
        n_inh=n_inh,
        weight=weight,
        drive_weight=drive_weight,
        pattern_weight=pattern_weight,
        pathway_weights=pathway_weights,
        expected_connections=expected,
        unit=neuron["unit"],
    )


def model_params(d: TrainingDerived, pathway: str) -> dict[str, Any]:
    """Defaults of the model copy one pathway uses (synapse params, Wmax with the weight's sign).

    Args:
        d: derived parameters.
        pathway: e.g. ``"E->E"``.

    Returns:
        Parameters for ``nest.CopyModel(synapse_model, copy, params)``.
    """
    p = d.params
    synapse = d.synapse_of(pathway)
    info = SYNAPSE_MODELS[synapse]
    params = dict(p.synapse_params) if synapse == p.synapse_model else {}
    w0 = d.pathway_weights[pathway]
    if info["wmax"]:
        if "Wmax" not in params:
            params["Wmax"] = p.wmax_factor * w0
        elif math.copysign(1.0, params["Wmax"]) != math.copysign(1.0, w0):
            params["Wmax"] = -params["Wmax"]  # a bound for inhibitory weights has their sign
    if info.get("weight_common") or info["wmax"]:
        params["weight"] = w0  # NEST checks the copy's default weight against its Wmax (same sign)
    return params
