"""spikeflow: reproducible NEST spiking-network studies, from a YAML config to HDF5 spikes and reports."""

__version__ = "0.1.0"

# The interface of a user's own model (docs/your-model.md): `from spikeflow import Model, Param, Network`.
from spikeflow.models.api import Model, Param  # noqa: E402
from spikeflow.models.network import Network  # noqa: E402

__all__ = ["Model", "Network", "Param", "__version__"]
