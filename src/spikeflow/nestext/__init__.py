"""spikeflow's C++ NEST extension module ``spikeflow_wta``: the soft-max WTA neuron with STDP and
variance tracking (``wta_neuron``) and the STP synapse of its recurrent connections
(``wta_stp_synapse``) of Klampfl & Maass (2013).

``build(force=False) -> Path`` compiles it against the active NEST into the cache;
``load(nest)`` installs it into the running kernel (building it first if needed). NEST's
PyPI binary wheel cannot load extension modules; both say so in one sentence.
"""

from spikeflow.nestext.build import (
    MODULE_NAME,
    NEURON_MODEL,
    SYNAPSE_MODEL,
    NestExtensionError,
    build,
    check_nest_supports_extensions,
    is_binary_wheel,
    load,
    module_path,
)

__all__ = [
    "MODULE_NAME",
    "NEURON_MODEL",
    "SYNAPSE_MODEL",
    "NestExtensionError",
    "build",
    "check_nest_supports_extensions",
    "is_binary_wheel",
    "load",
    "module_path",
]
