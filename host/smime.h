/*
 * smime: verification of one S/MIME signature (OpenSSL CMS) and
 * classification of its signer. Pure: CMS bytes, content bytes, trust and
 * an evaluation time in; a result out. No network, no stdout, no clock.
 *
 * Refused (signature "invalid", never "unsigned", never "valid"): zero or
 * several SignerInfos; detached content and eContent both present;
 * digest or signature algorithms SHA-1, MD5 or weaker; no signed
 * attributes, or a messageDigest/contentType attribute missing, duplicated
 * or wrong; a digest mismatch; a signature that does not verify with the
 * signer certificate's key; anything that does not parse completely. No
 * verification shortcut flags (no CMS_NO_SIGNER_CERT_VERIFY,
 * CMS_NO_ATTR_VERIFY, CMS_NO_CONTENT_VERIFY, CMS_NOVERIFY), ever.
 *
 * The signer's chain is built from the certificates in the message plus the
 * shipped Belgian eID issuing CAs, to the Belgian eID roots (data/eid, plus
 * TRUSTLENS_EID_ROOTS), else to the S/MIME anchors (TRUSTLENS_SMIME_CA_FILE,
 * else the system store), at the signing time and at the evaluation time.
 *
 * The national register number (subject serialNumber of eID certificates)
 * is never copied out of the certificate: nothing in smime_result holds it.
 */
#ifndef TL_SMIME_H
#define TL_SMIME_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

struct config;
struct smime_trust;

int smime_trust_load(const struct config *cfg, struct smime_trust **out, char *err,
    size_t errlen);
void smime_trust_free(struct smime_trust *t);

/* The anchors a signer of that kind chains to (borrowed): the eID store for
 * SMIME_KIND_EID, else the S/MIME store. Revocation checks use it to accept
 * a CA's delegated OCSP responder. */
X509_STORE *smime_trust_store(const struct smime_trust *t, int eid);

enum smime_sig {
	SMIME_SIG_VALID = 1,
	SMIME_SIG_INVALID,
	SMIME_SIG_UNSUPPORTED     /* e.g. an algorithm OpenSSL does not know */
};

enum smime_chain {
	SMIME_CHAIN_TRUSTED = 1,  /* valid at signing time and now */
	SMIME_CHAIN_UNTRUSTED,    /* no path to an anchor */
	SMIME_CHAIN_EXPIRED,      /* valid at signing time, expired now */
	SMIME_CHAIN_INVALID_AT_SIGNING, /* expired/not yet valid when signed */
	SMIME_CHAIN_UNKNOWN       /* could not be evaluated */
};

enum smime_kind {
	SMIME_KIND_EID = 1,       /* Belgian eID card */
	SMIME_KIND_QUALIFIED,     /* another qualified certificate (QcCompliance) */
	SMIME_KIND_SMIME          /* an ordinary S/MIME certificate */
};

#define SMIME_FIELD_MAX 256
#define SMIME_MAX_EMAILS 16

struct smime_signer {
	char name[SMIME_FIELD_MAX];        /* given name + surname, else CN
	                                      without " (Signature)" */
	char given_name[SMIME_FIELD_MAX];
	char surname[SMIME_FIELD_MAX];
	char emails[SMIME_MAX_EMAILS][SMIME_FIELD_MAX]; /* lower-cased */
	size_t n_emails;
	enum smime_kind kind;
	char country[8];
	char card[16];                     /* "citizen", "foreigner", "" */
	char usage[16];                    /* eID: "signature" or
	                                      "authentication" */
	int qualified;                     /* QcCompliance + nonRepudiation */
	char issuer[SMIME_FIELD_MAX];      /* issuer CN */
	char cert_sha256[65];
	time_t not_after;
};

struct smime_result {
	enum smime_sig sig;
	const char *invalid_reason;  /* static code when sig != VALID: "no_signer",
	                                "several_signers", "econtent_and_detached",
	                                "weak_digest", "weak_signature",
	                                "no_signed_attributes", "bad_signed_attributes",
	                                "digest_mismatch", "bad_signature",
	                                "unparseable", "no_content", "unsupported" */
	enum smime_chain chain;
	struct smime_signer signer;        /* filled when the signer cert was found */
	int has_signer;
	time_t signing_time;               /* 0 when absent */
	STACK_OF(X509) *chain_certs;       /* owned: leaf first, anchor last,
	                                      when a path was found */
	unsigned char *econtent;           /* owned: opaque content, or NULL */
	size_t econtent_len;
};

void smime_result_init(struct smime_result *r);
void smime_result_clear(struct smime_result *r);

/* Verifies a CMS SignedData. content is the detached content (canonical
 * CRLF bytes) for a multipart/signed entity, NULL for an opaque one. */
int smime_verify(const struct smime_trust *t, const unsigned char *cms, size_t cms_len,
    const unsigned char *content, size_t content_len, time_t now,
    struct smime_result *out);

#endif
