#!/bin/bash
# Bench-only mail: a throwaway S/MIME root and signer (no revocation URLs, so
# nothing is fetched), signed messages of 1 KB (to make a state directory
# with a history database), 1 MB and 20 MB (multipart/signed,
# `openssl cms -sign -binary -crlfeol -md sha256`, signed now, Date now), and
# unsigned 100 KB messages for the protocol row, each with its own
# Message-ID, already as `mail` requests (one JSON line each).
#
#   bench/make-bench-mail.sh OUT_DIR     (build/bench/mail)
#
# Rebuilt when OUT_DIR/.complete is older than this script or a day old (the
# signing time must stay near the host's clock). Throwaway keys; never
# committed.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
OUT=$(realpath -m "$1")
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
PYTHON=/usr/bin/python3
if [ -f "$OUT/.complete" ] && [ "$OUT/.complete" -nt "$self" ] &&
	[ -z "$(find "$OUT/.complete" -mmin +1440)" ]; then
	exit 0
fi
T="$OUT.tmp.$$"
rm -rf "$T"
mkdir -p "$T"
trap 'rm -rf "$T"' EXIT
cd "$T"

cat >ext.cnf <<'EOF'
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection
subjectAltName = email:bench@bench.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
{
	openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650 \
		-subj "/O=TrustLens Bench/CN=TrustLens Bench SMIME Root" -config ext.cnf -extensions root
	openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -config ext.cnf \
		-subj "/O=TrustLens Bench/CN=Bench Signer/emailAddress=bench@bench.example"
	openssl x509 -req -in leaf.csr -CA root.pem -CAkey root.key -set_serial 2 -days 3650 \
		-extfile ext.cnf -extensions leaf -out leaf.pem
} >make-bench-mail.log 2>&1 || { cat make-bench-mail.log >&2; exit 1; }

# body SIZE FILE: a text/plain MIME entity of about SIZE bytes, CRLF lines.
body() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import sys
size, path = int(sys.argv[1]), sys.argv[2]
line = "Invoice lines, notes and quoted replies, the bulk of a long mail 0123456789\r\n"
head = "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
with open(path, "w", newline="") as f:
    f.write(head + line * max(1, (size - len(head)) // len(line)))
EOF
}
headers() { # headers SUBJECT ID
	printf 'From: Bench Signer <bench@bench.example>\r\nTo: someone@example.org\r\n'
	printf 'Subject: %s\r\nDate: %s\r\nMessage-ID: <%s@bench.example>\r\n' "$1" "$(date -R)" "$2"
}
for size in template:1000 1m:1000000 20m:20000000; do
	name=${size%%:*}
	body "${size#*:}" "body-$name.txt"
	openssl cms -sign -binary -crlfeol -md sha256 -in "body-$name.txt" -signer leaf.pem -inkey leaf.key \
		-out "signed-$name.part" 2>>make-bench-mail.log
	{ headers "bench $name" "bench-$name-$$"; cat "signed-$name.part"; } >"signed-$name.eml"
	rm -f "body-$name.txt" "signed-$name.part"
done

# Unsigned 100 KB mails as protocol requests: one warm-up, then 100.
body 100000 body-100k.txt
"$PYTHON" - <<'EOF'
import json, time
body = open("body-100k.txt", newline="").read()
date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
with open("mail-requests.txt", "w") as f:
    for i in range(101):
        raw = ("From: Unsigned Sender <plain@bench.example>\r\nTo: someone@example.org\r\n"
               "Subject: unsigned 100 KB\r\nDate: %s\r\nMessage-ID: <plain-%d@bench.example>\r\n"
               "MIME-Version: 1.0\r\n%s" % (date, i, body))
        f.write(json.dumps({"id": i + 2, "type": "mail", "raw": raw}) + "\n")
EOF
rm -f body-100k.txt leaf.csr root.key
touch .complete
cd - >/dev/null
rm -rf "$OUT"
mv "$T" "$OUT"
trap - EXIT
