/*
 * fetch_internal: what the files of the fetch module share (fetch.c,
 * fetch_tls.c, fetch_url.c, fetch_probe.c); no other file includes it, and no other header
 * includes <curl/curl.h>.
 *
 * One transfer is one struct xfer, used in this order:
 *   fetch_xfer_init      zeroes it, says whose it is and what kind it is;
 *   fetch_xfer_prepare   refuses the port or an IP literal the guard does
 *                        not allow, then makes the easy handle with what
 *                        every transfer has (guard, proxy decision,
 *                        TRUSTLENS_RESOLVE, timeouts, the URL);
 *   the caller's own options, with any refusal OR-ed into setup_failed;
 *   fetch_xfer_run       performs it and maps the result to a status;
 *   fetch_xfer_cleanup   frees everything the transfer holds.
 */
#ifndef TL_FETCH_INTERNAL_H
#define TL_FETCH_INTERNAL_H

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdatomic.h>
#include <stddef.h>

#include "addrguard.h"
#include "fetch.h"
#include "status.h"

struct config;

enum fetch_kind {
	FETCH_HANDSHAKE,        /* fetch_tls_handshake: https, port 443 */
	FETCH_DOWNLOAD          /* fetch_http: http(s), ports 80 and 443 */
};

/* One transfer's state, shared with libcurl's and OpenSSL's callbacks. */
struct xfer {
	const struct config *cfg;
	const atomic_int *cancel;
	enum fetch_kind kind;
	CURL *easy;
	struct curl_slist *resolve;     /* TRUSTLENS_RESOLVE entries */
	int setup_failed;               /* libcurl refused an option */
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

	/* fetch_http: the request headers and the body. */
	struct curl_slist *headers;
	unsigned char *body;
	size_t body_len, body_cap, max_bytes;
	int too_large;
	long bad_status;
};

/* A table of long-valued options. */
struct fetch_lopt {
	CURLoption opt;
	long val;
};

/* ---- fetch.c ---- */

/* snprintf into err when err != NULL and errlen > 0. */
void fetch_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets each option of the table; 1 when libcurl refused one, else 0. */
int fetch_set_longs(CURL *easy, const struct fetch_lopt *o, size_t n);

void fetch_xfer_init(struct xfer *x, const struct config *cfg,
    const atomic_int *cancel, enum fetch_kind kind);

/* For the target u (scheme, host, port, is_ip as fetch_parse_url fills
 * them) and the URL to ask libcurl for. Returns TL_OK, or
 * TL_BLOCKED_ADDRESS (port, IP literal) or TL_INTERNAL with one sentence in
 * err. An option libcurl refuses is noted in x->setup_failed and reported
 * by fetch_xfer_run. */
enum tl_status fetch_xfer_prepare(struct xfer *x, const struct fetch_url *u,
    const char *url, char *err, size_t errlen);

/* Performs the prepared transfer (or reports x->setup_failed) and maps the
 * outcome to a status, with one sentence about host in err. */
enum tl_status fetch_xfer_run(struct xfer *x, const char *host, char *err,
    size_t errlen);

/* Frees what x holds (easy handle, lists, captured chain, staple, body). */
void fetch_xfer_cleanup(struct xfer *x);

/* ---- fetch_url.c ---- */

/* 1 when host is an IP literal (no brackets; *is_ip set) or a plausible
 * DNS name, else 0. */
int fetch_host_valid(const char *host, int *is_ip);

/* fetch_parse_url, and when norm != NULL also the normalised URL (host in
 * punycode), malloc'd, in *norm (NULL on failure). */
enum tl_status fetch_parse_url_norm(const char *url, struct fetch_url *out,
    char **norm, char *err, size_t errlen);

#endif
