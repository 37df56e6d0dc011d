"""The epoch driver: train a plastic network epoch by epoch, measure, checkpoint, resume.

Epoch protocol (the same in an uninterrupted and in a resumed run, which is why they agree
spike for spike):

* the first kernel is built from the config (seed = ``simulation.seed``), runs the warm-up
  (``simulation.t_presim``, drive only, kernel reseeded with :func:`epoch_seed` (seed, 0)) and epoch 1;
* every later epoch starts from the state at the end of the previous one: NEST is reset, the
  network rebuilt with the config's seed (same neurons, same connections, same static weights),
  every plastic connection's weight and synapse state (e.g. Kplus, u, x) and every neuron's
  state (V_m, synaptic currents or conductances, adaptation, gating variables) are set from
  the saved state, and the kernel is reseeded with :func:`epoch_seed` (seed, epoch);
* state that NEST does not expose (spikes in transit, the postsynaptic spike history used by
  STDP, refractory counters, alpha-synapse derivatives, the volume transmitter's history)
  therefore starts empty at every epoch boundary, in both runs alike.

NEST cannot restore its random number generators' position, and its biological time can only
be reset to 0; rebuilding at every boundary with a seed derived from (seed, epoch) makes both
irrelevant. With ``epoch_boundary: continuous`` all epochs run in the one kernel instead (no
rebuild; measurements and checkpoints as before); a run resumed from such a checkpoint is rebuilt
from the saved state and continues with fresh random streams, so it is statistically, not
bitwise, equal to the uninterrupted run. Spike times are written on one continuous time axis (warm-up from 0, epoch e from
``t_presim + (e - 1) x epoch_ms``).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from spikeflow.driver.gather import broadcast, gather_objects, gather_spikes
from spikeflow.driver.kernel import kernel_timers
from spikeflow.driver.phases import Phase, timeline
from spikeflow.driver.run import run_metadata
from spikeflow.driver.session import Session, SimulationError, printer
from spikeflow.models import training as model
from spikeflow.models.training.params import INTEGER_STATE, SYNAPSE_MODELS
from spikeflow.preflight import check_run
from spikeflow.models.training import metrics
from spikeflow.models.training.checkpoint import (
    PathwayState,
    TrainingState,
    checkpoint_name,
    read_checkpoint,
    write_checkpoint,
)
from spikeflow.models.training.config import TrainingConfig
from spikeflow.models.training.patterns import Patterns, generator_times, make_patterns, schedule

def epoch_seed(seed: int, epoch: int) -> int:
    """NEST rng_seed of epoch ``epoch`` (0: warm-up) of a run with seed ``seed``; in [1, 2**31 - 1]."""
    ss = np.random.SeedSequence([int(seed), int(epoch), 0x5F7])
    return int(ss.generate_state(1, np.uint32)[0] % (2**31 - 2)) + 1


class Trainer:
    """Train a plastic network in NEST, epoch by epoch.

    Example::

        from spikeflow.models.training import TrainingConfig, Trainer
        cfg = TrainingConfig(neuron_model="iaf_psc_exp", synapse_model="stdp_synapse", n_epochs=5)
        tr = Trainer(cfg)
        tr.build()
        tr.train(3)                      # epochs 1-3
        tr.results[-1]["weights"]["E->E"]["mean"]
        tr.save_checkpoint("ckpt.h5")
        tr2 = Trainer.resume("ckpt.h5")  # continues with epoch 4, as if never stopped
        tr2.train(2)

    Attributes:
        config: the :class:`TrainingConfig`.
        epoch: epochs completed.
        results: one record per completed epoch (rank 0; empty lists on other ranks).
        initial: weight statistics before training, per plastic pathway.
    """

    def __init__(self, config: TrainingConfig | Mapping[str, Any], *, out_dir: str | Path | None = None, log: Callable[[str], None] | None = None) -> None:
        self.config = config if isinstance(config, TrainingConfig) else TrainingConfig.from_run_config(config)  # checked there
        self.out_dir = Path(out_dir) if out_dir is not None else self.config.output_dir
        self._log = log
        self.derived = model.params_from_config(self.config.params)
        self.description = model.describe(self.derived)
        try:
            check_run(self.description, self.config.run_config)
        except ValueError as err:
            raise SimulationError(str(err)) from None
        self.epoch = 0
        self.results: list[dict[str, Any]] = []
        self.initial: dict[str, Any] = {}
        self._state: TrainingState | None = None  # state at the end of the last epoch (rank 0 has the full state)
        self._live = False  # a kernel holds the network and may run the next epoch as it is
        self._spikes: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}  # epoch -> pop -> (ids, times)
        self._state_events: dict[int, list[Any]] = {}  # epoch -> every rank's multimeter samples (recording section)
        self._rank_totals: dict[str, Any] = {}
        self._kernel: dict[str, Any] = {}
        self._local_counts: dict[str, int] = {}
        p = self.derived.params
        sim = self.config.simulation
        self.patterns: Patterns | None = None
        if p.n_patterns > 0:
            self.patterns = make_patterns(p.n_patterns, p.pattern_inputs, p.pattern_ms, p.pattern_rate_hz, sim["resolution"], sim["seed"])

    # ----------------------------------------------------------------------------------- API
    @property
    def nest(self) -> Any:
        import nest

        return nest

    def build(self) -> "Trainer":
        """Set up NEST and build the network (from the saved state after a resume); returns self."""
        self._build_kernel(self._state)
        if self._state is None:
            snap = self._snapshot()
            if self._rank == 0:
                self._set_edges(snap)
                self.initial = {pw: metrics.weight_stats(s.values["weight"], None, s.edges) for pw, s in snap.plastic.items()}
                for s in snap.plastic.values():
                    s.history = self._sample(s)[None, :]
                self._state = snap
        return self

    def train(self, n_epochs: int | None = None) -> list[dict[str, Any]]:
        """Train ``n_epochs`` more epochs (default: up to the config's n_epochs); returns their records."""
        target = self.config.params["n_epochs"] if n_epochs is None else self.epoch + int(n_epochs)
        if target > self.config.params["n_epochs"]:
            self.config = self.config.with_epochs(target)
        if not self._live and self.epoch == 0 and self._state is None:
            self.build()
        done = []
        while self.epoch < target:
            done.append(self._run_epoch(self.epoch + 1))
        return done

    def save_checkpoint(self, path: str | Path) -> Path | None:
        """Write the state after the last completed epoch to ``path`` (rank 0; None elsewhere)."""
        if self._state is None:
            raise SimulationError("nothing to checkpoint: call build() or train() first")
        if self._rank != 0:
            return None
        return write_checkpoint(path, self._state)

    @classmethod
    def resume(cls, checkpoint: str | Path, *, out_dir: str | Path | None = None, log: Callable[[str], None] | None = None, n_epochs: int | None = None) -> "Trainer":
        """A trainer that continues from ``checkpoint`` exactly as the uninterrupted run would.

        Args:
            checkpoint: a file written by :meth:`save_checkpoint` (or by ``spikeflow train``).
            out_dir: output directory; spikes of earlier epochs are read from its ``epochs/``.
            log: progress printer.
            n_epochs: train up to this many epochs in total (default: the checkpoint's config).
        """
        state = read_checkpoint(checkpoint)
        cfg = TrainingConfig.from_run_config(state.config)
        if n_epochs is not None and n_epochs != cfg.params["n_epochs"]:
            cfg = cfg.with_epochs(n_epochs)
        self = cls(cfg, out_dir=out_dir, log=log)
        vps = state.info.get("num_vps")
        sim = cfg.simulation
        if vps is not None and int(vps) != int(sim["ranks"]) * int(sim["threads"]):
            raise SimulationError(
                f"checkpoint {checkpoint} was written with {vps} virtual processes but the config has "
                f"{sim['ranks']} x {sim['threads']}; NEST's connectivity depends on it, so resume with the same ranks x threads"
            )
        self.epoch = state.epoch
        self.results = list(state.results)
        self.initial = dict(state.initial)
        self._state = state
        self._rank_totals = {int(k): v for k, v in state.info.get("rank_totals", {}).items()}
        if self.out_dir is not None:
            self._load_epoch_spikes()
        return self

    @property
    def spikes(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """All spikes recorded so far (rank 0): population -> (0-based node ids, times in ms)."""
        out = {}
        for name in self.derived.populations:
            parts = [self._spikes[e][name] for e in sorted(self._spikes) if name in self._spikes[e]]
            ids = np.concatenate([x[0] for x in parts]) if parts else np.zeros(0, np.int64)
            ts = np.concatenate([x[1] for x in parts]) if parts else np.zeros(0)
            order = np.lexsort((ids, ts))
            out[name] = (ids[order], ts[order])
        return out

    def weights(self, pathway: str = "E->E") -> dict[str, np.ndarray]:
        """Current plastic connections of a pathway (rank 0): source, target (0-based), weight and state."""
        s = self._state.plastic[pathway]
        return {"source": s.source, "target": s.target, **s.values}

    # ----------------------------------------------------------------------------- internals
    @property
    def _rank(self) -> int:
        return int(self._kernel.get("rank", 0))

    def _say(self, message: str) -> None:
        printer(self._log, self._rank)(message)

    def _build_kernel(self, state: TrainingState | None) -> None:
        """A new kernel (driver session) with the network built, and restored from ``state`` if given."""
        self._session = Session(self.config.simulation, log=self._log)
        self._kernel = self._session.kernel
        def restore(net: Any) -> None:
            self.net = net  # _restore reads the new network's populations
            self._restore(state)

        self.net = self._session.build(
            model,
            self.derived,
            after_connect=restore if state is not None else None,
            prepare=False,
            recording=self.config.run_config.get("recording"),
        )
        self.recorders = self._session.recorders
        self._phases = self._session.phases
        self._memory_start = self._session.memory_start
        self._live = True
        if not hasattr(self, "model_configuration"):
            self.model_configuration = _model_configuration(self.nest, self.derived)

    def _run_epoch(self, epoch: int) -> dict[str, Any]:
        nest = self.nest
        p = self.derived.params
        sim = self.config.simulation
        wall0 = time.perf_counter()
        self._local_counts = {name: 0 for name in self.derived.populations}
        restart = p.epoch_boundary == "restart"
        if not self._live or (epoch > 1 and restart):  # restart: every later epoch in a rebuilt kernel
            self._build_kernel(self._state if self.epoch > 0 else None)
        build_phases = dict(self._phases.phases)
        self._phases.phases = {}
        counters = {"presimulate": 0, "simulate": 0}
        t_presim = float(sim["t_presim"])
        if epoch == 1 and t_presim > 0:
            nest.rng_seed = epoch_seed(sim["seed"], 0)
            counters["presimulate"] = self._session.run_phase(Phase("warm-up", t_presim, kind="presimulate"), summary=False)
            self._collect(0, 0.0, 0.0)
        nest.rng_seed = epoch_seed(sim["seed"], epoch)
        t_kernel = float(nest.biological_time)
        t_start = t_presim + (epoch - 1) * p.epoch_ms
        presentations = []
        if self.patterns is not None:
            presentations = schedule(self.patterns, epoch, p.epoch_ms, p.pattern_order, sim["seed"])
            times = generator_times(self.patterns, presentations, t_kernel, p.pattern_inputs)
            self.net.devices["pattern_generators"].set([{"spike_times": t.tolist()} for t in times])
        counters["simulate"] = self._session.run_phase(Phase(f"epoch {epoch}", p.epoch_ms), summary=False)
        collect0 = time.perf_counter()
        spikes = self._collect(epoch, t_start, t_kernel)
        self.epoch = epoch
        snap = self._snapshot()
        collect_s = time.perf_counter() - collect0
        rank_info = {
            "rank": self._kernel["rank"],
            "host": socket.gethostname(),
            "phases": {**build_phases, **self._phases.phases},
            "memory_start": self._memory_start,
            "kernel": kernel_timers(nest),
            "spike_counts": dict(self._local_counts),
            "nest_spike_counter": counters,
        }
        infos = gather_objects(rank_info, self._kernel["num_ranks"])
        record: dict[str, Any] = {}
        if self._rank == 0:
            prev = self._state
            self._set_edges(snap, prev)
            for pw, s in snap.plastic.items():
                old = prev.plastic[pw].history if prev is not None and pw in prev.plastic else None
                row = self._sample(s)[None, :]
                s.history = row if old is None or old.shape[1] != row.shape[1] else np.vstack([old, row])
            record = self._record(epoch, t_start, spikes, snap, prev, infos, presentations, time.perf_counter() - wall0, collect_s)
            self.results.append(record)
            snap.results = list(self.results)
            snap.initial = self.initial
            self._state = snap
            self._spikes[epoch] = spikes
            self._rank_totals = _accumulate(self._rank_totals, infos)
            snap.info["rank_totals"] = self._rank_totals
            if self.out_dir is not None:
                ck0 = time.perf_counter()
                self._write_epoch_spikes(epoch)
                write_checkpoint(self.out_dir / "checkpoints" / checkpoint_name(epoch), snap)
                record["performance"]["checkpoint_s"] = time.perf_counter() - ck0
            rates = ", ".join(f"{k} {v['rate_hz']:.1f} Hz" for k, v in record["populations"].items())
            changes = ", ".join(f"{k} mean {v['mean']:.4g} (d {v['change_mean']:+.3g})" for k, v in record["weights"].items())
            self._say(f"epoch {epoch}/{self.config.params['n_epochs']}: {rates}; weights {changes}")
        else:
            self._state = snap
        return record

    def _collect(self, epoch: int, t_start: float, t_kernel: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Read and clear the recorders; gather on rank 0; times moved to the run's time axis."""
        local = {}
        for name, (ids, ts) in self.recorders.local(clear=True).items():
            local[name] = (ids, ts - t_kernel + t_start)
            self._local_counts[name] = self._local_counts.get(name, 0) + int(ids.size)
        gathered, _ = gather_spikes(local, {}, self._kernel["num_ranks"])
        state = self._session.state
        if state is not None:  # multimeter samples, on the run's time axis, emptied for the next epoch
            local_state = state.local()
            for name, events in local_state.items():
                events["times"] = events["times"] - t_kernel + t_start
                state.meters[name].n_events = 0
            parts = gather_objects(local_state, self._kernel["num_ranks"])
            if self._rank == 0:
                self._state_events[epoch] = parts
        if self._rank == 0 and epoch == 0:
            self._spikes[0] = gathered
            if self.out_dir is not None:
                self._write_epoch_spikes(0)
        return gathered

    def state_reports(self) -> dict[str, Any] | None:
        """The state recordings of all epochs so far (rank 0), as :mod:`spikeflow.io.reports` holds them."""
        state = self._session.state if hasattr(self, "_session") else None
        if state is None or not self._state_events:
            return None
        parts = [part for epoch in sorted(self._state_events) for part in self._state_events[epoch]]
        return state.assemble(parts)

    def _snapshot(self) -> TrainingState:
        """The network's plastic and neuron state, gathered on rank 0 (sorted by source, target)."""
        nest = self.nest
        d = self.derived
        local_plastic = {}
        for pathway in model.plastic_pathways(d):
            src, tgt = pathway.split("->")
            synapse = d.params.synapse_model
            keys = ["weight", *SYNAPSE_MODELS[synapse]["state"]]
            common_weight = SYNAPSE_MODELS[synapse].get("weight_common")
            conns = nest.GetConnections(synapse_model=model.pathway_copy(pathway))
            if len(conns):
                read = ["source", "target", *(k for k in keys if not (common_weight and k == "weight"))]
                got = conns.get(read)
                arrays = {k: np.atleast_1d(np.asarray(got[k])) for k in read}
                if common_weight:  # one weight per model copy, not per connection
                    weight = nest.GetDefaults(model.pathway_copy(pathway))["weight"]
                    arrays["weight"] = np.full(arrays["source"].shape, float(weight))
                arrays["source"] = arrays["source"].astype(np.int64) - self.net.populations[src][0].global_id
                arrays["target"] = arrays["target"].astype(np.int64) - self.net.populations[tgt][0].global_id
            else:
                arrays = {k: np.zeros(0) for k in ["source", "target", *keys]}
            local_plastic[pathway] = arrays
        local_neurons = {}
        for name, pop in self.net.populations.items():
            keys = model.neuron_state_keys(d, name)
            if not keys:
                continue
            loc = _local_nodes(nest, pop)
            if len(loc):
                got = loc.get(["global_id", *keys])
                arrays = {k: np.atleast_1d(np.asarray(got[k], float)) for k in keys}
                arrays["node_ids"] = np.atleast_1d(np.asarray(got["global_id"], np.int64)) - pop[0].global_id
            else:
                arrays = {k: np.zeros(0) for k in ["node_ids", *keys]}
            local_neurons[name] = arrays
        parts = gather_objects((local_plastic, local_neurons), self._kernel["num_ranks"])
        info = {"seed": self.config.simulation["seed"], "num_vps": self._kernel["virtual_processes"], "nest_version": self._kernel["nest_version"]}
        t_ms = float(self.config.simulation["t_presim"]) + self.epoch * d.params.epoch_ms
        if self._rank != 0:
            return TrainingState(self.epoch, t_ms, self.config.run_config, {}, {}, info=info)
        plastic = {}
        for pathway in local_plastic:
            merged = {k: np.concatenate([part[0][pathway][k] for part in parts]) for k in local_plastic[pathway]}
            order = np.lexsort((merged["target"], merged["source"]))
            src, tgt = pathway.split("->")
            plastic[pathway] = PathwayState(
                source=merged.pop("source")[order].astype(np.uint64),
                target=merged.pop("target")[order].astype(np.uint64),
                values={k: v[order].astype(float) for k, v in merged.items()},
                attrs={"synapse_model": d.params.synapse_model, "copy": model.pathway_copy(pathway), "source_population": src, "target_population": tgt},
            )
        neurons = {}
        for name in local_neurons:
            merged = {k: np.concatenate([part[1][name][k] for part in parts]) for k in local_neurons[name]}
            order = np.argsort(merged["node_ids"], kind="stable")
            neurons[name] = {k: v[order] for k, v in merged.items()}
        return TrainingState(self.epoch, t_ms, self.config.run_config, plastic, neurons, info=info)

    def _restore(self, state: TrainingState) -> None:
        """Set plastic connections and neuron states of this rank from ``state`` (read on every rank)."""
        nest = self.nest
        d = self.derived
        state = broadcast(state, self._rank, self._kernel.get("num_ranks", 1))
        for pathway in model.plastic_pathways(d):
            saved = state.plastic.get(pathway)
            conns = nest.GetConnections(synapse_model=model.pathway_copy(pathway))
            if saved is None or not len(conns):
                continue
            src, tgt = pathway.split("->")
            n_tgt = len(self.net.populations[tgt])
            got = conns.get(["source", "target"])
            s = np.atleast_1d(np.asarray(got["source"], np.int64)) - self.net.populations[src][0].global_id
            t = np.atleast_1d(np.asarray(got["target"], np.int64)) - self.net.populations[tgt][0].global_id
            keys_now = s * n_tgt + t
            keys_saved = saved.source.astype(np.int64) * n_tgt + saved.target.astype(np.int64)
            idx = np.searchsorted(keys_saved, keys_now)
            idx = np.clip(idx, 0, max(len(keys_saved) - 1, 0))
            if len(keys_saved) == 0 or not np.array_equal(keys_saved[idx], keys_now):
                raise SimulationError(
                    f"the rebuilt network's {pathway} connections differ from the saved ones "
                    "(different seed, network or number of virtual processes)"
                )
            values = {}
            for key, arr in saved.values.items():
                if key == "weight" and SYNAPSE_MODELS[d.params.synapse_model].get("weight_common"):
                    continue
                column = arr[idx]
                # integer state (e.g. quantal_stp_synapse's n, a) must be set as int
                values[key] = column.astype(int).tolist() if key in INTEGER_STATE else column.tolist()
            if values:
                # a list of per-connection dicts: NEST refuses the dict-of-lists form under MPI
                keys = list(values)
                conns.set([dict(zip(keys, row)) for row in zip(*(values[k] for k in keys))])
        for name, pop in self.net.populations.items():
            saved = state.neurons.get(name)
            if not saved:
                continue
            loc = _local_nodes(nest, pop)
            if not len(loc):
                continue
            ids = np.atleast_1d(np.asarray(loc.get("global_id"), np.int64)) - pop[0].global_id
            rows = np.searchsorted(saved["node_ids"].astype(np.int64), ids)
            loc.set({k: v[rows].tolist() for k, v in saved.items() if k != "node_ids"})

    def _set_edges(self, snap: TrainingState, prev: TrainingState | None = None) -> None:
        bins = self.derived.params.histogram_bins
        for pw, s in snap.plastic.items():
            if prev is not None and pw in prev.plastic and prev.plastic[pw].edges is not None:
                s.edges = prev.plastic[pw].edges
                continue
            bound = None
            if SYNAPSE_MODELS[self.derived.params.synapse_model]["wmax"]:
                from spikeflow.models.training.params import model_params

                bound = model_params(self.derived, pw).get("Wmax")
            s.edges = metrics.histogram_edges(s.values["weight"], bound, bins)

    def _sample(self, s: PathwayState) -> np.ndarray:
        return np.asarray(s.values["weight"][: self.derived.params.record_weights_max], float)

    def _record(self, epoch, t_start, spikes, snap, prev, infos, presentations, wall_s, collect_s) -> dict[str, Any]:
        p = self.derived.params
        t_stop = t_start + p.epoch_ms
        sizes = self.derived.populations
        pops = {name: metrics.population_metrics(spikes[name][0], spikes[name][1], sizes[name], t_start, t_stop) for name in sizes}
        weights = {}
        for pw, s in snap.plastic.items():
            before = prev.plastic[pw].values["weight"] if prev is not None and pw in prev.plastic else None
            weights[pw] = metrics.weight_stats(s.values["weight"], before, s.edges)
            for key in SYNAPSE_MODELS[p.synapse_model]["state"]:
                v = s.values.get(key)
                if v is not None and v.size:
                    weights[pw][f"{key}_mean"] = float(v.mean())
        sim_walls = [r["phases"].get("simulate", {}).get("wall_s", 0.0) for r in infos]
        build_walls = [sum(r["phases"].get(k, {}).get("wall_s", 0.0) for k in ("create", "connect")) for r in infos]
        perf = {
            "wall_s": wall_s,
            "build_s": max(build_walls),
            "simulate_s": max(sim_walls),
            "collect_s": collect_s,
            "checkpoint_s": 0.0,
            "real_time_factor": max(sim_walls) / (p.epoch_ms / 1000.0),
            "vmsize_kb": max(max(v.get("vmsize_kb", -1) for v in r["phases"].values()) for r in infos),
            "peak_rss_kb": max(max(v.get("peak_rss_kb", -1) for v in r["phases"].values()) for r in infos),
            "num_connections": sum(int(r["kernel"].get("num_connections", 0)) for r in infos),
            "kernel_rank0": {k: v for k, v in infos[0]["kernel"].items() if k.startswith("time_")},
            "nest_spike_counter": sum(int(r["nest_spike_counter"]["simulate"]) for r in infos),
        }
        return {
            "epoch": epoch,
            "t_start_ms": t_start,
            "t_stop_ms": t_stop,
            "rng_seed": epoch_seed(self.config.simulation["seed"], epoch),
            "populations": pops,
            "weights": weights,
            "state": {name: metrics.state_summary(v) for name, v in snap.neurons.items()},
            "presentations": [[float(a), int(b)] for a, b in presentations],
            "performance": perf,
        }

    def _write_epoch_spikes(self, epoch: int) -> None:
        from spikeflow.io.spikes import PopulationSpikes, write_spikes

        sizes = self.derived.populations
        pops = [PopulationSpikes(n, sizes[n], ids.astype(np.uint64), ts) for n, (ids, ts) in self._spikes[epoch].items()]
        path = write_spikes(self.out_dir / "epochs" / f"spikes_epoch{epoch:04d}.h5", pops, {"epoch": epoch})
        if epoch in self._state_events:  # the epoch's multimeter samples beside its spikes (read back on resume)
            from spikeflow.io.atomic import atomic_path

            with atomic_path(path.with_suffix(".state.npz")) as tmp, open(tmp, "wb") as out:
                np.savez(out, **_flatten_state(self._state_events[epoch]))

    def _load_epoch_spikes(self) -> None:
        from spikeflow.io.spikes import read_spikes

        for e in range(0, self.epoch + 1):
            path = self.out_dir / "epochs" / f"spikes_epoch{e:04d}.h5"
            if path.is_file():
                data = read_spikes(path)
                self._spikes[e] = {n: (s.node_ids.astype(np.int64), s.times) for n, s in data.populations.items()}
            state = path.with_suffix(".state.npz")
            if state.is_file():
                with np.load(state) as z:
                    self._state_events[e] = _unflatten_state({k: z[k] for k in z.files})

    def spikes_metadata(self, run_id: str) -> dict[str, Any]:
        """The metadata of the final spikes.h5: the driver's keys (:func:`spikeflow.driver.run.run_metadata`) plus training's."""
        sim = self.config.simulation
        p = self.derived.params
        kernel = {
            "nest_version": "unknown",
            "num_ranks": int(sim["ranks"]),
            "threads_per_rank": int(sim["threads"]),
            "virtual_processes": int(sim["ranks"]) * int(sim["threads"]),
            **{k: v for k, v in self._kernel.items() if k in ("nest_version", "num_ranks", "threads_per_rank", "virtual_processes")},
        }
        protocol = [Phase("warm-up", float(sim["t_presim"]), kind="presimulate")]
        protocol += [Phase(f"epoch {e}", float(p.epoch_ms)) for e in range(1, self.epoch + 1)]
        per_rank = [tot for _, tot in sorted(self._rank_totals.items())]
        counts = {name: int(len(ids)) for name, (ids, _) in self.spikes.items()}
        return run_metadata(
            self.config.run_config,
            run_id,
            kernel,
            self.description,
            counts,
            per_rank,
            protocol=timeline(protocol),
            collect_s=sum(r["performance"]["collect_s"] for r in self.results),
            extra={"n_epochs": self.epoch, "epoch_ms": float(p.epoch_ms), "provenance": self._provenance()},
        )

    def _provenance(self) -> dict[str, Any]:
        from spikeflow.driver import provenance

        return provenance.collect(self.nest, int(self._kernel.get("num_ranks", 1)), **getattr(self, "sources", {}))


def _flatten_state(parts: list[dict[str, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """Every rank's multimeter samples as flat arrays ``rank/population/key`` (for an ``.npz``)."""
    return {f"{r}/{pop}/{key}": arr for r, part in enumerate(parts) for pop, events in part.items() for key, arr in events.items()}


def _unflatten_state(flat: Mapping[str, np.ndarray]) -> list[dict[str, dict[str, np.ndarray]]]:
    ranks: dict[int, dict[str, dict[str, np.ndarray]]] = {}
    for name, arr in flat.items():
        r, pop, key = name.split("/", 2)
        ranks.setdefault(int(r), {}).setdefault(pop, {})[key] = arr
    return [ranks[r] for r in sorted(ranks)]


def _accumulate(totals: dict[int, Any], infos: list[dict[str, Any]]) -> dict[int, Any]:
    """Sum per-rank phases (wall times; memory as maxima), spike counters and counts over epochs."""
    for info in infos:
        r = int(info["rank"])
        tot = totals.setdefault(
            r,
            {"rank": r, "host": info["host"], "phases": {}, "memory_start": info["memory_start"], "kernel": {}, "spike_counts": {}, "nest_spike_counter": {"presimulate": 0, "simulate": 0}},
        )
        for name, ph in info["phases"].items():
            acc = tot["phases"].setdefault(name, {"wall_s": 0.0, "vmsize_kb": -1, "peak_rss_kb": -1})
            acc["wall_s"] += ph["wall_s"]
            acc["vmsize_kb"] = max(acc["vmsize_kb"], ph["vmsize_kb"])
            acc["peak_rss_kb"] = max(acc["peak_rss_kb"], ph["peak_rss_kb"])
        tot["kernel"] = info["kernel"]
        for k, v in info["spike_counts"].items():
            tot["spike_counts"][k] = tot["spike_counts"].get(k, 0) + int(v)
        for k, v in info["nest_spike_counter"].items():
            tot["nest_spike_counter"][k] = tot["nest_spike_counter"].get(k, 0) + int(v)
    return totals


def _model_configuration(nest: Any, d: Any) -> dict[str, Any]:
    """The NEST models in use and their parameters (neuron model copy, one synapse model copy per pathway)."""

    def plain(values: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in values.items():
            if isinstance(v, (bool, int, float, str)):
                out[k] = v
            elif isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) for x in v):
                out[k] = list(v)
        return out

    conf = {"neuron_model": d.params.neuron_model, "neuron": plain(nest.GetDefaults("training_neuron")), "synapses": {}}
    for pathway in model.active_pathways(d):
        conf["synapses"][pathway] = {"model": d.synapse_of(pathway), "defaults": plain(nest.GetDefaults(model.pathway_copy(pathway)))}
    return conf


def _local_nodes(nest: Any, pop: Any) -> Any:
    """This rank's nodes of ``pop`` (NEST warns that the call is unsafe when misused; here every rank reads its own)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nest.GetLocalNodeCollection(pop)
