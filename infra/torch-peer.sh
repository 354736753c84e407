#!/usr/bin/env bash
# The benchmark peer for bench:ml: PyTorch + PEFT (and transformers, for the same LLaVA shape)
# in a virtual environment under .trellis/, from PyPI, installed on first use. Only the
# benchmark uses it; nothing at run time or in the tests does.
#
# PyPI's Linux torch wheels are CUDA builds: torch refuses to import without its nvidia-* and
# cuda-toolkit wheels, so those come too (about 3 GB on first use; CPU is what runs).
#
# Usage: infra/torch-peer.sh <install|status>
#   install  creates the venv and installs the pinned versions once (a no-op afterwards) and
#            prints the venv's python on stdout
#   status   prints the python and exits 0 when installed, 1 otherwise
#
# Env (defaults in brackets):
#   TORCH_VERSION         [2.15.0]
#   TRANSFORMERS_VERSION  [5.24.0]
#   PEFT_VERSION          [0.21.2]
#   BITSANDBYTES_VERSION  [0.50.2]  NF4 for the QLoRA peer (its CPU path)
#   TRELLIS_TORCH_DIR     [<repo>/.trellis/torch-peer]  the venv
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
SERVICE_NAME=torch-peer
# shellcheck source-path=SCRIPTDIR source=lib/service.sh
. "$SCRIPT_DIR/lib/service.sh"

TORCH_VERSION="${TORCH_VERSION:-2.15.0}"
TRANSFORMERS_VERSION="${TRANSFORMERS_VERSION:-5.24.0}"
PEFT_VERSION="${PEFT_VERSION:-0.21.2}"
BITSANDBYTES_VERSION="${BITSANDBYTES_VERSION:-0.50.2}"
TRELLIS_TORCH_DIR="${TRELLIS_TORCH_DIR:-$REPO_ROOT/.trellis/torch-peer}"
PY="$TRELLIS_TORCH_DIR/bin/python"
WANTED="torch==$TORCH_VERSION transformers==$TRANSFORMERS_VERSION peft==$PEFT_VERSION bitsandbytes==$BITSANDBYTES_VERSION"
INSTALLED_MARKER="$TRELLIS_TORCH_DIR/.installed"

installed() {
  [[ "$(cat "$INSTALLED_MARKER" 2>/dev/null || true)" == "$WANTED" && -x "$PY" ]]
}

cmd_install() {
  if installed; then
    echo "$PY"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found (needed for the PyTorch peer)"
  mkdir -p "$TRELLIS_TORCH_DIR"
  lock_install "$TRELLIS_TORCH_DIR.install.lock"
  if installed; then
    echo "$PY"
    return 0
  fi
  log "installing $WANTED into $TRELLIS_TORCH_DIR (first run only; about 3 GB with torch's CUDA wheels)"
  rm -f "$INSTALLED_MARKER"
  [[ -x "$PY" ]] || python3 -m venv "$TRELLIS_TORCH_DIR" || die "python3 -m venv failed (Debian: apt install python3-venv)"
  local logfile="$TRELLIS_TORCH_DIR.install.log"
  # shellcheck disable=SC2086 # WANTED is a list of requirements
  if ! "$PY" -m pip install --disable-pip-version-check --no-compile $WANTED numpy >"$logfile" 2>&1; then
    tail -n 20 "$logfile" >&2
    die "pip could not install $WANTED (log: $logfile)"
  fi
  "$PY" -c 'import torch, peft, transformers, bitsandbytes' || die "the peer's packages installed but do not import (log: $logfile)"
  echo "$WANTED" >"$INSTALLED_MARKER"
  log "installed $WANTED"
  echo "$PY"
}

cmd_status() {
  if installed; then
    echo "$PY"
    return 0
  fi
  log "$WANTED not installed in $TRELLIS_TORCH_DIR (run: bash infra/torch-peer.sh install)"
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
