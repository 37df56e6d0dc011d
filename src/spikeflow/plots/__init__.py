"""Figures of the analyses (matplotlib, Agg backend, PNG files).

``rates`` draws the spike raster, the per-neuron rate box plot and the measured-versus-
reference mean rates of one run; ``scaling`` the time per phase, real-time factor and
parallel efficiency across runs; ``memory`` the measured, fitted and predicted memory per
rank; ``meanfield`` fixed points, spectra and landscapes. A family's own figures live with
the family (``spikeflow.models.clustered.attractor_plots``, ``spikeflow.models.training.plots``,
``spikeflow.models.sequence.plots``). ``common`` holds what they share: :func:`~spikeflow.plots.common.pyplot` (Agg
backend) and :func:`~spikeflow.plots.common.save_figure` (atomic 150 dpi PNG). Figures are
drawn from the results and arrays they receive and never open an input file; the tasks
(:mod:`spikeflow.tasks`) import these modules only when they draw.
"""
