"""Reading and writing spikeflow's files (spikes in the SONATA layout, run metadata)."""
