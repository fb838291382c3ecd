"""The lab's initramfs: a static busybox as PID 1 that dumps the allocator state and powers off.

The archive is written here (``newc`` cpio, gzip), so no ``cpio`` program is needed. The guest's
``/init`` (:func:`init_script`) copies ``/proc/{buddyinfo,pagetypeinfo,zoneinfo,slabinfo,vmstat}``,
``/proc/sys/vm/*``, the CPU lists and every attribute of every ``/sys/kernel/slab`` cache into one text
file, loads the requested modules one after the other (saving what each printed to the kernel log),
and sends the file gzip-compressed and base64-encoded over the second serial port, ``/dev/ttyS1``.
The ~5,000 slab attributes are read with the shell's built-in ``read`` (one process per file would
take a minute under emulation); procfs sysctl files only answer a read at offset 0, so those are
copied with ``cat`` first.

Dump format (one line each): ``F <path>`` starts a file, ``L<text>`` is a line with its newline,
``P<text>`` a last line without one, ``E`` ends the file.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
from importlib import resources
from pathlib import Path

from ..errors import LabToolMissingError

BUSYBOX_PATHS = ("/bin/busybox", "/usr/bin/busybox")
"""Where Debian's ``busybox-static`` installs the binary."""

APPLETS = ("sh", "mount", "mkdir", "echo", "printf", "ls", "dmesg", "insmod", "gzip", "base64", "wc",
           "poweroff", "cat")

DUMP_BEGIN = "KMEMLIB-DUMP-BEGIN"
DUMP_END = "KMEMLIB-DUMP-END"
STAGE_PREFIX = "kmemlib-lab: stage "

def init_script() -> str:
    """The guest's ``/init`` (package data ``kmemlib/data/lab/init.sh``)."""
    return (resources.files("kmemlib") / "data" / "lab" / "init.sh").read_text()


def _is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (``PT_INTERP``): statically linked."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2:     # 64-bit ELF only
            return False
        endian = "<" if head[5] == 1 else ">"
        phoff, = struct.unpack_from(endian + "Q", head, 32)
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from(endian + "I", table, i * phentsize)[0] != 3 for i in range(phnum))


def find_busybox() -> Path:
    """A statically linked busybox (Debian ``busybox-static``)."""
    for p in BUSYBOX_PATHS:
        path = Path(p)
        if path.is_file() and _is_static_elf(path):
            return path
    raise LabToolMissingError("the lab needs a static busybox for the guest (Debian: apt-get install busybox-static)")


def newc_archive(entries: list[tuple[str, int, bytes]]) -> bytes:
    """A ``newc`` cpio archive of ``(name, mode, data)`` entries (data of a symlink: its target)."""
    out = io.BytesIO()
    for ino, (name, mode, data) in enumerate([*entries, ("TRAILER!!!", 0, b"")], start=1):
        nb = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        out.write(("070701" + "".join(f"{v:08X}" for v in fields)).encode())
        out.write(nb)
        out.write(b"\0" * (-(110 + len(nb)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))
    return out.getvalue()


def build_initramfs(modules: list[tuple[str, Path, str]] = (), busybox: Path | None = None) -> bytes:
    """The gzip-compressed initramfs: busybox, :func:`init_script` as ``/init`` and the modules
    ``(name, path of name.ko, insmod arguments)`` to load in order."""
    bb = busybox or find_busybox()
    d, f, link = stat.S_IFDIR | 0o755, stat.S_IFREG | 0o755, stat.S_IFLNK | 0o777
    entries: list[tuple[str, int, bytes]] = [("bin", d, b""), ("bin/busybox", f, bb.read_bytes()),
                                             ("dev", d, b""), ("init", f, init_script().encode())]
    entries += [(f"bin/{a}", link, b"busybox") for a in APPLETS]
    if modules:
        entries.append(("modules", d, b""))
        lines = []
        for name, ko, args in modules:
            entries.append((f"modules/{name}.ko", stat.S_IFREG | 0o644, Path(ko).read_bytes()))
            lines.append(f"{name} {args}".rstrip() + "\n")
        entries.append(("kmemlib-modules", stat.S_IFREG | 0o644, "".join(lines).encode()))
    return gzip.compress(newc_archive(entries), 6, mtime=0)


def write_initramfs(dest: str | os.PathLike, modules: list[tuple[str, Path, str]] = ()) -> Path:
    """:func:`build_initramfs` written to ``dest``."""
    path = Path(dest)
    path.write_bytes(build_initramfs(modules))
    return path


__all__ = ["init_script", "DUMP_BEGIN", "DUMP_END", "STAGE_PREFIX", "find_busybox", "newc_archive",
           "build_initramfs", "write_initramfs"]
