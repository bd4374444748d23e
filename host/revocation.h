/*
 * revocation: is a certificate revoked? Pure functions over DER and an
 * evaluation time; fetching and caching are the caller's (site.c through
 * fetch and the cache).
 *
 * An OCSP response (a staple, or one fetched from the responder) is accepted
 * only when it is successful, signed by the issuer or by a responder the
 * issuer delegated (id-kp-OCSPSigning) and that chains to the trust store,
 * answers for exactly this certificate (CertID with the issuer's name and key
 * hashes and the serial), and is current (thisUpdate not in the future beyond
 * a 5-minute skew, nextUpdate, when present, not past). A CRL is accepted
 * only when signed by the issuer, current, and covering the certificate
 * (issuing distribution point checks). Anything else is REVOCATION_UNKNOWN
 * with a reason: unknown never upgrades a verdict, and revoked is final.
 */
#ifndef TL_REVOCATION_H
#define TL_REVOCATION_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

enum revocation_status {
	REVOCATION_NOT_CHECKED = 0,
	REVOCATION_GOOD,
	REVOCATION_REVOKED,
	REVOCATION_UNKNOWN
};

/* "not_checked", "good", "revoked", "unknown": the verdict's wire values. */
const char *revocation_name(enum revocation_status s);

/* Checks an OCSP response for leaf (issued by issuer). trust and chain help
 * verify a delegated responder. *reason is set to a stable reason code
 * ("ocsp_bad_signature", "ocsp_stale", "ocsp_wrong_cert",
 * "ocsp_unparseable", "ocsp_not_successful", "ocsp_unknown_cert") when the
 * result is UNKNOWN, else NULL. *next_update gets nextUpdate (0 if absent). */
enum revocation_status revocation_check_ocsp(const unsigned char *der, size_t len,
    X509 *leaf, X509 *issuer, STACK_OF(X509) *chain, X509_STORE *trust, time_t now,
    time_t *next_update, const char **reason);

/* Checks a CRL (DER or PEM) for leaf. Reasons: "crl_bad_signature",
 * "crl_stale", "crl_unparseable", "crl_wrong_issuer", "crl_scope". */
enum revocation_status revocation_check_crl(const unsigned char *data, size_t len,
    X509 *leaf, X509 *issuer, time_t now, time_t *next_update, const char **reason);

/* The same, also giving the revocation time (0 when not revoked or not
 * stated): mail tells "revoked before it signed" from "revoked since". */
enum revocation_status revocation_check_ocsp_at(const unsigned char *der, size_t len,
    X509 *leaf, X509 *issuer, STACK_OF(X509) *chain, X509_STORE *trust, time_t now,
    time_t *next_update, time_t *revoked_at, const char **reason);
enum revocation_status revocation_check_crl_at(const unsigned char *data, size_t len,
    X509 *leaf, X509 *issuer, time_t now, time_t *next_update, time_t *revoked_at,
    const char **reason);

/* The first http(s) CRL distribution point URL of cert, malloc'd, or NULL. */
char *revocation_crl_url(X509 *cert);

/* The first http OCSP responder URL (AIA) of cert, malloc'd, or NULL. */
char *revocation_ocsp_url(X509 *cert);

/* A DER OCSP request for leaf/issuer (SHA-1 CertID as RFC 6960 responders
 * expect, with a nonce), malloc'd into *der. Returns 0 or -1. */
int revocation_ocsp_request(X509 *leaf, X509 *issuer, unsigned char **der,
    size_t *len);

#endif
