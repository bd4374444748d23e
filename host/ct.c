/*
 * ct: Certificate Transparency SCTs counted and verified (see ct.h). Pure:
 * certificates, an OCSP staple and the evaluation time in, counts out.
 *
 * SCTs come from the certificate's embedded list (RFC 6962 section 3.3,
 * precert_entry) and from the staple's single response for this
 * certificate (x509_entry). Each is verified here against the shipped log
 * list, as RFC 6962 section 3.2 defines the signed data: OpenSSL parses the
 * SCT lists, but its CTLOG_STORE can only be filled from a file, so the
 * signature check is done with the log's key directly, with the same
 * reconstruction of the precertificate TBSCertificate OpenSSL uses (the
 * certificate minus its SCT list and poison extensions; with a
 * precertificate signing certificate the log saw the final issuer's name
 * and key identifier too, RFC 6962 section 3.2, so the same holds). An SCT
 * is authenticated by its log's signature over this certificate, not by
 * the staple around it: the staple's own signature is revocation's concern.
 *
 * Refused (counted invalid): versions other than v1, timestamps after
 * `now`, signature algorithms that do not fit the log's key, bad
 * signatures, malformed or repeated SCT list extensions. SCTs of logs not
 * in the list count as unknown_log. SCTs of listed logs that are pending
 * or rejected, or of retired logs when the SCT is not older than the
 * retirement (or its date is unknown), verify but do not count as valid:
 * they appear only in `total`. Limits: 64 SCTs per source (the rest
 * count invalid), 1 MiB staple, 4096 logs.
 *
 * The compiled-in table's keys are parsed once (pthread_once) and kept for
 * the life of the process; that is the module's only state.
 */
#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "ct_internal.h"
#include "webpki.h"

#define CT_MAX_LOGS 4096
#define CT_MAX_SCTS 64
#define CT_STAPLE_MAX (1024 * 1024)
#define CT_KEY_MAX 16384
#define CT_LOG_ID_LEN 32

/* A log of the table with its parsed key (NULL when the entry is unusable:
 * missing or unparseable key, or a log ID that is not the key's hash). */
struct ct_key {
	const struct webpki_ctlog *log;
	EVP_PKEY *pkey;
	int tried;      /* the key was decoded (or found unusable) */
};

struct ct_keys {
	struct ct_key *v;
	size_t n;
};

/* What is known about the certificate for the signed data. */
struct ct_subject {
	unsigned char ikh[32];        /* SHA-256 of the issuer's SPKI */
	int have_ikh;
	unsigned char *tbs;           /* precert TBSCertificate */
	size_t tbs_len;
	unsigned char *cert;          /* the certificate's DER */
	size_t cert_len;
};

/* The distinct operators of the valid SCTs seen so far. */
struct ct_ops {
	const char *name[2 * CT_MAX_SCTS];
	size_t n;
};

static struct ct_keys ct_global;
static pthread_once_t ct_once = PTHREAD_ONCE_INIT;
static int ct_ready;

static void
ct_keys_clear(struct ct_keys *k)
{
	size_t i;

	for (i = 0; k->v != NULL && i < k->n; i++)
		EVP_PKEY_free(k->v[i].pkey);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

/* Keys are decoded lazily, when an SCT names their log: decoding all of
 * them costs ~1 M instructions each with OpenSSL 3.0 and most verdicts need
 * two or three. The lock guards `tried` and `pkey` of every table. */
static pthread_mutex_t ct_key_lock = PTHREAD_MUTEX_INITIALIZER;

static EVP_PKEY *
ct_key_pkey(struct ct_key *k)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const struct webpki_ctlog *log = k->log;
	const unsigned char *p = log->key_der;
	EVP_PKEY *pkey = NULL;

	pthread_mutex_lock(&ct_key_lock);
	if (k->tried)
		goto out;
	k->tried = 1;
	if (p == NULL || log->key_len == 0 || log->key_len > CT_KEY_MAX)
		goto out;
	if (EVP_Digest(p, log->key_len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != CT_LOG_ID_LEN || memcmp(md, log->log_id, CT_LOG_ID_LEN) != 0)
		goto out;
	pkey = d2i_PUBKEY(NULL, &p, (long)log->key_len);
	if (pkey != NULL && p != log->key_der + log->key_len) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	k->pkey = pkey;
	ERR_clear_error();
out:
	pkey = k->pkey;
	pthread_mutex_unlock(&ct_key_lock);
	return pkey;
}

static int
ct_keys_load(struct ct_keys *k, const struct webpki_ctlog *logs, size_t n)
{
	size_t i;
	int rc = -1;

	k->v = NULL;
	k->n = 0;
	if (n > CT_MAX_LOGS || (n > 0 && logs == NULL))
		goto out;
	k->v = calloc(n > 0 ? n : 1, sizeof(*k->v));
	if (k->v == NULL)
		goto out;
	k->n = n;
	for (i = 0; i < n; i++)
		k->v[i].log = &logs[i];
	rc = 0;
out:
	if (rc != 0)
		ct_keys_clear(k);
	return rc;
}

static void
ct_init_once(void)
{
	if (ct_keys_load(&ct_global, webpki_ctlogs, webpki_n_ctlogs) == 0)
		ct_ready = 1;
}

int
ct_init(void)
{
	if (pthread_once(&ct_once, ct_init_once) != 0)
		return -1;
	return ct_ready ? 0 : -1;
}

/* Appends a big-endian integer of `bytes` bytes. */
static unsigned char *
ct_put(unsigned char *p, uint64_t v, int bytes)
{
	while (bytes-- > 0)
		*p++ = (unsigned char)(v >> (8 * bytes));
	return p;
}

/*
 * Verifies an SCT's signature (RFC 6962 section 3.2): the log signed
 *   sct_version(1) signature_type(1)=certificate_timestamp(0) timestamp(8)
 *   entry_type(2) { x509_entry: cert<1..2^24-1>
 *                   precert_entry: issuer_key_hash[32] tbs<1..2^24-1> }
 *   extensions<0..2^16-1>
 * with SHA-256 and its key (ECDSA, or RSA PKCS#1 v1.5). Returns 0 or -1.
 */
static int
ct_verify(EVP_PKEY *pkey, const SCT *sct, int precert,
    const struct ct_subject *subj)
{
	EVP_MD_CTX *mctx = NULL;
	unsigned char *buf = NULL, *p, *ext = NULL, *sig = NULL;
	size_t elen, slen, blen, body;
	int nid, type, rc = -1;

	elen = SCT_get0_extensions(sct, &ext);
	slen = SCT_get0_signature(sct, &sig);
	nid = SCT_get_signature_nid(sct);
	type = EVP_PKEY_get_base_id(pkey);
	if (sig == NULL || slen == 0 || elen > 0xffff || (elen > 0 && ext == NULL))
		goto out;
	if (!(nid == NID_ecdsa_with_SHA256 && type == EVP_PKEY_EC) &&
	    !(nid == NID_sha256WithRSAEncryption && type == EVP_PKEY_RSA))
		goto out;
	if (precert) {
		if (!subj->have_ikh || subj->tbs == NULL)
			goto out;
		body = 32 + 3 + subj->tbs_len;
		if (subj->tbs_len > 0xffffff)
			goto out;
	} else {
		if (subj->cert == NULL || subj->cert_len > 0xffffff)
			goto out;
		body = 3 + subj->cert_len;
	}
	blen = 1 + 1 + 8 + 2 + body + 2 + elen;
	buf = malloc(blen);
	if (buf == NULL)
		goto out;
	p = ct_put(buf, 0, 1);                   /* v1 */
	p = ct_put(p, 0, 1);                     /* certificate_timestamp */
	p = ct_put(p, SCT_get_timestamp(sct), 8);
	p = ct_put(p, precert ? 1 : 0, 2);
	if (precert) {
		memcpy(p, subj->ikh, 32);
		p = ct_put(p + 32, subj->tbs_len, 3);
		memcpy(p, subj->tbs, subj->tbs_len);
		p += subj->tbs_len;
	} else {
		p = ct_put(p, subj->cert_len, 3);
		memcpy(p, subj->cert, subj->cert_len);
		p += subj->cert_len;
	}
	p = ct_put(p, elen, 2);
	if (elen > 0)
		memcpy(p, ext, elen);
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL ||
	    EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL, pkey) != 1)
		goto out;
	if (EVP_DigestVerify(mctx, sig, slen, buf, blen) != 1)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	free(buf);
	return rc;
}

/* Counts one SCT into *out. */
static void
ct_count(const struct ct_keys *keys, const SCT *sct, int precert,
    const struct ct_subject *subj, time_t now, struct ct_result *out,
    struct ct_ops *ops)
{
	const struct ct_key *key = NULL;
	unsigned char *id = NULL;
	uint64_t ts, now_ms;
	size_t i;
	int usable;

	out->total++;
	if (SCT_get_version(sct) != SCT_VERSION_V1 ||
	    SCT_get0_log_id(sct, &id) != CT_LOG_ID_LEN || id == NULL) {
		out->invalid++;
		return;
	}
	for (i = 0; key == NULL && i < keys->n; i++) {
		if (memcmp(keys->v[i].log->log_id, id, CT_LOG_ID_LEN) == 0 &&
		    ct_key_pkey(&keys->v[i]) != NULL)
			key = &keys->v[i];
	}
	if (key == NULL) {
		out->unknown_log++;
		return;
	}
	ts = SCT_get_timestamp(sct);
	now_ms = now > 0 ? (uint64_t)now * 1000 : 0;
	if (ts > now_ms || ct_verify(key->pkey, sct, precert, subj) != 0) {
		out->invalid++;
		return;
	}
	switch (key->log->state) {
	case WEBPKI_LOG_QUALIFIED:
	case WEBPKI_LOG_USABLE:
	case WEBPKI_LOG_READONLY:
		usable = 1;
		break;
	case WEBPKI_LOG_RETIRED:
		/* An SCT issued before the log retired still counts. */
		usable = key->log->state_since > 0 &&
		    ts < (uint64_t)key->log->state_since * 1000;
		break;
	case WEBPKI_LOG_PENDING:
	case WEBPKI_LOG_REJECTED:
	default:
		usable = 0;
		break;
	}
	if (!usable)
		return;
	out->valid++;
	if (key->log->operator_name == NULL)
		return;
	for (i = 0; i < ops->n; i++) {
		if (strcmp(ops->name[i], key->log->operator_name) == 0)
			return;
	}
	if (ops->n < sizeof(ops->name) / sizeof(ops->name[0]))
		ops->name[ops->n++] = key->log->operator_name;
	out->operators = (unsigned)ops->n;
}

/* Counts a parsed SCT list (NULL with crit != -1: present but malformed). */
static void
ct_count_list(const struct ct_keys *keys, STACK_OF(SCT) *scts, int crit,
    int precert, const struct ct_subject *subj, time_t now,
    struct ct_result *out, struct ct_ops *ops)
{
	int i;

	if (scts == NULL) {
		if (crit != -1) {
			out->total++;
			out->invalid++;
		}
		return;
	}
	for (i = 0; i < sk_SCT_num(scts); i++) {
		if (i >= CT_MAX_SCTS) {
			out->total++;
			out->invalid++;
			continue;
		}
		ct_count(keys, sk_SCT_value(scts, i), precert, subj, now, out, ops);
	}
}

/* The TBSCertificate the log saw for a precertificate: the certificate
 * without its SCT list and poison extensions, re-encoded. */
static int
ct_precert_tbs(X509 *leaf, struct ct_subject *subj)
{
	static const int drop[] = { NID_ct_precert_scts, NID_ct_precert_poison };
	X509 *copy = NULL;
	unsigned char *p;
	size_t d;
	int idx, n, rc = -1;

	copy = X509_dup(leaf);
	if (copy == NULL)
		goto out;
	for (d = 0; d < sizeof(drop) / sizeof(drop[0]); d++) {
		for (idx = X509_get_ext_by_NID(copy, drop[d], -1); idx >= 0;
		    idx = X509_get_ext_by_NID(copy, drop[d], -1))
			X509_EXTENSION_free(X509_delete_ext(copy, idx));
	}
	n = i2d_re_X509_tbs(copy, NULL);
	if (n <= 0)
		goto out;
	subj->tbs = malloc((size_t)n);
	if (subj->tbs == NULL)
		goto out;
	p = subj->tbs;
	if (i2d_re_X509_tbs(copy, &p) != n)
		goto out;
	subj->tbs_len = (size_t)n;
	rc = 0;
out:
	X509_free(copy);
	return rc;
}

/* The SCT list of the staple's single response for (leaf, issuer), or
 * NULL; *crit as X509_get_ext_d2i (-1: none). */
static STACK_OF(SCT) *
ct_staple_scts(const unsigned char *staple, size_t len, X509 *leaf,
    X509 *issuer, int *crit)
{
	static const EVP_MD *(*const digests[])(void) = { EVP_sha1, EVP_sha256 };
	const unsigned char *p = staple;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	STACK_OF(SCT) *scts = NULL;
	size_t d;
	int idx = -1;

	*crit = -1;
	if (staple == NULL || len == 0 || len > CT_STAPLE_MAX || issuer == NULL)
		goto out;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL || p != staple + len ||
	    OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		goto out;
	bs = OCSP_response_get1_basic(resp);
	if (bs == NULL)
		goto out;
	for (d = 0; idx < 0 && d < sizeof(digests) / sizeof(digests[0]); d++) {
		OCSP_CERTID_free(id);
		id = OCSP_cert_to_id(digests[d](), leaf, issuer);
		if (id == NULL)
			goto out;
		idx = OCSP_resp_find(bs, id, -1);
	}
	if (idx < 0)
		goto out;
	scts = OCSP_SINGLERESP_get1_ext_d2i(OCSP_resp_get0(bs, idx),
	    NID_ct_cert_scts, crit, NULL);
out:
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return scts;
}

static int
ct_eval(const struct ct_keys *keys, X509 *leaf, X509 *issuer,
    const unsigned char *staple, size_t staple_len, time_t now,
    struct ct_result *out)
{
	struct ct_subject subj;
	struct ct_ops *ops = NULL;
	STACK_OF(SCT) *scts = NULL;
	unsigned char *spki = NULL;
	unsigned int mdlen = 0;
	int n, crit = -1, rc = -1;

	memset(&subj, 0, sizeof(subj));
	if (leaf == NULL || out == NULL)
		goto out;
	memset(out, 0, sizeof(*out));
	ops = calloc(1, sizeof(*ops));
	if (ops == NULL)
		goto out;
	if (issuer != NULL) {
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &spki);
		if (n > 0 && EVP_Digest(spki, (size_t)n, subj.ikh, &mdlen,
		    EVP_sha256(), NULL) == 1 && mdlen == sizeof(subj.ikh))
			subj.have_ikh = 1;
	}

	/* Embedded: signed over the precertificate. */
	scts = X509_get_ext_d2i(leaf, NID_ct_precert_scts, &crit, NULL);
	if (scts != NULL && ct_precert_tbs(leaf, &subj) != 0)
		goto out;
	ct_count_list(keys, scts, crit, 1, &subj, now, out, ops);
	SCT_LIST_free(scts);
	scts = NULL;

	/* Stapled: signed over the certificate itself. */
	scts = ct_staple_scts(staple, staple_len, leaf, issuer, &crit);
	if (scts != NULL) {
		n = i2d_X509(leaf, &subj.cert);
		if (n <= 0)
			goto out;
		subj.cert_len = (size_t)n;
	}
	ct_count_list(keys, scts, crit, 0, &subj, now, out, ops);
	rc = 0;
out:
	SCT_LIST_free(scts);
	OPENSSL_free(spki);
	OPENSSL_free(subj.cert);
	free(subj.tbs);
	free(ops);
	return rc;
}

int
ct_check_with(const struct webpki_ctlog *logs, size_t n_logs, X509 *leaf,
    X509 *issuer, const unsigned char *staple, size_t staple_len, time_t now,
    struct ct_result *out)
{
	struct ct_keys keys;
	int rc = -1;

	ERR_clear_error();
	if (ct_keys_load(&keys, logs, n_logs) != 0)
		goto out;
	rc = ct_eval(&keys, leaf, issuer, staple, staple_len, now, out);
	ct_keys_clear(&keys);
out:
	ERR_clear_error();
	return rc;
}

int
ct_check(X509 *leaf, X509 *issuer, const unsigned char *staple,
    size_t staple_len, time_t now, struct ct_result *out)
{
	int rc = -1;

	ERR_clear_error();
	if (ct_init() != 0)
		goto out;
	rc = ct_eval(&ct_global, leaf, issuer, staple, staple_len, now, out);
out:
	ERR_clear_error();
	return rc;
}
