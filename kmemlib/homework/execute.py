"""Run a submitted notebook in the grading sandbox and read its answer variables.

The grader never trusts what the notebook file says it printed: it sends the code cells to :mod:`.runner` inside
the sandbox (:mod:`.sandbox`), which runs them in a fresh Jupyter kernel and reads the answer variables right after
every cell, straight from the kernel's namespace (a silent request, not printed text).  The records travel back on a
pipe only the runner holds, as bounded JSON lines the grader validates; everything else — expected answers,
points, time limits — stays on the grader's side.

Policy, all inside the runner: a raising cell is recorded and the run goes on; a cell over the per-cell time limit
is interrupted (and the run goes on), or, if it ignores the interrupt, the kernel is killed and the notebook re-run
from the start without that cell (at most ``max_restarts`` times); a cell printing more than the output limit is
treated the same way.  A total budget bounds all of it.  The answers graded are those of the last reading of the
run that got furthest, so a cell that times out or crashes keeps everything computed before it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from nbformat import NotebookNode

from .sandbox import Limits, run_in_sandbox, wall_limit

__all__ = ["CellError", "ExecutionOutcome", "execute_and_collect", "kernel_argv"]

_STATUS_NOTE = {
    "timeout": "cell {n} ran longer than {t:g} s and was skipped",
    "interrupted": "cell {n} ran longer than {t:g} s and was interrupted",
    "dead": "cell {n} crashed the kernel and was skipped",
    "output": "cell {n} printed more than {mib:g} MiB and was stopped",
}


@dataclass(frozen=True)
class CellError:
    """A cell of the submission that raised (index among the code cells, counting from 1)."""

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


def kernel_argv(kernel_name: str) -> list[str]:
    """The command line of Jupyter kernel ``kernel_name`` (raises ``ValueError`` naming the installed ones)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec(kernel_name)
    except NoSuchKernel:
        names = ", ".join(sorted(ksm.find_kernel_specs())) or "none"
        raise ValueError(f"no Jupyter kernel named {kernel_name!r} (installed: {names})") from None
    if spec.language.lower() != "python":
        raise ValueError(f"kernel {kernel_name!r} runs {spec.language}, not Python")
    return list(spec.argv) + ["--HistoryManager.enabled=False"]


def _valid_str(x: Any, limit: int = 400) -> str:
    return str(x)[:limit] if isinstance(x, (str, int, float)) else ""


def _answers_of(data: Any, names: list[str]) -> dict[str, dict[str, Any]] | None:
    """Validate one snapshot's answers (anything malformed makes that answer unreadable, never the grader fail)."""
    if not isinstance(data, dict) or not isinstance(data.get("answers"), dict):
        return None
    out: dict[str, dict[str, Any]] = {}
    for n in names:
        entry = data["answers"].get(n)
        if not isinstance(entry, dict) or not entry.get("defined"):
            out[n] = {"defined": False}
        elif isinstance(entry.get("json"), str):
            try:
                out[n] = {"defined": True, "value": json.loads(entry["json"])}
            except (ValueError, RecursionError, MemoryError):
                out[n] = {"defined": True, "error": "the value could not be read"}
        else:
            out[n] = {"defined": True, "error": _valid_str(entry.get("error")) or "the value could not be read"}
    return out


def _session_of(data: Any) -> dict[str, Any] | None:
    sess = data.get("session") if isinstance(data, dict) else None
    if not isinstance(sess, dict):
        return None
    out = {k: sess.get(k) for k in ("student_id", "assignment", "seed", "sheet", "variants")}
    if not isinstance(out["student_id"], str) or not isinstance(out["assignment"], str):
        return None
    if not (out["seed"] is None or (isinstance(out["seed"], int) and not isinstance(out["seed"], bool))):
        out["seed"] = None
    if not isinstance(out["sheet"], str):
        out["sheet"] = None
    if not isinstance(out["variants"], dict) or len(out["variants"]) > 64:
        out["variants"] = None
    return out


def execute_and_collect(nb: NotebookNode, names: list[str], *, timeout: float = 30,
                        total_timeout: float | None = None, kernel: list[str] | None = None,
                        startup_timeout: float = 60, max_restarts: int = 3, sandbox: bool = True, slot: int = 0,
                        limits: Limits = Limits()) -> ExecutionOutcome:
    """Run the code cells of ``nb`` (see the module docstring) and return the answers of ``names``."""
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    total = float(total_timeout) if total_timeout is not None else 10.0 * timeout
    if not (math.isfinite(total) and total > 0):
        raise ValueError(f"total_timeout must be a positive number of seconds, got {total_timeout!r}")
    cells = [c.source for c in nb.cells if c.get("cell_type") == "code"]
    job = {"cells": cells, "names": list(names), "timeout": float(timeout), "total_timeout": total,
           "startup_timeout": float(startup_timeout), "snapshot_timeout": 30.0, "max_restarts": int(max_restarts),
           "kernel_argv": kernel or kernel_argv("python3"), "workdir": "/tmp/work" if sandbox else None,
           "home": "/tmp/home" if sandbox else None, "sandboxed": bool(sandbox), "answer_limit": limits.answer,
           "output_limit": limits.output,
           "limits": {"memory": limits.memory, "cpu": int(total + (max_restarts + 1) * startup_timeout + 30),
                      "nproc": limits.nproc, "fsize": limits.fsize, "nofile": limits.nofile}}
    if not sandbox:   # --unsafe-no-sandbox: a private temporary folder, the grader's own user, no limits
        import tempfile
        tmp = tempfile.mkdtemp(prefix="kmemhw-")
        job.update(workdir=tmp + "/work", home=tmp + "/home")
        job["limits"] = {"cpu": job["limits"]["cpu"]}
    try:
        res = run_in_sandbox(job, slot=slot, limits=limits, sandbox=sandbox,
                             wall=wall_limit(total, startup_timeout, max_restarts))
    finally:
        if not sandbox:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    return interpret(res.records, res.ended, res.stderr, cells, names, timeout=timeout, total=total,
                     limits=limits)


def interpret(records: list[dict], ended: str | None, stderr: str, cells: list[str], names: list[str], *,
              timeout: float, total: float, limits: Limits) -> ExecutionOutcome:
    """Turn the runner's records into an :class:`ExecutionOutcome` (pure: tested without a sandbox)."""
    outcome = ExecutionOutcome()
    best: tuple[int, int] | None = None
    best_data = None
    attempt = 0
    notes: dict[int, str] = {}
    errors: dict[int, CellError] = {}
    last_begun: int | None = None
    finished = False
    for rec in records:
        t = rec.get("t")
        cell = rec.get("cell")
        cell = cell if isinstance(cell, int) and not isinstance(cell, bool) and 0 <= cell < len(cells) else None
        if t == "run" and isinstance(rec.get("attempt"), int):
            attempt = rec["attempt"]
        elif t == "begin" and cell is not None:
            last_begun = cell
        elif t == "cell" and cell is not None:
            status = rec.get("status")
            if status in _STATUS_NOTE:
                notes[cell] = _STATUS_NOTE[status].format(n=cell + 1, t=timeout, mib=limits.output / 2**20)
            if status == "error":
                errors[cell] = CellError(cell + 1, _valid_str(rec.get("ename"), 100), _valid_str(rec.get("evalue")),
                                         cells[cell])
            elif cell in errors and status == "ok":
                del errors[cell]
            if status not in ("timeout", "dead", "output"):
                last_begun = None
        elif t == "snap" and cell is not None:
            answers = _answers_of(rec.get("data"), names)
            if answers is not None and (best is None or (cell, attempt) >= best):
                best, best_data = (cell, attempt), rec.get("data")
                outcome.answers = answers
                outcome.session = _session_of(best_data)
        elif t == "budget":
            where = f" (stopped in cell {cell + 1})" if cell is not None else ""
            outcome.notes.append(f"the notebook did not finish within the total time limit of {total:g} s{where}")
        elif t == "gaveup":
            outcome.notes.append("gave up re-running the notebook: too many cells exceed the limits")
        elif t == "fail":
            outcome.failure = _valid_str(rec.get("why")) or "the notebook could not be run"
        elif t == "done":
            finished = True
    outcome.notes[:0] = [notes[i] for i in sorted(notes)]
    outcome.errors = [errors[i] for i in sorted(errors)]
    if not finished and outcome.failure is None and not any(r.get("t") in ("budget", "gaveup") for r in records):
        why = {"wall-time": "it ran past the grader's wall-clock limit",
               "channel-overflow": "it sent the grader more data than allowed"}.get(ended or "", None)
        if why is None:
            why = f"its grading process ended unexpectedly ({ended or 'no end record'})"
            if "bwrap" in stderr:
                why += ": " + stderr.strip().splitlines()[-1][:200]
        where = f" in cell {last_begun + 1}" if last_begun is not None else ""
        outcome.notes.append(f"the run stopped early{where}: {why}; answers read before that are graded")
    if best is None and outcome.failure is None:
        outcome.failure = "no answers could be read: " + (outcome.notes[-1] if outcome.notes else "nothing ran")
    return outcome
