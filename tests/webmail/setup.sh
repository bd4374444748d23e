#!/bin/bash
# Starts a real webmail on loopback for the browser suite: Dovecot (IMAP on
# 127.0.0.1, private config, plaintext auth, one passwd-file user, Maildir
# owned by nobody) and Roundcube (Debian's roundcube-core, SQLite, served by
# `php -S` on 127.0.0.1), with a mailbox of the mail suite's test messages
# (tests/mailpki, built into build/mailpki) appended over IMAP in a fixed
# order, so their UIDs are 1..N in the order of MESSAGES below.
#
#   tests/webmail/setup.sh DIR      (DIR must not exist; a short path under /tmp)
#
# Writes DIR/env (shell assignments: IMAP_PORT, HTTP_PORT, URL, USER, PASS,
# MAILPKI, MESSAGES) and DIR/pids. tests/webmail/teardown.sh DIR stops
# everything it started (by PID) and removes DIR. On failure it tears down
# what it started and exits 1.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1
[ ! -e "$dir" ] || { echo "setup: $dir exists" >&2; exit 2; }
mkdir -p "$dir"
chmod 755 "$dir"
dir=$(cd "$dir" && pwd)
: > "$dir/pids"
fail() {
	echo "setup: $*" >&2
	"$root/tests/webmail/teardown.sh" "$dir" --keep >&2 || true
	exit 1
}

for p in /usr/sbin/dovecot /usr/bin/php /var/lib/roundcube/public_html/index.php /usr/bin/curl; do
	[ -e "$p" ] || fail "$p missing (installers/deps-debian.sh installs roundcube-core roundcube-sqlite3 dovecot-imapd php8.2-cli curl)"
done

mailpki=$root/build/mailpki
if [ ! -f "$mailpki/.complete" ]; then
	"$root/tests/mailpki/make-mailpki.sh" "$mailpki" >/dev/null || fail "make-mailpki.sh failed"
fi

# A free port on 127.0.0.1 (Chromium refuses some ports, e.g. 10080: stay in 18000-18999 / 10100-10999).
free_port() {
	lo=$1 hi=$2
	for _ in $(seq 1 50); do
		p=$((lo + RANDOM % (hi - lo)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
imap_port=$(free_port 10100 10999) || fail "no free IMAP port"
http_port=$(free_port 18000 18999) || fail "no free HTTP port"
user=alice
pass=tl-webmail-$RANDOM$RANDOM

# ---------------------------------------------------------------- Dovecot
mkdir -p "$dir/dovecot-run" "$dir/dovecot-state" "$dir/mail/$user/Maildir"/{cur,new,tmp}
chown -R nobody:nogroup "$dir/mail"
printf '%s:{PLAIN}%s::::::\n' "$user" "$pass" > "$dir/passwd"
chmod 644 "$dir/passwd"
cat > "$dir/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $dir/dovecot-run
state_dir = $dir/dovecot-state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
}
CONF
/usr/sbin/dovecot -c "$dir/dovecot.conf" || fail "dovecot did not start (see $dir/dovecot.log)"
for _ in $(seq 1 100); do
	[ -s "$dir/dovecot-run/master.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$imap_port") 2>/dev/null && break
	sleep 0.1
done
[ -s "$dir/dovecot-run/master.pid" ] || fail "dovecot wrote no PID"
echo "dovecot $(cat "$dir/dovecot-run/master.pid")" >> "$dir/pids"

# The messages, in UID order.
messages="eid-citizen-rsa smime-bob unsigned-html-links tampered-body hist-alice-signed hist-alice-unsigned"
for m in $messages; do
	curl -sS --max-time 20 --url "imap://127.0.0.1:$imap_port/INBOX" -u "$user:$pass" -T "$mailpki/mail/$m.eml" ||
		fail "IMAP APPEND of $m failed"
done

# ---------------------------------------------------------------- Roundcube
mkdir -p "$dir/rc/logs" "$dir/rc/temp"
ln -s /etc/roundcube/defaults.inc.php "$dir/rc/defaults.inc.php"
ln -s /etc/roundcube/mimetypes.php "$dir/rc/mimetypes.php"
des=$(head -c 18 /dev/urandom | base64 | tr '+/' 'xy' | head -c 24)
cat > "$dir/rc/config.inc.php" <<PHP
<?php
\$config = [];
\$config['db_dsnw'] = 'sqlite:///$dir/rc/roundcube.db?mode=0640';
\$config['imap_host'] = '127.0.0.1:$imap_port';
\$config['smtp_host'] = '';
\$config['des_key'] = '$des';
\$config['plugins'] = [];
\$config['skin'] = 'elastic';
\$config['log_dir'] = '$dir/rc/logs/';
\$config['temp_dir'] = '$dir/rc/temp/';
\$config['enable_installer'] = false;
\$config['support_url'] = '';
\$config['language'] = 'en_US';
\$config['preview_pane_mark_read'] = 0;
PHP
ROUNDCUBE_CONFIG_DIR=$dir/rc setsid php -d display_errors=0 -S "127.0.0.1:$http_port" -t /var/lib/roundcube/public_html \
	> "$dir/php.log" 2>&1 < /dev/null &
echo "php $!" >> "$dir/pids"
ok=
for _ in $(seq 1 100); do
	if curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/" | grep -q 200; then
		ok=1
		break
	fi
	sleep 0.1
done
[ -n "$ok" ] || fail "Roundcube did not answer on 127.0.0.1:$http_port (see $dir/php.log)"

cat > "$dir/env" <<ENV
IMAP_PORT=$imap_port
HTTP_PORT=$http_port
URL=http://127.0.0.1:$http_port
USER=$user
PASS=$pass
MAILPKI=$mailpki
MESSAGES="$messages"
ENV
echo "setup: Roundcube at http://127.0.0.1:$http_port over Dovecot 127.0.0.1:$imap_port ($dir)" >&2
