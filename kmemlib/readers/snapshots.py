"""Kernel snapshots shipped as package data, laid out like the live filesystem.

A snapshot directory mirrors ``/``: ``<snapshot>/proc/buddyinfo``, ``<snapshot>/proc/zoneinfo``,
``<snapshot>/proc/slabinfo``, ... so every reader takes a ``root`` argument that is ``"/"`` for
the live kernel or a snapshot directory otherwise.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import DestinationExistsError, ParseError, SourceUnavailableError
from . import procfs, sysfs
from .shipped import DEFAULT_SNAPSHOT, list_snapshots, snapshot_dir
from .text import read_text, u64

SNAPSHOT_ENV = "KMEMLIB_USE_SNAPSHOT"
"""Set this environment variable to ``1`` to make :func:`live_or_snapshot` always pick the shipped
snapshot, as on a machine without Linux (the tests use it to run the chapters that way)."""


def _readable(path: Path, depth: int = 2) -> bool:
    """True when ``path`` is a readable file, or a directory whose first entry is (``depth`` levels).

    Many kernel files are root-only (``/proc/slabinfo``, ``/proc/pagetypeinfo``, every file under
    ``/sys/kernel/slab/<cache>/``), so existing is not enough: try to open one. Symlinked
    directories (sysfs cache aliases) are skipped.
    """
    try:
        if path.is_file():
            with open(path, "rb") as f:
                f.read(1)
            return True
        if path.is_dir() and depth > 0:
            for child in sorted(path.iterdir())[:8]:
                if child.is_file() or (child.is_dir() and not child.is_symlink()):
                    return _readable(child, depth - 1)
    except OSError:
        return False
    return False


def live_or_snapshot(probe: str = "proc/buddyinfo", name: str = DEFAULT_SNAPSHOT, *,
                     live_root: str | os.PathLike = "/") -> tuple[Path, bool]:
    """``(root, is_live)``: ``live_root`` when this machine lets us read ``<live_root>/<probe>``,
    else the shipped snapshot (also when :data:`SNAPSHOT_ENV` is set to ``1``)."""
    if snapshot_mode():
        return snapshot_dir(name), False
    if _readable(Path(live_root) / probe):
        return Path(live_root), True
    return snapshot_dir(name), False


def snapshot_mode() -> bool:
    """True when :data:`SNAPSHOT_ENV` asks for the shipped snapshot (the book's HTML build sets it, so every page
    of the static site shows the same machine)."""
    return os.environ.get(SNAPSHOT_ENV, "") not in ("", "0")


def describe_source(root: str | os.PathLike, is_live: bool) -> str:
    """Where a chapter's kernel data came from, as words for the page: ``"this machine's running kernel (/proc,
    /sys)"`` or ``"the snapshot linux-6.18-x86_64 shipped with kmemlib (Linux 6.18, x86-64)"``.

    ``(root, is_live)`` is what :func:`live_or_snapshot` returned."""
    if is_live:
        where = str(root).rstrip("/") or ""
        return f"this machine's running kernel ({where}/proc, {where}/sys)"
    name = Path(root).name
    parts = name.split("-")
    if len(parts) >= 3 and parts[0] == "linux":
        detail = f"Linux {parts[1]}, {parts[2].replace('_', '-')}" + (f", {' '.join(parts[3:])}" if parts[3:] else "")
        return f"the snapshot {name} shipped with kmemlib ({detail})"
    return f"the snapshot {name} shipped with kmemlib"


PROC_FILES = ("proc/buddyinfo", "proc/pagetypeinfo", "proc/zoneinfo",
              "proc/sys/vm/min_free_kbytes", "proc/sys/vm/watermark_scale_factor")
"""The page-allocator files a snapshot holds (the slab files are written by ``sysfs.save_slab_snapshot``)."""


def save_snapshot(dest: str | os.PathLike, src_root: str | os.PathLike = "/") -> dict[str, int]:
    """Copy a kernel's allocator state into ``dest``, laid out like ``/`` (reads only, never writes /proc).

    Every file is read and parsed first, then written into a temporary sibling of ``dest`` that is renamed to
    ``dest`` at the end: a malformed or unreadable source (or a full disk) leaves nothing behind, and ``dest``
    never holds half a snapshot. ``dest`` must not exist or be an empty folder. Returns counts: files copied,
    slab caches and aliases.
    """
    for pname, v in (("dest", dest), ("src_root", src_root)):
        if not isinstance(v, (str, os.PathLike)) or not str(v):
            raise SourceUnavailableError(f"{pname} must be a path, got {v!r}")
    src, out = Path(src_root), Path(dest)
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise DestinationExistsError(f"{out} exists and is not empty (a snapshot needs a new or empty folder)")
    texts: dict[str, str] = {}
    for rel in PROC_FILES:
        texts[rel] = read_text(src / rel)
    procfs.parse_buddyinfo(texts["proc/buddyinfo"], str(src / "proc/buddyinfo"))
    procfs.parse_pagetypeinfo(texts["proc/pagetypeinfo"], str(src / "proc/pagetypeinfo"))
    procfs.parse_zoneinfo(texts["proc/zoneinfo"], str(src / "proc/zoneinfo"))
    for rel in ("proc/sys/vm/min_free_kbytes", "proc/sys/vm/watermark_scale_factor"):
        t = texts[rel]
        if not t.endswith("\n") or t.count("\n") != 1:
            raise ParseError(f"{src / rel}:1: expected one line with a number, got {t[:40]!r}")
        u64(t[:-1], str(src / rel), 1, rel.rsplit("/", 1)[-1])
    sysfs.read_sysfs_slab(src)                      # raises before anything is written
    created = [p for p in reversed(out.absolute().parents) if not p.exists()]
    tmp = None
    try:
        for p in created:
            p.mkdir()
        tmp = Path(tempfile.mkdtemp(dir=out.absolute().parent, prefix=f".{out.name}.", suffix=".tmp"))
        for rel, text in texts.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")
        counts = sysfs.save_slab_snapshot(tmp, src)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)                        # rename(2): also over an empty folder
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for p in reversed(created):
            try:
                p.rmdir()
            except OSError:
                pass
        raise
    return {"files": len(texts) + 3, **counts}
