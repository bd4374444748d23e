/*
 * classify: see classify.h.
 *
 * Hostile input: the chain comes from whatever server the URL named (or from
 * the browser, for `chain`). Nothing in a certificate is believed before
 * the chain verifies: identity and issuer are read only from a valid chain,
 * strings are converted with ASN1_STRING_to_UTF8 and refused when they hold a
 * NUL, and qcStatements are decoded with OpenSSL's DER parser, bounded.
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "config.h"
#include "log.h"
#include "webpki.h"
#include "x509name.h"

#define EV_EXTRA_MAX 256
#define QWAC_EXTRA_MAX 256
#define OID_TEXT_MAX 128
#define QC_STATEMENTS_MAX 32

/* CA/Browser Forum Baseline Requirements 7.1.6.1 and EV Guidelines 9.3. */
#define OID_CABF_EV "2.23.140.1.1"
#define OID_CABF_DV "2.23.140.1.2.1"
#define OID_CABF_OV "2.23.140.1.2.2"
#define OID_CABF_IV "2.23.140.1.2.3"
/* ETSI EN 319 411-1 5.3 and EN 319 411-2 5.3. */
#define OID_ETSI_EVCP "0.4.0.2042.1.4"
#define OID_ETSI_DVCP "0.4.0.2042.1.6"
#define OID_ETSI_OVCP "0.4.0.2042.1.7"
#define OID_ETSI_IVCP "0.4.0.2042.1.8"
#define OID_ETSI_QEVCP_W "0.4.0.194112.1.4"
#define OID_ETSI_QNCP_W "0.4.0.194112.1.5"
/* ETSI EN 319 412-5 4.2.1 and 4.2.3. */
#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"
#define OID_QC_TYPE "0.4.0.1862.1.6"
#define OID_QC_TYPE_WEB "0.4.0.1862.1.6.3"

struct ev_extra {
	unsigned char sha256[32];
	char **oids;
	size_t n;
};

struct site_trust {
	X509_STORE *store;
	struct ev_extra *ev;
	size_t n_ev;
	unsigned char (*qwac)[32];
	size_t n_qwac;
};

static int
fail(char *err, size_t errlen, const char *msg, const char *what)
{
	snprintf(err, errlen, "%s%s%s", msg, what != NULL ? ": " : "",
	    what != NULL ? what : "");
	return -1;
}

static void
cert_sha256(X509 *cert, unsigned char out[32])
{
	unsigned int n = 0;

	if (X509_digest(cert, EVP_sha256(), out, &n) != 1 || n != 32)
		memset(out, 0, 32);
}

void
classify_cert_sha256_hex(X509 *cert, char out[65])
{
	unsigned char md[32];
	int i;

	cert_sha256(cert, md);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
hex32(const char *hex, unsigned char out[32])
{
	int i, hi, lo;

	if (hex == NULL || strlen(hex) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
load_ev_extra(struct site_trust *t, const char *value, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *oids, *o;
	const char *key;
	size_t i, n;
	ASN1_OBJECT *obj;
	int rc = -1;

	root = value[0] == '{' ?
	    json_loads(value, JSON_REJECT_DUPLICATES, &jerr) :
	    json_load_file(value, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		fail(err, errlen, "TRUSTLENS_EV_ROOTS is not a JSON object (or a file "
		    "holding one)", NULL);
		goto out;
	}
	n = json_object_size(root);
	if (n > EV_EXTRA_MAX) {
		fail(err, errlen, "TRUSTLENS_EV_ROOTS has too many roots", NULL);
		goto out;
	}
	t->ev = calloc(n + 1, sizeof(*t->ev));
	if (t->ev == NULL)
		goto out;
	json_object_foreach(root, key, oids) {
		struct ev_extra *e = &t->ev[t->n_ev];

		if (hex32(key, e->sha256) < 0 || !json_is_array(oids) ||
		    json_array_size(oids) > 64) {
			fail(err, errlen, "TRUSTLENS_EV_ROOTS: keys must be SHA-256 hex, "
			    "values arrays of policy OIDs", NULL);
			goto out;
		}
		e->oids = calloc(json_array_size(oids) + 1, sizeof(*e->oids));
		if (e->oids == NULL)
			goto out;
		t->n_ev++;
		json_array_foreach(oids, i, o) {
			obj = json_is_string(o) ? OBJ_txt2obj(json_string_value(o), 1) : NULL;
			if (obj == NULL) {
				fail(err, errlen, "TRUSTLENS_EV_ROOTS: not a dotted OID", NULL);
				goto out;
			}
			ASN1_OBJECT_free(obj);
			e->oids[i] = strdup(json_string_value(o));
			if (e->oids[i] == NULL)
				goto out;
			e->n++;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int
load_qwac_extra(struct site_trust *t, const char *path, char *err, size_t errlen)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int rc = -1;

	if (bio == NULL)
		return fail(err, errlen, "cannot read TRUSTLENS_QWAC_ROOTS", path);
	t->qwac = calloc(QWAC_EXTRA_MAX, sizeof(*t->qwac));
	if (t->qwac == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (t->n_qwac == QWAC_EXTRA_MAX) {
			X509_free(x);
			fail(err, errlen, "TRUSTLENS_QWAC_ROOTS holds too many certificates", NULL);
			goto out;
		}
		cert_sha256(x, t->qwac[t->n_qwac++]);
		X509_free(x);
	}
	ERR_clear_error(); /* the end of the file reads as an error */
	if (t->n_qwac == 0) {
		fail(err, errlen, "TRUSTLENS_QWAC_ROOTS holds no PEM certificate", path);
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

void
site_trust_free(struct site_trust *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	for (i = 0; i < t->n_ev; i++) {
		for (j = 0; j < t->ev[i].n; j++)
			free(t->ev[i].oids[j]);
		free(t->ev[i].oids);
	}
	free(t->ev);
	free(t->qwac);
	free(t);
}

X509_STORE *
site_trust_store(const struct site_trust *t)
{
	return t->store;
}

int
site_trust_load(const struct config *cfg, struct site_trust **out, char *err,
    size_t errlen)
{
	struct site_trust *t;

	*out = NULL;
	ERR_clear_error();
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return fail(err, errlen, "out of memory", NULL);
	t->store = X509_STORE_new();
	if (t->store == NULL)
		goto oom;
	if (cfg->ca_file != NULL) {
		if (X509_STORE_load_file(t->store, cfg->ca_file) != 1) {
			fail(err, errlen, "cannot load TRUSTLENS_CA_FILE", cfg->ca_file);
			goto bad;
		}
	} else if (X509_STORE_set_default_paths(t->store) != 1) {
		fail(err, errlen, "cannot load the system trust store", NULL);
		goto bad;
	}
	if (cfg->ev_roots != NULL && load_ev_extra(t, cfg->ev_roots, err, errlen) < 0)
		goto bad;
	if (cfg->qwac_roots != NULL && load_qwac_extra(t, cfg->qwac_roots, err, errlen) < 0)
		goto bad;
	ERR_clear_error();
	*out = t;
	return 0;
oom:
	fail(err, errlen, "out of memory", NULL);
bad:
	ERR_clear_error();
	site_trust_free(t);
	return -1;
}

/* Errors seen while verifying, collected by the callback. */
struct verify_notes {
	uint32_t reasons;
	int errors;
};

static void
note_error(struct verify_notes *n, int e)
{
	enum site_reason r;

	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CRL_HAS_EXPIRED:
		r = REASON_EXPIRED;
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		r = REASON_NOT_YET_VALID;
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		r = REASON_HOSTNAME_MISMATCH;
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		r = REASON_SELF_SIGNED;
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		r = REASON_UNTRUSTED_ROOT;
		break;
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		r = REASON_CHAIN_TOO_LONG;
		break;
	default:
		r = REASON_INVALID_CHAIN;
		break;
	}
	n->reasons |= 1u << r;
	n->errors++;
}

static int
collect_cb(int ok, X509_STORE_CTX *ctx)
{
	struct verify_notes *n = X509_STORE_CTX_get_app_data(ctx);

	if (!ok && n != NULL) {
		note_error(n, X509_STORE_CTX_get_error(ctx));
		/* Keep going only to describe every problem; any error makes
		 * the chain invalid (see classify_chain). */
		return 1;
	}
	return ok;
}

static int
is_ip_literal(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* Sets up a verification context: time, depth, purpose, host. */
static X509_STORE_CTX *
verify_ctx(const struct site_trust *t, X509 *leaf, STACK_OF(X509) *sent,
    const char *host, time_t now)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, t->store, leaf, sent) != 1)
		goto bad;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, now);
	X509_VERIFY_PARAM_set_depth(param, CLASSIFY_MAX_DEPTH);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1)
		goto bad;
	if (is_ip_literal(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1)
			goto bad;
	} else if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1) {
		goto bad;
	}
	return ctx;
bad:
	X509_STORE_CTX_free(ctx);
	return NULL;
}

/* RFC 5280 policy processing with `oid` as the only acceptable policy:
 * 1 when the chain is valid under it. */
static int
verify_with_policy(const struct site_trust *t, X509 *leaf, STACK_OF(X509) *sent,
    const char *host, time_t now, const char *oid)
{
	X509_STORE_CTX *ctx = verify_ctx(t, leaf, sent, host, now);
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	X509_VERIFY_PARAM *param;
	int ok = 0;

	if (ctx == NULL || obj == NULL)
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_POLICY_CHECK |
	    X509_V_FLAG_EXPLICIT_POLICY);
	if (X509_VERIFY_PARAM_add0_policy(param, obj) != 1)
		goto out;
	obj = NULL;
	ok = X509_verify_cert(ctx) == 1;
out:
	ASN1_OBJECT_free(obj);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* Dotted text of an OID; "" when it does not fit. */
static void
oid_text(const ASN1_OBJECT *obj, char out[OID_TEXT_MAX])
{
	int n = OBJ_obj2txt(out, OID_TEXT_MAX, obj, 1);

	if (n <= 0 || n >= OID_TEXT_MAX)
		out[0] = '\0';
}

/* The leaf's policy OIDs as text. Returns the count (at most max), or -1
 * when the extension is duplicated or unparseable. */
static int
leaf_policies(X509 *leaf, char oids[][OID_TEXT_MAX], int max)
{
	CERTIFICATEPOLICIES *pols;
	int crit = 0, i, n = 0;

	pols = X509_get_ext_d2i(leaf, NID_certificate_policies, &crit, NULL);
	if (pols == NULL)
		return crit == -1 ? 0 : -1;
	for (i = 0; i < sk_POLICYINFO_num(pols) && n < max; i++)
		oid_text(sk_POLICYINFO_value(pols, i)->policyid, oids[n++]);
	CERTIFICATEPOLICIES_free(pols);
	return n;
}

static int
has_oid(char oids[][OID_TEXT_MAX], int n, const char *oid)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(oids[i], oid) == 0)
			return 1;
	}
	return 0;
}

/* The EV OIDs allowed for a root: Chromium's table, then the extra one. */
static int
ev_allowed(const struct site_trust *t, const struct webpki_anchor *a,
    const unsigned char root[32], const char *oid)
{
	size_t i, j;

	for (i = 0; a != NULL && i < a->n_ev_oids; i++) {
		if (strcmp(a->ev_oids[i], oid) == 0)
			return 1;
	}
	for (i = 0; i < t->n_ev; i++) {
		if (memcmp(t->ev[i].sha256, root, 32) != 0)
			continue;
		for (j = 0; j < t->ev[i].n; j++) {
			if (strcmp(t->ev[i].oids[j], oid) == 0)
				return 1;
		}
	}
	return 0;
}

/* An OID some root program treats as EV. */
static int
ev_looking(const char *oid)
{
	size_t i, j;

	if (strcmp(oid, OID_CABF_EV) == 0 || strcmp(oid, OID_ETSI_EVCP) == 0 ||
	    strcmp(oid, OID_ETSI_QEVCP_W) == 0)
		return 1;
	for (i = 0; i < webpki_n_anchors; i++) {
		for (j = 0; j < webpki_anchors[i].n_ev_oids; j++) {
			if (strcmp(webpki_anchors[i].ev_oids[j], oid) == 0)
				return 1;
		}
	}
	return 0;
}

struct qc_info {
	int present;      /* the extension is there */
	int compliance;   /* QcCompliance */
	int has_type;     /* QcType */
	int web;          /* QcType includes web */
	int malformed;
};

/* Decodes qcStatements (RFC 3739, ETSI EN 319 412-5) with OpenSSL's DER
 * parser: SEQUENCE OF SEQUENCE { OID, ANY OPTIONAL }. */
static void
read_qc_statements(X509 *leaf, struct qc_info *qc)
{
	ASN1_OBJECT *qcobj = OBJ_txt2obj("1.3.6.1.5.5.7.1.3", 1);
	STACK_OF(ASN1_TYPE) *stmts = NULL, *one = NULL, *types = NULL;
	const unsigned char *p;
	X509_EXTENSION *ext;
	ASN1_OCTET_STRING *data;
	ASN1_TYPE *t;
	char oid[OID_TEXT_MAX];
	int idx, i, j;

	memset(qc, 0, sizeof(*qc));
	if (qcobj == NULL)
		return;
	idx = X509_get_ext_by_OBJ(leaf, qcobj, -1);
	if (idx < 0)
		goto out;
	qc->present = 1;
	if (X509_get_ext_by_OBJ(leaf, qcobj, idx) >= 0) {
		qc->malformed = 1; /* twice: ambiguous */
		goto out;
	}
	ext = X509_get_ext(leaf, idx);
	data = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(data);
	stmts = d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(data));
	if (stmts == NULL || p != ASN1_STRING_get0_data(data) + ASN1_STRING_length(data) ||
	    sk_ASN1_TYPE_num(stmts) > QC_STATEMENTS_MAX) {
		qc->malformed = 1;
		goto out;
	}
	for (i = 0; i < sk_ASN1_TYPE_num(stmts); i++) {
		t = sk_ASN1_TYPE_value(stmts, i);
		if (t->type != V_ASN1_SEQUENCE) {
			qc->malformed = 1;
			goto out;
		}
		p = t->value.sequence->data;
		sk_ASN1_TYPE_pop_free(one, ASN1_TYPE_free);
		one = d2i_ASN1_SEQUENCE_ANY(NULL, &p, t->value.sequence->length);
		if (one == NULL || sk_ASN1_TYPE_num(one) < 1 ||
		    sk_ASN1_TYPE_value(one, 0)->type != V_ASN1_OBJECT) {
			qc->malformed = 1;
			goto out;
		}
		oid_text(sk_ASN1_TYPE_value(one, 0)->value.object, oid);
		if (strcmp(oid, OID_QC_COMPLIANCE) == 0) {
			qc->compliance = 1;
		} else if (strcmp(oid, OID_QC_TYPE) == 0) {
			qc->has_type = 1;
			if (sk_ASN1_TYPE_num(one) != 2 ||
			    sk_ASN1_TYPE_value(one, 1)->type != V_ASN1_SEQUENCE) {
				qc->malformed = 1;
				goto out;
			}
			t = sk_ASN1_TYPE_value(one, 1);
			p = t->value.sequence->data;
			sk_ASN1_TYPE_pop_free(types, ASN1_TYPE_free);
			types = d2i_ASN1_SEQUENCE_ANY(NULL, &p, t->value.sequence->length);
			if (types == NULL) {
				qc->malformed = 1;
				goto out;
			}
			for (j = 0; j < sk_ASN1_TYPE_num(types); j++) {
				if (sk_ASN1_TYPE_value(types, j)->type != V_ASN1_OBJECT)
					continue;
				oid_text(sk_ASN1_TYPE_value(types, j)->value.object, oid);
				if (strcmp(oid, OID_QC_TYPE_WEB) == 0)
					qc->web = 1;
			}
		}
	}
out:
	sk_ASN1_TYPE_pop_free(stmts, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(one, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(types, ASN1_TYPE_free);
	ASN1_OBJECT_free(qcobj);
	ERR_clear_error();
}

int
classify_enterprise_number(const char *s, char out[16])
{
	char digits[11];
	size_t i, n = 0;
	unsigned long first8 = 0, check = 0;

	if (s[0] == 'B' && s[1] == 'E')
		s += 2;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (n == 10)
				return -1;
			digits[n++] = s[i];
		} else if (s[i] != '.' && s[i] != ' ') {
			return -1;
		}
	}
	if (n != 10 || (digits[0] != '0' && digits[0] != '1'))
		return -1;
	digits[10] = '\0';
	for (i = 0; i < 8; i++)
		first8 = first8 * 10 + (unsigned long)(digits[i] - '0');
	check = (unsigned long)(digits[8] - '0') * 10 + (unsigned long)(digits[9] - '0');
	if (97 - first8 % 97 != check)
		return 0;
	snprintf(out, 16, "%.4s.%.3s.%.3s", digits, digits + 4, digits + 7);
	return 1;
}

/* Reads identity and issuer from a valid leaf. -1 on a NUL trick. */
static int
read_identity(X509 *leaf, struct site_verdict *v)
{
	const X509_NAME *subj = X509_get_subject_name(leaf);
	const X509_NAME *iss = X509_get_issuer_name(leaf);
	struct site_identity *id = &v->identity;
	const char *oi = id->organization_identifier;
	char num[16];
	int r = -1, be;

	if (x509name_field(subj, NID_organizationName, id->organization,
	    sizeof(id->organization)) < 0 ||
	    x509name_field(subj, NID_countryName, id->country, sizeof(id->country)) < 0 ||
	    x509name_field(subj, NID_jurisdictionCountryName, id->jurisdiction_country,
	    sizeof(id->jurisdiction_country)) < 0 ||
	    x509name_field(subj, NID_serialNumber, id->registration_number,
	    sizeof(id->registration_number)) < 0 ||
	    x509name_field(subj, NID_organizationIdentifier, id->organization_identifier,
	    sizeof(id->organization_identifier)) < 0 ||
	    x509name_field(subj, NID_commonName, id->common_name, sizeof(id->common_name)) < 0 ||
	    x509name_field(iss, NID_organizationName, v->issuer_organization,
	    sizeof(v->issuer_organization)) < 0 ||
	    x509name_field(iss, NID_commonName, v->issuer_common_name,
	    sizeof(v->issuer_common_name)) < 0)
		return -1;

	/* Belgian enterprise number: organizationIdentifier NTRBE-/VATBE-
	 * (ETSI EN 319 412-1 5.1.4), else the registration number of a
	 * Belgian organisation. */
	if (strncmp(oi, "NTRBE-", 6) == 0 || strncmp(oi, "VATBE-", 6) == 0)
		r = classify_enterprise_number(oi + 6, num);
	be = strcmp(id->jurisdiction_country, "BE") == 0 ||
	    (id->jurisdiction_country[0] == '\0' && strcmp(id->country, "BE") == 0);
	if (r < 0 && be && id->registration_number[0] != '\0')
		r = classify_enterprise_number(id->registration_number, num);
	if (r == 1)
		verdict_copy_field(id->enterprise_number, sizeof(id->enterprise_number), num);
	else if (r == 0)
		site_verdict_add_reason(v, REASON_ENTERPRISE_INVALID);
	return 0;
}

static int
weak_key(X509 *leaf)
{
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	int bits;

	if (pk == NULL)
		return 1;
	bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
		return bits < 2048;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
		return bits < 256;
	return 0;
}

/* Whether a certificate of the chain is on the EU Trusted List. */
static int
chain_on_eutl(const struct site_trust *t, STACK_OF(X509) *chain)
{
	const struct webpki_anchor *a;
	const struct webpki_cert *c;
	unsigned char md[32];
	size_t j;
	int i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		cert_sha256(sk_X509_value(chain, i), md);
		a = webpki_find_anchor(md);
		c = webpki_find_cert(md);
		if ((a != NULL && a->eutl) || (c != NULL && c->eutl))
			return 1;
		for (j = 0; j < t->n_qwac; j++) {
			if (memcmp(t->qwac[j], md, 32) == 0)
				return 1;
		}
	}
	return 0;
}

/* The level of a valid chain, with the reasons for anything short of it. */
static void
decide_level(const struct site_trust *t, X509 *leaf, STACK_OF(X509) *sent,
    STACK_OF(X509) *chain, const char *host, time_t now, struct site_verdict *v)
{
	char oids[16][OID_TEXT_MAX];
	const struct webpki_anchor *anchor;
	unsigned char root[32];
	struct qc_info qc;
	int n, i, ev = 0, ev_claimed = 0;

	n = leaf_policies(leaf, oids, 16);
	if (n < 0) {
		v->valid = 0;
		site_verdict_add_reason(v, REASON_INVALID_CHAIN);
		return;
	}
	cert_sha256(sk_X509_value(chain, sk_X509_num(chain) - 1), root);
	anchor = webpki_find_anchor(root);

	for (i = 0; i < n && !ev; i++) {
		if (ev_looking(oids[i]))
			ev_claimed = 1;
		if (ev_allowed(t, anchor, root, oids[i]) &&
		    verify_with_policy(t, leaf, sent, host, now, oids[i]))
			ev = 1;
	}
	if (ev) {
		v->level = LEVEL_EV;
	} else {
		if (ev_claimed)
			site_verdict_add_reason(v, REASON_EV_NOT_ENABLED);
		if (has_oid(oids, n, OID_CABF_OV))
			v->level = LEVEL_OV;
		else if (has_oid(oids, n, OID_CABF_IV))
			v->level = LEVEL_IV;
		else if (has_oid(oids, n, OID_CABF_DV))
			v->level = LEVEL_DV;
		else if (has_oid(oids, n, OID_ETSI_OVCP))
			v->level = LEVEL_OV;
		else if (has_oid(oids, n, OID_ETSI_IVCP))
			v->level = LEVEL_IV;
		else if (has_oid(oids, n, OID_ETSI_DVCP))
			v->level = LEVEL_DV;
		else
			v->level = LEVEL_UNKNOWN;
		if (v->level == LEVEL_UNKNOWN && !ev_claimed)
			site_verdict_add_reason(v, REASON_NO_POLICY);
	}

	read_qc_statements(leaf, &qc);
	if (qc.malformed) {
		/* An unreadable qualified-status claim is an ambiguity. */
		v->valid = 0;
		site_verdict_add_reason(v, REASON_INVALID_CHAIN);
		return;
	}
	if (qc.compliance && !qc.web) {
		site_verdict_add_reason(v, REASON_QC_WITHOUT_WEB);
	} else if (qc.compliance && qc.web &&
	    ((v->level == LEVEL_EV && has_oid(oids, n, OID_ETSI_QEVCP_W)) ||
	    ((v->level == LEVEL_OV || v->level == LEVEL_IV) &&
	    has_oid(oids, n, OID_ETSI_QNCP_W)))) {
		if (chain_on_eutl(t, chain))
			v->level = LEVEL_QWAC;
		else
			site_verdict_add_reason(v, REASON_QWAC_NOT_ON_EUTL);
	}
}

int
classify_chain(const struct site_trust *trust, const char *host,
    STACK_OF(X509) *sent, time_t now, struct site_verdict *v,
    STACK_OF(X509) **verified)
{
	struct verify_notes notes;
	const struct webpki_anchor *anchor;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *chain = NULL;
	unsigned char root[32];
	X509 *leaf;
	int ok, rc = -1;

	*verified = NULL;
	ERR_clear_error();
	v->valid = 0;
	if (sent == NULL || sk_X509_num(sent) < 1) {
		site_verdict_add_reason(v, REASON_INVALID_CHAIN);
		return 0;
	}
	leaf = sk_X509_value(sent, 0);
	classify_cert_sha256_hex(leaf, v->leaf_sha256);
	v->not_before = x509name_time(X509_get0_notBefore(leaf));
	v->not_after = x509name_time(X509_get0_notAfter(leaf));

	memset(&notes, 0, sizeof(notes));
	ctx = verify_ctx(trust, leaf, sent, host, now);
	if (ctx == NULL)
		goto out;
	X509_STORE_CTX_set_app_data(ctx, &notes);
	X509_STORE_CTX_set_verify_cb(ctx, collect_cb);
	ok = X509_verify_cert(ctx);
	if (ok != 1 && notes.errors == 0)
		note_error(&notes, X509_STORE_CTX_get_error(ctx));
	/* Past the depth limit OpenSSL stops building, and then also finds no
	 * anchor: the one problem is the length. */
	if (notes.reasons & (1u << REASON_CHAIN_TOO_LONG))
		notes.reasons &= ~(1u << REASON_UNTRUSTED_ROOT);
	v->reasons |= notes.reasons;
	chain = X509_STORE_CTX_get1_chain(ctx);
	if (chain != NULL && sk_X509_num(chain) > 0) {
		cert_sha256(sk_X509_value(chain, sk_X509_num(chain) - 1), root);
		classify_cert_sha256_hex(sk_X509_value(chain, sk_X509_num(chain) - 1),
		    v->root_sha256);
		anchor = webpki_find_anchor(root);
		v->public_root = anchor != NULL && notes.errors == 0;
		/* Chromium's distrust: leaves issued after the date under this
		 * root are not valid (the leaf's notBefore stands for the
		 * issuance date; SCT timestamps are not more trustworthy). */
		if (anchor != NULL && anchor->sct_not_after != 0 &&
		    (long long)v->not_before > anchor->sct_not_after) {
			notes.errors++;
			site_verdict_add_reason(v, REASON_DISTRUSTED_ROOT);
		}
	}
	if (weak_key(leaf)) {
		notes.errors++;
		site_verdict_add_reason(v, REASON_WEAK_KEY);
	}
	if (ok != 1 || notes.errors > 0 || chain == NULL) {
		rc = 0;
		goto out;
	}
	v->valid = 1;
	if (read_identity(leaf, v) < 0) {
		v->valid = 0;
		site_verdict_add_reason(v, REASON_INVALID_CHAIN);
		rc = 0;
		goto out;
	}
	decide_level(trust, leaf, sent, chain, host, now, v);
	if (v->valid) {
		*verified = chain;
		chain = NULL;
	}
	rc = 0;
out:
	if (!v->valid) {
		/* Nothing about who is behind an invalid chain is shown. */
		memset(&v->identity, 0, sizeof(v->identity));
		v->issuer_organization[0] = '\0';
		v->issuer_common_name[0] = '\0';
		v->public_root = 0;
	}
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}
