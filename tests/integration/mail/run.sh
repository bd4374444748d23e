#!/bin/sh
# Mail-signature integration suite (the test eID / S/MIME PKI and messages of
# tests/mailpki/make-mailpki.sh, a real openssl ocsp responder, a local
# CRL/CA-certificate server, the real host). See run.mjs and README.md.
#   tests/integration/mail/run.sh [--filter REGEX] [--keep] [--host PATH] [--pki DIR] [--jobs N]
# Ends with one line "N passed, N failed"; exit status 1 on any failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
node=/usr/bin/node
[ -x "$node" ] || node=node
exec "$node" "$here/run.mjs" "$@"
