"""The book's kernel modules (``kmemlib/data/modules``) built against a Debian kernel's headers.

``make -C <headers> M=<dir> modules`` with the compiler the kernel was built with (gcc-12 for both
Debian 12 kernels). Built modules are cached per kernel release and source text.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from ..errors import LabModuleBuildError
from .kernels import Kernel, need_tool


def modules_dir() -> Path:
    """The folder holding the modules' C sources and their ``Kbuild``."""
    return Path(str(resources.files("kmemlib") / "data" / "modules"))


def list_modules() -> list[str]:
    """Names of the shipped modules (``kmalloc_sweep``, ``ksize_probe``, ``pages_exact_probe``)."""
    return sorted(p.stem for p in modules_dir().glob("*.c"))


def module_source(name: str) -> str:
    """C source of a shipped module."""
    if name not in list_modules():
        raise LabModuleBuildError(f"no module named {name!r} (known: {', '.join(list_modules())})")
    return (modules_dir() / f"{name}.c").read_text()


def build_module(name: str, kernel: Kernel, work: Path, *, timeout: float = 300) -> Path:
    """Build ``name.ko`` for ``kernel`` (its headers must be unpacked) in ``work``; returns its path.

    Raises :class:`LabModuleBuildError` with the compiler's last lines when the build fails.
    """
    src = module_source(name)
    if not kernel.has_headers:
        raise LabModuleBuildError(f"{kernel.release}: headers are not unpacked in {kernel.headers}")
    need_tool("make", "make")
    need_tool(*_compiler(kernel))
    digest = hashlib.sha256(src.encode()).hexdigest()[:12]
    out = Path(work) / f"{name}-{digest}"
    ko = out / f"{name}.ko"
    if ko.is_file():
        return ko
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / f"{name}.c").write_text(src)
    (out / "Kbuild").write_text(f"obj-m += {name}.o\n")
    cmd = ["make", "-C", str(kernel.headers), f"M={out}", "modules"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LabModuleBuildError(f"building {name} for {kernel.release} took more than {timeout:.0f} s") from None
    if proc.returncode != 0 or not ko.is_file():
        lines = (proc.stderr + proc.stdout).strip().splitlines()
        errors = [ln for ln in lines if "error" in ln.lower()] or lines
        raise LabModuleBuildError(f"building {name} for {kernel.release} failed:\n  " + "\n  ".join(errors[-8:]))
    return ko


def _compiler(kernel: Kernel) -> tuple[str, str]:
    """``(program, Debian package)`` of the C compiler the headers ask for: ``.kernelvariables`` sets
    ``CC = $(CROSS_COMPILE)gcc-12`` with ``CROSS_COMPILE = x86_64-linux-gnu-`` on amd64."""
    kv = kernel.headers / ".kernelvariables"
    text = kv.read_text() if kv.is_file() else ""
    m = re.search(r"^CC = .*\bgcc-(\d+)\s*$", text, re.M)
    if m:
        return f"x86_64-linux-gnu-gcc-{m.group(1)}", f"gcc-{m.group(1)}"
    return "gcc", "gcc"


__all__ = ["modules_dir", "list_modules", "module_source", "build_module"]
