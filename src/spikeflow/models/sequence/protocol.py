"""The sequence family's protocol on the one driver: warm-up, test, train, test; inputs; weight snapshots.

Timeline (ms): ``[0, t_presim)`` warm-up (plasticity off, not recorded), then within ``t_sim``:
``test_before`` (``t_test``, plasticity off), ``train`` (``t_sim - 2 t_test``, plasticity on),
``test_after`` (``t_test``, plasticity off). The inputs (frozen patterns in noise) run through
the whole timeline and are drawn from the run seed, so every test presentation is known; they
are saved beside the spikes file (``sequence.npz``) together with the network structure and
snapshots every ``dt_rec`` ms of training of the incoming weights of the first
``n_record_weights`` neurons and of their afferents' EPSPs y_i (``weights_<i>``, ``epsps_<i>``).

Spikes file: populations ``wta`` (the network neurons in model order: circuit by circuit in
grid order) and ``inputs`` (the input channels), spike times in ms from the start of the run.
The driver (:func:`spikeflow.driver.run.simulate`) runs it: :mod:`spikeflow.models.sequence`
hands it :func:`protocol`, :func:`local_results` and :func:`write_outputs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from spikeflow.driver.phases import Phase
from spikeflow.io.atomic import atomic_path
from spikeflow.models.sequence.params import SequenceDerived, SequenceParams, structure_rng
from spikeflow.models.sequence import inputs as inp
from spikeflow.models.sequence import network

SIDE_FILE = "sequence.npz"


def phases(t_presim: float, t_sim: float, t_test: float) -> list[tuple[str, float, float, bool]]:
    """(name, start ms, stop ms, plasticity) of the recorded phases.

    Raises:
        ValueError: ``t_sim`` leaves no time to train.
    """
    t_train = t_sim - 2 * t_test
    if t_train <= 0:
        raise ValueError(
            f"simulation.t_sim ({t_sim} ms) must exceed twice params.t_test ({t_test} ms): it holds a test "
            "phase before and after training"
        )
    a = t_presim
    return [
        ("test_before", a, a + t_test, False),
        ("train", a + t_test, a + t_test + t_train, True),
        ("test_after", a + t_test + t_train, a + t_sim, False),
    ]


def draw_inputs(p: SequenceParams, seed: int, t_stop: float, resolution: float) -> dict[str, Any]:
    """Patterns, schedule and input spike times of a run (identical on every rank)."""
    rng = structure_rng(seed + 2)
    patterns = inp.frozen_patterns(p.n_patterns, p.n_inputs, p.t_pattern, p.r_input, rng, resolution)
    start = resolution  # spike_generator times must be > 0
    sched = inp.schedule(start, t_stop, p.n_patterns, p.t_pattern, p.t_noise_range, rng, resolution)
    spikes = inp.input_spikes(sched, patterns, start, p.r_noise, p.r_noise_pattern, rng, resolution)
    return {"patterns": patterns, "schedule": sched, "spikes": spikes}


def protocol(net: Any, d: SequenceDerived, sim: Mapping[str, Any]) -> list[Phase]:
    """Draw and set the run's inputs; the warm-up and the test/train/test phases with their snapshots.

    Args:
        net: the built :class:`~spikeflow.models.network.Network` (``devices["sequence"]``).
        d: the run's structure (drawn from the run seed).
        sim: the run's ``simulation`` section (t_presim, t_sim, resolution in ms).
    """
    import nest

    p = d.params
    seq = net.devices["sequence"]
    t_presim, t_sim = float(sim["t_presim"]), float(sim["t_sim"])
    drawn = draw_inputs(p, d.seed, t_presim + t_sim, float(sim["resolution"]))
    network.set_input_spikes(nest, seq, drawn["spikes"])
    watched = [int(g) for g in seq.neuron_ids[: p.n_record_weights]]
    snapshots: list[tuple[float, dict[int, np.ndarray]]] = []
    net.state.update(drawn=drawn, watched=watched, snapshots=snapshots, phases=phases(t_presim, t_sim, p.t_test))

    def snapshot(t: float) -> None:
        snapshots.append((t, _local_weights(nest, watched)))

    out = [Phase("warm-up", t_presim, kind="presimulate", recorded=False, plasticity=False)]
    for name, start, stop, plastic in net.state["phases"]:
        if plastic and watched:
            out.append(
                Phase(
                    name,
                    stop - start,
                    plasticity=True,
                    hook_interval_ms=max(p.dt_rec, 0.0),
                    on_start=lambda start=start: snapshot(start),
                    after_chunk=snapshot,
                )
            )
        else:
            out.append(Phase(name, stop - start, plasticity=plastic))
    return out


def set_plasticity(net: Any, on: bool) -> None:
    """STDP of every network neuron on or off."""
    network.set_learning(net.devices["sequence"], on)


def local_results(net: Any, d: SequenceDerived) -> tuple[list, dict]:
    """This rank's weight snapshots and the afferents of its watched neurons."""
    import nest

    return net.state["snapshots"], _local_afferents(nest, net.devices["sequence"], net.state["watched"])


def write_outputs(net: Any, d: SequenceDerived, parts: list[tuple[list, dict]], spikes: Path) -> dict[str, Any]:
    """Merge every rank's snapshots and write ``sequence.npz`` beside the spikes file (rank 0).

    Returns:
        The family's metadata: the model indices of the ``wta`` neurons whose spikes are recorded.
    """
    snapshots = []
    for k, (t, _) in enumerate(parts[0][0]):
        weights: dict[int, np.ndarray] = {}
        for part in parts:
            weights.update(part[0][k][1])
        snapshots.append((t, weights))
    afferents: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for part in parts:
        afferents.update(part[1])
    seq = net.devices["sequence"]
    save_side_file(spikes.with_name(SIDE_FILE), d, net.state["drawn"], net.state["phases"], snapshots, afferents, seq)
    return {"recorded_neurons": recorded_neurons(d.n_neurons, d.params.n_record_spikes).tolist()}


def save_side_file(path: Path, d, drawn, run_phases, snapshots, afferents, net) -> None:
    """Structure, inputs, phases and weight snapshots of a run (NumPy ``.npz``, atomic)."""
    pat_times, pat_channel, pat_id = [], [], []
    for k, pattern in enumerate(drawn["patterns"]):
        for c, times in enumerate(pattern):
            pat_times.append(times)
            pat_channel.append(np.full(times.size, c))
            pat_id.append(np.full(times.size, k))
    sched = drawn["schedule"]
    arrays = {
        "sizes": d.sizes,
        "positions": d.positions,
        "links": d.links,
        "vp_of_circuit": net.vp_of_circuit,
        "onsets": sched.onsets,
        "pattern_ids": sched.pattern_ids,
        "t_pattern": np.float64(sched.t_pattern),
        "pattern_spike_times": np.concatenate(pat_times) if pat_times else np.zeros(0),
        "pattern_spike_channel": np.concatenate(pat_channel) if pat_channel else np.zeros(0, int),
        "pattern_spike_pattern": np.concatenate(pat_id) if pat_id else np.zeros(0, int),
        "phase_names": np.array([ph[0] for ph in run_phases]),
        "phase_bounds": np.array([[ph[1], ph[2]] for ph in run_phases]),
    }
    if snapshots:
        arrays["weight_times"] = np.array([t for t, _ in snapshots])
        for n, (sources, order) in afferents.items():
            idx = int(net.model_index([n])[0])  # keys name the neuron's model-order index
            arrays[f"weights_{idx}"] = np.array([w[n][0][order] for _, w in snapshots])
            arrays[f"epsps_{idx}"] = np.array([w[n][1][order] for _, w in snapshots])
            arrays[f"weight_sources_{idx}"] = sources
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def recorded_neurons(n_neurons: int, n_record: int) -> np.ndarray:
    """Model indices of the neurons whose spikes are recorded: all (n_record 0), or n_record spread evenly."""
    if n_record <= 0 or n_record >= n_neurons:
        return np.arange(n_neurons)
    return np.unique(np.linspace(0, n_neurons - 1, n_record).round().astype(int))


def _local_weights(nest, watched: list[int]) -> dict[int, np.ndarray]:
    """Per watched local neuron: its incoming weights and their EPSPs y_i now, shape (2, n_afferents)."""
    local = nest.GetLocalNodeCollection(nest.NodeCollection(sorted(watched)))
    if len(local) == 0:
        return {}
    vals = local.get(["global_id", "weights", "epsps"])
    ids = np.atleast_1d(vals["global_id"])
    ws = vals["weights"] if len(local) > 1 else [vals["weights"]]
    ys = vals["epsps"] if len(local) > 1 else [vals["epsps"]]
    return {int(i): np.array([w, y], dtype=float) for i, w, y in zip(ids, ws, ys)}


def _local_afferents(nest, net, watched: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per watched local neuron: sources (input channel c -> -(c+1), neuron -> model index) and afferent order."""
    out = {}
    if not watched:
        return out
    local = nest.GetLocalNodeCollection(nest.NodeCollection(sorted(watched)))
    first_parrot = int(net.parrots[0].global_id)
    for g in local.tolist():
        conns = nest.GetConnections(source=net.parrots + net.neurons, target=nest.NodeCollection([g]))
        if len(conns) == 0:
            continue
        info = conns.get(["source", "receptor"])
        src = np.atleast_1d(info["source"]).astype(np.int64)
        rport = np.atleast_1d(info["receptor"]).astype(np.int64)
        order = np.argsort(rport)
        src, rport = src[order], rport[order]
        is_in = (src >= first_parrot) & (src < first_parrot + len(net.parrots))
        label = np.where(is_in, -(src - first_parrot + 1), net.model_index(src))
        out[int(g)] = (label, rport)
    return out
