/*
 * ct: Certificate Transparency. Counts the SCTs a site presents (embedded in
 * the certificate and in the OCSP staple; the TLS extension is not seen
 * through libcurl) and verifies each against the shipped log list
 * (data/webpki/ct-log-list.json, compiled in by host/tools/gen_webpki).
 * Pure: certificates, staple and time in, counts out.
 */
#ifndef TL_CT_H
#define TL_CT_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

struct ct_result {
	unsigned total;          /* SCTs found */
	unsigned valid;          /* signature verified by a known, usable log */
	unsigned unknown_log;    /* log id not in the list */
	unsigned invalid;        /* bad signature, future timestamp, bad format */
	unsigned operators;      /* distinct operators among the valid ones */
};

/* Loads the compiled-in log list (once; thread-safe after the first call).
 * Returns 0 or -1. */
int ct_init(void);

/* Checks the SCTs of leaf (issued by issuer) and of an OCSP staple (may be
 * NULL) at time now. Returns 0 and fills *out, or -1 on internal failure. */
int ct_check(X509 *leaf, X509 *issuer, const unsigned char *staple,
    size_t staple_len, time_t now, struct ct_result *out);

#endif
