# Shared steps of tools/ensure_*.sh (sourced, not run): install a missing Debian package as root, or say why not.
#   apt_install "WHAT FOR" [PKG...]  apt-get update, then install PKG... (none: only the update) when root or
#                                    password-less sudo and apt-get exist; returns non-zero when it could not.
#                                    $APT_OPTS adds apt-get install options (e.g. --no-install-recommends).
#   missing "ERROR" "NOTE" [MORE...] under CI=true print ERROR and exit 1 (the test must run there); elsewhere print
#                                    the NOTE lines and exit 0 (the tests that need it skip).

apt_install() {
  local what="$1"; shift
  local sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
  command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; } || return 1
  echo "[kmembook] apt-get update${*:+ and install $*} for $what ..."
  $sudo apt-get update -qq || return 1
  [ $# -eq 0 ] && return 0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ${APT_OPTS:-} "$@" >/dev/null && return 0
  echo "[kmembook] apt-get install $* failed" >&2
  return 1
}

missing() {
  case "${CI:-}" in
    1|true|TRUE|True|yes)
      echo "[kmembook] ERROR: $1" >&2
      exit 1 ;;
  esac
  shift
  local prefix="[kmembook] NOTE:"
  for line in "$@"; do
    echo "$prefix $line" >&2
    prefix="[kmembook]      "
  done
  exit 0
}
