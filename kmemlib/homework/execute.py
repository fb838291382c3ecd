"""Run a submitted notebook in a fresh kernel with time limits, then read its answer variables.

The submission is executed as the student wrote it (allowing errors, so one failing cell does not hide the later
answers).  A cell that exceeds the per-cell time limit, or kills its kernel, is recorded and skipped: the notebook is
re-run from the start in a new kernel without it, at most ``max_restarts`` times.  A total budget bounds the run.
Finally the grader appends a cell of its own that prints the answer variables as JSON behind a random token chosen at
grade time, so stored outputs in the submitted file play no role.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

__all__ = ["CellError", "ExecutionOutcome", "execute_and_collect", "DUMP_TIMEOUT"]

#: Seconds allowed to the grader's own final cell.
DUMP_TIMEOUT = 30

_DUMP_TEMPLATE = r'''
def __kmemhw_dump(__names, __token):
    import json as _json, sys as _sys
    _g = globals()

    def _plain(v, depth=0):
        if depth > 6:
            raise ValueError("nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, (list, tuple)):
            return [_plain(x, depth + 1) for x in v]
        if isinstance(v, dict):
            return {str(k): _plain(x, depth + 1) for k, x in v.items()}
        if isinstance(v, (set, frozenset)):
            return {"__set__": sorted((_plain(x, depth + 1) for x in v), key=repr)}
        if hasattr(v, "__index__"):
            return int(v.__index__())
        if hasattr(v, "tolist"):
            return _plain(v.tolist(), depth + 1)
        raise TypeError(type(v).__name__)

    out = {}
    for n in __names:
        if n not in _g:
            out[n] = {"defined": False}
            continue
        try:
            out[n] = {"defined": True, "value": _plain(_g[n])}
        except Exception as e:
            out[n] = {"defined": True, "error": "%s: %s" % (type(e).__name__, e), "repr": repr(_g[n])[:200]}
    sess = None
    mod = _sys.modules.get("kmemlib.homework.session")
    cur = getattr(mod, "_CURRENT", None) if mod is not None else None
    if cur is not None:
        try:
            sess = {"student_id": str(cur.student_id), "seed": int(cur.seed),
                    "assignment": str(cur.assignment.aid)}
        except Exception:
            sess = None
    _sys.__stdout__.flush()
    _sys.stdout.write(__token + _json.dumps({"answers": out, "session": sess}) + "\n")
    _sys.stdout.flush()

__kmemhw_dump(__NAMES__, __TOKEN__)
'''


@dataclass(frozen=True)
class CellError:
    """A cell of the submission that raised (index among the executed code cells, counting from 1)."""

    cell: int
    ename: str
    evalue: str
    source: str


@dataclass
class ExecutionOutcome:
    """What running a submission produced."""

    answers: dict[str, dict[str, Any]] = field(default_factory=dict)   # name → {"defined", "value"|"error"}
    session: dict[str, Any] | None = None                              # the notebook's own start() call, if any
    errors: list[CellError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failure: str | None = None     # set when no answers could be read at all

    @property
    def ok(self) -> bool:
        return self.failure is None


def _error_of(cell: NotebookNode) -> tuple[str, str] | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return str(out.get("ename", "")), str(out.get("evalue", ""))[:200]
    return None


def _run_once(cells: list[NotebookNode], workdir: Path, *, timeout: float, budget: float, kernel_name: str,
              startup_timeout: float, token: str, names: list[str]) -> tuple[str, int | None, float,
                                                                               NotebookNode]:
    """One run in a fresh kernel. Returns (status, failing cell index, seconds used, executed notebook);
    status is "done", "cell-timeout", "budget", "dead" or "dump-failed"."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.source) for c in cells]
    dump = nbformat.v4.new_code_cell(_DUMP_TEMPLATE.replace("__NAMES__", repr(list(names))).replace("__TOKEN__", repr(token)))
    nb.cells.append(dump)
    start = [0.0]

    def cell_timeout(cell: NotebookNode) -> float:
        if cell is dump:
            return DUMP_TIMEOUT
        left = budget - (time.monotonic() - start[0])
        return max(0.5, min(timeout, left))

    client = NotebookClient(nb, kernel_name=kernel_name, allow_errors=True, timeout_func=cell_timeout,
                            interrupt_on_timeout=False, shutdown_kernel="immediate",
                            startup_timeout=startup_timeout, record_timing=False,
                            resources={"metadata": {"path": str(workdir)}})
    used = 0.0
    with client.setup_kernel(stderr=subprocess.DEVNULL):  # ipykernel's own log lines, not the student's
        start[0] = time.monotonic()
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                used = time.monotonic() - start[0]
                if cell is dump:
                    return "dump-failed", None, used, nb
                status = "budget" if used >= budget - 0.05 else "cell-timeout"
                return status, index, used, nb
            except DeadKernelError:
                used = time.monotonic() - start[0]
                return ("dump-failed" if cell is dump else "dead"), (None if cell is dump else index), used, nb
        used = time.monotonic() - start[0]
    return "done", None, used, nb


def _parse_dump(nb: NotebookNode, token: str) -> dict[str, Any] | None:
    for out in nb.cells[-1].get("outputs", []):
        if out.get("output_type") == "stream":
            for line in str(out.get("text", "")).splitlines():
                if line.startswith(token):
                    try:
                        return json.loads(line[len(token):])
                    except json.JSONDecodeError:
                        return None
    return None


def execute_and_collect(nb: NotebookNode, workdir: Path, names: list[str], *, timeout: float = 30,
                        total_timeout: float | None = None, kernel_name: str = "python3",
                        startup_timeout: float = 60, max_restarts: int = 3) -> ExecutionOutcome:
    """Execute the code cells of ``nb`` (in their submitted order) in ``workdir`` and read the variables ``names``.

    ``timeout`` limits each cell; ``total_timeout`` (default ``10 * timeout``) limits the student's cells of one
    submission together, summed over restarts.
    """
    total = float(total_timeout if total_timeout is not None else 10 * timeout)
    cells = [c for c in nb.cells if c.get("cell_type") == "code" and str(c.get("source", "")).strip()]
    skipped: dict[int, str] = {}
    outcome = ExecutionOutcome()
    token = "KMEMHW-" + secrets.token_hex(16) + ":"
    used_total = 0.0
    executed: NotebookNode | None = None
    for attempt in range(max_restarts + 1):
        run_cells = [c if i not in skipped else nbformat.v4.new_code_cell("pass") for i, c in enumerate(cells)]
        try:
            status, bad, used, executed = _run_once(run_cells, workdir, timeout=timeout,
                                                    budget=max(0.5, total - used_total), kernel_name=kernel_name,
                                                    startup_timeout=startup_timeout, token=token, names=names)
        except Exception as exc:  # kernel could not start, ...
            outcome.failure = f"could not run the notebook: {type(exc).__name__}: {exc}"
            return outcome
        used_total += used
        if status == "cell-timeout" and bad is not None:
            skipped[bad] = f"cell {bad + 1} ran longer than {timeout:g} s and was skipped"
            if attempt < max_restarts:
                continue
            outcome.failure = f"gave up after {max_restarts + 1} runs: too many cells exceed the time limit"
        elif status == "dead" and bad is not None:
            skipped[bad] = f"cell {bad + 1} crashed the kernel and was skipped"
            if attempt < max_restarts:
                continue
            outcome.failure = f"gave up after {max_restarts + 1} runs: the kernel keeps dying"
        elif status == "budget":
            outcome.failure = f"the notebook did not finish within the total time limit of {total:g} s " \
                              f"(stopped in cell {bad + 1 if bad is not None else '?'})"
        elif status == "dump-failed":
            outcome.failure = "the notebook's state could not be read after running it"
        break
    outcome.notes.extend(skipped[i] for i in sorted(skipped))
    if outcome.failure is not None or executed is None:
        return outcome
    for i, cell in enumerate(executed.cells[:-1]):
        err = _error_of(cell)
        if err is not None:
            outcome.errors.append(CellError(i + 1, err[0], err[1], cell.source))
    data = _parse_dump(executed, token)
    if data is None:
        outcome.failure = "the notebook's answers could not be read (the grader's final cell printed nothing)"
        return outcome
    outcome.answers = data.get("answers", {})
    outcome.session = data.get("session")
    return outcome
