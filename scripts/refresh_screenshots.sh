#!/usr/bin/env bash
# Copies the screenshots the browser test took (screenshots/, git-ignored,
# refreshed by every `make test`) into docs/, where the README shows them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
for name in kanban batch_deviation consumption_pivot; do
    [ -f "$ROOT/screenshots/$name.png" ] || die "screenshots/$name.png is missing: run make test first."
    cp "$ROOT/screenshots/$name.png" "$ROOT/docs/$name.png"
done
say "docs/ screenshots refreshed"
