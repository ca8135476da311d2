#!/usr/bin/env bash
# Install the system packages the browser test needs (Debian/Ubuntu): Chromium for Playwright.
# Idempotent: does nothing when every package is already there. Needs root (or sudo).
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || packages+=(chromium)
command -v tmux >/dev/null 2>&1 || packages+=(tmux)

if [ "${#packages[@]}" -eq 0 ]; then
    echo "install-system-deps: nothing to do (chromium and tmux are installed)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-system-deps: need root to install: ${packages[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
echo "install-system-deps: installed ${packages[*]}"
