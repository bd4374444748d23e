/*
 * revfetch: see revfetch.h. Unknown never upgrades: any failure to fetch or
 * to check leaves REVOCATION_UNKNOWN with a detail code, and only a
 * verified GOOD or REVOKED ends the search.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "config.h"
#include "fetch.h"
#include "log.h"
#include "revfetch.h"

static int
cancelled(const atomic_int *cancel)
{
	return cancel != NULL && atomic_load(cancel) != 0;
}

static int
decided(enum revocation_status st)
{
	return st == REVOCATION_GOOD || st == REVOCATION_REVOKED;
}

/* "ocsp:<certificate SHA-256>" */
static void
ocsp_cache_key(X509 *leaf, char *out, size_t len)
{
	unsigned char md[32];
	unsigned int n = 0, i;

	memset(md, 0, sizeof(md));
	X509_digest(leaf, EVP_sha256(), md, &n);
	snprintf(out, len, "ocsp:");
	for (i = 0; i < 32 && 5 + 2 * i + 2 < len; i++)
		snprintf(out + 5 + 2 * i, 3, "%02x", md[i]);
}

static enum revocation_status
from_crl(const struct revfetch_query *q, const char *url, X509 *leaf, X509 *issuer,
    struct revfetch_answer *a)
{
	unsigned char *data = NULL;
	size_t len = 0;
	time_t next = 0;
	enum revocation_status st;
	char err[256];
	int from_cache;

	from_cache = cache_get_blob(q->cache, url, q->now, &data, &len);
	if (!from_cache && fetch_http(q->cfg, url, NULL, NULL, 0, REVFETCH_CRL_MAX,
	    q->cancel, &data, &len, err, sizeof(err)) != TL_OK) {
		log_msg("revocation: CRL not fetched");
		a->detail = "crl_unavailable";
		return REVOCATION_UNKNOWN;
	}
	st = revocation_check_crl_at(data, len, leaf, issuer, q->now, &next, &a->revoked_at,
	    &a->detail);
	if (!from_cache && st != REVOCATION_UNKNOWN && next > q->now)
		cache_put_blob(q->cache, url, data, len, next, q->now);
	free(data);
	return st;
}

static enum revocation_status
from_ocsp(const struct revfetch_query *q, const char *url, X509 *leaf, X509 *issuer,
    struct revfetch_answer *a)
{
	unsigned char *req = NULL, *resp = NULL;
	size_t req_len = 0, resp_len = 0;
	time_t next = 0;
	enum revocation_status st = REVOCATION_UNKNOWN;
	char err[256], key[80];
	int from_cache;

	a->detail = "ocsp_unavailable";
	/* A verified answer is reused until its nextUpdate (an hour at most
	 * when it has none): the cache key is the certificate, never a name. */
	ocsp_cache_key(leaf, key, sizeof(key));
	from_cache = cache_get_blob(q->cache, key, q->now, &resp, &resp_len);
	if (!from_cache) {
		if (revocation_ocsp_request(leaf, issuer, &req, &req_len) != 0)
			goto out;
		if (fetch_http(q->cfg, url, "application/ocsp-request", req, req_len,
		    REVFETCH_OCSP_MAX, q->cancel, &resp, &resp_len, err,
		    sizeof(err)) != TL_OK) {
			log_msg("revocation: OCSP not fetched");
			goto out;
		}
	}
	st = revocation_check_ocsp_at(resp, resp_len, leaf, issuer, q->chain, q->trust,
	    q->now, &next, &a->revoked_at, &a->detail);
	if (!from_cache && decided(st))
		cache_put_blob(q->cache, key, resp, resp_len,
		    next > q->now ? next : q->now + 3600, q->now);
out:
	free(req);
	free(resp);
	return st;
}

void
revfetch_status(const struct revfetch_query *q, struct revfetch_answer *a)
{
	X509 *leaf = sk_X509_value(q->chain, 0);
	X509 *issuer = sk_X509_num(q->chain) > 1 ? sk_X509_value(q->chain, 1) : leaf;
	enum revocation_status st = REVOCATION_NOT_CHECKED;
	char *crl = NULL, *ocsp_url = NULL, *ocsp;
	time_t next = 0;
	int i;

	a->status = REVOCATION_NOT_CHECKED;
	a->revoked_at = 0;
	a->detail = NULL;
	if (q->staple != NULL) {
		st = revocation_check_ocsp_at(q->staple, q->staple_len, leaf, issuer, q->chain,
		    q->trust, q->now, &next, &a->revoked_at, &a->detail);
		if (decided(st))
			goto done;
	}
	crl = revocation_crl_url(leaf);
	ocsp_url = revocation_ocsp_url(leaf);
	ocsp = q->allow_ocsp ? ocsp_url : NULL;
	for (i = 0; i < 2 && !cancelled(q->cancel); i++) {
		int ocsp_turn = q->prefer_ocsp ? i == 0 : i == 1;

		if (ocsp_turn && ocsp != NULL)
			st = from_ocsp(q, ocsp, leaf, issuer, a);
		else if (!ocsp_turn && crl != NULL)
			st = from_crl(q, crl, leaf, issuer, a);
		else
			continue;
		if (decided(st))
			goto done;
	}
	if (st == REVOCATION_NOT_CHECKED && crl == NULL && q->staple == NULL &&
	    ocsp_url != NULL && !q->allow_ocsp)
		a->detail = "ocsp_not_configured"; /* only OCSP, not allowed to ask */
done:
	a->status = st;
	if (st == REVOCATION_GOOD || st == REVOCATION_NOT_CHECKED)
		a->revoked_at = 0;
	free(crl);
	free(ocsp_url);
}
