#!/bin/bash
# Generates the mail test PKI (a test Belgian eID PKI copying the real leaf
# profile of data/eid/testcard/, an ordinary S/MIME CA, a qualified CA) and the
# test messages signed with it into OUTDIR.
#
#   tests/mailpki/make-mailpki.sh OUTDIR            (e.g. build/mailpki)
#
# Environment (optional):
#   MAILPKI_OCSP_URL_BASE  base of the OCSP responder URL put in AIA,
#                          default http://127.0.0.1:18890 (URL = base + "/")
#   MAILPKI_HTTP_URL_BASE  base of the CRL distribution points and caIssuers
#                          URLs, default http://127.0.0.1:18891
#                          (URL = base + "/<ca>.crl", base + "/<ca>.crt")
#
# Idempotent: does nothing when OUTDIR/.complete is newer than this script
# and its two .cnf files and records the same URL bases. Otherwise builds
# into OUTDIR.tmp.PID and renames it into place (under a lock, so concurrent
# callers wait rather than race). openssl CLI only (plus coreutils, sed and
# libfaketime for fixed signing times). Every file is described in
# tests/mailpki/README.md; OUTDIR/cases.json describes the certificates,
# OUTDIR/mail/cases.json every message and what OpenSSL itself says of it.
#
# Time: every certificate has fixed absolute dates; every message is signed
# under libfaketime at a fixed moment; CRLs and OCSP answers are current
# around the evaluation time TRUSTLENS_NOW=2026-06-01T00:00:00Z.
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
REPO=$(cd "$here/../.." && pwd)

OCSP_BASE=${MAILPKI_OCSP_URL_BASE:-http://127.0.0.1:18890}
HTTP_BASE=${MAILPKI_HTTP_URL_BASE:-http://127.0.0.1:18891}
OCSP_BASE=${OCSP_BASE%/}
HTTP_BASE=${HTTP_BASE%/}
STAMP_TEXT="ocsp_url_base=$OCSP_BASE
http_url_base=$HTTP_BASE"

# The evaluation time the tests use and the fixed moments around it.
NOW_RFC3339=2026-06-01T00:00:00Z
CA_START=20200101000000Z          # roots and CAs: 2020-01-01 .. 2040-01-01
CA_END=20400101000000Z
LEAF_START=20250101000000Z        # leaves: 2025-01-01 .. 2030-01-01
LEAF_END=20300101000000Z
EXPIRED_START=20210101000000Z     # expired leaf: 2021-01-01 .. 2026-01-01
EXPIRED_END=20260101000000Z
CRL_LAST=20260501000000Z          # every CRL: 2026-05-01 .. 2026-07-01
CRL_NEXT=20260701000000Z
REVOKE_AT="2026-05-15 00:00:00"   # revocation time written to the CA index
OCSP_AT="2026-05-31 12:00:00"     # the responder's clock (thisUpdate)
OCSP_DAYS=30
SIGN_AT="2026-05-30 10:00:00"     # default signing time (and Date header)

is_complete() {
	local s="$OUT/.complete"
	[ -f "$s" ] && [ "$s" -nt "$self" ] && [ "$s" -nt "$CNF" ] && [ "$s" -nt "$EXT" ] &&
		[ "$(cat "$s")" = "$STAMP_TEXT" ]
}

if is_complete; then
	exit 0
fi

command -v openssl >/dev/null || { echo "make-mailpki: openssl not found" >&2; exit 1; }
FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	if [ -f "$f" ]; then FAKETIME_LIB=$f; break; fi
done
if [ -z "$FAKETIME_LIB" ]; then
	echo "make-mailpki: libfaketime not found (Debian package faketime, see installers/deps-debian.sh)" >&2
	exit 1
fi
TESTCARD=
for d in "$REPO/data/eid/testcard" "$REPO/../shared/data/eid/testcard"; do
	if [ -f "$d/59-signing.pem" ]; then TESTCARD=$d; break; fi
done
[ -n "$TESTCARD" ] || { echo "make-mailpki: data/eid/testcard/59-signing.pem not found" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
exec 9>"$OUT.lock"
flock 9
if is_complete; then   # built by a concurrent caller while we waited
	exit 0
fi

T="$OUT.tmp.$$"
rm -rf "$T"
mkdir -p "$T"/{ca,leaves,ocsp,www,tmp,mail/inner}
LOG="$T/make-mailpki.log"
# shellcheck disable=SC2154  # rc is assigned inside the trap
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "make-mailpki: failed; last lines of the log (kept in $OUT.failed.log):" >&2; tail -n 30 "$LOG" >&2; cp "$LOG" "$OUT.failed.log"; [ -n "${MAILPKI_KEEP_FAILED:-}" ] || rm -rf "$T"; fi' EXIT

export CA_DIR="$T/ca/unused" MAIL_EMAIL="unused@example.org"
export MAIL_CRL_URL="$HTTP_BASE/unused.crl" MAIL_CAISSUERS_URL="$HTTP_BASE/unused.crt" MAIL_OCSP_URL="$OCSP_BASE/"
export OPENSSL_CONF="$CNF"

run() { echo "+ $*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }
at_time() { # at_time "YYYY-MM-DD hh:mm:ss" cmd...: cmd with that wall clock (UTC)
	local when=$1; shift
	echo "+ [faketime $when] $*" >>"$LOG"
	LD_PRELOAD="$FAKETIME_LIB" FAKETIME="@$when" FAKETIME_DONT_RESET=1 TZ=UTC "$@" 2>>"$LOG"
}
fail() { echo "make-mailpki: $*" | tee -a "$LOG" >&2; exit 1; }

# RSA keys come from a pool generated in parallel at the start (RSA key
# generation is most of the run time).
RSA_POOL_SIZE=14
mkdir -p "$T/tmp/pool"
seq 1 "$RSA_POOL_SIZE" | xargs -P 4 -I{} openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$T/tmp/pool/{}.pem" 2>/dev/null
pool_next=0
new_key() { # new_key rsa|p256|p384 FILE
	case $1 in
	rsa)  pool_next=$((pool_next + 1))
	      [ -f "$T/tmp/pool/$pool_next.pem" ] || fail "RSA key pool exhausted (raise RSA_POOL_SIZE)"
	      mv "$T/tmp/pool/$pool_next.pem" "$2" ;;
	p256) run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
	p384) run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
	esac
}

ca_serial=0
init_ca_dir() { # init_ca_dir DIR [SERIAL_HEX]
	mkdir -p "$1/newcerts"
	: >"$1/index.txt"
	echo "unique_subject = no" >"$1/index.txt.attr"
	ca_serial=$((ca_serial + 1))
	if [ $# -ge 2 ]; then echo "$2" >"$1/serial"
	else printf '%X00000000000001\n' $((ca_serial + 15)) >"$1/serial"; fi   # 10.., 11.., ... per CA
	echo 1000 >"$1/crlnumber"
}

# sign PARENT_DIR CSR OUT_CERT EXT_SECTION START END [extra ca args]
sign() {
	local pdir=$1 csr=$2 out=$3 sect=$4 start=$5 end=$6
	shift 6
	CA_DIR=$pdir run openssl ca -batch -notext -preserveDN -config "$CNF" -extfile "$EXT" \
		-extensions "$sect" -startdate "$start" -enddate "$end" -in "$csr" -out "$out" "$@"
}

der_sha256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }

# URLs of a CA's CRL / certificate on the suite's HTTP server.
ca_urls() { # ca_urls CA: exports MAIL_CRL_URL, MAIL_CAISSUERS_URL for leaves of CA
	export MAIL_CRL_URL="$HTTP_BASE/$1.crl" MAIL_CAISSUERS_URL="$HTTP_BASE/$1.crt"
}

CA_NAMES=()
# make_root NAME KEYTYPE SUBJECT PROFILE
make_root() {
	local d="$T/ca/$1"
	init_ca_dir "$d"
	new_key "$2" "$d/key.pem"
	CA_DIR=$d run openssl req -new -config "$CNF" -key "$d/key.pem" -subj "$3" -out "$d/req.csr"
	CA_DIR=$d run openssl ca -batch -notext -preserveDN -config "$CNF" -selfsign -keyfile "$d/key.pem" \
		-extfile "$EXT" -extensions "$4" -startdate "$CA_START" -enddate "$CA_END" \
		-in "$d/req.csr" -out "$d/cert.pem"
	: >"$d/chain.pem"
	echo "$1" >"$d/root"
	CA_NAMES+=("$1")
}

# make_ca NAME PARENT KEYTYPE SUBJECT PROFILE
make_ca() {
	local d="$T/ca/$1" p="$T/ca/$2"
	init_ca_dir "$d"
	new_key "$3" "$d/key.pem"
	CA_DIR=$d run openssl req -new -config "$CNF" -key "$d/key.pem" -subj "$4" -out "$d/req.csr"
	ca_urls "$2"
	sign "$p" "$d/req.csr" "$d/cert.pem" "$5" "$CA_START" "$CA_END"
	cat "$d/cert.pem" "$p/chain.pem" >"$d/chain.pem"
	cp "$p/root" "$d/root"
	CA_NAMES+=("$1")
}

LEAVES=()
# make_leaf NAME CA KEYTYPE SUBJECT PROFILE [START END]
make_leaf() {
	local name=$1 ca=$2 kt=$3 subj=$4 prof=$5 start=${6:-$LEAF_START} end=${7:-$LEAF_END}
	local d="$T/leaves/$name" c="$T/ca/$ca"
	mkdir -p "$d"
	new_key "$kt" "$d/key.pem"
	run openssl req -new -config "$CNF" -key "$d/key.pem" -subj "$subj" -out "$d/req.csr"
	ca_urls "$ca"
	sign "$c" "$d/req.csr" "$d/cert.pem" "$prof" "$start" "$end"
	cp "$c/chain.pem" "$d/chain.pem"
	openssl x509 -in "$d/cert.pem" -outform DER -out "$d/cert.der"
	echo "$ca" >"$d/ca"
	echo "$prof" >"$d/profile"
	echo "$kt" >"$d/keytype"
	rm -f "$d/req.csr"
	LEAVES+=("$name")
}

revoke() { # revoke LEAF: marks it revoked (keyCompromise) at REVOKE_AT in its CA's index
	local d="$T/leaves/$1" ca
	ca=$(cat "$d/ca")
	CA_DIR="$T/ca/$ca" at_time "$REVOKE_AT" openssl ca -batch -config "$CNF" \
		-revoke "$d/cert.pem" -crl_reason keyCompromise >>"$LOG"
	echo revoked >"$d/status"
}

echo "make-mailpki: generating the mail test PKI and messages in $OUT" >&2

# ---------------------------------------------------------------- CAs
# Test eID: root, Citizen CA and Foreigner CA, named like the real test
# hierarchy ("Belgium Root CT3" / "Citizen CT") with a "-Test" suffix.
make_root eid-root rsa "/C=BE/CN=Belgium Root CT-Test" eid_root
make_ca citizen-ca eid-root rsa "/C=BE/CN=Citizen CT-Test/serialNumber=202601" eid_citizen_ca
make_ca foreigner-ca eid-root rsa "/C=BE/CN=Foreigner CT-Test/serialNumber=202602" eid_foreigner_ca
# The attacker's own self-signed "Citizen CA" (not under any trusted root).
make_root fake-citizen-ca p256 "/C=BE/CN=Citizen CA/serialNumber=201901" eid_fake_root
# A self-made twin of the real test card's issuer "C=BE, CN=Citizen CT,
# serialNumber=201211", to sign with a certificate whose issuer and serial
# number are those of data/eid/testcard/59-signing.pem (case realcard-swapped).
make_root twin-ca p256 "/C=BE/CN=Citizen CT/serialNumber=201211" eid_fake_root
# Ordinary S/MIME: a root (the anchor, TRUSTLENS_SMIME_CA_FILE), an issuing
# CA for e-mail certificates and a qualified CA.
make_root smime-root p256 "/C=BE/O=TrustLens Test/CN=TrustLens Test S\\/MIME Root" smime_root
make_ca smime-ca smime-root p256 "/C=BE/O=TrustLens Test/CN=TrustLens Test S\\/MIME CA" smime_ca
make_ca qualified-ca smime-root p256 "/C=BE/O=TrustLens Test QTSP/CN=TrustLens Test Qualified CA" smime_ca

# Delegated OCSP responder of the Citizen CA.
d="$T/ca/citizen-ca"
new_key p256 "$d/ocsp.key"
run openssl req -new -config "$CNF" -key "$d/ocsp.key" -subj "/C=BE/CN=Citizen CT-Test OCSP Responder" -out "$d/ocsp.csr"
sign "$d" "$d/ocsp.csr" "$d/ocsp.pem" ocsp_responder "$LEAF_START" "$LEAF_END"

# ---------------------------------------------------------------- leaves
# Fake national register numbers (YYMMDD SSS CC, CC = 97 - YYMMDDSSS mod 97).
RRN_ALICE=85073100130
RRN_LOTTE=90021412303
RRN_OMAR=78110526737
RRN_EVA=69123033804
RRN_RIK=92060645578
RRN_NORA=81020304429
RRN_MALLORY=87031708985
RRN_CAROL=73010109359     # inside Carol's ETSI identifier PNOBE-73010109359
for n in $RRN_ALICE $RRN_LOTTE $RRN_OMAR $RRN_EVA $RRN_RIK $RRN_NORA $RRN_MALLORY $RRN_CAROL; do
	[ $((97 - 10#${n:0:9} % 97)) -eq $((10#${n:9:2})) ] || fail "bad check digits in fake national number $n"
done

make_leaf alice-sig  citizen-ca rsa "/C=BE/CN=Alice Peeters (Signature)/SN=Peeters/GN=Alice Marie/serialNumber=$RRN_ALICE" eid_sig_citizen
make_leaf alice-auth citizen-ca rsa "/C=BE/CN=Alice Peeters (Authentication)/SN=Peeters/GN=Alice Marie/serialNumber=$RRN_ALICE" eid_auth_citizen
make_leaf lotte-sig  citizen-ca p384 "/C=BE/CN=Lotte Claes (Signature)/SN=Claes/GN=Lotte/serialNumber=$RRN_LOTTE" eid_sig_citizen
make_leaf omar-sig   foreigner-ca rsa "/C=BE/CN=Omar Haddad (Signature)/SN=Haddad/GN=Omar/serialNumber=$RRN_OMAR" eid_sig_foreigner
make_leaf eva-sig    citizen-ca rsa "/C=BE/CN=Eva Maes (Signature)/SN=Maes/GN=Eva/serialNumber=$RRN_EVA" eid_sig_citizen \
	"$EXPIRED_START" "$EXPIRED_END"
make_leaf rik-sig    citizen-ca rsa "/C=BE/CN=Rik Wouters (Signature)/SN=Wouters/GN=Rik/serialNumber=$RRN_RIK" eid_sig_citizen
make_leaf nora-sig   citizen-ca p384 "/C=BE/CN=Nora Jacobs (Signature)/SN=Jacobs/GN=Nora/serialNumber=$RRN_NORA" eid_sig_citizen_ocsp_only
make_leaf mallory-eid fake-citizen-ca rsa "/C=BE/CN=Mallory Peeters (Signature)/SN=Peeters/GN=Mallory/serialNumber=$RRN_MALLORY" eid_sig_fake
MAIL_EMAIL=bob@example.org \
make_leaf bob        smime-ca rsa "/CN=Bob Dupont" smime_leaf
MAIL_EMAIL=bob@example.org \
make_leaf bob-new    smime-ca rsa "/CN=Bob Dupont" smime_leaf
MAIL_EMAIL=carol@qualified.example \
make_leaf carol      qualified-ca rsa "/C=BE/CN=Carol Jacobs/SN=Jacobs/GN=Carol/serialNumber=PNOBE-$RRN_CAROL" qualified_leaf

# realcard-twin: subject, issuer name and serial number of the real test
# card's signature certificate, our own key (the real key does not exist
# here). Messages signed with it carry the real certificate instead of it.
REAL_SIG="$TESTCARD/59-signing.pem"
REAL_SERIAL=$(openssl x509 -in "$REAL_SIG" -noout -serial | cut -d= -f2)
REAL_SUBJ=$(openssl x509 -in "$REAL_SIG" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
# RFC 2253 lists the RDNs last first; -subj wants them first first.
REAL_SUBJ_SLASH=$(echo "$REAL_SUBJ" | tr ',' '\n' | tac | sed 's/^/\//' | tr -d '\n')
echo "$REAL_SERIAL" >"$T/ca/twin-ca/serial"
make_leaf realcard-twin twin-ca rsa "$REAL_SUBJ_SLASH" eid_sig_fake 20120322075900Z 20170301235959Z
[ "$(openssl x509 -in "$T/leaves/realcard-twin/cert.pem" -noout -serial)" = "serial=$REAL_SERIAL" ] ||
	fail "realcard-twin does not have the real serial number"

# ---------------------------------------------------------------- revocation
revoke rik-sig
revoke nora-sig
for ca in eid-root citizen-ca foreigner-ca smime-root smime-ca qualified-ca; do
	CA_DIR="$T/ca/$ca" run openssl ca -batch -config "$CNF" -gencrl -crl_lastupdate "$CRL_LAST" \
		-crl_nextupdate "$CRL_NEXT" -out "$T/ca/$ca/crl.pem"
	run openssl crl -in "$T/ca/$ca/crl.pem" -outform DER -out "$T/www/$ca.crl"
	openssl x509 -in "$T/ca/$ca/cert.pem" -outform DER -out "$T/www/$ca.crt"
done
cp "$T/ca/citizen-ca/index.txt" "$T/ocsp/index.txt"
# A ready-made OCSP request (alice-sig, no nonce): the suite POSTs it to
# learn that the responder is up (a bare TCP probe makes openssl ocsp 3.0 spin).
run openssl ocsp -issuer "$T/ca/citizen-ca/cert.pem" -cert "$T/leaves/alice-sig/cert.pem" -no_nonce \
	-reqout "$T/ocsp/probe.req"

# ---------------------------------------------------------------- trust files
cp "$T/ca/eid-root/cert.pem" "$T/eid-roots.pem"
cat "$T/ca/eid-root/cert.pem" "$TESTCARD/59-root.pem" >"$T/eid-roots-with-testcards.pem"
cp "$T/ca/smime-root/cert.pem" "$T/smime-ca.pem"
cat "$T/ca/eid-root/cert.pem" "$T/ca/smime-root/cert.pem" >"$T/tmp/all-anchors.pem"

# rrn.txt: every national register number the fixtures hold.
{
	printf '%s\n' $RRN_ALICE $RRN_LOTTE $RRN_OMAR $RRN_EVA $RRN_RIK $RRN_NORA $RRN_MALLORY $RRN_CAROL
	for f in "$TESTCARD"/*-signing.pem; do
		openssl x509 -in "$f" -noout -subject -nameopt multiline | sed -n 's/^ *serialNumber *= *//p'
	done
} | sort -u >"$T/rrn.txt"
grep -qx 67063029659 "$T/rrn.txt" || fail "the real test card's national number was not read"

# ---------------------------------------------------------------- messages
M="$T/mail"
E="$T/tmp/ent"
mkdir -p "$E"

rfcdate() { # rfcdate "YYYY-MM-DD hh:mm:ss" [UTC offset as +HHMM]: RFC 5322 date
	local off=${2:-+0000} tz=UTC
	case $off in
	+0200) tz=Etc/GMT-2 ;;
	-0500) tz=Etc/GMT+5 ;;
	esac
	TZ=$tz date -d "$1 UTC" '+%a, %d %b %Y %H:%M:%S %z'
}
rfc3339() { date -u -d "$1 UTC" +%Y-%m-%dT%H:%M:%SZ; }
to_crlf() { sed -i 's/\r*$/\r/' "$1"; }

# crlf_lines LINE...: the lines, each ending in CRLF
crlf_lines() { local l; for l in "$@"; do printf '%s\r\n' "$l"; done; }

# headers FROM SUBJECT DATE MSGID [EXTRA_HEADER...]: top-level header block
# (without MIME-Version/Content-Type and without the blank line)
headers() {
	local from=$1 subj=$2 date=$3 mid=$4
	shift 4
	crlf_lines "From: $from" "To: Jan Janssens <jan.janssens@example.be>" "Subject: $subj" "Date: $date"
	[ -n "$mid" ] && crlf_lines "Message-ID: <$mid>"
	[ $# -gt 0 ] && crlf_lines "$@"
	return 0
}

# Signed entities (each a complete MIME entity, CRLF, ending in CRLF).
ent_text() { # ent_text FILE LINE...: text/plain us-ascii 7bit
	local f=$1; shift
	{ crlf_lines "Content-Type: text/plain; charset=us-ascii" "Content-Transfer-Encoding: 7bit" ""; crlf_lines "$@"; } >"$f"
}
ent_text "$E/invoice.txt" "Hello Jan," "" "Please find below the details of invoice 2026-117." "" \
	"Amount due: 100 EUR" "Account: BE71 0961 2345 6769" "" "Kind regards," "Alice"
# The same, with a header inside the signed entity (for the tampered-header case).
{ crlf_lines "Content-Type: text/plain; charset=us-ascii" "Content-Transfer-Encoding: 7bit" \
	"Content-Description: Invoice 2026-117" ""
	crlf_lines "Hello Jan," "" "Invoice 2026-117 is due on 15 June." "" "Amount due: 100 EUR" "" "Alice"; } >"$E/described.txt"
ent_text "$E/minutes.txt" "Hello Jan," "" "The minutes of Tuesday's meeting are ready; comments by Friday please." "" "Lotte"
ent_text "$E/residence.txt" "Dear Jan," "" "I confirm my new address for the lease, as discussed." "" "Omar"
ent_text "$E/short.txt" "Hello Jan," "" "Signed with my identity card." "" "Regards"
ent_text "$E/bob.txt" "Hi Jan," "" "The quarterly figures are attached to the shared drive." "" "Bob"
ent_text "$E/carol.txt" "Dear Jan," "" "I approve the contract version 3 as sent on Monday." "" "Carol Jacobs"
ent_text "$E/forged.txt" "Hello Jan," "" "Change of plans: pay invoice 2026-117 to BE68 5390 0754 7034 today." "" "Alice"
# quoted-printable UTF-8 (with a soft line break and encoded accents)
{ crlf_lines "Content-Type: text/plain; charset=utf-8" "Content-Transfer-Encoding: quoted-printable" ""
	crlf_lines "Bonjour Jan," "" "Voici le r=C3=A9sum=C3=A9 de la r=C3=A9union de mardi. La prochaine r=C3=A9u=" \
		"nion aura lieu =C3=A0 Li=C3=A8ge le 12 juin." "" "Alice"; } >"$E/qp.txt"
# base64 UTF-8
{ crlf_lines "Content-Type: text/plain; charset=utf-8" "Content-Transfer-Encoding: base64" ""
	printf 'Hallo Jan,\r\n\r\nHierbij de bevestiging: de vergadering in Gent gaat door op 12 juni, caf\xc3\xa9 om 9 uur.\r\n\r\nAlice\r\n' |
		openssl base64 -e | sed 's/$/\r/'; } >"$E/b64.txt"
# HTML with one link, for the signed-links case
{ crlf_lines "Content-Type: text/html; charset=us-ascii" "Content-Transfer-Encoding: 7bit" ""
	crlf_lines "<html><body><p>Hello Jan,</p>" \
		"<p>Invoice 2026-117 is on <a href=\"https://www.example.be/invoices/2026-117\">our portal</a>.</p>" \
		"<p>Alice</p></body></html>"; } >"$E/html-link.txt"

# sign_smime OUT LEAF ENTITY AT [openssl cms args...]: openssl's own S/MIME
# output (multipart/signed unless -nodetach), CRLF, signed at AT.
sign_smime() {
	local out=$1 leaf=$2 ent=$3 at=$4
	shift 4
	local d="$T/leaves/$leaf" md=sha256 chain=()
	[ "$(cat "$d/keytype")" = p384 ] && md=sha384
	[ -s "$d/chain.pem" ] && chain=(-certfile "$d/chain.pem")
	at_time "$at" openssl cms -sign -binary -crlfeol -md "$md" -in "$ent" -signer "$d/cert.pem" \
		-inkey "$d/key.pem" "${chain[@]}" -outform SMIME -out "$out" "$@" >>"$LOG"
	to_crlf "$out"
}
# sign_der OUT LEAF ENTITY AT [openssl cms args...]: detached CMS, DER
sign_der() {
	local out=$1 leaf=$2 ent=$3 at=$4
	shift 4
	local d="$T/leaves/$leaf" md=sha256 chain=()
	[ "$(cat "$d/keytype")" = p384 ] && md=sha384
	[ -s "$d/chain.pem" ] && chain=(-certfile "$d/chain.pem")
	at_time "$at" openssl cms -sign -binary -md "$md" -in "$ent" -signer "$d/cert.pem" \
		-inkey "$d/key.pem" "${chain[@]}" -outform DER -out "$out" "$@" >>"$LOG"
}
# multipart_signed BOUNDARY ENTITY SIG_DER [PROTOCOL]: a multipart/signed
# entity assembled by hand (Content-Type header first)
multipart_signed() {
	local b=$1 ent=$2 sig=$3 proto=${4:-application/pkcs7-signature}
	crlf_lines "MIME-Version: 1.0" \
		"Content-Type: multipart/signed; protocol=\"$proto\"; micalg=sha-256;" \
		" boundary=\"$b\"" "" "This is a cryptographically signed message in MIME format." "" "--$b"
	cat "$ent"
	crlf_lines "" "--$b" "Content-Type: $proto; name=\"smime.p7s\"" "Content-Transfer-Encoding: base64" \
		"Content-Disposition: attachment; filename=\"smime.p7s\"" "Content-Description: S/MIME Cryptographic Signature" ""
	openssl base64 -e -in "$sig" | sed 's/$/\r/'
	crlf_lines "" "--$b--"
}

MSGS=()
declare -A M_DESC M_FORM M_SIGNER M_AT M_DATE M_FROM M_EXPECT M_VERIFY
# register NAME FORM SIGNER|- AT|- DATE FROM OPENSSL_EXPECT DESCRIPTION [VERIFY_FILE]
#   OPENSSL_EXPECT: what `openssl cms -verify` must say of the signed entity
#   at the signing time: ok, fail, or none (nothing OpenSSL can check).
register() {
	MSGS+=("$1")
	M_FORM[$1]=$2; M_SIGNER[$1]=$3; M_AT[$1]=$4; M_DATE[$1]=$5; M_FROM[$1]=$6
	M_EXPECT[$1]=$7; M_DESC[$1]=$8; M_VERIFY[$1]=${9:-$M/$1.eml}
}

DATE_DEF=$(rfcdate "$SIGN_AT")
ALICE="Alice Peeters <alice.peeters@example.be>"

# msg_signed NAME LEAF ENTITY FROM SUBJECT [AT [DATE [openssl cms args...]]]: headers
# + openssl's S/MIME output
msg_signed() {
	local name=$1 leaf=$2 ent=$3 from=$4 subj=$5 at=${6:-$SIGN_AT} date=${7:-}
	shift $(($# < 7 ? $# : 7))   # the rest: extra openssl cms arguments
	[ -n "$date" ] || date=$(rfcdate "$at")
	sign_smime "$T/tmp/$name.smime" "$leaf" "$ent" "$at" "$@"
	{ headers "$from" "$subj" "$date" "$name@mail.trustlens.test"; cat "$T/tmp/$name.smime"; } >"$M/$name.eml"
}

# --- eID-signed, detached, openssl's own output
msg_signed eid-citizen-rsa alice-sig "$E/invoice.txt" "$ALICE" "Invoice 2026-117"
register eid-citizen-rsa detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.peeters@example.be ok \
	"citizen signature certificate (RSA-2048), multipart/signed from openssl cms -sign, 7bit text"
msg_signed eid-citizen-ec lotte-sig "$E/minutes.txt" "Lotte Claes <lotte.claes@example.be>" "Minutes"
register eid-citizen-ec detached lotte-sig "$SIGN_AT" "$DATE_DEF" lotte.claes@example.be ok \
	"citizen signature certificate, EC P-384, ECDSA with SHA-384"
# openssl smime (the older command): protocol="application/x-pkcs7-signature";
# Date header with a +0200 offset (same instant as the signing time).
at_time "$SIGN_AT" openssl smime -sign -binary -md sha256 -in "$E/residence.txt" \
	-signer "$T/leaves/omar-sig/cert.pem" -inkey "$T/leaves/omar-sig/key.pem" \
	-certfile "$T/leaves/omar-sig/chain.pem" -out "$T/tmp/eid-foreigner.smime" >>"$LOG"
to_crlf "$T/tmp/eid-foreigner.smime"
{ headers "Omar Haddad <omar.haddad@example.be>" "New address" "$(rfcdate "$SIGN_AT" +0200)" eid-foreigner@mail.trustlens.test
	cat "$T/tmp/eid-foreigner.smime"; } >"$M/eid-foreigner.eml"
register eid-foreigner detached omar-sig "$SIGN_AT" "$(rfcdate "$SIGN_AT" +0200)" omar.haddad@example.be ok \
	"foreigner signature certificate, openssl smime -sign (application/x-pkcs7-signature), Date with +0200 offset"
msg_signed eid-citizen-auth alice-auth "$E/short.txt" "Alice Peeters <alice.auth@example.be>" "Signed with the authentication key"
register eid-citizen-auth detached alice-auth "$SIGN_AT" "$DATE_DEF" alice.auth@example.be ok \
	"citizen AUTHENTICATION certificate (digitalSignature, no QcCompliance): eID but not qualified"
msg_signed eid-opaque alice-sig "$E/invoice.txt" "Alice Peeters <alice.opaque@example.be>" "Invoice (opaque)" "$SIGN_AT" "" -nodetach
register eid-opaque opaque alice-sig "$SIGN_AT" "$DATE_DEF" alice.opaque@example.be ok \
	"opaque application/pkcs7-mime; smime-type=signed-data (openssl cms -sign -nodetach)"
msg_signed eid-qp alice-sig "$E/qp.txt" "Alice Peeters <alice.qp@example.be>" "=?UTF-8?Q?R=C3=A9sum=C3=A9?="
register eid-qp detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.qp@example.be ok \
	"quoted-printable UTF-8 body with a soft line break; RFC 2047 Subject"
msg_signed eid-base64 alice-sig "$E/b64.txt" "Alice Peeters <alice.b64@example.be>" "Bevestiging"
register eid-base64 detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.b64@example.be ok "base64 UTF-8 body"
# LF only: a CRLF message signed as usual, then every CRLF turned into LF.
msg_signed eid-lf-only alice-sig "$E/invoice.txt" "Alice Peeters <alice.lf@example.be>" "Invoice (LF)"
sed -i 's/\r$//' "$M/eid-lf-only.eml"
register eid-lf-only detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.lf@example.be ok \
	"eid-citizen-rsa shape with every CRLF turned into LF after signing (the host canonicalises)"

# --- mailing-list style: the signed message as the first part of a
# multipart/mixed, an unsigned footer appended.
list_wrap() { # list_wrap NAME INNER_SMIME FOOTER_FILE FROM SUBJECT
	local name=$1 inner=$2 footer=$3 from=$4 subj=$5 b=list-$1
	cp "$inner" "$M/inner/$name.eml"
	{ headers "$from" "[team] $subj" "$DATE_DEF" "$name@mail.trustlens.test" \
		"List-Id: Team <team.lists.example.org>" "MIME-Version: 1.0" "Content-Type: multipart/mixed; boundary=\"$b\""
		crlf_lines "" "--$b"
		grep -v '^MIME-Version:' "$inner"
		crlf_lines "" "--$b"
		cat "$footer"
		crlf_lines "--$b--"; } >"$M/$name.eml"
}
{ crlf_lines "Content-Type: text/plain; charset=us-ascii" "Content-Disposition: inline" ""
	crlf_lines "_______________________________________________" "Team mailing list" \
		"Digest mode and other settings: see the list's web page"; } >"$E/footer.txt"
{ crlf_lines "Content-Type: text/plain; charset=us-ascii" "Content-Disposition: inline" ""
	crlf_lines "_______________________________________________" "Team mailing list" \
		"To unsubscribe: https://lists.example.org/unsubscribe/team"; } >"$E/footer-link.txt"
sign_smime "$T/tmp/list-footer.smime" alice-sig "$E/invoice.txt" "$SIGN_AT"
list_wrap eid-list-footer "$T/tmp/list-footer.smime" "$E/footer.txt" "Alice Peeters <alice.list@example.be>" "Invoice 2026-117"
register eid-list-footer list-footer alice-sig "$SIGN_AT" "$DATE_DEF" alice.list@example.be ok \
	"multipart/mixed: [the signed multipart/signed, an unsigned text footer] (mailing list)" "$M/inner/eid-list-footer.eml"
sign_smime "$T/tmp/links-footer.smime" alice-sig "$E/html-link.txt" "$SIGN_AT"
list_wrap eid-links-footer "$T/tmp/links-footer.smime" "$E/footer-link.txt" "Alice Peeters <alice.links@example.be>" "Invoice on the portal"
register eid-links-footer list-footer alice-sig "$SIGN_AT" "$DATE_DEF" alice.links@example.be ok \
	"as eid-list-footer, with a link in the signed HTML and another in the unsigned footer" "$M/inner/eid-links-footer.eml"

# --- nested signatures
sign_smime "$T/tmp/nested-inner.smime" alice-sig "$E/invoice.txt" "$SIGN_AT"
grep -v '^MIME-Version:' "$T/tmp/nested-inner.smime" >"$E/nested-inner.txt"
msg_signed eid-nested-same alice-sig "$E/nested-inner.txt" "Alice Peeters <alice.nested@example.be>" "Invoice (signed twice)"
register eid-nested-same nested alice-sig "$SIGN_AT" "$DATE_DEF" alice.nested@example.be ok \
	"multipart/signed (alice) whose signed part is itself a multipart/signed (alice)"
msg_signed nested-bob-over-alice bob "$E/nested-inner.txt" "Bob Dupont <bob@example.org>" "Fwd: Invoice (countersigned)"
register nested-bob-over-alice nested bob "$SIGN_AT" "$DATE_DEF" bob@example.org ok \
	"outer multipart/signed by bob (S/MIME, From bob) around an inner one by alice (eID)"

# --- tampering
sed 's/Amount due: 100 EUR/Amount due: 900 EUR/' "$M/eid-citizen-rsa.eml" >"$M/tampered-body.eml"
sed -i 's/^Message-ID: <eid-citizen-rsa@/Message-ID: <tampered-body@/; s/^From: .*/From: Alice Peeters <alice.tb@example.be>\r/' "$M/tampered-body.eml"
cmp -s "$M/eid-citizen-rsa.eml" "$M/tampered-body.eml" && fail "tampered-body: nothing changed"
register tampered-body detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.tb@example.be fail \
	"eid-citizen-rsa with one byte of the signed body changed (100 EUR -> 900 EUR)"
msg_signed tampered-header-src alice-sig "$E/described.txt" "Alice Peeters <alice.th@example.be>" "Invoice 2026-117"
sed 's/^Content-Description: Invoice 2026-117/Content-Description: Invoice 2026-118/; s/^Message-ID: <tampered-header-src@/Message-ID: <tampered-header@/' \
	"$M/tampered-header-src.eml" >"$M/tampered-header.eml"
rm -f "$M/tampered-header-src.eml"
grep -q '^Content-Description: Invoice 2026-118' "$M/tampered-header.eml" || fail "tampered-header: nothing changed"
register tampered-header detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.th@example.be fail \
	"a header inside the signed part changed by one byte (Content-Description)"
# one byte of the RSA signature value flipped
sign_der "$T/tmp/tsig.der" alice-sig "$E/invoice.txt" "$SIGN_AT"
off=$(openssl asn1parse -inform DER -in "$T/tmp/tsig.der" | grep 'prim: OCTET STRING' | grep 'l= 256' | tail -n 1 |
	sed -n 's/^ *\([0-9]*\):.*hl= *\([0-9]*\).*/\1 \2/p')
[ -n "$off" ] || fail "tampered-signature: no 256-byte signature value found"
set -- $off
pos=$(($1 + $2 + 100))
byte=$(od -An -tu1 -j "$pos" -N1 "$T/tmp/tsig.der" | tr -d ' ')
printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$T/tmp/tsig.der" bs=1 seek="$pos" conv=notrunc status=none
{ headers "Alice Peeters <alice.ts@example.be>" "Invoice 2026-117" "$DATE_DEF" tampered-signature@mail.trustlens.test
	multipart_signed sig-ts "$E/invoice.txt" "$T/tmp/tsig.der"; } >"$M/tampered-signature.eml"
register tampered-signature detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.ts@example.be fail \
	"one bit of the signature value (RSA) flipped; content and signed attributes intact"

# --- SignerInfo count, eContent, algorithms, attributes
# (openssl cms keeps only the last -certfile: one file with both chains)
cat "$T/leaves/alice-sig/chain.pem" "$T/leaves/bob/chain.pem" >"$T/tmp/two-chains.pem"
at_time "$SIGN_AT" openssl cms -sign -binary -crlfeol -md sha256 -in "$E/invoice.txt" \
	-signer "$T/leaves/alice-sig/cert.pem" -inkey "$T/leaves/alice-sig/key.pem" \
	-signer "$T/leaves/bob/cert.pem" -inkey "$T/leaves/bob/key.pem" \
	-certfile "$T/tmp/two-chains.pem" -outform SMIME -out "$T/tmp/two.smime" >>"$LOG"
to_crlf "$T/tmp/two.smime"
{ headers "Alice Peeters <alice.two@example.be>" "Invoice 2026-117" "$DATE_DEF" two-signers@mail.trustlens.test; cat "$T/tmp/two.smime"; } >"$M/two-signers.eml"
register two-signers detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.two@example.be ok \
	"two SignerInfos (alice and bob, openssl cms -sign with two -signer), both valid"
# zero SignerInfos: a degenerate SignedData (openssl crl2pkcs7: certificates,
# no signers) as the signature of a multipart/signed
cat "$T/leaves/alice-sig/cert.pem" "$T/leaves/alice-sig/chain.pem" >"$T/tmp/alice-full.pem"
run openssl crl2pkcs7 -nocrl -certfile "$T/tmp/alice-full.pem" \
	-outform DER -out "$T/tmp/zero.der"
{ headers "Alice Peeters <alice.zero@example.be>" "Invoice 2026-117" "$DATE_DEF" zero-signers@mail.trustlens.test
	multipart_signed sig-zero "$E/invoice.txt" "$T/tmp/zero.der"; } >"$M/zero-signers.eml"
register zero-signers detached - - "$DATE_DEF" alice.zero@example.be fail \
	"SignedData with an empty signerInfos SET (openssl crl2pkcs7 -nocrl), alice's certificates included"
# eContent beside detached content: alice's genuine OPAQUE signature of the
# invoice put as the signature of a multipart/signed whose first part is a
# forged text.
at_time "$SIGN_AT" openssl cms -sign -binary -nodetach -md sha256 -in "$E/invoice.txt" \
	-signer "$T/leaves/alice-sig/cert.pem" -inkey "$T/leaves/alice-sig/key.pem" \
	-certfile "$T/leaves/alice-sig/chain.pem" -outform DER -out "$T/tmp/econtent.der" >>"$LOG"
{ headers "Alice Peeters <alice.ec@example.be>" "Invoice 2026-117: new account" "$DATE_DEF" econtent-and-detached@mail.trustlens.test
	multipart_signed sig-ec "$E/forged.txt" "$T/tmp/econtent.der"; } >"$M/econtent-and-detached.eml"
register econtent-and-detached detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.ec@example.be fail \
	"multipart/signed whose first part is a forged text and whose signature is alice's genuine opaque CMS (with eContent) of another text"
# The same with the detached part identical to the eContent: OpenSSL uses the
# detached content and accepts; the host must refuse the ambiguity all the same.
{ headers "Alice Peeters <alice.ec2@example.be>" "Invoice 2026-117" "$DATE_DEF" econtent-and-detached-same@mail.trustlens.test
	multipart_signed sig-ec2 "$E/invoice.txt" "$T/tmp/econtent.der"; } >"$M/econtent-and-detached-same.eml"
register econtent-and-detached-same detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.ec2@example.be ok \
	"multipart/signed whose signature is an opaque CMS (with eContent) of exactly the text of the first part"
msg_signed sha1 alice-sig "$E/invoice.txt" "Alice Peeters <alice.sha1@example.be>" "Invoice 2026-117" "$SIGN_AT" "" -md sha1
register sha1 detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.sha1@example.be ok "digest SHA-1 (openssl cms -sign -md sha1)"
msg_signed no-signed-attrs alice-sig "$E/invoice.txt" "Alice Peeters <alice.noattr@example.be>" "Invoice 2026-117" "$SIGN_AT" "" -noattr
register no-signed-attrs detached alice-sig - "$DATE_DEF" alice.noattr@example.be ok \
	"no signed attributes at all (openssl cms -sign -noattr): no messageDigest, no signingTime"

# --- time
msg_signed signing-time-differs alice-sig "$E/invoice.txt" "Alice Peeters <alice.late@example.be>" "Invoice 2026-117" \
	"2026-05-30 14:00:00" "$DATE_DEF"
register signing-time-differs detached alice-sig "2026-05-30 14:00:00" "$DATE_DEF" alice.late@example.be ok \
	"signingTime 4 hours after the Date header"
msg_signed expired-signed-while-valid eva-sig "$E/short.txt" "Eva Maes <eva.maes@example.be>" "Old mail" "2025-12-15 10:00:00"
register expired-signed-while-valid detached eva-sig "2025-12-15 10:00:00" "$(rfcdate "2025-12-15 10:00:00")" eva.maes@example.be ok \
	"signed 2025-12-15 by a certificate that expired 2026-01-01 (evaluated 2026-06-01)"
msg_signed expired-signed-after-expiry eva-sig "$E/short.txt" "Eva Maes <eva.late@example.be>" "Late mail" "2026-03-02 10:00:00"
register expired-signed-after-expiry detached eva-sig "2026-03-02 10:00:00" "$(rfcdate "2026-03-02 10:00:00")" eva.late@example.be fail \
	"signed 2026-03-02 by a certificate that expired 2026-01-01"
msg_signed revoked-before-signing rik-sig "$E/short.txt" "Rik Wouters <rik.wouters@example.be>" "After revocation" "2026-05-20 10:00:00"
register revoked-before-signing detached rik-sig "2026-05-20 10:00:00" "$(rfcdate "2026-05-20 10:00:00")" rik.wouters@example.be ok \
	"signed 2026-05-20 by a certificate revoked 2026-05-15 (CRL and OCSP say revoked)"
msg_signed revoked-after-signing rik-sig "$E/short.txt" "Rik Wouters <rik.early@example.be>" "Before revocation" "2026-05-01 10:00:00"
register revoked-after-signing detached rik-sig "2026-05-01 10:00:00" "$(rfcdate "2026-05-01 10:00:00")" rik.early@example.be ok \
	"signed 2026-05-01 by a certificate revoked later, 2026-05-15"
msg_signed revoked-ocsp-only nora-sig "$E/short.txt" "Nora Jacobs <nora.jacobs@example.be>" "After revocation" "2026-05-20 10:00:00"
register revoked-ocsp-only detached nora-sig "2026-05-20 10:00:00" "$(rfcdate "2026-05-20 10:00:00")" nora.jacobs@example.be ok \
	"signed 2026-05-20 by a certificate revoked 2026-05-15 whose only status source is OCSP (AIA, no CRL DP)"

# --- trust
cp "$T/ca/fake-citizen-ca/cert.pem" "$T/leaves/mallory-eid/chain.pem"   # the fake CA travels in the message
msg_signed eid-untrusted mallory-eid "$E/invoice.txt" "Alice Peeters <alice.fake@example.be>" "Invoice 2026-117"
register eid-untrusted detached mallory-eid "$SIGN_AT" "$DATE_DEF" alice.fake@example.be fail \
	"eID-shaped signature certificate under a self-made 'Citizen CA' (not under the test root), CA included in the message"
cat "$REAL_SIG" "$TESTCARD/59-citizenca.pem" >"$T/tmp/realcard-certs.pem"
# The real test card certificate: signed with the twin key, but the message
# carries the REAL certificate (59-signing.pem) and its CA, not the twin.
at_time "2015-06-01 10:00:00" openssl cms -sign -binary -crlfeol -md sha256 -in "$E/short.txt" \
	-signer "$T/leaves/realcard-twin/cert.pem" -inkey "$T/leaves/realcard-twin/key.pem" -nocerts \
	-certfile "$T/tmp/realcard-certs.pem" -outform SMIME -out "$T/tmp/realcard.smime" >>"$LOG"
to_crlf "$T/tmp/realcard.smime"
{ headers "Martine Lampaert <martine.lampaert@example.be>" "Test card" "$(rfcdate "2015-06-01 10:00:00")" realcard-swapped@mail.trustlens.test
	cat "$T/tmp/realcard.smime"; } >"$M/realcard-swapped.eml"
register realcard-swapped detached realcard-twin "2015-06-01 10:00:00" "$(rfcdate "2015-06-01 10:00:00")" martine.lampaert@example.be fail \
	"signed 2015-06-01 with a key of our own; carries the REAL test card certificate 59-signing.pem (same issuer and serial) and Citizen CT: the signature cannot verify"

# --- ordinary S/MIME and qualified
msg_signed smime-bob bob "$E/bob.txt" "Bob Dupont <bob@example.org>" "Quarterly figures"
register smime-bob detached bob "$SIGN_AT" "$DATE_DEF" bob@example.org ok "ordinary S/MIME certificate, From matches its e-mail address"
msg_signed qualified-carol carol "$E/carol.txt" "Carol Jacobs <carol@qualified.example>" "Contract v3"
register qualified-carol detached carol "$SIGN_AT" "$DATE_DEF" carol@qualified.example ok \
	"qualified certificate (QcCompliance, nonRepudiation) that is not an eID card, From matches"
smime_from_case() { # smime_from_case NAME FROM_HEADER_LINES... -- DESCRIPTION FIRST_FROM
	local name=$1; shift
	local hl=()
	while [ "$1" != -- ]; do hl+=("$1"); shift; done
	shift
	local desc=$1 first=$2
	sign_smime "$T/tmp/$name.smime" bob "$E/bob.txt" "$SIGN_AT"
	{ crlf_lines "${hl[@]}"
		crlf_lines "To: Jan Janssens <jan.janssens@example.be>" "Subject: Quarterly figures" "Date: $DATE_DEF" \
			"Message-ID: <$name@mail.trustlens.test>"
		cat "$T/tmp/$name.smime"; } >"$M/$name.eml"
	register "$name" detached bob "$SIGN_AT" "$DATE_DEF" "$first" ok "$desc"
}
smime_from_case smime-from-mismatch "From: Mallory <mallory@example.org>" -- \
	"signed by bob's certificate (bob@example.org), From mallory@example.org" mallory@example.org
smime_from_case display-name-trick "From: \"bob@example.org\" <mallory@evil.example>" -- \
	"display name spells bob's address, the address is mallory@evil.example" mallory@evil.example
smime_from_case rfc2047-from "From: =?UTF-8?Q?Bob_D=C3=BCpont?= <bob@example.org>" -- \
	"RFC 2047 encoded display name (UTF-8 Q), address bob@example.org: matches" bob@example.org
smime_from_case rfc2047-from-trick "From: =?UTF-8?B?Ym9iQGV4YW1wbGUub3Jn?= <mallory@evil.example>" -- \
	"RFC 2047 encoded display name decoding to bob@example.org, the address is mallory@evil.example" mallory@evil.example
smime_from_case several-from-list "From: Bob Dupont <bob@example.org>, Mallory <mallory@evil.example>" -- \
	"one From field with two addresses (bob first)" bob@example.org
smime_from_case several-from-fields "From: Bob Dupont <bob@example.org>" "From: Mallory <mallory@evil.example>" -- \
	"two From fields (bob first)" bob@example.org
smime_from_case sender-differs "From: Bob Dupont <bob@example.org>" "Sender: Mallory <mallory@evil.example>" -- \
	"From bob@example.org, Sender mallory@evil.example" bob@example.org

# --- unsigned, unsupported
{ headers "Dave Martin <dave@example.net>" "Lunch on Friday?" "$DATE_DEF" unsigned-plain@mail.trustlens.test \
	"MIME-Version: 1.0" "Content-Type: text/plain; charset=us-ascii" "Content-Transfer-Encoding: 7bit"
	crlf_lines "" "Hi Jan," "" "Lunch on Friday at noon?" "" "Dave"; } >"$M/unsigned-plain.eml"
register unsigned-plain unsigned - - "$DATE_DEF" dave@example.net none "plain text, no signature"
{ headers "Your Bank <security@bank-alerts.example>" "Action required" "$DATE_DEF" unsigned-html-links@mail.trustlens.test \
	"MIME-Version: 1.0" "Content-Type: text/html; charset=us-ascii" "Content-Transfer-Encoding: 7bit"
	crlf_lines "" "<html><body><p>Dear customer,</p>" \
		"<p>Please <a href=\"https://bank.example.com/login\">log in</a> to confirm your account,</p>" \
		"<p>or <a href=\"http://203.0.113.7/verify\">verify here</a>.</p></body></html>"; } >"$M/unsigned-html-links.eml"
register unsigned-html-links unsigned - - "$DATE_DEF" security@bank-alerts.example none "HTML with two links, no signature"
# A forwarded signed mail as message/rfc822 attachment of an unsigned mail.
{ headers "Dave Martin <dave.fwd@example.net>" "Fwd: Invoice 2026-117" "$DATE_DEF" forwarded-signed-attachment@mail.trustlens.test \
	"MIME-Version: 1.0" "Content-Type: multipart/mixed; boundary=\"fwd-outer\""
	crlf_lines "" "--fwd-outer" "Content-Type: text/plain; charset=us-ascii" "" "Jan, see the forwarded invoice below." "Dave" "" \
		"--fwd-outer" "Content-Type: message/rfc822" "Content-Disposition: attachment; filename=\"invoice.eml\"" ""
	cat "$M/eid-citizen-rsa.eml"
	crlf_lines "" "--fwd-outer--"; } >"$M/forwarded-signed-attachment.eml"
cp "$M/eid-citizen-rsa.eml" "$M/inner/forwarded-signed-attachment.eml"
register forwarded-signed-attachment forwarded alice-sig "$SIGN_AT" "$DATE_DEF" dave.fwd@example.net ok \
	"unsigned mail from dave carrying eid-citizen-rsa.eml as a message/rfc822 attachment" "$M/inner/forwarded-signed-attachment.eml"
# PGP/MIME (fake signature bytes)
{ headers "Erik Peeters <erik@example.net>" "PGP signed" "$DATE_DEF" pgp-signed@mail.trustlens.test "MIME-Version: 1.0" \
	"Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"pgp-b\""
	crlf_lines "" "--pgp-b"; cat "$E/short.txt"
	crlf_lines "" "--pgp-b" "Content-Type: application/pgp-signature; name=\"signature.asc\"" \
		"Content-Disposition: attachment; filename=\"signature.asc\"" "" "-----BEGIN PGP SIGNATURE-----" "" \
		"iHUEARYIAB0WIQRUZXN0IG9ubHksIG5vdCBhIHJlYWwgc2lnbmF0dXJlLgAKCRBU" "ZXN0IG9ubHkgZmFrZSBzaWduYXR1cmUgYnl0ZXM=" \
		"=TEST" "-----END PGP SIGNATURE-----" "" "--pgp-b--"; } >"$M/pgp-signed.eml"
register pgp-signed pgp - - "$DATE_DEF" erik@example.net none "multipart/signed with protocol application/pgp-signature (fake signature bytes)"
run openssl cms -encrypt -aes256 -binary -crlfeol -in "$E/short.txt" -outform SMIME -out "$T/tmp/enc.smime" "$T/leaves/bob/cert.pem"
to_crlf "$T/tmp/enc.smime"
{ headers "Alice Peeters <alice.enc@example.be>" "Encrypted" "$DATE_DEF" encrypted@mail.trustlens.test; cat "$T/tmp/enc.smime"; } >"$M/encrypted.eml"
register encrypted encrypted - - "$DATE_DEF" alice.enc@example.be none "S/MIME enveloped-data (openssl cms -encrypt to bob), not signed"

# --- size and structure limits
# 25,000,000 bytes of deterministic pseudo-random data as a base64 attachment
# of a signed multipart/mixed.
BIG_RAW=25000000
{ crlf_lines "Content-Type: multipart/mixed; boundary=\"big-b\"" "" "--big-b" \
	"Content-Type: text/plain; charset=us-ascii" "" "Hello Jan, the scans are attached." "" "Alice" "" "--big-b" \
	"Content-Type: application/octet-stream; name=\"scans.bin\"" "Content-Transfer-Encoding: base64" \
	"Content-Disposition: attachment; filename=\"scans.bin\"" ""
	head -c "$BIG_RAW" /dev/zero | openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
		-iv 00000000000000000000000000000000 | openssl base64 -e | sed 's/$/\r/'
	crlf_lines "--big-b--"; } >"$E/big.txt"
sign_der "$T/tmp/big.der" alice-sig "$E/big.txt" "$SIGN_AT"
{ headers "Alice Peeters <alice.big@example.be>" "Scans" "$DATE_DEF" big-25mb@mail.trustlens.test
	multipart_signed sig-big "$E/big.txt" "$T/tmp/big.der"; } >"$M/big-25mb.eml"
register big-25mb detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.big@example.be ok \
	"signed multipart/mixed with a 25,000,000-byte base64 attachment (message about 34 MB)"
# 1,000 nested multipart/mixed around one text part
nest() { # nest N: the entity
	local i
	for ((i = 1; i <= $1; i++)); do
		crlf_lines "Content-Type: multipart/mixed; boundary=\"n$i\"" "" "--n$i"
	done
	crlf_lines "Content-Type: text/plain; charset=us-ascii" "" "Deep down."
	for ((i = $1; i >= 1; i--)); do
		crlf_lines "--n$i--"
	done
}
nest 1000 >"$E/nest.txt"
{ headers "Dave Martin <dave.deep@example.net>" "Deep" "$DATE_DEF" nested-1000-unsigned@mail.trustlens.test "MIME-Version: 1.0"
	cat "$E/nest.txt"; } >"$M/nested-1000-unsigned.eml"
register nested-1000-unsigned unsigned - - "$DATE_DEF" dave.deep@example.net none "1,000 nested multipart/mixed, no signature"
msg_signed nested-1000-signed alice-sig "$E/nest.txt" "Alice Peeters <alice.deep@example.be>" "Deep"
register nested-1000-signed detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.deep@example.be ok \
	"multipart/signed (alice, valid) whose signed part holds 1,000 nested multipart/mixed"
# truncated: eid-citizen-rsa cut in the middle of the signature part
sz=$(stat -c %s "$M/eid-citizen-rsa.eml")
head -c $((sz * 2 / 3)) "$M/eid-citizen-rsa.eml" | sed 's/^Message-ID: <eid-citizen-rsa@/Message-ID: <truncated@/; s/^From: .*/From: Alice Peeters <alice.cut@example.be>\r/' >"$M/truncated.eml"
register truncated detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.cut@example.be fail \
	"eid-citizen-rsa cut at two thirds, inside the base64 of the signature (no closing boundary)"
# garbage: 64 KiB of deterministic pseudo-random bytes
head -c 65536 /dev/zero | openssl enc -aes-128-ctr -nosalt -K 0f0e0d0c0b0a09080706050403020100 \
	-iv 00000000000000000000000000000001 >"$M/garbage.eml"
register garbage garbage - - - - none "65,536 pseudo-random bytes"

# --- history
msg_signed hist-alice-signed alice-sig "$E/short.txt" "Alice Peeters <alice.hist@example.be>" "Signed as usual"
register hist-alice-signed detached alice-sig "$SIGN_AT" "$DATE_DEF" alice.hist@example.be ok "history: alice.hist signed"
{ headers "Alice Peeters <alice.hist@example.be>" "Not signed this time" "$DATE_DEF" hist-alice-unsigned@mail.trustlens.test \
	"MIME-Version: 1.0" "Content-Type: text/plain; charset=us-ascii"
	crlf_lines "" "Hello Jan," "" "Please pay invoice 2026-117 to BE68 5390 0754 7034." "" "Alice"; } >"$M/hist-alice-unsigned.eml"
register hist-alice-unsigned unsigned - - "$DATE_DEF" alice.hist@example.be none "history: alice.hist, unsigned"
msg_signed hist-bob-cert1 bob "$E/bob.txt" "Bob Dupont <bob@example.org>" "Figures (1)"
register hist-bob-cert1 detached bob "$SIGN_AT" "$DATE_DEF" bob@example.org ok "history: bob signed with his certificate"
msg_signed hist-bob-cert2 bob-new "$E/bob.txt" "Bob Dupont <bob@example.org>" "Figures (2)"
register hist-bob-cert2 detached bob-new "$SIGN_AT" "$DATE_DEF" bob@example.org ok \
	"history: bob signed with another valid certificate for bob@example.org (new key)"
for i in 1 2; do
	{ crlf_lines "From: Dave Martin <dave.nomid@example.net>" "To: Jan Janssens <jan.janssens@example.be>" \
		"Subject: No Message-ID $i" "Date: $DATE_DEF" "MIME-Version: 1.0" "Content-Type: text/plain; charset=us-ascii"
		crlf_lines "" "Message number $i, without a Message-ID."; } >"$M/hist-no-msgid-$i.eml"
	register "hist-no-msgid-$i" unsigned - - "$DATE_DEF" dave.nomid@example.net none "history: no Message-ID header ($i)"
done

# ---------------------------------------------------------------- self-checks
NOW_EPOCH=$(date -u -d "$NOW_RFC3339" +%s)
ext_text() { openssl x509 -in "$1" -noout -text; }
# profiles as the real cards
for l in alice-sig lotte-sig omar-sig eva-sig rik-sig nora-sig; do
	t=$(ext_text "$T/leaves/$l/cert.pem")
	echo "$t" | grep -A1 'Key Usage: critical' | has -x ' *Non Repudiation' || fail "$l: keyUsage is not nonRepudiation only"
	echo "$t" | has 'Extended Key Usage' && fail "$l has an EKU"
	echo "$t" | has 'email:' && fail "$l has an e-mail address"
	echo "$t" | has 'Subject Key Identifier' && fail "$l has a SKI (the real leaves have none)"
	off=$(openssl asn1parse -inform DER -in "$T/leaves/$l/cert.der" | grep -A1 ':qcStatements' | sed -n 's/^ *\([0-9]*\):.*OCTET STRING.*/\1/p')
	[ -n "$off" ] || fail "$l has no qcStatements"
	openssl asn1parse -inform DER -in "$T/leaves/$l/cert.der" -strparse "$off" | has ':0.4.0.1862.1.1$' || fail "$l: no QcCompliance"
done
ext_text "$T/leaves/alice-auth/cert.pem" | grep -A1 'Key Usage: critical' | has -x ' *Digital Signature' || fail "alice-auth: keyUsage"
ext_text "$T/leaves/alice-auth/cert.pem" | has 'qcStatements' && fail "alice-auth has qcStatements"
ext_text "$T/leaves/alice-auth/cert.pem" | has 'Policy: 2.16.56.12.1.1.2.2$' || fail "alice-auth: policy"
ext_text "$T/leaves/alice-sig/cert.pem" | has 'Policy: 2.16.56.12.1.1.2.1$' || fail "alice-sig: policy"
ext_text "$T/leaves/omar-sig/cert.pem" | has 'Policy: 2.16.56.12.1.1.7.1$' || fail "omar-sig: policy"
ext_text "$T/leaves/lotte-sig/cert.pem" | has 'NIST CURVE: P-384' || fail "lotte-sig is not P-384"
ext_text "$T/leaves/alice-sig/cert.pem" | has "OCSP - URI:$OCSP_BASE/" || fail "alice-sig: no OCSP URL"
ext_text "$T/leaves/alice-sig/cert.pem" | has "URI:$HTTP_BASE/citizen-ca.crl" || fail "alice-sig: no CRL DP"
ext_text "$T/leaves/nora-sig/cert.pem" | has 'CRL Distribution' && fail "nora-sig has a CRL DP"
ext_text "$T/leaves/bob/cert.pem" | has 'email:bob@example.org' || fail "bob: no e-mail"
ext_text "$T/leaves/bob/cert.pem" | has 'E-mail Protection' || fail "bob: no emailProtection"
ext_text "$T/leaves/carol/cert.pem" | has 'email:carol@qualified.example' || fail "carol: no e-mail"
# the subject order and serialNumber of the real card
openssl x509 -in "$T/leaves/alice-sig/cert.pem" -noout -subject -nameopt RFC2253 |
	has -x "subject=serialNumber=$RRN_ALICE,GN=Alice Marie,SN=Peeters,CN=Alice Peeters (Signature),C=BE" ||
	fail "alice-sig: subject is not in the real cards' shape"
# chains at the evaluation time
vfy() { # vfy LEAF EPOCH [extra]: openssl verify with the suite's anchors
	local d="$T/leaves/$1" u=()
	[ -s "$d/chain.pem" ] && u=(-untrusted "$d/chain.pem")
	openssl verify -attime "$2" -CAfile "$T/tmp/all-anchors.pem" "${u[@]}" -purpose smimesign "$d/cert.pem" 2>&1
}
vfy_msg() { vfy "$@" || true; }
for l in alice-sig alice-auth lotte-sig omar-sig rik-sig nora-sig bob bob-new carol; do
	vfy "$l" "$NOW_EPOCH" >/dev/null || fail "$l does not verify at $NOW_RFC3339: $(vfy "$l" "$NOW_EPOCH")"
done
vfy_msg eva-sig "$NOW_EPOCH" | has 'certificate has expired' || fail "eva-sig is not expired"
vfy eva-sig "$(date -u -d 2025-12-15 +%s)" >/dev/null || fail "eva-sig is not valid on 2025-12-15"
vfy_msg mallory-eid "$NOW_EPOCH" | has -E 'self-signed certificate in certificate chain|unable to get local issuer' || fail "mallory-eid chains"
for l in rik-sig nora-sig; do
	out=$(openssl verify -attime "$NOW_EPOCH" -crl_check -CAfile "$T/tmp/all-anchors.pem" -untrusted "$T/leaves/$l/chain.pem" \
		-CRLfile "$T/ca/citizen-ca/crl.pem" "$T/leaves/$l/cert.pem" 2>&1 || true)
	echo "$out" | has 'certificate revoked' || fail "$l is not revoked by the CRL"
done
grep -q '^R.*260515000000Z' "$T/ocsp/index.txt" || fail "no revocation at 2026-05-15 in the Citizen CA index"
openssl crl -in "$T/ca/citizen-ca/crl.pem" -noout -text | has 'Revocation Date: May 15 00:00:00 2026 GMT' ||
	fail "the Citizen CA CRL does not list the revocation at 2026-05-15"
# a responder answer, offline (the live responder is the suite's)
run openssl ocsp -issuer "$T/ca/citizen-ca/cert.pem" -cert "$T/leaves/rik-sig/cert.pem" -no_nonce -reqout "$T/tmp/rik.req"
at_time "$OCSP_AT" openssl ocsp -index "$T/ocsp/index.txt" -rsigner "$T/ca/citizen-ca/ocsp.pem" -rkey "$T/ca/citizen-ca/ocsp.key" \
	-CA "$T/ca/citizen-ca/cert.pem" -reqin "$T/tmp/rik.req" -respout "$T/tmp/rik.resp" -ndays "$OCSP_DAYS" >>"$LOG"
out=$(LD_PRELOAD="$FAKETIME_LIB" FAKETIME="@2026-06-01 00:00:00" TZ=UTC openssl ocsp -respin "$T/tmp/rik.resp" \
	-issuer "$T/ca/citizen-ca/cert.pem" -cert "$T/leaves/rik-sig/cert.pem" -CAfile "$T/eid-roots.pem" \
	-verify_other "$T/ca/citizen-ca/chain.pem" 2>&1 || true)
echo "$out" | has 'Response verify OK' || fail "OCSP response does not verify: $out"
echo "$out" | has 'cert.pem: revoked' || fail "OCSP does not say revoked: $out"

# What OpenSSL itself says of each signed entity: openssl cms -verify with
# every anchor (eID test root, S/MIME root, and the real test root), at the
# signing time and at the evaluation time. -purpose any: the key usage of the
# eID signature certificates (nonRepudiation only) is not OpenSSL's concern
# here; the default purpose (smimesign) is recorded too.
cat "$T/tmp/all-anchors.pem" "$TESTCARD/59-root.pem" >"$T/tmp/anchors-all.pem"
ossl_verify() { # ossl_verify FILE EPOCH [extra]: one line
	local f=$1 ep=$2 o rc=0
	shift 2
	o=$(openssl cms -verify -in "$f" -CAfile "$T/tmp/anchors-all.pem" -attime "$ep" -out /dev/null "$@" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then echo "ok"
	else
		o=$(echo "$o" | grep ':error:' | awk -F: '{print $5 ": " $6}' | head -n 2 | paste -sd ';' | sed 's/;/; /g')
		echo "refused: ${o:-no error text}"
	fi
}
declare -A O_AT O_NOW O_DEF
for n in "${MSGS[@]}"; do
	f=${M_VERIFY[$n]}
	at=${M_AT[$n]}
	[ "$at" = - ] && at=$SIGN_AT
	if [ "$n" = big-25mb ]; then   # 34 MB: once is enough
		O_AT[$n]=$(ossl_verify "$f" "$(date -u -d "$at UTC" +%s)" -purpose any)
		O_NOW[$n]="not run (34 MB; alice-sig as in eid-citizen-rsa)"
		O_DEF[$n]=${O_NOW[$n]}
	elif [ "${M_FORM[$n]}" = garbage ] || [ "${M_FORM[$n]}" = unsigned ] || [ "${M_FORM[$n]}" = pgp ] || [ "${M_FORM[$n]}" = encrypted ]; then
		O_AT[$n]=$(ossl_verify "$f" "$(date -u -d "$at UTC" +%s)" -purpose any)
		O_NOW[$n]=${O_AT[$n]}
		O_DEF[$n]=${O_AT[$n]}
	else
		O_AT[$n]=$(ossl_verify "$f" "$(date -u -d "$at UTC" +%s)" -purpose any)
		O_NOW[$n]=$(ossl_verify "$f" "$NOW_EPOCH" -purpose any)
		O_DEF[$n]=$(ossl_verify "$f" "$(date -u -d "$at UTC" +%s)")
	fi
	case ${M_EXPECT[$n]} in
	ok) [ "${O_AT[$n]}" = ok ] || fail "$n: OpenSSL refuses it at its signing time: ${O_AT[$n]}" ;;
	fail | none) [ "${O_AT[$n]}" != ok ] || fail "$n: OpenSSL accepts it (expected a refusal)" ;;
	esac
done

# ---------------------------------------------------------------- cases.json
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
json_or_null() { if [ -n "$1" ] && [ "$1" != - ]; then json_str "$1"; else printf 'null'; fi; }
{
	printf '{\n  "generated_by": "tests/mailpki/make-mailpki.sh",\n  "now": "%s",\n' "$NOW_RFC3339"
	printf '  "ocsp_url_base": %s,\n  "http_url_base": %s,\n' "$(json_str "$OCSP_BASE")" "$(json_str "$HTTP_BASE")"
	printf '  "eid_roots": "eid-roots.pem",\n  "eid_roots_with_testcards": "eid-roots-with-testcards.pem",\n'
	printf '  "smime_ca_file": "smime-ca.pem",\n  "rrn": "rrn.txt",\n  "testcard_dir": %s,\n' "$(json_str "$TESTCARD")"
	printf '  "ocsp_responder": {"ca": "citizen-ca", "url": %s, "index": "ocsp/index.txt", "ca_cert": "ca/citizen-ca/cert.pem", "rsigner": "ca/citizen-ca/ocsp.pem", "rkey": "ca/citizen-ca/ocsp.key", "probe_request": "ocsp/probe.req", "faketime": "@%s", "ndays": %d},\n' \
		"$(json_str "$OCSP_BASE/")" "$OCSP_AT" "$OCSP_DAYS"
	printf '  "http_server": {"url_base": %s, "dir": "www"},\n' "$(json_str "$HTTP_BASE")"
	printf '  "leaves": {\n'
	i=0
	for l in "${LEAVES[@]}"; do
		i=$((i + 1))
		d="$T/leaves/$l"
		st=good; [ -f "$d/status" ] && st=revoked
		printf '    %s: {"ca": "%s", "profile": "%s", "key_type": "%s", "cert": "leaves/%s/cert.pem", "key": "leaves/%s/key.pem", "chain": "leaves/%s/chain.pem", "sha256": "%s", "subject": %s, "not_before": "%s", "not_after": "%s", "status_in_ca": "%s"}' \
			"$(json_str "$l")" "$(cat "$d/ca")" "$(cat "$d/profile")" "$(cat "$d/keytype")" "$l" "$l" "$l" \
			"$(der_sha256 "$d/cert.pem")" \
			"$(json_str "$(openssl x509 -in "$d/cert.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')")" \
			"$(date -u -d "$(openssl x509 -in "$d/cert.pem" -noout -startdate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" \
			"$(date -u -d "$(openssl x509 -in "$d/cert.pem" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)" "$st"
		[ "$i" -lt "${#LEAVES[@]}" ] && printf ','
		printf '\n'
	done
	printf '  },\n  "testcard_signing_sha256": "%s"\n}\n' "$(der_sha256 "$REAL_SIG")"
} >"$T/cases.json"
{
	printf '{\n  "generated_by": "tests/mailpki/make-mailpki.sh",\n'
	printf '  "about": "One entry per message file NAME.eml. form: detached|opaque|nested|list-footer|forwarded|unsigned|pgp|encrypted|garbage. signer: the leaf (../cases.json) whose key made the signature. signed_at: signingTime (null: none in the message). date: the Date header. from: first From addr-spec. openssl: what openssl cms -verify -purpose any (and default purpose) says of the signed entity (verify_file) at the signing time and at the evaluation time, with the eID test root, the S/MIME root and the real test root as anchors.",\n'
	printf '  "messages": {\n'
	i=0
	for n in "${MSGS[@]}"; do
		i=$((i + 1))
		at=${M_AT[$n]}
		printf '    %s: {"file": "%s.eml", "form": "%s", "signer": %s, "signed_at": %s, "date": %s, "from": %s, "bytes": %d,\n' \
			"$(json_str "$n")" "$n" "${M_FORM[$n]}" "$(json_or_null "${M_SIGNER[$n]}")" \
			"$(if [ "$at" = - ]; then printf null; else json_str "$(rfc3339 "$at")"; fi)" \
			"$(json_or_null "${M_DATE[$n]}")" "$(json_or_null "${M_FROM[$n]}")" "$(stat -c %s "$M/$n.eml")"
		printf '      "verify_file": %s, "openssl": {"at_signing_time": %s, "at_now": %s, "default_purpose_at_signing_time": %s},\n' \
			"$(json_str "${M_VERIFY[$n]#"$M/"}")" "$(json_str "${O_AT[$n]}")" "$(json_str "${O_NOW[$n]}")" "$(json_str "${O_DEF[$n]}")"
		printf '      "description": %s}' "$(json_str "${M_DESC[$n]}")"
		[ "$i" -lt "${#MSGS[@]}" ] && printf ','
		printf '\n'
	done
	printf '  }\n}\n'
} >"$M/cases.json"

rm -rf "$T/tmp"
find "$T/ca" -name '*.old' -delete
rm -f "$T"/ca/*/req.csr "$T"/ca/*/ocsp.csr
printf '%s\n' "$STAMP_TEXT" >"$T/.complete"
touch "$T/.complete"
rm -rf "$OUT"
mv -T "$T" "$OUT"
trap - EXIT
echo "make-mailpki: done ($OUT)" >&2
