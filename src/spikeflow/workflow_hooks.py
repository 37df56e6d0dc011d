"""What the workflow's ``onsuccess`` and ``onerror`` handlers call (workflow/rules/common.smk).

Snakemake's scheduler re-evaluates its job queue from a ``threading.Timer`` of its job-rate
limiter (``--max-jobs-per-timespan``, default 100 jobs per 1 s) after every round, so when the
last job has finished one such timer is still pending, and Python waits for it before the
process exits: about 1 s at the end of every ``snakemake`` call, 7-8 % of a 14 s study on 2
cores (bench/README.md, "Study-level cost"). A sub-second timespan cannot be given (Snakemake
9 parses ``10ms`` as 10 minutes). Once the workflow has ended nothing is left to schedule, so
the handlers cancel those timers.
"""

from __future__ import annotations

import threading

__all__ = ["cancel_scheduler_timers"]

#: ``__qualname__`` prefix of the function Snakemake's scheduler hands to its re-evaluation timers.
SCHEDULER_TIMER = "JobScheduler._schedule_reevalutation"


def cancel_scheduler_timers() -> int:
    """Cancel the pending re-evaluation timers of Snakemake's job scheduler (no other timer).

    Returns:
        How many timers were cancelled.
    """
    cancelled = 0
    for thread in threading.enumerate():
        function = getattr(thread, "function", None)
        if isinstance(thread, threading.Timer) and getattr(function, "__qualname__", "").startswith(SCHEDULER_TIMER):
            thread.cancel()
            cancelled += 1
    return cancelled
