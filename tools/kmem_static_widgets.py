"""Sphinx extension: the book's widgets store their outputs for the static site.

On ``config-inited`` it sets ``KMEMBOOK_STATIC_WIDGETS=1`` in the build's environment, which the notebook kernels
that myst-nb starts inherit. kmemlib's widgets (``kmemlib.lessons.widgets.base``) then evaluate their output
functions over every value their controls offer and store the results in the embedded widget state, where
``book/_static/kmem-widgets.js`` picks them in the reader's browser. Notebooks run anywhere else (JupyterLab,
Colab, ``tools/execute_notebooks.py``) compute on demand instead.
"""

from __future__ import annotations

import os

STATIC_ENV = "KMEMBOOK_STATIC_WIDGETS"  # = kmemlib.lessons.widgets.base.STATIC_ENV


def _on_config_inited(app, config) -> None:  # noqa: ARG001 - Sphinx signature
    os.environ[STATIC_ENV] = "1"


def setup(app):
    """Sphinx entry point (``sphinx.local_extensions`` in ``_config.yml``)."""
    app.connect("config-inited", _on_config_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
