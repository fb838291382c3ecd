"""Matplotlib figures for the book. Each function returns a ``matplotlib.figure.Figure``
(or an animation) computed from kmemlib data, so tests can call it directly.

Submodules, one per topic: :mod:`~kmemlib.lessons.plots.buddy`, :mod:`~kmemlib.lessons.plots.fragmentation`,
:mod:`~kmemlib.lessons.plots.kmalloc`, :mod:`~kmemlib.lessons.plots.slab`.
"""
