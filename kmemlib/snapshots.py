"""Kernel snapshots shipped as package data, laid out like the live filesystem.

A snapshot directory mirrors ``/``: ``<snapshot>/proc/buddyinfo``, ``<snapshot>/proc/zoneinfo``,
``<snapshot>/proc/slabinfo``, ... so every reader takes a ``root`` argument that is ``"/"`` for
the live kernel or a snapshot directory otherwise.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_SNAPSHOT = "linux-6.18-x86_64"


def snapshot_dir(name: str = DEFAULT_SNAPSHOT) -> Path:
    """Path of a shipped snapshot (a directory laid out like ``/``)."""
    base = Path(str(resources.files("kmemlib") / "data" / "snapshots"))
    path = base / name
    if not path.is_dir():
        known = ", ".join(sorted(p.name for p in base.iterdir() if p.is_dir())) or "none"
        raise FileNotFoundError(f"no shipped snapshot named {name!r} (known: {known})")
    return path


def list_snapshots() -> list[str]:
    """Names of the shipped snapshots."""
    base = Path(str(resources.files("kmemlib") / "data" / "snapshots"))
    return sorted(p.name for p in base.iterdir() if p.is_dir())


def live_or_snapshot(probe: str = "proc/buddyinfo", name: str = DEFAULT_SNAPSHOT) -> tuple[Path, bool]:
    """``(root, is_live)``: ``/`` when this machine exposes ``/<probe>``, else the snapshot."""
    live = Path("/") / probe
    try:
        if live.is_file() or live.is_dir():
            return Path("/"), True
    except OSError:
        pass
    return snapshot_dir(name), False
