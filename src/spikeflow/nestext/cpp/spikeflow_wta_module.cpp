/*
 *  spikeflow_wta_module.cpp -- registers the models of the spikeflow_wta NEST extension module.
 *
 *  Load with nest.Install("<path>/spikeflow_wta") or spikeflow.nestext.load(nest).
 *  Part of spikeflow (GPL-2.0-or-later).
 */

#include "nest_extension_interface.h"

#include "wta_neuron.h"
#include "wta_stp_synapse.h"

namespace spikeflow
{

void
register_wta_stp_synapse( const std::string& name )
{
  nest::register_connection_model< wta_stp_synapse >( name );
}

class SpikeflowWtaModule : public nest::NESTExtensionInterface
{
public:
  void
  initialize() override
  {
    register_wta_neuron( "wta_neuron" );
    register_wta_stp_synapse( "wta_stp_synapse" );
  }
};

}  // namespace spikeflow

// The module instance, found by libltdl as <library name>_LTX_module (outside any namespace).
spikeflow::SpikeflowWtaModule spikeflow_wta_LTX_module;
