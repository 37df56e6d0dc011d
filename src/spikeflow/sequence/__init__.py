"""Sequence learning in WTA circuits (Klampfl & Maass 2013): the NumPy reference of the
discrete-time equations (:mod:`spikeflow.sequence.reference`), input generation and the
network built from the ``spikeflow_wta`` NEST extension module (:mod:`spikeflow.nestext`).
"""
