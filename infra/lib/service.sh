# shellcheck shell=bash
# Process handling shared by infra/kafka.sh and infra/s3.sh. Each of them
# runs one long-lived daemon out of a per-port data dir, tracked by a pid
# file, and must be safe to call again (start while running, stop while
# stopped) and from concurrent callers such as parallel test workers.
#
# Sourced, not run: the caller sets SERVICE_NAME (the "[name]" log prefix)
# and sources this file after `set -euo pipefail`; everything else is passed
# to the functions as arguments.
#
# File descriptors: while a script runs, fd 8 holds its install lock
# (lock_install) and fd 9 its data dir's start/stop lock (lock_data_dir);
# service_spawn closes both in the daemon.

: "${SERVICE_NAME:?set SERVICE_NAME before sourcing infra/lib/service.sh}"

# Resolve the repo from this file's own location so any cwd works
# (including jest's globalSetup running from elsewhere).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRELLIS_CACHE_DIR="${TRELLIS_CACHE_DIR:-$REPO_ROOT/.trellis/cache}"
TRELLIS_DATA_DIR="${TRELLIS_DATA_DIR:-$REPO_ROOT/.trellis/data}"

log() { echo "[$SERVICE_NAME] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

port_open() {
  # bash's /dev/tcp avoids depending on nc, which is not always installed.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# proc_cmdline PID: its command line with NULs as spaces ("" once it is gone).
proc_cmdline() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# service_running_pid PIDFILE IS_OURS: print the pid in PIDFILE if it is
# alive and IS_OURS (a function given its command line) accepts it.
# Only trust the pid file if that pid is still *our* daemon: pids get reused
# after reboots or long idle periods, and killing a stranger would be bad.
service_running_pid() {
  local pidfile="$1" is_ours="$2" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  "$is_ours" "$(proc_cmdline "$pid")" || return 1
  echo "$pid"
}

# lock_install LOCKFILE: serialise concurrent installs (e.g. two test workers
# starting at once). Held on fd 8 until the script exits.
lock_install() {
  exec 8>"$1"
  flock 8
}

# lock_data_dir DIR: one start/stop at a time per data dir: two concurrent
# starts would both see "not running" and launch two daemons on the same
# data. Held on fd 9 until the script exits.
lock_data_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}

# open_log LOGFILE: make sure it exists. Keep one previous run's log around,
# but don't let it grow forever.
open_log() {
  touch "$1"
  if [[ $(stat -c %s "$1") -gt 20000000 ]]; then
    mv -f "$1" "$1.1"
    touch "$1"
  fi
}

# service_spawn PIDFILE LOGFILE COMMAND...: start COMMAND in the background.
# setsid+nohup detach it from the caller's session/terminal so it outlives
# the shell (and jest's globalSetup) that started it; stdio goes to the log
# so the caller's pipes close and execSync() returns. The lock fds are
# closed too, or the daemon would hold the start/stop lock forever.
# The wrapper shell writes its own pid then execs COMMAND, so the pid file
# names the daemon itself whether or not setsid had to fork.
service_spawn() {
  local pidfile="$1" logfile="$2"
  shift 2
  # shellcheck disable=SC2016 # $$ and $1 are for the inner shell
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 8>&- 9>&- &
}

# service_await_pid PIDFILE: wait up to 5 s for service_spawn's wrapper to
# write the pid file, then print the pid; fails if none was written.
service_await_pid() {
  local pidfile="$1" pid _
  for _ in $(seq 1 50); do
    [[ -s "$pidfile" ]] && break
    sleep 0.1
  done
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 1
  echo "$pid"
}

# service_stop DATA PIDFILE IS_OURS TIMEOUT [AFTER]: under DATA's lock,
# SIGTERM the running daemon, SIGKILL it if it is still alive after TIMEOUT
# seconds, then run AFTER (a function, if given) before logging "stopped".
# Stopping something that is not running is a logged no-op.
service_stop() {
  local data="$1" pidfile="$2" is_ours="$3" timeout="$4" after="${5:-}" pid deadline
  lock_data_dir "$data"
  if ! pid="$(service_running_pid "$pidfile" "$is_ours")"; then
    rm -f "$pidfile"
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.3
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$pidfile"
  if [[ -n "$after" ]]; then
    "$after"
  fi
  log "stopped"
}

# service_main ARGS...: the command line both scripts share. cmd_install,
# cmd_start, cmd_stop and cmd_status are the calling script's.
service_main() {
  case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    *)
      echo "usage: $0 <install|start|stop|restart|status>" >&2
      exit 2
      ;;
  esac
}
