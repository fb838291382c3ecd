"""Kernel versions as a parameter of the model.

Behaviour that changed between kernel releases takes a ``kernel_version`` (``"6.1"``, ``"6.12"``,
``"6.18"``, ...); each such function's docstring names the release or commit that changed it.
The default is the kernel the book's first snapshots come from.
"""

from __future__ import annotations

from ..errors import InvalidFlagsError

DEFAULT_KERNEL_VERSION = "6.18"
"""The kernel kmemlib models when no version is given (the shipped ``linux-6.18-x86_64`` snapshots)."""


def version_tuple(version: str | tuple[int, int]) -> tuple[int, int]:
    """``"6.12"`` or ``"6.12.117+deb12-amd64"`` or ``(6, 12)`` -> ``(6, 12)``."""
    if isinstance(version, tuple) and len(version) == 2 and all(isinstance(v, int) for v in version):
        return version
    if isinstance(version, str):
        parts = version.strip().split(".")
        try:
            major = int(parts[0])
            minor = int("".join(ch for ch in parts[1].split("-")[0].split("+")[0] if ch.isdigit()) or "x")
        except (IndexError, ValueError):
            pass
        else:
            if 2 <= major <= 9:
                return major, minor
    raise InvalidFlagsError(f"kernel version must look like '6.12', got {version!r}")


__all__ = ["DEFAULT_KERNEL_VERSION", "version_tuple"]
