"""Run one sequence-learning simulation: test before training, training, test after training.

Timeline (ms): ``[0, t_presim)`` warm-up (plasticity off, not recorded), then within ``t_sim``:
``test_before`` (``t_test``, plasticity off), ``train`` (``t_sim - 2 t_test``, plasticity on),
``test_after`` (``t_test``, plasticity off). The inputs (frozen patterns in noise) run through
the whole timeline and are drawn from the run seed, so every test presentation is known; they
are saved beside the spikes file (``sequence.npz``) together with the network structure and
snapshots every ``dt_rec`` ms of training of the incoming weights of the first
``n_record_weights`` neurons and of their afferents' EPSPs y_i (``weights_<i>``, ``epsps_<i>``).

Spikes file: populations ``wta`` (the network neurons in model order: circuit by circuit in
grid order) and ``inputs`` (the input channels), spike times in ms from the start of the run.
"""

from __future__ import annotations

import datetime as dt
import platform
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

import spikeflow
from spikeflow.io.atomic import atomic_path
from spikeflow.io.spikes import PopulationSpikes, write_spikes
from spikeflow.models.sequence_params import SequenceParams, derive, structure_rng
from spikeflow.sequence import inputs as inp
from spikeflow.sequence import network
from spikeflow.simulate import printer

SIDE_FILE = "sequence.npz"


class SequenceRunError(RuntimeError):
    """A sequence run that cannot go on as configured."""


def phases(t_presim: float, t_sim: float, t_test: float) -> list[tuple[str, float, float, bool]]:
    """(name, start ms, stop ms, plasticity) of the recorded phases."""
    t_train = t_sim - 2 * t_test
    if t_train <= 0:
        raise SequenceRunError(
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


def run(cfg: Mapping[str, Any], out: str | Path, *, run_id: str = "run", log: Callable[[str], None] | None = None) -> Path | None:
    """Run a resolved sequence config; write ``out`` (spikes) and ``sequence.npz`` beside it.

    Returns:
        The spikes file on rank 0, None on other ranks.
    """
    import nest

    from spikeflow import nestext
    from spikeflow.kernel import setup_kernel

    sim = cfg["simulation"]
    p = SequenceParams.from_config(cfg["params"])
    seed = int(sim["seed"])
    t_presim, t_sim = float(sim["t_presim"]), float(sim["t_sim"])
    run_phases = phases(t_presim, t_sim, p.t_test)
    nestext.check_nest_supports_extensions()
    kernel = setup_kernel(nest, resolution=sim["resolution"], threads=sim["threads"], seed=seed)
    if kernel["num_ranks"] != sim["ranks"]:
        raise SequenceRunError(f"the config asks for {sim['ranks']} MPI ranks but NEST runs with {kernel['num_ranks']}")
    say = printer(log, kernel["rank"])
    nestext.load(nest)
    d = derive(p, seed)
    wall = {}
    t0 = time.perf_counter()
    net = network.create(nest, d)
    network.connect(nest, net)
    drawn = draw_inputs(p, seed, t_presim + t_sim, float(sim["resolution"]))
    network.set_input_spikes(nest, net, drawn["spikes"])
    rec_wta = nest.Create("spike_recorder", params={"start": t_presim})
    rec_in = nest.Create("spike_recorder", params={"start": t_presim})
    recorded = recorded_neurons(d.n_neurons, p.n_record_spikes)
    nest.Connect(nest.NodeCollection(sorted(int(g) for g in net.neuron_ids[recorded])), rec_wta)
    nest.Connect(net.parrots, rec_in)
    wall["build_s"] = time.perf_counter() - t0
    say(f"sequence run {run_id}: {d.n_circuits} circuits, {d.n_neurons} neurons, {nest.num_connections:,} connections, "
        f"{kernel['virtual_processes']} VP(s)")

    watched = [int(g) for g in net.neuron_ids[: p.n_record_weights]]
    snapshots: list[tuple[float, dict[int, np.ndarray]]] = []
    if t_presim > 0:
        network.set_learning(net, False)
        nest.Simulate(t_presim)
    for name, start, stop, plastic in run_phases:
        network.set_learning(net, plastic)
        t1 = time.perf_counter()
        step = p.dt_rec if (plastic and p.dt_rec > 0 and watched) else stop - start
        if plastic and watched:
            snapshots.append((start, _local_weights(nest, watched)))
        t = start
        while t < stop - 1e-9:
            chunk = min(step, stop - t)
            nest.Simulate(chunk)
            t += chunk
            if plastic and watched:
                snapshots.append((t, _local_weights(nest, watched)))
        wall[f"{name}_s"] = time.perf_counter() - t1
        say(f"{name}: {stop - start:.0f} ms in {wall[f'{name}_s']:.1f} s (real-time factor {wall[f'{name}_s'] / (stop - start) * 1000:.3f})")

    local = {
        "wta": _events(rec_wta, net.model_index),
        "inputs": _events(rec_in, lambda g: np.asarray(g) - int(net.parrots[0].global_id)),
    }
    afferents = _local_afferents(nest, net, watched)
    gathered = _gather(kernel["num_ranks"], local, snapshots, afferents)
    if kernel["rank"] != 0:
        return None
    local, snapshots, afferents = gathered
    pops = [
        PopulationSpikes("wta", d.n_neurons, local["wta"][0].astype(np.uint64), local["wta"][1]),
        PopulationSpikes("inputs", p.n_inputs, local["inputs"][0].astype(np.uint64), local["inputs"][1]),
    ]
    metadata = {
        "spikeflow_version": spikeflow.__version__,
        "nest_version": kernel["nest_version"],
        "python_version": platform.python_version(),
        "model": "sequence",
        "study": cfg.get("study", ""),
        "run_id": run_id,
        "seed": seed,
        "num_ranks": kernel["num_ranks"],
        "threads_per_rank": kernel["threads_per_rank"],
        "virtual_processes": kernel["virtual_processes"],
        "resolution_ms": float(sim["resolution"]),
        "t_presim_ms": t_presim,
        "t_sim_ms": t_sim,
        "phases": [{"name": n, "start_ms": a, "stop_ms": b, "plasticity": pl} for n, a, b, pl in run_phases],
        "wall_s": wall,
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "populations": [{"name": "wta", "size": d.n_neurons}, {"name": "inputs", "size": p.n_inputs}],
        "spike_counts": {q.name: q.n_spikes for q in pops},
        "recorded_neurons": recorded.tolist(),  # model indices of the wta neurons whose spikes are recorded
        "config": dict(cfg),
    }
    path = write_spikes(out, pops, metadata)
    save_side_file(Path(out).with_name(SIDE_FILE), d, drawn, run_phases, snapshots, afferents, net)
    say(f"wrote {sum(q.n_spikes for q in pops):,} spikes to {path}")
    return path


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


def _events(recorder, to_index) -> tuple[np.ndarray, np.ndarray]:
    ev = recorder.get("events")
    senders = np.asarray(ev["senders"], dtype=np.int64)
    return np.asarray(to_index(senders), dtype=np.int64), np.asarray(ev["times"], dtype=float)


def _gather(num_ranks, local, snapshots, afferents):
    if num_ranks == 1:
        return local, snapshots, afferents
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    parts = comm.gather((local, snapshots, afferents), root=0)
    if comm.Get_rank() != 0:
        return None
    merged = {name: tuple(np.concatenate([part[0][name][i] for part in parts]) for i in range(2)) for name in local}
    snaps = []
    for k, (t, _) in enumerate(snapshots):
        w = {}
        for part in parts:
            w.update(part[1][k][1])
        snaps.append((t, w))
    aff = {}
    for part in parts:
        aff.update(part[2])
    return merged, snaps, aff


def main(config: str | Path, out: str | Path, run_id: str | None = None) -> int:
    """CLI entry: run a resolved run config (YAML) and write ``out``."""
    from spikeflow.config import load_yaml, resolve_run

    run_cfg = resolve_run(load_yaml(config)).config
    run(run_cfg, out, run_id=run_id or Path(out).resolve().parent.name)
    return 0
