"""Argument checks shared by the figure and table functions of :mod:`kmemlib.lessons.plots` (issue 15).

Thin wrappers over :mod:`kmemlib.mm.argcheck`: a wrong type or range raises a :class:`~kmemlib.errors.KmemError`
that names the argument, the value and what was expected, before any figure is built. Called once per public
call at the top of the function, never inside a drawing loop.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

from ...errors import InvalidArgumentError, InvalidSizeError, KmemError
from ...mm.argcheck import U64_MAX, check_bool, check_int, check_str, is_int, show

PAGE_SHIFT_RANGE = (10, 20)
"""``page_shift`` values the model supports (as :mod:`kmemlib.mm.kmalloc` and ``Zone``)."""
MAX_PAGE_ORDER_RANGE = (0, 20)


def check_page_shift(value: object, name: str = "page_shift") -> int:
    return check_int(value, name, *PAGE_SHIFT_RANGE, exc=InvalidSizeError)


def check_max_page_order(value: object, name: str = "max_page_order") -> int:
    return check_int(value, name, *MAX_PAGE_ORDER_RANGE, exc=InvalidSizeError)


def check_seq(value: object, name: str, *, min_len: int = 0, what: str = "a list") -> list:
    """``value`` as a list when it is a list, tuple or other non-text sequence/iterable (not a mapping)."""
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not hasattr(value, "__iter__"):
        raise InvalidArgumentError(f"{name} must be {what}, got {show(value)} of type {type(value).__name__}")
    out = list(value)
    if len(out) < min_len:
        raise InvalidSizeError(f"{name} must have at least {min_len} entr{'y' if min_len == 1 else 'ies'}, "
                               f"got {show(out)}")
    return out


def check_int_seq(value: object, name: str, lo: int | None = 0, hi: int | None = U64_MAX, *,
                  min_len: int = 0, max_len: int | None = None, exc: type[KmemError] = InvalidSizeError) -> list[int]:
    """A list of ints in ``lo..hi`` (bools, floats, strings rejected)."""
    out = check_seq(value, name, min_len=min_len, what="a list of ints")
    if max_len is not None and len(out) > max_len:
        raise InvalidSizeError(f"{name} must have at most {max_len} entries, got {len(out)}")
    for v in out:
        if type(v) is not int or (lo is not None and v < lo) or (hi is not None and v > hi):
            check_int(v, f"an entry of {name}", lo, hi, exc=exc)
    return out


def check_instance(value: object, cls: type | tuple[type, ...], name: str, what: str = "") -> object:
    if not isinstance(value, cls):
        names = " or ".join(c.__name__ for c in (cls if isinstance(cls, tuple) else (cls,)))
        raise InvalidArgumentError(f"{name} must be {what or 'a ' + names}, got {show(value)} "
                                   f"of type {type(value).__name__}")
    return value


def check_instances(value: object, cls: type, name: str, *, min_len: int = 0, what: str = "") -> list:
    """A list (or tuple) whose every entry is a ``cls``."""
    out = check_seq(value, name, min_len=min_len, what=what or f"a list of {cls.__name__}")
    for v in out:
        if not isinstance(v, cls):
            raise InvalidArgumentError(f"every entry of {name} must be a {cls.__name__}, got {show(v)} "
                                       f"of type {type(v).__name__}")
    return out


def check_real(value: object, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """A finite real number (int, float, numpy scalar; not a bool, not a Decimal) in ``lo..hi``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidArgumentError(f"{name} must be a finite number, got {show(value)} of type {type(value).__name__}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise InvalidArgumentError(f"{name} must be in {lo}..{hi}, got {show(value)}")
    return value


def check_figsize(value: object, name: str = "figsize") -> tuple[float, float]:
    """``(width, height)`` in inches, each a finite number in 0.5..50."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise InvalidArgumentError(f"{name} must be a (width, height) pair of inches, got {show(value)}")
    for v in value:
        check_real(v, f"{name} entry", 0.5, 50)
    return tuple(value)


def check_optional_str(value: object, name: str) -> str | None:
    return None if value is None else check_str(value, name)


def check_str_mapping(value: object, name: str, *, min_len: int = 0, what: str = "a dict") -> dict:
    """A mapping with string keys (values are checked by the caller)."""
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(f"{name} must be {what}, got {show(value)} of type {type(value).__name__}")
    if len(value) < min_len:
        raise InvalidSizeError(f"{name} must have at least {min_len} entr{'y' if min_len == 1 else 'ies'}, got none")
    for k in value:
        check_str(k, f"a key of {name}")
    return dict(value)


__all__ = ["U64_MAX", "check_bool", "check_int", "check_str", "is_int", "show", "check_page_shift",
           "check_max_page_order", "check_seq", "check_int_seq", "check_instance", "check_instances", "check_real",
           "check_figsize", "check_optional_str", "check_str_mapping"]
