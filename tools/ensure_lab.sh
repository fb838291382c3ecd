#!/usr/bin/env bash
# Make sure the programs `kmemlib lab` needs exist for its end-to-end test (tests/test_lab.py):
# qemu-system-x86_64, a static busybox, gcc-12 and make (module builds), pahole (6.12 module BTF), apt-get/dpkg-deb.
# - all found: nothing to do;
# - Debian/Ubuntu with root (or password-less sudo): apt-get install the missing packages;
# - otherwise: a note, and the lab tests skip - except under CI=true, where this is an error.
set -euo pipefail
source "$(dirname "$0")/ensure_lib.sh"

need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" || need+=(busybox-static)
command -v x86_64-linux-gnu-gcc-12 >/dev/null 2>&1 || need+=(gcc-12)
command -v make >/dev/null 2>&1 || need+=(make)
command -v pahole >/dev/null 2>&1 || need+=(dwarves)
# the kernels are resolved from the local apt lists (apt-cache pkgnames): an empty list needs an apt-get update
lists_ok=1
if command -v apt-cache >/dev/null 2>&1 && [ -z "$(apt-cache pkgnames linux-image-6.12. 2>/dev/null | head -1)" ]; then
  lists_ok=0
fi
[ ${#need[@]} -eq 0 ] && [ "$lists_ok" = 1 ] && exit 0

APT_OPTS=--no-install-recommends apt_install "the kernel lab test" "${need[@]}" && exit 0
missing "missing ${need[*]} and no way to install them; under CI the lab test must run." \
  "missing ${need[*]} - the kernel lab tests will be skipped." \
  "Install them (Debian: apt-get install ${need[*]})."
