/*
 * fetch_tls: the TLS handshake of the fetch module (fetch_tls_handshake,
 * see fetch.h) and the OpenSSL callbacks that copy what the server sent.
 * The connection itself (address guard, proxies, timeouts, cancellation) is
 * fetch.c's, as for every transfer.
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
 * What it refuses: host names that are not valid (before anything is set
 * up), and the ports and addresses fetch.c refuses; a handshake that ends
 * without a usable leaf certificate is a failure.
 *
 * Limits: FETCH_CHAIN_MAX certificates of FETCH_CERT_MAX bytes (the rest of
 * a longer chain is dropped and the result marked truncated), an OCSP
 * staple of FETCH_STAPLE_MAX bytes (a larger one is ignored). Behind an
 * HTTPS proxy only the last handshake, the site's, is kept.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "fetch_internal.h"
#include "log.h"

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

enum tl_status
fetch_tls_handshake(const struct config *cfg, const char *host, unsigned port,
    const atomic_int *cancel, struct fetch_tls *out, char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;
	struct xfer x;
	struct fetch_url target;
	char url[FETCH_HOST_MAX + 32], *ip = NULL;
	int is_ip = 0;
	const struct fetch_lopt tls_opts[] = {
		{ CURLOPT_CONNECT_ONLY, 1L },   /* TCP + TLS, then stop: no request */
		{ CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1 },
		/* Verification is handed to the classifier: capture_chain_cb
		 * copies the chain, the classifier verifies it at the
		 * evaluation time. Not a way to trust this connection. */
		{ CURLOPT_SSL_VERIFYPEER, 0L },
		{ CURLOPT_SSL_VERIFYHOST, 0L },
	};

	fetch_xfer_init(&x, cfg, cancel, FETCH_HANDSHAKE);
	fetch_set_err(err, errlen, "%s", "");
	if (out == NULL) {
		fetch_set_err(err, errlen, "Internal error: no result.");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	if (!fetch_host_valid(host, &is_ip)) {
		st = TL_BAD_URL;
		fetch_set_err(err, errlen, "The host name is not valid.");
		goto out;
	}
	/* The checked host is at most FETCH_HOST_MAX bytes: both fit. */
	memset(&target, 0, sizeof(target));
	memcpy(target.scheme, "https", sizeof("https"));
	snprintf(target.host, sizeof(target.host), "%s", host);
	target.port = port;
	target.is_ip = is_ip;
	snprintf(url, sizeof(url), strchr(host, ':') != NULL ? "https://[%s]:%u/" :
	    "https://%s:%u/", host, port);
	st = fetch_xfer_prepare(&x, &target, url, err, errlen);
	if (st != TL_OK)
		goto out;
	x.setup_failed |= fetch_set_longs(x.easy, tls_opts,
	    sizeof(tls_opts) / sizeof(tls_opts[0]));
	x.setup_failed |= curl_easy_setopt(x.easy, CURLOPT_SSL_CTX_FUNCTION,
	    ssl_ctx_cb) != CURLE_OK;
	x.setup_failed |= curl_easy_setopt(x.easy, CURLOPT_SSL_CTX_DATA, &x) != CURLE_OK;
	st = fetch_xfer_run(&x, host, err, errlen);
	if (st != TL_OK)
		goto out;
	if (x.capture_failed || x.sent == NULL || sk_X509_num(x.sent) == 0) {
		st = TL_TLS_FAILED;
		fetch_set_err(err, errlen, "%s completed a TLS handshake without a usable "
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
	fetch_xfer_cleanup(&x);
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
