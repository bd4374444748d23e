/*
 * fetch: the transfers of the fetch module (see fetch.h): libcurl's global
 * start; one easy handle per call with the address guard, the proxy
 * decision, TRUSTLENS_RESOLVE, timeouts and cancellation (fetch_xfer_*,
 * which fetch_tls.c's handshake uses too); and fetch_http for revocation
 * downloads. URLs are parsed in fetch_url.c. These three files are the only
 * ones that include <curl/curl.h>.
 *
 * What it refuses: ports other than 443 (80 too for revocation downloads)
 * unless the config lists them, and connections to any address that is not
 * globally routable unicast (addrguard) unless TRUSTLENS_ALLOW_PRIVATE is
 * set. The guard runs in libcurl's open-socket callback, on the very address
 * the socket is about to connect to, so a DNS answer that changes between
 * look-up and connect cannot get through. IP-literal hosts are also checked
 * before anything is sent. A download refuses any answer but HTTP 200, and
 * a Content-Type that could change the request.
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
 * Limits: the caller's max_bytes for a body (counted in the write
 * callback), the config's connect and total timeouts; no redirects, no
 * content decoding, no cookies, one fresh connection per call. Every call
 * has its own easy handle (and so its own SSL_CTX), so concurrent calls
 * from several workers share nothing. Cancellation is polled every
 * FETCH_POLL_MS.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/err.h>
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
#include "fetch_internal.h"
#include "log.h"
#include "version.h"

#define FETCH_POLL_MS 50

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -1;

void
fetch_set_err(char *err, size_t errlen, const char *fmt, ...)
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

/* ---- the address guard and cancellation ---- */

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

/* 1 once the caller has asked to give up. */
static int
cancel_requested(const struct xfer *x)
{
	return x->cancel != NULL && atomic_load(x->cancel) != 0;
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
	return cancel_requested(x);
}

/* ---- one transfer ---- */

static const char *
env_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The lower-case variable, else the upper-case one (libcurl's order). */
static const char *
env_either(const char *lower, const char *upper)
{
	const char *v = env_nonempty(lower);

	return v != NULL ? v : env_nonempty(upper);
}

/* The proxy libcurl would take from the environment for scheme, or NULL
 * (libcurl's rules: lower-case http_proxy only, either case otherwise). */
static const char *
env_proxy(const char *scheme)
{
	const char *p;

	if (strcmp(scheme, "https") == 0)
		p = env_either("https_proxy", "HTTPS_PROXY");
	else
		p = env_nonempty("http_proxy");
	if (p == NULL)
		p = env_either("all_proxy", "ALL_PROXY");
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

/* The proxy for u, or NULL to connect directly. Decided here and told to
 * libcurl, so that the guard knows where each socket goes (see the top of
 * this file). */
static const char *
proxy_for(const struct fetch_url *u)
{
	const char *proxy = env_proxy(u->scheme);
	const char *noproxy = env_either("no_proxy", "NO_PROXY");

	if (proxy != NULL && noproxy != NULL && noproxy_match(noproxy, u->host))
		proxy = NULL;
	return proxy;
}

/* TRUSTLENS_RESOLVE as curl's --resolve list ("host:port:address", IPv6
 * in brackets) in x->resolve. 0, or -1 when out of memory. */
static int
resolve_list(struct xfer *x)
{
	const struct config *cfg = x->cfg;
	struct curl_slist *l;
	char entry[FETCH_HOST_MAX + INET6_ADDRSTRLEN + 16];
	int rc = 0;
	size_t i;

	for (i = 0; rc == 0 && cfg != NULL && i < cfg->n_resolve; i++) {
		const struct config_resolve *r = &cfg->resolve[i];
		int v6 = strchr(r->address, ':') != NULL;

		if (snprintf(entry, sizeof(entry), "%s:%u:%s%s%s", r->host, r->port,
		    v6 ? "[" : "", r->address, v6 ? "]" : "") >= (int)sizeof(entry))
			continue;       /* a longer name cannot be a host's */
		l = curl_slist_append(x->resolve, entry);
		if (l == NULL)
			rc = -1;
		else
			x->resolve = l;
	}
	return rc;
}

int
fetch_set_longs(CURL *easy, const struct fetch_lopt *o, size_t n)
{
	int bad = 0;
	size_t i;

	for (i = 0; i < n; i++)
		bad |= curl_easy_setopt(easy, o[i].opt, o[i].val) != CURLE_OK;
	return bad;
}

void
fetch_xfer_init(struct xfer *x, const struct config *cfg, const atomic_int *cancel,
    enum fetch_kind kind)
{
	memset(x, 0, sizeof(*x));
	x->cfg = cfg;
	x->cancel = cancel;
	x->kind = kind;
}

enum tl_status
fetch_xfer_prepare(struct xfer *x, const struct fetch_url *u, const char *url,
    char *err, size_t errlen)
{
	enum tl_status st = TL_BLOCKED_ADDRESS;
	const struct config *cfg = x->cfg;
	int download = x->kind == FETCH_DOWNLOAD, bad = 0;
	enum addrguard_class cls = ADDR_PUBLIC;
	const char *proxy;
	const struct fetch_lopt common[] = {
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

	if (!port_allowed(cfg, u->port, download)) {
		fetch_set_err(err, errlen, "Port %u is not allowed (only %s and the "
		    "configured allowed_ports).", u->port, download ? "80, 443" : "443");
		goto out;
	}
	/* Cheap early exit, and the only guard an IP literal gets when a
	 * proxy connects for us. */
	if (u->is_ip && !private_allowed(cfg))
		cls = addrguard_classify_text(u->host);
	if (cls != ADDR_PUBLIC) {
		fetch_set_err(err, errlen, "%s is a %s address, which is not allowed.",
		    u->host, addrguard_class_name(cls));
		goto out;
	}
	st = TL_INTERNAL;
	if (fetch_global_init() != 0) {
		fetch_set_err(err, errlen, "The network library could not be started.");
		goto out;
	}
	x->easy = curl_easy_init();
	if (x->easy == NULL || resolve_list(x) != 0) {
		fetch_set_err(err, errlen, "Out of memory.");
		goto out;
	}
	proxy = proxy_for(u);
	x->via_proxy = proxy != NULL;
	if (x->via_proxy)
		log_msg("fetch: %s through a proxy, which resolves it", u->host);
	bad |= fetch_set_longs(x->easy, common, sizeof(common) / sizeof(common[0]));
	bad |= curl_easy_setopt(x->easy, CURLOPT_PROXY, proxy != NULL ? proxy : "") != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, xferinfo_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_XFERINFODATA, x) != CURLE_OK;
	if (x->resolve != NULL)
		bad |= curl_easy_setopt(x->easy, CURLOPT_RESOLVE, x->resolve) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR,
	    download ? "http,https" : "https") != CURLE_OK;
	x->setup_failed |= bad;
	st = TL_OK;
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
		if (cancel_requested(x)) {
			res = CURLE_ABORTED_BY_CALLBACK;
			goto out;
		}
		if (curl_multi_poll(m, NULL, 0, FETCH_POLL_MS, NULL) != CURLM_OK)
			goto out;
	}
	for (msg = curl_multi_info_read(m, &left); msg != NULL;
	    msg = curl_multi_info_read(m, &left)) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == x->easy)
			res = msg->data.result;
	}
out:
	*cancelled = res == CURLE_ABORTED_BY_CALLBACK && cancel_requested(x);
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
map_result(CURLcode res, const struct xfer *x, int cancelled, const char *host,
    char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;
	long proxy_code = 0;
	size_t i;

	if (res == CURLE_OK) {
		st = TL_OK;
	} else if (cancelled || res == CURLE_ABORTED_BY_CALLBACK) {
		fetch_set_err(err, errlen, "The request was cancelled.");
	} else if (res == CURLE_COULDNT_CONNECT && x->n_refused > 0 && x->n_opened == 0) {
		st = TL_BLOCKED_ADDRESS;
		fetch_set_err(err, errlen, "%s resolves to a %s address, which is not allowed.",
		    host, addrguard_class_name(x->refused));
	} else if (x->via_proxy && curl_easy_getinfo(x->easy, CURLINFO_HTTP_CONNECTCODE,
	    &proxy_code) == CURLE_OK && proxy_code != 0 &&
	    (proxy_code < 200 || proxy_code > 299)) {
		st = TL_CONNECT_FAILED;
		fetch_set_err(err, errlen, "The proxy refused to connect to %s (HTTP %ld).", host,
		    proxy_code);
	} else if (res == CURLE_WRITE_ERROR && x->too_large) {
		st = TL_TOO_LARGE;
		fetch_set_err(err, errlen, "The response from %s is too large.", host);
	} else if (res == CURLE_WRITE_ERROR && x->bad_status != 0) {
		st = TL_CONNECT_FAILED;
		fetch_set_err(err, errlen, "The server answered HTTP %ld.", x->bad_status);
	} else if (res == CURLE_OUT_OF_MEMORY || res == CURLE_WRITE_ERROR) {
		fetch_set_err(err, errlen, "Out of memory.");
	} else {
		st = TL_CONNECT_FAILED;
		fetch_set_err(err, errlen, "The connection to %s failed (libcurl error %d).", host,
		    (int)res);
		for (i = 0; i < sizeof(curl_results) / sizeof(curl_results[0]); i++) {
			if (curl_results[i].res == res) {
				st = x->kind == FETCH_HANDSHAKE ? curl_results[i].tls :
				    curl_results[i].http;
				fetch_set_err(err, errlen, "%s%s%s", curl_results[i].pre, host,
				    curl_results[i].post);
				break;
			}
		}
	}
	return st;
}

enum tl_status
fetch_xfer_run(struct xfer *x, const char *host, char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;
	CURLcode res;
	int cancelled = 0;

	if (x->setup_failed) {
		fetch_set_err(err, errlen, "The network library could not be set up.");
		goto out;
	}
	res = run_transfer(x, &cancelled);
	st = map_result(res, x, cancelled, host, err, errlen);
out:
	return st;
}

void
fetch_xfer_cleanup(struct xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->resolve);
	curl_slist_free_all(x->headers);
	sk_X509_pop_free(x->sent, X509_free);
	free(x->staple);
	free(x->body);
	memset(x, 0, sizeof(*x));
}

/* ---- fetch_http ---- */

/* The HTTP status of the response, 0 while there is none. */
static long
response_code(CURL *easy)
{
	long code = 0;

	if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
		code = 0;
	return code;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t len = size * nmemb, ret = 0, cap;
	long code;
	unsigned char *p;

	/* Only a 200 body is wanted: stop at the first byte of another. */
	code = response_code(x->easy);
	if (code != 200) {
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
	struct curl_slist *l;
	char *norm = NULL, ctype[160];
	int bad = 0;
	long code = 0;

	fetch_xfer_init(&x, cfg, cancel, FETCH_DOWNLOAD);
	x.max_bytes = max_bytes;
	memset(&u, 0, sizeof(u));
	fetch_set_err(err, errlen, "%s", "");
	if (resp == NULL || resp_len == NULL) {
		fetch_set_err(err, errlen, "Internal error: no result.");
		goto out;
	}
	*resp = NULL;
	*resp_len = 0;
	if (body != NULL && content_type_header(content_type, ctype, sizeof(ctype)) != 0) {
		st = TL_BAD_REQUEST;
		fetch_set_err(err, errlen, "The content type is not valid.");
		goto out;
	}
	st = fetch_parse_url_norm(url, &u, &norm, err, errlen);
	if (st != TL_OK)
		goto out;
	st = fetch_xfer_prepare(&x, &u, norm, err, errlen);
	if (st != TL_OK)
		goto out;
	if (body != NULL) {
		l = curl_slist_append(NULL, ctype);
		x.headers = l;
		/* No "Expect: 100-continue" round trip. */
		l = l != NULL ? curl_slist_append(x.headers, "Expect:") : NULL;
		bad |= l == NULL;
		bad |= curl_easy_setopt(x.easy, CURLOPT_POST, 1L) != CURLE_OK;
		bad |= curl_easy_setopt(x.easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body_len) != CURLE_OK;
		bad |= curl_easy_setopt(x.easy, CURLOPT_POSTFIELDS, body) != CURLE_OK;
		bad |= curl_easy_setopt(x.easy, CURLOPT_HTTPHEADER, x.headers) != CURLE_OK;
	} else {
		bad |= curl_easy_setopt(x.easy, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	}
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
	x.setup_failed |= bad;
	st = fetch_xfer_run(&x, u.host, err, errlen);
	if (st != TL_OK)
		goto out;
	code = response_code(x.easy);
	if (code != 200) {
		st = TL_CONNECT_FAILED;
		fetch_set_err(err, errlen, "The server answered HTTP %ld.", code);
		goto out;
	}
	if (x.body == NULL)
		x.body = malloc(1);     /* empty is a body */
	if (x.body == NULL) {
		st = TL_INTERNAL;
		fetch_set_err(err, errlen, "Out of memory.");
		goto out;
	}
	*resp = x.body;
	x.body = NULL;
	*resp_len = x.body_len;
out:
	log_msg("fetch: http %s %s port %u: %s, HTTP %ld, %zu bytes", body != NULL ?
	    "POST" : "GET", u.host[0] != '\0' ? u.host : "-", u.port, status_code(st),
	    code != 0 ? code : x.bad_status, resp_len != NULL ? *resp_len : 0);
	fetch_xfer_cleanup(&x);
	free(norm);
	return st;
}
