#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) for Trellis'
# distributed profile and integration tests, run straight from Maven Central
# jars with the local `java` (no Docker, no tarball download needed).
#
# Usage: infra/kafka.sh <install|start|stop|restart|status>
#
# Env (defaults in brackets):
#   KAFKA_VERSION          [4.1.2]
#   KAFKA_PORT             [9092]  PLAINTEXT listener on 127.0.0.1
#   KAFKA_CONTROLLER_PORT  [9093]  KRaft controller listener on 127.0.0.1
#   KAFKA_HEAP_OPTS        [-Xms256m -Xmx512m]
#   KAFKA_START_TIMEOUT    [90]    seconds to wait for the broker to come up
#   TRELLIS_CACHE_DIR      [<repo>/.trellis/cache]  jars: kafka-<version>/libs
#   TRELLIS_DATA_DIR       [<repo>/.trellis/data]   state: kafka-<port>/
#
# Version choice (KafkaJS 2.2.4 compatibility, checked by hand against this
# script with a create-topic / produce / consume-with-group / commit /
# resume-after-commit round trip):
#   - 4.1.2 (latest 4.1.x): works. Topic create/delete, keyed produce
#     (plain, idempotent, transactional incl. sendOffsets/abort), consumer
#     groups with eachMessage + autoCommit:false + manual commitOffsets,
#     resume after the committed offset on rejoin, fetch/set/resetOffsets,
#     describe/list/deleteGroups, and a live consumer surviving a broker
#     stop/start all passed. KafkaJS negotiates request versions through
#     ApiVersions, and every version it picks is still inside what 4.x kept
#     after KIP-896 removed the old ones (JoinGroup v5, Fetch v11, Produce v7).
#   - 4.4.0 (newest on Maven Central at the time) also passed the round trip
#     and the admin/transaction checks; 4.1.2 stays the default as the
#     line that was asked for and checked most (incl. restart mid-stream).
#   - 3.9.2: the same checks pass too; KAFKA_VERSION=3.9.2 is the fallback
#     (this script picks reload4j logging for 3.x, log4j2 for 4.x).
#   - Not an incompatibility, seen on both: a group's *first* join against a
#     fresh broker logs "group coordinator is not available" / "coordinator
#     is loading" while __consumer_offsets is auto-created; both are
#     retriable and KafkaJS recovers by itself (don't treat a consumer CRASH
#     event with restart=true as fatal).
#   Data formatted by 4.x cannot be opened by 3.x: switching versions down
#   means deleting $TRELLIS_DATA_DIR/kafka-<port>.
set -euo pipefail

# Resolve the repo from the script's own location so any cwd works
# (including jest's globalSetup running from elsewhere).
SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.2}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
TRELLIS_CACHE_DIR="${TRELLIS_CACHE_DIR:-$REPO_ROOT/.trellis/cache}"
TRELLIS_DATA_DIR="${TRELLIS_DATA_DIR:-$REPO_ROOT/.trellis/data}"

KAFKA_HOME="$TRELLIS_CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
INSTALLED_MARKER="$KAFKA_HOME/.installed"
# Data is keyed by port so two brokers (e.g. a dev one and a test one) can
# coexist; stop+start keeps it, so topics and committed offsets survive.
DATA="$TRELLIS_DATA_DIR/kafka-$KAFKA_PORT"
LOG_DIRS="$DATA/logs"
PROPS="$DATA/server.properties"
PIDFILE="$DATA/kafka.pid"
LOGFILE="$DATA/kafka.log"

log() { echo "[kafka] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

major_version() { echo "${KAFKA_VERSION%%.*}"; }

port_open() {
  # bash's /dev/tcp avoids depending on nc, which is not always installed.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Only trust the pid file if that pid is still *our* broker: pids get reused
# after reboots or long idle periods, and killing a stranger would be bad.
running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"kafka.Kafka $PROPS"* ]] || return 1
  echo "$pid"
}

# ---------------------------------------------------------------- install --

write_pom() {
  local logging_deps
  if [[ "$(major_version)" -ge 4 ]]; then
    # Kafka 4.x logs through slf4j 1.7 -> log4j2 (the binary distribution
    # ships log4j-slf4j-impl + log4j-core); the published pom has no binding.
    logging_deps='
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>2.24.3</version></dependency>'
  else
    # Kafka 3.x logs through slf4j 1.7 -> reload4j, and its Log4jController
    # needs the log4j 1.x API that reload4j provides.
    logging_deps='
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>'
  fi
  cat >"$KAFKA_HOME/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by infra/kafka.sh: only used to fetch the broker's jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>trellis.infra</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
      <exclusions>
        <!-- ZooKeeper (3.x) drags in logback, which would fight the binding below. -->
        <exclusion><groupId>ch.qos.logback</groupId><artifactId>*</artifactId></exclusion>
        <exclusion><groupId>org.slf4j</groupId><artifactId>slf4j-log4j12</artifactId></exclusion>
      </exclusions>
    </dependency>$logging_deps
  </dependencies>
</project>
EOF
}

write_log_config() {
  # Everything goes to stdout (redirected to kafka.log by start) at INFO so
  # the readiness line is visible; chatty internals are turned down.
  if [[ "$(major_version)" -ge 4 ]]; then
    cat >"$KAFKA_HOME/log4j2.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="STDOUT"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="kafka.log.LogCleaner" level="WARN"/>
    <Logger name="org.apache.kafka.storage" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
  </Loggers>
</Configuration>
EOF
  else
    cat >"$KAFKA_HOME/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage=WARN
log4j.logger.state.change.logger=WARN
EOF
  fi
}

log_config_opt() {
  if [[ "$(major_version)" -ge 4 ]]; then
    echo "-Dlog4j2.configurationFile=$KAFKA_HOME/log4j2.xml"
  else
    echo "-Dlog4j.configuration=file:$KAFKA_HOME/log4j.properties"
  fi
}

cmd_install() {
  local quiet="${1:-}"
  if [[ -f "$INSTALLED_MARKER" ]]; then
    [[ -n "$quiet" ]] || log "kafka $KAFKA_VERSION already installed in $KAFKA_HOME"
    return 0
  fi
  command -v java >/dev/null || die "java not found (Kafka needs Java 17+)"
  command -v mvn >/dev/null || die "mvn not found (used to fetch the Kafka jars)"
  mkdir -p "$KAFKA_HOME"
  # Serialise concurrent installs (e.g. two test workers starting at once).
  exec 8>"$KAFKA_HOME/.install.lock"
  flock 8
  if [[ -f "$INSTALLED_MARKER" ]]; then
    log "kafka $KAFKA_VERSION installed by a concurrent run"
    return 0
  fi
  log "installing kafka $KAFKA_VERSION jars into $LIBS (first run only)"
  write_pom
  write_log_config
  # Start from an empty libs dir so a half-finished earlier attempt can't
  # leave a mix of jar versions on the classpath.
  rm -rf "$LIBS"
  # Maven's output goes to a file: it is noise on success (and full of
  # terminal escapes even with -q), and only the tail matters on failure.
  if ! mvn -B -f "$KAFKA_HOME/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$KAFKA_HOME/install.log" 2>&1; then
    grep -E 'ERROR|BUILD' "$KAFKA_HOME/install.log" | tail -n 20 >&2 || true
    die "maven could not fetch kafka_2.13:$KAFKA_VERSION (full log: $KAFKA_HOME/install.log)"
  fi
  ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 \
    || die "kafka_2.13-$KAFKA_VERSION.jar missing from $LIBS after maven ran"
  date -u +%FT%TZ >"$INSTALLED_MARKER"
  log "installed kafka $KAFKA_VERSION ($(find "$LIBS" -name '*.jar' | wc -l) jars)"
}

# ------------------------------------------------------------------ start --

write_server_properties() {
  # Rewritten on every start so port changes apply; the cluster id lives in
  # meta.properties under log.dirs, so this never invalidates existing data.
  # Static controller.quorum.voters (rather than --standalone's dynamic
  # quorum) keeps the controller endpoint out of the stored metadata, so
  # the controller port can change between runs without reformatting.
  cat >"$PROPS" <<EOF
# Generated by infra/kafka.sh on every start; edits here are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$LOG_DIRS
num.partitions=1
auto.create.topics.enable=true
# Single node: internal topics must not ask for more replicas than exist,
# or consumer groups never get a coordinator.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests create fresh groups all the time; don't make each one wait 3 s.
group.initial.rebalance.delay.ms=0
# Keep the footprint small on a 2-core dev box.
num.network.threads=2
num.io.threads=4
EOF
}

format_storage_once() {
  if [[ -f "$LOG_DIRS/meta.properties" ]]; then
    return 0
  fi
  local cluster_id=""
  # A KRaft cluster id is a base64url-encoded 16-byte UUID (22 chars). Like
  # Kafka's own Uuid.randomUuid, avoid a leading '-' that argument parsers
  # would take for a flag. (Saves a JVM start over `StorageTool random-uuid`.)
  while [[ -z "$cluster_id" || "$cluster_id" == -* ]]; do
    cluster_id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  log "formatting KRaft storage in $LOG_DIRS (cluster id $cluster_id)"
  java -cp "$LIBS/*" "$(log_config_opt)" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$PROPS" --ignore-formatted >>"$LOGFILE" 2>&1 \
    || { tail -n 30 "$LOGFILE" >&2; die "storage format failed"; }
}

START_MARKER="==== infra/kafka.sh start"

# The log is appended to across runs; readiness must come from this run.
last_start_marker_line() {
  awk -v m="$START_MARKER" 'index($0, m) == 1 { n = NR } END { print n + 1 }' "$LOGFILE"
}

wait_until_ready() {
  local pid="$1" since_line="$2" deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$LOGFILE" >&2 || true
      die "broker process $pid exited during startup (log: $LOGFILE)"
    fi
    # awk rather than `tail | grep -q`: with pipefail, grep's early exit
    # SIGPIPEs tail and turns a match into a failure.
    if awk -v s="$since_line" 'NR >= s && /Kafka Server started/ { f = 1; exit } END { exit !f }' "$LOGFILE" \
      && port_open "$KAFKA_PORT"; then
      return 0
    fi
    sleep 0.5
  done
  tail -n 20 "$LOGFILE" >&2 || true
  die "broker not ready after ${KAFKA_START_TIMEOUT}s (log: $LOGFILE)"
}

cmd_start() {
  cmd_install quiet
  mkdir -p "$DATA"
  # One start/stop at a time per data dir: two concurrent starts would both
  # see "not running" and launch two brokers on the same log.dirs.
  exec 9>"$DATA/.lock"
  flock 9

  local pid
  if pid="$(running_pid)"; then
    if port_open "$KAFKA_PORT"; then
      log "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    # Alive but not listening yet: another start launched it; wait for the
    # readiness line of that run (after its start marker).
    log "pid $pid is starting; waiting for it"
    wait_until_ready "$pid" "$(last_start_marker_line)"
    log "ready on 127.0.0.1:$KAFKA_PORT (pid $pid)"
    return 0
  fi
  rm -f "$PIDFILE"
  if port_open "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is taken by another process; set KAFKA_PORT"
  fi
  if port_open "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_CONTROLLER_PORT is taken by another process; set KAFKA_CONTROLLER_PORT"
  fi

  write_server_properties
  touch "$LOGFILE"
  # Keep one previous run's log around, but don't let it grow forever.
  if [[ $(stat -c %s "$LOGFILE") -gt 20000000 ]]; then
    mv -f "$LOGFILE" "$LOGFILE.1"
    touch "$LOGFILE"
  fi
  format_storage_once

  echo "$START_MARKER $(date -u +%FT%TZ) kafka $KAFKA_VERSION ====" >>"$LOGFILE"
  local since_line
  since_line="$(last_start_marker_line)"
  # setsid+nohup detach the broker from the caller's session/terminal so it
  # outlives the shell (and jest's globalSetup) that started it; stdio goes
  # to the log so the caller's pipes close and execSync() returns. The lock
  # fds are closed too, or the broker would hold the start/stop lock forever.
  # The wrapper shell writes its own pid then execs java, so the pid file
  # names the JVM itself whether or not setsid had to fork.
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
  # shellcheck disable=SC2016 # $$ and $1 are for the inner shell
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PIDFILE" \
    java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true \
    "$(log_config_opt)" -Dkafka.logs.dir="$DATA" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS" \
    </dev/null >>"$LOGFILE" 2>&1 8>&- 9>&- &

  local _
  for _ in $(seq 1 50); do
    [[ -s "$PIDFILE" ]] && break
    sleep 0.1
  done
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || die "broker did not report a pid"
  log "started kafka $KAFKA_VERSION (pid $pid), waiting up to ${KAFKA_START_TIMEOUT}s"
  wait_until_ready "$pid" "$since_line"
  log "ready on 127.0.0.1:$KAFKA_PORT (pid $pid, data $DATA)"
}

# ------------------------------------------------------------------- stop --

cmd_stop() {
  mkdir -p "$DATA"
  exec 9>"$DATA/.lock"
  flock 9
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    log "not running"
    return 0
  fi
  # SIGTERM triggers Kafka's controlled shutdown, which flushes logs and
  # writes a clean-shutdown marker, so the next start skips log recovery.
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.3
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 60s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && port_open "$KAFKA_PORT"; then
    # Report the version actually running (from its classpath), which may
    # differ from this shell's KAFKA_VERSION.
    local running_version="$KAFKA_VERSION" cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmdline" =~ /kafka-([^/ ]+)/libs/ ]] && running_version="${BASH_REMATCH[1]}"
    echo "kafka $running_version running: pid $pid, 127.0.0.1:$KAFKA_PORT, data $DATA"
    return 0
  fi
  echo "kafka not running (port $KAFKA_PORT, data $DATA)"
  return 1
}

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
