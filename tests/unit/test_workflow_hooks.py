"""The workflow's exit hook cancels Snakemake's pending re-evaluation timer, and nothing else."""

from __future__ import annotations

import threading

from spikeflow.workflow_hooks import SCHEDULER_TIMER, cancel_scheduler_timers


class JobScheduler:
    """Stands in for Snakemake's scheduler: a timer made the way it makes its re-evaluation timers."""

    def _schedule_reevalutation(self, delay):
        timer = threading.Timer(delay, lambda: None)
        timer.start()
        return timer


def test_only_the_schedulers_timers_are_cancelled():
    ours = JobScheduler()._schedule_reevalutation(60.0)
    other = threading.Timer(60.0, lambda: None)
    other.start()
    try:
        assert cancel_scheduler_timers() == 1
        ours.join(10.0)
        assert not ours.is_alive()  # cancelled: it would wait 60 s otherwise
        assert other.is_alive() and not other.finished.is_set()
    finally:
        other.cancel()
        ours.cancel()


def test_snakemake_still_makes_its_timers_there():
    # the hook finds the timers by this name; if Snakemake renames it, this fails instead of the
    # hook silently doing nothing
    from snakemake.scheduling.job_scheduler import JobScheduler as Real

    qualname = Real._schedule_reevalutation.__qualname__
    assert qualname == SCHEDULER_TIMER
    import inspect

    assert "threading.Timer(" in inspect.getsource(Real._schedule_reevalutation)
