#!/usr/bin/env bash
# Set up and run the whole test suite: `bash scripts/test.sh [pytest args...]`.
#
# Needs only python3 (and, for PostgreSQL, either a server on 127.0.0.1:5432, root to install
# one, or TAMS_TEST_DATABASE_URL). It creates .venv if missing, installs the project with its
# dev extras, gets a PostgreSQL database from scripts/pg_throwaway.sh, runs pytest on SQLite and
# PostgreSQL (the fixtures read TAMS_TEST_DATABASE_URL), and removes that database on exit.
# Safe to run again and again; exits with pytest's exit code.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# Hash of pyproject.toml at the last successful install: skip pip when nothing changed.
INSTALL_STAMP="$VENV/.tams-dev-install"

log() { printf 'test.sh: %s\n' "$*" >&2; }

ensure_venv() {
    if [[ ! -x $VENV/bin/python ]]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
}

install_project() {
    local want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d ' ' -f 1)"
    if [[ -f $INSTALL_STAMP && "$(cat "$INSTALL_STAMP")" == "$want" ]] &&
        "$VENV/bin/python" -m pip show -q tams-grpc >/dev/null 2>&1; then
        return 0
    fi
    log "installing the project and its dev tools into .venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q -e "${ROOT}[dev]"
    printf '%s\n' "$want" >"$INSTALL_STAMP"
}

install_buf() {
    # The README's buf curl examples are run by the tests; buf comes from npm.
    if [[ ! -x $ROOT/tools/node_modules/.bin/buf ]]; then
        log "installing buf (npm package @bufbuild/buf) into tools/"
        npm install --prefix "$ROOT/tools" --no-save --no-audit --no-fund --loglevel=error
    fi
}

# The database we obtained, if we obtained it (a URL given by the caller is theirs to keep).
OWNED_DB_URL=""

# shellcheck disable=SC2317  # reached through the EXIT trap
release_database() {
    if [[ -n $OWNED_DB_URL ]]; then
        bash "$ROOT/scripts/pg_throwaway.sh" stop "$OWNED_DB_URL" || true
        OWNED_DB_URL=""
    fi
}

obtain_database() {
    if [[ -n ${TAMS_TEST_DATABASE_URL:-} ]]; then
        log "using TAMS_TEST_DATABASE_URL from the environment"
        return 0
    fi
    # Set the trap first: a start that fails half way cleans up after itself.
    trap release_database EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    OWNED_DB_URL="$(bash "$ROOT/scripts/pg_throwaway.sh" | tail -n 1)"
    TAMS_TEST_DATABASE_URL="$OWNED_DB_URL"
    export TAMS_TEST_DATABASE_URL
    log "PostgreSQL for the tests: $TAMS_TEST_DATABASE_URL"
}

main() {
    cd "$ROOT"
    ensure_venv
    install_project
    install_buf
    obtain_database
    local rc=0
    "$VENV/bin/python" -m pytest "$@" || rc=$?
    exit "$rc"
}

main "$@"
