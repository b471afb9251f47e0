#!/usr/bin/env bash
# Set up what the tests and the checks need: `bash scripts/dev_setup.sh`.
#
# Needs python3 and the package registries. Creates .venv (again, if broken) and installs the
# project with its dev extras: pytest, ruff, mypy, lint-imports, schemathesis, moto and buf
# (PyPI's buf-bin, for `buf lint` and the README's buf curl lines). Installs Chromium (Debian's
# package, for tests/rest/test_docs_browser.py) when it is missing and this runs as root with
# apt-get; otherwise says how to get it (that test skips without it, and fails under CI).
# Installs web/'s npm packages (hls.js, pinned by web/package-lock.json; the server serves it
# to its /hls/player page) with `npm ci`, again only when the lock file changed.
# Safe to run again: pip runs only when pyproject.toml changed since its last install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# Hash of pyproject.toml at the last successful install: skip pip when nothing changed.
INSTALL_STAMP="$VENV/.tams-dev-install"

log() { printf 'dev_setup.sh: %s\n' "$*" >&2; }

ensure_venv() {
    if ! "$VENV/bin/python" -c '' 2>/dev/null; then
        log "creating $VENV"
        python3 -m venv --clear "$VENV"
    fi
}

install_project() {
    local want
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d ' ' -f 1)"
    if [[ -f $INSTALL_STAMP && "$(cat "$INSTALL_STAMP")" == "$want" ]] &&
        "$VENV/bin/python" -m pip show -q tams-grpc >/dev/null 2>&1; then
        return 0
    fi
    log "installing the project and its dev tools (buf included) into .venv"
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/python" -m pip install -q -e "${ROOT}[dev]"
    printf '%s\n' "$want" >"$INSTALL_STAMP"
}

ensure_chromium() {
    if command -v chromium >/dev/null; then
        return 0
    fi
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing chromium (Debian package) for tests/rest/test_docs_browser.py"
        if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
            return 0
        fi
        log "apt-get could not install chromium"
        if [[ -n ${CI:-} ]]; then
            return 1
        fi
    fi
    log "no chromium: tests/rest/test_docs_browser.py will be skipped (under CI it fails)."
    log "  get it with: sudo apt-get install chromium   (Debian/Ubuntu package)"
}

ensure_web() {
    local web="$ROOT/web" stamp="$ROOT/web/node_modules/.tams-lock" want
    want="$(sha256sum "$web/package-lock.json" | cut -d ' ' -f 1)"
    if [[ -f $stamp && "$(cat "$stamp")" == "$want" && -f $web/node_modules/hls.js/dist/hls.min.js ]]; then
        return 0
    fi
    if ! command -v npm >/dev/null; then
        if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
            log "installing npm (Debian package) for web/ (hls.js)"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
        else
            log "no npm: /hls/player will answer 503 until web/ is installed (npm ci --prefix web)"
            [[ -z ${CI:-} ]] || return 1
            return 0
        fi
    fi
    log "installing web/ (hls.js) with npm ci"
    npm ci --prefix "$web" --no-audit --no-fund --loglevel=error
    printf '%s\n' "$want" >"$stamp"
}

main() {
    ensure_venv
    install_project
    ensure_chromium
    ensure_web
}

main "$@"
