"""Analyses of spikes files that run without NEST.

``spiketrains`` holds plain, vectorised spike-train statistics over one population's
spikes (numpy arrays of node ids and times in ms); ``rates`` builds the per-population
"rates" analysis of one run (table, JSON/CSV outputs, figures); ``costs``, ``scaling`` and
``memory`` compare the costs of runs; ``attractors`` finds the cluster states of a
clustered network's run (active clusters, states, dwell times, transitions) and summarizes
them across repeats and sweep values.
"""
