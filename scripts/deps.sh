#!/usr/bin/env bash
# Installs what OpsCockpit needs to build and test on Debian/Ubuntu, skipping what is
# already there: the C libraries Fyne's OpenGL driver links against, Xvfb and
# ImageMagick for the real-window tests, real Prometheus and Alertmanager servers for the
# integration tests,
# and the Go modules.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh test     also what the tests need
set -euo pipefail

pkgs=(gcc pkg-config libgl1-mesa-dev libgl1-mesa-dri libx11-dev libxcursor-dev libxrandr-dev
      libxinerama-dev libxi-dev libxxf86vm-dev libxkbcommon-dev libwayland-dev)
if [[ "${1:-}" == "test" ]]; then
  # sqlite3: the risk register is read by the sqlite3 CLI while written (R3);
  # python3: the war-room test picks a free port with it
  pkgs+=(xvfb xauth imagemagick prometheus prometheus-alertmanager sqlite3 python3)
fi

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is not installed; install Go 1.26 or newer from https://go.dev/dl/ first" >&2
  exit 1
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  echo "deps: not a Debian/Ubuntu system; see README.md for the packages your platform needs" >&2
fi

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "deps: need root to install: apt-get install ${missing[*]}" >&2; exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

go mod download
