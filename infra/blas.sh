#!/usr/bin/env bash
# Native BLAS for the ML library's 'cpu-blas' backend: OpenBLAS from the PyPI
# wheel scipy-openblas32 (the build NumPy and SciPy ship), which carries a
# self-contained libscipy_openblas.so, so no compiler, system package or
# binary download is needed. libs/ml loads it through koffi and calls
# scipy_cblas_sgemm for tfjs' matrix multiplications.
#
# Usage: infra/blas.sh <install|status>
#   install  installs the wheel once (a no-op when the wanted version is there)
#            and prints the library path on stdout
#   status   prints the library path and exits 0 when installed, 1 otherwise
#
# Env (defaults in brackets):
#   SCIPY_OPENBLAS_VERSION  [0.3.34.481.3]  scipy-openblas32 version from PyPI
#   TRELLIS_BLAS_DIR        [<repo>/.trellis/blas]  pip --target directory;
#                           libs/ml looks there too (see libs/ml/README.md)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
# log/die, lock_install, REPO_ROOT.
SERVICE_NAME=blas
# shellcheck source-path=SCRIPTDIR source=lib/service.sh
. "$SCRIPT_DIR/lib/service.sh"

SCIPY_OPENBLAS_VERSION="${SCIPY_OPENBLAS_VERSION:-0.3.34.481.3}"
TRELLIS_BLAS_DIR="${TRELLIS_BLAS_DIR:-$REPO_ROOT/.trellis/blas}"
LIB="$TRELLIS_BLAS_DIR/scipy_openblas32/lib/libscipy_openblas.so"
INSTALLED_MARKER="$TRELLIS_BLAS_DIR/.installed"

installed() {
  [[ "$(cat "$INSTALLED_MARKER" 2>/dev/null || true)" == "$SCIPY_OPENBLAS_VERSION" && -f "$LIB" ]]
}

cmd_install() {
  if installed; then
    log "scipy-openblas32 $SCIPY_OPENBLAS_VERSION already installed in $TRELLIS_BLAS_DIR"
    echo "$LIB"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found (needed to install scipy-openblas32)"
  mkdir -p "$TRELLIS_BLAS_DIR"
  lock_install "$TRELLIS_BLAS_DIR/.install.lock"
  if installed; then
    echo "$LIB"
    return 0
  fi
  log "installing scipy-openblas32 $SCIPY_OPENBLAS_VERSION into $TRELLIS_BLAS_DIR (first run only)"
  # Clear out only what this wheel installs (a version change or an interrupted
  # install): TRELLIS_BLAS_DIR may be a folder that holds other things.
  rm -rf "$TRELLIS_BLAS_DIR/scipy_openblas32" "$TRELLIS_BLAS_DIR"/scipy_openblas32-*.dist-info "$INSTALLED_MARKER"
  local logfile="$TRELLIS_BLAS_DIR/install.log"
  if ! python3 -m pip install --disable-pip-version-check --no-deps --no-compile --upgrade \
    --target "$TRELLIS_BLAS_DIR" "scipy-openblas32==$SCIPY_OPENBLAS_VERSION" >"$logfile" 2>&1; then
    tail -n 20 "$logfile" >&2
    die "pip could not install scipy-openblas32==$SCIPY_OPENBLAS_VERSION"
  fi
  [[ -f "$LIB" ]] || die "scipy-openblas32 installed but $LIB is missing (not a linux x86_64/aarch64 wheel?)"
  echo "$SCIPY_OPENBLAS_VERSION" >"$INSTALLED_MARKER"
  log "installed scipy-openblas32 $SCIPY_OPENBLAS_VERSION"
  echo "$LIB"
}

cmd_status() {
  if installed; then
    log "scipy-openblas32 $SCIPY_OPENBLAS_VERSION installed"
    echo "$LIB"
    return 0
  fi
  log "scipy-openblas32 $SCIPY_OPENBLAS_VERSION not installed in $TRELLIS_BLAS_DIR (run: bash infra/blas.sh install)"
  return 1
}

case "${1:-}" in
  install) cmd_install ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 <install|status>" >&2
    exit 2
    ;;
esac
