"""Decode the guest's dump into a snapshot folder laid out like ``/`` (the format of
``kmemlib/data/snapshots/<name>/``, see :mod:`kmemlib.readers.snapshots`), plus the lab's own files:
``lab.json`` (kernel, CPUs, memory, boot time, modules), ``lab/dmesg.txt`` (the boot log) and
``module/<name>.txt`` (what each module printed, without timestamps).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import shutil
import tempfile
from pathlib import Path

from ..errors import LabBootError
from ..readers import procfs, snapshots, sysfs
from .initramfs import DUMP_BEGIN, DUMP_END

LAB_JSON = "lab.json"
EXTRA_PROC = ("proc/vmstat", "proc/version", "proc/cmdline", "proc/meminfo")
EXTRA_CPU = ("sys/devices/system/cpu/possible", "sys/devices/system/cpu/online")
TAINT_LINES = ("loading out-of-tree module taints kernel", "module verification failed")


def decode_dump(text: str) -> dict[str, str]:
    """Files of a dump (``path -> text``): base64 between the markers, gzip, then ``F/L/P/E`` records."""
    lines = text.splitlines()
    try:
        b, e = lines.index(DUMP_BEGIN), lines.index(DUMP_END)
        raw = gzip.decompress(base64.b64decode("".join(lines[b + 1:e]), validate=True)).decode("utf-8", "replace")
    except (ValueError, OSError, EOFError, binascii.Error) as exc:
        raise LabBootError(f"the guest's dump is incomplete or corrupt ({exc})") from None
    files: dict[str, str] = {}
    cur: str | None = None
    buf: list[str] = []
    for ln in raw.split("\n"):
        if ln.startswith("F "):
            cur, buf = ln[2:], []
        elif cur is None:
            continue
        elif ln.startswith("L"):
            buf.append(ln[1:] + "\n")
        elif ln.startswith("P"):
            buf.append(ln[1:])
        elif ln == "E":
            files[cur] = "".join(buf)
            cur = None
    return files


def slab_links(ls_text: str) -> dict[str, str]:
    """``alias -> cache directory`` from ``ls -l /sys/kernel/slab`` (busybox format)."""
    out = {}
    for ln in ls_text.splitlines():
        if ln.startswith("l") and " -> " in ln:
            left, target = ln.rsplit(" -> ", 1)
            out[left.split()[-1]] = target.rstrip("/").rsplit("/", 1)[-1]
    return out


def module_lines(name: str, dmesg: str) -> list[str]:
    """The module's own messages (``name: ...``) from its kernel log, without timestamps."""
    out = []
    for ln in dmesg.splitlines():
        msg = re.sub(r"^\[\s*\d+\.\d+\]\s?", "", ln)
        if msg.startswith(f"{name}: ") and not any(t in msg for t in TAINT_LINES):
            out.append(msg)
    return out


def free_lists_consistent(files: dict[str, str]) -> bool:
    """True when ``/proc/buddyinfo`` equals the per-type sums of ``/proc/pagetypeinfo`` for every zone:
    both were read before anything changed the free lists (read one after the other, they usually
    are; a page allocated in between makes them disagree)."""
    try:
        rows = procfs.parse_buddyinfo(files["proc/buddyinfo"])
        info = procfs.parse_pagetypeinfo(files["proc/pagetypeinfo"])
    except (KeyError, ValueError):
        return False
    for r in rows:
        counts = info.counts(r.node, r.zone)
        for o, n in enumerate(r.nr_free):
            col = [c[o] for c in counts.values()]
            if max(col, default=0) < 100000 and sum(col) != n:     # pagetypeinfo caps a count at 100000
                return False
    return True


def write_snapshot(files: dict[str, str], dest: Path, meta: dict) -> dict[str, int]:
    """Write the decoded ``files`` as a snapshot folder ``dest`` (must not exist or be empty), with
    ``meta`` in ``lab.json``. Returns the counts of :func:`kmemlib.readers.snapshots.save_snapshot`."""
    with tempfile.TemporaryDirectory(prefix="kmemlib-lab-") as tmp:
        root = Path(tmp)
        for rel, text in files.items():
            if rel.startswith("sys/kernel/slab/") or rel.startswith(("proc/", "sys/devices/")):
                p = root / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text)
        slab = root / sysfs.SLAB_DIR
        for alias, target in slab_links(files.get("lab/slab-ls.txt", "")).items():
            (slab / alias).symlink_to(target)
        staging = Path(tmp) / "out"
        counts = snapshots.save_snapshot(staging, root)
        for rel in (*EXTRA_PROC, *EXTRA_CPU, *(r for r in files if r.startswith("proc/sys/vm/"))):
            if rel in files:
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                (staging / rel).write_text(files[rel])
        (staging / "lab").mkdir()
        (staging / "lab" / "dmesg.txt").write_text(files.get("lab/dmesg-boot.txt", ""))
        mods = {}
        for name, info in meta.get("modules", {}).items():
            log = files.get(f"lab/dmesg/{name}.txt", "")
            status = files.get(f"lab/insmod/{name}.txt", "").strip()
            (staging / "module").mkdir(exist_ok=True)
            (staging / "module" / f"{name}.txt").write_text("".join(f"{ln}\n" for ln in module_lines(name, log)))
            mods[name] = {**info, "insmod": status.splitlines()[-1] if status else "not run"}
        (staging / LAB_JSON).write_text(json.dumps({**meta, "modules": mods}, indent=1, sort_keys=True) + "\n")
        dest.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            target = dest / item.name
            if target.is_dir():
                shutil.rmtree(target)
            shutil.move(str(item), str(target))
    return counts


def read_lab_meta(root: str | Path) -> dict:
    """``lab.json`` of a lab run (empty dict for snapshots made elsewhere)."""
    p = Path(root) / LAB_JSON
    if not p.is_file():
        return {}
    return json.loads(p.read_text())


__all__ = ["LAB_JSON", "decode_dump", "free_lists_consistent", "slab_links", "module_lines", "write_snapshot", "read_lab_meta"]
