"""Argument checks at the public boundary of the model (no kernel counterpart: the C compiler does this).

Python lets a caller pass ``1.0``, ``True``, ``Decimal(3)``, ``"3"`` or ``None`` where the kernel has an
``unsigned int``; these helpers turn such values into a :class:`kmemlib.errors.KmemError` that names the
argument, the value and what was expected, *before* anything changes. ``bool`` is not an int here and
floats are never pointers. The hot paths test ``type(x) is int`` inline and call these only on a miss.
"""

from __future__ import annotations

from ..errors import InvalidArgumentError, KmemError

U64_MAX = (1 << 64) - 1


def is_int(value: object) -> bool:
    """An ``int`` that is not a ``bool`` (``IntEnum`` members count as ints)."""
    return isinstance(value, int) and not isinstance(value, bool)


def show(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (a 10**100 or a long list must not flood a message)."""
    try:
        text = repr(value)
    except Exception:       # noqa: BLE001 - a hostile __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[:limit - 5] + "...>"
    return text


def check_int(value: object, name: str, lo: int | None = None, hi: int | None = None, *,
              exc: type[KmemError] = InvalidArgumentError, what: str = "") -> int:
    """``value`` as an int in ``lo..hi`` (either bound may be None), else ``exc`` naming ``name``."""
    if not is_int(value):
        raise exc(f"{name} must be an int{what and ' (' + what + ')'}, got {show(value)} "
                  f"of type {type(value).__name__}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            rng = f"in {lo}..{hi}"
        elif lo is not None:
            rng = f">= {lo}"
        else:
            rng = f"<= {hi}"
        raise exc(f"{name} must be {rng}{what and ' (' + what + ')'}, got {show(value)}")
    return int(value)


def check_bool(value: object, name: str, *, exc: type[KmemError] = InvalidArgumentError) -> bool:
    """``value`` when it is a ``bool``, else ``exc`` (0/1/None/"yes" are not switches here)."""
    if not isinstance(value, bool):
        raise exc(f"{name} must be True or False, got {show(value)}")
    return value


def check_str(value: object, name: str, *, exc: type[KmemError] = InvalidArgumentError) -> str:
    """``value`` when it is a ``str``, else ``exc``."""
    if not isinstance(value, str):
        raise exc(f"{name} must be a string, got {show(value)} of type {type(value).__name__}")
    return value


__all__ = ["U64_MAX", "is_int", "show", "check_int", "check_bool", "check_str"]
