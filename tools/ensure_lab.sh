#!/usr/bin/env bash
# Make sure the programs `kmemlib lab` needs exist for its end-to-end test (tests/test_lab.py):
# qemu-system-x86_64, a static busybox, gcc-12 and make (module builds), pahole (6.12 module BTF), apt-get/dpkg-deb.
# - all found: nothing to do;
# - Debian/Ubuntu with root (or password-less sudo): apt-get install the missing packages;
# - otherwise: a note, and the lab tests skip - except under CI=true, where this is an error.
set -euo pipefail

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

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
  echo "[kmembook] apt-get update${need[*]:+ and install ${need[*]}} for the kernel lab test ..."
  $SUDO apt-get update -qq
  if [ ${#need[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
    exit 0
  fi
  echo "[kmembook] apt-get install ${need[*]} failed" >&2
fi

case "${CI:-}" in
  1|true|TRUE|True|yes)
    echo "[kmembook] ERROR: missing ${need[*]} and no way to install them; under CI the lab test must run." >&2
    exit 1 ;;
esac
echo "[kmembook] NOTE: missing ${need[*]} - the kernel lab tests will be skipped." >&2
echo "[kmembook]       Install them (Debian: apt-get install ${need[*]})." >&2
