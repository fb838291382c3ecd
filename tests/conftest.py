"""Shared fixtures: the book build (run once per pytest session) and the table of contents.

The build is part of the single ``python -m pytest`` run: the first test that needs it runs
``jupyter-book build . -W -n --keep-going --all`` (every notebook executed, warnings are errors) and keeps the
log in ``_build/build.log``. Set ``KMEMBOOK_REUSE_BUILD=1`` to reuse an existing ``_build/html`` while iterating
on the tests (never in CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / "_build"
HTML_DIR = BUILD_DIR / "html"
SCREENSHOT_DIR = BUILD_DIR / "screenshots"
TOOLS_DIR = ROOT / "tools"
if str(TOOLS_DIR) not in sys.path:
    sys.path.insert(0, str(TOOLS_DIR))  # headless.py, offline_assets.py


def in_ci() -> bool:
    """True under CI (``CI=true``, as GitHub Actions, GitLab and .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def toc_entries(toc_path: Path = ROOT / "_toc.yml") -> list[str]:
    """Every docname of ``_toc.yml`` (root first, then parts/chapters/sections in order), without suffix."""
    toc = yaml.safe_load(toc_path.read_text())
    names: list[str] = [toc["root"]]

    def walk(items: list[dict]) -> None:
        for item in items or []:
            if "file" in item:
                names.append(item["file"])
            for key in ("sections", "chapters", "parts"):
                walk(item.get(key, []))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key, []))
    return names


def source_of(docname: str) -> Path | None:
    """The source file of a toc entry (``.ipynb`` or ``.md``), or None."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


@dataclass(frozen=True)
class BookBuild:
    """Result of one ``jupyter-book build``."""

    returncode: int
    log: str
    seconds: float
    html: Path
    command: tuple[str, ...]


def _jupyter_book() -> str:
    exe = Path(sys.executable).with_name("jupyter-book")
    return str(exe) if exe.is_file() else "jupyter-book"


@pytest.fixture(scope="session")
def book_build() -> BookBuild:
    """Build the HTML book once per session (or reuse it with ``KMEMBOOK_REUSE_BUILD=1`` outside CI)."""
    cmd = (_jupyter_book(), "build", ".", "-W", "-n", "--keep-going", "--all")
    if os.environ.get("KMEMBOOK_REUSE_BUILD") == "1" and not in_ci() and (HTML_DIR / "index.html").is_file():
        return BookBuild(0, "(reused existing _build/html)", 0.0, HTML_DIR, cmd)
    BUILD_DIR.mkdir(exist_ok=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.monotonic() - start
    log = proc.stdout + proc.stderr
    (BUILD_DIR / "build.log").write_text(log)
    print(f"\n[kmembook] {' '.join(cmd)}: exit {proc.returncode} in {seconds:.1f} s (log: _build/build.log)")
    return BookBuild(proc.returncode, log, seconds, HTML_DIR, cmd)
