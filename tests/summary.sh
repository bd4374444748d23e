#!/bin/sh
# Adds up the "N passed, N failed" lines of every suite's log in DIR and
# prints one such line. A suite whose log is missing or has no summary line
# (it crashed, or never ran) counts as one failure. Exit 1 on any failure.
#   tests/summary.sh DIR [SUITE...]   (default suites: every *.log in DIR)
set -u
dir=$1
shift
[ $# -gt 0 ] || set -- $(cd "$dir" 2>/dev/null && ls *.log 2>/dev/null | sed 's/\.log$//')
passed=0
failed=0
for suite in "$@"; do
	log=$dir/$suite.log
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null | tail -n 1)
	if [ -z "$line" ]; then
		echo "summary: suite '$suite' produced no result line (see $log)" >&2
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	printf 'summary: %-14s %s\n' "$suite" "$line" >&2
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
