#!/bin/sh
# Reads the per-run valgrind logs of `make check-valgrind` (tests/valgrind/
# host.sh writes one vg.PID.log per host run; -q keeps a clean run's log
# empty). Prints the start of every non-empty log, then one line
# "N passed, N failed": host runs without and with a valgrind report. No log
# at all is a failure (the suites did not run the host under valgrind).
#   tests/valgrind/scan-logs.sh LOGDIR
set -u
dir=$1
passed=0
failed=0
for f in "$dir"/vg.*.log; do
	[ -e "$f" ] || continue
	if [ -s "$f" ]; then
		failed=$((failed + 1))
		echo "FAIL valgrind report in $f:"
		head -n 40 "$f" | sed 's/^/    /'
	else
		passed=$((passed + 1))
	fi
done
[ $((passed + failed)) -gt 0 ] || { echo "FAIL no valgrind log in $dir"; failed=1; }
echo "# $((passed + failed)) host runs under valgrind"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
