/*
 * pki_fixture: a throwaway PKI made in memory for unit tests (EC P-256 keys,
 * SHA-256 signatures), so suites need no files, no openssl(1) and no clock:
 * every validity period is given relative to the test's own `now`.
 * Extensions are OpenSSL config lines ("name=value", X509V3_EXT_nconf
 * syntax, e.g. "extendedKeyUsage=OCSPSigning" or "1.2.3.4=critical,DER:05:00").
 */
#ifndef TL_PKI_FIXTURE_H
#define TL_PKI_FIXTURE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

/* A certificate and its private key, both owned by the fixture. */
struct pki_fixture {
	X509 *cert;
	EVP_PKEY *key;
};

/* What to issue. Unset fields get defaults. */
struct pki_spec {
	const char *cn;               /* subject commonName (required) */
	long serial;                  /* 0: 1 */
	time_t not_before, not_after;
	EVP_PKEY *key;                /* the subject's key (up-ref'd); NULL: new */
	const char *const *exts;      /* NULL-terminated config lines, or NULL */
};

/* A fresh EC P-256 key, or NULL. */
EVP_PKEY *pki_fixture_key(void);

/* Issues spec under issuer (NULL: self-signed). NULL on failure. */
struct pki_fixture *pki_fixture_issue(const struct pki_fixture *issuer,
    const struct pki_spec *spec);

/* A CA (CA:TRUE, keyCertSign and cRLSign, key identifiers) valid from a
 * year before now to ten years after; issuer NULL makes a root. */
struct pki_fixture *pki_fixture_ca(const char *cn,
    const struct pki_fixture *issuer, time_t now);

/* A TLS server leaf for host (CA:FALSE, digitalSignature, serverAuth, the
 * host as DNS SAN) valid from 30 days before now to 90 days after, plus the
 * extra extension lines (may be NULL). */
struct pki_fixture *pki_fixture_leaf(const struct pki_fixture *ca,
    const char *host, long serial, time_t now, const char *const *extra);

void pki_fixture_free(struct pki_fixture *f);

/* The DER of cert, malloc'd, or NULL. */
unsigned char *pki_fixture_der(X509 *cert, size_t *len);

/* The DER of any ASN.1 object, e.g. pki_fixture_i2d(resp,
 * ASN1_ITEM_rptr(OCSP_RESPONSE), &len): malloc'd, or NULL. */
unsigned char *pki_fixture_i2d(const void *obj, const ASN1_ITEM *it,
    size_t *len);

/* A CRL in PEM, malloc'd (not NUL-terminated), or NULL. */
unsigned char *pki_fixture_crl_pem(X509_CRL *crl, size_t *len);

/* A store trusting exactly cert, or NULL. */
X509_STORE *pki_fixture_store(X509 *cert);

/* Adds one config line as an extension of a CRL signed later by issuer.
 * Returns 0 or -1. */
int pki_fixture_crl_ext(X509_CRL *crl, X509 *issuer, const char *line);

#endif
