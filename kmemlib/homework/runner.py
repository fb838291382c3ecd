"""The supervisor that runs one submission inside the grading sandbox (started by :mod:`.sandbox`).

It is a script, run as ``python -I runner.py`` with no arguments: the job (the submission's code cells, the answer
names, the limits and the kernel's command line) arrives as JSON on standard input, and the results leave as one JSON
record per line on the file descriptor named in the job (a pipe to the grader), which only this process holds.  In
the sandbox it is PID 1 (``bwrap --as-pid-1``) and makes itself non-dumpable first, so the student's code — same
user id, same sandbox — can neither read that descriptor through ``/proc``, trace this process nor kill it (the
kernel drops signals sent to a namespace's init from inside).  If the run ends early anyway, the grader keeps what
was recorded before.

Records: ``{"t": "cell", ...}`` after every code cell (its status, and the error name if it raised),
``{"t": "snap", ...}`` with the answer variables read right after that cell (so a cell that later times out or
crashes the kernel keeps the answers computed before it), ``{"t": "run", ...}`` when a kernel is (re)started and
``{"t": "done"}`` at the end.  The student's output is counted and thrown away.
"""

from __future__ import annotations

import ast
import ctypes
import json
import os
import queue
import resource
import signal
import sys
import time

PR_SET_DUMPABLE = 4

#: The kernel-side reader of the answer variables (defined once per kernel, silently, before the first cell).
#: It converts with kmemlib's own ``to_plain`` — the same function ``check()`` uses — so that the notebook's
#: "correct" and the grader agree.
SNAP_DEFINE = r'''
def __kmemhw_define():
    import sys, types, json
    mod = types.ModuleType("__kmemhw__")

    def snap(names, limit):
        from kmemlib.homework.answers import to_plain
        g = sys.modules["__main__"].__dict__
        out = {}
        for n in names:
            if n not in g:
                out[n] = {"defined": False}
                continue
            try:
                text = json.dumps(to_plain(g[n]))
                if len(text) > limit:
                    raise ValueError("the value is larger than %d characters" % limit)
                out[n] = {"defined": True, "json": text}
            except Exception as e:
                out[n] = {"defined": True, "error": ("%s: %s" % (type(e).__name__, e))[:300]}
        sess = None
        cur = getattr(sys.modules.get("kmemlib.homework.session"), "_CURRENT", None)
        if cur is not None:
            try:
                sess = cur.declared()
            except Exception:
                sess = None
        return json.dumps({"answers": out, "session": sess})

    mod.snap = snap
    sys.modules["__kmemhw__"] = mod

__kmemhw_define()
del __kmemhw_define
'''


class Channel:
    """Line-delimited JSON records on a file descriptor (fsync not needed: a pipe to the grader)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, **record) -> None:
        data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]


def _limit_self(job: dict) -> None:
    """Resource limits, inherited by the kernel and everything it starts (soft = hard: no way back up)."""
    lim = job["limits"]
    for name, value in (("RLIMIT_AS", lim.get("memory")), ("RLIMIT_CPU", lim.get("cpu")),
                        ("RLIMIT_NPROC", lim.get("nproc")), ("RLIMIT_FSIZE", lim.get("fsize")),
                        ("RLIMIT_NOFILE", lim.get("nofile")), ("RLIMIT_CORE", 0)):
        if value is None or not hasattr(resource, name):
            continue
        try:
            resource.setrlimit(getattr(resource, name), (int(value), int(value)))
        except (ValueError, OSError):
            pass


def _kill_others() -> None:
    """Kill every other process of the sandbox and reap them.  Only as PID 1 — the init of the sandbox's own PID
    namespace (``bwrap --as-pid-1``) — where every other process is the submission's."""
    if os.getpid() != 1:
        return
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != 1:
            try:
                os.kill(int(name), signal.SIGKILL)
            except OSError:
                pass
    while True:     # as init, orphans are ours to reap
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Kernel:
    """One Jupyter kernel (a child of this process) and a blocking client on it."""

    def __init__(self, job: dict) -> None:
        self.sandboxed = bool(job.get("sandboxed"))
        from jupyter_client.manager import KernelManager
        self.km = KernelManager(kernel_name=job["kernel"])
        self.km.start_kernel(stdin=open(os.devnull), stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"),
                             cwd=job["workdir"])
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=job["startup_timeout"])
        self.output_bytes = 0

    def execute(self, code: str, timeout: float, *, silent: bool = False,
                user_expressions: dict | None = None, output_limit: int | None = None) -> dict:
        """Run ``code``; returns ``{"status": "ok"|"error"|"timeout"|"dead"|"output", ...}``."""
        msg_id = self.kc.execute(code, silent=silent, store_history=not silent, allow_stdin=False,
                                 stop_on_error=False, user_expressions=user_expressions or {})
        deadline = time.monotonic() + timeout
        while True:
            self._drain_iopub()
            if output_limit is not None and self.output_bytes > output_limit:
                return {"status": "output"}
            left = deadline - time.monotonic()
            if left <= 0:
                return {"status": "timeout"}
            try:
                reply = self.kc.get_shell_msg(timeout=min(0.2, left))
            except queue.Empty:
                if not self.km.is_alive():
                    return {"status": "dead"}
                continue
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = reply.get("content", {})
            self._drain_iopub()
            if content.get("status") == "error":
                return {"status": "error", "ename": str(content.get("ename", ""))[:100],
                        "evalue": str(content.get("evalue", ""))[:300]}
            if content.get("status") != "ok":
                return {"status": "error", "ename": str(content.get("status")), "evalue": ""}
            return {"status": "ok", "user_expressions": content.get("user_expressions", {})}

    def _drain_iopub(self) -> None:
        """Count (and drop) the output waiting on IOPub; at most 0.2 s at a time, so a flood cannot keep the
        supervisor from noticing the time limit."""
        stop = time.monotonic() + 0.2
        while time.monotonic() < stop:
            try:
                msg = self.kc.get_iopub_msg(timeout=0)
            except queue.Empty:
                return
            content = msg.get("content", {})
            if msg.get("msg_type") == "stream":
                self.output_bytes += len(str(content.get("text", "")))
            elif msg.get("msg_type") in ("display_data", "execute_result", "update_display_data"):
                self.output_bytes += sum(len(str(v)) for v in content.get("data", {}).values())

    def interrupt(self) -> None:
        try:
            self.km.interrupt_kernel()
        except Exception:
            pass

    def stop(self) -> None:
        try:
            self.kc.stop_channels()
        except Exception:
            pass
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:
            pass
        if self.sandboxed:   # only inside the sandbox's own PID namespace: everything but PID 1 and us is its
            _kill_others()


def _snapshot(kernel: Kernel, job: dict) -> dict | None:
    expr = f"__import__('sys').modules['__kmemhw__'].snap({job['names']!r}, {int(job['answer_limit'])})"
    res = kernel.execute("", job["snapshot_timeout"], silent=True, user_expressions={"s": expr})
    if res["status"] != "ok":
        return None
    value = res.get("user_expressions", {}).get("s", {})
    if value.get("status") != "ok":
        return None
    text = value.get("data", {}).get("text/plain", "")
    try:
        return json.loads(ast.literal_eval(text))
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None


def run(job: dict, out: Channel) -> None:
    cells: list[str] = job["cells"]
    skipped: dict[int, str] = {}
    start = time.monotonic()
    budget = float(job["total_timeout"])
    for attempt in range(int(job["max_restarts"]) + 1):
        out.send(t="run", attempt=attempt, skipped=sorted(skipped))
        try:
            kernel = Kernel(job)
        except Exception as exc:
            out.send(t="fail", why=f"the kernel did not start: {type(exc).__name__}: {str(exc)[:200]}")
            return
        restart = False
        try:
            res = kernel.execute(SNAP_DEFINE, job["snapshot_timeout"], silent=True)
            if res["status"] != "ok":
                out.send(t="fail", why="the grader's reader could not be set up in the kernel")
                return
            for i, src in enumerate(cells):
                if i in skipped:
                    continue
                left = budget - (time.monotonic() - start)
                if left <= 0:
                    out.send(t="budget", cell=i)
                    return
                kernel.output_bytes = 0
                out.send(t="begin", cell=i)
                res = kernel.execute(src, min(float(job["timeout"]), left), output_limit=int(job["output_limit"]))
                status = res["status"]
                if status == "timeout":
                    kernel.interrupt()
                    after = kernel.execute("", 3.0)
                    if after["status"] in ("ok", "error"):
                        status = "interrupted"
                    else:
                        status = "timeout" if time.monotonic() - start < budget else "budget"
                out.send(t="cell", cell=i, status=status, ename=res.get("ename"), evalue=res.get("evalue"))
                if status in ("timeout", "dead", "output"):
                    skipped[i] = status
                    restart = True
                    break
                if status == "budget":
                    out.send(t="budget", cell=i)
                    return
                snap = _snapshot(kernel, job)
                if snap is None:
                    out.send(t="snapfail", cell=i)
                else:
                    out.send(t="snap", cell=i, attempt=attempt, data=snap)
        finally:
            kernel.stop()
        if not restart:
            out.send(t="done")
            return
    out.send(t="gaveup")


def main() -> None:
    try:
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except Exception:
        pass
    job = json.loads(sys.stdin.read())
    out = Channel(int(job["fd"]))
    sys.stdin.close()
    os.makedirs(job["workdir"], exist_ok=True)
    os.chdir(job["workdir"])
    spec_dir = os.path.join(job["home"], ".kmemhw-kernels", "kernels", "kmemhw")
    os.makedirs(spec_dir, exist_ok=True)
    with open(os.path.join(spec_dir, "kernel.json"), "w") as fh:
        json.dump({"argv": job["kernel_argv"], "display_name": "grading", "language": "python",
                   "env": job.get("kernel_env", {})}, fh)
    os.environ["JUPYTER_PATH"] = os.path.join(job["home"], ".kmemhw-kernels")
    job["kernel"] = "kmemhw"
    _limit_self(job)
    try:
        run(job, out)
    except Exception as exc:  # report, do not hide: the grader marks the submission failed with this line
        out.send(t="fail", why=f"grading process error: {type(exc).__name__}: {str(exc)[:200]}")


if __name__ == "__main__":
    main()
