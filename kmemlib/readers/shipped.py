"""The kernel snapshots shipped as package data (``kmemlib/data/snapshots/<name>/``), laid out like ``/``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import UnknownSnapshotError

DEFAULT_SNAPSHOT = "linux-6.18-x86_64"


def _snapshots_base() -> Path:
    return Path(str(resources.files("kmemlib") / "data" / "snapshots"))


def list_snapshots() -> list[str]:
    """Names of the shipped snapshots."""
    return sorted(p.name for p in _snapshots_base().iterdir() if p.is_dir())


def snapshot_dir(name: str = DEFAULT_SNAPSHOT) -> Path:
    """Path of a shipped snapshot (a directory laid out like ``/``)."""
    known = list_snapshots()
    if not isinstance(name, str) or name not in known:
        raise UnknownSnapshotError(f"no shipped snapshot named {name!r} (known: {', '.join(known) or 'none'})")
    return _snapshots_base() / name


__all__ = ["DEFAULT_SNAPSHOT", "list_snapshots", "snapshot_dir"]
