#!/usr/bin/env bash
# Installs the Debian 12 packages spur needs, only those missing (apt-get update only if needed).
# Extra package names given as arguments are installed too (bench/run.sh adds its tools).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config curl ca-certificates doxygen
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libfmt-dev catch2 zlib1g-dev
  libmariadb-dev mariadb-server mariadb-client libcrypt-dev libkainjow-mustache-dev libre2-dev python3 wrk openssl
  # The AI service (services/ai): FastAPI on uvicorn, TextRank on networkx + numpy, its pytest
  # suite over real sockets (httpx). scikit-learn is not among them: Debian 12's python3-sklearn
  # needs python3-scipy -> python3-pythran -> libboost-dev (1.74), which conflicts with
  # libboost1.81-dev.
  python3-fastapi python3-uvicorn python3-networkx python3-numpy python3-pytest python3-httpx
  # HTTP/2: nghttp2 is the protocol engine (SPUR_WITH_HTTP2); python3-h2 and nghttp2-client
  # (nghttp, h2load) are the independent clients of its tests and benchmarks.
  libnghttp2-dev nghttp2-client python3-h2
  # spur-app's mail (password reset, address verification) goes out through libcurl's SMTP
  # client; its tests receive it with a real SMTP server on loopback (aiosmtpd).
  libcurl4-openssl-dev python3-aiosmtpd
  "$@"
)

# Node.js and npm install the front-end and contract-test tooling pinned in package-lock.json;
# a machine that already has them (any packaging) keeps its own.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "spur: installing ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may be running unattended-upgrades: wait for the package lock, not fail.
  lock=(-o DPkg::Lock::Timeout=900)
  $SUDO apt-get "${lock[@]}" update -qq
  $SUDO apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
