"""Thin ipywidgets layers over plain kmemlib functions, live in a kernel and working on the static site.

Every widget wires controls with finite domains to plain functions that return HTML, text or a figure
(:func:`~kmemlib.lessons.widgets.base.explorer`); the tests call those functions directly. In a running kernel
the functions run on every change; when the book is built their outputs are stored for the static page.
Submodules, one per topic: ``order``, ``buddy``, ``page_api``, ``fragmentation``, ``kmalloc``, ``slab``,
``api_choice``; ``base`` is the mechanism (:func:`~kmemlib.lessons.widgets.base.explorer`).
"""

from .api_choice import api_choice_widget
from .buddy import buddy_widget
from .base import WidgetArgumentError, explorer, interact, static_mode
from .fragmentation import workload_widget
from .kmalloc import kmalloc_plan_explorer, kmalloc_type_picker, module_loop_explorer
from .order import order_widget
from .page_api import exact_vs_pages_widget
from .slab import custom_cache_widget

__all__ = ["api_choice_widget", "buddy_widget", "custom_cache_widget", "exact_vs_pages_widget", "explorer",
           "interact", "kmalloc_plan_explorer", "kmalloc_type_picker", "module_loop_explorer", "order_widget",
           "static_mode", "workload_widget", "WidgetArgumentError"]
