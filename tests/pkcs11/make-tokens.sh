#!/bin/bash
# Builds the SoftHSM2 test tokens of the pkcs11 suite: an eID-profile test
# PKI (generated here, keys thrown away with the folder) and Belgian-eID-
# shaped tokens holding it, as a real card holds them (label BELPIC, objects
# Authentication id 02, Signature id 03, CA id 04, Root id 06).
#
#   tests/pkcs11/make-tokens.sh OUTDIR OCSP_URL HTTP_URL
#
#   OCSP_URL  put in the leaves' AIA (e.g. http://127.0.0.1:20001/)
#   HTTP_URL  base of the CRL distribution points (e.g. http://127.0.0.1:20002)
#
# Dates are relative to the real clock (no TRUSTLENS_NOW needed): CAs from a
# year ago for ten years, leaves from 30 days ago for two years, except
# lotte-auth, which expires in 20 days.
#
# Cards (all PINs 739146, SO PIN 31415926):
#   alice  BELPIC, RSA-2048, Authentication + Signature (OCSP and CRL), good
#   lotte  BELPIC, EC P-384, Authentication (expires in 20 days) + Signature
#   noah   BELPIC, RSA-2048, Authentication only (a child's card: no Signature);
#          CRL only (no OCSP URL), good
#   rik    BELPIC, RSA-2048, Authentication (CRL only) + Signature (OCSP and
#          CRL), both revoked
#   empty  label "EMPTY TOKEN", initialised, no object
# Each card also holds the Citizen CA (04) and the root (06), as real cards do.
#
# OUTDIR afterwards:
#   pki/root.pem ca.pem ca.key        the test eID root and Citizen CA
#   pki/<leaf>.pem <leaf>.der          leaf certificates (no key is kept
#                                      outside the tokens but the CA's)
#   pki/index.txt crl.der              the CA database (OCSP) and its CRL
#   www/citizen-ca.crl                 what the CRL server serves
#   tokens/<card>/softhsm2.conf        one token store per card
#   tokens/all/softhsm2.conf           every card together
#   tokens/none/softhsm2.conf          no initialised token
#   cards.json                         card -> label, serial, leaves, names
#   rrn.txt                            the fake national register numbers
set -euo pipefail
# has PATTERN...: grep that reads all of its input. `grep -q` stops at the first
# match, and under pipefail the writer's SIGPIPE then fails the pipeline
# now and then (a self-check failed under load in CI this way).
has() { grep "$@" >/dev/null; }

OUT=${1:?usage: make-tokens.sh OUTDIR OCSP_URL HTTP_URL}
OCSP_URL=${2:?OCSP_URL}
HTTP_URL=${3:?HTTP_URL}
MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
PIN=739146
SOPIN=31415926

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
P="$OUT/pki"
rm -rf "$P" "$OUT/tokens" "$OUT/www"
mkdir -p "$P/newcerts" "$OUT/tokens" "$OUT/www"
LOG="$OUT/make-tokens.log"
: >"$LOG"
run() { echo "+ $*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }
die() { echo "make-tokens: $*" >&2; echo "make-tokens: see $LOG" >&2; exit 1; }

gt() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
CA_START=$(gt '-365 days')
CA_END=$(gt '+3650 days')
LEAF_START=$(gt '-30 days')
LEAF_END=$(gt '+730 days')
SOON_END=$(gt '+20 days')

# --- openssl ca configuration and profiles (after the real cards: keyUsage
# nonRepudiation for Signature, digitalSignature for Authentication, the
# Belgian citizen policies, QcCompliance on the signature certificate).
cat >"$P/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir             = $P
database        = \$dir/index.txt
new_certs_dir   = \$dir/newcerts
serial          = \$dir/serial
crlnumber       = \$dir/crlnumber
certificate     = \$dir/ca.pem
private_key     = \$dir/ca.key
default_md      = sha256
preserve        = yes
policy          = policy_any
unique_subject  = no
email_in_dn     = no
copy_extensions = none
default_crl_days = 7
crl_extensions  = crl_ext
[ policy_any ]
commonName      = optional
[ crl_ext ]
authorityKeyIdentifier = keyid:always
[ req ]
distinguished_name = req_dn
[ req_dn ]
[ root ]
keyUsage               = critical, keyCertSign, cRLSign
basicConstraints       = critical, CA:TRUE
certificatePolicies    = 2.16.56.12.1.1
subjectKeyIdentifier   = hash
[ citizen_ca ]
keyUsage               = critical, keyCertSign, cRLSign
basicConstraints       = critical, CA:TRUE, pathlen:0
certificatePolicies    = 2.16.56.12.1.1.2
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[ sig ]
certificatePolicies    = 2.16.56.12.1.1.2.1
1.3.6.1.5.5.7.1.3      = DER:300A3008060604008E460101
keyUsage               = critical, nonRepudiation
subjectKeyIdentifier   = none
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$HTTP_URL/citizen-ca.crl
authorityInfoAccess    = OCSP;URI:$OCSP_URL
[ auth ]
certificatePolicies    = 2.16.56.12.1.1.2.2
keyUsage               = critical, digitalSignature
subjectKeyIdentifier   = none
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$HTTP_URL/citizen-ca.crl
authorityInfoAccess    = OCSP;URI:$OCSP_URL
[ auth_crl_only ]
certificatePolicies    = 2.16.56.12.1.1.2.2
keyUsage               = critical, digitalSignature
subjectKeyIdentifier   = none
authorityKeyIdentifier = keyid:always
crlDistributionPoints  = URI:$HTTP_URL/citizen-ca.crl
EOF
: >"$P/index.txt"
echo 1000 >"$P/serial"
echo 1000 >"$P/crlnumber"

# --- the CAs
run openssl req -new -newkey rsa:2048 -nodes -keyout "$P/root.key" -out "$P/root.csr" \
	-subj "/C=BE/CN=Belgium Root CT-P11Test" -config "$P/ca.cnf" || die "root key"
run openssl ca -batch -config "$P/ca.cnf" -selfsign -keyfile "$P/root.key" -cert /dev/null \
	-in "$P/root.csr" -out "$P/root.pem" -extensions root -startdate "$CA_START" -enddate "$CA_END" \
	-notext -preserveDN || die "root certificate"
run openssl req -new -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.csr" \
	-subj "/C=BE/CN=Citizen CT-P11Test/serialNumber=202601" -config "$P/ca.cnf" || die "CA key"
run openssl ca -batch -config "$P/ca.cnf" -keyfile "$P/root.key" -cert "$P/root.pem" \
	-in "$P/ca.csr" -out "$P/ca.pem" -extensions citizen_ca -startdate "$CA_START" -enddate "$CA_END" \
	-notext -preserveDN || die "CA certificate"
# The root's own line in the CA database would make the OCSP responder
# answer for the root's serial: keep only the Citizen CA's issuance there.
: >"$P/index.txt"

# --- fake national register numbers: YYMMDD SSS CC, CC = 97 - (YYMMDDSSS mod 97)
rrn() { local b=$1; printf '%s%02d' "$b" $((97 - (10#$b % 97))); }
declare -A RRN=( [alice]=$(rrn 850731001) [lotte]=$(rrn 900214123) [noah]=$(rrn 130512457) [rik]=$(rrn 920606455) )
printf '%s\n' "${RRN[@]}" >"$OUT/rrn.txt"
declare -A GN=( [alice]="Alice Marie" [lotte]="Lotte" [noah]="Noah" [rik]="Rik" )
declare -A SN=( [alice]="Peeters" [lotte]="Claes" [noah]="Janssens" [rik]="Maes" )
declare -A CN=( [alice]="Alice Peeters" [lotte]="Lotte Claes" [noah]="Noah Janssens" [rik]="Rik Maes" )

# leaf CARD USE(Signature|Authentication) KEYTYPE(rsa|ec) PROFILE END
leaf() {
	local card=$1 use=$2 kt=$3 prof=$4 end=$5 name="$1-${2,,}"
	local key="$P/$name.key"
	if [ "$kt" = ec ]; then
		run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$key" || die "$name key"
	else
		run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" || die "$name key"
	fi
	run openssl req -new -key "$key" -out "$P/$name.csr" -config "$P/ca.cnf" \
		-subj "/C=BE/CN=${CN[$card]} ($use)/SN=${SN[$card]}/GN=${GN[$card]}/serialNumber=${RRN[$card]}" || die "$name csr"
	run openssl ca -batch -config "$P/ca.cnf" -in "$P/$name.csr" -out "$P/$name.pem" -extensions "$prof" \
		-startdate "$LEAF_START" -enddate "$end" -notext -preserveDN || die "$name certificate"
	openssl x509 -in "$P/$name.pem" -outform DER -out "$P/$name.der"
	openssl pkey -in "$key" -outform DER -out "$P/$name.key.der"
}
leaf alice Authentication rsa auth "$LEAF_END"
leaf alice Signature rsa sig "$LEAF_END"
leaf lotte Authentication ec auth "$SOON_END"
leaf lotte Signature ec sig "$LEAF_END"
leaf noah Authentication rsa auth_crl_only "$LEAF_END"
leaf rik Authentication rsa auth_crl_only "$LEAF_END"
leaf rik Signature rsa sig "$LEAF_END"
openssl x509 -in "$P/root.pem" -outform DER -out "$P/root.der"
openssl x509 -in "$P/ca.pem" -outform DER -out "$P/ca.der"

# Rik's two certificates are revoked (keyCompromise, yesterday).
REV_AT=$(gt '-1 day')
for n in rik-authentication rik-signature; do
	run openssl ca -batch -config "$P/ca.cnf" -revoke "$P/$n.pem" -crl_reason keyCompromise || die "revoke $n"
done
# openssl ca -revoke records "now"; put the revocation a day back so no
# clock skew between this script and the responder matters.
sed -i -E "s/^R(\t[0-9]+Z\t)[0-9]+Z,/R\1${REV_AT:2},/" "$P/index.txt"
run openssl ca -batch -config "$P/ca.cnf" -gencrl -out "$P/crl.pem" -crldays 7 || die "CRL"
openssl crl -in "$P/crl.pem" -outform DER -out "$P/crl.der"
cp "$P/crl.der" "$OUT/www/citizen-ca.crl"
openssl crl -in "$P/crl.pem" -noout -text | has 'Revocation Date' || die "the CRL revokes nothing"

# --- tokens: one SoftHSM store per card
store() { # store NAME: a private token directory and its conf
	local d="$OUT/tokens/$1"
	mkdir -p "$d/store"
	printf 'directories.tokendir = %s/store\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
		"$d" >"$d/softhsm2.conf"
}
p11() { # p11 CONF ARGS...: pkcs11-tool against SoftHSM with that store
	local conf=$1
	shift
	SOFTHSM2_CONF=$conf run pkcs11-tool --module "$MODULE" "$@"
}
put() { # put CARD OBJNAME ID LABEL [key]
	local conf="$OUT/tokens/$1/softhsm2.conf" obj=$2 id=$3 label=$4
	if [ "${5:-}" = key ]; then
		p11 "$conf" --token-label BELPIC --login --pin "$PIN" --write-object "$P/$obj.key.der" \
			--type privkey --id "$id" --label "$label" --usage-sign || die "$1: key $label"
	fi
	p11 "$conf" --token-label BELPIC --login --pin "$PIN" --write-object "$P/$obj.der" \
		--type cert --id "$id" --label "$label" || die "$1: certificate $label"
}
serial_of() { # serial_of CONF LABEL
	SOFTHSM2_CONF=$1 softhsm2-util --show-slots 2>/dev/null | awk -v want="$2" '
		function flush() { if (label == want && serial != "") print serial; label = ""; serial = "" }
		/^Slot /{flush()}
		/Label:/{sub(/^[^:]*:[ ]*/, ""); sub(/[ ]+$/, ""); label=$0}
		/Serial number:/{sub(/^[^:]*:[ ]*/, ""); sub(/[ ]+$/, ""); serial=$0}
		END{flush()}' | head -n 1
}
declare -A SERIAL
for card in alice lotte noah rik; do
	store "$card"
	SOFTHSM2_CONF="$OUT/tokens/$card/softhsm2.conf" run softhsm2-util --init-token --free \
		--label BELPIC --so-pin "$SOPIN" --pin "$PIN" || die "$card: init"
	SERIAL[$card]=$(serial_of "$OUT/tokens/$card/softhsm2.conf" BELPIC)
	[ -n "${SERIAL[$card]}" ] || die "$card: no serial"
	put "$card" "$card-authentication" 02 Authentication key
	[ -f "$P/$card-signature.der" ] && put "$card" "$card-signature" 03 Signature key
	put "$card" ca 04 CA
	put "$card" root 06 Root
done
store empty
SOFTHSM2_CONF="$OUT/tokens/empty/softhsm2.conf" run softhsm2-util --init-token --free \
	--label "EMPTY TOKEN" --so-pin "$SOPIN" --pin "$PIN" || die "empty: init"
SERIAL[empty]=$(serial_of "$OUT/tokens/empty/softhsm2.conf" "EMPTY TOKEN")
store all
for card in alice lotte noah rik empty; do
	cp -a "$OUT/tokens/$card/store/." "$OUT/tokens/all/store/"
done
store none

# Every card visible in the common store, with its objects.
for card in alice lotte noah rik; do
	n=$(SOFTHSM2_CONF="$OUT/tokens/all/softhsm2.conf" pkcs11-tool --module "$MODULE" --list-token-slots 2>/dev/null |
		grep -c "serial num  *: ${SERIAL[$card]}" || true)
	[ "$n" = 1 ] || die "$card is not in the common store"
done

# --- cards.json
{
	printf '{\n  "pin": "%s",\n  "module": "%s",\n  "cards": {\n' "$PIN" "$MODULE"
	first=1
	for card in alice lotte noah rik empty; do
		[ $first = 1 ] || printf ',\n'
		first=0
		if [ "$card" = empty ]; then
			printf '    "empty": {"label": "EMPTY TOKEN", "serial": "%s", "conf": "tokens/empty/softhsm2.conf", "objects": []}' "${SERIAL[empty]}"
			continue
		fi
		printf '    "%s": {"label": "BELPIC", "serial": "%s", "conf": "tokens/%s/softhsm2.conf", "name": "%s", "given_name": "%s", "surname": "%s", "objects": [' \
			"$card" "${SERIAL[$card]}" "$card" "${CN[$card]}" "${GN[$card]}" "${SN[$card]}"
		objs=("02 Authentication $card-authentication")
		[ -f "$P/$card-signature.der" ] && objs+=("03 Signature $card-signature")
		objs+=("04 CA ca" "06 Root root")
		k=0
		for o in "${objs[@]}"; do
			read -r id label file <<<"$o"
			[ $k = 0 ] || printf ', '
			k=1
			printf '{"id": "%s", "label": "%s", "cert": "pki/%s.pem"}' "$id" "$label" "$file"
		done
		printf ']}'
	done
	printf '\n  }\n}\n'
} >"$OUT/cards.json"
echo "make-tokens: done ($OUT)" >>"$LOG"
