# Shared settings of the bench scripts (sourced, not run).
# Everything the bench creates lives in .bench/ (git-ignored) or .venv/.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/.bench
VENV=$ROOT/.venv
ODOO_CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/scada_plc_bridge/odoo-14.0
ODOO_UPSTREAM=https://github.com/odoo/odoo.git
ODOO_CONF=$BENCH/odoo.conf
PG_ROLE=scada
HTTP_PORT=${SCADA_HTTP_PORT:-8069}
SIM_PORT=${SCADA_SIM_PORT:-9600}

say() { printf '[bench] %s\n' "$*" >&2; }
die() { printf '[bench] %s\n' "$*" >&2; exit 1; }

# The cluster runs as a non-root OS user; as root that is Debian's `postgres`.
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_pg_user() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

# Where the cluster lives: .bench/pg, unless the postgres OS user cannot reach
# the checkout (e.g. a clone under /root), then a per-checkout folder in /tmp.
pg_home() {
    local home=$BENCH/pg
    mkdir -p "$BENCH"
    if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$BENCH" 2>/dev/null; then
        home=/tmp/scada_plc_bridge-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)
    fi
    printf '%s' "$home"
}
PG_HOME=$(pg_home)
PG_DATA=$PG_HOME/data
PG_SOCKET_DIR=$PG_HOME/run
