/*
 * fetch: URL parsing, and real connections to servers this test runs itself
 * on loopback (threads using OpenSSL's SSL API and plain sockets, ports from
 * bind(0)), so nothing leaves the machine: the address guard (names and
 * literals, before any packet), ports, DNS failure, refused connections, a
 * TLS handshake capturing the chain leaf first and the OCSP staple byte for
 * byte (TLS 1.2 and 1.3), a silent server (timeout), cancellation, proxies,
 * and HTTP downloads with their byte cap.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fetch.h"
#include "harness.h"

/* ---- URL parsing ---- */

static const struct {
	const char *url;
	enum tl_status st;
	const char *scheme, *host;
	unsigned port;
	int is_ip;
} url_cases[] = {
	{ "https://example.com/", TL_OK, "https", "example.com", 443, 0 },
	{ "https://example.com", TL_OK, "https", "example.com", 443, 0 },
	{ "http://example.com/a?b=c#d", TL_OK, "http", "example.com", 80, 0 },
	{ "HTTPS://EXAMPLE.COM/Path", TL_OK, "https", "example.com", 443, 0 },
	{ "https://Sub.Example.COM:8443/x", TL_OK, "https", "sub.example.com", 8443, 0 },
	{ "https://example.com:443/", TL_OK, "https", "example.com", 443, 0 },
	{ "http://example.com:443/", TL_OK, "http", "example.com", 443, 0 },
	{ "https://example.com:1/", TL_OK, "https", "example.com", 1, 0 },
	{ "https://example.com:65535/", TL_OK, "https", "example.com", 65535, 0 },
	{ "https://b\xc3\xbc" "cher.example/", TL_OK, "https", "xn--bcher-kva.example", 443, 0 },
	{ "https://B\xc3\x9c" "CHER.example/", TL_OK, "https", "xn--bcher-kva.example", 443, 0 },
	{ "https://xn--bcher-kva.example/", TL_OK, "https", "xn--bcher-kva.example", 443, 0 },
	{ "https://[2001:db8::1]:8443/", TL_OK, "https", "2001:db8::1", 8443, 1 },
	{ "https://[::1]/", TL_OK, "https", "::1", 443, 1 },
	{ "https://[2001:DB8::A]/", TL_OK, "https", "2001:db8::a", 443, 1 },
	{ "https://192.0.2.1/", TL_OK, "https", "192.0.2.1", 443, 1 },
	{ "https://127.0.0.1:8443/", TL_OK, "https", "127.0.0.1", 8443, 1 },
	{ "https://my_host.example/", TL_OK, "https", "my_host.example", 443, 0 },
	{ "https://example.com./", TL_OK, "https", "example.com.", 443, 0 },
	/* libcurl normalises like a browser; the guard then sees 127.0.0.1. */
	{ "https://0x7f.1/", TL_OK, "https", "127.0.0.1", 443, 1 },
	{ "https://%31%32%37.0.0.1/", TL_OK, "https", "127.0.0.1", 443, 1 },
	{ "https://ex%41mple.com/", TL_OK, "https", "example.com", 443, 0 },
	{ "http://[::ffff:127.0.0.1]/", TL_OK, "http", "::ffff:127.0.0.1", 80, 1 },
	{ "https://@example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com\\@evil.example/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://exa%00mple.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https:///example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://user@example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://user:pass@example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://:pass@example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://exa mple.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com/a b", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ " https://example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com/\r\nX: y", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com/\t", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "javascript:alert(1)", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "file:///etc/passwd", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "ftp://example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "data:text/plain,hi", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "wss://example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "example.com", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "//example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https:example.com", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https:/example.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https:///path", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://:443/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com:0/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com:65536/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com:99999999999/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com:-1/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://example.com:http/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://[fe80::1%25eth0]/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://[::1/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://exa*mple.com/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://a..b/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "https://1.2.3.999/", TL_BAD_URL, NULL, NULL, 0, 0 },
	{ "", TL_BAD_URL, NULL, NULL, 0, 0 },
};

static void
parse_table(void)
{
	struct fetch_url u;
	char err[160], *longurl;
	size_t i, n = sizeof(url_cases) / sizeof(url_cases[0]);
	enum tl_status st;

	CHECK(n >= 30);
	for (i = 0; i < n; i++) {
		err[0] = '\0';
		memset(&u, 0x5a, sizeof(u));
		st = fetch_parse_url(url_cases[i].url, &u, err, sizeof(err));
		CHECK_MSG(st == url_cases[i].st, "case %zu: status %d (%s)", i, (int)st, err);
		if (st != TL_OK) {
			CHECK_MSG(err[0] != '\0', "case %zu: no message", i);
			/* Messages never echo the URL. */
			CHECK_MSG(url_cases[i].url[0] == '\0' ||
			    strstr(err, url_cases[i].url) == NULL, "case %zu echoes", i);
			CHECK(u.host[0] == '\0' && u.port == 0);
			continue;
		}
		CHECK_STR(u.scheme, url_cases[i].scheme);
		CHECK_STR(u.host, url_cases[i].host);
		CHECK_MSG(u.port == url_cases[i].port, "case %zu: port %u", i, u.port);
		CHECK_MSG(u.is_ip == url_cases[i].is_ip, "case %zu: is_ip", i);
	}
	CHECK(fetch_parse_url(NULL, &u, err, sizeof(err)) == TL_BAD_URL);

	/* FETCH_URL_MAX is accepted, one more byte is not. */
	longurl = malloc(FETCH_URL_MAX + 2);
	CHECK(longurl != NULL);
	if (longurl == NULL)
		return;
	memcpy(longurl, "https://example.com/", 20);
	memset(longurl + 20, 'a', FETCH_URL_MAX - 20);
	longurl[FETCH_URL_MAX] = '\0';
	CHECK(fetch_parse_url(longurl, &u, err, sizeof(err)) == TL_OK);
	longurl[FETCH_URL_MAX] = 'a';
	longurl[FETCH_URL_MAX + 1] = '\0';
	CHECK(fetch_parse_url(longurl, &u, err, sizeof(err)) == TL_BAD_URL);
	CHECK(strstr(err, "longer") != NULL);
	free(longurl);
}

/* ---- helpers ---- */

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A listening socket on loopback with a port from bind(0). */
static int
listen_on(int family, unsigned *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*port = 0;
	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? sin->sin_port : sin6->sin6_port);
	return fd;
}

/* Accepts one connection within 5 s, with 5 s socket timeouts. */
static int
accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	struct timeval tv = { .tv_sec = 5 };
	int fd = -1;

	if (poll(&p, 1, 5000) == 1)
		fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* strstr, ignoring ASCII case. */
static const char *
find_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	}
	return NULL;
}

/* 1 when a connection is waiting on the listening socket. */
static int
pending(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, 100) == 1;
}

/* Writable strings for struct config_resolve (its fields are not const). */
static char name_loop[] = "loop.test";
static char addr_loop4[] = "127.0.0.1";
static char addr_loop6[] = "::1";
static char name_site[] = "site.test";
static char name_proxied[] = "proxied.example";
static char name_crl[] = "crl.test";

static void
test_config(struct config *cfg, unsigned *ports, size_t n_ports, int allow_private)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->allow_private = allow_private;
	cfg->ports = ports;
	cfg->n_ports = n_ports;
	cfg->timeout_ms = 5000;
	cfg->connect_timeout_ms = 5000;
}

/* ---- certificates, made in-process ---- */

static EVP_PKEY *
new_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static X509 *
new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int ca)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_EXTENSION *ext = NULL;
	X509_NAME *name;
	int ok = 0;

	if (x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	ok = X509_set_version(x, 2) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
	    X509_set_pubkey(x, key) &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)cn, -1, -1, 0) &&
	    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name);
	if (ok && ca) {
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints, "critical,CA:TRUE");
		ok = ext != NULL && X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (ok)
		ok = X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* ---- a TLS server thread ---- */

struct tls_server {
	int lfd;
	unsigned port;
	SSL_CTX *ctx;
	const unsigned char *staple;
	size_t staple_len;
	int delay_ms;                 /* before the handshake */
	int garbage;                  /* answer with bytes that are not TLS */
	pthread_t th;
	/* results */
	int handshakes, status_requested;
	char sni[64];
};

static int
server_status_cb(SSL *ssl, void *arg)
{
	struct tls_server *s = arg;
	unsigned char *copy;
	int ret = SSL_TLSEXT_ERR_NOACK;

	s->status_requested = 1;
	if (s->staple != NULL) {
		copy = OPENSSL_malloc(s->staple_len);
		if (copy != NULL) {
			memcpy(copy, s->staple, s->staple_len);
			SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)s->staple_len);
			ret = SSL_TLSEXT_ERR_OK;
		}
	}
	return ret;
}

static void *
tls_server_run(void *arg)
{
	struct tls_server *s = arg;
	char buf[4096];
	const char *name;
	SSL *ssl = NULL;
	int fd = accept_one(s->lfd);

	if (fd < 0)
		return NULL;
	if (s->delay_ms > 0)
		sleep_ms(s->delay_ms);
	if (s->garbage) {
		(void)!recv(fd, buf, sizeof(buf), 0);
		memset(buf, 'G', sizeof(buf));
		(void)!send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		goto out;
	}
	ssl = SSL_new(s->ctx);
	if (ssl == NULL || !SSL_set_fd(ssl, fd))
		goto out;
	if (SSL_accept(ssl) == 1) {
		s->handshakes++;
		name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		if (name != NULL)
			snprintf(s->sni, sizeof(s->sni), "%s", name);
		/* Until the client goes away. */
		while (SSL_read(ssl, buf, sizeof(buf)) > 0)
			;
	}
out:
	SSL_free(ssl);
	close(fd);
	ERR_clear_error();
	return NULL;
}

/* leaf signed by ca; the server sends leaf, ca and `extra`. */
static int
tls_server_start(struct tls_server *s, int family, X509 *leaf, EVP_PKEY *key,
    X509 *ca, STACK_OF(X509) *extra, int max_version)
{
	int i;

	s->lfd = listen_on(family, &s->port);
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (s->lfd < 0 || s->ctx == NULL)
		return -1;
	if (!SSL_CTX_use_certificate(s->ctx, leaf) || !SSL_CTX_use_PrivateKey(s->ctx, key))
		return -1;
	if (ca != NULL && !SSL_CTX_add1_chain_cert(s->ctx, ca))
		return -1;
	for (i = 0; extra != NULL && i < sk_X509_num(extra); i++) {
		if (!SSL_CTX_add1_chain_cert(s->ctx, sk_X509_value(extra, i)))
			return -1;
	}
	if (max_version != 0 && !SSL_CTX_set_max_proto_version(s->ctx, max_version))
		return -1;
	SSL_CTX_set_tlsext_status_cb(s->ctx, server_status_cb);
	SSL_CTX_set_tlsext_status_arg(s->ctx, s);
	return pthread_create(&s->th, NULL, tls_server_run, s) == 0 ? 0 : -1;
}

static void
tls_server_stop(struct tls_server *s)
{
	pthread_join(s->th, NULL);
	SSL_CTX_free(s->ctx);
	close(s->lfd);
}

/* ---- the guard, before and at connect ---- */

static void
guard_tests(void)
{
	struct config cfg;
	struct fetch_tls t;
	struct config_resolve res;
	unsigned ports[1], port;
	char err[256];
	struct timespec t0;
	enum tl_status st;
	int lfd = listen_on(AF_INET, &port);

	CHECK(lfd >= 0);
	ports[0] = port;

	/* A name that resolves to loopback: refused at connect, nothing sent. */
	res.host = name_loop;
	res.port = port;
	res.address = addr_loop4;
	test_config(&cfg, ports, 1, 0);
	cfg.resolve = &res;
	cfg.n_resolve = 1;
	st = fetch_tls_handshake(&cfg, "loop.test", port, NULL, &t, err, sizeof(err));
	CHECK_MSG(st == TL_BLOCKED_ADDRESS, "status %d: %s", (int)st, err);
	CHECK(strstr(err, "loopback") != NULL);
	CHECK(t.sent == NULL && t.staple == NULL);
	CHECK(!pending(lfd));

	/* "localhost" is resolved by libcurl itself: still guarded. */
	st = fetch_tls_handshake(&cfg, "localhost", port, NULL, &t, err, sizeof(err));
	CHECK_MSG(st == TL_BLOCKED_ADDRESS, "status %d: %s", (int)st, err);
	CHECK(!pending(lfd));

	/* IPv6 resolve entries are passed in brackets. */
	res.address = addr_loop6;
	st = fetch_tls_handshake(&cfg, "loop.test", port, NULL, &t, err, sizeof(err));
	CHECK_MSG(st == TL_BLOCKED_ADDRESS, "status %d: %s", (int)st, err);
	cfg.n_resolve = 0;

	/* Literals are refused before anything happens. */
	static const char *const literals[] = {
		"10.0.0.1", "127.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1",
		"fe80::1", "0.0.0.0", "100.64.0.1", "2002:7f00:1::1",
	};
	size_t i;

	test_config(&cfg, NULL, 0, 0);
	for (i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		st = fetch_tls_handshake(&cfg, literals[i], 443, NULL, &t, err, sizeof(err));
		CHECK_MSG(st == TL_BLOCKED_ADDRESS, "%s: status %d", literals[i], (int)st);
		CHECK_MSG(ms_since(&t0) < 200, "%s took %ld ms", literals[i], ms_since(&t0));
	}

	/* Ports: 443 and the configured ones only. */
	st = fetch_tls_handshake(&cfg, "example.com", 8443, NULL, &t, err, sizeof(err));
	CHECK_MSG(st == TL_BLOCKED_ADDRESS, "status %d", (int)st);
	CHECK(strstr(err, "8443") != NULL);
	st = fetch_tls_handshake(&cfg, "example.com", 0, NULL, &t, err, sizeof(err));
	CHECK(st == TL_BLOCKED_ADDRESS);
	test_config(&cfg, ports, 1, 1);
	st = fetch_tls_handshake(&cfg, "example.com", 80, NULL, &t, err, sizeof(err));
	CHECK(st == TL_BLOCKED_ADDRESS);

	/* Hosts that could change the URL they are put in. */
	static const char *const bad_hosts[] = {
		"", "exa mple.com", "a/b", "a@b", "a:b", "[::1]", "a..b", "1.2.3.999",
	};
	for (i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
		st = fetch_tls_handshake(&cfg, bad_hosts[i], 443, NULL, &t, err, sizeof(err));
		CHECK_MSG(st == TL_BAD_URL, "\"%s\": status %d", bad_hosts[i], (int)st);
	}
	CHECK(fetch_tls_handshake(&cfg, NULL, 443, NULL, &t, err, sizeof(err)) == TL_BAD_URL);
	CHECK(fetch_tls_handshake(&cfg, "a.test", 443, NULL, NULL, err, sizeof(err)) ==
	    TL_INTERNAL);

	/* DNS failure (no network needed: .invalid never resolves). */
	test_config(&cfg, NULL, 0, 0);
	st = fetch_tls_handshake(&cfg, "nosuch.invalid", 443, NULL, &t, err, sizeof(err));
	CHECK_MSG(st == TL_DNS_FAILED, "status %d: %s", (int)st, err);

	/* A closed port, with the guard lifted. */
	close(lfd);
	test_config(&cfg, ports, 1, 1);
	st = fetch_tls_handshake(&cfg, "127.0.0.1", port, NULL, &t, err, sizeof(err));
	CHECK_MSG(st == TL_CONNECT_FAILED, "status %d: %s", (int)st, err);
}

/* ---- real handshakes ---- */

struct pki {
	EVP_PKEY *ca_key, *leaf_key, *leaf2_key;
	X509 *ca, *leaf, *leaf2;
	STACK_OF(X509) *many;
};

static int
pki_make(struct pki *p)
{
	EVP_PKEY *k;
	X509 *c;
	char cn[32];
	int i;

	memset(p, 0, sizeof(*p));
	p->ca_key = new_key();
	p->leaf_key = new_key();
	p->leaf2_key = new_key();
	p->many = sk_X509_new_null();
	if (p->ca_key == NULL || p->leaf_key == NULL || p->leaf2_key == NULL || p->many == NULL)
		return -1;
	p->ca = new_cert(p->ca_key, "TrustLens Test CA", NULL, NULL, 1);
	p->leaf = new_cert(p->leaf_key, "site.test", p->ca, p->ca_key, 0);
	p->leaf2 = new_cert(p->leaf2_key, "other.test", p->ca, p->ca_key, 0);
	if (p->ca == NULL || p->leaf == NULL || p->leaf2 == NULL)
		return -1;
	for (i = 0; i < FETCH_CHAIN_MAX + 3; i++) {
		snprintf(cn, sizeof(cn), "Extra %d", i);
		k = new_key();
		c = k != NULL ? new_cert(k, cn, NULL, NULL, 1) : NULL;
		EVP_PKEY_free(k);
		if (c == NULL || sk_X509_push(p->many, c) <= 0) {
			X509_free(c);
			return -1;
		}
	}
	return 0;
}

static void
pki_free(struct pki *p)
{
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->leaf_key);
	EVP_PKEY_free(p->leaf2_key);
	X509_free(p->ca);
	X509_free(p->leaf);
	X509_free(p->leaf2);
	sk_X509_pop_free(p->many, X509_free);
}

static void
handshake_case(const struct pki *p, int max_version, const char *want_version,
    int with_staple)
{
	static unsigned char staple[1500];
	struct tls_server s;
	struct config cfg;
	struct config_resolve res;
	struct fetch_tls t;
	unsigned ports[1];
	char err[256];
	enum tl_status st;
	size_t i;

	for (i = 0; i < sizeof(staple); i++)
		staple[i] = (unsigned char)(i * 7 + 3);
	memset(&s, 0, sizeof(s));
	if (with_staple) {
		s.staple = staple;
		s.staple_len = sizeof(staple);
	}
	CHECK(tls_server_start(&s, AF_INET, p->leaf, p->leaf_key, p->ca, NULL,
	    max_version) == 0);
	ports[0] = s.port;
	test_config(&cfg, ports, 1, 1);
	res.host = name_site;
	res.port = s.port;
	res.address = addr_loop4;
	cfg.resolve = &res;
	cfg.n_resolve = 1;
	st = fetch_tls_handshake(&cfg, "site.test", s.port, NULL, &t, err, sizeof(err));
	tls_server_stop(&s);
	CHECK_MSG(st == TL_OK, "%s: status %d: %s", want_version, (int)st, err);
	CHECK(s.handshakes == 1);
	CHECK(s.status_requested == 1);
	CHECK_STR(s.sni, "site.test");
	CHECK(t.sent != NULL && sk_X509_num(t.sent) == 2);
	if (t.sent != NULL && sk_X509_num(t.sent) == 2) {
		CHECK(X509_cmp(sk_X509_value(t.sent, 0), p->leaf) == 0);
		CHECK(X509_cmp(sk_X509_value(t.sent, 1), p->ca) == 0);
	}
	if (with_staple) {
		CHECK_MSG(t.staple != NULL && t.staple_len == sizeof(staple) &&
		    memcmp(t.staple, staple, sizeof(staple)) == 0, "%s: staple %zu bytes",
		    want_version, t.staple_len);
	} else {
		CHECK(t.staple == NULL && t.staple_len == 0);
	}
	CHECK_STR(t.tls_version, want_version);
	CHECK_STR(t.address, "127.0.0.1");
	fetch_tls_clear(&t);
	CHECK(t.sent == NULL && t.staple == NULL);
	fetch_tls_clear(&t);
	fetch_tls_clear(NULL);
}

static void
handshake_more(const struct pki *p)
{
	struct tls_server s;
	struct config cfg;
	struct fetch_tls t;
	unsigned ports[1];
	char err[256];
	enum tl_status st;

	/* A chain longer than the cap: the first FETCH_CHAIN_MAX, leaf first. */
	memset(&s, 0, sizeof(s));
	CHECK(tls_server_start(&s, AF_INET, p->leaf, p->leaf_key, p->ca, p->many, 0) == 0);
	ports[0] = s.port;
	test_config(&cfg, ports, 1, 1);
	st = fetch_tls_handshake(&cfg, "127.0.0.1", s.port, NULL, &t, err, sizeof(err));
	tls_server_stop(&s);
	CHECK_MSG(st == TL_OK, "status %d: %s", (int)st, err);
	CHECK(t.sent != NULL && sk_X509_num(t.sent) == FETCH_CHAIN_MAX);
	if (t.sent != NULL && sk_X509_num(t.sent) == FETCH_CHAIN_MAX) {
		CHECK(X509_cmp(sk_X509_value(t.sent, 0), p->leaf) == 0);
		CHECK(X509_cmp(sk_X509_value(t.sent, 1), p->ca) == 0);
		CHECK(X509_cmp(sk_X509_value(t.sent, 2), sk_X509_value(p->many, 0)) == 0);
	}
	CHECK(s.sni[0] == '\0');        /* no SNI for an IP literal */
	fetch_tls_clear(&t);

	/* IPv6 literal, when this machine has ::1. */
	memset(&s, 0, sizeof(s));
	if (tls_server_start(&s, AF_INET6, p->leaf, p->leaf_key, NULL, NULL, 0) == 0) {
		ports[0] = s.port;
		st = fetch_tls_handshake(&cfg, "::1", s.port, NULL, &t, err, sizeof(err));
		tls_server_stop(&s);
		CHECK_MSG(st == TL_OK, "status %d: %s", (int)st, err);
		CHECK(t.sent != NULL && sk_X509_num(t.sent) == 1);
		CHECK_STR(t.address, "::1");
		fetch_tls_clear(&t);
	} else {
		SSL_CTX_free(s.ctx);
		if (s.lfd >= 0)
			close(s.lfd);
	}

	/* Something that is not TLS. */
	memset(&s, 0, sizeof(s));
	s.garbage = 1;
	CHECK(tls_server_start(&s, AF_INET, p->leaf, p->leaf_key, NULL, NULL, 0) == 0);
	ports[0] = s.port;
	st = fetch_tls_handshake(&cfg, "127.0.0.1", s.port, NULL, &t, err, sizeof(err));
	tls_server_stop(&s);
	CHECK_MSG(st == TL_TLS_FAILED, "status %d: %s", (int)st, err);
	CHECK(t.sent == NULL);
}

/* Two handshakes at once, each must see its own server's certificate: the
 * capture state is per call. */
struct hs_job {
	const struct config *cfg;
	const char *host;
	unsigned port;
	enum tl_status st;
	struct fetch_tls t;
};

static void *
hs_job_run(void *arg)
{
	struct hs_job *j = arg;
	char err[256];

	j->st = fetch_tls_handshake(j->cfg, j->host, j->port, NULL, &j->t, err, sizeof(err));
	return NULL;
}

static void
handshake_concurrent(const struct pki *p)
{
	struct tls_server s1, s2;
	struct hs_job j1, j2;
	struct config cfg;
	unsigned ports[2];
	pthread_t th1, th2;
	struct timespec t0;
	long ms;

	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	s1.delay_ms = s2.delay_ms = 500;
	CHECK(tls_server_start(&s1, AF_INET, p->leaf, p->leaf_key, p->ca, NULL, 0) == 0);
	CHECK(tls_server_start(&s2, AF_INET, p->leaf2, p->leaf2_key, p->ca, NULL, 0) == 0);
	ports[0] = s1.port;
	ports[1] = s2.port;
	test_config(&cfg, ports, 2, 1);
	memset(&j1, 0, sizeof(j1));
	memset(&j2, 0, sizeof(j2));
	j1.cfg = j2.cfg = &cfg;
	j1.host = j2.host = "127.0.0.1";
	j1.port = s1.port;
	j2.port = s2.port;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(pthread_create(&th1, NULL, hs_job_run, &j1) == 0);
	CHECK(pthread_create(&th2, NULL, hs_job_run, &j2) == 0);
	pthread_join(th1, NULL);
	pthread_join(th2, NULL);
	ms = ms_since(&t0);
	tls_server_stop(&s1);
	tls_server_stop(&s2);
	CHECK(j1.st == TL_OK && j2.st == TL_OK);
	CHECK_MSG(ms < 900, "not concurrent: %ld ms", ms);
	CHECK(j1.t.sent != NULL && X509_cmp(sk_X509_value(j1.t.sent, 0), p->leaf) == 0);
	CHECK(j2.t.sent != NULL && X509_cmp(sk_X509_value(j2.t.sent, 0), p->leaf2) == 0);
	fetch_tls_clear(&j1.t);
	fetch_tls_clear(&j2.t);
}

/* ---- a server that never speaks: timeout and cancellation ---- */

struct canceller {
	atomic_int *flag;
	int after_ms;
};

static void *
cancel_run(void *arg)
{
	struct canceller *c = arg;

	sleep_ms(c->after_ms);
	atomic_store(c->flag, 1);
	return NULL;
}

static void
silent_tests(void)
{
	struct config cfg;
	struct fetch_tls t;
	struct canceller c;
	atomic_int cancel;
	unsigned ports[1], port;
	char err[256];
	struct timespec t0;
	enum tl_status st;
	pthread_t th;
	long ms;
	/* Listens but never accepts: the kernel completes TCP, nobody speaks. */
	int lfd = listen_on(AF_INET, &port);

	CHECK(lfd >= 0);
	ports[0] = port;
	test_config(&cfg, ports, 1, 1);
	cfg.timeout_ms = 1000;
	cfg.connect_timeout_ms = 1000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = fetch_tls_handshake(&cfg, "127.0.0.1", port, NULL, &t, err, sizeof(err));
	ms = ms_since(&t0);
	CHECK_MSG(st == TL_TIMEOUT, "status %d: %s", (int)st, err);
	CHECK_MSG(ms >= 900 && ms < 1800, "timeout after %ld ms", ms);

	/* Cancelled from another thread after 200 ms of a stalled handshake. */
	cfg.timeout_ms = 10000;
	cfg.connect_timeout_ms = 10000;
	atomic_init(&cancel, 0);
	c.flag = &cancel;
	c.after_ms = 200;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(pthread_create(&th, NULL, cancel_run, &c) == 0);
	st = fetch_tls_handshake(&cfg, "127.0.0.1", port, &cancel, &t, err, sizeof(err));
	ms = ms_since(&t0);
	pthread_join(th, NULL);
	CHECK_MSG(st == TL_INTERNAL, "status %d: %s", (int)st, err);
	CHECK(strstr(err, "cancelled") != NULL);
	CHECK_MSG(ms >= 190 && ms < 600, "cancelled after %ld ms", ms);

	/* Already cancelled: no wait at all. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = fetch_tls_handshake(&cfg, "127.0.0.1", port, &cancel, &t, err, sizeof(err));
	CHECK(st == TL_INTERNAL);
	CHECK_MSG(ms_since(&t0) < 200, "%ld ms", ms_since(&t0));
	close(lfd);
}

/* ---- proxies from the environment ---- */

struct proxy_server {
	int lfd;
	unsigned port;
	pthread_t th;
	char first_line[1024];
};

static void *
proxy_run(void *arg)
{
	struct proxy_server *p = arg;
	static const char deny[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
	char buf[1024];
	ssize_t n;
	int fd = accept_one(p->lfd);

	if (fd < 0)
		return NULL;
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		snprintf(p->first_line, sizeof(p->first_line), "%s", buf);
		(void)!send(fd, deny, sizeof(deny) - 1, MSG_NOSIGNAL);
	}
	close(fd);
	return NULL;
}

static void
proxy_tests(void)
{
	struct proxy_server p;
	struct config cfg;
	struct config_resolve res;
	struct fetch_tls t;
	char err[256], url[64];
	enum tl_status st;

	memset(&p, 0, sizeof(p));
	p.lfd = listen_on(AF_INET, &p.port);
	CHECK(p.lfd >= 0);
	CHECK(pthread_create(&p.th, NULL, proxy_run, &p) == 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", p.port);
	setenv("https_proxy", url, 1);

	/* The proxy is on loopback and allowed (the user chose it); the
	 * target name goes to the proxy unresolved. */
	test_config(&cfg, NULL, 0, 0);
	st = fetch_tls_handshake(&cfg, "proxied.example", 443, NULL, &t, err, sizeof(err));
	pthread_join(p.th, NULL);
	CHECK_MSG(st == TL_CONNECT_FAILED, "status %d: %s", (int)st, err);
	CHECK_STR(p.first_line, "CONNECT proxied.example:443 HTTP/1.1");

	/* An IP literal is still guarded before the proxy is asked. */
	st = fetch_tls_handshake(&cfg, "10.1.2.3", 443, NULL, &t, err, sizeof(err));
	CHECK(st == TL_BLOCKED_ADDRESS);
	CHECK(!pending(p.lfd));

	/* no_proxy: the connection is direct, and guarded. */
	setenv("no_proxy", "localhost, .example", 1);
	res.host = name_proxied;
	res.port = 443;
	res.address = addr_loop4;
	cfg.resolve = &res;
	cfg.n_resolve = 1;
	st = fetch_tls_handshake(&cfg, "proxied.example", 443, NULL, &t, err, sizeof(err));
	CHECK_MSG(st == TL_BLOCKED_ADDRESS, "status %d: %s", (int)st, err);
	CHECK(!pending(p.lfd));
	unsetenv("no_proxy");
	unsetenv("https_proxy");
	close(p.lfd);
}

/* ---- HTTP ---- */

enum http_mode { HTTP_OK, HTTP_404, HTTP_302, HTTP_ECHO, HTTP_HUGE, HTTP_HUGE_CL };

struct http_server {
	int lfd;
	unsigned port;
	pthread_t th;
	enum http_mode mode;
	size_t body_len;               /* HTTP_OK: bytes of body */
	char request[4096];            /* request line and headers */
	size_t sent;                   /* body bytes sent */
};

static void *
http_run(void *arg)
{
	struct http_server *h = arg;
	static unsigned char chunk[65536];
	char head[256], *p;
	const char *cl;
	unsigned char post[4096];
	size_t got = 0, want, post_len = 0, n;
	ssize_t r;
	int fd = accept_one(h->lfd);

	if (fd < 0)
		return NULL;
	/* Headers, then a Content-Length body if any. */
	while (got < sizeof(h->request) - 1 && strstr(h->request, "\r\n\r\n") == NULL) {
		r = recv(fd, h->request + got, sizeof(h->request) - 1 - got, 0);
		if (r <= 0)
			goto out;
		got += (size_t)r;
		h->request[got] = '\0';
	}
	p = strstr(h->request, "\r\n\r\n");
	if (p == NULL)
		goto out;
	post_len = got - (size_t)(p + 4 - h->request);
	if (post_len > sizeof(post))
		goto out;
	memcpy(post, p + 4, post_len);
	p[4] = '\0';
	cl = find_ci(h->request, "\r\ncontent-length:");
	want = cl != NULL ? strtoul(cl + 17, NULL, 10) : 0;
	while (post_len < want && post_len < sizeof(post)) {
		r = recv(fd, post + post_len, sizeof(post) - post_len, 0);
		if (r <= 0)
			goto out;
		post_len += (size_t)r;
	}
	memset(chunk, 'b', sizeof(chunk));
	switch (h->mode) {
	case HTTP_OK:
		n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n", h->body_len);
		(void)!send(fd, head, n, MSG_NOSIGNAL);
		(void)!send(fd, chunk, h->body_len, MSG_NOSIGNAL);
		break;
	case HTTP_404:
		n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 9\r\nConnection: close\r\n\r\nnot found");
		(void)!send(fd, head, n, MSG_NOSIGNAL);
		break;
	case HTTP_302:
		n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 302 Found\r\n"
		    "Location: http://127.0.0.1:%u/elsewhere\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n", h->port);
		(void)!send(fd, head, n, MSG_NOSIGNAL);
		break;
	case HTTP_ECHO:
		n = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n", post_len);
		(void)!send(fd, head, n, MSG_NOSIGNAL);
		(void)!send(fd, post, post_len, MSG_NOSIGNAL);
		break;
	case HTTP_HUGE:
	case HTTP_HUGE_CL:
		/* 50 MB, 64 KiB every 2 ms: all of it would take 1.6 s at least. */
		n = (size_t)snprintf(head, sizeof(head), h->mode == HTTP_HUGE_CL ?
		    "HTTP/1.1 200 OK\r\nContent-Length: 52428800\r\n\r\n" :
		    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
		(void)!send(fd, head, n, MSG_NOSIGNAL);
		while (h->sent < 50u * 1024 * 1024) {
			r = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
			if (r <= 0)
				break;
			h->sent += (size_t)r;
			sleep_ms(2);
		}
		break;
	}
out:
	close(fd);
	return NULL;
}

static int
http_start(struct http_server *h, enum http_mode mode, size_t body_len)
{
	memset(h, 0, sizeof(*h));
	h->mode = mode;
	h->body_len = body_len;
	h->lfd = listen_on(AF_INET, &h->port);
	if (h->lfd < 0)
		return -1;
	return pthread_create(&h->th, NULL, http_run, h) == 0 ? 0 : -1;
}

static void
http_stop(struct http_server *h)
{
	pthread_join(h->th, NULL);
	close(h->lfd);
}

static enum tl_status
http_get(struct http_server *h, const char *path, int allow_private, size_t max,
    unsigned char **resp, size_t *len, char *err, size_t errlen)
{
	struct config cfg;
	unsigned ports[1] = { h->port };
	char url[128];

	test_config(&cfg, ports, 1, allow_private);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", h->port, path);
	return fetch_http(&cfg, url, NULL, NULL, 0, max, NULL, resp, len, err, errlen);
}

static void
http_tests(void)
{
	struct http_server h;
	struct config cfg;
	struct config_resolve res;
	unsigned char *resp = NULL, post[300];
	size_t len = 0, i;
	char err[256], url[128];
	struct timespec t0;
	enum tl_status st;
	unsigned ports[1];
	long ms;

	/* 200 with a body; the User-Agent is fixed. */
	CHECK(http_start(&h, HTTP_OK, 1000) == 0);
	st = http_get(&h, "/ca.crl?x=1", 1, 4096, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK_MSG(st == TL_OK, "status %d: %s", (int)st, err);
	CHECK(resp != NULL && len == 1000 && resp[0] == 'b' && resp[999] == 'b');
	CHECK(strncmp(h.request, "GET /ca.crl?x=1 HTTP/1.1\r\n", 26) == 0);
	CHECK(strstr(h.request, "\r\nUser-Agent: TrustLens/") != NULL);
	CHECK(find_ci(h.request, "accept-encoding") == NULL);
	free(resp);
	resp = NULL;

	/* Exactly max_bytes passes, one byte over does not. */
	CHECK(http_start(&h, HTTP_OK, 5000) == 0);
	st = http_get(&h, "/", 1, 5000, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK(st == TL_OK && len == 5000);
	free(resp);
	resp = NULL;
	CHECK(http_start(&h, HTTP_OK, 5001) == 0);
	st = http_get(&h, "/", 1, 5000, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK_MSG(st == TL_TOO_LARGE, "status %d: %s", (int)st, err);
	CHECK(resp == NULL && len == 0);

	/* An empty 200 body is a body. */
	CHECK(http_start(&h, HTTP_OK, 0) == 0);
	st = http_get(&h, "/", 1, 5000, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK(st == TL_OK && resp != NULL && len == 0);
	free(resp);
	resp = NULL;

	/* Other statuses are errors; redirects are not followed. */
	CHECK(http_start(&h, HTTP_404, 0) == 0);
	st = http_get(&h, "/missing", 1, 4096, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK(st == TL_CONNECT_FAILED && resp == NULL);
	CHECK_STR(err, "The server answered HTTP 404.");
	CHECK(http_start(&h, HTTP_302, 0) == 0);
	st = http_get(&h, "/", 1, 4096, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK(st == TL_CONNECT_FAILED && resp == NULL);
	CHECK_STR(err, "The server answered HTTP 302.");

	/* POST (OCSP): content type and binary body arrive intact. */
	for (i = 0; i < sizeof(post); i++)
		post[i] = (unsigned char)(i % 7 == 0 ? 0 : i);
	CHECK(http_start(&h, HTTP_ECHO, 0) == 0);
	ports[0] = h.port;
	test_config(&cfg, ports, 1, 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/ocsp", h.port);
	st = fetch_http(&cfg, url, "application/ocsp-request", post, sizeof(post), 4096,
	    NULL, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK_MSG(st == TL_OK, "status %d: %s", (int)st, err);
	CHECK(strncmp(h.request, "POST /ocsp HTTP/1.1\r\n", 21) == 0);
	CHECK(strstr(h.request, "\r\nContent-Type: application/ocsp-request\r\n") != NULL);
	CHECK(resp != NULL && len == sizeof(post) && memcmp(resp, post, len) == 0);
	free(resp);
	resp = NULL;
	st = fetch_http(&cfg, url, "text/plain\r\nX-Evil: 1", post, sizeof(post), 4096,
	    NULL, &resp, &len, err, sizeof(err));
	CHECK(st == TL_BAD_REQUEST && resp == NULL);

	/* 50 MB against a 100 kB cap: stopped early, without and with a
	 * Content-Length. */
	CHECK(http_start(&h, HTTP_HUGE, 0) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = http_get(&h, "/huge.crl", 1, 100000, &resp, &len, err, sizeof(err));
	ms = ms_since(&t0);
	http_stop(&h);
	CHECK_MSG(st == TL_TOO_LARGE, "status %d: %s", (int)st, err);
	CHECK(resp == NULL && len == 0);
	CHECK_MSG(ms < 1000, "took %ld ms", ms);
	CHECK_MSG(h.sent < 20u * 1024 * 1024, "server sent %zu bytes", h.sent);
	CHECK(http_start(&h, HTTP_HUGE_CL, 0) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	st = http_get(&h, "/huge.crl", 1, 100000, &resp, &len, err, sizeof(err));
	ms = ms_since(&t0);
	http_stop(&h);
	CHECK_MSG(st == TL_TOO_LARGE, "status %d: %s", (int)st, err);
	CHECK_MSG(ms < 1000, "took %ld ms", ms);
	CHECK_MSG(h.sent < 20u * 1024 * 1024, "server sent %zu bytes", h.sent);

	/* The guard and the ports. */
	test_config(&cfg, NULL, 0, 0);
	st = fetch_http(&cfg, "http://10.1.2.3/crl", NULL, NULL, 0, 4096, NULL, &resp,
	    &len, err, sizeof(err));
	CHECK(st == TL_BLOCKED_ADDRESS);
	st = fetch_http(&cfg, "http://[::1]:80/crl", NULL, NULL, 0, 4096, NULL, &resp,
	    &len, err, sizeof(err));
	CHECK(st == TL_BLOCKED_ADDRESS);
	st = fetch_http(&cfg, "http://crl.example:8080/crl", NULL, NULL, 0, 4096, NULL,
	    &resp, &len, err, sizeof(err));
	CHECK(st == TL_BLOCKED_ADDRESS);
	st = fetch_http(&cfg, "ftp://crl.example/crl", NULL, NULL, 0, 4096, NULL, &resp,
	    &len, err, sizeof(err));
	CHECK(st == TL_BAD_URL);
	CHECK(http_start(&h, HTTP_OK, 10) == 0);
	ports[0] = h.port;
	test_config(&cfg, ports, 1, 0);
	res.host = name_crl;
	res.port = h.port;
	res.address = addr_loop4;
	cfg.resolve = &res;
	cfg.n_resolve = 1;
	snprintf(url, sizeof(url), "http://crl.test:%u/ca.crl", h.port);
	st = fetch_http(&cfg, url, NULL, NULL, 0, 4096, NULL, &resp, &len, err, sizeof(err));
	CHECK_MSG(st == TL_BLOCKED_ADDRESS, "status %d: %s", (int)st, err);
	CHECK(!pending(h.lfd));
	/* ... and the same name with the guard lifted reaches the server. */
	cfg.allow_private = 1;
	st = fetch_http(&cfg, url, NULL, NULL, 0, 4096, NULL, &resp, &len, err, sizeof(err));
	http_stop(&h);
	CHECK_MSG(st == TL_OK && len == 10, "status %d: %s", (int)st, err);
	CHECK(strstr(h.request, "\r\nHost: crl.test:") != NULL);
	free(resp);
}

/* Proxy variables of the environment running the tests would send the
 * loopback connections below elsewhere: set aside, then restored. */
static const char *const proxy_vars[] = {
	"https_proxy", "HTTPS_PROXY", "http_proxy", "all_proxy", "ALL_PROXY",
	"no_proxy", "NO_PROXY",
};

void
suite_fetch(void)
{
	char *saved[sizeof(proxy_vars) / sizeof(proxy_vars[0])];
	struct pki p;
	size_t i;

	CHECK(fetch_global_init() == 0);
	CHECK(fetch_global_init() == 0);
	for (i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++) {
		saved[i] = getenv(proxy_vars[i]) != NULL ? strdup(getenv(proxy_vars[i])) : NULL;
		unsetenv(proxy_vars[i]);
	}

	parse_table();
	guard_tests();
	CHECK(pki_make(&p) == 0);
	handshake_case(&p, TLS1_3_VERSION, "TLSv1.3", 1);
	handshake_case(&p, TLS1_2_VERSION, "TLSv1.2", 1);
	handshake_case(&p, 0, "TLSv1.3", 0);
	handshake_more(&p);
	handshake_concurrent(&p);
	pki_free(&p);
	silent_tests();
	proxy_tests();
	http_tests();

	for (i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++) {
		if (saved[i] != NULL)
			setenv(proxy_vars[i], saved[i], 1);
		free(saved[i]);
	}
}
