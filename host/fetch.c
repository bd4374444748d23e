/*
 * fetch: all network I/O of the host, through libcurl (see fetch.h). The
 * only file that includes <curl/curl.h>.
 *
 * What it refuses: URLs other than absolute http(s) ones, credentials in
 * URLs, ports other than 443 (80 too for revocation downloads) unless the
 * config lists them, and connections to any address that is not globally
 * routable unicast (addrguard) unless TRUSTLENS_ALLOW_PRIVATE is set. The
 * guard runs in libcurl's open-socket callback, on the very address the
 * socket is about to connect to, so a DNS answer that changes between
 * look-up and connect cannot get through. IP-literal hosts are also checked
 * before anything is sent.
 *
 * Certificates: fetch_tls_handshake does NOT verify. It replaces OpenSSL's
 * chain verification with a callback (SSL_CTX_set_cert_verify_callback,
 * installed from CURLOPT_SSL_CTX_FUNCTION) that copies the chain exactly as
 * the server sent it and lets the handshake finish; the classifier then
 * verifies that copy against the configured trust at the injected
 * evaluation time. This is why CURLOPT_SSL_VERIFYPEER and VERIFYHOST are
 * off: NOT an "insecure" shortcut but a hand-over, and safe because the
 * connection carries nothing: CURLOPT_CONNECT_ONLY sends no request and
 * reads no data, and the callback marks the handshake's verify result as
 * X509_V_ERR_APPLICATION_VERIFICATION so nothing can mistake it for a
 * verified one. fetch_http, which does read data, verifies TLS as usual.
 *
 * Proxies: https_proxy / http_proxy / all_proxy / no_proxy are read from
 * the environment with libcurl's rules, and the decision is then given to
 * libcurl explicitly (CURLOPT_PROXY and CURLOPT_NOPROXY), so this file knows
 * for certain whether a socket goes to a proxy. The proxy's own address is
 * the user's choice and is not guarded; the proxy resolves the target
 * itself, so a target NAME is then not guarded either (an IP literal still
 * is, before connecting). If the no_proxy matching here ever differs from
 * libcurl's, the only effect is which of the two paths is taken: a direct
 * connection is always guarded.
 *
 * Limits: FETCH_CHAIN_MAX certificates of FETCH_CERT_MAX bytes, a staple of
 * FETCH_STAPLE_MAX bytes, the caller's max_bytes for a body (counted in the
 * write callback), the config's connect and total timeouts; no redirects,
 * no content decoding, no cookies, one fresh connection per call. Every
 * call has its own easy handle (and so its own SSL_CTX), so concurrent
 * calls from several workers share nothing. Cancellation is polled every
 * FETCH_POLL_MS.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <locale.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addrguard.h"
#include "config.h"
#include "fetch.h"
#include "log.h"
#include "version.h"

#define FETCH_POLL_MS 50

/* One transfer's state, shared with libcurl's and OpenSSL's callbacks. */
struct xfer {
	const struct config *cfg;
	const atomic_int *cancel;
	CURL *easy;
	int via_proxy;                  /* every socket goes to the proxy */
	unsigned n_opened, n_refused;   /* sockets the guard let open / refused */
	enum addrguard_class refused;   /* class of the last refused address */

	/* fetch_tls_handshake: what the (last) handshake showed. */
	const SSL *ssl;                 /* the handshake the fields below are from */
	STACK_OF(X509) *sent;
	unsigned char *staple;
	size_t staple_len;
	char tls_version[16];
	int capture_failed;             /* out of memory or leaf too large */
	int truncated;                  /* the server sent more than we keep */

	/* fetch_http: the body. */
	unsigned char *body;
	size_t body_len, body_cap, max_bytes;
	int too_large;
	long bad_status;
};

#define STR_(x) #x
#define STR(x) STR_(x)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -1;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
}

static void
init_run(void)
{
	const curl_version_info_data *v;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return;
	/* The chain and the staple are captured through OpenSSL callbacks. */
	v = curl_version_info(CURLVERSION_NOW);
	if (v != NULL && v->ssl_version != NULL && strncmp(v->ssl_version, "OpenSSL/", 8) == 0)
		init_result = 0;
	else
		log_msg("fetch: libcurl is not built with OpenSSL");
}

int
fetch_global_init(void)
{
	pthread_once(&init_once, init_run);
	return init_result;
}

/* ---- URLs and hosts ---- */

/* 1 when host is an IP literal (no brackets) or a plausible DNS name:
 * nothing that could change the meaning of a URL it is put into. */
static int
host_valid(const char *host, int *is_ip)
{
	unsigned char buf[sizeof(struct in6_addr)];
	size_t i, len, label_len = 0;
	int ok = 0, label_numeric = 1;

	*is_ip = 0;
	len = host != NULL ? strnlen(host, FETCH_HOST_MAX + 1) : 0;
	if (len == 0 || len > FETCH_HOST_MAX)
		goto out;
	if (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1) {
		*is_ip = ok = 1;
		goto out;
	}
	for (i = 0; i < len; i++) {
		char c = host[i];

		if (c == '.') {
			if (label_len == 0)
				goto out;               /* empty label */
			if (i + 1 < len) {              /* not the root's trailing dot */
				label_len = 0;
				label_numeric = 1;
			}
		} else if (c >= '0' && c <= '9') {
			label_len++;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-' || c == '_') {
			label_len++;
			label_numeric = 0;
		} else {
			goto out;
		}
	}
	/* A last label that is a number makes a malformed IPv4 address
	 * (WHATWG URL: "ends in a number"), never a DNS name. */
	ok = label_len > 0 && !label_numeric;
out:
	return ok;
}

/* Parses url; on TL_OK fills *out and, when norm != NULL, sets *norm to
 * the normalised URL (host in punycode), malloc'd. */
static enum tl_status
parse_url(const char *url, struct fetch_url *out, char **norm, char *err,
    size_t errlen)
{
	enum tl_status st = TL_BAD_URL;
	const char *msg = "The URL could not be parsed.";
	CURLU *u = NULL;
	CURLUcode rc;
	char *part = NULL, *host = NULL, *end = NULL;
	size_t len = 0, i, hlen;
	unsigned long port;
	int is_ip, non_ascii = 0;
	locale_t utf8 = (locale_t)0, saved = (locale_t)0;

	memset(out, 0, sizeof(*out));
	if (norm != NULL)
		*norm = NULL;
	msg = "No URL was given.";
	if (url == NULL || (len = strnlen(url, FETCH_URL_MAX + 1)) == 0)
		goto out;
	msg = "The URL is longer than " STR(FETCH_URL_MAX) " bytes.";
	if (len > FETCH_URL_MAX)
		goto out;
	msg = "The URL contains spaces or control characters.";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c == 0x7f)
			goto out;
		non_ascii |= c >= 0x80;
	}
	/* The scheme is checked before libcurl sees the URL. */
	msg = "Only http and https URLs are accepted.";
	if (strncasecmp(url, "https:", 6) == 0)
		i = 6;
	else if (strncasecmp(url, "http:", 5) == 0)
		i = 5;
	else
		goto out;
	/* libcurl tolerates "https:/host" and "https:///host"; only the
	 * absolute form is taken. */
	msg = "The URL is not absolute.";
	if (strncmp(url + i, "//", 2) != 0 || url[i + 2] == '/')
		goto out;
	/* libcurl 7.88 converts IDNs with idn2_lookup_ul(), which reads the
	 * name in the locale's charset: give this thread (only) a UTF-8 one,
	 * as URLs are UTF-8. Without it IDNs are refused. */
	if (non_ascii) {
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		if (utf8 != (locale_t)0)
			saved = uselocale(utf8);
	}
	msg = "Out of memory.";
	u = curl_url();
	if (u == NULL) {
		st = TL_INTERNAL;
		goto out;
	}
	/* No CURLU_NON_SUPPORT_SCHEME, no CURLU_DEFAULT_SCHEME, no guessing. */
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	msg = rc == CURLUE_BAD_PORT_NUMBER ? "The URL's port is not valid." :
	    rc == CURLUE_NO_HOST ? "The URL has no host." : "The URL could not be parsed.";
	if (rc != CURLUE_OK)
		goto out;
	msg = "The URL must not contain a user name or password.";
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK)
		goto out;
	msg = "IPv6 zone identifiers are not accepted.";
	if (curl_url_get(u, CURLUPART_ZONEID, &part, 0) == CURLUE_OK)
		goto out;
	msg = "Only http and https URLs are accepted.";
	if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK ||
	    (strcmp(part, "https") != 0 && strcmp(part, "http") != 0))
		goto out;
	memcpy(out->scheme, part, strlen(part) + 1);
	curl_free(part);
	part = NULL;

	msg = "The URL's host name is not valid.";
	if (curl_url_get(u, CURLUPART_HOST, &host, CURLU_PUNYCODE) != CURLUE_OK)
		goto out;
	hlen = strlen(host);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		hlen -= 2;
		host[hlen] = '\0';
	}
	for (i = 0; i < hlen; i++) {
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	}
	if (hlen == 0)
		msg = "The URL has no host.";
	if (hlen == 0 || hlen > FETCH_HOST_MAX || !host_valid(host, &is_ip))
		goto out;
	memcpy(out->host, host, hlen + 1);
	out->is_ip = is_ip;

	msg = "The URL's port is not valid.";
	if (curl_url_get(u, CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	errno = 0;
	port = strtoul(part, &end, 10);
	if (errno != 0 || end == part || *end != '\0' || port == 0 || port > 65535)
		goto out;
	out->port = (unsigned)port;
	curl_free(part);
	part = NULL;

	msg = "The URL could not be parsed.";
	if (norm != NULL) {
		if (curl_url_get(u, CURLUPART_URL, &part, CURLU_PUNYCODE) != CURLUE_OK)
			goto out;
		*norm = strdup(part);
		if (*norm == NULL) {
			st = TL_INTERNAL;
			msg = "Out of memory.";
			goto out;
		}
	}
	st = TL_OK;
out:
	if (st != TL_OK) {
		memset(out, 0, sizeof(*out));
		set_err(err, errlen, "%s", msg);
	}
	curl_free(part);
	curl_free(host);
	curl_url_cleanup(u);
	if (saved != (locale_t)0)
		uselocale(saved);
	if (utf8 != (locale_t)0)
		freelocale(utf8);
	return st;
}

enum tl_status
fetch_parse_url(const char *url, struct fetch_url *out, char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;

	if (out != NULL)
		st = parse_url(url, out, NULL, err, errlen);
	return st;
}

/* ---- the address guard and the other callbacks ---- */

static int
private_allowed(const struct config *cfg)
{
	return cfg != NULL && cfg->allow_private;
}

static int
port_allowed(const struct config *cfg, unsigned port, int http)
{
	int ok = port == 443 || (http && port == 80);
	size_t i;

	for (i = 0; !ok && cfg != NULL && i < cfg->n_ports; i++)
		ok = cfg->ports[i] == port;
	return ok;
}

/* Runs for every socket libcurl opens: the address guard. */
static curl_socket_t
open_socket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct xfer *x = clientp;
	curl_socket_t s = CURL_SOCKET_BAD;
	enum addrguard_class cls;

	if (purpose != CURLSOCKTYPE_IPCXN)
		goto out;
	cls = addrguard_classify(&addr->addr, addr->addrlen);
	/* A proxy's address is the user's configuration, not the page's. */
	if (!x->via_proxy && cls != ADDR_PUBLIC && !private_allowed(x->cfg)) {
		x->n_refused++;
		x->refused = cls;
		log_msg("fetch: refused a %s address", addrguard_class_name(cls));
		goto out;
	}
	s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (s != CURL_SOCKET_BAD)
		x->n_opened++;
out:
	return s;
}

static int
xferinfo_cb(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	const struct xfer *x = clientp;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return x->cancel != NULL && atomic_load(x->cancel) != 0;
}

/* Starts the capture afresh when a new handshake (SSL object) shows up:
 * behind an HTTPS proxy the proxy's handshake comes first and the site's
 * last, and the last one is the site's. */
static void
capture_reset_for(struct xfer *x, const SSL *ssl)
{
	if (x->ssl != ssl) {
		x->ssl = ssl;
		sk_X509_pop_free(x->sent, X509_free);
		x->sent = NULL;
		free(x->staple);
		x->staple = NULL;
		x->staple_len = 0;
		x->capture_failed = 0;
		x->truncated = 0;
		x->tls_version[0] = '\0';
	}
}

/* Replaces OpenSSL's chain verification (SSL_CTX_set_cert_verify_callback):
 * copies the chain the server sent, leaf first, and lets the handshake go
 * on WITHOUT verifying anything. Safe only because fetch_tls_handshake
 * sends and reads nothing over the connection and the classifier verifies
 * the copy afterwards; see the top of this file. */
static int
capture_chain_cb(X509_STORE_CTX *sctx, void *arg)
{
	struct xfer *x = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	X509 *leaf = X509_STORE_CTX_get0_cert(sctx), *c;
	STACK_OF(X509) *untrusted = X509_STORE_CTX_get0_untrusted(sctx);
	STACK_OF(X509) *sent = sk_X509_new_null();
	int i, n = untrusted != NULL ? sk_X509_num(untrusted) : 0, der_len;

	capture_reset_for(x, ssl);
	if (ssl != NULL)
		snprintf(x->tls_version, sizeof(x->tls_version), "%s", SSL_get_version(ssl));
	if (sent == NULL || leaf == NULL)
		goto fail;
	/* OpenSSL passes the whole received chain, leaf included, as the
	 * untrusted stack; do not count on that: the leaf goes first. */
	for (i = -1; i < n && sk_X509_num(sent) < FETCH_CHAIN_MAX; i++) {
		c = i < 0 ? leaf : sk_X509_value(untrusted, i);
		if (i >= 0 && c == leaf)
			continue;
		der_len = i2d_X509(c, NULL);
		if (der_len <= 0 || der_len > FETCH_CERT_MAX) {
			if (i < 0)
				goto fail;      /* no usable leaf: nothing to show */
			break;                  /* keep the part before it */
		}
		if (!X509_up_ref(c))
			goto fail;
		if (sk_X509_push(sent, c) <= 0) {
			X509_free(c);
			goto fail;
		}
	}
	x->truncated = i < n;
	sk_X509_pop_free(x->sent, X509_free);
	x->sent = sent;
	sent = NULL;
	goto done;
fail:
	x->capture_failed = 1;
	sk_X509_pop_free(sent, X509_free);
done:
	/* Never reads as "verified" (SSL_get_verify_result). */
	X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
	return 1;
}

/* OCSP status callback: copies the staple, if any. Returning 1 accepts
 * whatever came: the staple is verified later, with the chain. */
static int
capture_staple_cb(SSL *ssl, void *arg)
{
	struct xfer *x = arg;
	const unsigned char *p = NULL;
	long len;

	capture_reset_for(x, ssl);
	len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	if (len <= 0 || p == NULL || x->staple != NULL)
		goto out;
	if ((unsigned long)len > FETCH_STAPLE_MAX) {
		log_msg("fetch: ignored an OCSP staple of %ld bytes", len);
		goto out;
	}
	x->staple = malloc((size_t)len);
	if (x->staple == NULL) {
		x->capture_failed = 1;
		goto out;
	}
	memcpy(x->staple, p, (size_t)len);
	x->staple_len = (size_t)len;
out:
	return 1;
}

/* CURLOPT_SSL_CTX_FUNCTION. libcurl 7.88 (OpenSSL) makes a new SSL_CTX for
 * each connection and calls this before creating the SSL from it, so the
 * callbacks and their argument belong to this transfer alone (the test
 * suite runs overlapping handshakes to check it). */
static CURLcode
ssl_ctx_cb(CURL *easy, void *sslctx, void *userptr)
{
	SSL_CTX *ctx = sslctx;
	CURLcode res = CURLE_SSL_CERTPROBLEM;

	(void)easy;
	SSL_CTX_set_cert_verify_callback(ctx, capture_chain_cb, userptr);
	if (SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp) == 1 &&
	    SSL_CTX_set_tlsext_status_cb(ctx, capture_staple_cb) == 1 &&
	    SSL_CTX_set_tlsext_status_arg(ctx, userptr) == 1)
		res = CURLE_OK;
	return res;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t len = size * nmemb, ret = 0, cap;
	long code = 0;
	unsigned char *p;

	/* Only a 200 body is wanted: stop at the first byte of another. */
	if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
	    code != 200) {
		x->bad_status = code;
		goto out;
	}
	if (len > x->max_bytes - x->body_len) {
		x->too_large = 1;
		goto out;
	}
	if (x->body_len + len > x->body_cap) {
		cap = x->body_cap != 0 ? x->body_cap :
		    x->max_bytes < 16384 ? x->max_bytes : 16384;
		while (cap < x->body_len + len)         /* ends: <= max_bytes */
			cap = cap > x->max_bytes / 2 ? x->max_bytes : cap * 2;
		p = realloc(x->body, cap);
		if (p == NULL)
			goto out;
		x->body = p;
		x->body_cap = cap;
	}
	memcpy(x->body + x->body_len, data, len);
	x->body_len += len;
	ret = len;
out:
	return ret;
}

/* ---- one transfer ---- */

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The proxy libcurl would take from the environment for scheme, or NULL
 * (libcurl's rules: lower-case http_proxy only, either case otherwise). */
static const char *
env_proxy(const char *scheme)
{
	const char *p = NULL;

	if (strcmp(scheme, "https") == 0) {
		p = env_nonempty("https_proxy");
		if (p == NULL)
			p = env_nonempty("HTTPS_PROXY");
	} else {
		p = env_nonempty("http_proxy");
	}
	if (p == NULL)
		p = env_nonempty("all_proxy");
	if (p == NULL)
		p = env_nonempty("ALL_PROXY");
	return p;
}

/* 1 when host is listed in a no_proxy value: "*", names matching
 * themselves and their subdomains (a leading dot ignored), IP literals by
 * equality (libcurl also knows CIDR ranges: such hosts go to the proxy
 * here, which is the safe way to differ). */
static int
noproxy_match(const char *list, const char *host)
{
	size_t hlen = strlen(host), tlen;
	const char *t = list;
	int match = 0;

	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	while (!match && *t != '\0') {
		t += strspn(t, ", \t");
		tlen = strcspn(t, ", \t");
		match = tlen == 1 && t[0] == '*';
		if (!match && tlen > 0 && t[0] == '.') {
			t++;
			tlen--;
		}
		if (tlen > 0 && t[tlen - 1] == '.')
			tlen--;
		if (!match && tlen > 0 && tlen <= hlen &&
		    strncasecmp(host + hlen - tlen, t, tlen) == 0 &&
		    (tlen == hlen || host[hlen - tlen - 1] == '.'))
			match = 1;
		t += strcspn(t, ", \t");
	}
	return match;
}

struct lopt {
	CURLoption opt;
	long val;
};

static int
set_longs(CURL *h, const struct lopt *o, size_t n)
{
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++)
		bad |= curl_easy_setopt(h, o[i].opt, o[i].val) != CURLE_OK;
	return bad;
}

/* Everything before the transfer that both entry points share: up-front
 * checks (port, IP literal), the easy handle and its common settings. */
static enum tl_status
transfer_prepare(struct xfer *x, const char *scheme, const char *host, int is_ip,
    unsigned port, int http, struct curl_slist **resolve, char *err, size_t errlen)
{
	enum tl_status st = TL_BLOCKED_ADDRESS;
	const struct config *cfg = x->cfg;
	enum addrguard_class cls = ADDR_PUBLIC;
	const char *proxy, *noproxy;
	struct curl_slist *l;
	char entry[FETCH_HOST_MAX + INET6_ADDRSTRLEN + 16];
	int bad = 0;
	size_t i;

	if (!port_allowed(cfg, port, http)) {
		set_err(err, errlen, "Port %u is not allowed (only %s and the "
		    "configured allowed_ports).", port, http ? "80, 443" : "443");
		goto out;
	}
	/* Cheap early exit, and the only guard an IP literal gets when a
	 * proxy connects for us. */
	if (is_ip && !private_allowed(cfg))
		cls = addrguard_classify_text(host);
	if (cls != ADDR_PUBLIC) {
		set_err(err, errlen, "%s is a %s address, which is not allowed.", host,
		    addrguard_class_name(cls));
		goto out;
	}
	st = TL_INTERNAL;
	if (fetch_global_init() != 0) {
		set_err(err, errlen, "The network library could not be started.");
		goto out;
	}
	x->easy = curl_easy_init();
	if (x->easy == NULL)
		goto nomem;
	/* TRUSTLENS_RESOLVE: "host:port:address", IPv6 in brackets. */
	for (i = 0; cfg != NULL && i < cfg->n_resolve; i++) {
		const struct config_resolve *r = &cfg->resolve[i];
		int v6 = strchr(r->address, ':') != NULL;

		if (snprintf(entry, sizeof(entry), "%s:%u:%s%s%s", r->host, r->port,
		    v6 ? "[" : "", r->address, v6 ? "]" : "") >= (int)sizeof(entry))
			continue;       /* a longer name cannot be a host's */
		l = curl_slist_append(*resolve, entry);
		if (l == NULL)
			goto nomem;
		*resolve = l;
	}
	/* Decide about the proxy here and tell libcurl, so that the guard
	 * knows where each socket goes (see the top of this file). */
	proxy = env_proxy(scheme);
	noproxy = env_nonempty("no_proxy");
	if (noproxy == NULL)
		noproxy = env_nonempty("NO_PROXY");
	if (proxy != NULL && noproxy != NULL && noproxy_match(noproxy, host))
		proxy = NULL;
	x->via_proxy = proxy != NULL;
	if (x->via_proxy)
		log_msg("fetch: %s through a proxy, which resolves it", host);
	{
		const struct lopt common[] = {
			{ CURLOPT_NOSIGNAL, 1L },       /* threads */
			{ CURLOPT_NOPROGRESS, 0L },     /* for xferinfo_cb */
			{ CURLOPT_CONNECTTIMEOUT_MS, cfg != NULL && cfg->connect_timeout_ms ?
			    (long)cfg->connect_timeout_ms : (long)CONFIG_DEFAULT_CONNECT_TIMEOUT_MS },
			{ CURLOPT_TIMEOUT_MS, cfg != NULL && cfg->timeout_ms ?
			    (long)cfg->timeout_ms : (long)CONFIG_DEFAULT_TIMEOUT_MS },
			{ CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_WHATEVER },
			{ CURLOPT_FOLLOWLOCATION, 0L },
			{ CURLOPT_FRESH_CONNECT, 1L },
			{ CURLOPT_FORBID_REUSE, 1L },
			{ CURLOPT_SSL_SESSIONID_CACHE, 0L }, /* a resumed session has no chain */
		};

		bad |= set_longs(x->easy, common, sizeof(common) / sizeof(common[0]));
	}
	bad |= curl_easy_setopt(x->easy, CURLOPT_PROXY, proxy != NULL ? proxy : "") != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, xferinfo_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_XFERINFODATA, x) != CURLE_OK;
	if (*resolve != NULL)
		bad |= curl_easy_setopt(x->easy, CURLOPT_RESOLVE, *resolve) != CURLE_OK;
	if (bad) {
		set_err(err, errlen, "The network library could not be set up.");
		goto out;
	}
	st = TL_OK;
	goto out;
nomem:
	set_err(err, errlen, "Out of memory.");
out:
	return st;
}

/* Runs the transfer on a private multi handle so that *cancel is looked at
 * every FETCH_POLL_MS, not only when libcurl calls the progress callback
 * (which slows down to about once a second while a handshake stalls). */
static CURLcode
run_transfer(struct xfer *x, int *cancelled)
{
	CURLcode res = CURLE_OUT_OF_MEMORY;
	CURLM *m = curl_multi_init();
	CURLMsg *msg;
	int running = 1, left, added = 0;

	*cancelled = 0;
	ERR_clear_error();
	if (m == NULL || curl_multi_add_handle(m, x->easy) != CURLM_OK)
		goto out;
	added = 1;
	res = CURLE_FAILED_INIT;
	for (;;) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			goto out;
		if (running == 0)
			break;
		if (x->cancel != NULL && atomic_load(x->cancel) != 0) {
			res = CURLE_ABORTED_BY_CALLBACK;
			goto out;
		}
		if (curl_multi_poll(m, NULL, 0, FETCH_POLL_MS, NULL) != CURLM_OK)
			goto out;
	}
	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == x->easy)
			res = msg->data.result;
	}
out:
	*cancelled = res == CURLE_ABORTED_BY_CALLBACK && x->cancel != NULL &&
	    atomic_load(x->cancel) != 0;
	if (added)
		curl_multi_remove_handle(m, x->easy);
	curl_multi_cleanup(m);
	ERR_clear_error();
	return res;
}

/* libcurl's results as statuses (for a handshake, for HTTP) and one
 * sentence around the host name. */
static const struct {
	CURLcode res;
	enum tl_status tls, http;
	const char *pre, *post;
} curl_results[] = {
	{ CURLE_COULDNT_RESOLVE_HOST, TL_DNS_FAILED, TL_DNS_FAILED,
	  "The host name ", " could not be resolved." },
	{ CURLE_COULDNT_RESOLVE_PROXY, TL_CONNECT_FAILED, TL_CONNECT_FAILED,
	  "The proxy for ", " could not be resolved." },
	{ CURLE_COULDNT_CONNECT, TL_CONNECT_FAILED, TL_CONNECT_FAILED,
	  "Could not connect to ", "." },
	{ CURLE_OPERATION_TIMEDOUT, TL_TIMEOUT, TL_TIMEOUT, "", " did not answer in time." },
	{ CURLE_FILESIZE_EXCEEDED, TL_TOO_LARGE, TL_TOO_LARGE,
	  "The response from ", " is too large." },
	{ CURLE_SSL_CONNECT_ERROR, TL_TLS_FAILED, TL_TLS_FAILED,
	  "The TLS handshake with ", " failed." },
	{ CURLE_PEER_FAILED_VERIFICATION, TL_TLS_FAILED, TL_TLS_FAILED,
	  "The TLS certificate of ", " is not trusted." },
	{ CURLE_SSL_CIPHER, TL_TLS_FAILED, TL_TLS_FAILED, "The TLS handshake with ", " failed." },
	{ CURLE_SSL_CERTPROBLEM, TL_TLS_FAILED, TL_TLS_FAILED, "The TLS handshake with ", " failed." },
	{ CURLE_SSL_CACERT_BADFILE, TL_TLS_FAILED, TL_TLS_FAILED, "The TLS handshake with ", " failed." },
	{ CURLE_SSL_ISSUER_ERROR, TL_TLS_FAILED, TL_TLS_FAILED, "The TLS handshake with ", " failed." },
	{ CURLE_RECV_ERROR, TL_TLS_FAILED, TL_CONNECT_FAILED, "The connection to ", " broke off." },
	{ CURLE_SEND_ERROR, TL_TLS_FAILED, TL_CONNECT_FAILED, "The connection to ", " broke off." },
	{ CURLE_GOT_NOTHING, TL_TLS_FAILED, TL_CONNECT_FAILED, "The connection to ", " broke off." },
};

static enum tl_status
map_result(CURLcode res, const struct xfer *x, int cancelled, int tls,
    const char *host, char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;
	long proxy_code = 0;
	size_t i;

	if (res == CURLE_OK) {
		st = TL_OK;
	} else if (cancelled || res == CURLE_ABORTED_BY_CALLBACK) {
		set_err(err, errlen, "The request was cancelled.");
	} else if (res == CURLE_COULDNT_CONNECT && x->n_refused > 0 && x->n_opened == 0) {
		st = TL_BLOCKED_ADDRESS;
		set_err(err, errlen, "%s resolves to a %s address, which is not allowed.",
		    host, addrguard_class_name(x->refused));
	} else if (x->via_proxy && curl_easy_getinfo(x->easy, CURLINFO_HTTP_CONNECTCODE,
	    &proxy_code) == CURLE_OK && proxy_code != 0 &&
	    (proxy_code < 200 || proxy_code > 299)) {
		st = TL_CONNECT_FAILED;
		set_err(err, errlen, "The proxy refused to connect to %s (HTTP %ld).", host,
		    proxy_code);
	} else if (res == CURLE_WRITE_ERROR && x->too_large) {
		st = TL_TOO_LARGE;
		set_err(err, errlen, "The response from %s is too large.", host);
	} else if (res == CURLE_WRITE_ERROR && x->bad_status != 0) {
		st = TL_CONNECT_FAILED;
		set_err(err, errlen, "The server answered HTTP %ld.", x->bad_status);
	} else if (res == CURLE_OUT_OF_MEMORY || res == CURLE_WRITE_ERROR) {
		set_err(err, errlen, "Out of memory.");
	} else {
		st = TL_CONNECT_FAILED;
		set_err(err, errlen, "The connection to %s failed (libcurl error %d).", host,
		    (int)res);
		for (i = 0; i < sizeof(curl_results) / sizeof(curl_results[0]); i++) {
			if (curl_results[i].res == res) {
				st = tls ? curl_results[i].tls : curl_results[i].http;
				set_err(err, errlen, "%s%s%s", curl_results[i].pre, host,
				    curl_results[i].post);
				break;
			}
		}
	}
	return st;
}

/* ---- entry points ---- */

enum tl_status
fetch_tls_handshake(const struct config *cfg, const char *host, unsigned port,
    const atomic_int *cancel, struct fetch_tls *out, char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;
	struct xfer x;
	struct curl_slist *resolve = NULL;
	char url[FETCH_HOST_MAX + 32], *ip = NULL;
	int is_ip = 0, cancelled = 0, bad = 0;
	CURLcode res;
	const struct lopt tls_opts[] = {
		{ CURLOPT_CONNECT_ONLY, 1L },   /* TCP + TLS, then stop: no request */
		{ CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1 },
		/* Verification is handed to the classifier: capture_chain_cb
		 * copies the chain, the classifier verifies it at the
		 * evaluation time. Not a way to trust this connection. */
		{ CURLOPT_SSL_VERIFYPEER, 0L },
		{ CURLOPT_SSL_VERIFYHOST, 0L },
	};

	memset(&x, 0, sizeof(x));
	x.cfg = cfg;
	x.cancel = cancel;
	set_err(err, errlen, "%s", "");
	if (out == NULL) {
		set_err(err, errlen, "Internal error: no result.");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	if (!host_valid(host, &is_ip)) {
		st = TL_BAD_URL;
		set_err(err, errlen, "The host name is not valid.");
		goto out;
	}
	st = transfer_prepare(&x, "https", host, is_ip, port, 0, &resolve, err, errlen);
	if (st != TL_OK)
		goto out;
	st = TL_INTERNAL;
	snprintf(url, sizeof(url), strchr(host, ':') != NULL ? "https://[%s]:%u/" :
	    "https://%s:%u/", host, port);
	bad |= set_longs(x.easy, tls_opts, sizeof(tls_opts) / sizeof(tls_opts[0]));
	bad |= curl_easy_setopt(x.easy, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_SSL_CTX_DATA, &x) != CURLE_OK;
	if (bad) {
		set_err(err, errlen, "The network library could not be set up.");
		goto out;
	}
	res = run_transfer(&x, &cancelled);
	st = map_result(res, &x, cancelled, 1, host, err, errlen);
	if (st != TL_OK)
		goto out;
	if (x.capture_failed || x.sent == NULL || sk_X509_num(x.sent) == 0) {
		st = TL_TLS_FAILED;
		set_err(err, errlen, "%s completed a TLS handshake without a usable "
		    "certificate.", host);
		goto out;
	}
	if (curl_easy_getinfo(x.easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL)
		snprintf(out->address, sizeof(out->address), "%s", ip);
	snprintf(out->tls_version, sizeof(out->tls_version), "%s", x.tls_version);
	out->sent = x.sent;
	out->truncated = x.truncated;
	x.sent = NULL;
	out->staple = x.staple;
	x.staple = NULL;
	out->staple_len = x.staple_len;
out:
	log_msg("fetch: tls %s port %u: %s, %d certificates, staple %zu bytes, %s",
	    st != TL_BAD_URL && host != NULL ? host : "-", port, status_code(st),
	    out != NULL && out->sent != NULL ? sk_X509_num(out->sent) : 0,
	    out != NULL ? out->staple_len : 0,
	    out != NULL && out->tls_version[0] != '\0' ? out->tls_version : "-");
	curl_easy_cleanup(x.easy);
	curl_slist_free_all(resolve);
	sk_X509_pop_free(x.sent, X509_free);
	free(x.staple);
	return st;
}

void
fetch_tls_clear(struct fetch_tls *t)
{
	if (t != NULL) {
		sk_X509_pop_free(t->sent, X509_free);
		free(t->staple);
		memset(t, 0, sizeof(*t));
	}
}

/* "Content-Type: <type>" into buf, or -1 when the type could change the
 * request (CR, LF, other control characters) or does not fit. */
static int
content_type_header(const char *type, char *buf, size_t len)
{
	int ok = type != NULL && type[0] != '\0';
	size_t i;

	for (i = 0; ok && type[i] != '\0'; i++)
		ok = (unsigned char)type[i] >= 0x20 && type[i] != 0x7f;
	if (ok)
		ok = snprintf(buf, len, "Content-Type: %s", type) < (int)len;
	return ok ? 0 : -1;
}

enum tl_status
fetch_http(const struct config *cfg, const char *url, const char *content_type,
    const unsigned char *body, size_t body_len, size_t max_bytes,
    const atomic_int *cancel, unsigned char **resp, size_t *resp_len, char *err,
    size_t errlen)
{
	enum tl_status st = TL_INTERNAL;
	struct xfer x;
	struct fetch_url u;
	struct curl_slist *resolve = NULL, *headers = NULL, *l = NULL;
	char *norm = NULL, ctype[160];
	int cancelled = 0, bad = 0;
	long code = 0;
	CURLcode res;

	memset(&x, 0, sizeof(x));
	memset(&u, 0, sizeof(u));
	x.cfg = cfg;
	x.cancel = cancel;
	x.max_bytes = max_bytes;
	set_err(err, errlen, "%s", "");
	if (resp == NULL || resp_len == NULL) {
		set_err(err, errlen, "Internal error: no result.");
		goto out;
	}
	*resp = NULL;
	*resp_len = 0;
	if (body != NULL && content_type_header(content_type, ctype, sizeof(ctype)) != 0) {
		st = TL_BAD_REQUEST;
		set_err(err, errlen, "The content type is not valid.");
		goto out;
	}
	st = parse_url(url, &u, &norm, err, errlen);
	if (st != TL_OK)
		goto out;
	st = transfer_prepare(&x, u.scheme, u.host, u.is_ip, u.port, 1, &resolve, err,
	    errlen);
	if (st != TL_OK)
		goto out;
	st = TL_INTERNAL;
	if (body != NULL) {
		l = curl_slist_append(NULL, ctype);
		headers = l;
		/* No "Expect: 100-continue" round trip. */
		l = l != NULL ? curl_slist_append(headers, "Expect:") : NULL;
		bad |= l == NULL;
		bad |= curl_easy_setopt(x.easy, CURLOPT_POST, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(x.easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len) != CURLE_OK;
		bad |= curl_easy_setopt(x.easy, CURLOPT_POSTFIELDS, body) != CURLE_OK;
		bad |= curl_easy_setopt(x.easy, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
	} else {
		bad |= curl_easy_setopt(x.easy, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	}
	bad |= curl_easy_setopt(x.easy, CURLOPT_URL, norm) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_USERAGENT, "TrustLens/" TL_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_WRITEDATA, &x) != CURLE_OK;
	/* Refuses at once a Content-Length over the cap; the write callback
	 * counts in every case. No CURLOPT_ACCEPT_ENCODING: nothing is
	 * decompressed, so the cap is on the bytes received. */
	bad |= curl_easy_setopt(x.easy, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)(max_bytes > (size_t)INT64_MAX ? INT64_MAX : max_bytes)) != CURLE_OK;
	/* A CRL or OCSP response over https: ordinary verification. */
	if (cfg != NULL && cfg->ca_file != NULL)
		bad |= curl_easy_setopt(x.easy, CURLOPT_CAINFO, cfg->ca_file) != CURLE_OK;
	if (bad) {
		set_err(err, errlen, "The network library could not be set up.");
		goto out;
	}
	res = run_transfer(&x, &cancelled);
	st = map_result(res, &x, cancelled, 0, u.host, err, errlen);
	if (st != TL_OK)
		goto out;
	if (curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
	    code != 200) {
		st = TL_CONNECT_FAILED;
		set_err(err, errlen, "The server answered HTTP %ld.", code);
		goto out;
	}
	if (x.body == NULL && (x.body = malloc(1)) == NULL) {  /* empty is a body */
		st = TL_INTERNAL;
		set_err(err, errlen, "Out of memory.");
		goto out;
	}
	*resp = x.body;
	x.body = NULL;
	*resp_len = x.body_len;
out:
	log_msg("fetch: http %s %s port %u: %s, HTTP %ld, %zu bytes", body != NULL ?
	    "POST" : "GET", u.host[0] != '\0' ? u.host : "-", u.port, status_code(st),
	    code != 0 ? code : x.bad_status, resp_len != NULL ? *resp_len : 0);
	curl_easy_cleanup(x.easy);
	curl_slist_free_all(resolve);
	curl_slist_free_all(headers);
	free(x.body);
	free(norm);
	return st;
}
