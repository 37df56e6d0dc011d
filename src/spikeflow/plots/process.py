"""Figures drawn by a second process, beside the analysis that feeds them.

matplotlib's import (about 0.3 s) and its drawing (0.1-0.3 s a figure) are Python that holds
the GIL, so on a thread of the analysis process they wait for the analysis and it for them
(measured: no faster). A process of its own has its own interpreter: it imports matplotlib
while the analysis reads and computes, then draws while the analysis writes its tables, on a
core the analysis leaves idle. The analyses use one only when they may use more than one core
(:func:`spikeflow.analysis.parallel.analysis_threads`) and the run is large enough for the
process's start (a fresh interpreter, numpy, matplotlib: about 0.55 s of a core) to pay
(:func:`worth_a_process`; each analysis says from what size).

The process is a fresh interpreter (``python -c``, the parent's ``sys.path``), not a ``fork``
of a threaded process that holds HDF5 files open, and not ``multiprocessing``'s ``spawn``,
which runs the parent's main script again in the child (a user's script without an
``if __name__ == "__main__"`` guard would run twice, and fail). Requests and replies are pickles
over two pipes (:class:`multiprocessing.connection.Connection` on their descriptors). Figures
are asked for by name (a function of one module) with picklable arguments, and drawn in the
order asked; every figure is written atomically by the drawing function itself
(:func:`spikeflow.plots.common.save_figure`). :meth:`FigureProcess.finish` waits for all of
them and raises :class:`FigureProcessError` with the first failure, also when the process
died; the process ends with its parent (it exits when its request pipe closes).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
from multiprocessing.connection import Connection
from typing import Any, Iterator, Sequence

__all__ = ["FigureProcess", "FigureProcessError", "worth_a_process", "figures_beside"]


class FigureProcessError(RuntimeError):
    """A figure the second process was asked for was not drawn."""


def worth_a_process(threads: int, size: int | None, minimum: int) -> bool:
    """Whether an analysis on ``threads`` threads of a run of ``size`` (None: not known) draws
    in a second process: with a core to spare, and from ``minimum`` on (where the analysis's
    own work beside the process's start is long enough to hide it)."""
    return threads > 1 and size is not None and size >= minimum


@contextlib.contextmanager
def figures_beside(module: str, threads: int, size: int | None, minimum: int) -> Iterator["FigureProcess | None"]:
    """A :class:`FigureProcess` of ``module`` for the block when :func:`worth_a_process` says so,
    else None (the caller draws); None too when no process can be started (the figures are then
    drawn in this process, as without one)."""
    if not worth_a_process(threads, size, minimum):
        yield None
        return
    try:
        process = FigureProcess(module)
    except OSError:  # e.g. no interpreter to start (an embedded Python)
        yield None
        return
    with process:
        yield process


class FigureProcess:
    """A second process that imports ``module`` at once and then calls its functions on request.

    Args:
        module: the figure module (e.g. ``"spikeflow.plots.rates"``), imported by the process
            as soon as it starts.

    Use as a context manager: leaving the block stops the process (after :meth:`finish`, or at
    once on an error, abandoning figures not yet drawn).
    """

    def __init__(self, module: str) -> None:
        requests_in, requests_out = os.pipe()
        replies_in, replies_out = os.pipe()
        code = f"import sys; sys.path[:] = {[str(entry) for entry in sys.path]!r}; from spikeflow.plots.process import _main; _main()"
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", code, module, str(requests_in), str(replies_out)],
                pass_fds=(requests_in, replies_out),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            os.close(requests_out)
            os.close(replies_in)
            raise
        finally:  # the child's ends: each pipe closes when the process on its other end ends
            os.close(requests_in)
            os.close(replies_out)
        self._requests = Connection(requests_out, readable=False)
        self._replies = Connection(replies_in, writable=False)
        self._asked: list[str] = []

    def draw(self, function: str, *args: Any, **kwargs: Any) -> None:
        """Ask for ``module.function(*args, **kwargs)`` (drawn after the figures asked before)."""
        self.draw_each([(function, args, kwargs)])

    def draw_each(self, calls: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
        """Ask for several figures, ``(function, args, kwargs)`` each, in one message (arguments
        they share, e.g. one analysis result, are pickled and sent once)."""
        calls = list(calls)
        try:
            self._requests.send(calls)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise FigureProcessError(self._died(calls[0][0])) from None
        self._asked.extend(function for function, _, _ in calls)

    def finish(self) -> None:
        """Wait until every figure asked for is drawn; raise :class:`FigureProcessError` if one was not."""
        asked, self._asked = self._asked, []
        failure = None
        for function in asked:
            try:
                reply = self._replies.recv()
            except (EOFError, ConnectionResetError):
                raise FigureProcessError(self._died(function)) from None
            if reply is not None and failure is None:
                failure = f"the figure {function} failed in the figure process: {reply}"
        if failure is not None:
            raise FigureProcessError(failure)

    def close(self) -> None:
        """Stop the process (at once if it is still drawing)."""
        try:
            self._requests.send(None)
        except OSError:  # it has ended already
            pass
        try:
            self._process.wait(timeout=10.0 if not self._asked else 0.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._requests.close()
        self._replies.close()

    def __enter__(self) -> "FigureProcess":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _died(self, function: str) -> str:
        try:
            code = self._process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            code = None
        return f"the figure process ended (exit code {code}) before it drew {function}"


def _main() -> None:
    """The figure process (``argv``: the module, the request and reply pipes' descriptors)."""
    module, requests_fd, replies_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    _serve(Connection(requests_fd, writable=False), Connection(replies_fd, readable=False), module)
    # every figure is saved and closed: end without the interpreter's teardown (matplotlib's
    # and numpy's, about 0.1 s the parent would wait for in close())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _serve(requests: Connection, replies: Connection, module: str) -> None:
    """Import ``module``, then call its functions as asked until told to stop or the parent ends."""
    figures = importlib.import_module(module)
    while True:
        try:
            request = requests.recv()
        except (EOFError, ConnectionResetError):  # the parent ended
            return
        if request is None:
            return
        for function, args, kwargs in request:
            try:
                getattr(figures, function)(*args, **kwargs)
                replies.send(None)
            except Exception as err:  # reported to the parent, which raises it
                replies.send(f"{type(err).__name__}: {err}")
