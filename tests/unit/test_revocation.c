/*
 * revocation: OCSP responses and CRLs built in memory with OpenSSL, judged
 * at a fixed NOW in 2020, long before the wall clock: a check that read the
 * real clock (expired responders, stale responses) would fail here.
 */
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include "harness.h"
#include "pki_fixture.h"
#include "revocation.h"

#define NOW ((time_t)1600000000)
#define DAY 86400L

enum fx {
	FX_ROOT, FX_CA, FX_LEAF, FX_OTHER, FX_CA2, FX_LEAF_CA2, FX_UNRELATED,
	FX_RESP, FX_RESP_NOEKU, FX_RESP_ANYEKU, FX_RESP_FUTURE, FX_RESP_EXPIRED,
	FX_RESP_CA2, FX_FAKE_CA, FX_RESP_FAKE, FX_CA_NOCRL, FX_LEAF_NOCRL,
	FX_COUNT
};

struct world {
	struct pki_fixture *f[FX_COUNT];
	X509_STORE *trust;            /* the root */
	X509_STORE *lax;              /* the root, forgiving, no time checks */
	STACK_OF(X509) *chain;        /* the issuing CA */
};

static const char *const leaf_exts[] = {
	"crlDistributionPoints=URI:http://crl.example.test/ca.crl",
	"authorityInfoAccess=OCSP;URI:http://ocsp.example.test/,"
	    "caIssuers;URI:http://ca.example.test/ca.crt",
	NULL
};

/* A responder certificate of issuer with the given EKU line (NULL: none),
 * valid [NOW + from, NOW + to]. */
static struct pki_fixture *
responder(const struct pki_fixture *issuer, const char *cn, const char *eku,
    long from, long to)
{
	const char *exts[] = {
		"basicConstraints=critical,CA:FALSE",
		"keyUsage=critical,digitalSignature",
		"authorityKeyIdentifier=keyid",
		eku,
		NULL
	};
	struct pki_spec spec = {
		.cn = cn, .serial = 7000, .not_before = NOW + from,
		.not_after = NOW + to, .exts = exts,
	};

	return pki_fixture_issue(issuer, &spec);
}

static int
accept_all(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;
}

static int
world_new(struct world *w)
{
	static const char *const ca_exts[] = {
		"basicConstraints=critical,CA:TRUE",
		"keyUsage=critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier=hash",
		NULL
	};
	static const char *const nocrl_exts[] = {
		"basicConstraints=critical,CA:TRUE",
		"keyUsage=critical,keyCertSign",
		"subjectKeyIdentifier=hash",
		"authorityKeyIdentifier=keyid",
		NULL
	};
	struct pki_spec fake = {
		.cn = "Test Issuing CA", .serial = 5, .not_before = NOW - 100 * DAY,
		.not_after = NOW + 100 * DAY, .exts = ca_exts,
	};
	struct pki_spec nocrl = {
		.cn = "No CRL CA", .serial = 6, .not_before = NOW - 100 * DAY,
		.not_after = NOW + 100 * DAY, .exts = nocrl_exts,
	};
	const char *ocsp = "extendedKeyUsage=OCSPSigning";
	int i;

	memset(w, 0, sizeof(*w));
	w->f[FX_ROOT] = pki_fixture_ca("Test Root", NULL, NOW);
	w->f[FX_CA] = pki_fixture_ca("Test Issuing CA", w->f[FX_ROOT], NOW);
	w->f[FX_LEAF] = pki_fixture_leaf(w->f[FX_CA], "www.example.test", 0x1001,
	    NOW, leaf_exts);
	w->f[FX_OTHER] = pki_fixture_leaf(w->f[FX_CA], "other.example.test",
	    0x1002, NOW, NULL);
	w->f[FX_CA2] = pki_fixture_ca("Other CA", w->f[FX_ROOT], NOW);
	w->f[FX_LEAF_CA2] = pki_fixture_leaf(w->f[FX_CA2], "www.example.test",
	    0x1001, NOW, NULL);
	w->f[FX_UNRELATED] = responder(NULL, "Unrelated", ocsp, -DAY, DAY);
	w->f[FX_RESP] = responder(w->f[FX_CA], "OCSP", ocsp, -DAY, DAY);
	w->f[FX_RESP_NOEKU] = responder(w->f[FX_CA], "OCSP no EKU", NULL, -DAY, DAY);
	w->f[FX_RESP_ANYEKU] = responder(w->f[FX_CA], "OCSP any EKU",
	    "extendedKeyUsage=anyExtendedKeyUsage", -DAY, DAY);
	/* Valid by today's wall clock (until 2033), not yet at NOW. */
	w->f[FX_RESP_FUTURE] = responder(w->f[FX_CA], "OCSP later", ocsp,
	    10 * DAY, 5000 * DAY);
	w->f[FX_RESP_EXPIRED] = responder(w->f[FX_CA], "OCSP old", ocsp,
	    -100 * DAY, -DAY);
	w->f[FX_RESP_CA2] = responder(w->f[FX_CA2], "OCSP of CA2", ocsp, -DAY, DAY);
	w->f[FX_FAKE_CA] = pki_fixture_issue(NULL, &fake);
	w->f[FX_RESP_FAKE] = responder(w->f[FX_FAKE_CA], "OCSP fake", ocsp, -DAY, DAY);
	w->f[FX_CA_NOCRL] = pki_fixture_issue(w->f[FX_ROOT], &nocrl);
	w->f[FX_LEAF_NOCRL] = pki_fixture_leaf(w->f[FX_CA_NOCRL],
	    "nocrl.example.test", 0x3001, NOW, NULL);
	for (i = 0; i < FX_COUNT; i++) {
		if (w->f[i] == NULL)
			return -1;
	}
	w->trust = pki_fixture_store(w->f[FX_ROOT]->cert);
	w->lax = pki_fixture_store(w->f[FX_ROOT]->cert);
	w->chain = sk_X509_new_null();
	if (w->lax != NULL) {
		X509_STORE_set_verify_cb(w->lax, accept_all);
		X509_STORE_set_flags(w->lax, X509_V_FLAG_NO_CHECK_TIME);
	}
	if (w->trust == NULL || w->lax == NULL || w->chain == NULL ||
	    sk_X509_push(w->chain, w->f[FX_CA]->cert) <= 0)
		return -1;
	return 0;
}

static void
world_free(struct world *w)
{
	int i;

	for (i = 0; i < FX_COUNT; i++)
		pki_fixture_free(w->f[i]);
	X509_STORE_free(w->trust);
	X509_STORE_free(w->lax);
	sk_X509_free(w->chain);
}

/* Checks an answer, its reason and (want_next >= 0) its next_update. */
static void
check_answer(const char *name, enum revocation_status got,
    enum revocation_status want, const char *reason, const char *want_reason,
    time_t next, time_t want_next)
{
	CHECK_MSG(got == want, "%s: got %s, want %s", name, revocation_name(got),
	    revocation_name(want));
	CHECK_MSG(want_reason != NULL ? reason != NULL &&
	    strcmp(reason, want_reason) == 0 : reason == NULL,
	    "%s: reason %s, want %s", name, reason ? reason : "(null)",
	    want_reason ? want_reason : "(null)");
	if (want_next >= 0)
		CHECK_MSG(next == want_next, "%s: next_update %lld, want %lld", name,
		    (long long)next, (long long)want_next);
}

struct ocsp_case {
	const char *name;
	enum fx id_cert, id_issuer;   /* the CertID the response answers for */
	int sha256;                   /* CertID with SHA-256 */
	int status;                   /* V_OCSP_CERTSTATUS_* */
	long this_off, next_off;      /* from NOW */
	int no_next;                  /* omit nextUpdate */
	enum fx signer;
	unsigned long flags;          /* OCSP_basic_sign flags */
	int no_trust;                 /* check without a trust store */
	int lax;                      /* a store that forgives everything */
	int resp_status;              /* OCSP_RESPONSE_STATUS_* */
	enum revocation_status want;
	const char *want_reason;
};

/* Adds one single response; 0 or -1. */
static int
ocsp_add(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer, int sha256, int status,
    long this_off, long next_off, int no_next)
{
	OCSP_CERTID *id;
	ASN1_TIME *tu, *nu = NULL, *rt;
	int rc = -1;

	id = OCSP_cert_to_id(sha256 ? EVP_sha256() : EVP_sha1(), cert, issuer);
	tu = ASN1_TIME_set(NULL, NOW + this_off);
	rt = ASN1_TIME_set(NULL, NOW - 2 * DAY);
	if (!no_next)
		nu = ASN1_TIME_set(NULL, NOW + next_off);
	if (id != NULL && tu != NULL && rt != NULL && (no_next || nu != NULL) &&
	    OCSP_basic_add1_status(bs, id, status,
	    status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
	    status == V_OCSP_CERTSTATUS_REVOKED ? rt : NULL, tu, nu) != NULL)
		rc = 0;
	OCSP_CERTID_free(id);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(rt);
	return rc;
}

/* A DER response signed by `signer`, wrapping bs (consumed). */
static unsigned char *
ocsp_finish(OCSP_BASICRESP *bs, const struct pki_fixture *signer,
    unsigned long flags, int resp_status, size_t *len)
{
	OCSP_RESPONSE *resp = NULL;
	unsigned char *der = NULL;

	*len = 0;
	if (OCSP_basic_sign(bs, signer->cert, signer->key, EVP_sha256(), NULL,
	    flags) != 1)
		goto out;
	resp = OCSP_response_create(resp_status,
	    resp_status == OCSP_RESPONSE_STATUS_SUCCESSFUL ? bs : NULL);
	if (resp != NULL)
		der = pki_fixture_i2d(resp, ASN1_ITEM_rptr(OCSP_RESPONSE), len);
out:
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	return der;
}

static const struct ocsp_case ocsp_cases[] = {
	{ .name = "good, signed by the issuer", .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_GOOD },
	{ .name = "good, responder by key hash, no certificates",
	  .status = V_OCSP_CERTSTATUS_GOOD, .flags = OCSP_RESPID_KEY | OCSP_NOCERTS,
	  .want = REVOCATION_GOOD },
	{ .name = "good, SHA-256 CertID", .sha256 = 1,
	  .status = V_OCSP_CERTSTATUS_GOOD, .want = REVOCATION_GOOD },
	{ .name = "revoked", .status = V_OCSP_CERTSTATUS_REVOKED,
	  .want = REVOCATION_REVOKED },
	{ .name = "unknown", .status = V_OCSP_CERTSTATUS_UNKNOWN,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_unknown_cert" },
	{ .name = "stale: nextUpdate passed", .status = V_OCSP_CERTSTATUS_GOOD,
	  .this_off = -8 * DAY, .next_off = -DAY,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_stale" },
	{ .name = "nextUpdate passed within the skew",
	  .status = V_OCSP_CERTSTATUS_GOOD, .this_off = -8 * DAY, .next_off = -60,
	  .want = REVOCATION_GOOD },
	{ .name = "thisUpdate an hour ahead", .status = V_OCSP_CERTSTATUS_GOOD,
	  .this_off = 3600, .next_off = 8 * DAY,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_stale" },
	{ .name = "thisUpdate ahead within the skew",
	  .status = V_OCSP_CERTSTATUS_GOOD, .this_off = 120, .next_off = 8 * DAY,
	  .want = REVOCATION_GOOD },
	{ .name = "nextUpdate before thisUpdate", .status = V_OCSP_CERTSTATUS_GOOD,
	  .this_off = 200, .next_off = 100,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_stale" },
	{ .name = "no nextUpdate, a day old", .status = V_OCSP_CERTSTATUS_GOOD,
	  .this_off = -DAY, .no_next = 1, .want = REVOCATION_GOOD },
	{ .name = "no nextUpdate, a month old", .status = V_OCSP_CERTSTATUS_GOOD,
	  .this_off = -30 * DAY, .no_next = 1,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_stale" },
	{ .name = "another serial", .id_cert = FX_OTHER,
	  .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_wrong_cert" },
	{ .name = "same serial, another issuer", .id_cert = FX_LEAF_CA2,
	  .id_issuer = FX_CA2, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_wrong_cert" },
	{ .name = "signed by an unrelated key", .signer = FX_UNRELATED,
	  .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "an impostor with the issuer's name", .signer = FX_FAKE_CA,
	  .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "an impostor with the issuer's name, no certificates",
	  .signer = FX_FAKE_CA, .flags = OCSP_NOCERTS,
	  .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "delegated responder", .signer = FX_RESP,
	  .status = V_OCSP_CERTSTATUS_GOOD, .want = REVOCATION_GOOD },
	{ .name = "delegated responder, revoked", .signer = FX_RESP,
	  .status = V_OCSP_CERTSTATUS_REVOKED, .want = REVOCATION_REVOKED },
	{ .name = "delegated responder by key hash", .signer = FX_RESP,
	  .flags = OCSP_RESPID_KEY, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_GOOD },
	{ .name = "delegated responder without its certificate",
	  .signer = FX_RESP, .flags = OCSP_NOCERTS,
	  .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "delegated responder without the OCSP EKU",
	  .signer = FX_RESP_NOEKU, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "delegated responder with anyExtendedKeyUsage",
	  .signer = FX_RESP_ANYEKU, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "delegated responder not yet valid at now",
	  .signer = FX_RESP_FUTURE, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "delegated responder expired at now",
	  .signer = FX_RESP_EXPIRED, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "responder of another CA", .signer = FX_RESP_CA2,
	  .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "responder certified by an impostor of the issuer",
	  .signer = FX_RESP_FAKE, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "delegated responder, no trust store", .signer = FX_RESP,
	  .no_trust = 1, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "not yet valid responder, lax caller's store",
	  .signer = FX_RESP_FUTURE, .lax = 1, .status = V_OCSP_CERTSTATUS_GOOD,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_bad_signature" },
	{ .name = "issuer-signed, no trust store", .no_trust = 1,
	  .status = V_OCSP_CERTSTATUS_GOOD, .want = REVOCATION_GOOD },
	{ .name = "tryLater", .resp_status = OCSP_RESPONSE_STATUS_TRYLATER,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_not_successful" },
	{ .name = "unauthorized", .resp_status = OCSP_RESPONSE_STATUS_UNAUTHORIZED,
	  .want = REVOCATION_UNKNOWN, .want_reason = "ocsp_not_successful" },
};

/* Checks a response for the leaf with the world's chain; store 0: the
 * trust store, 1: none, 2: the lax one. */
static enum revocation_status
ocsp_check(const struct world *w, const unsigned char *der, size_t len,
    int store, time_t *next, const char **reason)
{
	return revocation_check_ocsp(der, len, w->f[FX_LEAF]->cert,
	    w->f[FX_CA]->cert, w->chain, store == 1 ? NULL : store == 2 ? w->lax :
	    w->trust, NOW, next, reason);
}

static void
test_ocsp_table(const struct world *w)
{
	size_t i;

	for (i = 0; i < sizeof(ocsp_cases) / sizeof(ocsp_cases[0]); i++) {
		const struct ocsp_case *c = &ocsp_cases[i];
		OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
		long this_off = c->this_off ? c->this_off : -3600;
		long next_off = c->next_off ? c->next_off : 7 * DAY;
		const char *reason = "unset";
		time_t next = -1;
		unsigned char *der = NULL;
		size_t len = 0;
		enum revocation_status got;

		if (bs != NULL && ocsp_add(bs, w->f[c->id_cert ? c->id_cert : FX_LEAF]->cert,
		    w->f[c->id_issuer ? c->id_issuer : FX_CA]->cert, c->sha256,
		    c->status, this_off, next_off, c->no_next) == 0)
			der = ocsp_finish(bs, w->f[c->signer ? c->signer : FX_CA],
			    c->flags, c->resp_status, &len);
		else
			OCSP_BASICRESP_free(bs);
		CHECK_MSG(der != NULL, "%s: fixture", c->name);
		got = ocsp_check(w, der, len, c->no_trust ? 1 : c->lax ? 2 : 0,
		    &next, &reason);
		check_answer(c->name, got, c->want, reason, c->want_reason, next,
		    c->want == REVOCATION_UNKNOWN ? -1 : c->no_next ? 0 : NOW + next_off);
		free(der);
	}
}

/* Hostile variants of a valid response (crl: CRL) are all unparseable:
 * truncated, a trailing byte, empty, NULL, garbage, over 1 MiB. */
static void
hostile(const struct world *w, const unsigned char *der, size_t len, int crl)
{
	static const unsigned char garbage[] = "this is not DER at all";
	unsigned char *longer = malloc(len + 1), *big = calloc(1, 1024 * 1024 + 1);
	const struct {
		const char *name;
		const unsigned char *p;
		size_t n;
	} in[] = {
		{ "truncated", der, len > 10 ? len - 10 : 0 },
		{ "trailing byte", longer, len + 1 },
		{ "empty", garbage, 0 },
		{ "NULL", NULL, 0 },
		{ "garbage", garbage, sizeof(garbage) },
		{ "over 1 MiB", big, 1024 * 1024 + 1 },
	};
	enum revocation_status got;
	const char *reason;
	time_t next;
	size_t i;

	CHECK(der != NULL && len > 10 && longer != NULL && big != NULL);
	if (der != NULL && longer != NULL && big != NULL) {
		memcpy(longer, der, len);
		longer[len] = 0;
		for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			reason = NULL;
			next = -1;
			got = crl ? revocation_check_crl(in[i].p, in[i].n,
			    w->f[FX_LEAF]->cert, w->f[FX_CA]->cert, NOW, &next, &reason) :
			    ocsp_check(w, in[i].p, in[i].n, 0, &next, &reason);
			check_answer(in[i].name, got, REVOCATION_UNKNOWN, reason,
			    crl ? "crl_unparseable" : "ocsp_unparseable", next, 0);
		}
	}
	free(longer);
	free(big);
}

/* Responses with several single responses, and hostile bytes. */
static void
test_ocsp_special(const struct world *w)
{
	X509 *leaf = w->f[FX_LEAF]->cert, *ca = w->f[FX_CA]->cert;
	unsigned char *der = NULL;
	OCSP_BASICRESP *bs;
	const char *reason = NULL;
	time_t next = 0;
	size_t len = 0;

	/* Good for a neighbour, revoked for us: revoked. */
	bs = OCSP_BASICRESP_new();
	CHECK(bs != NULL && ocsp_add(bs, w->f[FX_OTHER]->cert, ca, 0,
	    V_OCSP_CERTSTATUS_GOOD, -3600, DAY, 0) == 0 &&
	    ocsp_add(bs, leaf, ca, 0, V_OCSP_CERTSTATUS_REVOKED, -3600, DAY, 0) == 0);
	der = ocsp_finish(bs, w->f[FX_CA], 0, 0, &len);
	CHECK(ocsp_check(w, der, len, 0, &next, &reason) == REVOCATION_REVOKED);
	free(der);

	/* Good under SHA-1, revoked under SHA-256: revoked wins. */
	bs = OCSP_BASICRESP_new();
	CHECK(bs != NULL && ocsp_add(bs, leaf, ca, 0, V_OCSP_CERTSTATUS_GOOD,
	    -3600, DAY, 0) == 0 && ocsp_add(bs, leaf, ca, 1,
	    V_OCSP_CERTSTATUS_REVOKED, -3600, DAY, 0) == 0);
	der = ocsp_finish(bs, w->f[FX_CA], 0, 0, &len);
	CHECK(ocsp_check(w, der, len, 0, &next, &reason) == REVOCATION_REVOKED);

	/* A stale revoked answer beside a current good one: good. */
	bs = OCSP_BASICRESP_new();
	CHECK(bs != NULL && ocsp_add(bs, leaf, ca, 0, V_OCSP_CERTSTATUS_REVOKED,
	    -9 * DAY, -8 * DAY, 0) == 0 && ocsp_add(bs, leaf, ca, 0,
	    V_OCSP_CERTSTATUS_GOOD, -3600, DAY, 0) == 0);
	free(der);
	der = ocsp_finish(bs, w->f[FX_CA], 0, 0, &len);
	CHECK(ocsp_check(w, der, len, 0, &next, &reason) == REVOCATION_GOOD);
	CHECK(reason == NULL && next == NOW + DAY);

	hostile(w, der, len, 0);
	/* Without the issuer nothing can be checked. */
	CHECK(revocation_check_ocsp(der, len, leaf, NULL, NULL, NULL, NOW, &next,
	    &reason) == REVOCATION_UNKNOWN);
	CHECK_STR(reason, "ocsp_unparseable");
	free(der);
}

static void
test_ocsp_request(const struct world *w)
{
	X509 *leaf = w->f[FX_LEAF]->cert, *ca = w->f[FX_CA]->cert;
	unsigned char *a = NULL, *b = NULL;
	const unsigned char *p;
	size_t alen = 0, blen = 0;
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *want = OCSP_cert_to_id(EVP_sha1(), leaf, ca);
	static unsigned char dummy;

	CHECK(revocation_ocsp_request(leaf, ca, &a, &alen) == 0);
	CHECK(revocation_ocsp_request(leaf, ca, &b, &blen) == 0);
	CHECK(a != NULL && alen > 0 && b != NULL && blen == alen);
	CHECK(a != NULL && b != NULL && memcmp(a, b, alen) != 0);  /* nonces */
	p = a;
	req = a != NULL ? d2i_OCSP_REQUEST(NULL, &p, (long)alen) : NULL;
	CHECK(req != NULL && p == a + alen);
	if (req != NULL) {
		CHECK(OCSP_request_onereq_count(req) == 1);
		CHECK(want != NULL && OCSP_id_cmp(want,
		    OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0))) == 0);
		CHECK(OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0);
	}
	free(b);
	b = &dummy;
	blen = 5;
	CHECK(revocation_ocsp_request(NULL, ca, &b, &blen) == -1);
	CHECK(b == NULL && blen == 0);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(want);
	free(a);
}

/* A certificate with the given extension lines. */
static char *
url_of(const struct world *w, const char *line, int ocsp)
{
	const char *exts[] = { line, NULL };
	struct pki_spec spec = {
		.cn = "url.example.test", .serial = 9, .not_before = NOW - DAY,
		.not_after = NOW + DAY, .exts = exts,
	};
	struct pki_fixture *f = pki_fixture_issue(w->f[FX_CA], &spec);
	char *url = NULL;

	CHECK_MSG(f != NULL, "fixture %s", line);
	if (f != NULL)
		url = ocsp ? revocation_ocsp_url(f->cert) : revocation_crl_url(f->cert);
	pki_fixture_free(f);
	return url;
}

static void
test_urls(const struct world *w)
{
	static const struct {
		const char *line;
		int ocsp;
		const char *want;
	} cases[] = {
		{ "crlDistributionPoints=URI:ldap://ldap.example.test/crl,"
		  "URI:https://crl.example.test/b.crl", 0,
		  "https://crl.example.test/b.crl" },
		{ "crlDistributionPoints=URI:HTTP://CRL.example.test/c.crl", 0,
		  "HTTP://CRL.example.test/c.crl" },
		{ "crlDistributionPoints=URI:ftp://crl.example.test/c.crl", 0, NULL },
		{ "crlDistributionPoints=URI:http://bad host/c.crl", 0, NULL },
		{ "crlDistributionPoints=URI:http://bad\x01host/c.crl", 0, NULL },
		{ "crlDistributionPoints=URI:http://", 0, NULL },
		{ "authorityInfoAccess=caIssuers;URI:http://ca.example.test/,"
		  "OCSP;URI:http://ocsp2.example.test/", 1,
		  "http://ocsp2.example.test/" },
		{ "authorityInfoAccess=OCSP;URI:https://ocsp.example.test/", 1, NULL },
		{ "authorityInfoAccess=caIssuers;URI:http://ca.example.test/", 1, NULL },
		{ "subjectKeyIdentifier=hash", 0, NULL },
		{ "subjectKeyIdentifier=hash", 1, NULL },
	};
	char line[2300];
	char *url;
	size_t i;

	url = revocation_crl_url(w->f[FX_LEAF]->cert);
	CHECK_STR(url, "http://crl.example.test/ca.crl");
	free(url);
	url = revocation_ocsp_url(w->f[FX_LEAF]->cert);
	CHECK_STR(url, "http://ocsp.example.test/");
	free(url);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		url = url_of(w, cases[i].line, cases[i].ocsp);
		if (cases[i].want != NULL)
			CHECK_STR(url, cases[i].want);
		else
			CHECK_MSG(url == NULL, "%s gave %s", cases[i].line, url);
		free(url);
	}
	/* 2048 bytes pass, 2049 do not. */
	for (i = 0; i < 2; i++) {
		size_t n = (size_t)snprintf(line, sizeof(line),
		    "crlDistributionPoints=URI:http://x.test/");
		size_t total = 2048 + i - strlen("http://x.test/");

		memset(line + n, 'a', total);
		line[n + total] = '\0';
		url = url_of(w, line, 0);
		CHECK(i == 0 ? url != NULL && strlen(url) == 2048 : url == NULL);
		free(url);
	}
	CHECK(revocation_crl_url(NULL) == NULL);
	CHECK(revocation_ocsp_url(NULL) == NULL);
}

struct crl_case {
	const char *name;
	enum fx name_of;              /* CRL issuer name (0: the CA) */
	enum fx signed_by;            /* signing key (0: the CA's) */
	long this_off, next_off;      /* from NOW (0: -1 h, +7 d) */
	int no_next;
	int list;                     /* 1: leaf listed, 2: a neighbour listed */
	int reason;                   /* CRL reason of the entry (0: none) */
	const char *ext;              /* an extra CRL extension line */
	int pem;
	int nocrl;                    /* the CA without cRLSign and its leaf */
	enum revocation_status want;
	const char *want_reason;
};

static const struct crl_case crl_cases[] = {
	{ .name = "listed", .list = 1, .want = REVOCATION_REVOKED },
	{ .name = "listed, keyCompromise", .list = 1, .reason = 1,
	  .want = REVOCATION_REVOKED },
	{ .name = "listed, certificateHold", .list = 1, .reason = 6,
	  .want = REVOCATION_REVOKED },
	{ .name = "listed, removeFromCRL", .list = 1, .reason = 8,
	  .want = REVOCATION_GOOD },
	{ .name = "not listed", .list = 2, .want = REVOCATION_GOOD },
	{ .name = "empty", .want = REVOCATION_GOOD },
	{ .name = "PEM, listed", .list = 1, .pem = 1, .want = REVOCATION_REVOKED },
	{ .name = "PEM, not listed", .list = 2, .pem = 1, .want = REVOCATION_GOOD },
	{ .name = "stale", .list = 2, .this_off = -8 * DAY, .next_off = -1,
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_stale" },
	{ .name = "stale and listed", .list = 1, .this_off = -8 * DAY,
	  .next_off = -DAY, .want = REVOCATION_UNKNOWN, .want_reason = "crl_stale" },
	{ .name = "thisUpdate an hour ahead", .this_off = 3600,
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_stale" },
	{ .name = "no nextUpdate, fresh", .no_next = 1, .this_off = -DAY,
	  .want = REVOCATION_GOOD },
	{ .name = "signed by another key", .signed_by = FX_FAKE_CA, .list = 1,
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_bad_signature" },
	{ .name = "issuer without cRLSign", .nocrl = 1, .name_of = FX_CA_NOCRL,
	  .signed_by = FX_CA_NOCRL, .want = REVOCATION_UNKNOWN,
	  .want_reason = "crl_bad_signature" },
	{ .name = "another issuer's CRL", .name_of = FX_CA2, .signed_by = FX_CA2,
	  .list = 1, .want = REVOCATION_UNKNOWN, .want_reason = "crl_wrong_issuer" },
	{ .name = "onlyContainsCACerts",
	  .ext = "issuingDistributionPoint=critical,onlyCA:TRUE",
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_scope" },
	{ .name = "onlyContainsAttributeCerts",
	  .ext = "issuingDistributionPoint=critical,onlyAA:TRUE",
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_scope" },
	{ .name = "indirect CRL",
	  .ext = "issuingDistributionPoint=critical,indirectCRL:TRUE",
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_scope" },
	{ .name = "onlySomeReasons",
	  .ext = "issuingDistributionPoint=critical,onlysomereasons:keyCompromise",
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_scope" },
	{ .name = "onlyContainsUserCerts, listed", .list = 1,
	  .ext = "issuingDistributionPoint=critical,onlyuser:TRUE",
	  .want = REVOCATION_REVOKED },
	{ .name = "onlyContainsUserCerts, not listed", .list = 2,
	  .ext = "issuingDistributionPoint=critical,onlyuser:TRUE",
	  .want = REVOCATION_GOOD },
	{ .name = "the certificate's distribution point",
	  .ext = "issuingDistributionPoint=critical,"
	  "fullname:URI:http://crl.example.test/ca.crl",
	  .want = REVOCATION_GOOD },
	{ .name = "another distribution point",
	  .ext = "issuingDistributionPoint=critical,"
	  "fullname:URI:http://crl.example.test/part2.crl",
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_scope" },
	{ .name = "delta CRL", .ext = "deltaCRL=critical,DER:02:01:05",
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_scope" },
	{ .name = "unknown critical extension", .ext = "1.2.3.4=critical,DER:05:00",
	  .want = REVOCATION_UNKNOWN, .want_reason = "crl_scope" },
	{ .name = "unknown non-critical extension", .ext = "1.2.3.4=DER:05:00",
	  .want = REVOCATION_GOOD },
	{ .name = "crlNumber", .ext = "crlNumber=DER:02:01:2a", .list = 1,
	  .want = REVOCATION_REVOKED },
};

/* A CRL: DER or PEM in a malloc'd buffer. */
static unsigned char *
crl_make(const struct world *w, const struct crl_case *c, size_t *len)
{
	const struct pki_fixture *signer = w->f[c->signed_by ? c->signed_by : FX_CA];
	X509 *named = w->f[c->name_of ? c->name_of : FX_CA]->cert;
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *rev = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL, *rt = NULL;
	ASN1_ENUMERATED *reason = NULL;
	unsigned char *out = NULL;
	int ok = 0;

	*len = 0;
	tu = ASN1_TIME_set(NULL, NOW + (c->this_off ? c->this_off : -3600));
	nu = ASN1_TIME_set(NULL, NOW + (c->next_off ? c->next_off : 7 * DAY));
	rt = ASN1_TIME_set(NULL, NOW - 2 * DAY);
	if (crl == NULL || tu == NULL || nu == NULL || rt == NULL ||
	    X509_CRL_set_version(crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(named)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, tu) != 1 ||
	    (!c->no_next && X509_CRL_set1_nextUpdate(crl, nu) != 1))
		goto out;
	if (c->list) {
		X509 *who = w->f[c->list == 1 ? FX_LEAF : FX_OTHER]->cert;
		rev = X509_REVOKED_new();
		if (rev == NULL ||
		    X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(who)) != 1 ||
		    X509_REVOKED_set_revocationDate(rev, rt) != 1)
			goto out;
		if (c->reason) {
			reason = ASN1_ENUMERATED_new();
			if (reason == NULL || ASN1_ENUMERATED_set(reason, c->reason) != 1 ||
			    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) != 1)
				goto out;
		}
		if (X509_CRL_add0_revoked(crl, rev) != 1)
			goto out;
		rev = NULL;
	}
	if (c->ext != NULL && pki_fixture_crl_ext(crl, signer->cert, c->ext) != 0)
		goto out;
	if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, signer->key, EVP_sha256()) <= 0)
		goto out;
	out = c->pem ? pki_fixture_crl_pem(crl, len) :
	    pki_fixture_i2d(crl, ASN1_ITEM_rptr(X509_CRL), len);
	ok = out != NULL;
out:
	if (!ok) {
		free(out);
		out = NULL;
		*len = 0;
	}
	ASN1_ENUMERATED_free(reason);
	X509_REVOKED_free(rev);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(rt);
	X509_CRL_free(crl);
	return out;
}

static void
test_crl_table(const struct world *w)
{
	size_t i;

	for (i = 0; i < sizeof(crl_cases) / sizeof(crl_cases[0]); i++) {
		const struct crl_case *c = &crl_cases[i];
		const char *reason = "unset";
		time_t next = -1;
		size_t len = 0;
		unsigned char *der = crl_make(w, c, &len);
		enum revocation_status got;

		CHECK_MSG(der != NULL, "%s: fixture", c->name);
		got = revocation_check_crl(der, len,
		    w->f[c->nocrl ? FX_LEAF_NOCRL : FX_LEAF]->cert,
		    w->f[c->nocrl ? FX_CA_NOCRL : FX_CA]->cert, NOW, &next, &reason);
		check_answer(c->name, got, c->want, reason, c->want_reason, next,
		    c->want_reason != NULL ? 0 : c->no_next ? 0 :
		    NOW + (c->next_off ? c->next_off : 7 * DAY));
		free(der);
	}
}

static void
test_crl_special(const struct world *w)
{
	static const char bad_pem[] =
	    "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n";
	static const char enc_pem[] =
	    "-----BEGIN X509 CRL-----\nProc-Type: 4,ENCRYPTED\n"
	    "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
	    "AAAAAAAAAAAAAAAAAAAAAA==\n-----END X509 CRL-----\n";
	struct crl_case c = { .name = "plain", .list = 1 };
	X509 *leaf = w->f[FX_LEAF]->cert, *ca = w->f[FX_CA]->cert;
	unsigned char *der;
	const char *reason = NULL;
	time_t next = 0;
	size_t len = 0;

	der = crl_make(w, &c, &len);
	hostile(w, der, len, 1);
	CHECK(revocation_check_crl((const unsigned char *)bad_pem, sizeof(bad_pem) - 1,
	    leaf, ca, NOW, &next, &reason) == REVOCATION_UNKNOWN);
	CHECK_STR(reason, "crl_unparseable");
	CHECK(revocation_check_crl((const unsigned char *)enc_pem, sizeof(enc_pem) - 1,
	    leaf, ca, NOW, &next, &reason) == REVOCATION_UNKNOWN);
	CHECK_STR(reason, "crl_unparseable");
	/* The same CRL against a wrong issuer certificate. */
	CHECK(revocation_check_crl(der, len, leaf, w->f[FX_CA2]->cert, NOW, &next,
	    &reason) == REVOCATION_UNKNOWN);
	CHECK_STR(reason, "crl_wrong_issuer");
	free(der);
}

void
suite_revocation(void)
{
	struct world w;
	int ok = world_new(&w) == 0;

	CHECK(ok);
	CHECK_STR(revocation_name(REVOCATION_GOOD), "good");
	CHECK_STR(revocation_name(REVOCATION_REVOKED), "revoked");
	CHECK_STR(revocation_name(REVOCATION_UNKNOWN), "unknown");
	CHECK_STR(revocation_name(REVOCATION_NOT_CHECKED), "not_checked");
	if (ok) {
		test_ocsp_table(&w);
		test_ocsp_special(&w);
		test_ocsp_request(&w);
		test_urls(&w);
		test_crl_table(&w);
		test_crl_special(&w);
	}
	world_free(&w);
}
