"""Re-execute the book's notebooks in place, storing their outputs and widget state.

Why stored outputs: nbval (part of ``make test``) re-runs every notebook and compares the cells tagged
``nbval-check-output`` against the outputs saved in the file, so those outputs must be the model's real answers.
Stored outputs also make a downloaded or GitHub-previewed ``.ipynb`` readable before it is run. The HTML build
ignores them (``execute_notebooks: force`` re-executes everything).

Usage (from the repo root, with the project's venv)::

    .venv/bin/python tools/execute_notebooks.py              # every notebook under book/
    .venv/bin/python tools/execute_notebooks.py book/x.ipynb  # only these

Run it after editing a chapter, review the diff of the tagged cells' outputs, commit.

Markdown cells with inline expressions (``{eval}`expr` ``) get their values too, evaluated after every cell above
them and stored the way jupyterlab-myst stores them (cell metadata ``user_expressions``), so a notebook opened in
JupyterLab shows its numbers before anything is run.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
"""An inline expression in a Markdown cell (MyST's ``eval`` role)."""


def user_expressions(client: NotebookClient, expressions: list[str]) -> list[dict]:
    """Evaluate ``expressions`` in the client's kernel; jupyterlab-myst's ``user_expressions`` metadata."""
    unique = list(dict.fromkeys(expressions))
    msg_id = client.kc.execute("", silent=False, store_history=False,
                               user_expressions={str(i): e for i, e in enumerate(unique)})
    reply = client.wait_for_reply(msg_id)
    results = reply["content"].get("user_expressions", {})
    out = []
    for i, expr in enumerate(unique):
        result = results.get(str(i), {"status": "error", "ename": "NoReply", "evalue": expr, "traceback": []})
        if result.get("status") != "ok":
            raise RuntimeError(f"{{eval}}`{expr}`: {result.get('ename')}: {result.get('evalue')}")
        out.append({"expression": expr, "result": result})
    return out


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run ``nb`` in place with the current environment's ``python3`` kernel, in folder ``cwd``.

    Cells run in order, as "Run All" in JupyterLab does; a Markdown cell's inline expressions are evaluated when
    it is reached and stored in its metadata (``user_expressions``).
    """
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        store_widget_state=True,
        record_timing=False,  # no timestamps in cell metadata: keeps diffs to real changes
    )
    client.reset_execution_trackers()
    with client.setup_kernel():
        info = client.wait_for_reply(client.kc.kernel_info())
        nb.metadata["language_info"] = info["content"]["language_info"]
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            elif cell.cell_type == "markdown":
                expressions = EVAL_ROLE.findall(cell.source)
                if expressions:
                    cell.metadata["user_expressions"] = user_expressions(client, expressions)
                else:
                    cell.metadata.pop("user_expressions", None)
        client.set_widgets_metadata()
    return nb


def execute_in_place(path: Path, timeout: int = 600) -> None:
    """Execute ``path`` (see :func:`execute`), cwd = its folder, and save it."""
    nb = nbformat.read(path, as_version=4)
    execute(nb, path.parent, timeout=timeout)
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
