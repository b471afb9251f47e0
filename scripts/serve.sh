#!/usr/bin/env bash
# Set up and run the server on the embedded default: `bash scripts/serve.sh [serve flags...]`.
#
# Needs only python3. Creates .venv if missing, installs the project (runtime dependencies
# only) when pyproject.toml changed, then runs `tams-server serve` with SQLite and local
# objects under ./tams-data. Extra arguments go to `tams-server serve`
# (e.g. --grpc-port 50052, --database-url postgresql+asyncpg://...).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.tams-install"

if [[ ! -x $VENV/bin/python ]]; then
    python3 -m venv "$VENV"
fi
want="$(sha256sum "$ROOT/pyproject.toml" | cut -d ' ' -f 1)"
if [[ ! -f $STAMP || "$(cat "$STAMP")" != "$want" ]] || ! "$VENV/bin/python" -m pip show -q tams-grpc >/dev/null 2>&1; then
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q -e "$ROOT"
    printf '%s\n' "$want" >"$STAMP"
fi
exec "$VENV/bin/tams-server" serve "$@"
