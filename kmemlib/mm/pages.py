"""Page-size arithmetic shared by every allocator model.

Models ``include/asm-generic/getorder.h`` (``get_order``), ``include/linux/bitops.h``
(``fls``/``fls64``), ``include/linux/log2.h`` (``ilog2``), ``include/linux/align.h``
(``ALIGN``/``ALIGN_DOWN``) and the order constants of ``include/linux/mmzone.h``.
Page size and MAX_PAGE_ORDER are parameters everywhere; the defaults are x86-64's.
"""

from __future__ import annotations

from ..errors import InvalidAlignError, InvalidSizeError
from .argcheck import U64_MAX

PAGE_SHIFT: int = 12
"""Default page shift (x86-64: 4 KiB pages)."""
PAGE_SIZE: int = 1 << PAGE_SHIFT
MAX_PAGE_ORDER: int = 10
"""Largest order the buddy allocator hands out (inclusive, Linux >= 6.4; named MAX_PAGE_ORDER since 6.8)."""
NR_PAGE_ORDERS: int = MAX_PAGE_ORDER + 1
"""Number of free_area[] entries, i.e. columns of /proc/buddyinfo."""
MAX_ORDER_NR_PAGES: int = 1 << MAX_PAGE_ORDER
PAGE_ALLOC_COSTLY_ORDER: int = 3
"""Orders above this are 'costly' (``include/linux/mmzone.h``)."""


def _int_arg(fn: str, x: object) -> None:
    if not isinstance(x, int) or isinstance(x, bool):
        raise InvalidSizeError(f"{fn}() needs an int, got {x!r} of type {type(x).__name__}")


def fls(x: int) -> int:
    """Find last set bit, 1-based; ``fls(0) == 0`` (``include/asm-generic/bitops/fls.h``)."""
    _int_arg("fls", x)
    if x < 0:
        raise InvalidSizeError(f"fls() of a negative value {x}")
    return x.bit_length()


def fls64(x: int) -> int:
    """64-bit ``fls`` (``include/asm-generic/bitops/fls64.h``)."""
    _int_arg("fls64", x)
    if x < 0 or x >= 1 << 64:
        raise InvalidSizeError(f"fls64() argument {x} is not an unsigned 64-bit value")
    return x.bit_length()


def ilog2(n: int) -> int:
    """Floor of log2 for ``n >= 1`` (``include/linux/log2.h``)."""
    _int_arg("ilog2", n)
    if n < 1:
        raise InvalidSizeError(f"ilog2() of {n} is undefined")
    return n.bit_length() - 1


def is_power_of_2(n: int) -> bool:
    """``is_power_of_2()`` from ``include/linux/log2.h``."""
    _int_arg("is_power_of_2", n)
    return n > 0 and (n & (n - 1)) == 0


def ALIGN(x: int, a: int) -> int:  # noqa: N802 - kernel name
    """Round ``x`` up to a multiple of the power of two ``a`` (``include/linux/align.h``)."""
    _int_arg("ALIGN", x)
    if not is_power_of_2(a):
        raise InvalidAlignError(f"ALIGN() needs a power-of-two alignment, got {a}")
    return (x + a - 1) & ~(a - 1)


def ALIGN_DOWN(x: int, a: int) -> int:  # noqa: N802 - kernel name
    """Round ``x`` down to a multiple of the power of two ``a`` (``include/linux/align.h``)."""
    _int_arg("ALIGN_DOWN", x)
    if not is_power_of_2(a):
        raise InvalidAlignError(f"ALIGN_DOWN() needs a power-of-two alignment, got {a}")
    return x & ~(a - 1)


def get_order(size: int, page_shift: int = PAGE_SHIFT) -> int:
    """Smallest order whose block holds ``size`` bytes: ``fls64((size - 1) >> PAGE_SHIFT)``.

    Models ``get_order()`` in ``include/asm-generic/getorder.h``. ``size == 0`` is undefined
    in the kernel and raises here, as do negative sizes.
    """
    if not isinstance(size, int) or isinstance(size, bool):
        raise InvalidSizeError(f"get_order() needs an integer size, got {size!r}")
    if size <= 0:
        raise InvalidSizeError(f"get_order({size}) is undefined: size must be >= 1 byte")
    if size > U64_MAX:
        raise InvalidSizeError(f"get_order(): size {size} bytes does not fit the kernel's 64-bit size_t "
                               f"(at most 2**64 - 1 bytes)")
    if not isinstance(page_shift, int) or isinstance(page_shift, bool) or not 10 <= page_shift <= 20:
        raise InvalidSizeError(f"get_order(): page_shift must be an int in 10..20, got {page_shift!r}")
    return fls64((size - 1) >> page_shift)


def max_order_naming(kernel_version: tuple[int, int]) -> dict[str, object]:
    """How a kernel version names the largest buddy order.

    Returns the macro name, its value and whether it is exclusive:
    <= 6.3 ``MAX_ORDER = 11`` (exclusive, ``free_area[MAX_ORDER]``); 6.4-6.7 ``MAX_ORDER = 10``
    (inclusive, commit 23baf831a32c); >= 6.8 ``MAX_PAGE_ORDER = 10`` (commit 5e0a760b4441,
    which also added ``NR_PAGE_ORDERS``). The largest order handed out is 10 in every case.
    """
    major_minor = tuple(kernel_version[:2])
    if major_minor <= (6, 3):
        return {"macro": "MAX_ORDER", "value": 11, "exclusive": True, "largest_order": 10}
    if major_minor <= (6, 7):
        return {"macro": "MAX_ORDER", "value": 10, "exclusive": False, "largest_order": 10}
    return {"macro": "MAX_PAGE_ORDER", "value": 10, "exclusive": False, "largest_order": 10}


PAGE_OFFSET: int = 0xFFFF_8880_0000_0000
"""Start of x86-64's direct map (``__PAGE_OFFSET_BASE_L4``, without KASLR): kernel virtual
address of PFN 0. Modelled addresses are ``PAGE_OFFSET + (pfn << PAGE_SHIFT) + offset``."""


def pfn_to_virt(pfn: int, page_shift: int = PAGE_SHIFT) -> int:
    """Direct-map virtual address of a page frame (``pfn_to_virt()`` / ``page_address()``)."""
    _int_arg("pfn_to_virt", pfn)
    if type(page_shift) is not int or not 10 <= page_shift <= 20:
        raise InvalidSizeError(f"page_shift must be an int in 10..20, got {page_shift!r}")
    if pfn < 0:
        raise InvalidSizeError(f"negative PFN {pfn}")
    return PAGE_OFFSET + (pfn << page_shift)


def virt_to_pfn(addr: int, page_shift: int = PAGE_SHIFT) -> int:
    """Page frame of a direct-map address (``virt_to_pfn()``); inverse of :func:`pfn_to_virt`."""
    _int_arg("virt_to_pfn", addr)
    if type(page_shift) is not int or not 10 <= page_shift <= 20:
        raise InvalidSizeError(f"page_shift must be an int in 10..20, got {page_shift!r}")
    if addr < PAGE_OFFSET:
        raise InvalidSizeError(f"{addr:#x} is not a direct-map address (below PAGE_OFFSET {PAGE_OFFSET:#x})")
    return (addr - PAGE_OFFSET) >> page_shift
