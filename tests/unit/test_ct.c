/*
 * ct: real SCTs made in memory. A test CA issues a precertificate (with the
 * RFC 6962 poison extension), test logs sign it as RFC 6962 section 3.2
 * says (EC P-256, one RSA log), and the final certificate carries the SCT
 * list; staples carry SCTs over the final certificate. OpenSSL's own
 * SCT_LIST_validate confirms the fixtures before ct is judged on them.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/ct.h>
#include <openssl/ocsp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "ct.h"
#include "ct_internal.h"
#include "harness.h"
#include "pki_fixture.h"

#define NOW ((time_t)1600000000)
#define DAY_MS (86400LL * 1000)
#define CT_MANY 65                    /* one over ct.c's per-source cap */

/* Logs A..RSA are in the table, D is not. */
enum { LOG_A, LOG_B, LOG_C, LOG_R, LOG_J, LOG_P, LOG_RSA, LOG_D, LOG_COUNT };

struct tlog {
	EVP_PKEY *key;
	unsigned char *der;
	int der_len;
};

struct ct_world {
	struct pki_fixture *ca, *ca2;
	struct tlog log[LOG_COUNT];
	struct webpki_ctlog table[LOG_COUNT];
	long serial;
};

static int
world_new(struct ct_world *w)
{
	static const struct {
		const char *op;
		enum webpki_log_state state;
		long long since;
	} meta[LOG_COUNT] = {
		[LOG_A] = { "Operator One", WEBPKI_LOG_USABLE, 0 },
		[LOG_B] = { "Operator Two", WEBPKI_LOG_QUALIFIED, 0 },
		[LOG_C] = { "Operator One", WEBPKI_LOG_READONLY, 0 },
		[LOG_R] = { "Operator Three", WEBPKI_LOG_RETIRED, NOW - 10 * 86400 },
		[LOG_J] = { "Operator Four", WEBPKI_LOG_REJECTED, 0 },
		[LOG_P] = { "Operator Five", WEBPKI_LOG_PENDING, 0 },
		[LOG_RSA] = { "Operator Six", WEBPKI_LOG_USABLE, 0 },
		[LOG_D] = { "Operator Seven", WEBPKI_LOG_USABLE, 0 },
	};
	unsigned int mdlen;
	int i;

	memset(w, 0, sizeof(*w));
	w->serial = 0x5000;
	w->ca = pki_fixture_ca("CT Test CA", NULL, NOW);
	w->ca2 = pki_fixture_ca("CT Other CA", NULL, NOW);
	if (w->ca == NULL || w->ca2 == NULL)
		return -1;
	for (i = 0; i < LOG_COUNT; i++) {
		struct tlog *l = &w->log[i];

		l->key = i == LOG_RSA ? EVP_RSA_gen(2048) : pki_fixture_key();
		if (l->key == NULL)
			return -1;
		l->der_len = i2d_PUBKEY(l->key, &l->der);
		mdlen = 0;
		if (l->der_len <= 0 || EVP_Digest(l->der, (size_t)l->der_len,
		    w->table[i].log_id, &mdlen, EVP_sha256(), NULL) != 1)
			return -1;
		w->table[i].key_der = l->der;
		w->table[i].key_len = (size_t)l->der_len;
		w->table[i].description = "test log";
		w->table[i].operator_name = meta[i].op;
		w->table[i].state = meta[i].state;
		w->table[i].state_since = meta[i].since;
	}
	return 0;
}

static void
world_free(struct ct_world *w)
{
	int i;

	for (i = 0; i < LOG_COUNT; i++) {
		EVP_PKEY_free(w->log[i].key);
		OPENSSL_free(w->log[i].der);
	}
	pki_fixture_free(w->ca);
	pki_fixture_free(w->ca2);
}

static unsigned char *
put(unsigned char *p, uint64_t v, int bytes)
{
	while (bytes-- > 0)
		*p++ = (unsigned char)(v >> (8 * bytes));
	return p;
}

/* An SCT by log over an entry (RFC 6962 section 3.2, written out here
 * independently of host/ct.c). ikh is NULL for an x509_entry. */
static SCT *
sct_make(const struct ct_world *w, int log, const unsigned char *log_id,
    uint64_t ts, const unsigned char *ikh, const unsigned char *entry,
    size_t entry_len, int tamper, int with_ext)
{
	static const unsigned char ext[] = { 0xde, 0xad, 0xbe, 0xef };
	size_t ext_len = with_ext ? sizeof(ext) : 0, siglen = 0;
	size_t len = 12 + (ikh ? 32 : 0) + 3 + entry_len + 2 + ext_len;
	unsigned char *buf = malloc(len), *p, *sig = NULL;
	unsigned char id[32];
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	SCT *sct = NULL;
	int ok = 0;

	memcpy(id, log_id != NULL ? log_id : w->table[log].log_id, sizeof(id));
	if (buf == NULL || mctx == NULL)
		goto out;
	p = put(buf, 0, 1);
	p = put(p, 0, 1);
	p = put(p, ts, 8);
	p = put(p, ikh ? 1 : 0, 2);
	if (ikh) {
		memcpy(p, ikh, 32);
		p += 32;
	}
	p = put(p, entry_len, 3);
	memcpy(p, entry, entry_len);
	p = put(p + entry_len, ext_len, 2);
	memcpy(p, ext, ext_len);
	if (EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, w->log[log].key) != 1 ||
	    EVP_DigestSign(mctx, NULL, &siglen, buf, len) != 1)
		goto out;
	sig = malloc(siglen);
	if (sig == NULL || EVP_DigestSign(mctx, sig, &siglen, buf, len) != 1)
		goto out;
	if (tamper)
		sig[siglen - 1] ^= 0x01;
	sct = SCT_new();
	if (sct == NULL || SCT_set_version(sct, SCT_VERSION_V1) != 1 ||
	    SCT_set_log_entry_type(sct, ikh ? CT_LOG_ENTRY_TYPE_PRECERT :
	    CT_LOG_ENTRY_TYPE_X509) != 1 ||
	    SCT_set1_log_id(sct, id, sizeof(id)) != 1 ||
	    SCT_set_signature_nid(sct, log == LOG_RSA ?
	    NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256) != 1 ||
	    SCT_set1_signature(sct, sig, siglen) != 1 ||
	    (with_ext && SCT_set1_extensions(sct, ext, sizeof(ext)) != 1))
		goto out;
	SCT_set_timestamp(sct, ts);
	ok = 1;
out:
	if (!ok) {
		SCT_free(sct);
		sct = NULL;
	}
	free(sig);
	free(buf);
	EVP_MD_CTX_free(mctx);
	return sct;
}

struct sct_spec {
	int log;                      /* the signing test log */
	const unsigned char *id;      /* the log ID claimed (NULL: its own) */
	long long ts_off;             /* ms from NOW - 1 day */
	int tamper;
	int with_ext;
};

/* A final certificate of the CA for ct.example.test with SCTs embedded for
 * each spec (n == 0: no SCT list), the list present `copies` times.
 * Caller frees. */
static X509 *
cert_with_scts(struct ct_world *w, const struct sct_spec *specs, size_t n,
    int copies)
{
	static const char *const poison[] = {
		"ct_precert_poison=critical,DER:05:00", NULL
	};
	struct pki_fixture *pre = pki_fixture_leaf(w->ca, "ct.example.test",
	    ++w->serial, NOW, poison);
	X509 *tbs_cert = NULL, *final = NULL;
	STACK_OF(SCT) *list = NULL;
	unsigned char ikh[32], *tbs = NULL, *spki = NULL;
	unsigned int mdlen = 0;
	int tbs_len = 0, spki_len, ok = 0, idx;
	size_t i;

	if (pre == NULL)
		goto out;
	/* The log sees the precertificate's TBS without the poison. */
	tbs_cert = X509_dup(pre->cert);
	idx = tbs_cert ? X509_get_ext_by_NID(tbs_cert, NID_ct_precert_poison, -1) : -1;
	if (idx < 0)
		goto out;
	X509_EXTENSION_free(X509_delete_ext(tbs_cert, idx));
	tbs_len = i2d_re_X509_tbs(tbs_cert, &tbs);
	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(w->ca->cert), &spki);
	if (tbs_len <= 0 || spki_len <= 0 || EVP_Digest(spki, (size_t)spki_len,
	    ikh, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	list = sk_SCT_new_null();
	for (i = 0; list != NULL && i < n; i++) {
		SCT *sct = sct_make(w, specs[i].log, specs[i].id,
		    (uint64_t)(NOW * 1000LL - DAY_MS + specs[i].ts_off), ikh, tbs,
		    (size_t)tbs_len, specs[i].tamper, specs[i].with_ext);
		if (sct == NULL || sk_SCT_push(list, sct) <= 0) {
			SCT_free(sct);
			goto out;
		}
	}
	/* The final certificate: the same TBS, the SCT list where the poison was
	 * (last), signed again by the CA. */
	final = X509_dup(tbs_cert);
	if (final == NULL || list == NULL)
		goto out;
	for (i = 0; n > 0 && i < (size_t)copies; i++) {
		if (X509_add1_ext_i2d(final, NID_ct_precert_scts, list, 0,
		    X509V3_ADD_APPEND) != 1)
			goto out;
	}
	if (X509_sign(final, w->ca->key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	if (!ok) {
		X509_free(final);
		final = NULL;
	}
	SCT_LIST_free(list);
	OPENSSL_free(tbs);
	OPENSSL_free(spki);
	X509_free(tbs_cert);
	pki_fixture_free(pre);
	return final;
}

/* A DER OCSP response (signed by the CA) for (cert, ca) whose single
 * response carries SCTs over `signed_cert` (x509_entry) from the logs. */
static unsigned char *
staple_make(struct ct_world *w, X509 *cert, X509 *signed_cert,
    const int *logs, size_t n, size_t *len)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_RESPONSE *resp = NULL;
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, w->ca->cert);
	ASN1_TIME *tu = ASN1_TIME_set(NULL, NOW - 3600);
	OCSP_SINGLERESP *single = NULL;
	STACK_OF(SCT) *list = sk_SCT_new_null();
	unsigned char *der = NULL, *out = NULL;
	int der_len;
	size_t i;

	*len = 0;
	der_len = i2d_X509(signed_cert, &der);
	if (bs == NULL || id == NULL || tu == NULL || list == NULL || der_len <= 0)
		goto out;
	single = OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD, -1, NULL,
	    tu, NULL);
	for (i = 0; single != NULL && i < n; i++) {
		SCT *sct = sct_make(w, logs[i], NULL, (uint64_t)(NOW * 1000LL - DAY_MS),
		    NULL, der, (size_t)der_len, 0, 0);
		if (sct == NULL || sk_SCT_push(list, sct) <= 0) {
			SCT_free(sct);
			goto out;
		}
	}
	if (single == NULL || OCSP_SINGLERESP_add1_ext_i2d(single, NID_ct_cert_scts,
	    list, 0, 0) != 1 || OCSP_basic_sign(bs, w->ca->cert, w->ca->key,
	    EVP_sha256(), NULL, 0) != 1)
		goto out;
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	if (resp != NULL)
		out = pki_fixture_i2d(resp, ASN1_ITEM_rptr(OCSP_RESPONSE), len);
out:
	SCT_LIST_free(list);
	OPENSSL_free(der);
	ASN1_TIME_free(tu);
	OCSP_CERTID_free(id);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	return out;
}

#define SAME(got, want) ((got).total == (want).total && \
	(got).valid == (want).valid && (got).unknown_log == (want).unknown_log && \
	(got).invalid == (want).invalid && (got).operators == (want).operators)
#define SHOW(r) (r).total, (r).valid, (r).unknown_log, (r).invalid, (r).operators

struct ct_case {
	const char *name;
	struct sct_spec scts[3];
	size_t n;
	struct ct_result want;
};

static const struct ct_case ct_cases[] = {
	{ "one valid SCT", { { .log = LOG_A } }, 1,
	  { .total = 1, .valid = 1, .operators = 1 } },
	{ "tampered signature", { { .log = LOG_A, .tamper = 1 } }, 1,
	  { .total = 1, .invalid = 1 } },
	{ "log not in the table", { { .log = LOG_D } }, 1,
	  { .total = 1, .unknown_log = 1 } },
	{ "timestamp after now", { { .log = LOG_A, .ts_off = 2 * DAY_MS } }, 1,
	  { .total = 1, .invalid = 1 } },
	{ "two logs, two operators", { { .log = LOG_A }, { .log = LOG_B } }, 2,
	  { .total = 2, .valid = 2, .operators = 2 } },
	{ "two logs, one operator (one read-only)",
	  { { .log = LOG_A }, { .log = LOG_C } }, 2,
	  { .total = 2, .valid = 2, .operators = 1 } },
	{ "one good, one bad, one unknown",
	  { { .log = LOG_A }, { .log = LOG_B, .tamper = 1 }, { .log = LOG_D } }, 3,
	  { .total = 3, .valid = 1, .unknown_log = 1, .invalid = 1, .operators = 1 } },
	{ "RSA log", { { .log = LOG_RSA } }, 1,
	  { .total = 1, .valid = 1, .operators = 1 } },
	{ "SCT extensions are signed too", { { .log = LOG_A, .with_ext = 1 } }, 1,
	  { .total = 1, .valid = 1, .operators = 1 } },
	{ "retired log, SCT before retirement",
	  { { .log = LOG_R, .ts_off = -19 * DAY_MS } }, 1,
	  { .total = 1, .valid = 1, .operators = 1 } },
	{ "retired log, SCT after retirement", { { .log = LOG_R } }, 1,
	  { .total = 1 } },
	{ "rejected log", { { .log = LOG_J } }, 1, { .total = 1 } },
	{ "pending log", { { .log = LOG_P } }, 1, { .total = 1 } },
	{ "no SCTs", { { 0 } }, 0, { 0 } },
};

static void
test_embedded(struct ct_world *w)
{
	size_t i;

	for (i = 0; i < sizeof(ct_cases) / sizeof(ct_cases[0]); i++) {
		const struct ct_case *c = &ct_cases[i];
		X509 *cert = cert_with_scts(w, c->scts, c->n, 1);
		struct ct_result r;
		int rc;

		memset(&r, 0xff, sizeof(r));
		CHECK_MSG(cert != NULL, "%s: fixture", c->name);
		rc = ct_check_with(w->table, LOG_D, cert, w->ca->cert, NULL, 0, NOW, &r);
		CHECK_MSG(rc == 0 && SAME(r, c->want),
		    "%s: rc %d, got %u/%u/%u/%u/%u, want %u/%u/%u/%u/%u", c->name,
		    rc, SHOW(r), SHOW(c->want));
		X509_free(cert);
	}
}

/* The fixtures agree with OpenSSL's own SCT validation (a log list file is
 * the only way to give OpenSSL logs, so this test writes one). */
static void
test_openssl_agrees(struct ct_world *w, X509 *cert, const unsigned char *staple,
    size_t staple_len)
{
	char path[] = "/tmp/tl-ct-logs-XXXXXX";
	CTLOG_STORE *store = CTLOG_STORE_new();
	CT_POLICY_EVAL_CTX *ctx = CT_POLICY_EVAL_CTX_new();
	STACK_OF(SCT) *scts = X509_get_ext_d2i(cert, NID_ct_precert_scts, NULL, NULL);
	STACK_OF(SCT) *stapled = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	const unsigned char *p = staple;
	unsigned char b64[256];
	FILE *f = NULL;
	int fd, i;

	fd = mkstemp(path);
	if (fd >= 0)
		f = fdopen(fd, "w");
	CHECK(f != NULL && store != NULL && ctx != NULL && scts != NULL);
	if (f == NULL || store == NULL || ctx == NULL || scts == NULL)
		goto out;
	fprintf(f, "enabled_logs = a,b\n");
	for (i = 0; i < 2; i++) {
		EVP_EncodeBlock(b64, w->log[i].der, w->log[i].der_len);
		fprintf(f, "[%s]\ndescription = %s\nkey = %s\n", i ? "b" : "a",
		    i ? "B" : "A", b64);
	}
	fclose(f);
	f = NULL;
	CHECK(CTLOG_STORE_load_file(store, path) == 1);
	CHECK(CT_POLICY_EVAL_CTX_set1_cert(ctx, cert) == 1);
	CHECK(CT_POLICY_EVAL_CTX_set1_issuer(ctx, w->ca->cert) == 1);
	CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(ctx, store);
	CT_POLICY_EVAL_CTX_set_time(ctx, (uint64_t)NOW * 1000);
	CHECK(SCT_LIST_validate(scts, ctx) == 1);
	for (i = 0; i < sk_SCT_num(scts); i++)
		CHECK(SCT_get_validation_status(sk_SCT_value(scts, i)) ==
		    SCT_VALIDATION_STATUS_VALID);
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)staple_len);
	bs = resp ? OCSP_response_get1_basic(resp) : NULL;
	stapled = bs ? OCSP_SINGLERESP_get1_ext_d2i(OCSP_resp_get0(bs, 0),
	    NID_ct_cert_scts, NULL, NULL) : NULL;
	CHECK(stapled != NULL && sk_SCT_num(stapled) == 1);
	CHECK(stapled != NULL && SCT_LIST_validate(stapled, ctx) == 1);
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		unlink(path);
	SCT_LIST_free(stapled);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	SCT_LIST_free(scts);
	CT_POLICY_EVAL_CTX_free(ctx);
	CTLOG_STORE_free(store);
}

static void
test_staple(struct ct_world *w)
{
	static const struct sct_spec a[] = { { .log = LOG_A } };
	static const int b[] = { LOG_B }, d[] = { LOG_D };
	static const unsigned char garbage[] = "not an OCSP response";
	struct ct_result r, want;
	X509 *plain = cert_with_scts(w, NULL, 0, 1);
	X509 *embedded = cert_with_scts(w, a, 1, 1);
	unsigned char *s_plain = NULL, *s_emb = NULL, *s_d = NULL, *s_other = NULL;
	unsigned char *s_wrong = NULL;
	size_t l_plain = 0, l_emb = 0, l_d = 0, l_other = 0, l_wrong = 0;

	CHECK(plain != NULL && embedded != NULL);
	if (plain == NULL || embedded == NULL)
		goto out;
	s_plain = staple_make(w, plain, plain, b, 1, &l_plain);
	s_emb = staple_make(w, embedded, embedded, b, 1, &l_emb);
	s_d = staple_make(w, plain, plain, d, 1, &l_d);
	/* A staple about another certificate: its SCTs are not ours. */
	s_other = staple_make(w, embedded, embedded, b, 1, &l_other);
	/* Our CertID, but the SCT was made over another certificate. */
	s_wrong = staple_make(w, plain, embedded, b, 1, &l_wrong);
	CHECK(s_plain && s_emb && s_d && s_other && s_wrong);

	CHECK(ct_check_with(w->table, LOG_D, plain, w->ca->cert, s_plain, l_plain,
	    NOW, &r) == 0);
	want = (struct ct_result){ .total = 1, .valid = 1, .operators = 1 };
	CHECK_MSG(SAME(r, want), "staple only: %u/%u/%u/%u/%u", SHOW(r));

	CHECK(ct_check_with(w->table, LOG_D, embedded, w->ca->cert, s_emb, l_emb,
	    NOW, &r) == 0);
	want = (struct ct_result){ .total = 2, .valid = 2, .operators = 2 };
	CHECK_MSG(SAME(r, want), "embedded + staple: %u/%u/%u/%u/%u", SHOW(r));

	CHECK(ct_check_with(w->table, LOG_D, plain, w->ca->cert, s_d, l_d, NOW,
	    &r) == 0);
	want = (struct ct_result){ .total = 1, .unknown_log = 1 };
	CHECK_MSG(SAME(r, want), "staple, unknown log: %u/%u/%u/%u/%u", SHOW(r));

	CHECK(ct_check_with(w->table, LOG_D, plain, w->ca->cert, s_other, l_other,
	    NOW, &r) == 0);
	want = (struct ct_result){ .total = 0 };
	CHECK_MSG(SAME(r, want), "staple for another cert: %u/%u/%u/%u/%u", SHOW(r));

	CHECK(ct_check_with(w->table, LOG_D, plain, w->ca->cert, s_wrong, l_wrong,
	    NOW, &r) == 0);
	want = (struct ct_result){ .total = 1, .invalid = 1 };
	CHECK_MSG(SAME(r, want), "SCT over another cert: %u/%u/%u/%u/%u", SHOW(r));

	CHECK(ct_check_with(w->table, LOG_D, plain, w->ca->cert, garbage,
	    sizeof(garbage), NOW, &r) == 0);
	CHECK(r.total == 0);
	if (s_emb != NULL && l_emb > 10) {
		CHECK(ct_check_with(w->table, LOG_D, embedded, w->ca->cert, s_emb,
		    l_emb - 10, NOW, &r) == 0);
		want = (struct ct_result){ .total = 1, .valid = 1, .operators = 1 };
		CHECK_MSG(SAME(r, want), "truncated staple: %u/%u/%u/%u/%u", SHOW(r));
	}
	test_openssl_agrees(w, embedded, s_emb, l_emb);
out:
	free(s_plain);
	free(s_emb);
	free(s_d);
	free(s_other);
	free(s_wrong);
	X509_free(plain);
	X509_free(embedded);
}

static void
test_edges(struct ct_world *w)
{
	struct sct_spec many[CT_MANY];
	static const struct sct_spec a[] = { { .log = LOG_A } };
	struct webpki_ctlog broken[1];
	struct ct_result r, want;
	X509 *cert = cert_with_scts(w, a, 1, 1);
	X509 *twice = cert_with_scts(w, a, 1, 2);
	X509 *lots = NULL;
	size_t i;

	CHECK(cert != NULL && twice != NULL);
	/* Without the issuer (or with another) a precert SCT cannot verify. */
	CHECK(ct_check_with(w->table, LOG_D, cert, NULL, NULL, 0, NOW, &r) == 0);
	want = (struct ct_result){ .total = 1, .invalid = 1 };
	CHECK_MSG(SAME(r, want), "no issuer: %u/%u/%u/%u/%u", SHOW(r));
	CHECK(ct_check_with(w->table, LOG_D, cert, w->ca2->cert, NULL, 0, NOW,
	    &r) == 0);
	CHECK_MSG(SAME(r, want), "wrong issuer: %u/%u/%u/%u/%u", SHOW(r));
	/* Two SCT list extensions: malformed. */
	CHECK(ct_check_with(w->table, LOG_D, twice, w->ca->cert, NULL, 0, NOW,
	    &r) == 0);
	CHECK_MSG(SAME(r, want), "two SCT lists: %u/%u/%u/%u/%u", SHOW(r));
	/* A table entry whose log ID is not its key's hash is not used. */
	broken[0] = w->table[LOG_A];
	broken[0].log_id[0] ^= 0xff;
	CHECK(ct_check_with(broken, 1, cert, w->ca->cert, NULL, 0, NOW, &r) == 0);
	want = (struct ct_result){ .total = 1, .unknown_log = 1 };
	CHECK_MSG(SAME(r, want), "broken table: %u/%u/%u/%u/%u", SHOW(r));
	/* An entry with the right log ID but no key is not used either. */
	broken[0] = w->table[LOG_A];
	broken[0].key_len = 0;
	CHECK(ct_check_with(broken, 1, cert, w->ca->cert, NULL, 0, NOW, &r) == 0);
	CHECK_MSG(SAME(r, want), "keyless entry: %u/%u/%u/%u/%u", SHOW(r));
	/* An empty table. */
	CHECK(ct_check_with(w->table, 0, cert, w->ca->cert, NULL, 0, NOW, &r) == 0);
	CHECK_MSG(SAME(r, want), "empty table: %u/%u/%u/%u/%u", SHOW(r));
	/* More SCTs than the cap: the excess counts invalid. */
	for (i = 0; i < CT_MANY; i++)
		many[i] = (struct sct_spec){ .log = LOG_A };
	lots = cert_with_scts(w, many, CT_MANY, 1);
	CHECK(lots != NULL);
	CHECK(ct_check_with(w->table, LOG_D, lots, w->ca->cert, NULL, 0, NOW,
	    &r) == 0);
	want = (struct ct_result){ .total = CT_MANY, .valid = 64, .invalid = 1,
	    .operators = 1 };
	CHECK_MSG(SAME(r, want), "over the cap: %u/%u/%u/%u/%u", SHOW(r));
	/* Internal failures. */
	CHECK(ct_check_with(w->table, LOG_D, NULL, w->ca->cert, NULL, 0, NOW, &r) == -1);
	CHECK(ct_check_with(w->table, LOG_D, cert, w->ca->cert, NULL, 0, NOW, NULL) == -1);
	CHECK(ct_check_with(NULL, 3, cert, w->ca->cert, NULL, 0, NOW, &r) == -1);
	X509_free(lots);
	X509_free(twice);
	X509_free(cert);
}

/* The compiled-in table loads, does not know the test logs, and every one
 * of its logs has a usable key: an SCT claiming its ID but signed by a test
 * key is judged invalid, never unknown_log. */
static void
test_real_table(struct ct_world *w)
{
	static const struct sct_spec a[] = { { .log = LOG_A } };
	struct sct_spec specs[60];
	struct ct_result r;
	X509 *cert;
	size_t i, j, n;

	memset(&r, 0, sizeof(r));
	CHECK(ct_init() == 0);
	CHECK(ct_init() == 0);
	CHECK(webpki_n_ctlogs > 0);
	cert = cert_with_scts(w, a, 1, 1);
	CHECK(cert != NULL && ct_check(cert, w->ca->cert, NULL, 0, NOW, &r) == 0 &&
	    r.total == 1 && r.unknown_log == 1 && r.valid == 0);
	X509_free(cert);
	for (i = 0; i < webpki_n_ctlogs; i += n) {
		n = webpki_n_ctlogs - i;
		if (n > sizeof(specs) / sizeof(specs[0]))
			n = sizeof(specs) / sizeof(specs[0]);
		for (j = 0; j < n; j++)
			specs[j] = (struct sct_spec){ .log = LOG_A,
			    .id = webpki_ctlogs[i + j].log_id };
		cert = cert_with_scts(w, specs, n, 1);
		CHECK(cert != NULL);
		CHECK_MSG(cert != NULL && ct_check(cert, w->ca->cert, NULL, 0, NOW,
		    &r) == 0 && r.total == n && r.invalid == n,
		    "logs %zu..%zu: %u/%u/%u/%u/%u", i, i + n, SHOW(r));
		X509_free(cert);
	}
}

void
suite_ct(void)
{
	struct ct_world w;
	int ok = world_new(&w) == 0;

	CHECK(ok);
	if (ok) {
		test_embedded(&w);
		test_staple(&w);
		test_edges(&w);
		test_real_table(&w);
	}
	world_free(&w);
}
