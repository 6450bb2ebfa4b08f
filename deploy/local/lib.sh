# shellcheck shell=bash
# Common functions of the local stack scripts (deploy/local/stack, test, services). Sourced, never run.
#
# State lives in <repo>/.run/ (git-ignored):
#   ports.env            the ports the servers were last started on (O4O_PG_PORT=..., O4O_REDIS_PORT=...)
#   stack.lock           serialises start/stop of the stack
#   postgres/data        the dev cluster (owned by postgres, 0700, when run as root)
#   postgres/socket      its unix socket directory
#   postgres/postgres.log
#   redis/redis.pid, redis/redis.log
#   credentials, logs/, pids/   used by deploy/local/services
# As root, PostgreSQL runs as the `postgres` user, which must be able to traverse every parent of .run/.
# When it cannot (a clone under /root, say), the cluster lives in /tmp/o4o-<hash>/postgres instead.

O4O_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O4O_RUN="$O4O_REPO/.run"
O4O_PORTS_FILE="$O4O_RUN/ports.env"
O4O_PROG=${O4O_PROG:-$(basename "$0")}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
O4O_PG_DEFAULT_PORT=15432
O4O_REDIS_DEFAULT_PORT=16379
REDIS_DIR="$O4O_RUN/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

# --- messages ---------------------------------------------------------------------------------

# Progress and errors go to stderr so that `stack env` keeps a clean stdout.
say() { printf '%s: %s\n' "$O4O_PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$O4O_PROG" "$*" >&2; exit 1; }

# True while process $1 exists and is not a zombie (PID 1 of a container may reap late).
pid_alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Closes every fd above 2 of the current shell; call it in a subshell only. A daemon that inherits
# a caller's fd keeps it open for its whole life: the stack lock, or the socket through which a
# test runner (Foundation's Process) learns that its child exited, which would then never return.
close_inherited_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if ((fd > 2)); then eval "exec $fd>&-"; fi
  done
}

# Runs a command that leaves a daemon behind, with stdin from /dev/null and no inherited fd above 2.
detached() { (close_inherited_fds; "$@") </dev/null; }

has_cmd() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# --- packages ---------------------------------------------------------------------------------

# Fills O4O_MISSING with the Debian packages whose commands or files are absent.
# Presence is checked on disk, not with dpkg: a half-removed package or a binary installed
# another way both count for what they are.
find_missing_packages() {
  O4O_MISSING=()
  want_file postgresql "$PG_BIN/initdb"
  want_file postgresql "$PG_BIN/pg_ctl"
  want_file postgresql "$PG_BIN/postgres"
  want_file postgresql "$PG_BIN/pg_dump"
  want_cmd postgresql-client psql
  want_file postgresql-contrib /usr/share/postgresql/15/extension/pg_stat_statements.control
  want_cmd redis-server redis-server
  want_cmd redis-tools redis-cli
  want_file libpq-dev /usr/include/postgresql/libpq-fe.h
  want_file libhiredis-dev /usr/include/hiredis/hiredis.h
  want_file libprotobuf-c-dev /usr/include/protobuf-c/protobuf-c.h
  want_cmd protobuf-c-compiler protoc-c
  want_cmd prometheus promtool
  want_cmd pkg-config pkg-config
  want_cmd curl curl
}
want_cmd() { has_cmd "$2" || add_missing "$1"; }
want_file() { [ -e "$2" ] || add_missing "$1"; }
add_missing() {
  local known
  for known in "${O4O_MISSING[@]}"; do [ "$known" = "$1" ] && return 0; done
  O4O_MISSING+=("$1")
}

# Runs an apt command as root: directly, through sudo, or not at all.
apt_as_root() {
  if is_root; then
    env DEBIAN_FRONTEND=noninteractive "$@"
  else
    sudo env DEBIAN_FRONTEND=noninteractive "$@"
  fi
}

# Installs the given packages. `apt-get update` runs first only when apt does not know one of them,
# and once more if the install fails on stale lists.
apt_install() {
  (($# > 0)) || return 0
  has_cmd apt-get || die "missing packages: $*; apt-get is not available, install them by hand"
  if ! is_root && ! has_cmd sudo; then
    die "missing packages: $*; run as root, install sudo, or run: apt-get install $*"
  fi
  mkdir -p "$O4O_RUN"
  local log="$O4O_RUN/apt.log" updated=0 pkg
  say "installing $* (log: $log)"
  for pkg in "$@"; do
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
      apt_as_root apt-get update -q >"$log" 2>&1 || die "apt-get update failed; see $log"
      updated=1
      break
    fi
  done
  if ! apt_as_root apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1; then
    ((updated == 0)) || die "apt-get install $* failed; see $log"
    apt_as_root apt-get update -q >>"$log" 2>&1 || die "apt-get update failed; see $log"
    apt_as_root apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1 \
      || die "apt-get install $* failed; see $log"
  fi
}

# Installs every required package that is missing; python3-pip only on a best-effort basis.
ensure_packages() {
  find_missing_packages
  apt_install "${O4O_MISSING[@]}"
  find_missing_packages
  ((${#O4O_MISSING[@]} == 0)) || die "still missing after apt-get: ${O4O_MISSING[*]}"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    (apt_install python3-pip) || say "warning: python3-pip could not be installed (optional)"
  fi
}

# --- state folder, lock, ports ----------------------------------------------------------------

ensure_run_dir() {
  mkdir -p "$O4O_RUN"
  # The postgres user (as root) must be able to traverse it.
  chmod 0755 "$O4O_RUN"
}

# Serialises stack changes between concurrent callers. Daemons start through `detached`, so they
# do not inherit fd 9 (they would hold the lock for ever).
take_stack_lock() {
  ensure_run_dir
  exec 9>"$O4O_RUN/stack.lock"
  flock -w 120 9 || die "another stack command has held $O4O_RUN/stack.lock for 2 minutes"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the first port after $1 that nothing listens on.
free_port_after() {
  local port=$(($1 + 1)) last=$(($1 + 200))
  while ((port <= last)); do
    port_in_use "$port" || { echo "$port"; return 0; }
    port=$((port + 1))
  done
  die "no free port in $(($1 + 1))-$last"
}

# The port saved in ports.env for variable $1, or nothing.
saved_port() {
  [ -f "$O4O_PORTS_FILE" ] || return 0
  sed -n "s/^$1=\([0-9][0-9]*\)\$/\1/p" "$O4O_PORTS_FILE" | tail -n 1
}

# Sets PG_PORT and REDIS_PORT to the ports the servers run on (or last ran on): ports.env first,
# then the environment, then the defaults.
load_ports() {
  local saved
  saved=$(saved_port O4O_PG_PORT)
  PG_PORT=${saved:-${O4O_PG_PORT:-$O4O_PG_DEFAULT_PORT}}
  saved=$(saved_port O4O_REDIS_PORT)
  REDIS_PORT=${saved:-${O4O_REDIS_PORT:-$O4O_REDIS_DEFAULT_PORT}}
}

save_ports() {
  ensure_run_dir
  printf 'O4O_PG_PORT=%s\nO4O_REDIS_PORT=%s\n' "$PG_PORT" "$REDIS_PORT" >"$O4O_PORTS_FILE.tmp"
  mv "$O4O_PORTS_FILE.tmp" "$O4O_PORTS_FILE"
}

# Prints the port a stopped server should start on. $1 names the server, $2 the variable.
# An explicitly requested port ($2 in the environment) must be free; otherwise a port taken
# by another program is replaced by a free one (remembered in ports.env by the caller).
choose_port() {
  local name=$1 var=$2 default=$3 requested=${!2:-} port
  port=${requested:-$(saved_port "$var")}
  port=${port:-$default}
  if ! port_in_use "$port"; then echo "$port"; return 0; fi
  [ -z "$requested" ] || die "$name: port $port (from $var) is in use by another program; unset $var or choose another"
  local free
  free=$(free_port_after "$port")
  say "$name: port $port is taken by another program; using $free (saved in $O4O_PORTS_FILE)"
  echo "$free"
}

# --- PostgreSQL ---------------------------------------------------------------------------------

# Runs a command as the cluster's owner: `postgres` when we are root (PostgreSQL refuses root).
as_pg_owner() {
  # From /: the caller's folder may be closed to postgres, and pg_ctl wants a readable cwd.
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Sets PG_ROOT, PG_DATA, PG_SOCKET and PG_LOG.
pg_paths() {
  PG_ROOT="$O4O_RUN/postgres"
  if is_root; then
    id postgres >/dev/null 2>&1 || die "user postgres does not exist (reinstall postgresql-common)"
    ensure_run_dir
    if ! runuser -u postgres -- test -x "$O4O_RUN"; then
      # A parent of the repo is closed to other users (e.g. /root is 0700): use /tmp instead.
      PG_ROOT="/tmp/o4o-$(printf '%s' "$O4O_REPO" | cksum | cut -d' ' -f1)/postgres"
    fi
  fi
  PG_DATA="$PG_ROOT/data"
  PG_SOCKET="$PG_ROOT/socket"
  PG_LOG="$PG_ROOT/postgres.log"
  # A unix socket path is limited to 107 bytes, including "/.s.PGSQL.NNNNN".
  if ((${#PG_SOCKET} > 88)); then
    PG_SOCKET="/tmp/o4o-sock-$(id -u)-$(printf '%s' "$O4O_REPO" | cksum | cut -d' ' -f1)"
  fi
}

# Creates the folder that holds the cluster. Its parent is .run/ or, in the /tmp fallback,
# a folder we create: refuse one that someone else owns.
pg_prepare_root() {
  local parent
  parent=$(dirname "$PG_ROOT")
  mkdir -p "$parent"
  [ -O "$parent" ] || die "$parent is not owned by $(id -un); remove it and retry"
  chmod 0755 "$parent"
  pg_owned_dir "$PG_ROOT" 0755
}

# Creates a folder owned by the cluster's owner (postgres when root) with the given mode.
pg_owned_dir() {
  mkdir -p "$1"
  is_root && chown postgres:postgres "$1"
  chmod "$2" "$1"
}

pg_is_running() {
  pg_paths
  [ -f "$PG_DATA/postmaster.pid" ] || return 1
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_pid() { head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

pg_initdb() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  [ -x "$PG_BIN/initdb" ] || die "$PG_BIN/initdb is missing; run: deploy/local/stack start"
  pg_prepare_root
  pg_owned_dir "$PG_DATA" 0700
  say "postgres: initdb into $PG_DATA"
  # -N: no fsync of the new files; this cluster is disposable.
  as_pg_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C -N \
    --auth-local=trust --auth-host=trust >"$PG_ROOT/initdb.log" 2>&1 \
    || die "initdb failed; see $PG_ROOT/initdb.log"
  # Trust, but only over the unix socket and loopback; the server listens on 127.0.0.1 only.
  cat >"$PG_DATA/pg_hba.conf" <<'EOF'
# Dev cluster of deploy/local/stack: trust on loopback only. Never use this file elsewhere.
local   all   all                  trust
host    all   all   127.0.0.1/32   trust
host    all   all   ::1/128        trust
EOF
  printf "\n# deploy/local/stack rewrites o4o.conf at every start.\ninclude 'o4o.conf'\n" >>"$PG_DATA/postgresql.conf"
  is_root && chown postgres:postgres "$PG_DATA/pg_hba.conf" "$PG_DATA/postgresql.conf"
  return 0
}

# Writes the settings of this start: address, port, socket, and test-friendly durability.
pg_write_conf() {
  local fsync=off
  # Tests run faster without fsync, and a dev cluster may lose data on an OS crash.
  # Crash and durability tests need fsync on: start with O4O_PG_DURABLE=1.
  [ "${O4O_PG_DURABLE:-0}" = 1 ] && fsync=on
  cat >"$PG_DATA/o4o.conf" <<EOF
# Written by deploy/local/stack at each start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET'
max_connections = 300
shared_buffers = 128MB
fsync = $fsync
synchronous_commit = $fsync
full_page_writes = $fsync
log_min_messages = warning
log_line_prefix = '%m [%p] %d '
EOF
  is_root && chown postgres:postgres "$PG_DATA/o4o.conf"
  return 0
}

# Runs psql against the dev cluster as the superuser `postgres`.
pg_psql() {
  "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 "$@"
}

pg_create_database() {
  local exists
  exists=$(pg_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'o4o'") \
    || die "postgres: cannot query the cluster on port $PG_PORT; see $PG_LOG"
  [ "$exists" = 1 ] && return 0
  pg_psql -d postgres -c 'CREATE DATABASE o4o' || die "postgres: CREATE DATABASE o4o failed"
  say "postgres: created database o4o"
}

# Starts the cluster unless it already runs from this folder.
pg_start() {
  load_ports
  if pg_is_running; then
    pg_create_database
    return 0
  fi
  [ -x "$PG_BIN/pg_ctl" ] || die "$PG_BIN/pg_ctl is missing; run: deploy/local/stack start"
  PG_PORT=$(choose_port postgres O4O_PG_PORT "$O4O_PG_DEFAULT_PORT")
  pg_initdb
  pg_owned_dir "$PG_SOCKET" 0755
  local attempt
  for attempt in 1 2 3 4 5; do
    pg_write_conf
    # pg_ctl only says "see the log"; its output goes to pg_ctl.log beside the server log.
    if detached as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >>"$PG_ROOT/pg_ctl.log" 2>&1; then
      save_ports
      pg_create_database
      say "postgres: running on 127.0.0.1:$PG_PORT (data $PG_DATA)"
      return 0
    fi
    tail -n 5 "$PG_LOG" | grep -q 'could not bind' || die "postgres did not start; see $PG_LOG"
    PG_PORT=$(next_port_after_bind_failure postgres O4O_PG_PORT "$PG_PORT" "$attempt")
  done
}

# After a server failed to bind port $3 (on attempt $4): prints the port to try next, or fails.
# The defaults lie in Linux's ephemeral range (32768-60999), so on a busy machine a client
# connection of another program may hold the port for a moment (TIME_WAIT) without listening.
next_port_after_bind_failure() {
  local name=$1 var=$2 port=$3 attempt=$4 next
  [ -z "${!var:-}" ] || die "$name: port $port (from $var) cannot be bound; unset $var or choose another"
  ((attempt < 5)) || die "$name: could not bind any of 5 ports up to $port"
  next=$(free_port_after "$port")
  say "$name: port $port cannot be bound (held by another program's connection); trying $next"
  echo "$next"
}

# Stops the cluster of this folder, if it runs. Fast mode: sessions are cut, a quick checkpoint.
pg_stop() {
  pg_is_running || return 0
  as_pg_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null \
    || die "postgres did not stop; see $PG_LOG"
  say "postgres: stopped"
}

# --- Redis ---------------------------------------------------------------------------------------

# Prints the pid of our redis-server (from our pidfile), or fails.
redis_pid() {
  local pid
  [ -f "$REDIS_PIDFILE" ] || return 1
  pid=$(head -n 1 "$REDIS_PIDFILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # A stale pidfile may name a pid reused by another program.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q redis-server || return 1
  echo "$pid"
}

redis_is_running() { redis_pid >/dev/null; }

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# Starts redis-server unless ours already runs. No persistence: the cache is disposable.
redis_start() {
  load_ports
  redis_is_running && return 0
  has_cmd redis-server || die "redis-server is missing; run: deploy/local/stack start"
  REDIS_PORT=$(choose_port redis O4O_REDIS_PORT "$O4O_REDIS_DEFAULT_PORT")
  mkdir -p "$REDIS_DIR"
  local attempt
  for attempt in 1 2 3 4 5; do
    if redis_launch; then
      save_ports
      say "redis: running on 127.0.0.1:$REDIS_PORT"
      return 0
    fi
    tail -n 5 "$REDIS_LOG" | grep -q 'Address already in use' || die "redis-server did not start; see $REDIS_LOG"
    REDIS_PORT=$(next_port_after_bind_failure redis O4O_REDIS_PORT "$REDIS_PORT" "$attempt")
  done
}

# Starts redis-server on REDIS_PORT and waits for PING; fails when the server exits first.
redis_launch() {
  local waited=0 logged
  logged=$(stat -c %s "$REDIS_LOG" 2>/dev/null || echo 0)
  rm -f "$REDIS_PIDFILE"
  detached redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" --dir "$REDIS_DIR" \
    --save '' --appendonly no >/dev/null || return 1
  until redis_ping; do
    # The daemon's pid is unknown until it has bound its port: its log tells when it gave up.
    tail -c +$((logged + 1)) "$REDIS_LOG" 2>/dev/null | grep -q 'aborting' && return 1
    ((waited < 200)) || die "redis did not answer PING on port $REDIS_PORT within 10 s; see $REDIS_LOG"
    sleep 0.05
    waited=$((waited + 1))
  done
}

# Stops our redis-server, if it runs: SHUTDOWN NOSAVE first, because a server started by a
# process that blocks SIGTERM (a test runner, say) inherits that mask; then SIGTERM; SIGKILL after 10 s.
redis_stop() {
  local pid waited=0
  pid=$(redis_pid) || { rm -f "$REDIS_PIDFILE"; return 0; }
  load_ports
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((waited == 200)); then
      say "redis: did not stop within 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
  rm -f "$REDIS_PIDFILE"
  say "redis: stopped"
}

# --- environment ---------------------------------------------------------------------------------

# Prints the variables clients of the stack need, as shell exports.
print_env() {
  load_ports
  printf 'export %s=%q\n' \
    DATABASE_URL "postgresql://postgres@127.0.0.1:$PG_PORT/o4o" \
    REDIS_URL "redis://127.0.0.1:$REDIS_PORT" \
    O4O_PG_PORT "$PG_PORT" \
    O4O_REDIS_PORT "$REDIS_PORT" \
    PG_BIN "$PG_BIN" \
    PGHOST 127.0.0.1 \
    PGPORT "$PG_PORT" \
    PGUSER postgres \
    PGDATABASE o4o \
    O4O_STACK "$O4O_REPO/deploy/local/stack"
}
