#!/usr/bin/env bash
# A PostgreSQL database for the test suite, printed as a SQLAlchemy asyncpg URL.
#
#   scripts/pg_throwaway.sh [start]     print a URL on stdout (the only line on stdout)
#   scripts/pg_throwaway.sh stop URL    undo what `start` made for URL
#
# `start` picks, in this order:
#   1. $TAMS_TEST_DATABASE_URL, printed as is (and never dropped by `stop`);
#   2. a fresh database tams_test_<random> on the server at 127.0.0.1:5432 (user postgres,
#      trust auth), when one answers there;
#   3. a throwaway cluster: initdb in a temp dir, started on a free port of 127.0.0.1 with
#      trust auth, database tams_test. Its temp dir is recorded under build/pg_throwaway/
#      so that `stop` can find and remove it.
# Environment: TAMS_PG_FORCE_THROWAWAY=1 skips step 2 (to test step 3 where 5432 answers).
#
# Everything except the URL goes to stderr, so `url="$(scripts/pg_throwaway.sh)"` works.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="$ROOT/build/pg_throwaway"
HOST=127.0.0.1
SHARED_PORT=5432
PG_USER=postgres
THROWAWAY_DB=tams_test
SHARED_DB_PREFIX=tams_test_
# The schema needs btree_gist (exclusion constraints); check every printed database has it.
REQUIRED_EXTENSION=btree_gist

APT_UPDATED=0
# The cluster this run is starting (temp dir, binaries, state file): removed again if `start`
# fails half way, so a failed start leaves nothing running.
STARTED_TMP=""
STARTED_BINDIR=""
STARTED_STATE=""

log() { printf 'pg_throwaway: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

usage() {
    printf 'usage: %s [start] | stop URL\n' "$0" >&2
    exit 2
}

url_for() { # port database
    printf 'postgresql+asyncpg://%s@%s:%s/%s\n' "$PG_USER" "$HOST" "$1" "$2"
}

random_suffix() {
    od -An -N6 -tx1 /dev/urandom | tr -d ' \n'
}

free_port() {
    # Port 0 lets the kernel choose; the tiny race until postgres binds it is retried below.
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

apt_install() { # packages...
    [[ $EUID -eq 0 ]] || die "cannot apt-get install $* without root; install it, or set TAMS_TEST_DATABASE_URL"
    command -v apt-get >/dev/null || die "no apt-get to install $*; install it, or set TAMS_TEST_DATABASE_URL"
    log "installing $* with apt-get"
    if [[ $APT_UPDATED -eq 0 ]]; then
        apt-get update -qq >&2
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# Directory holding initdb/pg_ctl/postgres/psql of the newest server installed, if any.
# Debian keeps them off PATH in /usr/lib/postgresql/<version>/bin.
find_server_bindir() {
    local initdb
    if initdb="$(command -v initdb)"; then
        dirname -- "$(readlink -f -- "$initdb")"
        return 0
    fi
    initdb="$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true)"
    [[ -n $initdb ]] || return 1
    dirname -- "$initdb"
}

# Path of a client tool (psql, pg_isready): on PATH, else beside the server binaries.
find_client_tool() { # name
    local tool bindir
    if tool="$(command -v "$1")"; then
        printf '%s\n' "$tool"
        return 0
    fi
    bindir="$(find_server_bindir)" || return 1
    [[ -x $bindir/$1 ]] || return 1
    printf '%s\n' "$bindir/$1"
}

ensure_psql() {
    find_client_tool psql && return 0
    apt_install postgresql-client
    find_client_tool psql
}

# Run a command as the unprivileged cluster owner: postgres refuses to run as root.
as_pg_user() {
    if [[ $EUID -ne 0 ]]; then
        (cd / && "$@")
    elif command -v runuser >/dev/null; then
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        (cd / && su -s /bin/sh "$PG_USER" -c "$(printf '%q ' "$@")")
    fi
}

# psql against HOST:port as the superuser; quiet, failing on the first error.
run_psql() { # psql port database psql-args...
    local psql="$1" port="$2" db="$3"
    shift 3
    PGCONNECT_TIMEOUT=10 "$psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$HOST" -p "$port" -U "$PG_USER" -d "$db" "$@" >&2
}

# Prove the extension can be created there, then roll back to leave the database pristine.
check_extension() { # psql port database
    run_psql "$1" "$2" "$3" -c 'BEGIN' \
        -c "CREATE EXTENSION IF NOT EXISTS $REQUIRED_EXTENSION" -c 'ROLLBACK'
}

shared_server_answers() {
    local isready
    if isready="$(find_client_tool pg_isready)"; then
        "$isready" -q -h "$HOST" -p "$SHARED_PORT" -t 5
    else
        # No client tools yet: only install them if something listens at all.
        timeout 5 bash -c "exec 3<>/dev/tcp/$HOST/$SHARED_PORT" 2>/dev/null
    fi
}

# Prints the URL of a new database on the shared server; fails (returns 1) if it cannot.
create_shared_database() {
    local psql db
    psql="$(ensure_psql)" || return 1
    db="$SHARED_DB_PREFIX$(random_suffix)"
    run_psql "$psql" "$SHARED_PORT" postgres -c "CREATE DATABASE \"$db\"" || return 1
    if ! check_extension "$psql" "$SHARED_PORT" "$db"; then
        log "$REQUIRED_EXTENSION is not available on $HOST:$SHARED_PORT"
        run_psql "$psql" "$SHARED_PORT" postgres -c "DROP DATABASE IF EXISTS \"$db\"" || true
        return 1
    fi
    log "created database $db on $HOST:$SHARED_PORT"
    url_for "$SHARED_PORT" "$db"
}

state_file_for() { # port
    printf '%s/cluster-%s\n' "$STATE_DIR" "$1"
}

# Stop a throwaway cluster and delete its files. Safe to call on a cluster already gone.
stop_throwaway_cluster() { # tmpdir bindir
    local tmp="$1" bindir="$2" pid=""
    if [[ -f $tmp/data/postmaster.pid ]]; then
        pid="$(head -n 1 "$tmp/data/postmaster.pid")"
        if ! as_pg_user "$bindir/pg_ctl" -D "$tmp/data" -m fast -w -t 30 stop >&2; then
            log "pg_ctl stop failed; killing postmaster $pid"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -rf -- "$tmp"
}

on_start_exit() {
    local rc=$?
    if [[ $rc -ne 0 && -n $STARTED_TMP ]]; then
        log "start failed; removing the cluster in $STARTED_TMP"
        stop_throwaway_cluster "$STARTED_TMP" "$STARTED_BINDIR" || true
        [[ -z $STARTED_STATE ]] || rm -f -- "$STARTED_STATE"
    fi
    exit "$rc"
}

start_throwaway_cluster() {
    local bindir tmp port="" attempt
    if ! bindir="$(find_server_bindir)"; then
        apt_install postgresql
        bindir="$(find_server_bindir)" || die "no initdb found after installing postgresql"
    fi
    if [[ $EUID -eq 0 ]]; then
        id -u "$PG_USER" >/dev/null 2>&1 ||
            die "no '$PG_USER' system user to own the cluster (root cannot run postgres)"
    fi

    tmp="$(mktemp -d -t tams-pg.XXXXXX)"
    STARTED_TMP="$tmp"
    STARTED_BINDIR="$bindir"
    [[ $EUID -ne 0 ]] || chown "$PG_USER": "$tmp"
    log "initdb in $tmp/data ($bindir)"
    as_pg_user "$bindir/initdb" -D "$tmp/data" -U "$PG_USER" --auth=trust \
        --encoding=UTF8 --no-locale --no-sync >/dev/null
    # TCP on loopback only, the socket in our temp dir (not the system's), and no durability:
    # the data is thrown away anyway.
    cat >>"$tmp/data/postgresql.conf" <<EOF
listen_addresses = '$HOST'
unix_socket_directories = '$tmp'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    for attempt in 1 2 3; do
        port="$(free_port)"
        if as_pg_user "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 \
            -o "-p $port" start >/dev/null; then
            break
        fi
        log "start on port $port failed (attempt $attempt):"
        tail -n 5 "$tmp/server.log" >&2 || true
        port=""
    done
    [[ -n $port ]] || die "could not start a throwaway cluster"

    mkdir -p "$STATE_DIR"
    STARTED_STATE="$(state_file_for "$port")"
    printf 'tmpdir=%s\nbindir=%s\npid=%s\n' "$tmp" "$bindir" \
        "$(head -n 1 "$tmp/data/postmaster.pid")" >"$STARTED_STATE"

    run_psql "$bindir/psql" "$port" postgres -c "CREATE DATABASE $THROWAWAY_DB"
    check_extension "$bindir/psql" "$port" "$THROWAWAY_DB" ||
        die "$REQUIRED_EXTENSION is not available in $bindir (Debian ships it in postgresql)"
    log "throwaway cluster on $HOST:$port (data in $tmp); stop it with: $0 stop URL"
    STARTED_TMP=""
    STARTED_STATE=""
    url_for "$port" "$THROWAWAY_DB"
}

start() {
    if [[ -n ${TAMS_TEST_DATABASE_URL:-} ]]; then
        printf '%s\n' "$TAMS_TEST_DATABASE_URL"
        return 0
    fi
    if [[ ${TAMS_PG_FORCE_THROWAWAY:-0} != 1 ]] && shared_server_answers; then
        if create_shared_database; then
            return 0
        fi
        log "could not create a database on $HOST:$SHARED_PORT; starting a throwaway cluster"
    fi
    trap on_start_exit EXIT
    start_throwaway_cluster
}

stop() { # url
    local url="$1" port db state key value tmp="" bindir="" psql
    # Only URLs of the form this script prints: postgresql+asyncpg://postgres@127.0.0.1:PORT/DB
    local pattern="^postgresql\+asyncpg://$PG_USER@$HOST:([0-9]+)/([A-Za-z0-9_]+)$"
    if ! [[ $url =~ $pattern ]]; then
        log "not a URL made by this script, leaving it alone: $url"
        return 0
    fi
    port="${BASH_REMATCH[1]}"
    db="${BASH_REMATCH[2]}"
    state="$(state_file_for "$port")"

    if [[ -f $state ]]; then
        while IFS='=' read -r key value; do
            case "$key" in
                tmpdir) tmp="$value" ;;
                bindir) bindir="$value" ;;
            esac
        done <"$state"
        [[ -n $tmp && -n $bindir ]] || die "bad state file $state"
        stop_throwaway_cluster "$tmp" "$bindir"
        rm -f -- "$state"
        log "stopped the throwaway cluster on port $port"
    elif [[ $port == "$SHARED_PORT" && $db =~ ^${SHARED_DB_PREFIX}[0-9a-f]{12}$ ]]; then
        psql="$(ensure_psql)"
        run_psql "$psql" "$SHARED_PORT" postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
        log "dropped database $db on $HOST:$SHARED_PORT"
    else
        log "nothing of ours at $url, leaving it alone"
    fi
}

main() {
    case "${1:-start}" in
        start)
            [[ $# -le 1 ]] || usage
            start
            ;;
        stop)
            [[ $# -eq 2 ]] || usage
            stop "$2"
            ;;
        *) usage ;;
    esac
}

main "$@"
