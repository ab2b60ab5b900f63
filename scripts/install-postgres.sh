#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed; the server's
# embedded default and the tests start private clusters with them. Installs Debian's package when
# they are missing.
set -euo pipefail

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else echo "error: '$*' needs root (or sudo)" >&2; exit 1
    fi
}

if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    echo "found $(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
else
    command -v apt-get >/dev/null || { echo "error: initdb not found and no apt-get: install the PostgreSQL server" >&2; exit 1; }
    echo "installing the postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends postgresql
fi
