"""Sphinx extension: the HTML book shows ONE machine's kernel data, the snapshot shipped with kmemlib.

Chapters read /proc and /sys through :func:`kmemlib.readers.snapshots.live_or_snapshot`: on a reader's machine that
is the reader's own kernel, but on the static site it would be whatever machine built the book, different at every
build and between chapters. Setting ``KMEMLIB_USE_SNAPSHOT=1`` before the notebooks are executed (the kernels
inherit the environment) makes every chapter read the same shipped snapshot, which the pages name. A build that
deliberately wants live data can set ``KMEMLIB_USE_SNAPSHOT=0`` first.
"""

from __future__ import annotations

import os

from kmemlib.readers.snapshots import SNAPSHOT_ENV


def setup(app):  # noqa: ANN001, ANN201 - Sphinx extension entry point
    os.environ.setdefault(SNAPSHOT_ENV, "1")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
