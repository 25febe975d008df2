#!/usr/bin/env bash
# Copies the screenshots the browser test took (screenshots/, git-ignored,
# refreshed by every `make test`) into docs/, where the README shows them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# kanban ... consumption_pivot: the tours (scada_plc_bridge/tests/test_ui_tour.py);
# console_*: the live console against a real server (tests/test_system_console.py).
for name in kanban batch_deviation consumption_pivot console_board console_batch_form console_batch_cancel_running console_alarms console_line_dashboard; do
    [ -f "$ROOT/screenshots/$name.png" ] || die "screenshots/$name.png is missing: run make test first."
    cp "$ROOT/screenshots/$name.png" "$ROOT/docs/$name.png"
done
say "docs/ screenshots refreshed"
