#!/bin/sh
# Runs the extension's tests and ends with one line "N passed, N failed":
#   - tests/js/*.test.mjs: node --test unit tests of the extension's pure
#     modules (port client, host status, settings) and static checks of the
#     manifest, the native-host templates and _locales;
#   - tests/e2e/*.test.mjs: the extension in headless Debian Chromium with the
#     real host (build/trustlens-host, or $TRUSTLENS_HOST), installed by the
#     host's own `install --browser chromium --manifest-dir` command.
#     tests/e2e/firefox.test.mjs runs the same extension and host in headless
#     Firefox ESR (/usr/bin/firefox-esr, or $FIREFOX) over Marionette.
#
# Usage: tests/e2e/run.sh [all|unit|e2e]     (default: all)
# Evidence of failed browser cases stays in tests/out/e2e/<case>-XXXXXX/.
# Exit status: 0 when everything passed, 1 otherwise.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
what=${1:-all}
case $what in
all | unit | e2e) ;;
*)
	echo "usage: $0 [all|unit|e2e]" >&2
	exit 2
	;;
esac

TRUSTLENS_HOST=${TRUSTLENS_HOST:-$root/build/trustlens-host}
export TRUSTLENS_HOST
out=$root/tests/out/e2e
mkdir -p "$out"
summary=$(mktemp "$out/summary.XXXXXX") || exit 1
trap 'rm -f "$summary"' EXIT INT TERM

passed=0
failed=0

# run NAME TIMEOUT FILES...: one node --test run, its counts added to the totals.
run() {
	name=$1 limit=$2
	shift 2
	: >"$summary"
	echo "# $name"
	# --test-concurrency=1: browser cases one at a time on a 2-core machine.
	timeout --kill-after=10 "$limit" node --test --test-concurrency=1 \
		--test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter="$root/tests/e2e/summary-reporter.mjs" --test-reporter-destination="$summary" \
		"$@"
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$summary" | tail -n 1)
	if [ -z "$line" ]; then
		echo "# $name: no result (exit status $rc; 124 means it ran over ${limit}s)"
		failed=$((failed + 1))
		return
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed}
	passed=$((passed + p))
	failed=$((failed + f))
	# A run that failed without failing a test (crash, killed) still counts.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "# $name: node --test exited with $rc"
		failed=$((failed + 1))
	fi
}

if [ ! -d node_modules/playwright-core ] && [ "$what" != unit ]; then
	echo "# node_modules missing: npm ci"
	npm ci --no-audit --no-fund --loglevel=error || failed=$((failed + 1))
fi

if [ "$what" != e2e ]; then
	run "extension unit tests" 60 tests/js/*.test.mjs
fi
if [ "$what" != unit ]; then
	if [ ! -x "$TRUSTLENS_HOST" ]; then
		echo "# e2e: no executable host at $TRUSTLENS_HOST (run make, or set TRUSTLENS_HOST)"
		failed=$((failed + 1))
	elif [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
		echo "# e2e: /usr/bin/chromium missing (installers/deps-debian.sh installs it)"
		failed=$((failed + 1))
	else
		run "extension end-to-end tests (Chromium, Firefox ESR, host $TRUSTLENS_HOST)" 280 tests/e2e/*.test.mjs
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
