#!/usr/bin/env bash
# Native TensorFlow for the ML library's 'tensorflow' backend (@tensorflow/tfjs-node), built
# against the libraries of the PyPI tensorflow-cpu wheel. tfjs-node's own install script
# downloads libtensorflow from a host this project cannot reach (and npm would roll the whole
# install back when it fails), so package.json turns that script off and this step does it:
#   1. downloads the pinned wheel with pip, which checks its sha256 (on first use; cached);
#   2. puts its libtensorflow_cc.so.2 and libtensorflow_framework.so.2, under the names the
#      binding links (-ltensorflow -ltensorflow_framework), and the C API headers into the
#      package's deps/ (so its install script would skip the download too);
#   3. builds the N-API binding with node-pre-gyp against the system's Node headers
#      (npm_config_nodedir=/usr: node-gyp would otherwise fetch them from the net).
# Best effort from scripts/ensure-deps.js: without it the ML library runs on cpu-blas, wasm or
# cpu. A GPU build (tfjs-node-gpu, the CUDA wheel and its nvidia-* wheels) is not attempted
# here; see libs/ml/README.md.
#
# Usage: infra/tensorflow.sh <install|status>
#   install  does the three steps once (a no-op afterwards); prints the binding's path
#   status   prints the binding's path and exits 0 when built, 1 otherwise
#
# Env (defaults in brackets):
#   TRELLIS_TF_CACHE   [<repo>/.trellis/cache/tensorflow]  where the wheel is kept
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
SERVICE_NAME=tensorflow
# shellcheck source-path=SCRIPTDIR source=lib/service.sh
. "$SCRIPT_DIR/lib/service.sh"

TF_VERSION=2.21.0
# The cp311 manylinux wheel: the libraries are the same in every Python's wheel; one is pinned
# so that its checksum can be.
WHEEL="tensorflow_cpu-${TF_VERSION}-cp311-cp311-manylinux_2_27_x86_64.whl"
WHEEL_SHA256=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c
TRELLIS_TF_CACHE="${TRELLIS_TF_CACHE:-$REPO_ROOT/.trellis/cache/tensorflow}"
PKG="$REPO_ROOT/node_modules/@tensorflow/tfjs-node"
DEPS="$PKG/deps"
BINDING="$PKG/lib/napi-v8/tfjs_binding.node"
MARKER="$DEPS/.trellis-installed"
WANTED="$WHEEL $WHEEL_SHA256 $(node -p process.version)"

installed() {
  [[ "$(cat "$MARKER" 2>/dev/null || true)" == "$WANTED" && -f "$BINDING" ]]
}

cmd_install() {
  if installed; then
    echo "$BINDING"
    return 0
  fi
  [[ -f "$PKG/package.json" ]] || die "@tensorflow/tfjs-node is not in node_modules (run npm ci first)"
  [[ "$(uname -sm)" == "Linux x86_64" ]] || die "the tensorflow-cpu wheel pinned here is for Linux x86_64, not $(uname -sm)"
  command -v python3 >/dev/null || die "python3 not found (needed to download tensorflow-cpu)"
  [[ -f /usr/include/node/node_api.h ]] || die "Node's headers are not in /usr/include/node (Debian: apt install libnode-dev)"
  mkdir -p "$TRELLIS_TF_CACHE"
  lock_install "$TRELLIS_TF_CACHE/.install.lock"
  if installed; then
    echo "$BINDING"
    return 0
  fi
  local logfile="$TRELLIS_TF_CACHE/install.log"
  : >"$logfile"
  if [[ ! -f "$TRELLIS_TF_CACHE/$WHEEL" ]]; then
    log "downloading tensorflow-cpu $TF_VERSION (about 260 MiB, first run only)"
    echo "tensorflow-cpu==$TF_VERSION --hash=sha256:$WHEEL_SHA256" >"$TRELLIS_TF_CACHE/requirements.txt"
    # --require-hashes (implied by --hash) makes pip refuse a file whose sha256 differs.
    python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_27_x86_64 \
      -r "$TRELLIS_TF_CACHE/requirements.txt" -d "$TRELLIS_TF_CACHE" >>"$logfile" 2>&1 ||
      { tail -n 20 "$logfile" >&2; die "pip could not download $WHEEL"; }
  fi
  log "unpacking libtensorflow and its C API headers into $DEPS"
  rm -rf "$DEPS" "$PKG/lib" "$PKG/build"
  mkdir -p "$DEPS/lib" "$DEPS/include"
  python3 - "$TRELLIS_TF_CACHE/$WHEEL" "$DEPS" "$PKG/binding" <<'PY' || die "could not unpack $WHEEL"
# The two libraries, and the headers the binding's sources include, followed through their
# quoted #includes inside the wheel's include/: nothing else of the wheel.
import glob, os, re, shutil, sys, zipfile
wheel, deps, binding = sys.argv[1], sys.argv[2], sys.argv[3]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
prefix = "tensorflow/include/"
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for lib in ("libtensorflow_cc.so.2", "libtensorflow_framework.so.2"):
        with z.open("tensorflow/" + lib) as src, open(os.path.join(deps, "lib", lib), "wb") as dst:
            shutil.copyfileobj(src, dst)
    todo, seen = [], set()
    for source in glob.glob(os.path.join(binding, "*")):
        todo.extend(INCLUDE.findall(open(source, encoding="utf-8").read()))
    while todo:
        header = todo.pop()
        if header in seen or prefix + header not in names:
            continue
        seen.add(header)
        text = z.read(prefix + header).decode("utf-8", "replace")
        todo.extend(INCLUDE.findall(text))
        target = os.path.join(deps, "include", header)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as dst:
            dst.write(text)
    print(f"{len(seen)} headers", file=sys.stderr)
PY
  [[ -f "$DEPS/lib/libtensorflow_cc.so.2" && -f "$DEPS/lib/libtensorflow_framework.so.2" ]] ||
    die "$WHEEL does not hold libtensorflow_cc.so.2 and libtensorflow_framework.so.2"
  # The names the binding links and tfjs-node's install script looks for.
  (
    cd "$DEPS/lib"
    for n in libtensorflow.so libtensorflow.so.2 libtensorflow.so.2.9.1; do ln -sf libtensorflow_cc.so.2 "$n"; done
    for n in libtensorflow_framework.so libtensorflow_framework.so.2.9.1; do ln -sf libtensorflow_framework.so.2 "$n"; done
  )
  log "building the tfjs-node binding (node-pre-gyp, system Node headers)"
  (
    cd "$PKG"
    npm_config_nodedir=/usr "$REPO_ROOT/node_modules/.bin/node-pre-gyp" rebuild --build-latest-napi-version-only
  ) >>"$logfile" 2>&1 || { tail -n 30 "$logfile" >&2; die "the tfjs-node binding did not build (log: $logfile)"; }
  [[ -f "$BINDING" ]] || die "the build finished but $BINDING is missing (log: $logfile)"
  (cd "$REPO_ROOT" && node -e "require('@tensorflow/tfjs-node')" >>"$logfile" 2>&1) ||
    { tail -n 20 "$logfile" >&2; die "the binding built but does not load (log: $logfile)"; }
  echo "$WANTED" >"$MARKER"
  log "installed: tfjs-node on tensorflow-cpu $TF_VERSION"
  echo "$BINDING"
}

cmd_status() {
  if installed; then
    echo "$BINDING"
    return 0
  fi
  log "native TensorFlow not set up (run: bash infra/tensorflow.sh install)"
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
