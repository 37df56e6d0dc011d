"""One NEST kernel and the network in it: setup, build, phases, collection, per-rank probes.

:class:`Session` is the one place that calls the NEST kernel for a run: every family's run
goes through it (:func:`spikeflow.driver.run.simulate` for a whole run; the training family's
epoch loop builds one session per kernel it needs).
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Any, Callable, Mapping, Sequence

from spikeflow.driver.gather import gather_spikes
from spikeflow.driver.kernel import PhaseLog, kernel_timers, memory_now, setup_kernel
from spikeflow.driver.phases import PHASES, Phase, run_in_chunks
from spikeflow.driver.recording import SpikeRecorders, StateRecorders

#: Least wall time between two progress lines of a run in a process of its own, s: a short run
#: (a study's 1 s seeds) prints a line or two per phase instead of one per progress interval,
#: and pays for fewer stops (phases.run_in_chunks). MPI ranks keep every progress point.
MIN_LINE_S = 1.0


class SimulationError(RuntimeError):
    """A run that cannot go on as configured (wrong launch, NEST limits, inconsistent counts)."""


def printer(log: Callable[[str], None] | None, rank: int) -> Callable[[str], None]:
    """A progress printer that speaks on rank 0 only (to ``log``, or stdout with a ``[spikeflow]`` prefix)."""

    def say(message: str) -> None:
        if rank != 0:
            return
        if log is not None:
            log(message)
        else:
            print(f"[spikeflow] {message}", file=sys.stdout, flush=True)

    return say


class Session:
    """A reset NEST kernel set up for one run's ``simulation`` section.

    Args:
        sim: the run's ``simulation`` section (resolution ms, threads, ranks, seed, progress_interval ms).
        log: where progress lines go (default: stdout of rank 0).

    Raises:
        SimulationError: NEST runs with another number of MPI ranks than the config asks for.

    Attributes:
        kernel: what the kernel reported at setup (ranks, threads, VPs, seed, NEST version).
        phases: wall time and memory per cost bucket (create, connect, presimulate, simulate).
        counters: NEST's spike counter of this rank per simulated bucket.
        t_ms: model time simulated so far in this kernel, ms.
    """

    def __init__(self, sim: Mapping[str, Any], *, log: Callable[[str], None] | None = None) -> None:
        import nest

        self.nest = nest
        self.sim = sim
        self.kernel = setup_kernel(nest, resolution=sim["resolution"], threads=sim["threads"], seed=sim["seed"])
        if self.kernel["num_ranks"] != sim["ranks"]:
            raise SimulationError(
                f"the config asks for {sim['ranks']} MPI ranks but NEST runs with {self.kernel['num_ranks']} "
                f"(launch with mpirun -n {sim['ranks']}, with NEST built with MPI)"
            )
        self.rank = int(self.kernel["rank"])
        self.num_ranks = int(self.kernel["num_ranks"])
        self.say = printer(log, self.rank)
        self.memory_start = memory_now(nest)
        self.phases = PhaseLog(nest)
        self.counters = {kind: 0 for kind in PHASES[2:]}
        self.t_ms = 0.0
        self.network: Any = None
        self.recorders: SpikeRecorders | None = None
        self.state: StateRecorders | None = None

    def build(
        self,
        model: Any,
        derived: Any,
        *,
        after_connect: Callable[[Any], None] | None = None,
        prepare: bool = True,
        recording: Mapping[str, Any] | None = None,
    ) -> Any:
        """Create (network + spike recorders) and connect, each timed; returns the model's Network.

        Args:
            model: the model (module or object with ``create`` and ``connect``).
            derived: its derived parameters.
            after_connect: called with the network inside the connect phase (e.g. a restored state).
            prepare: end the connect phase with ``Prepare``/``Cleanup``, so that it holds all
                of construction (the presynaptic infrastructure is built there).
            recording: the run's ``recording`` section (multimeters on sampled neurons), if any.
        """
        nest = self.nest
        with self.phases.phase("create"):
            self.network = model.create(derived)
            self.recorders = SpikeRecorders(nest, self.network)
        with self.phases.phase("connect"):
            model.connect(self.network, derived)
            self.recorders.connect()
            if recording and recording.get("variables"):
                try:
                    self.state = StateRecorders(
                        nest,
                        self.network,
                        recording["variables"],
                        float(recording.get("interval_ms", 1.0)),
                        int(recording.get("neurons", 10)),
                        recording.get("populations") or (),
                    )
                except ValueError as err:
                    raise SimulationError(str(err)) from None
            if after_connect is not None:
                after_connect(self.network)
            if prepare:
                nest.Prepare()
                nest.Cleanup()
        return self.network

    def record_from(self, start_ms: float) -> None:
        """Make the recorders drop spikes at or before ``start_ms`` (a leading warm-up), ms."""
        if start_ms > 0 and self.recorders is not None:
            for recorder in self.recorders.recorders.values():
                recorder.start = float(start_ms)

    def run_phase(
        self,
        phase: Phase,
        *,
        label: str | None = None,
        set_plasticity: Callable[[Any, bool], None] | None = None,
        summary: bool = True,
    ) -> int:
        """Simulate one phase from the current model time; returns this rank's spike count of it."""
        if phase.plasticity is not None and set_plasticity is not None:
            set_plasticity(self.network, phase.plasticity)
        if phase.on_start is not None:
            phase.on_start()
        events = self.network.events if self.network is not None else ()
        start = time.perf_counter()
        with self.phases.phase(phase.kind):
            counted = run_in_chunks(
                self.nest,
                label or phase.name,
                phase.duration_ms,
                float(self.sim.get("progress_interval", 0.0)),
                self.say,
                t_start=self.t_ms,
                events=events,
                hook_interval=phase.hook_interval_ms,
                after_chunk=phase.after_chunk,
                min_line_s=MIN_LINE_S if self.num_ranks == 1 else 0.0,
            )
        wall = time.perf_counter() - start
        self.counters[phase.kind] += counted
        self.t_ms += phase.duration_ms
        if summary and phase.duration_ms > 0:
            self.say(
                f"{label or phase.name}: {phase.duration_ms:.0f} ms in {wall:.1f} s "
                f"(real-time factor {wall / phase.duration_ms * 1000:.3f})"
            )
        return counted

    def run_protocol(self, protocol: Sequence[Phase], set_plasticity: Callable[[Any, bool], None] | None = None) -> None:
        """Simulate every phase of ``protocol`` in order."""
        for phase in protocol:
            self.run_phase(phase, set_plasticity=set_plasticity)

    def rank_info(self, spike_counts: Mapping[str, int]) -> dict[str, Any]:
        """This rank's probes: host, phase times and memory, kernel timers, spike counts."""
        return {
            "rank": self.rank,
            "host": socket.gethostname(),
            "phases": self.phases.phases,
            "memory_start": self.memory_start,
            "kernel": kernel_timers(self.nest),
            "spike_counts": {name: int(n) for name, n in spike_counts.items()},
            # NEST's own count of spikes emitted on this rank (all neurons, parrots included)
            "nest_spike_counter": dict(self.counters),
        }

    def collect(
        self, windows: Sequence[tuple[float, float]] | None = None, *, clear: bool = False
    ) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
        """Read the recorders and gather every rank's spikes and probes on rank 0.

        Args:
            windows: keep only spikes in these (start, stop] windows of model time, ms (None: all).
            clear: empty the recorders afterwards, so that a session simulated further (several
                calls on the same kernel, e.g. :class:`spikeflow.models.sequence.Recorder`) collects
                each stretch once.

        Returns:
            (population -> (ids, times), per-rank probes, seconds it took); empty on other ranks.
        """
        start = time.perf_counter()
        local = self.recorders.local(windows, clear=clear)
        info = self.rank_info({name: ids.size for name, (ids, _) in local.items()})
        gathered, per_rank = gather_spikes(local, info, self.num_ranks)
        return gathered, per_rank, time.perf_counter() - start
