#!/usr/bin/env bash
# Make sure a Chromium exists for the browser test (tests/test_browser.py).
# - found on PATH (or $KMEMBOOK_CHROMIUM): nothing to do;
# - Debian/Ubuntu with root (or password-less sudo): apt-get install chromium;
# - otherwise: a note, and the browser tests skip - except under CI=true, where this is an error.
set -euo pipefail
source "$(dirname "$0")/ensure_lib.sh"

found() {
  if [ -n "${KMEMBOOK_CHROMIUM:-}" ] && [ -x "${KMEMBOOK_CHROMIUM}" ]; then return 0; fi
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$b" >/dev/null 2>&1; then return 0; fi
  done
  return 1
}

found && exit 0
apt_install "the browser test" chromium && found && exit 0
missing "no Chromium and no way to install it; under CI the browser test must run." \
  "no Chromium found - the browser tests will be skipped." \
  "Install it (Debian: apt-get install chromium) or set KMEMBOOK_CHROMIUM=/path/to/chromium."
