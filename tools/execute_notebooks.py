"""Re-execute the book's notebooks in place, storing their outputs and widget state.

Why stored outputs: nbval (part of ``make test``) re-runs every notebook and compares the cells tagged
``nbval-check-output`` against the outputs saved in the file, so those outputs must be the model's real answers.
Stored outputs also make a downloaded or GitHub-previewed ``.ipynb`` readable before it is run. The HTML build
ignores them (``execute_notebooks: force`` re-executes everything).

Usage (from the repo root, with the project's venv)::

    .venv/bin/python tools/execute_notebooks.py              # every notebook under book/
    .venv/bin/python tools/execute_notebooks.py book/x.ipynb  # only these

Run it after editing a chapter, review the diff of the tagged cells' outputs, commit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute_in_place(path: Path, timeout: int = 600) -> None:
    """Execute ``path`` with the current environment's ``python3`` kernel, cwd = its folder, and save it."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,  # no timestamps in cell metadata: keeps diffs to real changes
    )
    client.execute()
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every .ipynb under book/")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(
        p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    # stored outputs show what the static site shows: the one shipped kernel snapshot (tools/snapshot_mode.py)
    os.environ.setdefault("KMEMLIB_USE_SNAPSHOT", "1")
    for path in paths:
        print(f"executing {path}", flush=True)
        execute_in_place(path.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
