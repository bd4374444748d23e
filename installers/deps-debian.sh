#!/bin/sh
# Installs every Debian and npm package that building, testing and the demo need.
# Non-interactive, idempotent: when everything is present it changes nothing and
# touches no network. Run as root (or with sudo) on Debian 12.
#
#   installers/deps-debian.sh            build + tests + demo
#   installers/deps-debian.sh --build    only what `make` needs
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)

build_pkgs="build-essential pkg-config libssl-dev libjansson-dev libcurl4-openssl-dev libsqlite3-dev libpsl-dev publicsuffix
libpkcs11-helper1-dev openssl"
test_pkgs="softhsm2 opensc faketime chromium nodejs npm ca-certificates python3 lintian
roundcube-core roundcube-sqlite3 dovecot-imapd php8.2-cli curl firefox-esr
valgrind sqlite3 clang libclang-rt-14-dev util-linux"

want=$build_pkgs
[ "${1:-}" = "--build" ] || want="$want $test_pkgs"

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done

# node and npm may come from outside Debian (a preinstalled Node.js): accept those.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	missing=$(printf '%s\n' $missing | grep -vxE 'nodejs|npm' | tr '\n' ' ' || true)
fi

if [ -n "$(printf '%s' "$missing" | tr -d ' ')" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		sudo=sudo
	else
		sudo=
	fi
	echo "deps: installing:$missing" >&2
	$sudo apt-get update -qq
	# Roundcube (webmail suite) without Apache and without a guessed database:
	# the suite runs it with its own SQLite file under php -S.
	case " $missing " in *" roundcube-core "*)
		printf '%s\n' 'roundcube-core roundcube/dbconfig-install boolean false' \
		    'roundcube-core roundcube/reconfigure-webserver multiselect' \
		    'roundcube-core roundcube/restart-webserver boolean false' | $sudo debconf-set-selections ;;
	esac
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
fi

if [ "${1:-}" != "--build" ] && [ -f "$here/package-lock.json" ]; then
	# npm ci only when node_modules does not match the lock file.
	stamp="$here/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
		echo "deps: npm ci" >&2
		(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
	fi
fi
exit 0
