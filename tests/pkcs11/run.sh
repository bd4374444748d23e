#!/bin/sh
# PKCS#11 suite: SoftHSM2 eID-shaped tokens, a real openssl ocsp responder, a
# CRL server, the real host; card faults through shim-module.c, also under
# the ASan host (build/asan/trustlens-host, or --asan-host PATH). See run.mjs.
#   tests/pkcs11/run.sh [--host PATH] [--asan-host PATH] [--keep] [--filter REGEX]
# Ends with one line "N passed, N failed"; exit status 1 on any failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
node=/usr/bin/node
[ -x "$node" ] || node=node
exec "$node" "$here/run.mjs" "$@"
