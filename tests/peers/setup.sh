#!/usr/bin/env bash
# Installs the dependencies of the node and python test peers, exactly as the Rust harness
# (tests/it/support/peers/install.rs) does on first use: under an exclusive lock on tests/peers/.install.lock,
# and only when the marker file (a copy of the lock file, written after a successful install)
# is missing or stale. Safe to run repeatedly and concurrently with `cargo test`.
#
# Also installs tinyproxy, the HTTP proxy of the proxy tests (tests/it/support/tinyproxy.rs),
# with apt-get when it is missing: as root, or through `sudo -n`.
#
# Usage: bash tests/peers/setup.sh [node] [python] [tinyproxy]     (default: all three)
set -euo pipefail

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MARKER=.actix-engineio-installed
WHICH=("$@")
[ ${#WHICH[@]} -eq 0 ] && WHICH=(node python tinyproxy)

install_node() {
  cd "$PEERS_DIR/node"
  if cmp -s package-lock.json "node_modules/$MARKER"; then
    echo "node peer: up to date"
    return
  fi
  command -v node >/dev/null || { echo "node peer: 'node' is not installed" >&2; exit 1; }
  rm -rf node_modules
  npm ci --no-audit --no-fund
  cp package-lock.json "node_modules/$MARKER"
  echo "node peer: installed"
}

install_python() {
  cd "$PEERS_DIR/python"
  if cmp -s requirements.txt ".venv/$MARKER"; then
    echo "python peer: up to date"
    return
  fi
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/python -m pip install --disable-pip-version-check --no-input -r requirements.txt
  cp requirements.txt ".venv/$MARKER"
  echo "python peer: installed"
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
  echo "tinyproxy: installed"
}

exec 9>"$PEERS_DIR/.install.lock"
flock 9
for peer in "${WHICH[@]}"; do
  case "$peer" in
    node) install_node ;;
    python) install_python ;;
    tinyproxy) install_tinyproxy ;;
    *) echo "unknown peer: $peer (expected node, python or tinyproxy)" >&2; exit 2 ;;
  esac
done
