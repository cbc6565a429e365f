#!/usr/bin/env bash
# One-command set-up for a fresh Debian machine with Python 3.11 (run as root, or with sudo
# rights for apt). Usage:
#   bash scripts/bootstrap.sh run    install the tool and quantify sample_tiles/ (prints the table)
#   bash scripts/bootstrap.sh test   install everything (napari + Xvfb included) and run all tests
# Everything goes into ./.venv; re-running is cheap (pip skips what is already installed).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"
shift || true
PY="${PYTHON:-python3}"

apt_install() {
    # install only the Debian packages that are missing (dpkg -s is instant)
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        echo "bootstrap: missing system packages ${missing[*]} and no apt-get to install them" >&2
        return 1
    fi
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "bootstrap: apt-get install ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
fi
# a font with µ and ² for the pictures' scale bars and areas (without it they write "um", "mm2")
apt_install fonts-dejavu-core || echo "bootstrap: no DejaVu font; pictures will write um / mm2" >&2
if [ "$mode" = test ]; then
    # Qt/napari under a virtual X server (pytest-xvfb starts /usr/bin/Xvfb)
    apt_install xvfb xauth libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 \
        libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
        libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 \
        chromium  # headless browser for the report.html test
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
VPY=.venv/bin/python
"$VPY" -m pip install -q --upgrade pip
case "$mode" in
    run)
        "$VPY" -m pip install -q -e .
        exec .venv/bin/mmnst-path quantify sample_tiles --out results --overwrite "$@"
        ;;
    test)
        "$VPY" -m pip install -q -e ".[test]" -e plugins/napari
        exec "$VPY" -m pytest "$@"
        ;;
    *)
        echo "usage: bash scripts/bootstrap.sh run|test [extra args]" >&2
        exit 2
        ;;
esac
