"""Reading the kernel's text files strictly: what ``seq_printf`` writes and nothing else.

The kernel prints numbers with ``%lu``/``%ld``/``%d``: ASCII digits, no ``+``, no ``_``, no leading zeros, a
``-`` only for signed fields, unsigned values below 2^64. :func:`read_text` turns every way a file can fail to
be text (absent, unreadable, a directory, a symlink loop, not UTF-8, absurdly large) into a
:class:`kmemlib.errors.KmemError` that names the file; the parsers raise :class:`ParseError` naming the file,
the line and what was expected.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

from ..errors import ParseError, SourceUnavailableError

MAX_FILE_BYTES = 64 << 20
"""Largest kernel text file read (64 MiB; /proc/zoneinfo of a 1024-CPU machine is a few MiB)."""
U64_MAX = (1 << 64) - 1
S64_MIN, S64_MAX = -(1 << 63), (1 << 63) - 1

_UNSIGNED = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_SIGNED = re.compile(r"0|-?[1-9][0-9]*", re.ASCII)


def read_text(path: str | os.PathLike, what: str | None = None) -> str:
    """The text of a kernel file (or its snapshot copy); every failure is a KmemError naming ``path``.

    Absent, unreadable, a directory or a symlink loop: :class:`SourceUnavailableError`; not UTF-8 or larger than
    :data:`MAX_FILE_BYTES`: :class:`ParseError`."""
    path = Path(path)
    name = what or str(path)
    try:
        with open(path, "rb") as f:     # in 64 KiB reads: sysctl files fail a read() of a huge count (ENOMEM)
            chunks, size = [], 0
            while size <= MAX_FILE_BYTES:
                chunk = f.read(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            data = b"".join(chunks)
    except FileNotFoundError:
        raise SourceUnavailableError(f"{name} does not exist") from None
    except PermissionError:
        raise SourceUnavailableError(f"{name} is not readable (needs root?)") from None
    except IsADirectoryError:
        raise SourceUnavailableError(f"{name} is a directory, expected a file") from None
    except OSError as exc:
        why = "a symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise SourceUnavailableError(f"{name} cannot be read: {why}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(f"{name}: larger than {MAX_FILE_BYTES} bytes, not a kernel text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ParseError(f"{name}:{line}: not text (byte {data[exc.start]:#04x} at offset {exc.start} is not "
                         "UTF-8); is this really a kernel file?") from None


def u64(tok: str, fname: str, lineno: int, what: str) -> int:
    """An unsigned field as ``%lu`` prints it (ASCII digits, below 2^64)."""
    if not _UNSIGNED.fullmatch(tok):
        raise ParseError(f"{fname}:{lineno}: expected an unsigned decimal number for {what}, got {tok[:40]!r}")
    v = int(tok)
    if v > U64_MAX:
        raise ParseError(f"{fname}:{lineno}: {what} {tok[:40]} does not fit 64 bits")
    return v


def s64(tok: str, fname: str, lineno: int, what: str) -> int:
    """A signed field as ``%ld``/``%d`` prints it."""
    if not _SIGNED.fullmatch(tok):
        raise ParseError(f"{fname}:{lineno}: expected a decimal number for {what}, got {tok[:40]!r}")
    v = int(tok)
    if not S64_MIN <= v <= S64_MAX:
        raise ParseError(f"{fname}:{lineno}: {what} {tok[:40]} does not fit 64 bits")
    return v


def check_str(text: object, fname: str) -> str:
    """``text`` when it is a ``str`` (parsers take text, not bytes or None)."""
    if not isinstance(text, str):
        raise ParseError(f"{fname}: expected the file's text as a str, got {type(text).__name__}")
    return text


__all__ = ["MAX_FILE_BYTES", "U64_MAX", "read_text", "u64", "s64", "check_str"]
