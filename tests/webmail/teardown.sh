#!/bin/bash
# Stops what tests/webmail/setup.sh DIR started (by the PIDs it recorded in
# DIR/pids) and removes DIR; with --keep, leaves DIR (logs) in place.
set -u
dir=$1
[ -d "$dir" ] || exit 0
if [ -f "$dir/pids" ]; then
	while read -r name pid; do
		[ -n "${pid:-}" ] || continue
		kill "$pid" 2>/dev/null
		for _ in $(seq 1 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null
	done < "$dir/pids"
fi
[ "${2:-}" = "--keep" ] || rm -rf "$dir"
exit 0
