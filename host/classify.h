/*
 * classify: from a certificate chain to a site verdict. Pure: DER
 * certificates, a host name, trust anchors and an evaluation time in;
 * validity, level, identity and reasons out. No network, no cache, no
 * stdout, no clock (the time is given).
 *
 * Validity is decided as a careful browser decides it: OpenSSL builds and
 * verifies the chain from the certificates the server sent to an anchor of
 * the trust store, at the given time, with the host name (or IP address)
 * checked, a depth limit, and Chromium's distrust dates. Every problem found
 * is kept as a reason (verification continues past the first one only to
 * describe; any problem means not valid).
 *
 * Level, only for a valid chain:
 *  - EV: a policy OID of the leaf is listed for the chain's root in
 *    Chromium's EV table (or TRUSTLENS_EV_ROOTS), and RFC 5280 policy
 *    processing with that OID as the required policy succeeds through the
 *    intermediates (as Chromium does), not merely present.
 *  - OV / IV / DV: CA/Browser Forum OIDs 2.23.140.1.2.2 / .3 / .1, then the
 *    ETSI EN 319 411-1 ones (OVCP 0.4.0.2042.1.7, IVCP .1.8, DVCP .1.6).
 *  - QWAC (1-QWAC, ETSI EN 319 412-4/-5): qcStatements with QcCompliance
 *    and QcType web, policy QEVCP-w (0.4.0.194112.1.4) on an EV certificate
 *    or QNCP-w (0.4.0.194112.1.5) on an OV/IV one, and a certificate of the
 *    chain on the EU Trusted List (Chromium's `eutl` flags, or
 *    TRUSTLENS_QWAC_ROOTS).
 */
#ifndef TL_CLASSIFY_H
#define TL_CLASSIFY_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#include "verdict.h"

struct config;

#define CLASSIFY_MAX_DEPTH 8   /* intermediates between leaf and anchor */

/* Trust material, loaded once from the configuration; immutable after. */
struct site_trust;

/* Loads the web trust store (TRUSTLENS_CA_FILE, else the system store),
 * TRUSTLENS_EV_ROOTS (a JSON file, or the JSON itself when the value starts
 * with '{') and TRUSTLENS_QWAC_ROOTS. *out is NULL on entry and assigned on
 * success; -1 with one sentence in err otherwise. */
int site_trust_load(const struct config *cfg, struct site_trust **out, char *err,
    size_t errlen);
void site_trust_free(struct site_trust *t);

/* The web trust store (borrowed), for OCSP responder verification. */
X509_STORE *site_trust_store(const struct site_trust *t);

/* The verified chain of the last classify_chain call is returned through
 * *verified (leaf first, anchor last; owned by the caller; NULL when the
 * chain is not valid) so revocation and CT checks can use the issuer. */
int classify_chain(const struct site_trust *trust, const char *host,
    STACK_OF(X509) *sent, time_t now, struct site_verdict *v,
    STACK_OF(X509) **verified);

/* Belgian enterprise number (KBO/BCE): 10 digits, first 0 or 1, check
 * digits 97 - (first 8 mod 97). Accepts "0203201340", "0203.201.340",
 * "BE0203201340". Returns 1 and writes "0203.201.340" into out (16 bytes)
 * when valid; 0 when it has the shape but wrong check digits; -1 when it is
 * not an enterprise number at all. */
int classify_enterprise_number(const char *s, char out[16]);

/* SHA-256 of a certificate as lower-case hex (65 bytes). */
void classify_cert_sha256_hex(X509 *cert, char out[65]);

#endif
