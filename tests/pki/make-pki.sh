#!/bin/bash
# Generates the throwaway test PKI of the site-identity tests into OUTDIR.
#
#   tests/pki/make-pki.sh OUTDIR            (e.g. build/pki)
#
# Environment (optional):
#   PKI_OCSP_URL_BASE  base of the OCSP responder URL put in AIA,
#                      default http://127.0.0.1:18888 (URL = base + "/")
#   PKI_CRL_URL_BASE   base of the CRL distribution points,
#                      default http://127.0.0.1:18889 (URL = base + "/<ca>.crl")
#
# Idempotent: does nothing when OUTDIR/.complete is newer than this script
# and its two .cnf files and records the same URL bases. Otherwise builds
# into OUTDIR.tmp.PID and renames it into place (under a lock, so concurrent
# callers wait rather than race). Every file is described in
# tests/pki/README.md; OUTDIR/cases.json describes every leaf.
#
# Time: every certificate has fixed absolute dates; OCSP responses and CRLs
# are made current around the evaluation time the tests use,
# TRUSTLENS_NOW=2026-06-01T00:00:00Z (see README.md, "Time").
set -euo pipefail
# has PATTERN...: grep that reads all of its input. `grep -q` stops at the first
# match, and under pipefail the writer's SIGPIPE then fails the pipeline
# now and then (a self-check failed under load in CI this way).
has() { grep "$@" >/dev/null; }

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
OUT=$1
here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
CNF="$here/ca.cnf"
EXT="$here/extensions.cnf"

OCSP_BASE=${PKI_OCSP_URL_BASE:-http://127.0.0.1:18888}
CRL_BASE=${PKI_CRL_URL_BASE:-http://127.0.0.1:18889}
OCSP_BASE=${OCSP_BASE%/}
CRL_BASE=${CRL_BASE%/}
STAMP_TEXT="ocsp_url_base=$OCSP_BASE
crl_url_base=$CRL_BASE"

# The evaluation time the tests use and the fixed moments around it.
NOW_RFC3339=2026-06-01T00:00:00Z
LEAF_START=20250101000000Z        # ordinary leaves: 2025-01-01 .. 2030-01-01
LEAF_END=20300101000000Z
CA_START=20200101000000Z          # roots and CAs: 2020-01-01 .. 2040-01-01
CA_END=20400101000000Z
EXPIRED_END=20260101000000Z       # "expired": 2025-01-01 .. 2026-01-01
NOTYET_START=20270101000000Z      # "notyet": 2027-01-01 .. 2030-01-01
CRL_LAST=20260501000000Z          # every CRL: 2026-05-01 .. 2026-07-01
CRL_NEXT=20260701000000Z
REVOKE_AT="2026-05-15 00:00:00"   # revocation time written to the CA indexes
OCSP_AT="2026-05-31 12:00:00"     # thisUpdate of staples and of the responder
OCSP_DAYS=30                      # nextUpdate = thisUpdate + 30 days

is_complete() {
	local s="$OUT/.complete"
	[ -f "$s" ] && [ "$s" -nt "$self" ] && [ "$s" -nt "$CNF" ] && [ "$s" -nt "$EXT" ] &&
		[ "$(cat "$s")" = "$STAMP_TEXT" ]
}

if is_complete; then
	exit 0
fi

command -v openssl >/dev/null || { echo "make-pki: openssl not found" >&2; exit 1; }
FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	if [ -f "$f" ]; then FAKETIME_LIB=$f; break; fi
done
if [ -z "$FAKETIME_LIB" ]; then
	echo "make-pki: libfaketime not found (Debian package faketime, see installers/deps-debian.sh)" >&2
	exit 1
fi

mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock 9
if is_complete; then   # built by a concurrent caller while we waited
	exit 0
fi

T="$OUT.tmp.$$"
rm -rf "$T"
mkdir -p "$T"/{ca,leaves,ocsp,crl,tmp}
LOG="$T/make-pki.log"
# shellcheck disable=SC2154  # rc is assigned inside the trap
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "make-pki: failed; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; fi' EXIT

# Values every openssl invocation may expand (ca.cnf / extensions.cnf read
# them at load time, even in sections not used).
export CA_DIR="$T/ca/unused" LEAF_SAN="DNS:unused.test"
export PKI_OCSP_URL="$OCSP_BASE/" PKI_CRL_URL="$CRL_BASE/unused.crl"
export OPENSSL_CONF="$CNF"

run() { echo "+ $*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }
at_time() { # at_time "YYYY-MM-DD hh:mm:ss" cmd...: cmd with that wall clock (UTC)
	local when=$1; shift
	echo "+ [faketime $when] $*" >>"$LOG"
	LD_PRELOAD="$FAKETIME_LIB" FAKETIME="@$when" FAKETIME_DONT_RESET=1 TZ=UTC "$@" >>"$LOG" 2>&1
}

new_key() { # new_key rsa|ec FILE
	case $1 in
	rsa) run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
	ec)  run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
	esac
}

ca_serial=0
init_ca_dir() { # init_ca_dir DIR
	mkdir -p "$1/newcerts"
	: >"$1/index.txt"
	echo "unique_subject = no" >"$1/index.txt.attr"
	ca_serial=$((ca_serial + 1))
	printf '%X0001\n' $((ca_serial + 15)) >"$1/serial"   # 100001, 110001, ... per CA
	echo 1000 >"$1/crlnumber"
}

# sign PARENT_DIR CSR OUT_CERT EXT_SECTION START END [extra ca args]
sign() {
	local pdir=$1 csr=$2 out=$3 sect=$4 start=$5 end=$6
	shift 6
	CA_DIR=$pdir run openssl ca -batch -utf8 -notext -preserveDN -config "$CNF" -extfile "$EXT" \
		-extensions "$sect" -startdate "$start" -enddate "$end" -in "$csr" -out "$out" "$@"
}

der_sha256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

CA_NAMES=()
# make_root NAME KEYTYPE SUBJECT
make_root() {
	local d="$T/ca/$1"
	init_ca_dir "$d"
	new_key "$2" "$d/key.pem"
	CA_DIR=$d run openssl req -new -utf8 -config "$CNF" -key "$d/key.pem" -subj "$3" -out "$d/req.csr"
	CA_DIR=$d run openssl ca -batch -utf8 -notext -preserveDN -config "$CNF" -selfsign -keyfile "$d/key.pem" \
		-extfile "$EXT" -extensions v3_root -startdate "$CA_START" -enddate "$CA_END" \
		-in "$d/req.csr" -out "$d/cert.pem"
	: >"$d/chain.pem"
	echo "$1" >"$d/root"
	CA_NAMES+=("$1")
}

# make_ca NAME PARENT KEYTYPE SUBJECT [EXT_SECTION]
make_ca() {
	local d="$T/ca/$1" p="$T/ca/$2"
	init_ca_dir "$d"
	new_key "$3" "$d/key.pem"
	CA_DIR=$d run openssl req -new -utf8 -config "$CNF" -key "$d/key.pem" -subj "$4" -out "$d/req.csr"
	sign "$p" "$d/req.csr" "$d/cert.pem" "${5:-v3_intermediate}" "$CA_START" "$CA_END"
	cat "$d/cert.pem" "$p/chain.pem" >"$d/chain.pem"
	cp "$p/root" "$d/root"
	CA_NAMES+=("$1")
}

# make_ocsp_signer CA: the CA's delegated OCSP responder (ocsp.pem, ocsp.key)
make_ocsp_signer() {
	local d="$T/ca/$1" cn
	cn=$(openssl x509 -in "$d/cert.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
	new_key ec "$d/ocsp.key"
	run openssl req -new -utf8 -config "$CNF" -key "$d/ocsp.key" -subj "/O=TrustLens Test/CN=$cn OCSP Responder" -out "$d/ocsp.csr"
	sign "$d" "$d/ocsp.csr" "$d/ocsp.pem" v3_ocsp "$LEAF_START" "$LEAF_END"
}

# make_crl CA: ca/CA/crl.pem, crl.der and crl/CA.crl (DER, the served copy)
make_crl() {
	local d="$T/ca/$1"
	CA_DIR=$d run openssl ca -batch -config "$CNF" -gencrl -crl_lastupdate "$CRL_LAST" \
		-crl_nextupdate "$CRL_NEXT" -out "$d/crl.pem"
	run openssl crl -in "$d/crl.pem" -outform DER -out "$d/crl.der"
	cp "$d/crl.der" "$T/crl/$1.crl"
}

CASES=()
# make_leaf CASE CA KEYTYPE SUBJECT PROFILE SAN [START END]
make_leaf() {
	local name=$1 ca=$2 kt=$3 subj=$4 prof=$5 san=$6 start=${7:-$LEAF_START} end=${8:-$LEAF_END}
	local d="$T/leaves/$name" c="$T/ca/$ca"
	mkdir -p "$d"
	new_key "$kt" "$d/key.pem"
	run openssl req -new -utf8 -config "$CNF" -key "$d/key.pem" -subj "$subj" -out "$d/req.csr"
	LEAF_SAN=$san PKI_CRL_URL="${LEAF_CRL_URL:-$CRL_BASE/$ca.crl}" \
		sign "$c" "$d/req.csr" "$d/cert.pem" "$prof" "$start" "$end"
	cp "$c/chain.pem" "$d/chain.pem"
	cat "$d/cert.pem" "$d/chain.pem" >"$d/fullchain.pem"
	openssl x509 -in "$d/cert.pem" -outform DER -out "$d/cert.der"
	echo "$ca" >"$d/ca"
	echo "$prof" >"$d/profile"
	rm -f "$d/req.csr"
	CASES+=("$name")
}

revoke() { # revoke CASE: marks the leaf revoked (keyCompromise) in its CA's index
	local d="$T/leaves/$1" ca
	ca=$(cat "$d/ca")
	CA_DIR="$T/ca/$ca" at_time "$REVOKE_AT" openssl ca -batch -config "$CNF" \
		-revoke "$d/cert.pem" -crl_reason keyCompromise
	echo revoked >"$d/status"
}

staple() { # staple CASE: ocsp/CASE.der, a response from the CA's responder
	local d="$T/leaves/$1" ca c
	ca=$(cat "$d/ca")
	c="$T/ca/$ca"
	run openssl ocsp -issuer "$c/cert.pem" -cert "$d/cert.pem" -no_nonce -reqout "$T/tmp/$1.req"
	at_time "$OCSP_AT" openssl ocsp -index "$c/index.txt" -rsigner "$c/ocsp.pem" -rkey "$c/ocsp.key" \
		-CA "$c/cert.pem" -reqin "$T/tmp/$1.req" -respout "$T/ocsp/$1.der" -ndays "$OCSP_DAYS"
}

echo "make-pki: generating the test PKI in $OUT" >&2

# ---------------------------------------------------------------- CAs
make_root ev-root      rsa "/C=BE/O=TrustLens Test/CN=TrustLens Test EV Root"
make_root plain-root   rsa "/C=BE/O=TrustLens Test/CN=TrustLens Test Plain Root"
make_root eutl-root    rsa "/C=BE/O=TrustLens Test/CN=TrustLens Test EUTL Root"
make_root unknown-root ec  "/C=BE/O=TrustLens Test/CN=TrustLens Test Unknown Root"
make_ca ev-ca      ev-root      rsa "/C=BE/O=TrustLens Test/CN=TrustLens Test EV CA"
make_ca plain-ca   plain-root   ec  "/C=BE/O=TrustLens Test/CN=TrustLens Test Plain CA"
make_ca eutl-ca    eutl-root    rsa "/C=BE/O=TrustLens Test/CN=TrustLens Test EUTL Qualified CA"
make_ca unknown-ca unknown-root ec  "/C=BE/O=TrustLens Test/CN=TrustLens Test Unknown CA"
make_ca rev-ca     plain-root   ec  "/C=BE/O=TrustLens Test/CN=TrustLens Test Revocation CA"
MAIN_CAS=("${CA_NAMES[@]}")
parent=plain-root
for i in $(seq -w 1 12); do
	make_ca "long-$i" "$parent" ec "/C=BE/O=TrustLens Test/CN=TrustLens Test Long Chain CA $i" v3_link
	parent="long-$i"
done
for ca in "${MAIN_CAS[@]}"; do
	make_ocsp_signer "$ca"
done

# ---------------------------------------------------------------- leaves
EV_DN="/C=BE/O=TrustLens Test EV NV/jurisdictionC=BE/businessCategory=Private Organization/serialNumber=0203201340"
QWAC_DN="/C=BE/O=TrustLens Test QWAC NV/organizationIdentifier=NTRBE-0203201340/jurisdictionC=BE/businessCategory=Private Organization/serialNumber=0203201340"
OV_DN="/C=BE/O=TrustLens Test OV BV"

make_leaf ev                  ev-ca    rsa "$EV_DN/CN=ev.test" leaf_ev "DNS:ev.test"
make_leaf ev-unlisted-root    plain-ca ec  "$EV_DN/CN=ev-unlisted-root.test" leaf_ev "DNS:ev-unlisted-root.test"
make_leaf ev-unlisted-root-ov plain-ca ec  "$EV_DN/CN=ev-unlisted-root-ov.test" leaf_ev_ov "DNS:ev-unlisted-root-ov.test"
make_leaf ov                  plain-ca rsa "$OV_DN/CN=ov.test" leaf_ov "DNS:ov.test"
make_leaf iv                  plain-ca ec  "/C=BE/GN=Jan/SN=Peeters/CN=iv.test" leaf_iv "DNS:iv.test"
make_leaf dv                  plain-ca ec  "/CN=dv.test" leaf_dv "DNS:dv.test"
make_leaf nopolicy            plain-ca ec  "/CN=nopolicy.test" leaf_nopolicy "DNS:nopolicy.test"
make_leaf qwac-ev             eutl-ca  rsa "$QWAC_DN/CN=qwac-ev.test" leaf_qwac_ev "DNS:qwac-ev.test"
make_leaf qwac-ov             eutl-ca  ec  "/C=BE/O=TrustLens Test QWAC NV/organizationIdentifier=NTRBE-0203201340/CN=qwac-ov.test" leaf_qwac_ov "DNS:qwac-ov.test"
make_leaf qc-noweb            eutl-ca  ec  "$QWAC_DN/CN=qc-noweb.test" leaf_qc_noweb "DNS:qc-noweb.test"
make_leaf qwac-not-eutl       ev-ca    ec  "$QWAC_DN/CN=qwac-not-eutl.test" leaf_qwac_ev "DNS:qwac-not-eutl.test"
make_leaf expired             plain-ca ec  "/CN=expired.test" leaf_dv "DNS:expired.test" "$LEAF_START" "$EXPIRED_END"
make_leaf notyet              plain-ca ec  "/CN=notyet.test" leaf_dv "DNS:notyet.test" "$NOTYET_START" "$LEAF_END"
make_leaf wronghost           plain-ca ec  "/CN=other.test" leaf_dv "DNS:other.test"
make_leaf unknownroot         unknown-ca ec "/CN=unknownroot.test" leaf_dv "DNS:unknownroot.test"
make_leaf revoked-ocsp        rev-ca   ec  "$OV_DN/CN=revoked-ocsp.test" leaf_ov_ocsp "DNS:revoked-ocsp.test"
make_leaf good-ocsp           rev-ca   ec  "$OV_DN/CN=good-ocsp.test" leaf_ov_ocsp "DNS:good-ocsp.test"
make_leaf revoked-crl         rev-ca   ec  "$OV_DN/CN=revoked-crl.test" leaf_ov_crl "DNS:revoked-crl.test"
make_leaf good-crl            rev-ca   ec  "$OV_DN/CN=good-crl.test" leaf_ov_crl "DNS:good-crl.test"
make_leaf staple-good         rev-ca   ec  "$OV_DN/CN=staple-good.test" leaf_ov_ocsp "DNS:staple-good.test"
make_leaf staple-revoked      rev-ca   ec  "$OV_DN/CN=staple-revoked.test" leaf_ov_ocsp "DNS:staple-revoked.test"
make_leaf ent-good            plain-ca ec  "/C=BE/O=Brasserie Bücher SRL/organizationIdentifier=NTRBE-0403227515/CN=ent-good.test" leaf_ov "DNS:ent-good.test"
make_leaf ent-bad             plain-ca ec  "/C=BE/O=TrustLens Test OV BV/organizationIdentifier=NTRBE-0403227516/CN=ent-bad.test" leaf_ov "DNS:ent-bad.test"
make_leaf idn                 plain-ca ec  "/CN=xn--bcher-idn-q9a.test" leaf_dv "DNS:xn--bcher-idn-q9a.test"
make_leaf longchain           long-12  ec  "/CN=longchain.test" leaf_dv "DNS:longchain.test"

# crl-missing: an OV leaf whose CRL DP points at a file the CRL server does
# not have (404): revocation status unknown.
LEAF_CRL_URL="$CRL_BASE/missing.crl" \
make_leaf crl-missing         rev-ca   ec  "$OV_DN/CN=crl-missing.test" leaf_ov_crl "DNS:crl-missing.test"
# ev-revocation-unknown: the same for an EV leaf (unknown never downgrades nor upgrades).
LEAF_CRL_URL="$CRL_BASE/missing.crl" \
make_leaf ev-revocation-unknown ev-ca  ec  "$EV_DN/CN=ev-revocation-unknown.test" leaf_ev_crl "DNS:ev-revocation-unknown.test"

# selfsigned: its own one-certificate CA directory.
d="$T/leaves/selfsigned"; mkdir -p "$d"
init_ca_dir "$T/ca/selfsigned"
new_key ec "$d/key.pem"
run openssl req -new -utf8 -config "$CNF" -key "$d/key.pem" -subj "/CN=selfsigned.test" -out "$d/req.csr"
CA_DIR="$T/ca/selfsigned" LEAF_SAN="DNS:selfsigned.test" run openssl ca -batch -utf8 -notext -preserveDN \
	-config "$CNF" -selfsign -keyfile "$d/key.pem" -extfile "$EXT" -extensions leaf_selfsigned \
	-startdate "$LEAF_START" -enddate "$LEAF_END" -in "$d/req.csr" -out "$d/cert.pem"
cp "$d/cert.pem" "$T/ca/selfsigned/cert.pem"
: >"$d/chain.pem"
cp "$d/cert.pem" "$d/fullchain.pem"
openssl x509 -in "$d/cert.pem" -outform DER -out "$d/cert.der"
echo selfsigned >"$d/ca"; echo leaf_selfsigned >"$d/profile"; rm -f "$d/req.csr"
CASES+=(selfsigned)

# ---------------------------------------------------------------- revocation
revoke revoked-ocsp
revoke revoked-crl
revoke staple-revoked
for ca in "${MAIN_CAS[@]}"; do
	make_crl "$ca"
done
staple staple-good
staple staple-revoked
# A ready-made OCSP request (good-ocsp, no nonce): tests POST it to the live
# responder to learn that it is up (a bare TCP probe makes openssl ocsp 3.0
# spin on the closed connection).
run openssl ocsp -issuer "$T/ca/rev-ca/cert.pem" -cert "$T/leaves/good-ocsp/cert.pem" -no_nonce \
	-reqout "$T/ocsp/probe.req"

# ---------------------------------------------------------------- trust files
cat "$T/ca/ev-root/cert.pem" "$T/ca/plain-root/cert.pem" "$T/ca/eutl-root/cert.pem" >"$T/ca-bundle.pem"
cp "$T/ca/eutl-root/cert.pem" "$T/qwac-roots.pem"
EV_FP=$(der_sha256 "$T/ca/ev-root/cert.pem")
EUTL_FP=$(der_sha256 "$T/ca/eutl-root/cert.pem")
cat >"$T/ev-roots.json" <<EOF
{
  "$EV_FP": ["2.23.140.1.1", "1.3.6.1.4.1.99999.1.1"],
  "$EUTL_FP": ["2.23.140.1.1", "1.3.6.1.4.1.99999.1.1"]
}
EOF
for r in ev-root plain-root eutl-root unknown-root; do
	printf '%s  %s\n' "$(der_sha256 "$T/ca/$r/cert.pem")" "$r" >>"$T/root-sha256.txt"
done

# ---------------------------------------------------------------- self-checks
# Also into the log, so that the log tail the EXIT trap prints ends with it.
fail() { echo "make-pki: self-check failed: $*" | tee -a "$LOG" >&2; exit 1; }
ext_text() { openssl x509 -in "$1" -noout -text; }
verify_at() { # verify_at CASE EPOCH: openssl verify of the served chain
	local d="$T/leaves/$1" u=()
	[ -s "$d/chain.pem" ] && u=(-untrusted "$d/chain.pem")
	openssl verify -attime "$2" -CAfile "$T/ca-bundle.pem" "${u[@]}" \
		-purpose sslserver "$d/cert.pem" 2>&1
}
verify_msg() { verify_at "$1" "$NOW_EPOCH" || true; }
NOW_EPOCH=$(date -u -d "$NOW_RFC3339" +%s)
for c in ev ev-unlisted-root ev-unlisted-root-ov ov iv dv nopolicy qwac-ev qwac-ov qc-noweb \
	qwac-not-eutl wronghost revoked-ocsp good-ocsp revoked-crl good-crl staple-good \
	staple-revoked ent-good ent-bad idn crl-missing ev-revocation-unknown; do
	out=$(verify_at "$c" "$NOW_EPOCH") || fail "$c does not verify at $NOW_RFC3339: $out"
done
verify_msg expired | has 'certificate has expired' || fail "expired is not expired"
verify_msg notyet | has 'certificate is not yet valid' || fail "notyet is valid"
verify_msg unknownroot | has 'unable to get local issuer certificate' || fail "unknownroot chains"
verify_msg selfsigned | has 'self-signed certificate' || fail "selfsigned is not seen as self-signed"
[ "$(grep -c BEGIN "$T/leaves/longchain/chain.pem")" -eq 12 ] || fail "longchain has not 12 intermediates"
openssl verify -attime "$NOW_EPOCH" -CAfile "$T/ca-bundle.pem" -untrusted "$T/leaves/longchain/chain.pem" \
	"$T/leaves/longchain/cert.pem" >/dev/null 2>&1 || fail "longchain does not verify without a depth cap"
for c in qwac-ev qwac-ov qwac-not-eutl qc-noweb; do
	want=0.4.0.1862.1.6.3
	[ "$c" = qc-noweb ] && want=0.4.0.1862.1.6.1
	openssl x509 -in "$T/leaves/$c/cert.pem" -outform DER -out "$T/tmp/$c.der"
	off=$(openssl asn1parse -inform DER -in "$T/tmp/$c.der" | grep -A1 ':qcStatements' | sed -n 's/^ *\([0-9]*\):.*OCTET STRING.*/\1/p')
	[ -n "$off" ] || fail "$c has no qcStatements"
	qc=$(openssl asn1parse -inform DER -in "$T/tmp/$c.der" -strparse "$off")
	echo "$qc" | has ':0.4.0.1862.1.1$' || fail "$c: no QcCompliance"
	echo "$qc" | has ':0.4.0.1862.1.6$' || fail "$c: no QcType"
	echo "$qc" | has ":$want\$" || fail "$c: QcType is not $want"
done
ext_text "$T/leaves/ev/cert.pem" | has 'Policy: 2.23.140.1.1$' || fail "ev has no EV policy"
openssl x509 -in "$T/leaves/ev/cert.pem" -noout -subject -nameopt RFC2253 | has 'jurisdictionC=BE' ||
	fail "ev: no jurisdictionC"
ext_text "$T/leaves/nopolicy/cert.pem" | has 'Certificate Policies' && fail "nopolicy has policies"
ext_text "$T/leaves/revoked-ocsp/cert.pem" | has "OCSP - URI:$OCSP_BASE/" || fail "revoked-ocsp: no OCSP URL"
ext_text "$T/leaves/revoked-ocsp/cert.pem" | has 'CRL Distribution' && fail "revoked-ocsp has a CRL DP"
ext_text "$T/leaves/revoked-crl/cert.pem" | has "URI:$CRL_BASE/rev-ca.crl" || fail "revoked-crl: no CRL DP"
ext_text "$T/leaves/revoked-crl/cert.pem" | has 'Authority Information Access' && fail "revoked-crl has AIA"
for c in revoked-crl revoked-ocsp staple-revoked; do
	out=$(openssl verify -attime "$NOW_EPOCH" -crl_check -CAfile "$T/ca-bundle.pem" -untrusted "$T/leaves/$c/chain.pem" \
		-CRLfile "$T/ca/rev-ca/crl.pem" "$T/leaves/$c/cert.pem" 2>&1 || true)
	echo "$out" | has 'certificate revoked' || fail "$c is not revoked by the rev-ca CRL"
done
openssl verify -attime "$NOW_EPOCH" -crl_check -CAfile "$T/ca-bundle.pem" -untrusted "$T/leaves/good-crl/chain.pem" \
	-CRLfile "$T/ca/rev-ca/crl.pem" "$T/leaves/good-crl/cert.pem" >/dev/null 2>&1 || fail "good-crl fails the CRL check"
check_staple() { # check_staple CASE good|revoked
	local c=$1 out
	out=$(LD_PRELOAD="$FAKETIME_LIB" FAKETIME="@2026-06-01 00:00:00" TZ=UTC \
		openssl ocsp -respin "$T/ocsp/$c.der" -issuer "$T/ca/rev-ca/cert.pem" -cert "$T/leaves/$c/cert.pem" \
		-CAfile "$T/ca-bundle.pem" -verify_other "$T/ca/rev-ca/chain.pem" 2>&1 || true)
	echo "$out" | has 'Response verify OK' || fail "$c staple does not verify: $out"
	echo "$out" | has "cert.pem: $2" || fail "$c staple does not say $2: $out"
}
check_staple staple-good good
check_staple staple-revoked revoked
for n in 0203201340 0403227515; do
	[ $((97 - 10#${n:0:8} % 97)) -eq $((10#${n:8:2})) ] || fail "enterprise number $n has bad check digits"
done
n=0403227516
[ $((97 - 10#${n:0:8} % 97)) -ne $((10#${n:8:2})) ] || fail "enterprise number $n has good check digits"

# ---------------------------------------------------------------- cases.json
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
json_or_null() { if [ -n "$1" ]; then json_str "$1"; else printf 'null'; fi; }
{
	printf '{\n'
	printf '  "generated_by": "tests/pki/make-pki.sh",\n'
	printf '  "now": "%s",\n' "$NOW_RFC3339"
	printf '  "ocsp_url_base": %s,\n' "$(json_str "$OCSP_BASE")"
	printf '  "crl_url_base": %s,\n' "$(json_str "$CRL_BASE")"
	printf '  "ca_bundle": "ca-bundle.pem",\n  "ev_roots": "ev-roots.json",\n  "qwac_roots": "qwac-roots.pem",\n'
	printf '  "ocsp_responder": {"ca": "rev-ca", "url": %s, "index": "ca/rev-ca/index.txt", "ca_cert": "ca/rev-ca/cert.pem", "rsigner": "ca/rev-ca/ocsp.pem", "rkey": "ca/rev-ca/ocsp.key", "probe_request": "ocsp/probe.req", "faketime": "@%s", "this_update": "%s", "ndays": %d},\n' \
		"$(json_str "$OCSP_BASE/")" "$OCSP_AT" "${OCSP_AT/ /T}Z" "$OCSP_DAYS"
	printf '  "crl_server": {"url_base": %s, "dir": "crl"},\n' "$(json_str "$CRL_BASE")"
	printf '  "cases": {\n'
	i=0
	for c in "${CASES[@]}"; do
		i=$((i + 1))
		d="$T/leaves/$c"
		ca=$(cat "$d/ca")
		root=$(cat "$T/ca/$ca/root" 2>/dev/null || echo selfsigned)
		dns=$(openssl x509 -in "$d/cert.pem" -noout -ext subjectAltName | sed -n 's/^ *//; s/DNS://gp' | tail -n 1)
		host="$c.test"
		uhost=
		[ "$c" = idn ] && { host=xn--bcher-idn-q9a.test; uhost="bücher-idn.test"; }
		ocsp_url=; crl_url=; stp=
		ext_text "$d/cert.pem" | has 'OCSP - URI:' && ocsp_url="$OCSP_BASE/"
		crl_url=$(ext_text "$d/cert.pem" | sed -n 's/^ *URI:\(http.*\.crl\)$/\1/p' | head -n 1)
		[ -f "$T/ocsp/$c.der" ] && stp="ocsp/$c.der"
		status=good
		[ -f "$d/status" ] && status=$(cat "$d/status")
		printf '    %s: {"host": %s, "unicode_host": %s, "dns": [%s], "ca": "%s", "root": "%s", "profile": "%s",\n' \
			"$(json_str "$c")" "$(json_str "$host")" "$(json_or_null "$uhost")" \
			"$(echo "$dns" | sed 's/\([^, ][^,]*\)/"\1"/g')" "$ca" "$root" "$(cat "$d/profile")"
		printf '      "key": "leaves/%s/key.pem", "cert": "leaves/%s/cert.pem", "cert_der": "leaves/%s/cert.der", "chain": "leaves/%s/chain.pem", "fullchain": "leaves/%s/fullchain.pem",\n' \
			"$c" "$c" "$c" "$c" "$c"
		printf '      "not_before": "%s", "not_after": "%s",\n' \
			"$(date -u -d "$(openssl x509 -in "$d/cert.pem" -noout -startdate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" \
			"$(date -u -d "$(openssl x509 -in "$d/cert.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)"
		printf '      "ocsp_url": %s, "crl_url": %s, "staple": %s, "status_in_ca": "%s",\n' \
			"$(json_or_null "$ocsp_url")" "$(json_or_null "$crl_url")" "$(json_or_null "$stp")" "$status"
		printf '      "suggested_address": "127.0.1.%d", "suggested_port": 8443}' "$i"
		[ "$i" -lt "${#CASES[@]}" ] && printf ','
		printf '\n'
	done
	printf '  }\n}\n'
} >"$T/cases.json"

rm -rf "$T/tmp"
find "$T/ca" -name '*.old' -delete
rm -f "$T"/ca/*/req.csr "$T"/ca/*/ocsp.csr
printf '%s\n' "$STAMP_TEXT" >"$T/.complete"
touch "$T/.complete"
rm -rf "$OUT"
mv -T "$T" "$OUT"
trap - EXIT
echo "make-pki: done ($OUT)" >&2
