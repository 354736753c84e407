#!/usr/bin/env bash
# Headless Chromium for the web console's browser tests: Debian's `chromium` package
# (/usr/bin/chromium), driven by playwright-core. Installed from Debian's package archive when
# missing; nothing is downloaded from elsewhere (playwright's own browser download is not used).
#
# Usage: infra/chromium.sh <install|path>
#   install  installs the package unless CHROMIUM_PATH already runs (needs root for apt-get)
#   path     prints the browser's path, or fails when there is none
#
# Env: CHROMIUM_PATH [/usr/bin/chromium]
set -euo pipefail

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
die() { echo "infra/chromium.sh: $*" >&2; exit 1; }

runs() { [[ -x "$CHROMIUM_PATH" ]] && "$CHROMIUM_PATH" --version >/dev/null 2>&1; }

case "${1:-}" in
  install)
    runs && exit 0
    [[ "$CHROMIUM_PATH" == /usr/bin/chromium ]] || die "CHROMIUM_PATH=$CHROMIUM_PATH does not run"
    command -v apt-get >/dev/null || die "no apt-get here: install Chromium yourself and set CHROMIUM_PATH"
    [[ "$(id -u)" == 0 ]] || die "installing Debian's chromium needs root: run 'sudo apt-get install chromium' once, or set CHROMIUM_PATH"
    echo "infra/chromium.sh: installing Debian's chromium (apt-get) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    # Fonts: a page's text must render in screenshots.
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2 || die "apt-get install chromium failed"
    runs || die "chromium was installed but $CHROMIUM_PATH does not run"
    ;;
  path)
    runs || die "no Chromium at $CHROMIUM_PATH (bash infra/chromium.sh install)"
    echo "$CHROMIUM_PATH"
    ;;
  *)
    echo "usage: infra/chromium.sh <install|path>" >&2
    exit 2
    ;;
esac
