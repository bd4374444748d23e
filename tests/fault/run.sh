#!/bin/sh
# Fault-injection suite: real hostile TLS, CRL and OCSP servers, a state
# directory that turns read-only or full, a locked history database, a host
# killed mid-write, a browser that closes the port mid-request. See run.py.
#   tests/fault/run.sh [--filter REGEX] [--host PATH] [--keep]
# Ends with one line "N passed, N failed"; exit status 1 on any failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$here/run.py" "$@"
