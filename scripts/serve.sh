#!/usr/bin/env bash
# Runs the gateway from a bare machine: installs the PostgreSQL server binaries when missing (the
# embedded default starts its own private cluster in .messagerie/), builds, and serves on PORT
# (default 4001). Extra arguments go to `messagerie serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-postgres.sh
swift build -c release --product messagerie
exec .build/release/messagerie serve "$@"
