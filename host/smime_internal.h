/*
 * smime_internal: what smime.c (the CMS checks) and smime_signer.c (the
 * signer's chain and who the signer is) share, and what the generated
 * build/gen/eid_data.c (host/tools/gen_eid) provides. Not part of the
 * interface: the unit tests include it to classify certificates that have
 * no private key (the real eID test cards).
 */
#ifndef TL_SMIME_INTERNAL_H
#define TL_SMIME_INTERNAL_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#include "smime.h"

#define SMIME_MAX_DEPTH 8          /* intermediates between signer and anchor */
#define SMIME_MAX_CERTS 64         /* certificates in one message */

/* One shipped Belgian eID certificate, as PEM text (build/gen/eid_data.c,
 * generated from data/eid/ by host/tools/gen_eid). */
struct smime_eid_cert {
	const char *file;          /* source file name, for error messages */
	int root;                  /* 1: a root (anchor), 0: an issuing CA */
	const char *pem;
};

extern const struct smime_eid_cert smime_eid_certs[];
extern const size_t smime_eid_n_certs;

/* Trust material, loaded once; immutable after. Two separate stores, so
 * "chains to a Belgian eID root" is a fact about the path OpenSSL built,
 * not a guess from names. */
struct smime_trust {
	X509_STORE *eid;           /* shipped eID roots + TRUSTLENS_EID_ROOTS */
	X509_STORE *smime;         /* TRUSTLENS_SMIME_CA_FILE, else the system */
	STACK_OF(X509) *issuing;   /* shipped eID issuing CAs: untrusted */
};

/* Builds the signer's chain from `certs` (the message's certificates, may be
 * NULL) plus the shipped issuing CAs, to the eID anchors, else to the S/MIME
 * anchors, at signing_time (when 0 < signing_time <= now) and at now; sets
 * r->chain, r->chain_certs (when a path to an anchor was found), r->signer
 * and r->has_signer. Returns 0, or -1 when out of memory (r->chain is then
 * SMIME_CHAIN_UNKNOWN and r->signer is still filled). */
int smime_signer_evaluate(const struct smime_trust *t, X509 *signer,
    STACK_OF(X509) *certs, time_t signing_time, time_t now, struct smime_result *r);

/* Fills s from cert: names, e-mail addresses, country, issuer, hash, expiry
 * and the kind (EID only when `eid` says the chain ends at an eID anchor).
 * Never reads the subject serialNumber. */
void smime_signer_read(X509 *cert, int eid, struct smime_signer *s);

#endif
