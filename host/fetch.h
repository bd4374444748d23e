/*
 * fetch: all network I/O of the host, through libcurl. The only module that
 * calls libcurl.
 *
 * fetch_tls makes a TLS handshake with a site and returns what the server
 * sent (its certificate chain, leaf first, and any OCSP staple, which it
 * requests); it sends no HTTP request and reads no body. Certificate
 * verification is NOT done here: the classifier verifies the chain itself at
 * the evaluation time (TRUSTLENS_NOW), against the configured trust, so that
 * an expired or misissued chain can still be described. Nothing received in
 * a handshake that failed verification is ever used for anything but the
 * verdict.
 *
 * fetch_http_get / fetch_http_post serve revocation (CRL, OCSP) with a hard
 * byte cap counted in the write callback (CURLOPT_MAXFILESIZE does not stop a
 * running transfer before curl 8.4).
 *
 * Every connection, TLS or HTTP, goes through the address guard on the
 * address actually connected to (open-socket callback), honours
 * TRUSTLENS_RESOLVE (as curl's --resolve), the config's connect and total
 * timeouts, proxies from the environment (https_proxy, no_proxy; the proxy's
 * own address is the user's choice and is not guarded), follows no redirect,
 * and gives up at once when *cancel becomes non-zero.
 */
#ifndef TL_FETCH_H
#define TL_FETCH_H

#include <openssl/x509.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "status.h"

struct config;

#define FETCH_HOST_MAX 255
#define FETCH_CHAIN_MAX 10          /* certificates kept from a handshake */
#define FETCH_CERT_MAX (64 * 1024)  /* bytes of one certificate */
#define FETCH_STAPLE_MAX (64 * 1024)
#define FETCH_URL_MAX 4096

/* A URL reduced to what a verdict is about. */
struct fetch_url {
	char scheme[8];                  /* "https" or "http" */
	char host[FETCH_HOST_MAX + 1];   /* lower-case ASCII (IDN as punycode),
	                                    IPv6 without brackets */
	unsigned port;                   /* explicit or the scheme's default */
	int is_ip;                       /* host is an IPv4/IPv6 literal */
};

/* Parses an absolute http(s) URL (libcurl's URL parser; IDN converted to
 * punycode). Returns TL_OK, or TL_BAD_URL with one sentence in err: not
 * absolute, another scheme, credentials in the URL, no host, bad port,
 * longer than FETCH_URL_MAX. */
enum tl_status fetch_parse_url(const char *url, struct fetch_url *out, char *err,
    size_t errlen);

struct fetch_tls {
	STACK_OF(X509) *sent;            /* owned: the chain the server sent */
	unsigned char *staple;           /* owned: OCSP response DER, or NULL */
	size_t staple_len;
	char address[64];                /* the address connected to */
	char tls_version[16];            /* "TLSv1.3", ... */
	int truncated;                   /* more than FETCH_CHAIN_MAX certificates
	                                    (or one over FETCH_CERT_MAX) were sent */
};

/* Handshakes with host:port. The port must be 443 or listed in the
 * config's allowed_ports (else TL_BLOCKED_ADDRESS). *out is zeroed on entry
 * and filled on TL_OK; on failure it holds nothing to free. Failures:
 * TL_BLOCKED_ADDRESS, TL_DNS_FAILED, TL_CONNECT_FAILED, TL_TLS_FAILED (no
 * TLS, handshake refused, no certificate), TL_TIMEOUT, TL_INTERNAL (also for
 * cancellation). */
enum tl_status fetch_tls_handshake(const struct config *cfg, const char *host,
    unsigned port, const atomic_int *cancel, struct fetch_tls *out, char *err,
    size_t errlen);

void fetch_tls_clear(struct fetch_tls *t);

/* GET (or POST when body != NULL) of an http(s) URL for revocation data.
 * Ports 80 and 443 plus allowed_ports. The response body is returned when
 * the status is 200 and it is at most max_bytes (else TL_TOO_LARGE, without
 * reading further). *resp is NULL on entry and owned by the caller on
 * TL_OK. */
enum tl_status fetch_http(const struct config *cfg, const char *url,
    const char *content_type, const unsigned char *body, size_t body_len,
    size_t max_bytes, const atomic_int *cancel, unsigned char **resp,
    size_t *resp_len, char *err, size_t errlen);

/* fetch_probe (fetch_probe.c), for diagnose: one verified HTTPS GET of a
 * reference site, stopped at the first body byte. Times in milliseconds
 * from the start (-1 when the step was not reached); server_date is the
 * Date header (0 when absent). */
struct fetch_probe_result {
	long dns_ms, connect_ms, tls_ms, first_byte_ms;
	long http_status;                /* 0 when no response */
	time_t server_date;
	char address[64];                /* the address connected to */
	int via_proxy;
};

/* Same port, address and proxy rules as fetch_tls_handshake; the
 * certificate is verified (system store or TRUSTLENS_CA_FILE): TL_TLS_FAILED
 * when it does not. *out is always filled as far as it got. */
enum tl_status fetch_probe(const struct config *cfg, const char *url,
    const atomic_int *cancel, struct fetch_probe_result *out, char *err,
    size_t errlen);

/* "libcurl 7.88.1" into buf (always NUL-terminated), as running now. */
void fetch_library_version(char *buf, size_t len);

/* Once per process, before threads start (curl_global_init). */
int fetch_global_init(void);

#endif
