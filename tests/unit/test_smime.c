/*
 * smime: signature verification and signer classification, hermetic: an
 * in-memory test PKI (an eID-like root with Citizen and Foreigner CAs
 * issuing leaves with the real card profile of data/eid/testcard/, an
 * ordinary S/MIME CA), messages made with CMS_sign at a fixed time, trust
 * loaded through a struct config from PEM files written to a temporary
 * directory. Then the real Belgian eID test-card certificates through the
 * classifier, with a hunt for their national register number in the result.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "pki_fixture.h"
#include "smime.h"
#include "smime_internal.h"

#define DAY 86400L
#define YEAR (365L * DAY)
#define NOW ((time_t)1893456000) /* 2030-01-01T00:00:00Z */

/* Canonical CRLF bytes, as the MIME layer hands them over. */
static const char CONTENT[] =
    "Content-Type: text/plain; charset=utf-8\r\n\r\nPay invoice 42 to BE71 0961 2345 6769.\r\n";
static const char TAMPERED[] =
    "Content-Type: text/plain; charset=utf-8\r\n\r\nPay invoice 42 to BE99 0000 0000 0000.\r\n";

/* The eID leaf profile of data/eid/testcard/59-signing.pem. */
#define QC_COMPLIANCE_EXT "1.3.6.1.5.5.7.1.3=DER:30:0a:30:08:06:06:04:00:8e:46:01:01"

struct pki {
	struct pki_fixture *eid_root, *citizen_ca, *foreigner_ca;
	struct pki_fixture *sig_rsa, *sig_ec, *auth, *foreign_sig, *expired;
	struct pki_fixture *smime_root, *alice, *qualified, *server_only, *weak_rsa;
	struct pki_fixture *mallory;
	STACK_OF(X509) *eid_chain;      /* citizen CA, as a card's mail carries */
	STACK_OF(X509) *foreign_chain;
	STACK_OF(X509) *smime_chain;
	char dir[64], eid_pem[128], smime_pem[128];
	struct smime_trust *trust;
};

static struct pki_fixture *
issue(const struct pki_fixture *issuer, EVP_PKEY *key, const char *cn, time_t nb,
    time_t na, const char *const *exts)
{
	struct pki_spec spec = {
		.cn = cn, .serial = 0, .not_before = nb, .not_after = na,
		.key = key, .exts = exts,
	};
	static long serial = 100;
	struct pki_fixture *f;

	spec.serial = ++serial;
	f = pki_fixture_issue(issuer, &spec);
	EVP_PKEY_free(key); /* the fixture holds its own reference */
	return f;
}

static struct pki_fixture *
ca(const char *cn, const struct pki_fixture *issuer)
{
	static const char *const root_exts[] = {
		"basicConstraints=critical,CA:TRUE",
		"keyUsage=critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier=hash",
		NULL
	};
	static const char *const sub_exts[] = {
		"basicConstraints=critical,CA:TRUE,pathlen:0",
		"keyUsage=critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier=hash",
		"authorityKeyIdentifier=keyid",
		NULL
	};

	return issue(issuer, NULL, cn, NOW - 10 * YEAR, NOW + 10 * YEAR,
	    issuer != NULL ? sub_exts : root_exts);
}

/* Replaces the subject with the (type, value) pairs and signs again. */
static int
resubject(struct pki_fixture *f, const struct pki_fixture *issuer,
    const char *const (*rdns)[2])
{
	X509_NAME *name = X509_NAME_new();
	int ok = name != NULL, i;

	for (i = 0; ok && rdns[i][0] != NULL; i++)
		ok = X509_NAME_add_entry_by_txt(name, rdns[i][0], MBSTRING_UTF8,
		    (const unsigned char *)rdns[i][1], -1, -1, 0) == 1;
	ok = ok && f != NULL && X509_set_subject_name(f->cert, name) == 1 &&
	    X509_sign(f->cert, issuer->key, EVP_sha256()) > 0;
	X509_NAME_free(name);
	return ok ? 0 : -1;
}

/* "certificatePolicies=DER:..." with one policy OID: OpenSSL's text form
 * of the extension needs a config database. 0 or -1. */
static int
policy_line(const char *oid, char *out, size_t outlen)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	unsigned char *der = NULL;
	size_t used;
	int n = obj != NULL ? i2d_ASN1_OBJECT(obj, &der) : -1, i, rc = -1, w;

	ASN1_OBJECT_free(obj);
	if (n <= 0 || n > 100)
		goto out;
	/* SEQUENCE { SEQUENCE { OBJECT IDENTIFIER } } */
	w = snprintf(out, outlen, "certificatePolicies=DER:30:%02x:30:%02x", n + 2, n);
	if (w < 0 || (size_t)w >= outlen)
		goto out;
	used = (size_t)w;
	for (i = 0; i < n; i++) {
		w = snprintf(out + used, outlen - used, ":%02x", der[i]);
		if (w < 0 || (size_t)w >= outlen - used)
			goto out;
		used += (size_t)w;
	}
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

/* An eID card leaf: C, CN "<name> (Signature)", SN, GN, serialNumber. */
static struct pki_fixture *
eid_leaf(const struct pki_fixture *ca_, EVP_PKEY *key, const char *policy,
    int signature, time_t nb, time_t na)
{
	char pol[512];
	const char *exts[6];
	const char *const sig_rdns[][2] = {
		{ "C", "BE" }, { "CN", "Anna Peeters (Signature)" }, { "SN", "Peeters" },
		{ "GN", "Anna Maria" }, { "serialNumber", "85073003328" }, { NULL, NULL },
	};
	const char *const auth_rdns[][2] = {
		{ "C", "BE" }, { "CN", "Anna Peeters (Authentication)" }, { "SN", "Peeters" },
		{ "GN", "Anna Maria" }, { "serialNumber", "85073003328" }, { NULL, NULL },
	};
	struct pki_fixture *f;
	size_t n = 0;

	if (policy != NULL && policy_line(policy, pol, sizeof(pol)) < 0) {
		EVP_PKEY_free(key);
		return NULL;
	}
	if (policy != NULL)
		exts[n++] = pol;
	if (signature) {
		exts[n++] = "keyUsage=critical,nonRepudiation";
		exts[n++] = QC_COMPLIANCE_EXT;
	} else {
		exts[n++] = "keyUsage=critical,digitalSignature";
	}
	exts[n++] = "authorityKeyIdentifier=keyid";
	exts[n] = NULL;
	f = issue(ca_, key, "placeholder", nb, na, exts);
	if (resubject(f, ca_, signature ? sig_rdns : auth_rdns) < 0) {
		pki_fixture_free(f);
		f = NULL;
	}
	return f;
}

static int
write_pem(const char *path, X509 *a, X509 *b)
{
	BIO *bio = BIO_new_file(path, "w");
	int ok = bio != NULL && PEM_write_bio_X509(bio, a) == 1 &&
	    (b == NULL || PEM_write_bio_X509(bio, b) == 1);

	BIO_free(bio);
	return ok ? 0 : -1;
}

static STACK_OF(X509) *
stack_of(X509 *a)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	if (sk != NULL && a != NULL && sk_X509_push(sk, a) > 0)
		X509_up_ref(a);
	return sk;
}

/* Whether needle occurs anywhere in the n bytes at hay. */
static int
contains(const void *hay, size_t n, const char *needle)
{
	const unsigned char *h = hay;
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++) {
		if (memcmp(h + i, needle, k) == 0)
			return 1;
	}
	return 0;
}

static void
pki_free(struct pki *p)
{
	struct pki_fixture *all[] = {
		p->eid_root, p->citizen_ca, p->foreigner_ca, p->sig_rsa, p->sig_ec,
		p->auth, p->foreign_sig, p->expired, p->smime_root, p->alice,
		p->qualified, p->server_only, p->weak_rsa, p->mallory,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		pki_fixture_free(all[i]);
	sk_X509_pop_free(p->eid_chain, X509_free);
	sk_X509_pop_free(p->foreign_chain, X509_free);
	sk_X509_pop_free(p->smime_chain, X509_free);
	smime_trust_free(p->trust);
	if (p->eid_pem[0] != '\0')
		unlink(p->eid_pem);
	if (p->smime_pem[0] != '\0')
		unlink(p->smime_pem);
	if (p->dir[0] != '\0')
		rmdir(p->dir);
}

static int
pki_make(struct pki *p)
{
	static const char *const alice_exts[] = {
		"keyUsage=critical,digitalSignature,keyEncipherment",
		"extendedKeyUsage=emailProtection",
		"subjectAltName=email:Alice@Example.ORG,email:bob@example.org",
		"authorityKeyIdentifier=keyid",
		NULL
	};
	static const char *const qualified_exts[] = {
		"keyUsage=critical,nonRepudiation,digitalSignature",
		"extendedKeyUsage=emailProtection",
		"subjectAltName=email:quentin@qualified.example",
		QC_COMPLIANCE_EXT,
		NULL
	};
	static const char *const server_exts[] = {
		"keyUsage=critical,digitalSignature",
		"extendedKeyUsage=serverAuth",
		"subjectAltName=email:server@example.org",
		NULL
	};
	static const char *const mallory_exts[] = {
		"keyUsage=critical,digitalSignature",
		"subjectAltName=email:mallory@example.org",
		NULL
	};
	const char *const alice_rdns[][2] = {
		{ "C", "NL" }, { "CN", "Alice Example" },
		{ "emailAddress", "alice@example.org" }, { NULL, NULL },
	};
	struct config cfg;
	char err[256];

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/tl-smime-XXXXXX");
	if (mkdtemp(p->dir) == NULL) {
		p->dir[0] = '\0';
		return -1;
	}
	snprintf(p->eid_pem, sizeof(p->eid_pem), "%s/eid-roots.pem", p->dir);
	snprintf(p->smime_pem, sizeof(p->smime_pem), "%s/smime-ca.pem", p->dir);

	p->eid_root = ca("Belgium Root CT9", NULL);
	p->citizen_ca = ca("Citizen CA", p->eid_root);
	p->foreigner_ca = ca("Foreigner CA", p->eid_root);
	p->smime_root = ca("Test S/MIME CA", NULL);
	if (p->eid_root == NULL || p->citizen_ca == NULL || p->foreigner_ca == NULL ||
	    p->smime_root == NULL)
		return -1;
	p->sig_rsa = eid_leaf(p->citizen_ca, EVP_RSA_gen(2048), "2.16.56.12.1.1.2.1", 1,
	    NOW - YEAR, NOW + 4 * YEAR);
	p->sig_ec = eid_leaf(p->citizen_ca, EVP_EC_gen("P-384"), "2.16.56.12.1.1.2.1", 1,
	    NOW - YEAR, NOW + 4 * YEAR);
	p->auth = eid_leaf(p->citizen_ca, EVP_EC_gen("P-384"), "2.16.56.12.1.1.2.2", 0,
	    NOW - YEAR, NOW + 4 * YEAR);
	p->foreign_sig = eid_leaf(p->foreigner_ca, EVP_EC_gen("P-384"),
	    "2.16.56.12.1.1.7.1", 1, NOW - YEAR, NOW + 4 * YEAR);
	p->expired = eid_leaf(p->citizen_ca, EVP_EC_gen("P-384"), "2.16.56.12.1.1.2.1", 1,
	    NOW - 3 * YEAR, NOW - YEAR);
	p->alice = issue(p->smime_root, NULL, "placeholder", NOW - YEAR, NOW + YEAR,
	    alice_exts);
	if (resubject(p->alice, p->smime_root, alice_rdns) < 0)
		return -1;
	p->qualified = issue(p->smime_root, NULL, "Quentin Qualified", NOW - YEAR,
	    NOW + YEAR, qualified_exts);
	p->server_only = issue(p->smime_root, NULL, "Server Only", NOW - YEAR, NOW + YEAR,
	    server_exts);
	p->weak_rsa = issue(p->smime_root, EVP_RSA_gen(1024), "Weak Key", NOW - YEAR,
	    NOW + YEAR, alice_exts);
	p->mallory = issue(NULL, NULL, "Mallory", NOW - YEAR, NOW + YEAR, mallory_exts);
	if (p->sig_rsa == NULL || p->sig_ec == NULL || p->auth == NULL ||
	    p->foreign_sig == NULL || p->expired == NULL || p->qualified == NULL ||
	    p->server_only == NULL || p->weak_rsa == NULL || p->mallory == NULL)
		return -1;
	p->eid_chain = stack_of(p->citizen_ca->cert);
	p->foreign_chain = stack_of(p->foreigner_ca->cert);
	p->smime_chain = stack_of(NULL);
	if (write_pem(p->eid_pem, p->eid_root->cert, NULL) < 0 ||
	    write_pem(p->smime_pem, p->smime_root->cert, NULL) < 0)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.eid_roots = p->eid_pem;
	cfg.smime_ca_file = p->smime_pem;
	if (smime_trust_load(&cfg, &p->trust, err, sizeof(err)) < 0) {
		fprintf(stderr, "smime_trust_load: %s\n", err);
		return -1;
	}
	return 0;
}

/* How to make one test message. */
struct sign_opts {
	const struct pki_fixture *signer, *second;
	STACK_OF(X509) *extra;      /* certificates to include besides the signer's */
	const EVP_MD *md;           /* NULL: SHA-256 */
	int opaque, no_attrs, no_signer, pss, bad_time_type;
	int stream;                 /* BER, indefinite lengths, as mailers send */
	time_t signing_time;        /* 0: NOW - DAY */
};

static int
add_signer(CMS_ContentInfo *cms, const struct pki_fixture *f, const struct sign_opts *o)
{
	CMS_SignerInfo *si;
	ASN1_TIME *tm = NULL;
	int ok = 0;

	si = CMS_add1_signer(cms, f->cert, f->key, o->md != NULL ? o->md : EVP_sha256(),
	    CMS_BINARY | (o->no_attrs ? CMS_NOATTR : 0) | (o->pss ? CMS_KEY_PARAM : 0));
	if (si == NULL)
		goto out;
	if (o->pss && EVP_PKEY_CTX_set_rsa_padding(CMS_SignerInfo_get0_pkey_ctx(si),
	    RSA_PKCS1_PSS_PADDING) <= 0)
		goto out;
	if (o->no_attrs) {
		ok = 1;
		goto out;
	}
	if (o->bad_time_type) {
		ok = CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
		    V_ASN1_IA5STRING, "yesterday", 9) == 1;
		goto out;
	}
	tm = ASN1_TIME_set(NULL, o->signing_time != 0 ? o->signing_time : NOW - DAY);
	ok = tm != NULL && CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
	    tm->type, tm, -1) == 1;
out:
	ASN1_TIME_free(tm);
	return ok;
}

/* The streaming encoder's output (BER with indefinite lengths), malloc'd. */
static unsigned char *
ber_stream(CMS_ContentInfo *cms, BIO *in, unsigned int flags, size_t *len)
{
	BIO *out = BIO_new(BIO_s_mem());
	unsigned char *buf = NULL;
	char *mem = NULL;
	long n = 0;

	if (out != NULL && i2d_CMS_bio_stream(out, cms, in,
	    (int)((flags & ~CMS_PARTIAL) | CMS_STREAM)) == 1)
		n = BIO_get_mem_data(out, &mem);
	/* The outer SEQUENCE of indefinite length: the case being tested. */
	CHECK(n > 2 && (unsigned char)mem[1] == 0x80);
	if (n > 0)
		buf = malloc((size_t)n);
	if (buf != NULL) {
		memcpy(buf, mem, (size_t)n);
		*len = (size_t)n;
	}
	BIO_free(out);
	return buf;
}

/* A CMS SignedData over CONTENT as DER (malloc'd), or NULL. */
static unsigned char *
make_cms(const struct sign_opts *o, size_t *len)
{
	BIO *in = BIO_new_mem_buf(CONTENT, -1);
	unsigned int flags = CMS_BINARY | CMS_PARTIAL | (o->opaque ? 0 : CMS_DETACHED);
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, o->extra, NULL, flags);
	unsigned char *der = NULL;
	int ok = in != NULL && cms != NULL;

	*len = 0;
	if (ok && !o->no_signer)
		ok = add_signer(cms, o->signer, o);
	if (ok && o->second != NULL)
		ok = add_signer(cms, o->second, o);
	if (ok && o->stream) {
		der = ber_stream(cms, in, flags, len);
		ok = 0;
	}
	/* Without a signer there is nothing to finalise: a certificates-only
	 * SignedData (RFC 5652 5.2's degenerate case). */
	if (ok && !o->no_signer)
		ok = CMS_final(cms, in, NULL, flags & ~CMS_PARTIAL) == 1;
	if (ok)
		der = pki_fixture_i2d(cms, ASN1_ITEM_rptr(CMS_ContentInfo), len);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	ERR_clear_error();
	return der;
}

static void
verify(const struct pki *p, const unsigned char *der, size_t len, const char *content,
    struct smime_result *r)
{
	int rc = smime_verify(p->trust, der, len, (const unsigned char *)content,
	    content != NULL ? strlen(content) : 0, NOW, r);

	CHECK(rc == 0);
}

/* Signs with o, verifies against content; checks sig and reason. */
static void
expect(const struct pki *p, const struct sign_opts *o, const char *content,
    enum smime_sig sig, const char *reason, struct smime_result *r)
{
	unsigned char *der;
	size_t len;

	smime_result_init(r);
	der = make_cms(o, &len);
	CHECK_MSG(der != NULL, "cannot sign (want %s)", reason != NULL ? reason : "valid");
	if (der == NULL)
		return;
	verify(p, der, len, content, r);
	CHECK_MSG(r->sig == sig, "sig %d, want %d (%s)", (int)r->sig, (int)sig,
	    r->invalid_reason != NULL ? r->invalid_reason : "valid");
	if (reason == NULL)
		CHECK_MSG(r->invalid_reason == NULL, "reason %s", r->invalid_reason);
	else
		CHECK_STR(r->invalid_reason, reason);
	free(der);
}

static void
test_eid_signatures(const struct pki *p)
{
	struct smime_result r;
	struct sign_opts o;
	X509 *root;

	/* RSA-2048 signature certificate, detached, SHA-256. */
	memset(&o, 0, sizeof(o));
	o.signer = p->sig_rsa;
	o.extra = p->eid_chain;
	o.signing_time = NOW - 2 * DAY;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.has_signer == 1);
	CHECK(r.signing_time == NOW - 2 * DAY);
	CHECK(r.signer.kind == SMIME_KIND_EID);
	CHECK_STR(r.signer.card, "citizen");
	CHECK_STR(r.signer.usage, "signature");
	CHECK(r.signer.qualified == 1);
	CHECK_STR(r.signer.name, "Anna Maria Peeters");
	CHECK_STR(r.signer.given_name, "Anna Maria");
	CHECK_STR(r.signer.surname, "Peeters");
	CHECK_STR(r.signer.country, "BE");
	CHECK_STR(r.signer.issuer, "Citizen CA");
	CHECK(r.signer.n_emails == 0);
	CHECK(r.signer.not_after == NOW + 4 * YEAR);
	CHECK(strlen(r.signer.cert_sha256) == 64);
	CHECK(r.econtent == NULL);
	CHECK(r.chain_certs != NULL && sk_X509_num(r.chain_certs) == 3);
	if (r.chain_certs != NULL && sk_X509_num(r.chain_certs) == 3) {
		root = sk_X509_value(r.chain_certs, 2);
		CHECK(X509_cmp(sk_X509_value(r.chain_certs, 0), p->sig_rsa->cert) == 0);
		CHECK(X509_cmp(root, p->eid_root->cert) == 0);
	}
	/* The fixture's national register number reaches no field. */
	CHECK(!contains(&r.signer, sizeof(r.signer), "85073003328"));
	smime_result_clear(&r);

	/* The same, opaque: the content comes out. */
	o.opaque = 1;
	expect(p, &o, NULL, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.econtent != NULL && r.econtent_len == strlen(CONTENT) &&
	    memcmp(r.econtent, CONTENT, r.econtent_len) == 0);
	smime_result_clear(&r);

	/* The same as a streaming mailer encodes it: BER, indefinite lengths. */
	o.stream = 1;
	expect(p, &o, NULL, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.econtent != NULL && r.econtent_len == strlen(CONTENT) &&
	    memcmp(r.econtent, CONTENT, r.econtent_len) == 0);
	smime_result_clear(&r);
	o.stream = 0;

	/* RSA-PSS with SHA-256 and MGF1-SHA-256. */
	o.opaque = 0;
	o.pss = 1;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	smime_result_clear(&r);

	/* EC P-384 (applet 1.8 cards), ECDSA with SHA-384, opaque. */
	memset(&o, 0, sizeof(o));
	o.signer = p->sig_ec;
	o.extra = p->eid_chain;
	o.md = EVP_sha384();
	o.opaque = 1;
	expect(p, &o, NULL, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.signer.kind == SMIME_KIND_EID);
	CHECK_STR(r.signer.usage, "signature");
	CHECK(r.signer.qualified == 1);
	smime_result_clear(&r);

	/* The authentication certificate: eID, not qualified. */
	memset(&o, 0, sizeof(o));
	o.signer = p->auth;
	o.extra = p->eid_chain;
	o.md = EVP_sha512();
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.signer.kind == SMIME_KIND_EID);
	CHECK_STR(r.signer.card, "citizen");
	CHECK_STR(r.signer.usage, "authentication");
	CHECK(r.signer.qualified == 0);
	CHECK_STR(r.signer.name, "Anna Maria Peeters");
	smime_result_clear(&r);

	/* A foreigner card. */
	memset(&o, 0, sizeof(o));
	o.signer = p->foreign_sig;
	o.extra = p->foreign_chain;
	o.md = EVP_sha384();
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.signer.kind == SMIME_KIND_EID);
	CHECK_STR(r.signer.card, "foreigner");
	CHECK_STR(r.signer.usage, "signature");
	CHECK(r.signer.qualified == 1);
	CHECK_STR(r.signer.issuer, "Foreigner CA");
	smime_result_clear(&r);

	/* The issuing CA left out of the message: no path (the shipped issuing
	 * CAs are the real ones, not this test PKI's). */
	memset(&o, 0, sizeof(o));
	o.signer = p->sig_rsa;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_UNTRUSTED);
	CHECK(r.chain_certs == NULL);
	CHECK(r.signer.kind == SMIME_KIND_QUALIFIED);
	CHECK_STR(r.signer.card, "");
	smime_result_clear(&r);
}

static void
test_times(const struct pki *p)
{
	struct smime_result r;
	struct sign_opts o;

	/* Valid when signed, expired now. */
	memset(&o, 0, sizeof(o));
	o.signer = p->expired;
	o.extra = p->eid_chain;
	o.signing_time = NOW - 2 * YEAR;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK_MSG(r.chain == SMIME_CHAIN_EXPIRED, "chain %d", (int)r.chain);
	CHECK(r.signing_time == NOW - 2 * YEAR);
	CHECK(r.signer.kind == SMIME_KIND_EID);
	CHECK(r.chain_certs != NULL);
	smime_result_clear(&r);

	/* Signed after the certificate expired. */
	o.signing_time = NOW - YEAR / 2;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK_MSG(r.chain == SMIME_CHAIN_INVALID_AT_SIGNING, "chain %d", (int)r.chain);
	CHECK(r.signer.kind == SMIME_KIND_EID);
	smime_result_clear(&r);

	/* Signed before the certificate existed. */
	o.signing_time = NOW - 4 * YEAR;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK_MSG(r.chain == SMIME_CHAIN_INVALID_AT_SIGNING, "chain %d", (int)r.chain);
	smime_result_clear(&r);

	/* A signing time in the future is reported, the chain judged now. */
	memset(&o, 0, sizeof(o));
	o.signer = p->sig_rsa;
	o.extra = p->eid_chain;
	o.signing_time = NOW + 30 * DAY;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.signing_time == NOW + 30 * DAY);
	smime_result_clear(&r);

	/* A signingTime that is not a time. */
	o.bad_time_type = 1;
	expect(p, &o, CONTENT, SMIME_SIG_INVALID, "bad_signed_attributes", &r);
	CHECK(r.signing_time == 0);
	CHECK(r.has_signer == 1);
	smime_result_clear(&r);
}

static void
test_smime_signers(const struct pki *p)
{
	struct smime_result r;
	struct sign_opts o;

	memset(&o, 0, sizeof(o));
	o.signer = p->alice;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.signer.kind == SMIME_KIND_SMIME);
	CHECK_STR(r.signer.name, "Alice Example");
	CHECK_STR(r.signer.country, "NL");
	CHECK_STR(r.signer.issuer, "Test S/MIME CA");
	CHECK_STR(r.signer.card, "");
	CHECK_STR(r.signer.usage, "");
	CHECK(r.signer.qualified == 0);
	CHECK(r.signer.n_emails == 2);
	CHECK_STR(r.signer.emails[0], "alice@example.org");
	CHECK_STR(r.signer.emails[1], "bob@example.org");
	CHECK(r.chain_certs != NULL && sk_X509_num(r.chain_certs) == 2);
	smime_result_clear(&r);

	/* QcCompliance + nonRepudiation outside the eID PKI. */
	o.signer = p->qualified;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_TRUSTED);
	CHECK(r.signer.kind == SMIME_KIND_QUALIFIED);
	CHECK(r.signer.qualified == 1);
	CHECK_STR(r.signer.name, "Quentin Qualified");
	CHECK(r.signer.n_emails == 1);
	smime_result_clear(&r);

	/* extendedKeyUsage without emailProtection: not for S/MIME. */
	o.signer = p->server_only;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK_MSG(r.chain == SMIME_CHAIN_UNTRUSTED, "chain %d", (int)r.chain);
	CHECK(r.chain_certs == NULL);
	smime_result_clear(&r);

	/* Self-signed: a valid signature by nobody anyone trusts. */
	o.signer = p->mallory;
	expect(p, &o, CONTENT, SMIME_SIG_VALID, NULL, &r);
	CHECK(r.chain == SMIME_CHAIN_UNTRUSTED);
	CHECK(r.signer.kind == SMIME_KIND_SMIME);
	CHECK_STR(r.signer.name, "Mallory");
	CHECK(r.chain_certs == NULL);
	smime_result_clear(&r);
}

/* der with one zero byte appended (der is freed on failure). */
static unsigned char *
realloc_append(unsigned char *der, size_t len)
{
	unsigned char *more = realloc(der, len + 1);

	if (more == NULL) {
		free(der);
		return NULL;
	}
	more[len] = 0;
	return more;
}

/* Tampered, malformed and refused messages. Flipping the last byte of the
 * DER changes a byte of the signature value. */
static void
test_refusals(const struct pki *p)
{
	struct smime_result r;
	struct sign_opts o;
	unsigned char *der, garbage[] = "not a CMS at all";
	size_t len;
	BIO *in;
	CMS_ContentInfo *data;

	memset(&o, 0, sizeof(o));
	o.signer = p->sig_rsa;
	o.extra = p->eid_chain;

	/* The body changed after signing. */
	expect(p, &o, TAMPERED, SMIME_SIG_INVALID, "digest_mismatch", &r);
	CHECK(r.has_signer == 1);
	CHECK(r.signer.kind == SMIME_KIND_EID);
	smime_result_clear(&r);

	/* The signature value changed. */
	der = make_cms(&o, &len);
	CHECK(der != NULL);
	if (der != NULL) {
		der[len - 1] ^= 0x01;
		smime_result_init(&r);
		verify(p, der, len, CONTENT, &r);
		CHECK(r.sig == SMIME_SIG_INVALID);
		CHECK_STR(r.invalid_reason, "bad_signature");
		smime_result_clear(&r);

		/* Truncated, and with a byte appended. */
		der[len - 1] ^= 0x01;
		smime_result_init(&r);
		verify(p, der, len - 7, CONTENT, &r);
		CHECK(r.sig == SMIME_SIG_INVALID);
		CHECK_STR(r.invalid_reason, "unparseable");
		CHECK(r.has_signer == 0);
		smime_result_clear(&r);

		/* One byte past the end. */
		der = realloc_append(der, len);
		CHECK(der != NULL);
		if (der != NULL) {
			smime_result_init(&r);
			verify(p, der, len + 1, CONTENT, &r);
			CHECK(r.sig == SMIME_SIG_INVALID);
			CHECK_STR(r.invalid_reason, "unparseable");
			smime_result_clear(&r);
		}
		free(der);
	}

	/* An opaque message given detached content as well. */
	o.opaque = 1;
	expect(p, &o, CONTENT, SMIME_SIG_INVALID, "econtent_and_detached", &r);
	smime_result_clear(&r);

	/* A detached signature without its content. */
	o.opaque = 0;
	expect(p, &o, NULL, SMIME_SIG_INVALID, "no_content", &r);
	smime_result_clear(&r);

	/* SHA-1, everywhere. */
	o.md = EVP_sha1();
	expect(p, &o, CONTENT, SMIME_SIG_INVALID, "weak_digest", &r);
	CHECK(r.has_signer == 1); /* "signed by X, with SHA-1: refused" */
	CHECK(r.signer.kind == SMIME_KIND_EID);
	smime_result_clear(&r);
	o.md = NULL;

	/* No signed attributes. */
	o.no_attrs = 1;
	expect(p, &o, CONTENT, SMIME_SIG_INVALID, "no_signed_attributes", &r);
	CHECK(r.has_signer == 1);
	smime_result_clear(&r);
	o.no_attrs = 0;

	/* Two SignerInfos, and none. */
	o.second = p->sig_ec;
	expect(p, &o, CONTENT, SMIME_SIG_INVALID, "several_signers", &r);
	CHECK(r.has_signer == 0);
	smime_result_clear(&r);
	o.second = NULL;
	o.no_signer = 1;
	expect(p, &o, CONTENT, SMIME_SIG_INVALID, "no_signer", &r);
	CHECK(r.has_signer == 0);
	smime_result_clear(&r);
	o.no_signer = 0;

	/* RSA-1024. */
	memset(&o, 0, sizeof(o));
	o.signer = p->weak_rsa;
	expect(p, &o, CONTENT, SMIME_SIG_INVALID, "weak_signature", &r);
	smime_result_clear(&r);

	/* Garbage and an empty input. */
	smime_result_init(&r);
	verify(p, garbage, sizeof(garbage) - 1, CONTENT, &r);
	CHECK(r.sig == SMIME_SIG_INVALID);
	CHECK_STR(r.invalid_reason, "unparseable");
	smime_result_clear(&r);
	CHECK(smime_verify(p->trust, garbage, 0, NULL, 0, NOW, &r) == 0);
	CHECK_STR(r.invalid_reason, "unparseable");
	smime_result_clear(&r);

	/* A ContentInfo that is not signedData. */
	in = BIO_new_mem_buf(CONTENT, -1);
	data = in != NULL ? CMS_data_create(in, CMS_BINARY) : NULL;
	der = data != NULL ? pki_fixture_i2d(data, ASN1_ITEM_rptr(CMS_ContentInfo), &len) :
	    NULL;
	CHECK(der != NULL);
	if (der != NULL) {
		smime_result_init(&r);
		verify(p, der, len, NULL, &r);
		CHECK(r.sig == SMIME_SIG_UNSUPPORTED);
		CHECK_STR(r.invalid_reason, "unsupported");
		smime_result_clear(&r);
	}
	free(der);
	CMS_ContentInfo_free(data);
	BIO_free(in);
	ERR_clear_error();
}

static void
test_trust(const struct pki *p)
{
	struct smime_trust *t = NULL;
	struct smime_result r;
	struct sign_opts o;
	struct config cfg;
	unsigned char *der;
	char err[256], eid_pem[128], missing[] = "/nonexistent/eid-roots.pem";
	size_t len;

	/* The shipped data: five roots (CA2, CA3, CA4, CA4b, CA6) and the two
	 * issuing CAs. */
	memset(&cfg, 0, sizeof(cfg));
	snprintf(eid_pem, sizeof(eid_pem), "%s", p->eid_pem);
	cfg.smime_ca_file = eid_pem; /* the test eID root, as a mere S/MIME CA */
	CHECK(smime_trust_load(&cfg, &t, err, sizeof(err)) == 0);
	if (t == NULL)
		return;
	CHECK(sk_X509_OBJECT_num(X509_STORE_get0_objects(t->eid)) == 5);
	CHECK(sk_X509_num(t->issuing) == 2);

	/* "Chains to an eID root" is a fact about the path, not the names: the
	 * same card chains here only to an S/MIME anchor. */
	memset(&o, 0, sizeof(o));
	o.signer = p->sig_rsa;
	o.extra = p->eid_chain;
	der = make_cms(&o, &len);
	CHECK(der != NULL);
	if (der != NULL) {
		smime_result_init(&r);
		CHECK(smime_verify(t, der, len, (const unsigned char *)CONTENT,
		    strlen(CONTENT), NOW, &r) == 0);
		CHECK(r.sig == SMIME_SIG_VALID);
		CHECK(r.chain == SMIME_CHAIN_TRUSTED);
		CHECK(r.signer.kind == SMIME_KIND_QUALIFIED);
		CHECK_STR(r.signer.card, "");
		CHECK_STR(r.signer.usage, "");
		smime_result_clear(&r);
	}
	free(der);
	smime_trust_free(t);
	t = NULL;

	/* A named file that cannot be read is an error, not an empty set. */
	cfg.eid_roots = missing;
	CHECK(smime_trust_load(&cfg, &t, err, sizeof(err)) == -1);
	CHECK(t == NULL);
	CHECK(strstr(err, "TRUSTLENS_EID_ROOTS") != NULL);
	smime_trust_free(NULL);
	smime_result_clear(NULL);
}

/* Identity fields straight from certificates, without a message. */
static void
test_signer_read(const struct pki *p)
{
	struct smime_signer sg;
	struct pki_fixture *f;
	X509_NAME *name;
	int ok;

	/* A CA6-era leaf without the eID policy arcs: the issuing CA's name
	 * and the key usage stand in. */
	f = eid_leaf(p->citizen_ca, NULL, NULL, 1, NOW - YEAR, NOW + YEAR);
	CHECK(f != NULL);
	if (f != NULL) {
		smime_signer_read(f->cert, 1, &sg);
		CHECK(sg.kind == SMIME_KIND_EID);
		CHECK_STR(sg.card, "citizen");
		CHECK_STR(sg.usage, "signature");
		CHECK(sg.qualified == 1);
		/* Not on an eID chain: the same certificate is merely qualified. */
		smime_signer_read(f->cert, 0, &sg);
		CHECK(sg.kind == SMIME_KIND_QUALIFIED);
		CHECK_STR(sg.card, "");
		CHECK_STR(sg.usage, "");

		/* A given name hiding a NUL is refused; the CN stands in. */
		name = X509_NAME_new();
		ok = name != NULL &&
		    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		    (const unsigned char *)"Anna Peeters (Signature)", -1, -1, 0) == 1 &&
		    X509_NAME_add_entry_by_txt(name, "SN", MBSTRING_UTF8,
		    (const unsigned char *)"Peeters", -1, -1, 0) == 1 &&
		    X509_NAME_add_entry_by_txt(name, "GN", MBSTRING_UTF8,
		    (const unsigned char *)"Anna\0Mallory", 12, -1, 0) == 1 &&
		    X509_set_subject_name(f->cert, name) == 1 &&
		    X509_sign(f->cert, p->citizen_ca->key, EVP_sha256()) > 0;
		X509_NAME_free(name);
		CHECK(ok);
		smime_signer_read(f->cert, 1, &sg);
		CHECK_STR(sg.given_name, "");
		CHECK_STR(sg.surname, "Peeters");
		CHECK_STR(sg.name, "Anna Peeters");
		CHECK(!contains(&sg, sizeof(sg), "Mallory"));
	}
	pki_fixture_free(f);
	ERR_clear_error();
}

static X509 *
read_cert(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	return x;
}

/* The real test cards (data/eid/testcard/, root "Belgium Root CT3", issuer
 * "Citizen CT"). Cards 59 and 60 carry the same certificates, so the same
 * national register number, 67063029659. */
static void
test_cards(void)
{
	static const struct {
		const char *leaf, *ca;
		int signature;
	} cards[] = {
		{ "data/eid/testcard/59-signing.pem", "data/eid/testcard/59-citizenca.pem", 1 },
		{ "data/eid/testcard/60-signing.pem", "data/eid/testcard/60-citizenca.pem", 1 },
		{ "data/eid/testcard/59-authentication.pem",
		  "data/eid/testcard/59-citizenca.pem", 0 },
		{ "data/eid/testcard/60-authentication.pem",
		  "data/eid/testcard/60-citizenca.pem", 0 },
	};
	const time_t signed_at = 1420070400; /* 2015-01-01 */
	struct smime_trust *t = NULL;
	struct smime_result r;
	struct config cfg;
	STACK_OF(X509) *certs;
	X509 *leaf;
	char err[256], rrn[32], root[] = "data/eid/testcard/59-root.pem";
	size_t i;
	int idx;

	memset(&cfg, 0, sizeof(cfg));
	cfg.eid_roots = root;
	cfg.smime_ca_file = root;
	CHECK_MSG(smime_trust_load(&cfg, &t, err, sizeof(err)) == 0, "%s", err);
	if (t == NULL)
		return;
	for (i = 0; i < sizeof(cards) / sizeof(cards[0]); i++) {
		leaf = read_cert(cards[i].leaf);
		certs = stack_of(read_cert(cards[i].ca));
		CHECK(leaf != NULL && certs != NULL && sk_X509_num(certs) == 1);
		if (leaf == NULL || certs == NULL) {
			X509_free(leaf);
			sk_X509_pop_free(certs, X509_free);
			continue;
		}
		X509_free(sk_X509_value(certs, 0)); /* stack_of took its own ref */
		/* The number to hunt for, from the certificate itself. */
		idx = X509_NAME_get_index_by_NID(X509_get_subject_name(leaf),
		    NID_serialNumber, -1);
		rrn[0] = '\0';
		if (idx >= 0)
			X509_NAME_get_text_by_NID(X509_get_subject_name(leaf),
			    NID_serialNumber, rrn, sizeof(rrn));
		CHECK_STR(rrn, "67063029659");

		smime_result_init(&r);
		CHECK(smime_signer_evaluate(t, leaf, certs, signed_at, signed_at + DAY,
		    &r) == 0);
		CHECK_MSG(r.chain == SMIME_CHAIN_TRUSTED, "chain %d", (int)r.chain);
		CHECK(r.has_signer == 1);
		CHECK(r.signer.kind == SMIME_KIND_EID);
		CHECK_STR(r.signer.card, "citizen");
		CHECK_STR(r.signer.usage, cards[i].signature ? "signature" : "authentication");
		CHECK(r.signer.qualified == cards[i].signature);
		CHECK_STR(r.signer.name, "Martine Hilde Lampaert");
		CHECK_STR(r.signer.given_name, "Martine Hilde");
		CHECK_STR(r.signer.surname, "Lampaert");
		CHECK_STR(r.signer.country, "BE");
		CHECK_STR(r.signer.issuer, "Citizen CT");
		CHECK(r.signer.n_emails == 0);
		CHECK(r.signer.not_after == 1488412799); /* 2017-03-01T23:59:59Z */
		if (cards[i].signature)
			CHECK_STR(r.signer.cert_sha256,
			    "1e39894fc5b59f2ea775927a34f23dabb4d422d1f388acb84b992fa8c498ec2b");
		CHECK(r.chain_certs != NULL && sk_X509_num(r.chain_certs) == 3);
		/* No field of the result holds the national register number. */
		CHECK(rrn[0] != '\0' && !contains(&r.signer, sizeof(r.signer), rrn));
		CHECK(!contains(&r.signer, sizeof(r.signer), "67063029659"));
		smime_result_clear(&r);

		/* Signed in 2015, judged in 2030: the card has expired since. */
		smime_result_init(&r);
		CHECK(smime_signer_evaluate(t, leaf, certs, signed_at, NOW, &r) == 0);
		CHECK_MSG(r.chain == SMIME_CHAIN_EXPIRED, "chain %d", (int)r.chain);
		CHECK(r.signer.kind == SMIME_KIND_EID);
		CHECK(!contains(&r.signer, sizeof(r.signer), "67063029659"));
		smime_result_clear(&r);

		/* No signing time, judged in 2030: nothing shows it was ever valid
		 * when signed. */
		smime_result_init(&r);
		CHECK(smime_signer_evaluate(t, leaf, certs, 0, NOW, &r) == 0);
		CHECK(r.chain == SMIME_CHAIN_INVALID_AT_SIGNING);
		smime_result_clear(&r);

		X509_free(leaf);
		sk_X509_pop_free(certs, X509_free);
	}
	smime_trust_free(t);
}

void
suite_smime(void)
{
	struct pki p;

	if (pki_make(&p) < 0) {
		CHECK_MSG(0, "test PKI could not be made");
		pki_free(&p);
		return;
	}
	test_eid_signatures(&p);
	test_times(&p);
	test_smime_signers(&p);
	test_refusals(&p);
	test_trust(&p);
	test_signer_read(&p);
	test_cards();
	pki_free(&p);
}
