#!/usr/bin/env bash
# Starts the living demo: the project's PostgreSQL, the PLC simulator in plant
# mode on 127.0.0.1, and Odoo 14 with the addon and its demo data in database
# $SCADA_DEMO_DB (default scada_demo; created on the first run).  The demo
# MOs then move by themselves from queued through running to done, and the
# simulator fails the third recipe it takes, so one MO is auto-cancelled.
# Ctrl-C stops Odoo and the simulator (within a few seconds, no traceback);
# `make stop` stops PostgreSQL.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/pg.sh" start
db=${SCADA_DEMO_DB:-scada_demo}
mkdir -p "$BENCH/logs"

installed=$("$ROOT/scripts/pg.sh" psql -d "$db" -tAc \
    "SELECT state FROM ir_module_module WHERE name = 'scada_plc_bridge'" 2>/dev/null || true)
if [ "$installed" != installed ]; then
    say "creating the demo database '$db' (about a minute)"
    "$ROOT/scripts/pg.sh" dropdb "$db"
    "$VENV/bin/odoo" -d "$db" -i scada_plc_bridge,scada_plc_bridge_maintenance --stop-after-init --log-level=warn \
        --logfile="$BENCH/logs/install-$db.log" \
        || die "installing the demo failed; see $BENCH/logs/install-$db.log"
fi

# The demo PLC follows the simulator's port, on the first and every later
# start; its time zone sets the simulator's clock (below).
plc_tz=$("$ROOT/scripts/pg.sh" psql -d "$db" -qtAc "UPDATE scada_plc SET port = $SIM_PORT, host = '127.0.0.1'
    WHERE id = (SELECT res_id FROM ir_model_data WHERE module = 'scada_plc_bridge'
                AND name = 'scada_plc_default') RETURNING tz")

# Ctrl-C, `kill` or a closed terminal reach this script, which stops the
# children in order: Odoo first, with ONE SIGTERM and only once it has started
# (a signal while it loads its modules raises in the middle of the loading: a
# traceback; one before it set its handlers is lost), then the simulator, so
# the runner's cycle under way still gets its answers.  Odoo runs in a session
# of its own so that the terminal's Ctrl-C does not reach it directly (it would
# count as a second signal: Odoo's forced shutdown); a second Ctrl-C here is
# passed on as that forced shutdown.  The simulator, a background job, ignores
# SIGINT and stops on SIGTERM.
sim_pid=
odoo_pid=
stop_asked=
own_session=setsid
if [ "$(trap -p INT)" = "trap -- '' SIGINT" ]; then
    # Started with SIGINT ignored (a background job): it cannot be trapped here,
    # so Odoo stays in this process group and takes a SIGINT sent to it itself.
    own_session=
fi
on_signal() {
    if [ -z "$stop_asked" ]; then
        stop_asked=$1
        say "stopping (Odoo, then the PLC simulator)"
    elif [ "$1" = INT ] && [ -n "$odoo_pid" ]; then
        kill -TERM "$odoo_pid" 2>/dev/null || true
    fi
}
stop_child() {  # stop_child PID: SIGTERM, then wait until it has exited
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {  # whatever way the script ends, no child outlives it
    stop_child "$odoo_pid"
    stop_child "$sim_pid"
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap cleanup EXIT

# A plant sets its PLC's clock to the PLC's time zone (the PLC form's), in
# which Odoo reads the failures' times; the simulator's clock is its local time.
sim_log=$BENCH/logs/simulator.log
TZ=${plc_tz:-UTC} "$VENV/bin/scada-plc" sim --plant --host 127.0.0.1 --port "$SIM_PORT" \
    --batch-seconds "${SCADA_SIM_BATCH_SECONDS:-40}" --fail-batch 3 --failure-rate 0.1 \
    --equipment-failure-rate "${SCADA_SIM_EQUIPMENT_FAILURE_RATE:-0.005}" \
    --weighing-rate "${SCADA_SIM_WEIGHING_RATE:-0.01}" >"$sim_log" 2>&1 &
sim_pid=$!
for _ in $(seq 50); do
    grep -q '^listening on' "$sim_log" && break
    kill -0 "$sim_pid" 2>/dev/null || die "the PLC simulator did not start: $(tail -n 1 "$sim_log")"
    sleep 0.1
done
say "PLC simulator: $(head -n 1 "$sim_log") (plant mode, log: $sim_log)"
say "starting Odoo 14 on port $HTTP_PORT (database $db)"
# The addon is loaded server-wide, so its PLC runner polls every few seconds
# (as OCA queue_job's job runner); `--workers N` runs it as a worker process.
# Odoo 14's own Python 3.11 DeprecationWarnings would bury the URL and the
# [TASK n] lines (bench/odoo_py311_compat.py; the addon's warnings still show).
# The board's polling (one request line each) and record deletions stay out of
# the way of the [TASK n] lines: at WARNING, they show only when they go wrong.
# One cron thread: the runner does the PLC work, the crons are its safety net;
# Odoo 14's two cron threads race for a job just finished by the other, and
# log that as "Exception in cron" with a traceback (its code, seen at start).
SCADA_QUIET_ODOO_WARNINGS=1 $own_session "$VENV/bin/odoo" -d "$db" --db-filter="^$db\$" --http-port="$HTTP_PORT" \
    --log-level=info --log-handler=werkzeug:WARNING --log-handler=odoo.models.unlink:WARNING \
    --max-cron-threads=1 --load=base,web,scada_plc_bridge "$@" &
odoo_pid=$!

odoo_answers() {  # a page answered: Odoo's registry is loaded, its signal handlers are set
    (
        exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT" || exit 1
        printf 'GET /web/login HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
        IFS= read -r -t 60 reply <&3 && [[ $reply == HTTP/* ]]
    ) 2>/dev/null
}
started=
while kill -0 "$odoo_pid" 2>/dev/null; do
    if odoo_answers; then
        started=1
        break
    fi
    sleep 0.2 || true  # a signal ends the sleep early (its trap has run)
done
if [ -n "$started" ] && [ -z "$stop_asked" ]; then
    say "Odoo 14: http://127.0.0.1:$HTTP_PORT  login: admin  password: admin  (database $db)"
fi
odoo_sessions() {  # connections to the demo database (Odoo's, while it runs)
    "$ROOT/scripts/pg.sh" psql -d "$db" -tAc "SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()" 2>/dev/null || echo unknown
}
odoo_status=
await_odoo() {  # until Odoo has exited (its status in odoo_status), or a stop is asked
    local rc
    while [ -z "$odoo_status" ] && { [ -z "$stop_asked" ] || [ "${1:-}" = to_the_end ]; }; do
        rc=0
        wait "$odoo_pid" 2>/dev/null || rc=$?  # returns at a signal too (its trap has run)
        kill -0 "$odoo_pid" 2>/dev/null || odoo_status=$rc
    done
}
await_odoo
if [ -z "$odoo_status" ]; then
    if [ -z "$own_session" ]; then
        # Odoo shares the process group: a signal sent to the group reached it too.
        for _ in $(seq 20); do
            kill -0 "$odoo_pid" 2>/dev/null || break
            sleep 0.1 || true
        done
    fi
    # Odoo's main loop, which takes the signal cleanly, follows its registry by a moment.
    sleep 0.3 || true
    kill -TERM "$odoo_pid" 2>/dev/null || true
    # Then Odoo 14 on Python 3.9+ waits at exit for the browsers' long-polling
    # requests (up to 50 s: the shutdown closed the bus listener that would wake
    # them).  Once Odoo holds no connection to the database its shutdown is
    # done (runner stopped, cursors closed), and what is left of it is ended.
    idle=0
    while kill -0 "$odoo_pid" 2>/dev/null; do
        sleep 0.2 || true  # a second Ctrl-C meanwhile is Odoo's forced shutdown
        if [ "$(odoo_sessions)" = 0 ]; then
            idle=$((idle + 1))
            if [ "$idle" -ge 5 ]; then
                disown "$odoo_pid" 2>/dev/null || true  # no "Killed" line from bash
                kill -KILL "$odoo_pid" 2>/dev/null || true
            fi
        else
            idle=0
        fi
    done
    await_odoo to_the_end
fi
odoo_pid=
stop_child "$sim_pid"
sim_pid=
if [ -n "$stop_asked" ]; then
    say "stopped"
    exit 0
fi
exit "$odoo_status"
