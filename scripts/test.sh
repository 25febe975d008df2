#!/usr/bin/env bash
# Runs every test in one pytest run: plclib (no Odoo), the addon's Odoo tests
# (real Odoo 14 + mrp + PostgreSQL, FINS simulator over loopback sockets, the
# browser tour in Debian's Chromium) and the top-level tests.  The database
# ($SCADA_TEST_DB, default scada_test) is created fresh with the addon
# installed, without demo data.  Extra arguments go to pytest, e.g.
#   scripts/test.sh scada_plc_bridge/tests/test_mo_history.py -x
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SCADA_NEED_CHROMIUM=1 "$ROOT/scripts/setup.sh"
"$ROOT/scripts/pg.sh" start
db=${SCADA_TEST_DB:-scada_test}
mkdir -p "$BENCH/logs"

# Odoo's base + mrp take most of an install; they are installed once into a
# template database (rebuilt when the Odoo source or the requirements change)
# and each run clones it, then installs the addon on top.
template=scada_test_template
template_key="$(cat "$VENV/.scada_bench_stamp")"
odoo_db() {  # odoo_db NAME ARGS...: run Odoo on NAME, failing loudly on errors
    local name=$1 log=$BENCH/logs/install-$1.log; shift
    : > "$log"  # a fresh log: an error of an earlier run must not fail this one
    if ! "$VENV/bin/odoo" -d "$name" --without-demo=all --stop-after-init --log-level=warn \
            --logfile="$log" "$@" || grep -q " ERROR $name " "$log"; then
        if grep -q " ERROR $name " "$log"; then
            grep -A 20 " ERROR $name " "$log" | head -n 60 >&2
        else
            tail -n 40 "$log" >&2
        fi
        die "Odoo failed on database '$name' (full log: $log)"
    fi
}
(
    flock 9
    if ! "$ROOT/scripts/pg.sh" exists "$template" \
            || [ "$(cat "$BENCH/$template.key" 2>/dev/null)" != "$template_key" ]; then
        say "building the template database '$template' (base + mrp, once)"
        "$ROOT/scripts/pg.sh" dropdb "$template"
        rm -rf "$BENCH/data/filestore/$template"
        odoo_db "$template" -i mrp
        printf '%s' "$template_key" > "$BENCH/$template.key"
    fi
    "$ROOT/scripts/pg.sh" dropdb "$db"
    rm -rf "$BENCH/data/filestore/$db"
    "$ROOT/scripts/pg.sh" clonedb "$template" "$db"
    if [ -d "$BENCH/data/filestore/$template" ]; then
        mkdir -p "$BENCH/data/filestore"
        cp -a "$BENCH/data/filestore/$template" "$BENCH/data/filestore/$db"
    fi
) 9>"$BENCH/template.lock"
say "installing scada_plc_bridge (and its Maintenance bridge) into a fresh database '$db'"
odoo_db "$db" -i scada_plc_bridge,scada_plc_bridge_maintenance

cd "$ROOT"
status=0
"$VENV/bin/python" -m pytest --odoo-config="$ODOO_CONF" --odoo-database="$db" --odoo-http "$@" || status=$?
# On CI nothing may outlive the run; locally the cluster stays up for the next run.
if [ "${CI:-}" = true ]; then "$ROOT/scripts/pg.sh" stop; fi
exit "$status"
