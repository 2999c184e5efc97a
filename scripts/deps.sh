#!/usr/bin/env bash
# Installs every Debian package Coffre's build, tests and SDK clients need, then the pinned JS
# test clients. Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config clang-format ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev openssl ca-certificates libsqlite3-dev libpq-dev postgresql libcurl4-openssl-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3 python3-azure python3-aiohttp python3-cryptography libnss-myhostname
  nodejs curl
  azure-cli  # the Azure CLI sign-in tests (tests/integration/test_azure_cli.py)
  clang libclang-rt-14-dev llvm  # make fuzz (libFuzzer, sanitizer runtimes, llvm-symbolizer)
)
# `make bench` only (scripts/deps.sh --bench): load generator, reference static server, profiler.
# bench/bench.py runs its own nginx on a free loopback port; on a machine with systemd, Debian's
# package also enables the stock nginx service (port 80): `systemctl disable --now nginx` if unwanted.
if [ "${1:-}" = "--bench" ]; then
  packages+=(wrk nginx linux-perf)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  [ "$(id -u)" = 0 ] || { echo "deps: run as root to install packages" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# NAME.localhost must resolve to loopback (RFC 6761): the myhostname NSS module does that.
if ! grep -qE '^hosts:.*myhostname' /etc/nsswitch.conf; then
  [ "$(id -u)" = 0 ] && sed -i -E 's/^(hosts:.*)$/\1 myhostname/' /etc/nsswitch.conf
fi

command -v npm >/dev/null || { echo "deps: npm is missing (Node.js with npm is needed for the JS test clients)" >&2; exit 1; }

# Pinned JS SDK clients for the integration tests.
if [ -f tests/js/package-lock.json ]; then
  if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
