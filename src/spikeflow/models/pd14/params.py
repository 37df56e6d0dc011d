"""Potjans & Diesmann (2014) cortical microcircuit: parameters as data, and what follows from them.

Tables are those of Potjans & Diesmann, Cereb. Cortex 24(3):785-806 (2014), as maintained in the
INM-6 reference implementation (see ``shared/reference/pd14.md``). Nothing here imports NEST: the
derived quantities (neuron and synapse counts, weights, DC drive) are plain numbers that the
NEST builder in :mod:`spikeflow.models.pd14`, the config checks and the tests all share.

Units: potentials mV, currents pA, capacitance pF, times ms, rates spikes/s.
Matrices are indexed ``[target, source]`` in the order of :data:`POPULATIONS`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from spikeflow.models.params import check_known_keys

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")

# --- Table 5 of the paper: populations ------------------------------------------------
FULL_NUM_NEURONS = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
K_EXT = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)  # external in-degrees

# --- Connection probabilities, rows = target, columns = source --------------------------
#            L23E    L23I    L4E     L4I     L5E     L5I     L6E     L6I
CONN_PROBS = (
    (0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0,    0.0076, 0.0),     # L23E
    (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0,    0.0042, 0.0),     # L23I
    (0.0077, 0.0059, 0.0497, 0.135,  0.0067, 0.0003, 0.0453, 0.0),     # L4E
    (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0,    0.1057, 0.0),     # L4I
    (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),     # L5E
    (0.0548, 0.0269, 0.0257, 0.0022, 0.06,   0.3158, 0.0086, 0.0),     # L5I
    (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),  # L6E
    (0.0364, 0.001,  0.0034, 0.0005, 0.0277, 0.008,  0.0658, 0.1443),  # L6I
)  # fmt: skip

# --- Full-scale mean rates (spikes/s) used for the DC compensation of downscaled networks ---
FULL_MEAN_RATES = (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829)

# --- Initial membrane potentials (mV) ----------------------------------------------------
V0_OPTIMIZED_MEAN = (-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43)
V0_OPTIMIZED_STD = (5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48)
V0_ORIGINAL_MEAN, V0_ORIGINAL_STD = -58.0, 10.0

# --- Thalamus -----------------------------------------------------------------------------
NUM_TH_NEURONS = 902  # never scaled
CONN_PROBS_TH = (0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196)


@dataclass(frozen=True)
class Pd14Params:
    """User-settable parameters of the microcircuit (the ``params`` block of a study config).

    Attributes:
        N_scaling: fraction of the full-scale neuron numbers, in (0, 1].
        K_scaling: fraction of the full-scale in-degrees, in (0, 1]; weights scale by 1/sqrt(K_scaling)
            and a DC current compensates the lost mean recurrent (and Poisson) input.
        bg_input: ``"poisson"`` (one Poisson generator per population at bg_rate * K_ext) or
            ``"dc"`` (a constant current with the same mean).
        bg_rate: rate of each external input, spikes/s.
        V0_type: ``"optimized"`` (per-population normal distributions near the stationary state)
            or ``"original"`` (-58 +- 10 mV for all).
        PSP_exc_mean: mean excitatory PSP amplitude, mV (converted to a PSC amplitude).
        g: relative inhibitory strength (negative).
        weight_rel_std: standard deviation of weights relative to their mean.
        delay_exc_mean, delay_inh_mean: mean delays of excitatory and inhibitory synapses, ms.
        delay_rel_std: standard deviation of delays relative to their mean.
        delay_poisson: delay of the background Poisson input, ms.
        E_L, V_th, V_reset: resting, threshold and reset potentials, mV.
        C_m: membrane capacitance, pF.
        tau_m: membrane time constant, ms.
        tau_syn: synaptic time constant (excitatory and inhibitory), ms.
        t_ref: refractory period, ms.
        thalamic_input: add the 902 thalamic neurons firing a Poisson burst.
        th_start, th_duration: start and length of the thalamic burst, ms.
        th_rate: rate of each thalamic neuron during the burst, spikes/s.
        PSP_th: thalamic PSP amplitude, mV.
        delay_th_mean, delay_th_rel_std: thalamic delay mean (ms) and relative SD.
        synapse_copies: ``"auto"`` (excitatory and inhibitory connections on their own copies of
            ``static_synapse`` when one model would hold more connections than NEST allows per
            virtual process on one VP, i.e. at large scales), ``"always"`` or ``"never"``. NEST's
            limit of 134,217,726 connections per VP counts per synapse model, so the copies let
            full scale run on 2 VPs.
    """

    N_scaling: float = 1.0
    K_scaling: float = 1.0
    bg_input: str = "poisson"
    bg_rate: float = 8.0
    V0_type: str = "optimized"
    PSP_exc_mean: float = 0.15
    g: float = -4.0
    weight_rel_std: float = 0.1
    delay_exc_mean: float = 1.5
    delay_inh_mean: float = 0.75
    delay_rel_std: float = 0.5
    delay_poisson: float = 1.5
    E_L: float = -65.0
    V_th: float = -50.0
    V_reset: float = -65.0
    C_m: float = 250.0
    tau_m: float = 10.0
    tau_syn: float = 0.5
    t_ref: float = 2.0
    thalamic_input: bool = False
    th_start: float = 700.0
    th_duration: float = 10.0
    th_rate: float = 120.0
    PSP_th: float = 0.15
    delay_th_mean: float = 1.5
    delay_th_rel_std: float = 0.5
    synapse_copies: str = "auto"

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> "Pd14Params":
        """Build from a (schema-validated) ``params`` mapping; unknown keys are an error."""
        check_known_keys(cls, params, "PD14")
        return replace(cls(), **dict(params))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Pd14Derived:
    """Everything the NEST builder needs, derived from :class:`Pd14Params`.

    Attributes:
        params: the parameters these numbers were derived from.
        populations: population names (8,).
        num_neurons: neurons per population (8,), int.
        num_synapses: recurrent synapses per pathway (8, 8) [target, source], int.
        ext_indegrees: scaled external in-degrees (8,), int.
        weights: mean recurrent PSC amplitudes (8, 8), pA (negative for inhibitory sources).
        weight_ext: external (Poisson) PSC amplitude, pA.
        delays: mean delays (8, 8), ms.
        dc_amp: constant input current per population (8,), pA.
        poisson_rates: rate of each population's background generator (8,), spikes/s (0 for DC).
        num_th_synapses: thalamic synapses per target population (8,), int.
        weight_th: thalamic PSC amplitude, pA.
    """

    params: Pd14Params
    populations: tuple[str, ...]
    num_neurons: np.ndarray
    num_synapses: np.ndarray
    ext_indegrees: np.ndarray
    weights: np.ndarray
    weight_ext: float
    delays: np.ndarray
    dc_amp: np.ndarray
    poisson_rates: np.ndarray
    num_th_synapses: np.ndarray
    weight_th: float
    reference_rates: np.ndarray = field(default_factory=lambda: np.array(FULL_MEAN_RATES))

    @property
    def total_neurons(self) -> int:
        return int(self.num_neurons.sum())

    @property
    def total_synapses(self) -> int:
        """Recurrent synapses between the 8 populations."""
        return int(self.num_synapses.sum())


def synapses_from_probabilities(conn_probs: np.ndarray, n_target: np.ndarray, n_source: np.ndarray) -> np.ndarray:
    """Expected total synapse count per pathway for ``fixed_total_number`` with multapses.

    N_syn = ln(1 - C) / ln(1 - 1 / (N_pre * N_post)), so that the probability of at least one
    synapse between a pair is C.

    Args:
        conn_probs: connection probabilities (n_target_pops, n_source_pops).
        n_target: target population sizes (n_target_pops,).
        n_source: source population sizes (n_source_pops,).

    Returns:
        Synapse counts (n_target_pops, n_source_pops), float (not rounded).
    """
    pairs = np.outer(np.asarray(n_target, float), np.asarray(n_source, float))
    return np.log(1.0 - np.asarray(conn_probs, float)) / np.log((pairs - 1.0) / pairs)


def psc_over_psp(C_m: float, tau_m: float, tau_syn: float) -> float:
    """PSC amplitude (pA) that gives a PSP peak of 1 mV for an exponential current synapse.

    The PSP is the convolution of the exponential PSC with the membrane's impulse response;
    its peak time follows from setting the derivative to zero (Hanuschkin et al. 2010, Eq. 5).

    Args:
        C_m: membrane capacitance, pF.
        tau_m: membrane time constant, ms.
        tau_syn: synaptic time constant, ms.

    Returns:
        Conversion factor, pA/mV (585.39 pA/mV for the PD14 neuron).
    """
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / C_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac**tau_m - frac**tau_syn))


def rheobase(p: Pd14Params) -> float:
    """Smallest constant current that makes the neuron fire, pA: C_m (V_th - E_L) / tau_m."""
    return p.C_m * (p.V_th - p.E_L) / p.tau_m


def derive(p: Pd14Params) -> Pd14Derived:
    """Derive neuron and synapse counts, weights and drive of the (possibly downscaled) model.

    Downscaling follows the reference implementation: neuron numbers scale with N_scaling,
    synapse numbers with N_scaling * K_scaling, external in-degrees with K_scaling; for
    K_scaling != 1 all weights scale by 1/sqrt(K_scaling) and a DC current restores the mean
    input the lost recurrent (and, with Poisson background, external) synapses carried.
    """
    n_full = np.array(FULL_NUM_NEURONS, float)
    k_ext = np.array(K_EXT, float)
    syn_full = synapses_from_probabilities(np.array(CONN_PROBS), n_full, n_full)

    num_neurons = np.round(n_full * p.N_scaling).astype(np.int64)
    num_synapses = np.round(syn_full * p.N_scaling * p.K_scaling).astype(np.int64)
    ext_indegrees = np.round(k_ext * p.K_scaling).astype(np.int64)

    factor = psc_over_psp(p.C_m, p.tau_m, p.tau_syn)
    psp = np.tile([p.PSP_exc_mean, p.PSP_exc_mean * p.g], (8, 4))  # exc. and inh. source columns
    psp[0, 2] *= 2.0  # L4E -> L23E doubled
    psc_full = psp * factor
    psc_ext_full = p.PSP_exc_mean * factor
    delays = np.tile([p.delay_exc_mean, p.delay_inh_mean], (8, 4))

    if p.bg_input == "dc":
        dc_amp = 0.001 * p.bg_rate * k_ext * psc_ext_full * p.tau_syn
    else:
        dc_amp = np.zeros(8)

    sqrt_k = np.sqrt(p.K_scaling)
    if p.K_scaling != 1.0:
        indegrees_full = syn_full / n_full[:, None]
        recurrent_input = (psc_full * indegrees_full * np.array(FULL_MEAN_RATES)).sum(axis=1)
        dc_amp = dc_amp + 0.001 * p.tau_syn * (1.0 - sqrt_k) * recurrent_input
        if p.bg_input == "poisson":
            dc_amp = dc_amp + 0.001 * p.tau_syn * (1.0 - sqrt_k) * psc_ext_full * k_ext * p.bg_rate

    th_full = synapses_from_probabilities(
        np.array(CONN_PROBS_TH)[:, None], n_full, np.array([NUM_TH_NEURONS])
    )[:, 0]
    num_th_synapses = np.round(th_full * p.K_scaling).astype(np.int64) if p.thalamic_input else np.zeros(8, np.int64)

    poisson_rates = p.bg_rate * ext_indegrees if p.bg_input == "poisson" else np.zeros(8)
    return Pd14Derived(
        params=p,
        populations=POPULATIONS,
        num_neurons=num_neurons,
        num_synapses=num_synapses,
        ext_indegrees=ext_indegrees,
        weights=psc_full / sqrt_k,
        weight_ext=psc_ext_full / sqrt_k,
        delays=delays,
        dc_amp=dc_amp,
        poisson_rates=np.asarray(poisson_rates, float),
        num_th_synapses=num_th_synapses,
        weight_th=p.PSP_th * factor / sqrt_k,
    )


def subthreshold_populations(d: Pd14Derived) -> list[str]:
    """Populations whose DC drive alone stays below rheobase in DC mode (they may never fire)."""
    if d.params.bg_input != "dc":
        return []
    return [name for name, amp in zip(d.populations, d.dc_amp) if amp < rheobase(d.params)]
