/*
 * revfetch: learning a certificate's revocation status over the network:
 * an OCSP staple first, then the CRL of its distribution point (cached in the
 * state directory until its nextUpdate), then the OCSP responder named in the
 * certificate, in the order the caller prefers. Fetches go through fetch
 * (address guard, timeouts, size caps); checks through revocation (pure).
 * Used by site verdicts and by mail signer checks.
 */
#ifndef TL_REVFETCH_H
#define TL_REVFETCH_H

#include <openssl/x509.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "revocation.h"

struct config;
struct cache;

#define REVFETCH_CRL_MAX (8u * 1024u * 1024u)
#define REVFETCH_OCSP_MAX (64u * 1024u)

struct revfetch_query {
	const struct config *cfg;
	struct cache *cache;             /* may be NULL */
	X509_STORE *trust;               /* for delegated OCSP responders */
	STACK_OF(X509) *chain;           /* verified: leaf first, issuer next */
	const unsigned char *staple;     /* may be NULL */
	size_t staple_len;
	time_t now;
	const atomic_int *cancel;
	int allow_ocsp;                  /* may ask the CA's OCSP responder */
	int prefer_ocsp;                 /* ask it before the CRL */
};

struct revfetch_answer {
	enum revocation_status status;
	time_t revoked_at;               /* 0 when unknown or not revoked */
	const char *detail;              /* static code when not GOOD/REVOKED */
};

void revfetch_status(const struct revfetch_query *q, struct revfetch_answer *a);

#endif
