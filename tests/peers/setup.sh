#!/usr/bin/env bash
# Installs the dependencies of the process test peers (node, python, node3, python3), exactly as the Rust harness
# (tests/it/support/peers/install.rs) does on first use: under an exclusive lock on tests/peers/.install.lock,
# and only when the marker file (a copy of the lock file, written after a successful install)
# is missing or stale. Safe to run repeatedly and concurrently with `cargo test`.
#
# Also installs tinyproxy, the HTTP proxy of the proxy tests (tests/it/support/tinyproxy.rs),
# with apt-get when it is missing: as root, or through `sudo -n`.
#
# Usage: bash tests/peers/setup.sh [node] [python] [node3] [python3] [tinyproxy]     (default: all five)
set -euo pipefail

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MARKER=.actix-engineio-installed
WHICH=("$@")
[ ${#WHICH[@]} -eq 0 ] && WHICH=(node python node3 python3 tinyproxy)

# install_node DIR: npm ci in tests/peers/DIR (node: engine.io 6, node3: engine.io 3).
install_node() {
  cd "$PEERS_DIR/$1"
  if cmp -s package-lock.json "node_modules/$MARKER"; then
    echo "$1 peer: up to date"
    return
  fi
  command -v node >/dev/null || { echo "$1 peer: 'node' is not installed" >&2; exit 1; }
  rm -rf node_modules
  npm ci --no-audit --no-fund
  cp package-lock.json "node_modules/$MARKER"
  echo "$1 peer: installed"
}

# install_python DIR: the venv of tests/peers/DIR (python: python-engineio 4, python3: 3).
install_python() {
  cd "$PEERS_DIR/$1"
  if cmp -s requirements.txt ".venv/$MARKER"; then
    echo "$1 peer: up to date"
    return
  fi
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/python -m pip install --disable-pip-version-check --no-input -r requirements.txt
  cp requirements.txt ".venv/$MARKER"
  echo "$1 peer: installed"
}

install_tinyproxy() {
  if command -v tinyproxy >/dev/null; then
    echo "tinyproxy: installed"
    return
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! sudo -n true 2>/dev/null; then
      echo "tinyproxy: not installed, and installing it needs root (or sudo without a password):" >&2
      echo "  apt-get install -y tinyproxy" >&2
      exit 1
    fi
    sudo=(sudo -n)
  fi
  if ! command -v apt-get >/dev/null; then
    echo "tinyproxy: not installed, and there is no apt-get: install tinyproxy by hand" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y tinyproxy \
    || { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update \
         && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y tinyproxy; } \
    || { echo "tinyproxy: apt-get could not install it" >&2; exit 1; }
  command -v tinyproxy >/dev/null || { echo "tinyproxy: installed but not on PATH" >&2; exit 1; }
  # The package starts a system-wide service where an init system runs: the tests start
  # their own proxies, so the one the install started is stopped and stays off.
  if command -v systemctl >/dev/null && systemctl is-active --quiet tinyproxy 2>/dev/null; then
    "${sudo[@]}" systemctl disable --now tinyproxy >/dev/null 2>&1 || true
  elif command -v service >/dev/null; then
    "${sudo[@]}" service tinyproxy stop >/dev/null 2>&1 || true
  fi
  echo "tinyproxy: installed"
}

exec 9>"$PEERS_DIR/.install.lock"
flock 9
for peer in "${WHICH[@]}"; do
  case "$peer" in
    node | node3) install_node "$peer" ;;
    python | python3) install_python "$peer" ;;
    tinyproxy) install_tinyproxy ;;
    *) echo "unknown peer: $peer (expected node, python, node3, python3 or tinyproxy)" >&2; exit 2 ;;
  esac
done
