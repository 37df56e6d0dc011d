"""The sequence family as objects: build a WTA grid once, then simulate it further call by call.

The interface of the NEST replication of Klampfl & Maass (2013) (``Network``, ``InputGenerator``,
``Recorder.run_network``), on spikeflow's one driver::

    from spikeflow.models.sequence import Network, InputGenerator, Recorder

    grid = Network(grid_shape=(10, 5), k_min=2, k_max=10, n_inputs=100, seed=1, threads=2)
    inpgen = InputGenerator(grid, r_noise=5, r_input=5, r_noise_pattern=2, t_noise_range=[500.0, 800.0],
                            n_patterns=2, t_pattern=[300.0] * 2, pattern_sequences=[[0], [1]])
    recorder = Recorder(grid)
    id_list = recorder.run_network(inpgen=inpgen, t_sim=3000, train=True, order_neurons=True)
    recorder.result.spikes, recorder.result.order
    recorder.run_network(inpgen=inpgen, t_sim=3000, train=False, id_list=id_list)   # continues at 3000 ms

What does what:

- :class:`Network` checks its parameters exactly as a study config's ``params`` are checked (the
  family's JSON Schema, then :meth:`SequenceParams.check`; the same one-sentence
  :class:`~spikeflow.config.ConfigError`), draws the structure from ``seed`` (as a run with
  ``simulation.seed`` does) and builds it in one driver :class:`~spikeflow.driver.Session`
  (kernel setup, timed create and connect, spike recorders on every neuron and input channel).
- :class:`InputGenerator` keeps the input time line (frozen patterns in noise,
  :mod:`spikeflow.models.sequence.inputs`): frozen patterns drawn once, the rest drawn stretch by
  stretch as the runs need it (or up front with :meth:`InputGenerator.generate`).
- :meth:`Recorder.run_network` advances the same kernel by ``t_sim`` ms as one driver
  :class:`~spikeflow.driver.Phase` (plasticity on iff ``train``; weight snapshots as the phase's
  hooks every ``dt_rec`` ms), collects the stretch's spikes through the driver (gathered from every
  MPI rank on rank 0) and keeps them in :attr:`Recorder.result` (a :class:`NetworkRun`).

Neuron ids are model-order indices ``0 .. n_neurons - 1`` (circuit by circuit in grid order),
the ids of the ``wta`` population of a run's spikes file; input channels are ``0 .. n_inputs - 1``.
Times are ms of model time since the network was built; a run from ``t_start`` to ``t_stop``
holds the spikes stamped in ``(t_start, t_stop]`` (NEST's convention).

Same spikes as the config path: a Network and an InputGenerator with a config's ``params`` and
``simulation.seed``, its input drawn up front over the run (``inpgen.generate(t_sim)``, as the
config path does) and three ``run_network`` calls of ``t_test`` (train off), ``t_sim - 2 t_test``
(on) and ``t_test`` (off) give bit for bit the spikes of ``spikeflow.api.run`` of that config
with ``t_presim: 0`` and the same resolution and threads (``tests/nest/test_sequence_objects.py``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import spikeflow.models.sequence as family
from spikeflow.config import ConfigError, validate
from spikeflow.driver.gather import gather_objects
from spikeflow.driver.phases import Phase
from spikeflow.driver.session import Session, SimulationError
from spikeflow.io.spikes import PopulationSpikes
from spikeflow.models.sequence import inputs as inp
from spikeflow.models.sequence import network as builder
from spikeflow.models.sequence.params import (
    SequenceDerived,
    SequenceParams,
    structure_rng,
)
from spikeflow.models.sequence.protocol import (
    _local_afferents,
    _local_weights,
    recorded_neurons,
)

__all__ = ["InputGenerator", "Network", "NetworkRun", "Recorder"]

# Which Network's kernel NEST holds now (building a Network resets the kernel).
_LIVE: dict[str, Any] = {"generation": 0}


def _plain(value: Any) -> Any:
    """Tuples as lists, NumPy scalars and arrays as Python values: what a config file holds."""
    if isinstance(value, Mapping):
        return {key: _plain(v) for key, v in value.items()}
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _duration(name: str, value: Any, resolution: float) -> float:
    """``value`` as a positive, finite number of ms on the resolution grid (ConfigError otherwise)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of ms, not {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ConfigError(f"{name} is {value!r} ms; it must be a positive, finite number of ms")
    steps = v / resolution
    if abs(steps - round(steps)) > 1e-6:
        raise ConfigError(f"{name} is {v} ms, not a multiple of the resolution {resolution} ms")
    return v


class Network:
    """A grid of WTA circuits built in NEST, kept in one kernel across runs.

    Args:
        grid_shape: circuits per grid row and column.
        k_min, k_max: circuit sizes are drawn uniformly from {k_min, ..., k_max}.
        n_inputs: input channels (each projects to every neuron).
        seed: NEST's ``rng_seed`` and the seed of the structure (circuit sizes, links, STP draws)
            and, by default, of the inputs: a config's ``simulation.seed`` (default: its default, 55).
        threads: NEST threads per rank (``simulation.threads``; default 1). The circuits are
            placed per virtual process, so spikes depend on ranks x threads, not on their split.
        resolution: time step, ms (default 1.0, the step of the family's studies).
        ranks: MPI ranks the script runs with (default: as many as NEST has).
        progress_interval: model time between progress lines while simulating, ms (0: none).
        log: where progress lines go (default: nowhere; ``print`` to see them).
        **params: any other parameter of the family (``workflow/schemas/sequence.params.schema.yaml``,
            :class:`~spikeflow.models.sequence.params.SequenceParams`): network parameters
            (``lam``, ``n_links``, ``R_max``, ``eta``, ``stp``, ...); input parameters (``r_noise``,
            ``n_patterns``, ``t_pattern``, ...), which are the defaults of an :class:`InputGenerator`
            of this network; ``n_record_spikes``, which is the default neuron sample of a
            :class:`Recorder`. ``t_test``, ``dt_rec`` and ``n_record_weights`` describe a config's
            protocol and are accepted (and checked) but not used here.

    Raises:
        ConfigError: a parameter a config would refuse, with the config's sentence (e.g.
            ``config key 'params.k_min': 0 is less than the minimum of 1``).
        SimulationError: NEST cannot load the family's extension module (the PyPI wheel), or runs
            with another number of MPI ranks.

    Attributes:
        params: the checked parameters.
        derived: the structure (sizes, positions, links; :class:`SequenceDerived`).
        simulation: the checked ``simulation`` section (seed, threads, resolution, ranks).
        session: the driver session holding the kernel.
        seq: NEST handles of the built network (:class:`~spikeflow.models.sequence.network.SequenceNetwork`).
    """

    def __init__(
        self,
        grid_shape: Sequence[int] = (10, 5),
        k_min: int = 2,
        k_max: int = 10,
        n_inputs: int = 100,
        *,
        seed: int | None = None,
        threads: int | None = None,
        resolution: float = 1.0,
        ranks: int | None = None,
        progress_interval: float = 0.0,
        log: Callable[[str], None] | None = None,
        **params: Any,
    ) -> None:
        from spikeflow.config import _schema
        from spikeflow.models import params_schema
        from spikeflow.preflight import check_run

        raw = _plain({"grid_shape": grid_shape, "k_min": k_min, "k_max": k_max, "n_inputs": n_inputs, **params})
        checked = validate(raw, params_schema("sequence"), root="params")  # the config's schema and sentences
        try:
            described = family.params_from_config(checked)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        sim: dict[str, Any] = {"t_presim": 0.0, "resolution": resolution, "progress_interval": progress_interval}
        for key, value in (("seed", seed), ("threads", threads), ("ranks", ranks)):
            if value is not None:
                sim[key] = value
        sim = validate({"model": "sequence", "simulation": _plain(sim)}, _schema("study"))["simulation"]
        family.check_environment()  # NEST able to load the extension module, before any NEST call
        if ranks is None:
            import nest

            sim["ranks"] = int(nest.NumProcesses())
        derived = family.for_run(described, {"simulation": sim})
        try:
            check_run(family.describe(derived), {"simulation": sim})
        except ValueError as err:
            raise ConfigError(str(err)) from None

        self.params: SequenceParams = derived.params
        self.derived: SequenceDerived = derived
        self.simulation: dict[str, Any] = sim
        self.session = Session(sim, log=log if log is not None else (lambda message: None))
        _LIVE["generation"] += 1
        self._generation = _LIVE["generation"]
        # every neuron is recorded; a Recorder keeps the spikes of the neurons it records from
        every = dataclasses.replace(derived, params=dataclasses.replace(derived.params, n_record_spikes=0))
        self.net = self.session.build(family, every)
        self.seq: builder.SequenceNetwork = self.net.devices["sequence"]
        self._input_source: InputGenerator | None = None  # the generator whose spike times the NEST generators hold
        self._n_runs = 0

    # ------------------------------------------------------------------------------ properties
    @property
    def nest(self) -> Any:
        return self.session.nest

    @property
    def seed(self) -> int:
        return int(self.simulation["seed"])

    @property
    def resolution(self) -> float:
        """Time step, ms."""
        return float(self.simulation["resolution"])

    @property
    def t_ms(self) -> float:
        """Model time simulated so far, ms."""
        return float(self.session.t_ms)

    @property
    def rank(self) -> int:
        return int(self.session.rank)

    @property
    def grid_shape(self) -> tuple[int, int]:
        return tuple(self.params.grid_shape)

    @property
    def n_inputs(self) -> int:
        return int(self.params.n_inputs)

    @property
    def n_neurons(self) -> int:
        return self.derived.n_neurons

    @property
    def n_circuits(self) -> int:
        return self.derived.n_circuits

    @property
    def sizes(self) -> np.ndarray:
        """Neurons per circuit in grid order (row-major), shape (n_circuits,)."""
        return self.derived.sizes

    @property
    def positions(self) -> np.ndarray:
        """(row, column) of each circuit, shape (n_circuits, 2)."""
        return self.derived.positions

    @property
    def links(self) -> np.ndarray:
        """Directed circuit links (source, target), shape (n_links, 2)."""
        return self.derived.links

    @property
    def circuit_of_neuron(self) -> np.ndarray:
        """Circuit of each neuron id, shape (n_neurons,)."""
        return self.derived.circuit_of_neuron

    # --------------------------------------------------------------------------------- methods
    def visualize_circuits(self, path: str | Path = "grid.png") -> Path | None:
        """Draw the circuit sizes on the grid (colour mesh and 3-D bars) into a PNG file.

        Args:
            path: the PNG file to write.

        Returns:
            The file written (rank 0; None on other ranks).
        """
        from spikeflow.models.sequence import plots

        if self.rank != 0:
            return None
        return plots.plot_grid(self.sizes, self.grid_shape, path)

    def _check_live(self) -> None:
        """Refuse to simulate a network whose kernel has been reset since it was built."""
        if self._generation != _LIVE["generation"] or abs(float(self.nest.biological_time) - self.t_ms) > 1e-6:
            raise SimulationError(
                "this Network's NEST kernel has been reset since it was built (by a newer Network or another "
                "run in this process); build the Network again"
            )

    def _set_inputs(self, source: InputGenerator | None, spike_times: list[np.ndarray]) -> None:
        builder.set_input_spikes(self.nest, self.seq, spike_times)
        self._input_source = source


class InputGenerator:
    """The input time line of a network: frozen patterns embedded in Poisson noise.

    Noise phases (duration uniform in ``t_noise_range``, on the time grid) alternate with pattern
    presentations; in a noise phase every channel fires Poisson at ``r_noise``; during a pattern
    every channel replays its frozen spike train of the pattern (drawn once, at ``r_input``) plus
    Poisson noise at ``r_noise_pattern``. Which pattern comes next:

    - ``pattern_sequences=None``: one of the ``n_patterns`` uniformly at random each time (the
      config path's rule, :func:`~spikeflow.models.sequence.inputs.schedule`; needs patterns of
      one length);
    - ``pattern_sequences=[[0, 1], [2]]``: the patterns of the current sequence in order, each after
      a noise phase; at a sequence's end the next sequence follows (cyclically) with probability
      ``p_switch``, else the same one again (the NEST replication's ``random_iterate``;
      :func:`~spikeflow.models.sequence.inputs.sequence_schedule`). ``[[0], [1]]`` alternates 0 and 1.

    Every argument left None takes the network's parameter of that name (the family's defaults
    unless the :class:`Network` was given others). Arguments are checked like a config's
    ``params`` (the same schema and sentences).

    Args:
        network: the network fed (its ``n_inputs`` channels).
        r_noise: rate of every channel in noise phases, Hz.
        r_input: rate of the frozen pattern spike trains, Hz.
        r_noise_pattern: extra Poisson noise of every channel during patterns, Hz.
        use_noise: False: no Poisson noise at all (noise phases silent, patterns without extra noise).
        t_noise_range: [low, high] of the noise-phase durations, ms.
        n_patterns: number of frozen patterns.
        t_pattern: length of every pattern, ms, or one length per pattern (a list of ``n_patterns``).
        pattern_sequences: lists of pattern ids presented in order (see above); None: random choice.
        p_switch: probability of moving on to the next sequence at the end of one (0 to 1).
        seed: seed of the patterns and the time line (default: the network's seed, the generator
            a config's run uses).

    Raises:
        ConfigError: a bad argument (one sentence).

    Attributes:
        patterns: ``patterns[k][c]``: spike times of pattern k on channel c, ms from its onset.
        lengths: length of each pattern, ms, shape (n_patterns,).
        t_end: the time line is drawn up to here (spike times < t_end), ms.
    """

    def __init__(
        self,
        network: Network,
        r_noise: float | None = None,
        r_input: float | None = None,
        r_noise_pattern: float | None = None,
        use_noise: bool = True,
        t_noise_range: Sequence[float] | None = None,
        n_patterns: int | None = None,
        t_pattern: float | Sequence[float] | None = None,
        pattern_sequences: Sequence[Sequence[int]] | None = None,
        p_switch: float = 1.0,
        seed: int | None = None,
    ) -> None:
        from spikeflow.models import params_schema

        schema = params_schema("sequence")
        given = {
            key: _plain(value)
            for key, value in (
                ("r_noise", r_noise),
                ("r_input", r_input),
                ("r_noise_pattern", r_noise_pattern),
                ("t_noise_range", t_noise_range),
                ("n_patterns", n_patterns),
            )
            if value is not None
        }
        lengths: list[float] | None = None
        if t_pattern is not None and isinstance(t_pattern, (list, tuple, np.ndarray)):
            lengths = [float(validate({"t_pattern": _plain(x)}, schema, root="params")["t_pattern"]) for x in t_pattern]
            if not lengths:
                raise ConfigError("t_pattern is an empty list; give one length (ms) per pattern")
            if "n_patterns" in given and int(given["n_patterns"]) != len(lengths):
                raise ConfigError(
                    f"t_pattern gives {len(lengths)} lengths but n_patterns is {given['n_patterns']}; give one length per pattern"
                )
            given["n_patterns"] = len(lengths)
            given["t_pattern"] = max(lengths)
        elif t_pattern is not None:
            given["t_pattern"] = _plain(t_pattern)
        checked = validate(given, schema, root="params")
        try:
            p = SequenceParams.from_config({**network.params.to_dict(), **checked})
        except ValueError as err:
            raise ConfigError(str(err)) from None
        if lengths is None:
            lengths = [float(p.t_pattern)] * int(p.n_patterns)
        if not isinstance(use_noise, (bool, np.bool_)):
            raise ConfigError(f"use_noise must be true or false, not {use_noise!r}")
        try:
            p_switch = float(p_switch)
        except (TypeError, ValueError):
            raise ConfigError(f"p_switch must be a probability (0 to 1), not {p_switch!r}") from None
        if not 0.0 <= p_switch <= 1.0:
            raise ConfigError(f"p_switch is {p_switch}; it must be a probability (0 to 1)")
        sequences = None
        if pattern_sequences is not None:
            sequences = _check_sequences(pattern_sequences, len(lengths))
        elif len(set(lengths)) > 1:
            raise ConfigError(
                "t_pattern gives patterns of different lengths, which a random choice among patterns does not support "
                "(a config has one t_pattern); give pattern_sequences to present them in order"
            )
        if seed is None:
            seed = network.seed
        elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**31:
            raise ConfigError(f"seed is {seed!r}; it must be an integer from 0 to 2147483647")

        self.network = network
        self.n_inputs = network.n_inputs
        self.r_noise = float(p.r_noise) if use_noise else 0.0
        self.r_input = float(p.r_input)
        self.r_noise_pattern = float(p.r_noise_pattern) if use_noise else 0.0
        self.use_noise = bool(use_noise)
        self.t_noise_range = (float(p.t_noise_range[0]), float(p.t_noise_range[1]))
        self.n_patterns = len(lengths)
        self.lengths = np.array(lengths, dtype=float)
        self.pattern_sequences = sequences
        self.p_switch = p_switch
        self.seed = int(seed)
        dt = network.resolution
        self._rng = structure_rng(self.seed + 2)  # the generator of a config run's inputs (protocol.draw_inputs)
        # pattern by pattern, channel by channel: the draws of inputs.frozen_patterns for equal lengths
        self.patterns = [inp.frozen_patterns(1, self.n_inputs, length, self.r_input, self._rng, dt)[0] for length in lengths]
        self.t_end = 0.0
        self._position = (0, 0)  # next pattern of the sequences: (sequence, index in it)
        self._tape = [np.zeros(0) for _ in range(self.n_inputs)]  # spike times not yet handed to NEST's generators
        self._fresh = False  # drawn since last handed to NEST
        self._onsets: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._durations: list[np.ndarray] = []

    def generate(self, t_stop: float) -> inp.Schedule:
        """Draw the time line on from where it ends (or from now) up to model time ``t_stop`` (ms).

        :meth:`Recorder.run_network` draws what a run needs by itself (up to one step past its
        end, so that the next run continues seamlessly); drawing a longer stretch first and
        running it in several calls gives the inputs of one long draw, which is what a config's
        run does (``inpgen.generate(t_sim)`` before its test, train and test calls). Spike times
        lie in ``[start, t_stop)``; complete patterns only.

        Args:
            t_stop: end of the stretch, ms of model time (a multiple of the resolution).

        Returns:
            The presentations of the new stretch (empty if the time line already reaches ``t_stop``).
        """
        dt = self.network.resolution
        t_stop = _duration("t_stop", t_stop, dt)
        start = max(self.t_end, self.network.t_ms + dt)  # spike times must lie in the future (> now)
        if t_stop <= start:
            return inp.Schedule(np.zeros(0), np.zeros(0, np.int64), float(self.lengths.max()), float(self.t_end))
        if self.pattern_sequences is None:
            sched = inp.schedule(start, t_stop, self.n_patterns, float(self.lengths[0]), self.t_noise_range, self._rng, dt)
        else:
            sched, self._position = inp.sequence_schedule(
                start, t_stop, self.pattern_sequences, self.lengths.tolist(), self.t_noise_range, self._rng, dt,
                p_switch=self.p_switch, position=self._position,
            )
        spikes = inp.input_spikes(sched, self.patterns, start, self.r_noise, self.r_noise_pattern, self._rng, dt)
        self._tape = [np.concatenate([old, new]) for old, new in zip(self._tape, spikes)]
        self._onsets.append(sched.onsets)
        self._ids.append(sched.pattern_ids)
        self._durations.append(sched.lengths())
        self.t_end = float(t_stop)
        self._fresh = True
        return sched

    @property
    def schedule(self) -> inp.Schedule:
        """Every presentation drawn so far (onsets ms, pattern ids, lengths), for the family's analyses."""
        onsets = np.concatenate(self._onsets) if self._onsets else np.zeros(0)
        ids = np.concatenate(self._ids) if self._ids else np.zeros(0, np.int64)
        durations = np.concatenate(self._durations) if self._durations else np.zeros(0)
        equal = bool(np.all(self.lengths == self.lengths.max()))
        return inp.Schedule(onsets, ids, float(self.lengths.max()), float(self.t_end), None if equal else durations)

    def _provide(self, t_start: float, t_stop: float) -> None:
        """Make NEST's generators hold this time line's spikes from ``t_start`` on, drawn up to ``t_stop`` (ms)."""
        if self.t_end < t_stop - 1e-9:
            self.generate(t_stop + self.network.resolution)  # one step past: the spikes stamped t_stop too
        if self.network._input_source is not self or self._fresh:
            self._tape = [t[t > t_start + 1e-9] for t in self._tape]  # earlier ones are delivered (or skipped)
            self.network._set_inputs(self, self._tape)
            self._fresh = False


def _check_sequences(sequences: Any, n_patterns: int) -> list[list[int]]:
    """``pattern_sequences`` as lists of pattern ids in range (ConfigError otherwise)."""
    try:
        out = [[int(k) for k in seq] for seq in sequences]
        ok = all(float(k) == int(k) for seq in sequences for k in seq)
    except (TypeError, ValueError):
        out, ok = [], False
    if not ok or not out or any(not seq for seq in out):
        raise ConfigError(
            f"pattern_sequences is {sequences!r}; it must be a non-empty list of non-empty lists of pattern ids, e.g. [[0], [1]]"
        )
    bad = [k for seq in out for k in seq if not 0 <= k < n_patterns]
    if bad:
        raise ConfigError(f"pattern_sequences names pattern {bad[0]}, but there are {n_patterns} patterns (ids 0 to {n_patterns - 1})")
    return out


@dataclass
class NetworkRun:
    """What one :meth:`Recorder.run_network` call recorded (rank 0; empty arrays on other ranks).

    Attributes:
        index: the network's run number (1 for its first run).
        title: the title given, if any.
        t_start, t_stop: the stretch simulated, ms; its spikes are stamped in ``(t_start, t_stop]``.
        train: whether plasticity (STDP) was on.
        ids: the recorded neurons (model-order indices, ascending), shape (n_ids,).
        spikes: their spikes (population ``wta``; ``node_ids`` are neuron ids), sorted by time.
        inputs: the input spikes (population ``inputs``; ``node_ids`` are channels), sorted by time.
        onsets, pattern_ids, durations: the presentations that begin in the stretch: onset (ms),
            pattern, length (ms), shape (n_presentations,).
        order: ``ids`` ordered by mean activation time within the first presented pattern
            (``order_neurons=True``; silent neurons last), else None.
        weight_times: times of the weight snapshots (``dt_rec``), ms, shape (n_snapshots,).
        weights: neuron id -> its incoming weights w_ki at each snapshot, shape (n_snapshots, n_afferents).
        epsps: neuron id -> its afferents' EPSPs y_i at each snapshot, shape (n_snapshots, n_afferents).
        weight_sources: neuron id -> source of each afferent, shape (n_afferents,): input channel c
            as -(c + 1), a network neuron as its id.
        per_rank: the driver's per-rank probes of the stretch (phase times, memory, spike counts).
    """

    index: int
    title: str | None
    t_start: float
    t_stop: float
    train: bool
    ids: np.ndarray
    spikes: PopulationSpikes
    inputs: PopulationSpikes
    onsets: np.ndarray
    pattern_ids: np.ndarray
    durations: np.ndarray
    order: np.ndarray | None = None
    weight_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: dict[int, np.ndarray] = field(default_factory=dict)
    epsps: dict[int, np.ndarray] = field(default_factory=dict)
    weight_sources: dict[int, np.ndarray] = field(default_factory=dict)
    per_rank: list[dict[str, Any]] = field(default_factory=list)

    def order_by(self, pattern: int) -> np.ndarray:
        """``ids`` ordered by mean activation phase over the complete presentations of ``pattern``.

        The phase of a neuron within one presentation is the angle of sum_t r(t) exp(2 pi i t / T)
        (:func:`spikeflow.models.sequence.analysis.order_by_activation`); silent neurons come last,
        in id order. Without a complete presentation of ``pattern`` in the stretch: ``ids``.
        """
        from spikeflow.models.sequence import analysis

        complete = (self.pattern_ids == pattern) & (self.onsets + self.durations <= self.t_stop + 1e-9)
        if not np.any(complete):
            return self.ids.copy()
        position = np.searchsorted(self.ids, self.spikes.node_ids.astype(np.int64))
        idx = analysis.order_by_activation(
            position, self.spikes.times, self.ids.size, self.onsets[complete], float(self.durations[complete][0])
        )
        return self.ids[idx]

    def plot_raster(
        self, path: str | Path, order: np.ndarray | None = None, t_start: float | None = None, t_stop: float | None = None
    ) -> Path:
        """Raster of the stretch, neurons in ``order`` (default: :attr:`order`, else by id), patterns shaded.

        Args:
            path: the PNG file to write.
            order: neuron ids, bottom row first (a permutation of :attr:`ids`).
            t_start, t_stop: the window drawn, ms (default: the whole stretch).

        Returns:
            The file written.
        """
        from spikeflow.models.sequence import plots

        order = self.order if order is None else np.asarray(order)
        rows = np.arange(self.ids.size) if order is None else np.searchsorted(self.ids, order)
        position = np.searchsorted(self.ids, self.spikes.node_ids.astype(np.int64))
        t_pattern = float(self.durations.max()) if self.durations.size else 0.0
        return plots.plot_test_raster(
            position,
            self.spikes.times,
            rows,
            self.onsets,
            t_pattern,
            self.t_start if t_start is None else float(t_start),
            self.t_stop if t_stop is None else float(t_stop),
            path,
            title=self.title or "",
        )


class Recorder:
    """Runs a network further and records it, call by call.

    Args:
        network: the network.
        id_list: neuron ids to record from by default (model-order indices); None: the network's
            ``n_record_spikes`` spread evenly over the model order, or every neuron (0, the default).

    Attributes:
        id_list: the ids recorded by the last run (those :meth:`run_network` returned).
        result: the last run's recordings (:class:`NetworkRun`), None before the first.
        results: every run's recordings, in order.
    """

    def __init__(self, network: Network, id_list: Sequence[int] | None = None) -> None:
        self.network = network
        self._default_ids = None if id_list is None else self._ids(id_list)
        self.id_list: list[int] | None = None if id_list is None else self._default_ids.tolist()
        self.result: NetworkRun | None = None
        self.results: list[NetworkRun] = []

    def run_network(
        self,
        inpgen: InputGenerator | None = None,
        t_sim: float = 5000.0,
        dt_rec: float | None = None,
        train: bool = True,
        order_neurons: bool = False,
        id_list: Sequence[int] | None = None,
        title: str | None = None,
    ) -> list[int]:
        """Simulate the network ``t_sim`` ms further (same kernel, from where the last call ended).

        Args:
            inpgen: the input (None: no input spikes in this stretch).
            t_sim: model time to simulate, ms (a multiple of the resolution).
            dt_rec: snapshot the incoming weights and the afferents' EPSPs of the recorded neurons
                at the start, every ``dt_rec`` ms and at the end, ms (None: no snapshots).
            train: plasticity (STDP) on during the stretch; off leaves every weight as it is.
            order_neurons: order the recorded neurons by mean activation time within the first
                pattern presented (:attr:`NetworkRun.order`).
            id_list: the neurons to record from (model-order indices, as returned by an earlier
                call); None: the recorder's default (see :class:`Recorder`).
            title: a title kept with the result (and used by its raster plot).

        Returns:
            The recorded neuron ids, ascending (pass them back as ``id_list`` to record the same ones).

        Raises:
            ConfigError: a bad argument (one sentence).
            SimulationError: the network's kernel has been reset since it was built.
        """
        net = self.network
        net._check_live()
        dt = net.resolution
        t_sim = _duration("t_sim", t_sim, dt)
        hook = 0.0 if dt_rec is None else _duration("dt_rec", dt_rec, dt)
        if inpgen is not None and inpgen.network is not net:
            raise ConfigError("inpgen belongs to another Network; make an InputGenerator of this network")
        if id_list is not None:
            ids = self._ids(id_list)
        elif self._default_ids is not None:
            ids = self._default_ids
        else:
            ids = recorded_neurons(net.n_neurons, net.params.n_record_spikes).astype(np.int64)
        nest = net.nest
        t0, t1 = net.t_ms, net.t_ms + t_sim
        if inpgen is not None:
            inpgen._provide(t0, t1)
        elif net._input_source is not None:
            net._set_inputs(None, [np.zeros(0)] * net.n_inputs)

        watched = [int(g) for g in net.seq.neuron_ids[ids]] if dt_rec is not None else []
        snapshots: list[tuple[float, dict[int, np.ndarray]]] = []
        afferents = _local_afferents(nest, net.seq, watched) if watched else {}

        def snapshot(t: float) -> None:
            snapshots.append((t, _local_weights(nest, watched)))

        net._n_runs += 1
        phase = Phase(
            f"run_network {net._n_runs}",
            t_sim,
            plasticity=bool(train),
            hook_interval_ms=hook,
            on_start=(lambda: snapshot(t0)) if watched else None,
            after_chunk=snapshot if watched else None,
        )
        net.session.run_phase(phase, set_plasticity=family.set_plasticity)
        gathered, per_rank, _ = net.session.collect([(t0, t1)], clear=True)
        parts = gather_objects((snapshots, afferents), net.session.num_ranks) if watched else []

        wta_ids, wta_times = gathered.get("wta", (np.zeros(0, np.int64), np.zeros(0)))
        keep = np.isin(wta_ids, ids)
        spikes = PopulationSpikes("wta", net.n_neurons, wta_ids[keep].astype(np.uint64), wta_times[keep]).sorted_by_time()
        in_ids, in_times = gathered.get("inputs", (np.zeros(0, np.int64), np.zeros(0)))
        inputs = PopulationSpikes("inputs", net.n_inputs, in_ids.astype(np.uint64), in_times).sorted_by_time()
        sched = inpgen.schedule if inpgen is not None else None
        if sched is not None:
            begins = (sched.onsets > t0) & (sched.onsets <= t1)
            onsets, pattern_ids, durations = sched.onsets[begins], sched.pattern_ids[begins], sched.lengths()[begins]
        else:
            onsets, pattern_ids, durations = np.zeros(0), np.zeros(0, np.int64), np.zeros(0)
        run = NetworkRun(
            index=net._n_runs,
            title=title,
            t_start=t0,
            t_stop=t1,
            train=bool(train),
            ids=ids.copy(),
            spikes=spikes,
            inputs=inputs,
            onsets=onsets,
            pattern_ids=pattern_ids,
            durations=durations,
            per_rank=per_rank,
        )
        if parts:
            _merge_snapshots(run, parts, net.seq)
        if order_neurons:
            first = pattern_ids[onsets + durations <= t1 + 1e-9]
            run.order = run.order_by(int(first[0])) if first.size else ids.copy()
        self.result = run
        self.results.append(run)
        self.id_list = ids.tolist()
        return self.id_list

    def _ids(self, id_list: Sequence[int]) -> np.ndarray:
        """``id_list`` as unique ascending neuron ids in range (ConfigError otherwise)."""
        n = self.network.n_neurons
        try:
            raw = np.asarray(list(id_list))
            ids = raw.astype(np.int64)
            whole = raw.size > 0 and bool(np.all(ids == raw))
        except (TypeError, ValueError):
            whole = False
        if not whole:
            raise ConfigError("id_list must be a non-empty list of neuron ids (integers, as run_network returns them)")
        bad = ids[(ids < 0) | (ids >= n)]
        if bad.size:
            raise ConfigError(
                f"id_list holds {int(bad[0])}, which is not a neuron id (0 to {n - 1}: model-order indices, as run_network returns them)"
            )
        return np.unique(ids)


def _merge_snapshots(run: NetworkRun, parts: list[tuple[list, dict]], seq: builder.SequenceNetwork) -> None:
    """Every rank's snapshots and afferents into the run's weights, EPSPs and sources, keyed by neuron id."""
    afferents: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for _, local in parts:
        afferents.update(local)
    n_snapshots = len(parts[0][0])
    run.weight_times = np.array([t for t, _ in parts[0][0]], dtype=float)
    merged: list[dict[int, np.ndarray]] = []
    for k in range(n_snapshots):
        at: dict[int, np.ndarray] = {}
        for snaps, _ in parts:
            at.update(snaps[k][1])
        merged.append(at)
    for gid, (sources, order) in afferents.items():
        i = int(seq.model_index([gid])[0])
        run.weights[i] = np.array([m[gid][0][order] for m in merged])
        run.epsps[i] = np.array([m[gid][1][order] for m in merged])
        run.weight_sources[i] = sources
    run.weights = dict(sorted(run.weights.items()))
    run.epsps = dict(sorted(run.epsps.items()))
    run.weight_sources = dict(sorted(run.weight_sources.items()))
