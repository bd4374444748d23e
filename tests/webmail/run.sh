#!/bin/sh
# The webmail suite: a real Roundcube over a real Dovecot on loopback
# (setup.sh), the real extension and host in headless Debian Chromium
# (roundcube.test.mjs), then teardown.sh. Ends with one line
# "N passed, N failed"; exit status 0 only when everything passed.
# Evidence of a failed browser case stays in tests/out/e2e/roundcube-XXXXXX/;
# the servers' logs of a failed run in tests/out/webmail/.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
TRUSTLENS_HOST=${TRUSTLENS_HOST:-$root/build/trustlens-host}
export TRUSTLENS_HOST
mkdir -p tests/out/webmail
# A short path: Dovecot's sockets live under it.
dir=$(mktemp -u /tmp/tl-webmail.XXXXXX)
summary=$(mktemp "$root/tests/out/webmail/summary.XXXXXX") || exit 1
cleanup() {
	tests/webmail/teardown.sh "$dir"
	rm -f "$summary"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -d node_modules/playwright-core ]; then
	npm ci --no-audit --no-fund --loglevel=error || true
fi
if ! tests/webmail/setup.sh "$dir"; then
	echo "# webmail: setup failed"
	echo "0 passed, 1 failed"
	exit 1
fi
WEBMAIL_DIR=$dir timeout --kill-after=10 300 node --test --test-concurrency=1 \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter="$root/tests/e2e/summary-reporter.mjs" --test-reporter-destination="$summary" \
	tests/webmail/*.test.mjs
rc=$?
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$summary" | tail -n 1)
if [ -z "$line" ]; then
	line="0 passed, 1 failed"
elif [ "$rc" -ne 0 ] && [ "${line#*passed, }" = "0 failed" ]; then
	line="${line%% passed*} passed, 1 failed"
fi
case $line in
*" 0 failed") ;;
*) cp "$dir"/*.log "$dir"/rc/logs/* tests/out/webmail/ 2>/dev/null ;;
esac
echo "$line"
case $line in *" 0 failed") exit 0 ;; *) exit 1 ;; esac
