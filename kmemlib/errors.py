"""Exceptions raised by kmemlib.

Kernel semantics are mirrored where they exist: running out of memory is a normal
result (``None``), as in the kernel; only *invalid* requests raise. Every exception
derives from :class:`KmemError`, and an allocator's state is unchanged after any call
that raised.
"""

from __future__ import annotations


class KmemError(Exception):
    """Base class of every error kmemlib raises on bad input."""


class InvalidSizeError(KmemError, ValueError):
    """A size that is negative, zero where zero is undefined, or absurd."""


class InvalidOrderError(KmemError, ValueError):
    """An allocation order below 0 or above MAX_PAGE_ORDER."""


class InvalidAlignError(KmemError, ValueError):
    """An alignment that is not a power of two (or is out of range)."""


class InvalidFlagsError(KmemError, ValueError):
    """Unknown or contradictory GFP / SLAB flags."""


class BadFreeError(KmemError):
    """Freeing something that is not allocated, or with the wrong order / cache."""


class DoubleFreeError(BadFreeError):
    """Freeing a block or object that is already free; the message names the block."""


class OutOfZoneError(BadFreeError, ValueError):
    """A PFN that lies outside the zone it is handed to."""


class ParseError(KmemError, ValueError):
    """Malformed /proc or /sys text (the message names the file and line)."""


class SourceUnavailableError(KmemError, OSError):
    """A live kernel file (/proc, /sys) that is absent or unreadable on this machine."""


class InvalidNameError(KmemError, ValueError):
    """A cache name that is empty, not a string, or already in use."""


class CacheBusyError(BadFreeError):
    """``kmem_cache_destroy()`` of a cache that still has objects allocated."""


class CacheDestroyedError(KmemError, ValueError):
    """Using a cache after ``kmem_cache_destroy()`` removed it."""


class InvalidArgumentError(KmemError, ValueError):
    """An argument of the wrong type or out of range that no more precise class describes (a migrate type,
    an event, a saved state, a parameter object); the message names the argument, the value and what was
    expected."""


class UnknownZoneError(InvalidArgumentError, KeyError):
    """A zone name that the node does not have (also a :class:`KeyError`, as a lookup by name)."""

    def __str__(self) -> str:          # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class InvalidStateError(InvalidArgumentError):
    """A saved state or an event that does not fit the allocator it is applied to (another zone's snapshot,
    a block outside the zone, an event that contradicts the free lists)."""


class DestinationExistsError(KmemError, FileExistsError):
    """A snapshot (or other output) folder that already exists and is not empty."""


class UnknownSnapshotError(SourceUnavailableError, FileNotFoundError):
    """A shipped snapshot name that does not exist (the message lists the known ones)."""


class LabError(KmemError, RuntimeError):
    """``kmemlib lab``: a run that cannot be done; the message says why and what to do."""


class LabToolMissingError(LabError):
    """A program the lab needs (qemu, apt-get, busybox-static, gcc-12, make) is not installed."""


class LabFetchError(LabError):
    """A Debian kernel package that cannot be resolved, downloaded or unpacked."""


class LabModuleBuildError(LabError):
    """A module that does not build against the kernel's headers (the compiler's errors are in the message)."""


class LabBootError(LabError):
    """QEMU stopped without the guest's dump (or sent a corrupt one)."""


class LabBootTimeoutError(LabBootError, TimeoutError):
    """The guest did not power off within the timeout."""


class LabGuestCrashError(LabBootError):
    """The guest kernel oopsed or panicked before it sent its dump (under software emulation this happens, rarely,
    to a kernel that boots fine the next time)."""

