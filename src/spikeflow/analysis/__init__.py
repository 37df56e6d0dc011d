"""Analyses of spikes that run without NEST: pure functions over arrays and result objects.

``spiketrains`` holds plain, vectorised spike-train statistics over one population's
spikes (numpy arrays of node ids and times in ms); ``rates`` builds the per-population
"rates" analysis of one run (the table and the rates.json document); ``costs``, ``scaling`` and
``memory`` compare the costs of runs; ``validation`` gives verdicts against reference ensembles
and the mean field. Nothing here reads or writes a file or draws: that is the task layer,
:mod:`spikeflow.tasks`. A family's own analyses live with the family
(``spikeflow.models.clustered.attractors``: cluster states, dwell times, transitions;
``spikeflow.models.sequence.analysis``: pattern decoding).
"""
