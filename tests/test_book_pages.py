"""What the built pages say (issue 12, point 7): the static site shows ONE machine's kernel data, the snapshot
shipped with kmemlib, and names it wherever a chapter reads kernel files; no page shows the build machine's kernel.
"""

from __future__ import annotations

import re

import pytest

from conftest import HTML_DIR, source_of, toc_entries

from kmemlib.readers.snapshots import DEFAULT_SNAPSHOT

READS_KERNEL_FILES = [d for d in toc_entries()
                      if (src := source_of(d)) is not None and "live_or_snapshot(" in src.read_text()]


def _text(docname: str) -> str:
    """The page's prose and cell outputs as text (code cells left out: their source may name both cases)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((HTML_DIR / f"{docname}.html").read_text(), "html.parser")
    main = soup.find("main") or soup
    for code in main.select("div.cell_input"):
        code.decompose()
    return re.sub(r"\s+", " ", main.get_text(" "))


def test_some_chapters_read_kernel_files():
    assert len(READS_KERNEL_FILES) >= 4, READS_KERNEL_FILES


@pytest.mark.parametrize("docname", READS_KERNEL_FILES)
def test_page_names_the_shipped_snapshot_and_no_live_kernel(book_build, docname):
    if not (HTML_DIR / f"{docname}.html").is_file():
        pytest.fail(f"the book was not built (exit {book_build.returncode}); see _build/build.log", pytrace=False)
    text = _text(docname)
    assert DEFAULT_SNAPSHOT in text, f"{docname} does not name the snapshot its numbers come from"
    for live in ("this machine's running kernel", "read live from this machine", "this machine's live"):
        assert live not in text, f"{docname} shows the build machine's kernel: {live!r}"
