"""Lenient normalisation of students' answers.

Students type answers in many shapes: ``4096``, ``"4096"``, ``"0x1000"``, ``numpy.int64(4096)``; lists as
``[1, 2]``, ``(1, 2)`` or ``"1 2"``; yes/no as ``True``, ``"yes"``, ``"succeeds"``; cache names as
``"kmalloc-1k"``, ``"kmalloc-1024"`` or just ``1024``.  Each normaliser turns one of these into a canonical Python
value or raises :class:`AnswerFormatError` with a message that says which form is expected (never the value).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "AnswerFormatError",
    "as_int",
    "as_bool",
    "as_list",
    "as_int_list",
    "as_cache_name",
    "as_cache_name_list",
    "as_record",
    "PAGE_ALLOCATOR",
    "to_plain",
    "from_plain",
]

#: Canonical answer for "which kmalloc cache" when the request bypasses the caches (large kmalloc).
PAGE_ALLOCATOR = "page allocator"
_PAGE_ALLOCATOR_WORDS = {"page allocator", "pages", "page", "buddy", "buddy allocator", "alloc_pages", "none",
                         "large", "kmalloc_large", "no cache", "page-allocator"}


class AnswerFormatError(ValueError):
    """The answer could not be read as the expected kind of value."""


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def as_int(value: Any) -> int:
    """Read an integer: ``int``, integral ``float``, numpy integer, or text such as ``"4096"``, ``"0x1000"``,
    ``"4_096"`` or ``"4,096"``."""
    if isinstance(value, bool):
        raise AnswerFormatError(f"expected an integer, got the truth value {value!r}")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise AnswerFormatError(f"expected a whole number, got {value!r}")
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        if text.endswith("."):
            text = text[:-1]
        try:
            return int(text, 0)
        except ValueError:
            pass
        try:
            f = float(text)
        except ValueError:
            raise AnswerFormatError(f"expected an integer, got the text {_describe(value)}") from None
        return as_int(f)
    index = getattr(value, "__index__", None)
    if index is not None:
        return int(index())
    raise AnswerFormatError(f"expected an integer, got {type(value).__name__} {_describe(value)}")


_TRUE = {"yes", "y", "true", "t", "1", "ok", "succeeds", "success", "succeed", "passes", "pass"}
_FALSE = {"no", "n", "false", "f", "0", "fails", "fail", "failure", "none", "null"}


def as_bool(value: Any) -> bool:
    """Read yes/no: ``True``/``False``, ``1``/``0``, or text such as ``"yes"``, ``"no"``, ``"succeeds"``,
    ``"fails"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower().rstrip(".!")
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    index = getattr(value, "__index__", None)
    if index is not None and int(index()) in (0, 1):
        return bool(int(index()))
    raise AnswerFormatError(f"expected yes or no (True/False), got {_describe(value)}")


def _split_text_list(text: str) -> list[str]:
    inner = text.strip()
    if inner[:1] in "[(" and inner[-1:] in "])":
        inner = inner[1:-1]
    return [t for t in re.split(r"[\s,;]+", inner) if t]


def _as_sequence(value: Any, what: str) -> list[Any]:
    if isinstance(value, str):
        return _split_text_list(value)
    if isinstance(value, Mapping):
        raise AnswerFormatError(f"expected a list of {what}, got a dict")
    if isinstance(value, (set, frozenset)):
        raise AnswerFormatError(f"expected an ordered list of {what}, got a set")
    if isinstance(value, Iterable):
        return list(value)
    raise AnswerFormatError(f"expected a list of {what}, got {type(value).__name__} {_describe(value)}")


def as_list(value: Any, what: str = "values", length: int | None = None) -> list[Any]:
    """Read an ordered collection (list, tuple, array or whitespace/comma separated text) without converting
    its items; with ``length``, insist on exactly that many."""
    items = _as_sequence(value, what)
    if length is not None and len(items) != length:
        raise AnswerFormatError(f"expected a list of exactly {length} {what}, got {len(items)}")
    return items


def _as_typed_list(value: Any, normalise: Callable[[Any], Any], what: str, length: int | None) -> list[Any]:
    """:func:`as_list` with every item passed through ``normalise``; errors name the item's position."""
    out: list[Any] = []
    for i, item in enumerate(_as_sequence(value, what)):
        try:
            out.append(normalise(item))
        except AnswerFormatError as exc:
            raise AnswerFormatError(f"item {i} of the list: {exc}") from None
    if length is not None and len(out) != length:
        raise AnswerFormatError(f"expected a list of exactly {length} {what}, got {len(out)}")
    return out


def as_int_list(value: Any, length: int | None = None) -> list[int]:
    """Read a list of integers from a list/tuple/array or text ``"1 2 3"``/``"[1, 2, 3]"``; with ``length``,
    insist on exactly that many items."""
    return _as_typed_list(value, as_int, "integers", length)


_SIZE_SUFFIX = {"": 1, "k": 1024, "m": 1024 * 1024}


def as_cache_name(value: Any) -> str:
    """Read a kmalloc cache name and return the kernel's spelling (``kmalloc-96``, ``kmalloc-1k``,
    ``kmalloc-cg-64``, ``dma-kmalloc-8k``, ``kmalloc-rcl-2k``) or :data:`PAGE_ALLOCATOR`.

    Accepts case variations, ``kmalloc-1024`` for ``kmalloc-1k``, and a bare size (``96`` or ``"96"``) for the
    normal cache of that size.
    """
    if isinstance(value, bool):
        raise AnswerFormatError(f"expected a cache name such as 'kmalloc-64', got {value!r}")
    if not isinstance(value, str):
        try:
            size = as_int(value)
        except AnswerFormatError:
            raise AnswerFormatError(f"expected a cache name such as 'kmalloc-64', got {_describe(value)}") from None
        value = str(size)
    text = value.strip().lower().replace("_", "-") if "alloc_pages" not in value else value.strip().lower()
    if text in _PAGE_ALLOCATOR_WORDS:
        return PAGE_ALLOCATOR
    m = re.fullmatch(r"(dma-kmalloc-|kmalloc-(?:cg-|rcl-)?)?(\d+)\s*([km]?)(?:i?b)?", text)
    if not m:
        raise AnswerFormatError(f"expected a cache name such as 'kmalloc-64' or 'kmalloc-1k', got {_describe(value)}")
    prefix = m.group(1) or "kmalloc-"
    size = int(m.group(2)) * _SIZE_SUFFIX[m.group(3)]
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        label = f"{size // (1024 * 1024)}M"
    elif size >= 1024 and size % 1024 == 0:
        label = f"{size // 1024}k"
    else:
        label = str(size)
    return prefix + label


def as_cache_name_list(value: Any, length: int | None = None) -> list[str]:
    """Read a list of cache names (see :func:`as_cache_name`)."""
    return _as_typed_list(value, as_cache_name, "cache names", length)


def as_record(value: Any, fields: Sequence[tuple[str, Callable[[Any], Any]]]) -> dict[str, Any]:
    """Read a fixed group of named values given as a dict (by name) or as a tuple/list (in order).

    ``fields`` lists ``(name, normaliser)`` pairs; the result is a dict in that order.
    """
    names = [n for n, _ in fields]
    if isinstance(value, Mapping):
        missing = [n for n in names if n not in value]
        if missing:
            raise AnswerFormatError(f"the dict needs the keys {names}; missing {missing}")
        raw = [value[n] for n in names]
    else:
        raw = _as_sequence(value, "values")
        if len(raw) != len(names):
            raise AnswerFormatError(f"expected {len(names)} values ({', '.join(names)}), got {len(raw)}")
    out: dict[str, Any] = {}
    for (name, norm), item in zip(fields, raw):
        try:
            out[name] = norm(item)
        except AnswerFormatError as exc:
            raise AnswerFormatError(f"{name}: {exc}") from None
    return out


def to_plain(value: Any, _depth: int = 0) -> Any:
    """The JSON form of an answer (what the grader receives from the sandbox, and what ``check()`` judges)."""
    if _depth > 8:
        raise AnswerFormatError("the answer is nested too deeply")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise AnswerFormatError(f"expected a number, got {value!r}")
        return value
    if isinstance(value, (list, tuple)):
        return [to_plain(v, _depth + 1) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_plain(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return {"__set__": sorted((to_plain(v, _depth + 1) for v in value), key=repr)}
    tolist = getattr(value, "tolist", None)        # numpy arrays and scalars
    if callable(tolist):
        return to_plain(tolist(), _depth + 1)
    index = getattr(value, "__index__", None)
    if callable(index):
        return int(index())
    raise AnswerFormatError(f"expected numbers, text, lists or dicts, got {type(value).__name__}")


def from_plain(value: Any) -> Any:
    """Undo the one non-JSON encoding of :func:`to_plain` (sets) at the top level."""
    if isinstance(value, dict) and set(value) == {"__set__"} and isinstance(value["__set__"], list):
        return {tuple(v) if isinstance(v, list) else v for v in value["__set__"]}
    return value
