#!/usr/bin/env bash
# Installs everything kproxy and its tests need on a fresh Debian machine (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(nftables iptables conntrack dnsutils iproute2 procps openssl nfacct)
# ipvs mode: its kernel suite boots user-mode Linux (a kernel with IPVS) and drives it with these
PKGS+=(user-mode-linux ipvsadm ipset kmod socat)
# benchmarks: HAProxy is the userspace mode's reference (kproxy bench, bench:userspace); dnsperf
# and dnsmasq's are the DNS benchmark's load generator and reference server
PKGS+=(haproxy dnsperf dnsmasq-base)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: not root, cannot install: ${missing[*]} (the kernel and DNS suites will say what they skipped)" >&2
  fi
fi
# Chromium for the dashboard's browser tests (driven by playwright-core; nothing downloads a browser).
if ! dpkg -s chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "setup: not root, cannot install chromium (the dashboard's browser tests will skip)" >&2
  fi
fi
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
