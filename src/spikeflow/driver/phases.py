"""A run's protocol: the sequence of phases the driver simulates, and how one phase is advanced.

Every family's run is a list of :class:`Phase` objects. PD14 and the clustered networks are
``presimulate`` + ``simulate``; sequence learning is warm-up, test, train (plasticity on, weight
snapshots after every ``dt_rec``), test; training is one phase per epoch. The driver times each
phase under its ``kind`` (the cost buckets ``presimulate`` and ``simulate`` that the scaling and
memory analyses read), so the analyses work on every family alike.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

# Cost buckets in the order they happen; per-rank timings are stored under these names
# (analysis.costs reads them). A phase's ``kind`` is one of the last two.
PHASES = ("create", "connect", "presimulate", "simulate")

# An action the driver runs once the simulation has reached a model time (ms).
Event = tuple[float, Callable[[], None]]


@dataclass
class Phase:
    """One stretch of model time with the same settings.

    Attributes:
        name: its name in progress lines and in the metadata's ``protocol``.
        duration_ms: model time it lasts, ms.
        kind: the cost bucket it is timed under, ``"presimulate"`` or ``"simulate"``.
        recorded: whether its spikes are written (a warm-up usually is not).
        plasticity: switch plasticity on or off at its start (None: leave as it is); the model's
            ``set_plasticity(network, on)`` does it.
        hook_interval_ms: call ``after_chunk`` every this many ms of the phase (0: only at its end).
        on_start: called (on every rank) before the phase's first step.
        after_chunk: called (on every rank) with the model time (ms) after each hook interval
            and at the end of the phase.
    """

    name: str
    duration_ms: float
    kind: str = "simulate"
    recorded: bool = True
    plasticity: bool | None = None
    hook_interval_ms: float = 0.0
    on_start: Callable[[], None] | None = None
    after_chunk: Callable[[float], None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in PHASES[2:]:
            raise ValueError(f"phase {self.name!r}: kind must be one of {PHASES[2:]}, not {self.kind!r}")
        if not np.isfinite(self.duration_ms) or self.duration_ms < 0:
            raise ValueError(f"phase {self.name!r}: duration {self.duration_ms} ms must be finite and >= 0")


def standard_protocol(sim: Mapping[str, Any]) -> list[Phase]:
    """``presimulate`` (``simulation.t_presim``, recorded) then ``simulate`` (``simulation.t_sim``)."""
    return [
        Phase("presimulate", float(sim["t_presim"]), kind="presimulate"),
        Phase("simulate", float(sim["t_sim"])),
    ]


def timeline(protocol: Sequence[Phase], t0: float = 0.0) -> list[dict[str, Any]]:
    """The protocol as metadata: name, kind, start and stop (ms), recorded, plasticity of each phase."""
    rows, t = [], t0
    for ph in protocol:
        rows.append(
            {
                "name": ph.name,
                "kind": ph.kind,
                "start_ms": t,
                "stop_ms": t + ph.duration_ms,
                "recorded": ph.recorded,
                "plasticity": ph.plasticity,
            }
        )
        t += ph.duration_ms
    return rows


def recorded_windows(protocol: Sequence[Phase], t0: float = 0.0) -> list[tuple[float, float]]:
    """(start, stop] windows (ms) of the recorded phases, adjacent ones merged."""
    windows: list[tuple[float, float]] = []
    for row in timeline(protocol, t0):
        if not row["recorded"] or row["stop_ms"] <= row["start_ms"]:
            continue
        if windows and abs(windows[-1][1] - row["start_ms"]) < 1e-9:
            windows[-1] = (windows[-1][0], row["stop_ms"])
        else:
            windows.append((row["start_ms"], row["stop_ms"]))
    return windows


def run_in_chunks(
    nest: Any,
    label: str,
    duration: float,
    interval: float,
    say: Callable[[str], None],
    *,
    t_start: float = 0.0,
    events: Sequence[Event] = (),
    hook_interval: float = 0.0,
    after_chunk: Callable[[float], None] | None = None,
    min_line_s: float = 0.0,
) -> int:
    """Advance the simulation by ``duration`` ms, printing progress every ``interval`` ms of model time.

    One ``Prepare`` ... ``Cleanup`` bracket holds the phase; ``Run`` is called up to each progress
    line, each hook time and each event time (NEST's results do not depend on how a stretch of
    time is split into ``Run`` calls). With ``min_line_s`` > 0, a progress point is passed
    without stopping when, at the speed so far, the line would come less than ``min_line_s`` of
    wall time after the previous one (the first point of the phase is always a stop, to
    measure the speed): a short run prints a line or two instead of one per ``interval``, and
    saves the ``Run`` call and the spike-counter read of each stop (NEST builds its whole status
    for that read: 2 ms with a 1,544-neuron PD14 network). Only for a process of its own: the
    ranks of an MPI run must stop at the same model times, so they keep every point.

    Args:
        nest: the NEST module.
        label: phase name for the progress lines.
        duration: model time to simulate, ms.
        interval: model time between progress lines, ms (0: no progress lines).
        say: where progress lines go.
        t_start: model time at the start of this phase, ms.
        events: (model time in ms, action) pairs; an action runs when the simulation has
            reached its time (e.g. a parameter switched by a model); those outside
            ``(t_start, t_start + duration]`` are ignored.
        hook_interval: call ``after_chunk`` every this many ms (0: only at the end).
        after_chunk: called with the model time (ms) at each hook time and at the end.
        min_line_s: least wall time between progress lines, s (0: a line at every point).

    Returns:
        The spikes NEST counted on this rank over the whole duration (``local_spike_counter``
        covers only the last ``Run``, so it is summed over chunks).
    """
    if duration <= 0:
        return 0
    progress = _grid(duration, interval)
    hooks = _grid(duration, hook_interval) if after_chunk is not None else set()
    pending = sorted(
        ((t - t_start, action) for t, action in events if 0.0 < t - t_start <= duration + 1e-9), key=lambda e: e[0]
    )
    stops = sorted(hooks | {duration} | {t for t, _ in pending})  # every one of them a stop
    points = sorted(progress - set(stops))  # stops unless passed by min_line_s
    start = time.perf_counter()
    done = 0.0
    last_line = 0.0  # model time (ms) of the last progress line
    i = j = 0  # the next progress point and the next stop
    counted = 0
    nest.Prepare()
    try:
        while done < duration - 1e-9:
            while stops[j] <= done + 1e-9:
                j += 1
            while i < len(points) and points[i] <= done + 1e-9:
                i += 1
            end = stops[j]
            if i < len(points) and points[i] < end - 1e-9:
                k = i
                if min_line_s > 0 and done > 0:  # the speed so far, wall s per model ms
                    per_ms = (time.perf_counter() - start) / done
                    k = bisect.bisect_left(points, last_line + min_line_s / per_ms - 1e-9, lo=i) if per_ms > 0 else i
                if k < len(points) and points[k] < end - 1e-9:
                    end = points[k]
            step = end - done
            nest.Run(step)
            counted += int(nest.local_spike_counter)
            done = end
            if pending and pending[0][0] <= done + 1e-9:
                # parameters set between Run calls reach devices and propagators only at the
                # next Prepare (measured: a poisson_generator keeps its old rate otherwise)
                nest.Cleanup()
                while pending and pending[0][0] <= done + 1e-9:
                    pending.pop(0)[1]()
                nest.Prepare()
            if after_chunk is not None and (_on(done, hooks) or done >= duration - 1e-9):
                after_chunk(t_start + done)
            if interval > 0 and (_on(done, progress) or done >= duration - 1e-9):
                last_line = done
                elapsed = time.perf_counter() - start
                eta = elapsed / done * (duration - done)
                say(
                    f"{label}: {done:8.1f} / {duration:.1f} ms ({100 * done / duration:3.0f} %), "
                    f"{elapsed:7.1f} s elapsed, {eta:7.1f} s to go, real-time factor {elapsed / done * 1000:.2f}"
                )
    finally:
        nest.Cleanup()
    return counted


def _grid(duration: float, interval: float) -> set[float]:
    """Multiples of ``interval`` up to ``duration`` (and ``duration``); just ``duration`` for interval 0."""
    if interval <= 0:
        return {duration}
    chunk = min(interval, duration)
    return {min(chunk * k, duration) for k in range(1, int(np.ceil(duration / chunk - 1e-9)) + 1)} | {duration}


def _on(t: float, grid: set[float]) -> bool:
    return any(abs(t - g) < 1e-9 for g in grid)

