"""Debian's kernels for the lab: resolve the current version, ``apt-get download``, unpack, cache.

Nothing is installed on the host: the ``.deb`` files are unpacked with ``dpkg-deb -x`` into
``<cache>/<release>/root`` (``boot/vmlinuz-*``, ``usr/src/linux-headers-*``, ``usr/lib/linux-kbuild-*``).
The archive drops superseded versions, so the newest package of a series is looked up with
``apt-cache`` each time a kernel is not cached yet, never pinned.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import LabFetchError, LabToolMissingError

KERNELS: dict[str, str] = {
    "6.1": "Debian 12's own kernel (linux-image-6.1.0-N-amd64-unsigned)",
    "6.12": "Debian 12's 6.12 kernel (linux-image-6.12.N+deb12-amd64-unsigned)",
}
"""Kernel series the lab can boot, with what they are."""

CACHE_ENV = "KMEMLIB_LAB_CACHE"
"""Environment variable naming the lab's cache folder (default ``~/.cache/kmemlib/lab``)."""

_ABI = {"6.1": r"6\.1\.\d+-\d+", "6.12": r"6\.12\.\d+\+deb\d+"}


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The lab's cache folder: ``path``, else ``$KMEMLIB_LAB_CACHE``, else ``~/.cache/kmemlib/lab``."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "kmemlib" / "lab"


def need_tool(name: str, package: str) -> str:
    """Full path of the program ``name``; :class:`LabToolMissingError` naming the Debian package if absent."""
    found = shutil.which(name)
    if not found:
        raise LabToolMissingError(f"the lab needs {name!r}, which is not installed "
                                  f"(Debian: apt-get install {package})")
    return found


def _run(cmd: list[str], *, cwd: Path | None = None, what: str, timeout: float = 600) -> str:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LabFetchError(f"{what}: '{' '.join(cmd)}' did not finish in {timeout:.0f} s") from None
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        tail = "; ".join(msg[-3:]) if msg else f"exit status {proc.returncode}"
        raise LabFetchError(f"{what} failed: {tail}")
    return proc.stdout


def _version_key(abi: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", abi))


def resolve_release(series: str) -> str:
    """The newest kernel release of ``series`` in the configured apt sources, e.g. ``6.1.0-57-amd64``.

    Uses ``apt-cache pkgnames`` (the local package lists: run ``apt-get update`` first if they are empty).
    """
    if series not in _ABI:
        raise LabFetchError(f"unknown kernel {series!r}: the lab boots {', '.join(KERNELS)}")
    need_tool("apt-cache", "apt")
    out = _run(["apt-cache", "pkgnames", f"linux-image-{series}."], what="apt-cache pkgnames")
    pat = re.compile(rf"linux-image-({_ABI[series]})-amd64-unsigned")
    abis = sorted({m.group(1) for line in out.split() if (m := pat.fullmatch(line.strip()))}, key=_version_key)
    if not abis:
        raise LabFetchError(f"no linux-image-{series}.*-amd64-unsigned package in the apt lists "
                            f"(Debian 12 'bookworm' sources; run 'apt-get update' first)")
    return f"{abis[-1]}-amd64"


def _depends(package: str) -> list[str]:
    out = _run(["apt-cache", "depends", package], what=f"apt-cache depends {package}")
    return [line.split(":", 1)[1].strip() for line in out.splitlines()
            if line.strip().startswith("Depends:") and "<" not in line]


def packages_for(release: str, *, headers: bool) -> list[str]:
    """Package names to download: the unsigned image, plus headers, ``-common`` and ``linux-kbuild``."""
    pkgs = [f"linux-image-{release}-unsigned"]
    if headers:
        hdr = f"linux-headers-{release}"
        pkgs.append(hdr)
        pkgs += [d for d in _depends(hdr) if d.startswith(("linux-headers-", "linux-kbuild-"))]
    return pkgs


@dataclass(frozen=True)
class Kernel:
    """An unpacked Debian kernel in the cache."""

    series: str
    release: str
    root: Path

    @property
    def vmlinuz(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.release}"

    @property
    def headers(self) -> Path:
        return self.root / "usr" / "src" / f"linux-headers-{self.release}"

    @property
    def has_headers(self) -> bool:
        return (self.headers / "Makefile").is_file()


def _fix_headers(kernel: Kernel) -> None:
    """The arch headers' Makefile includes ``/usr/src/linux-headers-*-common/Makefile`` by absolute path:
    point it into the unpacked tree instead."""
    mk = kernel.headers / "Makefile"
    text = mk.read_text()
    fixed = re.sub(r"^include /usr/src/", f"include {kernel.root}/usr/src/", text, flags=re.M)
    if fixed != text:
        mk.write_text(fixed)


def fetch_kernel(series: str, *, headers: bool = False, cache: str | os.PathLike | None = None,
                 log=print) -> Kernel:
    """Download (``apt-get download``) and unpack (``dpkg-deb -x``) the newest kernel of ``series``
    into the cache, with its headers if asked; reuses what the cache already holds."""
    base = cache_dir(cache)
    release = resolve_release(series)
    kernel = Kernel(series, release, base / release / "root")
    if kernel.vmlinuz.is_file() and (kernel.has_headers or not headers):
        return kernel
    need_tool("apt-get", "apt")
    need_tool("dpkg-deb", "dpkg")
    debs = base / release / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    pkgs = packages_for(release, headers=headers)
    missing = [p for p in pkgs if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        log(f"lab: downloading {', '.join(missing)} (apt-get download)")
        _run(["apt-get", "download", "-q", *missing], cwd=debs, what="apt-get download")
    kernel.root.mkdir(parents=True, exist_ok=True)
    for p in pkgs:
        found = sorted(debs.glob(f"{p}_*.deb"))
        if not found:
            raise LabFetchError(f"apt-get download left no {p}_*.deb in {debs}")
        _run(["dpkg-deb", "-x", str(found[-1]), str(kernel.root)], what=f"dpkg-deb -x {found[-1].name}")
    if not kernel.vmlinuz.is_file():
        raise LabFetchError(f"{kernel.vmlinuz} missing after unpacking {pkgs[0]}")
    if headers:
        if not kernel.has_headers:
            raise LabFetchError(f"{kernel.headers}/Makefile missing after unpacking the headers")
        _fix_headers(kernel)
    return kernel


__all__ = ["KERNELS", "CACHE_ENV", "Kernel", "cache_dir", "need_tool", "resolve_release", "packages_for",
           "fetch_kernel"]
