#!/bin/bash
# make demo: TrustLens at work, driven exactly as a browser drives it.
# Builds nothing itself (make demo builds first); needs only coreutils.
set -eu
host=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
origin=chrome-extension://npfbfafbeggpjpnhdcidonbfednhhnij/

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Writes one native-messaging frame: 32-bit length in native (here
# little-endian) byte order, then the JSON text.
frame() {
	n=$(printf '%s' "$1" | wc -c)
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((n & 255)) $(((n >> 8) & 255)) \
	    $(((n >> 16) & 255)) $(((n >> 24) & 255)))"
	printf '%s' "$1"
}

# Prints every frame in a file of replies, one per line.
replies() {
	f=$1 off=0 size=$(wc -c < "$f")
	while [ "$off" -lt "$size" ]; do
		len=$(od -An -tu4 -j "$off" -N4 "$f" | tr -d ' ')
		tail -c +$((off + 5)) "$f" | head -c "$len"
		echo
		off=$((off + 4 + len))
	done
}

bold "The host and the libraries it runs with"
"$host" --version

bold "Registering the host for Chromium (into a scratch directory)"
"$host" install --browser chromium --manifest-dir "$tmp/NativeMessagingHosts"
cat "$tmp/NativeMessagingHosts/org.trustlens.host.json"

bold "The extension says hello, as Chromium launches the host"
echo "> {\"id\":1,\"type\":\"hello\"}"
frame '{"id":1,"type":"hello"}' | "$host" "$origin" > "$tmp/out"
replies "$tmp/out"

bold "Two requests in flight at once: replies are matched by id"
{ frame '{"id":"a","type":"hello"}'; frame '{"id":"b","type":"site","url":"https://www.belgium.be/"}'; } |
	"$host" "$origin" > "$tmp/out"
replies "$tmp/out"

bold "A web page cannot use the host: another extension is refused"
frame '{"id":1,"type":"hello"}' |
	"$host" chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ > "$tmp/out" || true
replies "$tmp/out"

bold "Hostile input: a frame announcing 4 GiB is refused without allocating it"
printf '\377\377\377\377' | "$host" "$origin" > "$tmp/out" || true
replies "$tmp/out"

bold "Hostile input: duplicate keys, a JSON string, nesting 10,000 deep"
{ frame '{"id":1,"id":2,"type":"hello"}'; frame '"hello"'
  frame "$(head -c 10000 /dev/zero | tr '\0' '[')$(head -c 10000 /dev/zero | tr '\0' ']')"; } |
	"$host" "$origin" > "$tmp/out"
replies "$tmp/out"

bold "Who is behind a site: local test sites under a throwaway test PKI"
pki=$(cd "$(dirname "$0")/.." && pwd)/build/pki
port=18443
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT INT TERM
printf '{"allowed_ports": [%s]}\n' "$port" > "$tmp/config.json"
resolve=""
n=0
for leaf in qwac-ev ev ov dv expired unknownroot wronghost; do
	n=$((n + 1))
	addr=127.0.77.$n
	openssl s_server -accept "$addr:$port" -cert "$pki/leaves/$leaf/cert.pem" \
	    -key "$pki/leaves/$leaf/key.pem" -cert_chain "$pki/leaves/$leaf/chain.pem" \
	    -www -quiet >/dev/null 2>&1 &
	pids="$pids $!"
	resolve="$resolve${resolve:+,}$leaf.test:$port:$addr"
done
for i in $(seq 1 $n); do
	# Wait (bounded) until each server accepts connections.
	for try in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.77.$i/$port") 2>/dev/null && break
		sleep 0.05
	done
done
for leaf in qwac-ev ev ov dv expired unknownroot wronghost; do
	echo
	echo "\$ trustlens-host site https://$leaf.test:$port/"
	TRUSTLENS_CONFIG=$tmp/config.json TRUSTLENS_CA_FILE=$pki/ca-bundle.pem \
	TRUSTLENS_EV_ROOTS=$pki/ev-roots.json TRUSTLENS_QWAC_ROOTS=$pki/qwac-roots.pem \
	TRUSTLENS_RESOLVE=$resolve TRUSTLENS_ALLOW_PRIVATE=1 \
	TRUSTLENS_NOW=2026-06-01T00:00:00Z TRUSTLENS_STATE_DIR=$tmp/state \
	    "$host" site "https://$leaf.test:$port/" || true
done

bold "A web page cannot make the host probe the local network"
echo "\$ trustlens-host site https://router.example/   (resolving to 127.0.0.1)"
TRUSTLENS_RESOLVE=router.example:443:127.0.0.1 "$host" site https://router.example/ || true

bold "Who signed a mail: bundled samples (tests/demo-mail)"
mails=$(cd "$(dirname "$0")" && pwd)/demo-mail
for m in "$mails"/*.eml; do
	echo
	echo "\$ trustlens-host mail $(basename "$m")"
	TRUSTLENS_EID_ROOTS=$mails/eid-test-roots.pem TRUSTLENS_SMIME_CA_FILE=$mails/smime-test-ca.pem \
	TRUSTLENS_NOW=2026-06-01T00:00:00Z TRUSTLENS_STATE_DIR=$tmp/mailstate \
	    "$host" mail "$m" || true
done

bold "An eID card, and a mail signed with it (a SoftHSM test card shaped like a Belgian eID)"
tk=$tmp/tokens
if [ -r /usr/lib/softhsm/libsofthsm2.so ] &&
	bash "$(dirname "$0")/pkcs11/make-tokens.sh" "$tk" http://127.0.0.1:9/ http://127.0.0.1:9 >/dev/null 2>&1; then
	(
		# The card's own test root stands in for the Belgian eID roots.
		export SOFTHSM2_CONF=$tk/tokens/alice/softhsm2.conf TRUSTLENS_PKCS11_MODULES=/usr/lib/softhsm/libsofthsm2.so \
			TRUSTLENS_EID_ROOTS=$tk/pki/root.pem TRUSTLENS_STATE_DIR=$tmp/cardstate
		echo '$ trustlens-host tokens'
		"$host" tokens || true
		echo
		echo '$ trustlens-host sign-mail --in 3-unsigned.eml --out signed.eml    (the PIN, 739146, on a descriptor for the demo)'
		TRUSTLENS_PIN_FD=3 "$host" sign-mail --in "$mails/3-unsigned.eml" --out "$tmp/signed.eml" 3<<<739146 || true
		echo '$ trustlens-host mail signed.eml'
		"$host" mail "$tmp/signed.eml" || true
	)
else
	echo "(SoftHSM2 is not installed: run installers/deps-debian.sh)"
fi

bold "What a helpdesk asks for: trustlens-host diagnose (the verdict lines)"
"$host" diagnose 2>&1 | sed -n '1,11p' || true

bold "The browser extension on the same sites and mails (headless Chromium, screenshots)"
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -x /usr/bin/chromium ] && [ -d "$root/node_modules/playwright-core" ]; then
	TRUSTLENS_HOST=$host node "$root/tests/e2e/demo-shots.mjs" || echo "(the browser part failed; see tests/out/e2e/)"
else
	echo "(skipped: needs /usr/bin/chromium and npm ci; installers/deps-debian.sh installs both)"
fi
