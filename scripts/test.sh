#!/usr/bin/env bash
# Set up and run the whole test suite: `bash scripts/test.sh [pytest args...]`.
#
# Needs python3 and the package registries; for PostgreSQL, either a server on 127.0.0.1:5432,
# root to install one, or TAMS_TEST_DATABASE_URL. It runs scripts/dev_setup.sh (.venv with the
# dev extras, buf among them; Chromium for the docs browser test when root can install it), gets
# a PostgreSQL database from scripts/pg_throwaway.sh, runs pytest on SQLite and PostgreSQL (the
# fixtures read TAMS_TEST_DATABASE_URL), and removes that database on exit.
# Safe to run again and again; exits with pytest's exit code.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf 'test.sh: %s\n' "$*" >&2; }

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

# Whether the arguments name tests to run (a path or node id under tests/).
names_tests() {
    local arg
    for arg in "$@"; do
        [[ $arg == tests* ]] && return 0
    done
    return 1
}

main() {
    cd "$ROOT"
    bash "$ROOT/scripts/dev_setup.sh"
    obtain_database
    local rc=0
    if names_tests "$@"; then
        "$ROOT/.venv/bin/python" -m pytest "$@" || rc=$?
    else
        # The media and HLS tests load PyAV (FFmpeg's libraries) into their process: they
        # get a pytest of their own, so the rest of the suite never shares a process with it.
        "$ROOT/.venv/bin/python" -m pytest "$@" --ignore=tests/media --ignore=tests/hls || rc=$?
        "$ROOT/.venv/bin/python" -m pytest "$@" tests/media tests/hls || rc=$?
    fi
    exit "$rc"
}

main "$@"
