"""The kernel snapshots shipped as package data (``kmemlib/data/snapshots/<name>/``), laid out like ``/``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT_SNAPSHOT = "linux-6.18-x86_64"


def _snapshots_base() -> Path:
    return Path(str(resources.files("kmemlib") / "data" / "snapshots"))


def list_snapshots() -> list[str]:
    """Names of the shipped snapshots."""
    return sorted(p.name for p in _snapshots_base().iterdir() if p.is_dir())


def snapshot_dir(name: str = DEFAULT_SNAPSHOT) -> Path:
    """Path of a shipped snapshot (a directory laid out like ``/``)."""
    path = _snapshots_base() / name
    if not path.is_dir():
        known = ", ".join(list_snapshots()) or "none"
        raise FileNotFoundError(f"no shipped snapshot named {name!r} (known: {known})")
    return path


__all__ = ["DEFAULT_SNAPSHOT", "list_snapshots", "snapshot_dir"]
