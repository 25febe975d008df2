#!/usr/bin/env bash
# Starts the living demo: the project's PostgreSQL, the PLC simulator in plant
# mode on 127.0.0.1, and Odoo 14 with the addon and its demo data in database
# $SCADA_DEMO_DB (default scada_demo; created on the first run).  The demo
# MOs then move by themselves from queued through running to done, and the
# simulator fails the third recipe it takes, so one MO is auto-cancelled.
# Ctrl-C stops Odoo and the simulator; `make stop` stops PostgreSQL.
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
    "$VENV/bin/odoo" -d "$db" -i scada_plc_bridge --stop-after-init --log-level=warn \
        --logfile="$BENCH/logs/install-$db.log" \
        || die "installing the demo failed; see $BENCH/logs/install-$db.log"
fi

# The demo PLC follows the simulator's port, on the first and every later start.
"$ROOT/scripts/pg.sh" psql -d "$db" -qc "UPDATE scada_plc SET port = $SIM_PORT, host = '127.0.0.1'
    WHERE id = (SELECT res_id FROM ir_model_data WHERE module = 'scada_plc_bridge'
                AND name = 'scada_plc_default')" >/dev/null

sim_log=$BENCH/logs/simulator.log
"$VENV/bin/scada-plc" sim --plant --host 127.0.0.1 --port "$SIM_PORT" \
    --batch-seconds "${SCADA_SIM_BATCH_SECONDS:-40}" --fail-batch 3 --failure-rate 0.1 >"$sim_log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    grep -q '^listening on' "$sim_log" && break
    kill -0 "$sim_pid" 2>/dev/null || die "the PLC simulator did not start: $(tail -n 1 "$sim_log")"
    sleep 0.1
done
say "PLC simulator: $(head -n 1 "$sim_log") (plant mode, log: $sim_log)"
say "Odoo 14: http://127.0.0.1:$HTTP_PORT  login: admin  password: admin  (database $db)"
# The addon is loaded server-wide, so its PLC runner polls every few seconds
# (as OCA queue_job's job runner); `--workers N` runs it as a worker process.
# Odoo 14's own Python 3.11 DeprecationWarnings would bury the URL and the
# [TASK n] lines (bench/odoo_py311_compat.py; the addon's warnings still show).
# The board's polling (one request line each) and record deletions stay out of
# the way of the [TASK n] lines: at WARNING, they show only when they go wrong.
SCADA_QUIET_ODOO_WARNINGS=1 "$VENV/bin/odoo" -d "$db" --db-filter="^$db\$" --http-port="$HTTP_PORT" --log-level=info \
    --log-handler=werkzeug:WARNING --log-handler=odoo.models.unlink:WARNING \
    --load=base,web,scada_plc_bridge "$@"
