#!/usr/bin/env bash
# The project's private PostgreSQL cluster: unix socket only, trust auth,
# owned by a non-root OS user, with an own role for Odoo (Odoo refuses
# `postgres`).  Usage: scripts/pg.sh start|stop|status|psql [args]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bindir=$(pg_bindir)
[ -n "$bindir" ] || die "PostgreSQL server is missing: run scripts/setup.sh (as root) or install Debian's 'postgresql' package."

pg_init() {
    [ -f "$PG_DATA/PG_VERSION" ] && return
    say "creating PostgreSQL cluster in $PG_DATA"
    mkdir -p "$PG_HOME" "$PG_SOCKET_DIR"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PG_HOME"
    as_pg_user "$bindir/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$PG_SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
}

pg_running() { as_pg_user "$bindir/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

pg_start() {
    pg_init
    if ! pg_running; then
        mkdir -p "$PG_SOCKET_DIR"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_SOCKET_DIR"
        as_pg_user "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_HOME/postgresql.log" -w -t 60 start >/dev/null \
            || die "PostgreSQL did not start; see $PG_HOME/postgresql.log"
    fi
    if ! "$bindir/psql" -h "$PG_SOCKET_DIR" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'" | grep -q 1; then
        "$bindir/createuser" -h "$PG_SOCKET_DIR" -U postgres --createdb "$PG_ROLE"
    fi
}

case "${1:-}" in
    start) pg_start; say "PostgreSQL running, socket in $PG_SOCKET_DIR" ;;
    stop) if pg_running; then as_pg_user "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null; fi; say "PostgreSQL stopped" ;;
    status) pg_running && say "running ($PG_SOCKET_DIR)" || { say "stopped"; exit 3; } ;;
    psql) shift; exec "$bindir/psql" -h "$PG_SOCKET_DIR" -U "$PG_ROLE" "$@" ;;
    dropdb) "$bindir/dropdb" -h "$PG_SOCKET_DIR" -U "$PG_ROLE" --if-exists "$2" ;;
    clonedb) "$bindir/createdb" -h "$PG_SOCKET_DIR" -U "$PG_ROLE" -T "$2" "$3" ;;
    exists) "$bindir/psql" -h "$PG_SOCKET_DIR" -U "$PG_ROLE" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$2'" | grep -q 1 ;;
    *) die "usage: scripts/pg.sh start|stop|status|psql [args]|dropdb NAME|clonedb FROM TO|exists NAME" ;;
esac
