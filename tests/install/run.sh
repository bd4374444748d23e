#!/bin/bash
# Install, uninstall and diagnose, against the real binary.
#
#   - install/uninstall --user into a temporary HOME and --system into a
#     temporary system root (TRUSTLENS_SYSTEM_ROOT) for every Linux browser
#     of the table: the files written are compared with the expected list
#     below (valid JSON, no BOM, mode 0644, absolute executable host path,
#     ids with the trailing slash, allowed_extensions for Firefox);
#     idempotence; uninstall leaves nothing; a foreign manifest stays;
#   - the installer scripts carry the macOS and Windows rows of the table;
#   - `diagnose --json` against constructed set-ups (healthy, manifest
#     missing, wrong path, wrong id, id without trailing slash,
#     non-executable host, a blocking policy, Snap Firefox, a start by a
#     foreign extension, state directory read-only and uncreatable, no
#     network, a blocked reference site, a reachable one with the clock
#     wrong, a SoftHSM token with a certificate expiring in 10 days, a
#     broken config file): each gives the expected verdict line and fix;
#   - the `diagnose` request gives the same verdicts as the CLI, and the
#     JSON's "text" is exactly what the plain command prints;
#   - privacy: no national register number, PIN or home path in the report.
#
# Ends with one line "N passed, N failed". Evidence of a failed run stays in
# tests/out/install/run-XXXXXX/.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
HOST=${TRUSTLENS_HOST:-$root/build/trustlens-host}
HOST=$(realpath "$HOST")
PY=/usr/bin/python3
CHECK="$PY $root/tests/install/check.py"
out=$root/tests/out/install
mkdir -p "$out"
work=$(mktemp -d "$out/run-XXXXXX")
passed=0
failed=0
server_pid=

cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	if [ "$failed" -eq 0 ]; then
		rm -rf "$work"
	else
		echo "# evidence kept in $work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() {
	passed=$((passed + 1))
	echo "ok   $1"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
}
# expect NAME COMMAND...: the command must succeed; its output is the reason.
expect() {
	local name=$1 msg
	shift
	if msg=$("$@" 2>&1); then ok "$name"; else bad "$name" "${msg:-exit status $?}"; fi
}

if [ ! -x "$HOST" ]; then
	echo "no executable host at $HOST (run make)"
	echo "0 passed, 1 failed"
	exit 1
fi

# The host with a clean environment: only what a case sets.
host() {
	env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
}

CHROMIUM_ID=npfbfafbeggpjpnhdcidonbfednhhnij

# The expected table (independent of the host's): name, family, per-user
# directory under HOME, system directories.
table="chromium chromium .config/chromium/NativeMessagingHosts /etc/chromium/native-messaging-hosts
chrome chromium .config/google-chrome/NativeMessagingHosts /etc/opt/chrome/native-messaging-hosts
edge chromium .config/microsoft-edge/NativeMessagingHosts /etc/opt/edge/native-messaging-hosts
brave chromium .config/BraveSoftware/Brave-Browser/NativeMessagingHosts /etc/brave/native-messaging-hosts:/etc/opt/brave/native-messaging-hosts
vivaldi chromium .config/vivaldi/NativeMessagingHosts /etc/opt/vivaldi/native-messaging-hosts
opera chromium .config/opera/NativeMessagingHosts /etc/opt/opera/native-messaging-hosts
firefox firefox .mozilla/native-messaging-hosts /usr/lib/mozilla/native-messaging-hosts"

# ---------------------------------------------------------------- install

# install_round SCOPE: install, check, reinstall, uninstall for every browser.
install_round() {
	local scope=$1 base env_var files expected n name family udir sdirs d f
	base=$work/$scope
	mkdir -p "$base"
	if [ "$scope" = user ]; then env_var="HOME=$base"; else env_var="TRUSTLENS_SYSTEM_ROOT=$base"; fi
	host HOME="$work/unused-home" "$env_var" "$HOST" install --"$scope" >"$work/$scope-install.out" 2>&1
	expect "install --$scope exits 0" test $? -eq 0
	expected=0
	while read -r name family udir sdirs; do
		if [ "$scope" = user ]; then set -- "$base/$udir"; else set -- $(echo "$sdirs" | tr ':' ' ' | sed "s|^|$base|; s| | $base|g"); fi
		for d in "$@"; do
			f=$d/org.trustlens.host.json
			expected=$((expected + 1))
			if [ ! -f "$f" ]; then
				bad "install --$scope $name: $f" "missing"
				continue
			fi
			expect "install --$scope $name: ${f#"$base"}" $CHECK manifest "$f" "$family" "$HOST"
			expect "install --$scope $name: reported" grep -q "^$name: wrote .*${d#"$base"}/org.trustlens.host.json" "$work/$scope-install.out"
		done
	done <<<"$table"
	n=$(find "$base" -type f | wc -l)
	expect "install --$scope: exactly $expected files, no leftovers" test "$n" -eq "$expected"
	find "$base" -type f -printf '%p %i %Y\n' | sort >"$work/$scope-before"
	host HOME="$work/unused-home" "$env_var" "$HOST" install --"$scope" >"$work/$scope-again.out" 2>&1
	expect "install --$scope again: every manifest unchanged" test "$(grep -c ': unchanged ' "$work/$scope-again.out")" -eq "$expected"
	expect "install --$scope again: nothing rewritten" test -z "$(grep ': wrote ' "$work/$scope-again.out")"
	find "$base" -type f -printf '%p %i %Y\n' | sort >"$work/$scope-after"
	expect "install --$scope again: same files, same inodes" cmp -s "$work/$scope-before" "$work/$scope-after"
	host HOME="$work/unused-home" "$env_var" "$HOST" uninstall --"$scope" >"$work/$scope-uninstall.out" 2>&1
	expect "uninstall --$scope exits 0" test $? -eq 0
	expect "uninstall --$scope: $expected removed" test "$(grep -c ': removed ' "$work/$scope-uninstall.out")" -eq "$expected"
	expect "uninstall --$scope leaves nothing" test -z "$(find "$base" -mindepth 1)"
	host HOME="$work/unused-home" "$env_var" "$HOST" uninstall --"$scope" >"$work/$scope-uninstall2.out" 2>&1
	expect "uninstall --$scope again: exits 0, nothing to remove" test $? -eq 0 -a "$(grep -c 'nothing to remove' "$work/$scope-uninstall2.out")" -eq "$expected"
}
install_round user
install_round system

# A foreign manifest of our name is left alone, and said so.
mkdir -p "$work/foreign/.config/chromium/NativeMessagingHosts"
echo '{"name": "com.other.host", "path": "/bin/true"}' >"$work/foreign/.config/chromium/NativeMessagingHosts/org.trustlens.host.json"
host HOME="$work/foreign" "$HOST" uninstall --user --browser chromium >"$work/foreign.out" 2>&1
rc=$?
expect "uninstall refuses a foreign manifest (exit 3)" test "$rc" -eq 3
expect "uninstall leaves a foreign manifest in place" test -f "$work/foreign/.config/chromium/NativeMessagingHosts/org.trustlens.host.json"

# Only the named browsers, and --manifest-dir.
host HOME="$work/one" "$HOST" install --browser firefox >/dev/null 2>&1
expect "install --browser firefox writes one file" test "$(find "$work/one" -type f | wc -l)" -eq 1 -a -f "$work/one/.mozilla/native-messaging-hosts/org.trustlens.host.json"
host HOME="$work/one" "$HOST" install --browser netscape >/dev/null 2>&1
expect "install --browser netscape is a usage error (exit 2)" test $? -eq 2
host HOME="$work/one" "$HOST" install --manifest-dir "$work/md" --browser chromium >/dev/null 2>&1
expect "install --manifest-dir writes there" $CHECK manifest "$work/md/org.trustlens.host.json" chromium "$HOST"

# The installer scripts follow the table's macOS and Windows rows.
host HOME="$work/tbl" TRUSTLENS_DIAGNOSE_URL=https://nonexistent.invalid/ "$HOST" diagnose --json >"$work/table.json" 2>/dev/null
$PY - "$work/table.json" "$root/installers/macos/postinstall" "$root/installers/windows/install.ps1" >"$work/table.check" 2>&1 <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))["browsers"]["other_systems"]
mac, win = open(sys.argv[2]).read(), open(sys.argv[3]).read()
missing = []
for r in rows:
    text = mac if r["os"] == "macos" else win
    for k in ("user", "system"):
        if r[k] not in text:
            missing.append("%s %s %s" % (r["os"], r["browser"], r[k]))
print("%d rows" % len(rows))
sys.exit("missing: " + "; ".join(missing) if missing or not rows else 0)
EOF
expect "installer scripts carry every macOS/Windows row" test $? -eq 0

# Policy templates: valid JSON naming our extension and host.
expect "policy template for Chrome/Edge: forcelist + allowlist" $PY -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert p["ExtensionInstallForcelist"][0].startswith("npfbfafbeggpjpnhdcidonbfednhhnij;"), p
assert p["NativeMessagingAllowlist"] == ["org.trustlens.host"], p' "$root/installers/policies/chrome-edge-managed.json"
expect "policy template for Firefox: ExtensionSettings force_installed" $PY -c '
import json, sys
p = json.load(open(sys.argv[1]))["policies"]["ExtensionSettings"]["trustlens@trustlens.org"]
assert p["installation_mode"] == "force_installed", p' "$root/installers/policies/firefox-policies.json"

# ---------------------------------------------------------------- package

# make deb: through `make install PREFIX=/usr DESTDIR=...`, so this also
# checks the install target (binary, man page, extension files).
debout=$("$root/installers/debian/build-deb.sh" "$(dirname "$HOST")" 2>"$work/deb.err")
rc=$?
expect "make deb builds a package" test "$rc" -eq 0 -a -f "$debout"
if [ -f "$debout" ]; then
	dpkg-deb -c "$debout" | awk '{print $6}' | sed 's|^\./|/|' >"$work/deb.list"
	for f in /usr/bin/trustlens-host /usr/share/man/man1/trustlens-host.1.gz \
		/usr/share/trustlens/extension/manifest.json /usr/share/trustlens/extension/background.js \
		/usr/share/trustlens/extension/_locales/en/messages.json /usr/share/doc/trustlens/copyright; do
		expect "package ships $f" grep -qx "$f" "$work/deb.list"
	done
	dpkg-deb -f "$debout" Package Depends >"$work/deb.control"
	expect "package control: trustlens, with library dependencies" grep -q "^Depends: .*libssl3.*" "$work/deb.control"
	dpkg-deb -e "$debout" "$work/deb.ctl"
	expect "package postinst registers system-wide" grep -q "trustlens-host install --system" "$work/deb.ctl/postinst"
	expect "package prerm removes the registrations" grep -q "trustlens-host uninstall --system" "$work/deb.ctl/prerm"
	if command -v lintian >/dev/null; then
		lintian --allow-root --suppress-tags-from-file "$root/installers/debian/lintian-suppress.txt" "$debout" >"$work/lintian.out" 2>&1
		expect "package is lintian-clean (no error or warning)" test -z "$(grep -E '^[EW]:' "$work/lintian.out")"
	else
		bad "lintian" "not installed (installers/deps-debian.sh installs it)"
	fi
fi

# ---------------------------------------------------------------- diagnose

# A case: its own HOME, state directory and system root with a Chromium.
# new_case NAME: sets C (case dir); a stub executable /usr/bin/chromium.
new_case() {
	C=$work/d-$1
	mkdir -p "$C/home" "$C/root/usr/bin" "$C/state"
	printf '#!/bin/sh\nexit 0\n' >"$C/root/usr/bin/chromium"
	chmod 755 "$C/root/usr/bin/chromium"
}
# diag NAME [VAR=VALUE...]: diagnose --json for case C into $C/r.json.
diag() {
	local name=$1
	shift
	host HOME="$C/home" TRUSTLENS_SYSTEM_ROOT="$C/root" TRUSTLENS_STATE_DIR="$C/state" \
		TRUSTLENS_DIAGNOSE_URL=https://nonexistent.invalid/ TRUSTLENS_PKCS11_MODULES=/nonexistent/p11.so \
		"$@" "$HOST" diagnose --json >"$C/r.json" 2>"$C/r.err"
	expect "diagnose $name: exit 0 with JSON" $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$C/r.json"
}
chromium_manifest() {
	echo "$C/home/.config/chromium/NativeMessagingHosts/org.trustlens.host.json"
}
edit_manifest() { # PYTHON-EXPRESSION on m
	$PY - "$(chromium_manifest)" "$1" <<'EOF'
import json, sys
p = sys.argv[1]; m = json.load(open(p)); exec(sys.argv[2])
open(p, "w").write(json.dumps(m, indent=2))
EOF
}

new_case healthy
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
diag healthy
expect "healthy: browsers ok" $CHECK verdict "$C/r.json" browsers ok "Chromium can start the host"
expect "healthy: state ok" $CHECK verdict "$C/r.json" state ok
expect "healthy: trust store found" $CHECK verdict "$C/r.json" trust ok "Trust store with"
expect "healthy: last_start warns that no browser started it yet" $CHECK verdict "$C/r.json" last_start warning "No browser has started"
# Plain text = the JSON's text; the protocol request = the same verdicts.
host HOME="$C/home" TRUSTLENS_SYSTEM_ROOT="$C/root" TRUSTLENS_STATE_DIR="$C/state" \
	TRUSTLENS_DIAGNOSE_URL=https://nonexistent.invalid/ TRUSTLENS_PKCS11_MODULES=/nonexistent/p11.so \
	"$HOST" diagnose >"$C/plain.txt" 2>/dev/null
expect "diagnose text = the JSON's text" $CHECK text-matches "$C/r.json" "$C/plain.txt"
$PY - "$HOST" "$C" "$CHROMIUM_ID" >"$C/proto.json" 2>"$C/proto.err" <<'EOF'
import json, os, struct, subprocess, sys
host, c, ext = sys.argv[1:4]
env = {"PATH": "/usr/bin:/bin", "HOME": c + "/home", "TRUSTLENS_SYSTEM_ROOT": c + "/root",
       "TRUSTLENS_STATE_DIR": c + "/state", "TRUSTLENS_DIAGNOSE_URL": "https://nonexistent.invalid/",
       "TRUSTLENS_PKCS11_MODULES": "/nonexistent/p11.so"}
req = json.dumps({"id": 7, "type": "diagnose"}).encode()
# Keep the port open until the reply: EOF means the browser went away.
p = subprocess.Popen([host, "chrome-extension://%s/" % ext], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, env=env)
p.stdin.write(struct.pack("=I", len(req)) + req)
p.stdin.flush()
n = struct.unpack("=I", p.stdout.read(4))[0]
reply = json.loads(p.stdout.read(n))
p.stdin.close()
p.wait(timeout=30)
assert reply["id"] == 7 and reply["ok"], reply
print(json.dumps(reply["result"]))
EOF
expect "diagnose request: a reply" test -s "$C/proto.json"
expect "diagnose request: same verdicts as the CLI (browsers, trust, state)" $PY - "$C/proto.json" "$C/r.json" <<'EOF'
import json, sys
a = {x["area"]: x for x in json.load(open(sys.argv[1]))["areas"]}
b = {x["area"]: x for x in json.load(open(sys.argv[2]))["areas"]}
for k in ("host", "browsers", "trust", "network", "tokens", "state"):
    assert (a[k]["verdict"], a[k]["message"]) == (b[k]["verdict"], b[k]["message"]), (k, a[k], b[k])
EOF
# That request was a browser start by our extension: now recorded.
diag "after a start"
expect "last start by our extension: ok" $CHECK verdict "$C/r.json" last_start ok "for the TrustLens extension"

new_case missing
diag "manifest missing"
expect "manifest missing: browsers problem with the install fix" $CHECK verdict "$C/r.json" browsers problem "Chromium is installed but has no TrustLens manifest" "trustlens-host install --user --browser chromium"

new_case wrongpath
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
edit_manifest 'm["path"] = "/opt/gone/trustlens-host"'
diag "wrong path"
expect "wrong path: browsers problem" $CHECK verdict "$C/r.json" browsers problem "names /opt/gone/trustlens-host, which does not exist" "trustlens-host install --user --browser chromium"

new_case wrongid
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
edit_manifest 'm["allowed_origins"] = ["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"]'
diag "wrong id"
expect "wrong id: browsers problem" $CHECK verdict "$C/r.json" browsers problem "does not allow the extension $CHROMIUM_ID" "trustlens-host install"

new_case noslash
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
edit_manifest "m[\"allowed_origins\"] = [\"chrome-extension://$CHROMIUM_ID\"]"
diag "id without trailing slash"
expect "id without trailing slash: browsers problem" $CHECK verdict "$C/r.json" browsers problem "without the trailing slash"

new_case noexec
cp "$HOST" "$C/copy-of-host"
chmod 644 "$C/copy-of-host"
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
edit_manifest "m[\"path\"] = \"$C/copy-of-host\""
diag "non-executable host"
expect "non-executable host: browsers problem" $CHECK verdict "$C/r.json" browsers problem "which is not an executable file" "trustlens-host install"

new_case bom
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
printf '\357\273\277' | cat - "$(chromium_manifest)" >"$C/bom" && mv "$C/bom" "$(chromium_manifest)"
diag "manifest with BOM"
expect "manifest with BOM: browsers problem" $CHECK verdict "$C/r.json" browsers problem "byte-order mark"

new_case policy
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
mkdir -p "$C/root/etc/chromium/policies/managed"
echo '{"NativeMessagingBlocklist": ["*"]}' >"$C/root/etc/chromium/policies/managed/lockdown.json"
diag "blocking policy"
expect "NativeMessagingBlocklist: browsers problem" $CHECK verdict "$C/r.json" browsers problem "NativeMessagingBlocklist" "NativeMessagingAllowlist"
echo '{"NativeMessagingBlocklist": ["*"], "NativeMessagingAllowlist": ["org.trustlens.host"]}' >"$C/root/etc/chromium/policies/managed/lockdown.json"
echo '{"NativeMessagingUserLevelHosts": false}' >"$C/root/etc/chromium/policies/managed/userlevel.json"
diag "user-level hosts off"
expect "NativeMessagingUserLevelHosts false, per-user only: problem, install --system" $CHECK verdict "$C/r.json" browsers problem "ignores per-user hosts" "--system"

new_case snap
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
mkdir -p "$C/home/snap/firefox/common" "$C/home/.mozilla/native-messaging-hosts"
host HOME="$C/home" "$HOST" install --user --browser firefox >"$C/snap-install.out" 2>&1
expect "install notices Snap Firefox and explains the portal" grep -q "firefox: Snap package found: .*portal" "$C/snap-install.out"
diag "snap firefox"
expect "Snap Firefox: browsers warning with the portal sentence" $CHECK verdict "$C/r.json" browsers warning "Firefox is installed as a Snap package" "portal"

new_case foreign
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
host HOME="$C/home" TRUSTLENS_STATE_DIR="$C/state" "$HOST" chrome-extension://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/ </dev/null >"$C/refused.out" 2>/dev/null
expect "a foreign extension is refused (exit 1)" test $? -eq 1
diag "start by a foreign extension"
expect "last start by a foreign id: problem naming it" $CHECK verdict "$C/r.json" last_start problem "extension bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb, which this host does not allow" "allowed_extensions"

new_case readonly
host HOME="$C/home" "$HOST" install --user --browser chromium >/dev/null 2>&1
# Root ignores permission bits, not a read-only mount: a private mount
# namespace with the state directory bound read-only.
if unshare -m true 2>/dev/null; then
	unshare -m /bin/sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' sh "$C/state" \
		env -i PATH=/usr/bin:/bin HOME="$C/home" TRUSTLENS_SYSTEM_ROOT="$C/root" TRUSTLENS_STATE_DIR="$C/state" \
		TRUSTLENS_DIAGNOSE_URL=https://nonexistent.invalid/ TRUSTLENS_PKCS11_MODULES=/nonexistent/p11.so \
		"$HOST" diagnose --json >"$C/r.json" 2>"$C/r.err"
	expect "state read-only: problem" $CHECK verdict "$C/r.json" state problem "is not writable" "writable"
else
	bad "state read-only" "unshare -m is not available (needs root with CAP_SYS_ADMIN)"
fi
touch "$C/afile"
diag "state under a file" TRUSTLENS_STATE_DIR="$C/afile/state"
expect "state directory cannot be created: problem" $CHECK verdict "$C/r.json" state problem "cannot be created" "TRUSTLENS_STATE_DIR"

new_case offline
diag "no network"
expect "no network: warning, checks skipped" $CHECK verdict "$C/r.json" network warning "could not be resolved, so the network checks were skipped" "network connection"
diag "blocked reference site" TRUSTLENS_DIAGNOSE_URL=https://127.0.0.1/
expect "reference site on loopback: warning" $CHECK verdict "$C/r.json" network warning "refuses" "DNS"

# A reachable reference site over verified TLS (test PKI), then the clock.
pki=${TRUSTLENS_PKI:-$root/build/pki}
if [ ! -f "$pki/.complete" ]; then
	"$root/tests/pki/make-pki.sh" "$pki" >/dev/null 2>&1
fi
$PY "$root/tests/install/https_server.py" "$pki/leaves/ov/fullchain.pem" "$pki/leaves/ov/key.pem" "$work/port" &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
if [ -s "$work/port" ]; then
	port=$(cat "$work/port")
	new_case online
	echo "{\"allowed_ports\": [$port]}" >"$C/config.json"
	net_env=(TRUSTLENS_CONFIG="$C/config.json" TRUSTLENS_ALLOW_PRIVATE=1 TRUSTLENS_RESOLVE="ov.test:$port:127.0.0.1"
		TRUSTLENS_CA_FILE="$pki/ca-bundle.pem" TRUSTLENS_DIAGNOSE_URL="https://ov.test:$port/")
	diag "reference site reachable" "${net_env[@]}"
	expect "reachable reference site: network ok, clock right" $CHECK verdict "$C/r.json" network ok "the clock is right"
	expect "reachable reference site: timings reported" $PY -c 'import json,sys; p=json.load(open(sys.argv[1]))["network"]["probe"]; assert p["http_status"]==200 and p["tls_ms"]>=0 and p["dns_ms"]>=0, p' "$C/r.json"
	expect "TRUSTLENS_CA_FILE in use: trust warning" $CHECK verdict "$C/r.json" trust warning "instead of the system trust store"
	expect "TRUSTLENS_ALLOW_PRIVATE: host warning" $CHECK verdict "$C/r.json" host warning "private addresses"
	diag "clock wrong" "${net_env[@]}" TRUSTLENS_NOW=2026-01-01T00:00:00Z
	expect "clock months off: network problem with the NTP fix" $CHECK verdict "$C/r.json" network problem "clock is" "timedatectl set-ntp true"
	diag "untrusted reference site" "${net_env[@]/TRUSTLENS_CA_FILE=*/TRUSTLENS_CA_FILE=$pki/ca/unknown-root/cert.pem}"
	expect "reference site not verifiable: network problem" $CHECK verdict "$C/r.json" network problem "did not verify" "intercepts TLS"
else
	bad "reference site" "the test HTTPS server did not start"
fi
kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null
server_pid=

new_case badconfig
echo '{"no_such_key": 1}' >"$C/home/bad.json"
diag "broken config" TRUSTLENS_CONFIG="$C/home/bad.json"
expect "broken config: host problem naming the key" $CHECK verdict "$C/r.json" host problem "no_such_key" "Fix or remove"
expect "broken config: the home path is shown as ~" $CHECK absent "$C/r.json" "$C/home"

# ---------------------------------------------------------------- tokens

# A SoftHSM token shaped like an eID card whose Signature certificate
# expires in 10 days, and whose subject carries a (fictitious) national
# register number that must never appear in the report.
NRN=73040102749
PIN=582913
new_case token
if [ -x /usr/bin/softhsm2-util ] && [ -f /usr/lib/softhsm/libsofthsm2.so ] && command -v pkcs11-tool >/dev/null; then
	t=$C/token
	mkdir -p "$t/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$t/tokens" >"$t/softhsm2.conf"
	export SOFTHSM2_CONF=$t/softhsm2.conf
	{
		softhsm2-util --init-token --free --label BELPIC --so-pin 87654321 --pin "$PIN" &&
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$t/key.pem" \
				-out "$t/cert.pem" -days 10 -subj "/C=BE/CN=Alice Test (Signature)/SN=Test/GN=Alice/serialNumber=$NRN" &&
			openssl x509 -in "$t/cert.pem" -outform DER -out "$t/cert.der" &&
			pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label BELPIC --login --pin "$PIN" \
				--write-object "$t/cert.der" --type cert --id 03 --label Signature
	} >"$t/make.log" 2>&1
	made=$?
	unset SOFTHSM2_CONF
	if [ "$made" -eq 0 ]; then
		host HOME="$C/home" TRUSTLENS_SYSTEM_ROOT="$C/root" TRUSTLENS_STATE_DIR="$C/state" \
			TRUSTLENS_DIAGNOSE_URL=https://nonexistent.invalid/ SOFTHSM2_CONF="$t/softhsm2.conf" \
			TRUSTLENS_PKCS11_MODULES=/usr/lib/softhsm/libsofthsm2.so "$HOST" diagnose --json >"$C/r.json" 2>"$C/r.err"
		expect "expiring token certificate: tokens warning with the renewal fix" $CHECK verdict "$C/r.json" tokens warning "expires in" "Renew"
		expect "token report: no national register number" $CHECK absent "$C/r.json" "$NRN"
		expect "token report: no PIN" $CHECK absent "$C/r.json" "$PIN" 87654321
		expect "token report: no holder name" $CHECK absent "$C/r.json" "Alice"
	else
		bad "SoftHSM token" "could not be made (see $t/make.log)"
	fi
else
	bad "SoftHSM token" "softhsm2 / opensc missing (installers/deps-debian.sh installs them)"
fi
diag "configured module missing"
expect "configured PKCS#11 module missing: tokens warning naming it" $CHECK verdict "$C/r.json" tokens warning "The configured PKCS#11 module /nonexistent/p11.so was not found" "TRUSTLENS_PKCS11_MODULES"

# ---------------------------------------------------------------- privacy

# A home directory with a name that would stand out, every area filled.
new_case privacy
P=$work/home-of-Privacy-Marker
mkdir -p "$P"
host HOME="$P" "$HOST" install --user --browser chromium >/dev/null 2>&1
host HOME="$P" TRUSTLENS_SYSTEM_ROOT="$C/root" TRUSTLENS_DIAGNOSE_URL=https://nonexistent.invalid/ \
	TRUSTLENS_LOG="$P/tl.log" TRUSTLENS_PKCS11_MODULES=/nonexistent/p11.so "$HOST" diagnose --json >"$C/r.json" 2>"$C/r.err"
host HOME="$P" TRUSTLENS_SYSTEM_ROOT="$C/root" TRUSTLENS_DIAGNOSE_URL=https://nonexistent.invalid/ \
	TRUSTLENS_LOG="$P/tl.log" TRUSTLENS_PKCS11_MODULES=/nonexistent/p11.so "$HOST" diagnose >"$C/r.txt" 2>/dev/null
expect "privacy: home shown as ~ (JSON)" $CHECK absent "$C/r.json" "Privacy-Marker"
expect "privacy: home shown as ~ (text)" $CHECK absent "$C/r.txt" "Privacy-Marker"
expect "privacy: paths under home are shown with ~" grep -q '~/.config/chromium/NativeMessagingHosts/org.trustlens.host.json: ok' "$C/r.txt"
expect "privacy: the state directory is under ~" grep -q 'state directory ~/.local/state/trustlens: writable' "$C/r.txt"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
