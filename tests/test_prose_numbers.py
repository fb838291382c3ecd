"""No hand-typed numbers that kmemlib computes in the prose of the chapters (principle 4, issue 12).

A number in a chapter's Markdown that the model computes or defines (a class size, a range of sizes,
``KMALLOC_MAX_CACHE_SIZE``, a page size, an order, a count, a percentage, "2 MiB") comes from kmemlib through an
``{eval}`` inline expression, so it cannot go stale and renders in every front end. What may stay typed are the
inputs the text chooses ("a 100-byte object", "20,000 steps"), years and kernel versions. This test reads the
sources of "How to use this book", Part I and Part II (fast, no build) and checks every number left in the prose
after removing:

* ``{eval}`` roles, ``$math$``, ``{doc}``-style roles and link targets;
* fenced code blocks (not directives: a note's text is prose), directive options, and inline code that is a call (``kmalloc(100)``: the call's arguments are its inputs);
* names with digits (``kmalloc-192``, ``x86-64``, ``__GFP_DMA32``, commit ids, "64-bit");
* the exercises and their worked solutions, which tests/test_exercises.py checks by its own rules.

A number that is left counts if it is 10 or more, or if it is followed by KiB, MiB, GiB or %. Each one must be in
its chapter's ``CHOSEN`` list below, with the reason it is typed. Keep that list short and true: an entry that
no longer matches any number of its chapter fails too.

The comments of the code cells a reader sees (not tagged ``remove-cell`` or ``remove-input``) count as prose too:
"# 32 MiB of 4 KiB pages" next to ``Zone(8192)`` is a typed result. A comment says what the code does; the
values are printed or shown by ``{eval}``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from markdown_numbers import BLOCK, EVAL, LINK_TARGET, MATH, NAME, OPTION, without_ids

CHAPTERS = [ROOT / "book" / "how-to-use.ipynb", *sorted((ROOT / "book").glob("part[12]/*.ipynb"))]

# Numbers each chapter types on purpose, with the reason (one line each).
CHOSEN: dict[str, dict[str, str]] = {
    "how-to-use": {
        "1": "the definition of the binary units, '1 KiB = 1024 bytes, 1 MiB = 1024 KiB'",
        "1024": "the definition of the binary units, '1 KiB = 1024 bytes, 1 MiB = 1024 KiB'",
    },
    # Part I
    "01-pages-and-frames": {
        "16": "arm64's page sizes (CONFIG_ARM64_16K_PAGES), a build option of another architecture; kmemlib models x86-64",
        "64": "arm64's page sizes (CONFIG_ARM64_64K_PAGES), a build option of another architecture; kmemlib models x86-64",
    },
    "02-order": {
        "100": "'always below 100 %': the whole block, a bound of the definition of waste",
        "50": "'below 50 %' for requests of at least a page: the limit of half a block, argued in the text",
    },
    "03-buddy": {},
    "04-page-allocator-api": {
        "33": "the 33 KiB buffer, the example request of the section, its figure and its widget (an input)",
    },
    "05-watermarks": {
        "32": "the zone of 32 MiB the chapter picks (the visible cell below it turns it into pages)",
        "20": "'20 pages above low', the margin the drain cell below it uses (an input of that cell)",
    },
    "06-external-fragmentation": {},
    # Part II
    "01-why-slab": {
        "100": "kmalloc(100), the request the chapter's demo and tables use",
        "20": "the demo's 20 kmalloc(100) calls, an input of the code cell below it",
        "1994": "the year of Bonwick's USENIX paper",
        "16": "ZONE_DMA is the first 16 MiB on x86 (ISA DMA); kmemlib does not model zone sizes",
        "50": "a power-of-two class wastes 'close to 50 %': the limit of half a slot, argued in the text",
    },
    "02-kmalloc-caveats": {
        "100": "'below 100 %': the whole allocation, a bound of the definition",
        "50": "a power-of-two class wastes just under 50 %: the limit of half a slot, argued in the text",
    },
    "03-module-loop": {
        "32768": "--module kmalloc_sweep:step=32768 runs exercise 1 (the step it gives)",
    },
    "04-custom-caches": {
        "100": "the 100-byte object the figures and the widget use",
        "24": "the small object size of the flag table (an input of flag_effects)",
        "1032": "struct foo of 1032 bytes, the struct-size example (an input of struct_tuning)",
        "1024": "struct foo trimmed to 1024 bytes (an input of struct_tuning)",
        "16": "calculate_order()'s 1/16 leftover bound, a fraction the kernel's loop starts from",
    },
    "05-live-kernel": {
        "300": "a 300-byte request, the example of what slabinfo cannot see",
        "100": "'efficiency can be 100 %': the whole slab, a bound of the definition",
        "20000": "the simulated workload's 20,000 steps (an input of run_workload)",
    },
    "06-beyond-kmalloc": {
        "16384": "the example request 'at exactly 16384 bytes' (four pages, a power of two)",
        "1032": "kmalloc(1032) / 1032-byte structs, the example struct of the previous chapters",
        "20000": "the 20,000-byte request of the widget and the table of cases",
    },
}

FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?![ \t]*\{).*?^(?P=fence)[ \t]*$", re.M | re.S)   # code, not directives
ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")
CODE = re.compile(r"`([^`\n]+)`")
COMMENT = re.compile(r"(?:^|\s)#\s(.*)$", re.M)
HIDDEN = {"remove-cell", "remove-input"}
CALL = re.compile(r"[A-Za-z_]\w*\s*\(")
UNITS = {"KiB", "MiB", "GiB"}
NUMBER = re.compile(r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)(?![\w])(?:\s*(KiB|MiB|GiB|%))?")


def prose(markdown: str) -> str:
    """The text of a Markdown cell whose numbers must be computed (see the module docstring)."""
    text = BLOCK.sub(" ", markdown)
    text = FENCE.sub(" ", text)
    text = OPTION.sub(" ", text)
    text = EVAL.sub(" ~ ", text)     # before the other roles and code spans: its expression is in backticks
    text = ROLE.sub(" ", text)
    text = MATH.sub(" ", text)
    text = LINK_TARGET.sub("]", text)
    text = CODE.sub(lambda m: " " if CALL.search(m[1]) else f" {m[1]} ", text)
    return NAME.sub(lambda m: m[0] if m[0] in UNITS else " ~ ", without_ids(text))   # "~": no unit after a removed word


def typed_numbers(markdown: str) -> list[str]:
    """The numbers of a Markdown cell's prose that count: 10 or more, or with a size unit or %."""
    found = []
    for m in NUMBER.finditer(prose(markdown)):
        number = m[1].replace(",", "")
        if float(number) >= 10 or m[2]:
            found.append(number)
    return found


def comments(cell) -> str:
    """The comments of a code cell the reader sees (one a line); nothing for a hidden cell."""
    if cell.cell_type != "code" or HIDDEN & set(cell.metadata.get("tags", [])):
        return ""
    return "\n".join(m[1] for m in COMMENT.finditer(cell.source))


def chapter_numbers(path: Path) -> list[tuple[int, str]]:
    cells = nbformat.read(path, as_version=4).cells
    return [(i, n) for i, c in enumerate(cells)
            for n in typed_numbers(c.source if c.cell_type == "markdown" else comments(c))]


def test_every_chapter_has_a_list():
    assert CHAPTERS and {p.stem for p in CHAPTERS} == set(CHOSEN)
    assert all(reason.strip() for chosen in CHOSEN.values() for reason in chosen.values())


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_prose_numbers_are_computed_or_chosen(path):
    chosen = CHOSEN[path.stem]
    typed = [(i, n) for i, n in chapter_numbers(path) if n not in chosen]
    assert not typed, (f"numbers typed in the prose (cell, number): {typed}; compute them with kmemlib and show "
                       "them with {eval} (in a code comment: say what the code does, print the value), or add a chosen "
                       "input to CHOSEN with its reason")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chosen_numbers_are_still_there(path):
    seen = {n for _, n in chapter_numbers(path)}
    stale = sorted(set(CHOSEN[path.stem]) - seen)
    assert not stale, f"CHOSEN entries that no longer occur in the prose (remove them): {stale}"


# The scanner's own tests.

def test_typed_numbers_skip_computed_values_names_math_calls_and_exercises():
    md = ("One page of {eval}`page_size` bytes; `kmalloc-192` on x86-64 at 23baf831a32c, $2^{12}$ and "
          "`kmalloc(4096)`, [a link](../x/10-y.ipynb), Linux 6.12, a 64-bit word, order 3, `%07u`.\n\n"
          "```{exercise}\nWhat does `kmalloc(130)` cost? 130 bytes.\n```\n```python\nx = 4096\n```\n"
          ":::{figure} x.png\n:width: 80%\n:::\n")
    assert typed_numbers(md) == []


def test_typed_numbers_catch_sizes_ranges_units_and_code_constants():
    md = ("Up to 192 bytes, 65–96 go to index 1; KMALLOC_MAX_SIZE (4 MiB), 2.5 GiB, 50 %, `(void *)16`, 20,000 steps.\n"
          "```{note}\nA note of 8 KiB.\n```\n")
    assert typed_numbers(md) == ["192", "65", "96", "4", "2.5", "50", "16", "20000", "8"]


def test_comments_of_visible_code_cells_count_hidden_cells_do_not():
    shown = nbformat.v4.new_code_cell("zone = Zone(8192)   # 32 MiB of 4 KiB pages\nx = f\"{a:#x}\"  # order 3")
    hidden = nbformat.v4.new_code_cell("zone = Zone(8192)   # 32 MiB of 4 KiB pages")
    hidden.metadata["tags"] = ["remove-cell"]
    assert typed_numbers(comments(shown)) == ["32", "4"]
    assert comments(hidden) == ""
