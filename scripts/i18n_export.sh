#!/usr/bin/env bash
# Exports the addon's translation template (i18n/scada_plc_bridge.pot) from a
# throw-away database with the addon freshly installed.  Translators then
# update i18n/id.po (msgmerge, or any PO editor); the test run checks that
# id.po translates every string of the template.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/pg.sh" start
db=scada_i18n_export
"$ROOT/scripts/pg.sh" dropdb "$db"
"$VENV/bin/odoo" -d "$db" -i scada_plc_bridge --without-demo=all --stop-after-init --log-level=warn
# Odoo 14's exporter wants a .po name; without --language it writes the template.
"$VENV/bin/odoo" -d "$db" --i18n-export="$BENCH/scada_plc_bridge.po" --modules=scada_plc_bridge \
    --stop-after-init --log-level=warn
mv "$BENCH/scada_plc_bridge.po" "$ROOT/scada_plc_bridge/i18n/scada_plc_bridge.pot"
"$ROOT/scripts/pg.sh" dropdb "$db"
say "i18n/scada_plc_bridge.pot exported"
