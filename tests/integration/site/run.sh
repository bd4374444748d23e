#!/bin/sh
# Site-identity integration suite (real openssl s_server sites, openssl ocsp,
# a local CRL server, hostile servers, the real host). See run.mjs.
#   tests/integration/site/run.sh [--filter REGEX] [--keep] [--host PATH] [--pki DIR] [--jobs N]
# Ends with one line "N passed, N failed"; exit status 1 on any failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
node=/usr/bin/node
[ -x "$node" ] || node=node
exec "$node" "$here/run.mjs" "$@"
