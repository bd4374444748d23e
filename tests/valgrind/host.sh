#!/bin/sh
# The release host under valgrind, as a drop-in host binary for the protocol
# driver and the integration suites (`make check-valgrind`).
#   TRUSTLENS_VALGRIND_HOST   the binary (default: build/trustlens-host)
#   TRUSTLENS_VALGRIND_LOGS   where each run's report goes (vg.PID.log);
#                             default build/valgrind/logs
# valgrind's own report never reaches the host's stdout (the protocol
# channel) nor its stderr: it goes to the log file, which stays empty for a
# clean run (-q). Any error, or a definite or indirect leak, makes the run
# exit 99, which the suites see as a wrong exit status; tests/valgrind/
# scan-logs.sh then names every non-empty log.
here=$(cd "$(dirname "$0")/../.." && pwd)
host=${TRUSTLENS_VALGRIND_HOST:-$here/build/trustlens-host}
logs=${TRUSTLENS_VALGRIND_LOGS:-$here/build/valgrind/logs}
mkdir -p "$logs"
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	--num-callers=30 --log-file="$logs/vg.%p.log" "$host" "$@"
