"""Klampfl & Maass (2013) sequence-learning network: parameters as data, and what follows from them.

Defaults are those of the original experiments (``sem_liquid_pattern1``; see
``shared/reference/sequence-learning.md``): a 10 x 5 grid of WTA circuits of U{2..10} neurons,
100 input channels, 1000 unique distance-dependent circuit links (lambda = 0.088), one frozen
pattern of 300 ms at 5 Hz plus 2 Hz noise, embedded in 5 Hz noise phases of U[300, 500] ms.
Nothing here imports NEST: circuit sizes, links and inputs are drawn with NumPy from the run
seed, so every MPI rank computes the same network.

Units: times ms, rates spikes/s (Hz). Distances in grid units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from spikeflow.models.params import check_known_keys


@dataclass(frozen=True)
class SequenceParams:
    """User-settable parameters (the ``params`` block of a sequence study config).

    Attributes:
        grid_shape: circuits per grid row and column.
        k_min, k_max: circuit sizes are drawn uniformly from {k_min, ..., k_max}.
        n_inputs: input channels; each projects to every network neuron.
        lam: lambda of the exponential distance distribution (1/grid units).
        n_links: unique directed circuit-to-circuit links (capped at n (n - 1)); a link connects
            every neuron of the source circuit to every neuron of the target circuit.
        R_max: total firing rate of each circuit (Hz).
        tau_rise, tau_decay: EPSP time constants (ms).
        eta: base learning rate.
        variance_tracking: per-weight learning rates (required for assemblies to form).
        stp: STP of the recurrent synapses (False: static amplitude 1).
        U, tau_d, tau_f: STP means; per connection drawn from N(mu, (stp_rel_sd mu)^2),
            clipped at U >= 0 (and <= 1), tau_d, tau_f >= resolution.
        stp_rel_sd: relative SD of the STP parameters.
        delay: delay of all connections (ms).
        input_weight: EPSP amplitude of input spikes.
        r_noise: rate of every channel during noise phases (Hz).
        r_input: rate of the frozen pattern spike trains (Hz).
        r_noise_pattern: extra Poisson noise on every channel during patterns (Hz).
        n_patterns: number of frozen patterns.
        t_pattern: pattern length (ms).
        t_noise_range: noise-phase durations are drawn uniformly from this range (ms).
        t_test: length of each test phase (ms), before and after training (plasticity off).
        dt_rec: interval of weight snapshots during training (ms); 0 = none.
        n_record_weights: neurons whose incoming weights are recorded (the first ones).
        n_record_spikes: neurons whose spikes are recorded, spread evenly over the model order
            (0 = all).
    """

    grid_shape: tuple[int, int] = (10, 5)
    k_min: int = 2
    k_max: int = 10
    n_inputs: int = 100
    lam: float = 0.088
    n_links: int = 1000
    R_max: float = 100.0
    tau_rise: float = 2.0
    tau_decay: float = 20.0
    eta: float = 0.05
    variance_tracking: bool = True
    stp: bool = True
    U: float = 0.5
    tau_d: float = 110.0
    tau_f: float = 5.0
    stp_rel_sd: float = 0.5
    delay: float = 1.0
    input_weight: float = 1.0
    r_noise: float = 5.0
    r_input: float = 5.0
    r_noise_pattern: float = 2.0
    n_patterns: int = 1
    t_pattern: float = 300.0
    t_noise_range: tuple[float, float] = (300.0, 500.0)
    t_test: float = 3000.0
    dt_rec: float = 0.0
    n_record_weights: int = 0
    n_record_spikes: int = 0

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> "SequenceParams":
        """Parameters from a config mapping (unknown keys are an error)."""
        p = dict(params)
        for key in ("grid_shape", "t_noise_range"):
            if key in p:
                p[key] = tuple(p[key])
        check_known_keys(cls, p, "sequence")
        out = replace(cls(), **p)
        out.check()
        return out

    def check(self) -> None:
        """Raise ValueError (one sentence) on inconsistent values."""
        if len(self.grid_shape) != 2 or min(self.grid_shape) < 1:
            raise ValueError(f"grid_shape must be two positive integers, got {self.grid_shape}")
        if not 1 <= self.k_min <= self.k_max:
            raise ValueError(f"need 1 <= k_min <= k_max, got k_min={self.k_min}, k_max={self.k_max}")
        lo, hi = self.t_noise_range
        if not 0 <= lo <= hi:
            raise ValueError(f"t_noise_range must be [low, high] with 0 <= low <= high, got {self.t_noise_range}")
        if self.n_patterns < 1 or self.t_pattern <= 0:
            raise ValueError("need at least one pattern (n_patterns >= 1) of positive length t_pattern")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["grid_shape"] = list(self.grid_shape)
        d["t_noise_range"] = list(self.t_noise_range)
        return d


@dataclass(frozen=True)
class SequenceDerived:
    """The network a parameter set and seed describe.

    Attributes:
        params: the parameters.
        seed: seed of the structure (circuit sizes, links, STP draws, inputs).
        sizes: circuit sizes in grid order (row-major), shape (n_circuits,).
        positions: grid coordinates (row, column) of each circuit, shape (n_circuits, 2).
        links: unique directed links (source circuit, target circuit), shape (n_links, 2).
        first_neuron: index of each circuit's first neuron in model order, shape (n_circuits,).
    """

    params: SequenceParams
    seed: int
    sizes: np.ndarray
    positions: np.ndarray
    links: np.ndarray
    first_neuron: np.ndarray = field(repr=False)

    @property
    def n_circuits(self) -> int:
        return int(self.sizes.size)

    @property
    def n_neurons(self) -> int:
        return int(self.sizes.sum())

    @property
    def circuit_of_neuron(self) -> np.ndarray:
        """Circuit index of each neuron in model order, shape (n_neurons,)."""
        return np.repeat(np.arange(self.n_circuits), self.sizes)

    @property
    def n_recurrent_synapses(self) -> int:
        return int((self.sizes[self.links[:, 0]] * self.sizes[self.links[:, 1]]).sum()) if self.links.size else 0


def structure_rng(seed: int) -> np.random.Generator:
    """The generator of the network structure (same on every rank)."""
    return np.random.default_rng([int(seed), 0x5E9])


def draw_sizes(p: SequenceParams, rng: np.random.Generator) -> np.ndarray:
    """Circuit sizes, uniform on {k_min..k_max}, shape (rows * cols,)."""
    return rng.integers(p.k_min, p.k_max + 1, size=p.grid_shape[0] * p.grid_shape[1])


def grid_positions(shape: tuple[int, int]) -> np.ndarray:
    """(row, column) of each circuit in row-major order, shape (rows * cols, 2)."""
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    return np.stack([rows.ravel(), cols.ravel()], axis=1)


def draw_links(positions: np.ndarray, lam: float, n_links: int, rng: np.random.Generator, max_draws: int = 10_000_000) -> np.ndarray:
    """Unique directed circuit links by the distance rule of Klampfl & Maass (2013).

    Repeat: draw d ~ Exponential(mean 1/lam); pick uniformly one ordered pair (I, J), I != J, with
    Euclidean grid distance in (d - 1, d + 1]; mark I -> J. Stop when ``n_links`` unique links
    exist (capped at n (n - 1)). Draws with no pair in the window are skipped.

    Returns:
        Links (source, target), shape (n_links, 2), in the order they were first marked.
    """
    n = len(positions)
    target = min(int(n_links), n * (n - 1))
    if target <= 0:
        return np.zeros((0, 2), dtype=np.int64)
    diff = positions[:, None, :] - positions[None, :, :]
    dist = np.sqrt((diff**2).sum(-1))
    pairs = np.argwhere(~np.eye(n, dtype=bool))
    pair_dist = dist[pairs[:, 0], pairs[:, 1]]
    order = np.argsort(pair_dist, kind="stable")
    pairs, pair_dist = pairs[order], pair_dist[order]
    linked = np.zeros(len(pairs), dtype=bool)
    links = []
    for _ in range(max_draws):
        d = rng.exponential(1.0 / lam)
        lo = np.searchsorted(pair_dist, d - 1.0, side="right")  # distance > d - 1
        hi = np.searchsorted(pair_dist, d + 1.0, side="right")  # distance <= d + 1
        if hi <= lo:
            continue
        k = lo + int(rng.integers(hi - lo))
        if not linked[k]:
            linked[k] = True
            links.append(pairs[k])
            if len(links) == target:
                return np.array(links, dtype=np.int64)
    raise ValueError(f"could not draw {target} unique links in {max_draws} draws (lam={lam} too small for the grid?)")


def derive(p: SequenceParams, seed: int) -> SequenceDerived:
    """Circuit sizes and links for parameters ``p`` and structure seed ``seed``."""
    rng = structure_rng(seed)
    sizes = draw_sizes(p, rng)
    positions = grid_positions(p.grid_shape)
    links = draw_links(positions, p.lam, p.n_links, rng)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return SequenceDerived(params=p, seed=int(seed), sizes=sizes, positions=positions, links=links, first_neuron=first)


def vp_layout(sizes: np.ndarray, n_vp: int) -> tuple[np.ndarray, np.ndarray]:
    """Place each circuit on one virtual process and map neurons to creation slots.

    NEST puts node id g on VP ``g % n_vp``. Neurons are created as one block of
    ``n_slots = n_vp * max_v(n_v)`` consecutive nodes; slot s (0-based in the block) of a block
    starting at node id ``first`` lives on VP ``(first + s) % n_vp``. Circuits are assigned to
    VPs greedily (largest first, to the VP with the fewest neurons, ties to the lowest VP);
    unused slots are padding (silent neurons).

    Args:
        sizes: circuit sizes, shape (n_circuits,).
        n_vp: number of virtual processes.

    Returns:
        ``(vp_of_circuit, slot_vp_row)``: the VP of each circuit, shape (n_circuits,), and for
        each neuron in model order its (vp, row) — slot offset ``row * n_vp + ((vp - first) % n_vp)``
        is computed by :func:`neuron_slots` once ``first`` is known — shape (n_neurons, 2).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    load = np.zeros(n_vp, dtype=np.int64)
    vp_of = np.empty(sizes.size, dtype=np.int64)
    for c in sorted(range(sizes.size), key=lambda c: (-sizes[c], c)):
        v = int(np.argmin(load))
        vp_of[c] = v
        load[v] += sizes[c]
    rows_used = np.zeros(n_vp, dtype=np.int64)
    out = np.empty((int(sizes.sum()), 2), dtype=np.int64)
    n = 0
    for c in range(sizes.size):
        v = vp_of[c]
        for _ in range(sizes[c]):
            out[n] = (v, rows_used[v])
            rows_used[v] += 1
            n += 1
    return vp_of, out


def neuron_slots(vp_row: np.ndarray, n_vp: int, first_id: int) -> tuple[np.ndarray, int]:
    """Slot offsets (0-based within the created block) of each neuron, and the block size.

    Args:
        vp_row: (vp, row) per neuron from :func:`vp_layout`, shape (n_neurons, 2).
        n_vp: number of virtual processes.
        first_id: NEST node id of the block's first node.

    Returns:
        ``(slots, n_slots)``: slot offset per neuron (node id = first_id + slot), shape (n_neurons,).
    """
    vp, row = vp_row[:, 0], vp_row[:, 1]
    n_rows = int(row.max()) + 1 if row.size else 0
    slots = row * n_vp + (vp - first_id) % n_vp
    return slots.astype(np.int64), n_rows * n_vp
