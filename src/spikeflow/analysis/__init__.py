"""Analyses of spikes files that run without NEST.

``spiketrains`` holds plain, vectorised spike-train statistics over one population's
spikes (numpy arrays of node ids and times in ms); ``rates`` builds the per-population
"rates" analysis of one run (table, JSON/CSV outputs, figures); ``costs``, ``scaling`` and
``memory`` compare the costs of runs. A family's own analyses live with the family
(``spikeflow.models.clustered.attractors``: cluster states, dwell times, transitions;
``spikeflow.models.sequence.analysis``: pattern decoding).
"""
