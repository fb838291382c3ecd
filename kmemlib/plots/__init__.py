"""Matplotlib figures for the book. Each function returns a ``matplotlib.figure.Figure``
(or an animation) computed from kmemlib data, so tests can call it directly.

Submodules, one per topic: :mod:`~kmemlib.plots.buddy`, :mod:`~kmemlib.plots.fragmentation`,
:mod:`~kmemlib.plots.kmalloc`, :mod:`~kmemlib.plots.slab`.
"""
