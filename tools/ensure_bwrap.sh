#!/usr/bin/env bash
# Make sure bubblewrap (bwrap) exists: `kmemlib homework grade` runs every submission in it (tests/test_homework_*).
# - found on PATH (or $KMEMLIB_BWRAP): nothing to do;
# - Debian/Ubuntu with root (or password-less sudo): apt-get install bubblewrap;
# - otherwise: a note, and the sandboxed grading tests skip - except under CI=true, where this is an error.
set -euo pipefail

if [ -n "${KMEMLIB_BWRAP:-}" ] && [ -x "${KMEMLIB_BWRAP}" ]; then exit 0; fi
if command -v bwrap >/dev/null 2>&1; then exit 0; fi

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
  echo "[kmembook] installing Debian's bubblewrap for the grading sandbox (apt-get) ..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq bubblewrap >/dev/null
  command -v bwrap >/dev/null 2>&1 && exit 0
  echo "[kmembook] apt-get finished but no 'bwrap' on PATH" >&2
fi

case "${CI:-}" in
  1|true|TRUE|True|yes)
    echo "[kmembook] ERROR: no bubblewrap and no way to install it; under CI the grading sandbox must be tested." >&2
    exit 1 ;;
esac
echo "[kmembook] NOTE: no bubblewrap found - sandboxed grading tests will be skipped and" >&2
echo "[kmembook]       'kmemlib homework grade' refuses to run without --unsafe-no-sandbox." >&2
echo "[kmembook]       Install it (Debian: apt-get install bubblewrap) or set KMEMLIB_BWRAP=/path/to/bwrap." >&2
