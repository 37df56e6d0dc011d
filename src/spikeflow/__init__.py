"""spikeflow: reproducible NEST spiking-network studies, from a YAML config to HDF5 spikes and reports."""

__version__ = "0.1.0"
