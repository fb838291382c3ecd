"""One setting for the book's repository: ``repository.url`` in ``_config.yml``.

The launch buttons (Binder, Colab), the repository button and the published site's address come from it at build
time. Each chapter also starts with an install cell, for front ends where kmemlib is not installed (Colab)::

    %pip install --quiet "kmemlib[book] @ git+https://github.com/ORG/REPO"

That line lives in the notebooks, so it is kept in step with ``_config.yml`` by this script::

    python tools/repository_url.py          # rewrite every chapter's install cell from _config.yml
    python tools/repository_url.py --check  # exit 1 and list the notebooks whose install cell differs

The book build runs the check too (``tools/notebook_eval.py``): a stale install cell is a build warning, so -W
fails on it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALL = re.compile(r'^(?P<indent>\s*)%pip install (?P<opts>[^"\n]*)"kmemlib(?:\[[\w,]+\])? @ git\+(?P<url>[^"]+)"\s*$',
                     re.M)
EXTRA = "book"
"""The pyproject.toml extra that brings everything a chapter imports."""


def repository_url(root: Path = ROOT) -> str:
    """``repository.url`` of ``_config.yml``, without a trailing slash or ``.git``."""
    cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return cfg["repository"]["url"].rstrip("/").removesuffix(".git")


def install_requirement(url: str) -> str:
    """The pip requirement a chapter's install cell names."""
    return f"kmemlib[{EXTRA}] @ git+{url}"


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted(p for p in (root / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def install_lines(path: Path) -> list[str]:
    """The requirement of every install line in a notebook."""
    nb = nbformat.read(path, as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            for m in INSTALL.finditer(cell.source):
                out.append(m.group(0).strip())
    return out


def stale(root: Path = ROOT) -> dict[Path, list[str]]:
    """Notebooks whose install line does not name :func:`install_requirement` of the configured URL."""
    want = install_requirement(repository_url(root))
    bad = {}
    for path in notebooks(root):
        lines = install_lines(path)
        wrong = [ln for ln in lines if f'"{want}"' not in ln]
        if wrong:
            bad[path] = wrong
    return bad


def sync(root: Path = ROOT) -> list[Path]:
    """Rewrite the install lines of every notebook from ``_config.yml``; return the notebooks changed."""
    want = install_requirement(repository_url(root))
    changed = []
    for path in notebooks(root):
        nb = nbformat.read(path, as_version=4)
        edited = False
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            new = INSTALL.sub(lambda m: f'{m.group("indent")}%pip install {m.group("opts")}"{want}"', cell.source)
            if new != cell.source:
                cell.source, edited = new, True
        if edited:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of step")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        for path, lines in bad.items():
            print(f"{path.relative_to(ROOT)}: {lines}")
        return 1 if bad else 0
    for path in sync():
        print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
