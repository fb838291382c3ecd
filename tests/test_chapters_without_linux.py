"""The chapters that read the live kernel must also run where it cannot be read (no Linux, no root).

Each is executed with ``KMEMLIB_USE_SNAPSHOT=1``, which makes ``live_or_snapshot`` pick the shipped
snapshot, and must say in its output that the snapshot is what is shown.
"""

from pathlib import Path

import nbformat
import pytest

import execute_notebooks  # tools/execute_notebooks.py (conftest puts tools/ on sys.path)

from kmemlib.readers.snapshots import DEFAULT_SNAPSHOT, SNAPSHOT_ENV

BOOK = Path(__file__).resolve().parents[1] / "book"
LIVE_CHAPTERS = sorted(
    p for p in BOOK.rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts and "live_or_snapshot" in p.read_text(encoding="utf-8")
)


def _outputs_text(nb) -> str:
    """Everything the notebook computed: cell outputs and the values of the Markdown's {eval} expressions."""
    parts = []
    for cell in nb.cells:
        for expr in cell.get("metadata", {}).get("user_expressions", []):
            parts.extend(v for v in expr["result"].get("data", {}).values() if isinstance(v, str))
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for value in out.get("data", {}).values():
                if isinstance(value, str):
                    parts.append(value)
    return "\n".join(parts)


def test_live_chapters_found():
    assert len(LIVE_CHAPTERS) >= 3, LIVE_CHAPTERS


@pytest.mark.parametrize("path", LIVE_CHAPTERS, ids=lambda p: str(p.relative_to(BOOK)))
def test_chapter_runs_on_the_snapshot(path, monkeypatch):
    monkeypatch.setenv(SNAPSHOT_ENV, "1")
    nb = nbformat.read(path, as_version=4)
    execute_notebooks.execute(nb, path.parent, timeout=120)
    text = _outputs_text(nb)
    assert "snapshot" in text.lower() or DEFAULT_SNAPSHOT in text, "the page must say it shows the snapshot"
