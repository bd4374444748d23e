/*
 * smime: verification of one CMS SignedData (RFC 5652, RFC 8551); see
 * smime.h. The signer's chain and identity are in smime_signer.c.
 *
 * Hostile input: the CMS bytes come from a mail. They are decoded once
 * (all bytes must be consumed, at most SMIME_CMS_MAX), then checked before
 * any cryptography: one SignerInfo; eContentType id-data; eContent or
 * detached content, never both, never neither; digestAlgorithms (read
 * straight from the encoding, as OpenSSL has no accessor, at most
 * SMIME_MAX_DIGEST_ALGS) and the SignerInfo digest SHA-256/384/512 only;
 * signature RSA PKCS#1 v1.5 (rsaEncryption or sha{256,384,512}WithRSA),
 * RSASSA-PSS with SHA-2 hash and MGF1, or ECDSA with SHA-2; RSA keys of at
 * least 2048 bits, EC keys of at least 256; signed attributes present, with
 * contentType (once, single-valued, equal to eContentType), messageDigest
 * (once, single-valued, the digest's length) and signingTime (at most once,
 * UTCTime or GeneralizedTime).
 *
 * Why not CMS_verify: it verifies the chain itself against one store at one
 * time, only for a trusted signer, and reports every failure through the
 * same error queue. Here the chain is built separately (two stores, two
 * times: smime_signer.c) and the two cryptographic facts are asked one at
 * a time, so each failure has exactly one name:
 *  - CMS_SignerInfo_verify: the signature over the DER of the signed
 *    attributes, with the signer certificate's key; fails -> "bad_signature"
 *    (a changed attribute, a wrong key, a forged signature).
 *  - CMS_SignerInfo_verify_content: the digest of the content (read through
 *    CMS_dataInit's digest BIOs) against the messageDigest attribute;
 *    0 -> "digest_mismatch" (the body was changed).
 * No shortcut flags exist on this path. The content is hashed exactly as
 * given (no CMS_TEXT, no re-canonicalisation: the MIME layer hands over
 * canonical CRLF bytes), which is what CMS_BINARY means for CMS_verify.
 *
 * Order: structure first (decoding, signedData, one SignerInfo, id-data,
 * content present exactly once, the signer certificate found); then, with
 * the signer known, algorithms, signed attributes, signature, digest. The
 * first failure names the reason.
 *
 * Results (smime.h): once the signer certificate is found, the signer and
 * its chain are reported whatever the fate of the signature (a mail client
 * may say "signed by X, but the body was changed"); an opaque message's
 * eContent is copied out once the structure checks pass. Reasons are static
 * strings. Nothing is logged but sizes and codes.
 */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "smime_internal.h"

#define SMIME_CMS_MAX (16L * 1024L * 1024L)    /* bytes of CMS */
#define SMIME_CONTENT_MAX ((size_t)INT_MAX)    /* bytes of detached content */
#define SMIME_MAX_DIGEST_ALGS 8
#define READ_CHUNK 65536

static int
fail(char *err, size_t errlen, const char *msg, const char *what)
{
	snprintf(err, errlen, "%s%s%s", msg, what != NULL ? ": " : "",
	    what != NULL ? what : "");
	return -1;
}

X509_STORE *
smime_trust_store(const struct smime_trust *t, int eid)
{
	return eid ? t->eid : t->smime;
}

void
smime_trust_free(struct smime_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->eid);
	X509_STORE_free(t->smime);
	sk_X509_pop_free(t->issuing, X509_free);
	free(t);
}

/* The shipped eID roots into the eID store, the issuing CAs aside. */
static int
load_shipped(struct smime_trust *t, char *err, size_t errlen)
{
	BIO *bio;
	X509 *x;
	size_t i;
	int ok;

	for (i = 0; i < smime_eid_n_certs; i++) {
		bio = BIO_new_mem_buf(smime_eid_certs[i].pem, -1);
		x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (x == NULL)
			return fail(err, errlen, "cannot read the shipped eID certificate",
			    smime_eid_certs[i].file);
		if (smime_eid_certs[i].root) {
			ok = X509_STORE_add_cert(t->eid, x) == 1;
			X509_free(x);
		} else {
			ok = sk_X509_push(t->issuing, x) > 0;
			if (!ok)
				X509_free(x);
		}
		if (!ok)
			return fail(err, errlen, "out of memory", NULL);
	}
	return 0;
}

int
smime_trust_load(const struct config *cfg, struct smime_trust **out, char *err,
    size_t errlen)
{
	struct smime_trust *t;
	int rc = -1;

	*out = NULL;
	ERR_clear_error();
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return fail(err, errlen, "out of memory", NULL);
	t->eid = X509_STORE_new();
	t->smime = X509_STORE_new();
	t->issuing = sk_X509_new_null();
	if (t->eid == NULL || t->smime == NULL || t->issuing == NULL) {
		fail(err, errlen, "out of memory", NULL);
		goto out;
	}
	if (load_shipped(t, err, errlen) < 0)
		goto out;
	if (cfg->eid_roots != NULL && X509_STORE_load_file(t->eid, cfg->eid_roots) != 1) {
		fail(err, errlen, "cannot load TRUSTLENS_EID_ROOTS", cfg->eid_roots);
		goto out;
	}
	if (cfg->smime_ca_file != NULL) {
		if (X509_STORE_load_file(t->smime, cfg->smime_ca_file) != 1) {
			fail(err, errlen, "cannot load TRUSTLENS_SMIME_CA_FILE",
			    cfg->smime_ca_file);
			goto out;
		}
	} else if (X509_STORE_set_default_paths(t->smime) != 1) {
		fail(err, errlen, "cannot load the system trust store", NULL);
		goto out;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	smime_trust_free(t);
	ERR_clear_error();
	return rc;
}

void
smime_result_init(struct smime_result *r)
{
	memset(r, 0, sizeof(*r));
	/* Starts from failure; smime_verify must prove success. */
	r->sig = SMIME_SIG_INVALID;
	r->invalid_reason = "unparseable";
	r->chain = SMIME_CHAIN_UNKNOWN;
}

void
smime_result_clear(struct smime_result *r)
{
	if (r == NULL)
		return;
	sk_X509_pop_free(r->chain_certs, X509_free);
	free(r->econtent);
	smime_result_init(r);
}

static int
strong_digest(int nid)
{
	return nid == NID_sha256 || nid == NID_sha384 || nid == NID_sha512;
}

static int
digest_len(int nid)
{
	return nid == NID_sha256 ? 32 : nid == NID_sha384 ? 48 : nid == NID_sha512 ? 64 : 0;
}

/* One BER header at *p within end: the ASN1_get_object flags
 * (V_ASN1_CONSTRUCTED, 0x01 for indefinite length), or -1. */
static int
ber_header(const unsigned char **p, const unsigned char *end, long *len, int *tag,
    int *cls)
{
	int r;

	if (*p >= end)
		return -1;
	r = ASN1_get_object(p, len, tag, cls, (long)(end - *p));
	return (r & 0x80) != 0 ? -1 : r;
}

static int
ber_expect(const unsigned char **p, const unsigned char *end, long *len, int want_tag,
    int want_cls, int constructed)
{
	int tag, cls, r = ber_header(p, end, len, &tag, &cls);

	if (r < 0 || tag != want_tag || cls != want_cls ||
	    ((r & V_ASN1_CONSTRUCTED) != 0) != constructed)
		return -1;
	return r;
}

/* SignedData.digestAlgorithms (RFC 5652 5.1), read from the encoding that
 * d2i accepted: ContentInfo { OID, [0] SignedData { version,
 * digestAlgorithms SET OF AlgorithmIdentifier, ... } }. Fills nids (at most
 * SMIME_MAX_DIGEST_ALGS). Returns NULL or a reason. */
static const char *
digest_list(const unsigned char *der, size_t len, int *nids, int *n)
{
	const unsigned char *p = der, *end = der + len, *q, *set_end = NULL;
	const ASN1_OBJECT *obj;
	X509_ALGOR *alg;
	long l;
	int r;

	*n = 0;
	if (ber_expect(&p, end, &l, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1) < 0 ||
	    ber_expect(&p, end, &l, V_ASN1_OBJECT, V_ASN1_UNIVERSAL, 0) != 0)
		return "unparseable";
	p += l;
	if (ber_expect(&p, end, &l, 0, V_ASN1_CONTEXT_SPECIFIC, 1) < 0 ||
	    ber_expect(&p, end, &l, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1) < 0 ||
	    ber_expect(&p, end, &l, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, 0) != 0)
		return "unparseable";
	p += l;
	r = ber_expect(&p, end, &l, V_ASN1_SET, V_ASN1_UNIVERSAL, 1);
	if (r < 0)
		return "unparseable";
	if ((r & 0x01) == 0)
		set_end = p + l;
	for (;;) {
		if (set_end != NULL ? p >= set_end :
		    end - p >= 2 && p[0] == 0 && p[1] == 0)
			break;
		if (*n == SMIME_MAX_DIGEST_ALGS)
			return "unsupported";
		q = p;
		alg = d2i_X509_ALGOR(NULL, &q, (long)((set_end != NULL ? set_end : end) - p));
		if (alg == NULL)
			return "unparseable";
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
		nids[(*n)++] = OBJ_obj2nid(obj);
		X509_ALGOR_free(alg);
		p = q;
	}
	return NULL;
}

/* RSASSA-PSS parameters (RFC 4055 3.1, RFC 4056): 1 when the hash and the
 * MGF1 hash are both SHA-2 (absent means SHA-1), 0 otherwise. */
static int
pss_strong(const ASN1_TYPE *param)
{
	RSA_PSS_PARAMS *pss = NULL;
	X509_ALGOR *mgf_hash = NULL;
	int ok = 0;

	if (param == NULL)
		goto out;
	pss = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(RSA_PSS_PARAMS), param);
	if (pss == NULL || pss->hashAlgorithm == NULL || pss->maskGenAlgorithm == NULL ||
	    !strong_digest(OBJ_obj2nid(pss->hashAlgorithm->algorithm)) ||
	    OBJ_obj2nid(pss->maskGenAlgorithm->algorithm) != NID_mgf1)
		goto out;
	mgf_hash = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(X509_ALGOR),
	    pss->maskGenAlgorithm->parameter);
	ok = mgf_hash != NULL && strong_digest(OBJ_obj2nid(mgf_hash->algorithm));
out:
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(mgf_hash);
	ERR_clear_error();
	return ok;
}

/* The SignerInfo's algorithms against the signer's key. Returns NULL or a
 * reason; *unsupported is set when the algorithm is one not handled at all. */
static const char *
check_algorithms(CMS_SignerInfo *si, X509 *signer, int dig_nid, int *unsupported)
{
	X509_ALGOR *sig = NULL;
	EVP_PKEY *pk = X509_get0_pubkey(signer);
	int nid, hnid = NID_undef, pknid = NID_undef, rsa = 0, base, bits;

	*unsupported = 0;
	if (!strong_digest(dig_nid))
		return "weak_digest";
	CMS_SignerInfo_get0_algs(si, NULL, NULL, NULL, &sig);
	nid = sig != NULL ? OBJ_obj2nid(sig->algorithm) : NID_undef;
	if (nid == NID_rsaEncryption) {
		rsa = 1; /* RFC 3370 3.2: the hash is the digestAlgorithm */
	} else if (nid == NID_rsassaPss) {
		rsa = 1;
		if (!pss_strong(sig->parameter))
			return "weak_signature";
	} else if (nid != NID_undef && OBJ_find_sigid_algs(nid, &hnid, &pknid) == 1 &&
	    (pknid == NID_rsaEncryption || pknid == NID_X9_62_id_ecPublicKey)) {
		rsa = pknid == NID_rsaEncryption;
		if (!strong_digest(hnid))
			return "weak_signature";
		if (hnid != dig_nid)
			return "bad_signature"; /* which hash was signed? ambiguous */
	} else {
		*unsupported = 1;
		return "unsupported";
	}
	if (pk == NULL) {
		*unsupported = 1;
		return "unsupported";
	}
	base = EVP_PKEY_get_base_id(pk);
	bits = EVP_PKEY_get_bits(pk);
	if (rsa && base != EVP_PKEY_RSA && base != EVP_PKEY_RSA_PSS)
		return "bad_signature";
	if (!rsa && base != EVP_PKEY_EC)
		return "bad_signature";
	if (bits < (rsa ? 2048 : 256))
		return "weak_signature";
	return NULL;
}

/* The one value of the one signed attribute nid, or NULL when the attribute
 * is absent (*count 0), repeated or multi-valued (*count > 1). */
static const ASN1_TYPE *
single_attr(CMS_SignerInfo *si, int nid, int *count)
{
	X509_ATTRIBUTE *attr;
	int idx = -1, first = -1;

	*count = 0;
	for (;;) {
		idx = CMS_signed_get_attr_by_NID(si, nid, idx);
		if (idx < 0)
			break;
		if (first < 0)
			first = idx;
		(*count)++;
	}
	if (*count != 1)
		return NULL;
	attr = CMS_signed_get_attr(si, first);
	if (attr == NULL || X509_ATTRIBUTE_count(attr) != 1) {
		*count = 2;
		return NULL;
	}
	return X509_ATTRIBUTE_get0_type(attr, 0);
}

/* RFC 5652 5.3 and 11, RFC 8551 2.5. Returns NULL or a reason; sets
 * *signing_time (0 when absent). */
static const char *
check_attributes(CMS_ContentInfo *cms, CMS_SignerInfo *si, int dig_nid,
    time_t *signing_time)
{
	const ASN1_TYPE *v;
	struct tm tm;
	int count;

	*signing_time = 0;
	if (CMS_signed_get_attr_count(si) <= 0)
		return "no_signed_attributes";
	v = single_attr(si, NID_pkcs9_contentType, &count);
	if (v == NULL || v->type != V_ASN1_OBJECT ||
	    OBJ_cmp(v->value.object, CMS_get0_eContentType(cms)) != 0)
		return "bad_signed_attributes";
	v = single_attr(si, NID_pkcs9_messageDigest, &count);
	if (v == NULL || v->type != V_ASN1_OCTET_STRING ||
	    ASN1_STRING_length(v->value.octet_string) != digest_len(dig_nid))
		return "bad_signed_attributes";
	v = single_attr(si, NID_pkcs9_signingTime, &count);
	if (v == NULL && count == 0)
		return NULL;
	if (v == NULL || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME))
		return "bad_signed_attributes";
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(v->value.utctime, &tm) != 1)
		return "bad_signed_attributes";
	*signing_time = timegm(&tm);
	if (*signing_time <= 0) {
		*signing_time = 0;
		return "bad_signed_attributes";
	}
	return NULL;
}

/* The signer certificate among the message's: exactly one (duplicates of
 * the same certificate aside); NULL when none or two different ones match
 * the SignerInfo's identifier. Borrowed from certs. */
static X509 *
find_signer(CMS_SignerInfo *si, STACK_OF(X509) *certs)
{
	X509 *found = NULL, *x;
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (CMS_SignerInfo_cert_cmp(si, x) != 0)
			continue;
		if (found != NULL && X509_cmp(found, x) != 0)
			return NULL; /* ambiguous: which key signed? */
		found = x;
	}
	return found;
}

/* Hashes the content through CMS_dataInit's digest BIOs and compares with
 * messageDigest. Returns NULL (match) or a reason. */
static const char *
check_content(CMS_ContentInfo *cms, CMS_SignerInfo *si, const unsigned char *data,
    size_t len)
{
	BIO *in, *chain = NULL;
	unsigned char *buf = NULL;
	const char *reason = "unparseable";
	int n, r;

	in = BIO_new_mem_buf(data, (int)len);
	if (in == NULL)
		goto out;
	chain = CMS_dataInit(cms, in);
	if (chain == NULL) {
		BIO_free(in);
		goto out;
	}
	buf = malloc(READ_CHUNK);
	if (buf == NULL)
		goto out;
	do {
		n = BIO_read(chain, buf, READ_CHUNK);
	} while (n > 0);
	if (n < 0)
		goto out;
	r = CMS_SignerInfo_verify_content(si, chain);
	if (r == 1)
		reason = NULL;
	else if (r == 0)
		reason = "digest_mismatch";
out:
	free(buf);
	BIO_free_all(chain); /* frees `in` too, at the end of the chain */
	ERR_clear_error();
	return reason;
}

static int
copy_econtent(const ASN1_OCTET_STRING *os, struct smime_result *out)
{
	size_t n = (size_t)ASN1_STRING_length(os);

	out->econtent = malloc(n > 0 ? n : 1);
	if (out->econtent == NULL)
		return -1;
	if (n > 0)
		memcpy(out->econtent, ASN1_STRING_get0_data(os), n);
	out->econtent_len = n;
	return 0;
}

int
smime_verify(const struct smime_trust *t, const unsigned char *der, size_t der_len,
    const unsigned char *content, size_t content_len, time_t now,
    struct smime_result *out)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	STACK_OF(X509) *certs = NULL;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING **econtent;
	X509_ALGOR *dig = NULL;
	const unsigned char *p = der;
	const char *reason = "unparseable", *late;
	X509 *signer;
	time_t signing_time = 0;
	int nids[SMIME_MAX_DIGEST_ALGS], n_nids = 0, i, dig_nid = NID_undef;
	int unsupported = 0, listed = 0, rc = -1;

	smime_result_init(out);
	ERR_clear_error();
	if (der == NULL || der_len == 0)
		goto done;
	if (der_len > (size_t)SMIME_CMS_MAX || (content != NULL &&
	    content_len > SMIME_CONTENT_MAX)) {
		reason = "unsupported";
		unsupported = 1;
		goto done;
	}
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)der_len);
	if (cms == NULL || p != der + der_len)
		goto done;
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		reason = "unsupported"; /* enveloped, digested, ...: not a signature */
		unsupported = 1;
		goto done;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sis == NULL || sk_CMS_SignerInfo_num(sis) != 1) {
		reason = sis != NULL && sk_CMS_SignerInfo_num(sis) > 1 ?
		    "several_signers" : "no_signer";
		goto done;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);
	if (OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data) {
		reason = "unsupported"; /* S/MIME signs MIME entities: id-data */
		unsupported = 1;
		goto done;
	}
	econtent = CMS_get0_content(cms);
	if (econtent != NULL && *econtent != NULL && content != NULL) {
		reason = "econtent_and_detached"; /* which bytes were signed? */
		goto done;
	}
	if ((econtent == NULL || *econtent == NULL) && content == NULL) {
		reason = "no_content";
		goto done;
	}
	if (content == NULL && copy_econtent(*econtent, out) < 0)
		goto fail;

	certs = CMS_get1_certs(cms);
	if (sk_X509_num(certs) > SMIME_MAX_CERTS) {
		reason = "unsupported";
		unsupported = 1;
		goto done;
	}
	signer = find_signer(si, certs);
	if (signer == NULL) {
		reason = "no_signer";
		goto done;
	}

	/* From here on the signer is known: every check records its reason
	 * (the first one wins) and the signer is still reported. */
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
	dig_nid = dig != NULL ? OBJ_obj2nid(dig->algorithm) : NID_undef;
	reason = digest_list(der, der_len, nids, &n_nids);
	unsupported = reason != NULL && strcmp(reason, "unsupported") == 0;
	for (i = 0; i < n_nids && reason == NULL; i++) {
		if (!strong_digest(nids[i]))
			reason = "weak_digest";
		listed |= nids[i] == dig_nid;
	}
	if (reason == NULL)
		reason = check_algorithms(si, signer, dig_nid, &unsupported);
	if (reason == NULL && !listed)
		reason = "unparseable"; /* not in digestAlgorithms: OpenSSL cannot
		                           hash the content for this signer */
	late = check_attributes(cms, si, dig_nid, &signing_time);
	if (reason == NULL)
		reason = late;
	if (late == NULL)
		out->signing_time = signing_time;

	/* Who signed, and the chain, are facts whatever the signature. */
	if (smime_signer_evaluate(t, signer, certs, out->signing_time, now, out) < 0)
		goto fail;
	if (reason != NULL)
		goto done;

	ERR_clear_error();
	CMS_SignerInfo_set1_signer_cert(si, signer);
	if (CMS_SignerInfo_verify(si) != 1) {
		reason = "bad_signature";
		goto done;
	}
	reason = check_content(cms, si, content != NULL ? content : out->econtent,
	    content != NULL ? content_len : out->econtent_len);
done:
	if (reason == NULL) {
		out->sig = SMIME_SIG_VALID;
		out->invalid_reason = NULL;
	} else {
		out->sig = unsupported ? SMIME_SIG_UNSUPPORTED : SMIME_SIG_INVALID;
		out->invalid_reason = reason;
	}
	rc = 0;
fail:
	if (log_enabled())
		log_msg("smime: verify cms=%zu content=%zu: %s, chain %d", der_len,
		    content != NULL ? content_len : out->econtent_len,
		    rc < 0 ? "out of memory" : reason != NULL ? reason : "valid",
		    (int)out->chain);
	sk_X509_pop_free(certs, X509_free);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return rc;
}
