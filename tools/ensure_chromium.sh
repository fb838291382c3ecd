#!/usr/bin/env bash
# Make sure a Chromium exists for the browser test (tests/test_browser.py).
# - found on PATH (or $KMEMBOOK_CHROMIUM): nothing to do;
# - Debian/Ubuntu with root (or password-less sudo): apt-get install chromium;
# - otherwise: a note, and the browser tests skip - except under CI=true, where this is an error.
set -euo pipefail

if [ -n "${KMEMBOOK_CHROMIUM:-}" ] && [ -x "${KMEMBOOK_CHROMIUM}" ]; then exit 0; fi
for b in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$b" >/dev/null 2>&1; then exit 0; fi
done

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$SUDO" ]; }; then
  echo "[kmembook] installing Debian's chromium for the browser test (apt-get) ..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
  echo "[kmembook] apt-get finished but no 'chromium' on PATH" >&2
fi

case "${CI:-}" in
  1|true|TRUE|True|yes)
    echo "[kmembook] ERROR: no Chromium and no way to install it; under CI the browser test must run." >&2
    exit 1 ;;
esac
echo "[kmembook] NOTE: no Chromium found - the browser tests will be skipped." >&2
echo "[kmembook]       Install it (Debian: apt-get install chromium) or set KMEMBOOK_CHROMIUM=/path/to/chromium." >&2
