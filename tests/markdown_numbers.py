"""The Markdown patterns test_exercises.py and test_prose_numbers.py share to find the numbers a chapter types.

Both read a chapter's Markdown the same way: exercises and their solutions are fenced blocks, ``{eval}`` roles and
math are not typed numbers, a link's target is not text, and names with digits (``kmalloc-192``, ``x86-64``,
commit ids, "64-bit") are names, not numbers.
"""

from __future__ import annotations

import re

BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>exercise|solution)\}[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                   re.M | re.S)
EVAL = re.compile(r"\{eval\}`(?P<expr>[^`]+)`")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
LINK_TARGET = re.compile(r"\]\([^)]*\)")
OPTION = re.compile(r"^:[\w-]+:.*$", re.M)
HEX_ID = re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")
BITS = re.compile(r"\b\d+-bit\b")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*")


def without_ids(text: str) -> str:
    """``text`` with commit ids and "N-bit" taken out (names are left to the caller: each counts them its way)."""
    return BITS.sub(" ", HEX_ID.sub(" ", text))
