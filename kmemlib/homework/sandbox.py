"""The grading sandbox: every submission runs in its own bubblewrap (``bwrap``) container.

What the submission sees and may do (``sandbox_argv`` builds the ``bwrap`` command line):

* its own mount namespace with **read-only** binds of ``/usr`` (and the ``/bin``, ``/lib`` links), a few files of
  ``/etc``, the Python installation, the virtual environment and the kmemlib package — nothing else of the host's
  files: not the submissions folder, the grades, the seed or roster files, the course key, the solutions;
* a private ``/tmp`` (tmpfs of :attr:`Limits.tmpfs` bytes) holding its working folder and home — its only writable
  place, gone when the run ends; the notebook's code arrives on standard input, not as a file path;
* its own PID namespace (it cannot see or signal the grader or other submissions), network namespace (no network,
  only its own loopback), IPC and UTS namespaces, a new session (no terminal), an empty environment plus a few
  variables; it dies with the grader (``--die-with-parent``);
* no privileges: as root the grader starts ``bwrap`` in its privileged mode and ``setpriv`` switches to an unused
  user id (:data:`SANDBOX_UID_BASE` + job slot) with an empty capability bounding set and ``no_new_privs``; as an
  ordinary user ``bwrap`` runs in a new user namespace with every capability dropped;
* limits (``setrlimit`` inside, soft = hard): address space, CPU seconds, processes/threads, file size, open files,
  no core dumps; the grader adds a wall-clock limit and reads at most :attr:`Limits.channel` bytes of results.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import KmemError

__all__ = ["SandboxError", "Limits", "SANDBOX_UID_BASE", "find_bwrap", "sandbox_argv", "check_sandbox",
           "run_in_sandbox", "RunResult"]

#: As root, job slot ``n`` runs as user id ``SANDBOX_UID_BASE + n`` (ids no account uses, so that process limits
#: count only that sandbox's processes).  Override with the ``KMEMLIB_SANDBOX_UID`` environment variable.
SANDBOX_UID_BASE = 1_900_000_000
_INNER_ID = 1000          # the id the submission sees (ordinary-user mode)
_HOME = "/tmp/home"
_WORK = "/tmp/work"
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "hosts", "localtime", "passwd",
              "group", "fonts", "alternatives", "mime.types")


class SandboxError(KmemError, RuntimeError):
    """The sandbox cannot be used (bubblewrap missing or not working here)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run (bytes and seconds)."""

    memory: int = 3 << 30          # RLIMIT_AS of each process (the kernel, with numpy, needs ~1 GiB of it)
    nproc: int = 256               # RLIMIT_NPROC: processes + threads
    fsize: int = 16 << 20          # RLIMIT_FSIZE: largest file it may write
    nofile: int = 256              # RLIMIT_NOFILE
    tmpfs: int = 64 << 20          # size of its private /tmp
    output: int = 2 << 20          # printed output per cell before the cell is stopped
    answer: int = 256 << 10        # characters of one answer variable (as JSON)
    channel: int = 16 << 20        # bytes of result records the grader reads at most

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")


def find_bwrap() -> str | None:
    """Path of the ``bwrap`` executable (``$KMEMLIB_BWRAP`` if set, else on ``PATH``), or None."""
    chosen = os.environ.get("KMEMLIB_BWRAP")
    if chosen:
        return chosen if os.path.isfile(chosen) and os.access(chosen, os.X_OK) else None
    return shutil.which("bwrap")


def _is_root() -> bool:
    return os.geteuid() == 0


def _python_paths(extra: list[str]) -> list[str]:
    """Folders the sandbox needs read-only: the Python installation, the venv, the kmemlib package."""
    from importlib.util import find_spec
    spec = find_spec("kmemlib")
    pkg = str(Path(spec.origin).resolve().parent) if spec and spec.origin else None
    cands = {os.path.realpath(sys.base_prefix), sys.prefix, os.path.realpath(sys.prefix), *extra}
    if pkg:
        cands.add(pkg)
    out = sorted(p for p in cands if p and os.path.isdir(p) and not (p == "/usr" or p.startswith("/usr/")))
    # drop folders inside another one already bound
    return [p for p in out if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in out)]


def sandbox_argv(slot: int = 0, *, extra_ro: list[str] | None = None, tmpfs: int = 64 << 20) -> list[str]:
    """The ``bwrap … --`` prefix of the command line for job slot ``slot`` (see the module docstring)."""
    bwrap = find_bwrap()
    if not bwrap:
        raise SandboxError("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    # --as-pid-1: the grading process is the namespace's init, so no bubblewrap process holds its result pipe,
    # and the kernel refuses signals sent to PID 1 from inside the namespace (the submission cannot kill it)
    args = [bwrap, "--die-with-parent", "--new-session", "--as-pid-1"]
    if _is_root():
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    else:
        args += ["--unshare-all", "--uid", str(_INNER_ID), "--gid", str(_INNER_ID), "--cap-drop", "ALL"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / top
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{top}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{top}"]
    for name in _ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(int(tmpfs)), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(1 << 20), "--tmpfs", "/dev/shm"]
    made: set[str] = set()
    for path in _python_paths(extra_ro or []):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            parent = "/" + "/".join(parts[:i])
            if parent not in made and parent not in ("/usr", "/tmp"):
                made.add(parent)
                args += ["--perms", "0755", "--dir", parent]
        args += ["--ro-bind", path, path]
    env = {"HOME": _HOME, "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{_HOME}/.mpl", "IPYTHONDIR": f"{_HOME}/.ipython",
           "JUPYTER_RUNTIME_DIR": f"{_HOME}/.runtime", "JUPYTER_CONFIG_DIR": f"{_HOME}/.jupyter",
           "JUPYTER_DATA_DIR": f"{_HOME}/.jupyter-data", "JUPYTER_PLATFORM_DIRS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1", "MALLOC_ARENA_MAX": "2",
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "TMPDIR": "/tmp"}
    args += ["--clearenv", "--chdir", "/tmp"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--"]
    if _is_root():
        uid = int(os.environ.get("KMEMLIB_SANDBOX_UID", SANDBOX_UID_BASE)) + int(slot)
        setpriv = shutil.which("setpriv")
        if not setpriv:
            raise SandboxError("setpriv (util-linux) is needed to drop root's rights inside the sandbox")
        args += [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs", "--"]
    return args


@dataclass
class RunResult:
    """What came back from one sandboxed run: the records, and why it ended if not normally."""

    records: list[dict]
    ended: str | None = None     # None (normal), "wall-time", "channel-overflow", "bad-record", "exit N"
    stderr: str = ""


def _read_channel(fd: int, limit: int, records: list[dict], state: dict) -> None:
    buf = b""
    total = 0
    with os.fdopen(fd, "rb", buffering=0) as fh:
        while True:
            chunk = fh.read(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                state["overflow"] = True
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    rec = json.loads(line.decode("utf-8"))
                except (ValueError, RecursionError, MemoryError):
                    state["bad"] = True
                    continue
                if isinstance(rec, dict) and isinstance(rec.get("t"), str):
                    records.append(rec)
                else:
                    state["bad"] = True
            if len(buf) > limit:
                state["overflow"] = True
                break


def _read_tail(stream, limit: int, out: list[bytes]) -> None:
    kept = b""
    for chunk in iter(lambda: stream.read(4096), b""):
        kept = (kept + chunk)[-limit:]
    out.append(kept)


def run_in_sandbox(job: dict, *, slot: int = 0, limits: Limits = Limits(), wall: float = 600,
                   sandbox: bool = True, extra_ro: list[str] | None = None) -> RunResult:
    """Run :mod:`.runner` on ``job`` (in bubblewrap unless ``sandbox=False``) and collect its records.

    The process group is killed after ``wall`` seconds or when it sends more than ``limits.channel`` bytes.
    """
    runner = str(Path(__file__).with_name("runner.py"))
    r, w = os.pipe()
    job = dict(job, fd=w)
    if sandbox:
        argv = sandbox_argv(slot, extra_ro=extra_ro, tmpfs=limits.tmpfs) + [sys.executable, "-I", runner]
        env = None
    else:
        argv = [sys.executable, "-I", runner]
        env = dict(os.environ, MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION="1", JUPYTER_PLATFORM_DIRS="1")
    records: list[dict] = []
    state: dict = {}
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                pass_fds=(w,), start_new_session=True, env=env, cwd="/")
    finally:
        os.close(w)
    reader = threading.Thread(target=_read_channel, args=(r, limits.channel, records, state), daemon=True)
    reader.start()
    tail: list[bytes] = []
    errt = threading.Thread(target=_read_tail, args=(proc.stderr, 4096, tail), daemon=True)
    errt.start()
    ended = None
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except OSError:
        pass
    deadline = time.monotonic() + wall
    while True:
        try:
            proc.wait(timeout=0.2)
            break
        except subprocess.TimeoutExpired:
            pass
        if state.get("overflow"):
            ended = "channel-overflow"
        elif time.monotonic() > deadline:
            ended = "wall-time"
        if ended:
            _kill(proc)
            break
    reader.join(timeout=10)
    errt.join(timeout=5)
    if state.get("overflow"):
        ended = "channel-overflow"
    if ended is None and proc.returncode not in (0, None):
        ended = f"exit {proc.returncode}"
    if ended is None and state.get("bad"):
        ended = "bad-record"
    return RunResult(records, ended, (tail[0] if tail else b"").decode("utf-8", "replace"))


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, 9)
    except OSError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def check_sandbox() -> None:
    """Start a trivial sandbox once; raise :class:`SandboxError` saying why it does not work here."""
    if not find_bwrap():
        raise SandboxError("bubblewrap (bwrap) is not installed; install it (Debian: apt-get install bubblewrap, "
                           "or `make sandbox`) or pass --unsafe-no-sandbox to grade without isolation")
    argv = sandbox_argv(0) + [sys.executable, "-I", "-c", "import jupyter_client, ipykernel"]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"bubblewrap does not start: {exc}") from None
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SandboxError("bubblewrap does not work here: " + (why[-1] if why else f"exit {done.returncode}")
                           + " (unprivileged user namespaces may be disabled; run as root or enable them)")


def wall_limit(total_timeout: float, startup_timeout: float, restarts: int) -> float:
    """Seconds the grader allows one sandboxed run in all."""
    return math.ceil(total_timeout + (restarts + 1) * (startup_timeout + 10) + 30)
