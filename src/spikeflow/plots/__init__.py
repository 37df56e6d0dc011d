"""Figures of the analyses (matplotlib, Agg backend, PNG files).

``rates`` draws the spike raster, the per-neuron rate box plot and the measured-versus-
reference mean rates of one run; ``scaling`` the time per phase, real-time factor and
parallel efficiency across runs; ``memory`` the measured, fitted and predicted memory per
rank; ``attractors`` cluster rates, state sequences, transition matrices and the
metastability summary; ``meanfield`` fixed points, spectra and landscapes; ``training`` the
per-epoch weights and rates; ``sequence`` the WTA grid, test rasters, weights and decoding. ``common`` holds what they share: :func:`~spikeflow.plots.common.pyplot` (Agg
backend) and :func:`~spikeflow.plots.common.save_figure` (atomic 150 dpi PNG). The
analyses in :mod:`spikeflow.analysis` import these modules only when they draw.
"""
