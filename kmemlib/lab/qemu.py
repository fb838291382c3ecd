"""Boot a kernel under QEMU (software emulation) and collect what the guest's ``/init`` sends.

``/dev/kvm`` may exist but does not run stock Debian kernels everywhere; ``-accel tcg,thread=multi
-cpu max`` always works. The console (ttyS0) goes to ``console.log``, the dump (ttyS1) to
``dump.b64``; there is no network device and no disk.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import LabBootError, LabBootTimeoutError, LabGuestCrashError
from .initramfs import DUMP_END, STAGE_PREFIX
from .kernels import need_tool

DEFAULT_TIMEOUT = 300.0
"""Seconds before a boot is given up: emulation speed varies 2x between runs and machines, and a
boot to poweroff takes 5-16 s with 1-8 CPUs on a 2-core machine."""


@dataclass(frozen=True)
class Boot:
    """Result of one boot: the console log, the dump channel's text and the wall time."""

    console: str
    dump: str
    seconds: float


def qemu_command(vmlinuz: Path, initrd: Path, *, cpus: int, mem_mib: int, console: Path, dump: Path,
                 append: str = "") -> list[str]:
    """The ``qemu-system-x86_64`` command line of a lab boot."""
    cmdline = f"console=ttyS0 quiet panic=-1 {append}".strip()
    return ["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", str(cpus),
            "-m", f"{mem_mib}M", "-nodefaults", "-display", "none", "-monitor", "none", "-no-reboot",
            "-serial", f"file:{console}", "-serial", f"file:{dump}",
            "-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", cmdline]


def _die_with_parent() -> None:
    """In the child, before exec: Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so QEMU does not outlive a
    killed Python (a test runner's timeout, say)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)   # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


_CRASH = re.compile(r"\] (Kernel panic - not syncing: .*|BUG: .*|Oops: .*|general protection fault.*)$", re.M)


def guest_crash(console: str) -> str:
    """The first oops or panic line of a guest's console (``BUG:``, ``Oops:``, ``general protection fault``,
    ``Kernel panic - not syncing:``), or ``""``."""
    m = _CRASH.search(console)
    return m.group(1).strip() if m else ""


def _stage(console: str) -> str:
    stages = [ln[len(STAGE_PREFIX):].strip() for ln in console.splitlines() if ln.startswith(STAGE_PREFIX)]
    return stages[-1] if stages else "booting"


def boot(vmlinuz: Path, initrd: Path, workdir: Path, *, cpus: int, mem_mib: int,
         timeout: float = DEFAULT_TIMEOUT, append: str = "",
         progress: Callable[[float, str], None] | None = None) -> Boot:
    """Boot once and wait for the guest to power off; :class:`LabBootTimeoutError` after ``timeout`` s,
    :class:`LabGuestCrashError` if the guest kernel oopsed or panicked, :class:`LabBootError` if QEMU fails or the
    guest stops without sending its dump."""
    need_tool("qemu-system-x86_64", "qemu-system-x86")
    workdir.mkdir(parents=True, exist_ok=True)
    console, dump = workdir / "console.log", workdir / "dump.b64"
    for p in (console, dump):
        p.unlink(missing_ok=True)
    cmd = qemu_command(vmlinuz, initrd, cpus=cpus, mem_mib=mem_mib, console=console, dump=dump, append=append)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=_die_with_parent)
    try:
        while proc.poll() is None:
            elapsed = time.monotonic() - t0
            if elapsed > timeout:
                proc.kill()
                proc.wait()
                raise LabBootTimeoutError(
                    f"{vmlinuz.name} with {cpus} CPUs did not power off within {timeout:.0f} s "
                    f"(last stage: {_stage(_read(console))}); emulation may just be slow here: "
                    f"raise the timeout (--timeout)")
            if progress is not None:
                progress(elapsed, _stage(_read(console)))
            time.sleep(0.25)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = proc.stdout.read().decode("utf-8", "replace") if proc.stdout else ""
    seconds = time.monotonic() - t0
    text, dump_text = _read(console), _read(dump)
    if DUMP_END not in dump_text:
        tail = "\n  ".join((out + text).strip().splitlines()[-6:])
        crash = guest_crash(text)
        if crash:
            raise LabGuestCrashError(f"{vmlinuz.name} with {cpus} CPUs: the guest kernel crashed after {seconds:.1f} s "
                                     f"({crash}):\n  {tail}")
        raise LabBootError(f"{vmlinuz.name}: QEMU exited with status {proc.returncode} after {seconds:.1f} s "
                           f"without the guest's dump:\n  {tail}")
    return Boot(text, dump_text, seconds)


def print_progress(prefix: str) -> Callable[[float, str], None]:
    """A progress callback for :func:`boot`: one rewritten line on a terminal (elapsed seconds and
    the guest's stage), else one plain line per new stage, on stderr."""
    tty = sys.stderr.isatty()
    seen: list[str] = []

    def show(elapsed: float, stage: str) -> None:
        if tty:
            sys.stderr.write(f"\r\033[K{prefix}{elapsed:5.1f} s  {stage}" + ("\n" if stage == "done" else ""))
            sys.stderr.flush()
        elif not seen or seen[-1] != stage:
            seen.append(stage)
            print(f"{prefix}{elapsed:5.1f} s  {stage}", file=sys.stderr)
    return show


__all__ = ["DEFAULT_TIMEOUT", "Boot", "qemu_command", "boot", "guest_crash", "print_progress"]
