#!/usr/bin/env bash
# Installs the Debian tools the tests and benchmarks cross-check against: Wireshark's tshark,
# softflowd (a real NetFlow exporter), nfdump's nfcapd (a peer collector), tcpdump,
# busybox-static (emulated IoT devices), Chromium and a CJK font (console end-to-end tests),
# nmap (the survey benchmark's peer), Flask for OASIS medallion (the TAXII benchmark's peer)
# and libpcap-dev (so npm builds the optional live-capture binding, cap). Tests that need a
# missing tool skip with a message instead.
set -euo pipefail
packages=(tshark softflowd nfdump tcpdump busybox-static chromium fonts-noto-cjk libpcap-dev nmap python3-flask python3-flask-httpauth python3-tz python3-six)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-tools: need root to install: ${missing[*]} (run with sudo)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
