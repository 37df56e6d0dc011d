"""The one simulation driver, used by every family and by users' own models.

- :mod:`~spikeflow.driver.kernel`: kernel setup and the probes (wall time, memory, kernel timers);
- :mod:`~spikeflow.driver.phases`: a run's protocol (:class:`Phase`) and advancing one phase;
- :mod:`~spikeflow.driver.recording`: spike recorders and their events as 0-based node ids;
- :mod:`~spikeflow.driver.gather`: every rank's results on rank 0 (mpi4py);
- :mod:`~spikeflow.driver.session`: one kernel with its network (:class:`Session`);
- :mod:`~spikeflow.driver.run`: :func:`simulate`, a whole run from a resolved config to its spikes file.

Nothing here imports NEST at module level.
"""

from spikeflow.driver.phases import PHASES, Phase, standard_protocol
from spikeflow.driver.session import Session, SimulationError, printer

__all__ = ["PHASES", "Phase", "Session", "SimulationError", "printer", "simulate", "standard_protocol"]


def simulate(*args, **kwargs):
    """See :func:`spikeflow.driver.run.simulate` (imported lazily: it pulls in h5py and the models)."""
    from spikeflow.driver.run import simulate as run

    return run(*args, **kwargs)
