"""Figures of the analyses (matplotlib, Agg backend, PNG files).

``rates`` draws the spike raster, the per-neuron rate box plot and the measured-versus-
reference mean rates of one run.
"""
