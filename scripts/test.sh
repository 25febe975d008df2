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
log=$BENCH/logs/install-$db.log

"$ROOT/scripts/pg.sh" dropdb "$db"
rm -rf "$BENCH/data/filestore/$db"
say "installing scada_plc_bridge into a fresh database '$db' (log: $log)"
if ! "$VENV/bin/odoo" -d "$db" -i scada_plc_bridge --without-demo=all --stop-after-init \
        --log-level=warn --logfile="$log"; then
    tail -n 40 "$log" >&2
    die "installing the addon into '$db' failed (full log: $log)"
fi
if grep -q " ERROR $db " "$log"; then
    grep -A 20 " ERROR $db " "$log" | head -n 60 >&2
    die "installing the addon into '$db' logged errors (full log: $log)"
fi

cd "$ROOT"
exec "$VENV/bin/python" -m pytest --odoo-config="$ODOO_CONF" --odoo-database="$db" --odoo-http "$@"
