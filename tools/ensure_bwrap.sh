#!/usr/bin/env bash
# Make sure bubblewrap (bwrap) exists: `kmemlib homework grade` runs every submission in it (tests/test_homework_*).
# - found on PATH (or $KMEMLIB_BWRAP): nothing to do;
# - Debian/Ubuntu with root (or password-less sudo): apt-get install bubblewrap;
# - otherwise: a note, and the sandboxed grading tests skip - except under CI=true, where this is an error.
set -euo pipefail
source "$(dirname "$0")/ensure_lib.sh"

found() {
  if [ -n "${KMEMLIB_BWRAP:-}" ] && [ -x "${KMEMLIB_BWRAP}" ]; then return 0; fi
  command -v bwrap >/dev/null 2>&1
}

found && exit 0
apt_install "the grading sandbox" bubblewrap && found && exit 0
missing "no bubblewrap and no way to install it; under CI the grading sandbox must be tested." \
  "no bubblewrap found - sandboxed grading tests will be skipped and" \
  "'kmemlib homework grade' refuses to run without --unsafe-no-sandbox." \
  "Install it (Debian: apt-get install bubblewrap) or set KMEMLIB_BWRAP=/path/to/bwrap."
