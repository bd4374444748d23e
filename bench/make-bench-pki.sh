#!/bin/bash
# Bench-only certificate: one wildcard leaf (ECDSA P-256, as most large sites
# serve today) for "*.bench.test" and
# "*.bench.localhost" with the EV profile of the test PKI
# (tests/pki/extensions.cnf, section leaf_ev), issued by the test PKI's EV CA,
# so that any number of host names (h01.bench.test mapped with
# TRUSTLENS_RESOLVE, or c00001.bench.localhost, which libcurl resolves to
# loopback by itself) get the same valid EV verdict from one s_server
# certificate. The leaf key is ECDSA P-256: the 50 s_server processes of
# row 5 run on the same cores as the host, and 50 RSA-2048 signatures
# (about 1.5 ms of CPU each) charged the servers' work to the host's wall
# time; a remote server pays for its own signature. The chain above it
# stays the test PKI's RSA EV CA and root.
#
#   bench/make-bench-pki.sh PKI_DIR OUT_DIR     (build/pki build/bench/pki)
#
# PKI_DIR must be complete (tests/pki/make-pki.sh). Nothing in PKI_DIR is
# modified: the CA directory is copied into OUT_DIR and `openssl ca` runs on
# the copy. Idempotent: does nothing when OUT_DIR/.complete is newer than
# this script and PKI_DIR/.complete. Throwaway keys; never committed.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 PKI_DIR OUT_DIR" >&2; exit 2; }
PKI=$1
OUT=$2
here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
CNF="$here/../tests/pki/ca.cnf"
EXT="$here/../tests/pki/extensions.cnf"

[ -f "$PKI/.complete" ] || { echo "make-bench-pki: $PKI is not a complete test PKI" >&2; exit 1; }
if [ -f "$OUT/.complete" ] && [ "$OUT/.complete" -nt "$self" ] && [ "$OUT/.complete" -nt "$PKI/.complete" ]; then
	exit 0
fi

T="$OUT.tmp.$$"
rm -rf "$T"
mkdir -p "$T/ca/newcerts" "$T/leaf"
trap 'rm -rf "$T"' EXIT
cp "$PKI/ca/ev-ca/cert.pem" "$PKI/ca/ev-ca/key.pem" "$T/ca/"
: >"$T/ca/index.txt"
echo "unique_subject = no" >"$T/ca/index.txt.attr"
echo BE0001 >"$T/ca/serial"

EV_DN="/C=BE/O=TrustLens Test EV NV/jurisdictionC=BE/businessCategory=Private Organization/serialNumber=0203201340"
export OPENSSL_CONF="$CNF" CA_DIR="$T/ca" LEAF_SAN="DNS:*.bench.test,DNS:*.bench.localhost"
export PKI_OCSP_URL="http://127.0.0.1:9/" PKI_CRL_URL="http://127.0.0.1:9/unused.crl"
{
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/leaf/key.pem"
	openssl req -new -utf8 -config "$CNF" -key "$T/leaf/key.pem" \
		-subj "$EV_DN/CN=*.bench.test" -out "$T/leaf/req.csr"
	openssl ca -batch -utf8 -notext -preserveDN -config "$CNF" -extfile "$EXT" \
		-extensions leaf_ev -startdate 20250101000000Z -enddate 20300101000000Z \
		-in "$T/leaf/req.csr" -out "$T/leaf/cert.pem"
} >"$T/make-bench-pki.log" 2>&1 || { cat "$T/make-bench-pki.log" >&2; exit 1; }
cp "$PKI/ca/ev-ca/chain.pem" "$T/leaf/chain.pem"
rm -f "$T/leaf/req.csr" "$T/ca/key.pem"
touch "$T/.complete"
rm -rf "$OUT"
mv "$T" "$OUT"
trap - EXIT
