#!/usr/bin/env bash
# Installs the Debian tools the tests and benchmarks need; CI (CI=true) fails a test that skips
# for want of one of them (scripts/test.mjs), so everything a test asks for is here:
# - building: g++, make and python3 for node-gyp (the native addons) and libpcap-dev (the
#   optional live-capture binding cap, which npm drops silently when it fails to build);
# - cross-checks: Wireshark's tshark, softflowd (a real NetFlow exporter), nfdump, tcpdump;
# - emulated IoT devices: busybox-static (telnetd, httpd), dropbear-bin (SSH), lighttpd (HTTP);
# - the console's end-to-end test: Chromium and a CJK font;
# - the report room's PDF test: the same Chromium and CJK font (Japanese in the PDF), poppler-utils
#   (pdftotext reads the PDF back) and fontconfig (fc-list names the CJK font);
# - benchmark peers: nfdump's nfcapd and pmacct's nfacctd (flow), nmap (survey), masscan and zmap
#   (real scanners for the darknet fingerprints), Flask for OASIS medallion (TAXII; medallion
#   itself is not packaged by Debian, see bench/taxii/README.md), iproute2 for network namespaces.
# - the hygiene room's DNS lab: BIND (named, dnssec-keygen, dnssec-signzone, dig) and a validating
#   Unbound, started on loopback high ports by src/hygiene/testing.ts; openssl for its test CA;
#   bgpdump, which reads the MRT RIB dumps the hygiene room decodes, as an independent check.
# - the osint room: poppler-utils (pdftotext reads PDF documents); for bench:osint's Python peers
#   (iocextract and ioc-finder, run from their source trees) regex, pyparsing, click and requests.
# - bench:hygiene's peer checkdmarc 5.9.3 (run from its source tree with pyleri and
#   publicsuffixlist, see bench/hygiene/README.md): dnspython, cryptography, OpenSSL, pem,
#   expiringdict, requests, xmltodict, timeout-decorator and importlib-resources.
set -euo pipefail
packages=(
  g++ make python3 libpcap-dev
  tshark softflowd nfdump tcpdump
  busybox-static dropbear-bin lighttpd
  chromium fonts-noto-cjk poppler-utils fontconfig
  pmacct nmap masscan zmap iproute2
  python3-flask python3-flask-httpauth python3-tz python3-six
  bind9 bind9-utils bind9-dnsutils unbound openssl bgpdump
  poppler-utils python3-regex python3-pyparsing python3-click python3-requests
  python3-dnspython python3-cryptography python3-openssl python3-pem python3-expiringdict
  python3-xmltodict python3-timeout-decorator python3-importlib-resources
)
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
# Other sessions on a shared machine may hold the dpkg lock: wait for it rather than fail.
apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
