"""Figures drawn by a second process, beside the analysis that feeds them.

matplotlib's import (about 0.3 s) and its drawing (0.1-0.3 s a figure) are Python that holds
the GIL, so on a thread of the analysis process they wait for the analysis and it for them
(measured: no faster). A process of its own has its own interpreter: it imports matplotlib
while the analysis reads and computes, then draws while the analysis writes its tables, on a
core the analysis leaves idle. The analyses use one only when they may use more than one core
(:func:`spikeflow.analysis.parallel.analysis_threads`) and the run is large enough for the
process's start (a fresh interpreter, numpy, matplotlib) to pay (:data:`MIN_SPIKES`).

The process is started with ``spawn`` (a fresh interpreter: no ``fork`` of a threaded process
that holds HDF5 files open). Figures are asked for by name (a function of one module) with
picklable arguments, and drawn in the order asked; every figure is written atomically by the
drawing function itself (:func:`spikeflow.plots.common.save_figure`). :meth:`FigureProcess.finish`
waits for all of them and raises :class:`FigureProcessError` with the first failure, also
when the process died; the process ends with its parent (it reads requests from a pipe and
exits when the pipe closes).
"""

from __future__ import annotations

import importlib
import multiprocessing
from typing import Any, Sequence

__all__ = ["MIN_SPIKES", "FigureProcess", "FigureProcessError", "worth_a_process"]

#: Spikes (in the analysed populations) from which a figure process pays on this project's
#: machine: its start costs about 0.4 s of a core, the parent's import of matplotlib it saves
#: 0.3 s of the critical path; below about 2 M spikes the analysis ends before the process
#: has imported matplotlib (bench/README.md, "Attractor analysis throughput").
MIN_SPIKES = 2_000_000


class FigureProcessError(RuntimeError):
    """A figure the second process was asked for was not drawn."""


def worth_a_process(threads: int, n_spikes: int | None) -> bool:
    """Whether an analysis with ``threads`` threads of a run of ``n_spikes`` spikes draws in a second process."""
    return threads > 1 and n_spikes is not None and n_spikes >= MIN_SPIKES


class FigureProcess:
    """A second process that imports ``module`` at once and then calls its functions on request.

    Args:
        module: the figure module (e.g. ``"spikeflow.plots.rates"``), imported by the process
            as soon as it starts.

    Use as a context manager: leaving the block stops the process (after :meth:`finish`, or at
    once on an error, abandoning figures not yet drawn).
    """

    def __init__(self, module: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, module), name="spikeflow-figures", daemon=True)
        self._process.start()
        child.close()  # the parent's copy: the pipe closes when the process ends
        self._asked: list[str] = []

    def draw(self, function: str, *args: Any, **kwargs: Any) -> None:
        """Ask for ``module.function(*args, **kwargs)`` (drawn after the figures asked before)."""
        self.draw_each([(function, args, kwargs)])

    def draw_each(self, calls: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
        """Ask for several figures, ``(function, args, kwargs)`` each, in one message (arguments
        they share, e.g. one analysis result, are pickled and sent once)."""
        calls = list(calls)
        try:
            self._conn.send(calls)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise FigureProcessError(self._died(calls[0][0])) from None
        self._asked.extend(function for function, _, _ in calls)

    def finish(self) -> None:
        """Wait until every figure asked for is drawn; raise :class:`FigureProcessError` if one was not."""
        asked, self._asked = self._asked, []
        failure = None
        for function in asked:
            try:
                reply = self._conn.recv()
            except (EOFError, ConnectionResetError):
                raise FigureProcessError(self._died(function)) from None
            if reply is not None and failure is None:
                failure = f"the figure {function} failed in the figure process: {reply}"
        if failure is not None:
            raise FigureProcessError(failure)

    def close(self) -> None:
        """Stop the process (at once if it is still drawing)."""
        try:
            self._conn.send(None)
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
            pass
        self._process.join(timeout=10.0 if not self._asked else 0.0)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()

    def __enter__(self) -> "FigureProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _died(self, function: str) -> str:
        self._process.join(timeout=5.0)
        return f"the figure process ended (exit code {self._process.exitcode}) before it drew {function}"


def _serve(conn: Any, module: str) -> None:
    """The figure process: import ``module``, then call its functions as asked until told to stop."""
    figures = importlib.import_module(module)
    while True:
        try:
            request = conn.recv()
        except (EOFError, ConnectionResetError):  # the parent ended
            return
        if request is None:
            return
        for function, args, kwargs in request:
            try:
                getattr(figures, function)(*args, **kwargs)
                conn.send(None)
            except Exception as err:  # reported to the parent, which raises it
                conn.send(f"{type(err).__name__}: {err}")
