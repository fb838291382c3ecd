"""Thin ipywidgets layers over plain kmemlib functions.

Every widget here only wires controls to a function that returns data or a figure; the book's
tests call those functions directly for the control values that matter. Submodules, one per
topic: :mod:`~kmemlib.lessons.widgets.buddy`, :mod:`~kmemlib.lessons.widgets.page_api`,
:mod:`~kmemlib.lessons.widgets.kmalloc`, :mod:`~kmemlib.lessons.widgets.slab`.
"""
