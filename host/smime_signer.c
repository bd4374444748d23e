/*
 * smime_signer: the signer of an S/MIME message: its chain and who it is
 * (see smime.h and smime_internal.h).
 *
 * Chain: OpenSSL builds the path from the signer certificate through the
 * message's certificates and the shipped Belgian eID issuing CAs, with
 * purpose S/MIME signing, first to the eID anchors, then to the S/MIME
 * anchors; the two stores are separate, so an eID verdict means OpenSSL
 * reached a Belgian eID root, not that a name looked Belgian. It is done at
 * the signing time (when the message states one that is not after now) and
 * at now. OpenSSL's X509_PURPOSE_SMIME_SIGN rule is used unchanged. For
 * the signer: an extendedKeyUsage, when present, must include
 * emailProtection (RFC 8550 4.4.4; anyExtendedKeyUsage alone does not
 * count); a keyUsage, when present, must include digitalSignature or
 * nonRepudiation; a Netscape cert type, when present, must include S/MIME or
 * SSL client. For the CAs: an extendedKeyUsage, when present, must include
 * emailProtection; a Netscape cert type, when present, S/MIME CA. The
 * Belgian eID signature certificate (keyUsage nonRepudiation only, no
 * extendedKeyUsage) passes, as does the authentication one
 * (digitalSignature only); checked on the real test cards.
 *
 * Identity is read from the signer certificate with ASN1_STRING_to_UTF8;
 * a value holding a NUL is refused (left empty). The subject serialNumber
 * (the national register number on an eID card) is never read.
 *
 * Limits: SMIME_MAX_DEPTH intermediates, SMIME_MAX_EMAILS addresses,
 * SMIME_FIELD_MAX bytes per field (cut on a UTF-8 boundary).
 */
#define _DEFAULT_SOURCE
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "smime_internal.h"
#include "verdict.h"
#include "x509name.h"

#define OID_TEXT_MAX 128
#define QC_STATEMENTS_MAX 32
#define POLICIES_MAX 32

/* ETSI EN 319 412-5 4.2.1: the certificate is an EU qualified certificate. */
#define OID_QC_STATEMENTS "1.3.6.1.5.5.7.1.3"
#define OID_QC_COMPLIANCE "0.4.0.1862.1.1"

/* What went wrong in one verification, by kind. */
#define NOTE_TIME   1u   /* expired or not yet valid */
#define NOTE_ANCHOR 2u   /* no path to an anchor of this store */
#define NOTE_OTHER  4u   /* anything else: purpose, signature, constraints */

static unsigned
note_of(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return NOTE_TIME;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return NOTE_ANCHOR;
	default:
		return NOTE_OTHER;
	}
}

static int
note_cb(int ok, X509_STORE_CTX *ctx)
{
	unsigned *notes = X509_STORE_CTX_get_app_data(ctx);

	if (!ok && notes != NULL) {
		*notes |= note_of(X509_STORE_CTX_get_error(ctx));
		/* Go on only to learn every kind of problem; any note makes
		 * the result not valid (smime_signer_evaluate). */
		return 1;
	}
	return ok;
}

/* One verification against one store at one time. Returns 0 with *notes
 * (0: valid) and, unless no anchor was reached, the chain in *chain; -1
 * when out of memory. */
static int
verify_at(X509_STORE *store, X509 *signer, STACK_OF(X509) *untrusted, time_t at,
    unsigned *notes, STACK_OF(X509) **chain)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int ok, rc = -1;

	*notes = 0;
	*chain = NULL;
	ERR_clear_error();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, store, signer, untrusted) != 1)
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, at);
	X509_VERIFY_PARAM_set_depth(param, SMIME_MAX_DEPTH);
	if (X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SMIME_SIGN) != 1)
		goto out;
	X509_STORE_CTX_set_app_data(ctx, notes);
	X509_STORE_CTX_set_verify_cb(ctx, note_cb);
	ok = X509_verify_cert(ctx);
	if (ok != 1 && *notes == 0)
		*notes = note_of(X509_STORE_CTX_get_error(ctx));
	if ((*notes & NOTE_ANCHOR) == 0) {
		*chain = X509_STORE_CTX_get1_chain(ctx);
		if (*chain == NULL)
			goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int
smime_signer_evaluate(const struct smime_trust *t, X509 *signer,
    STACK_OF(X509) *certs, time_t signing_time, time_t now, struct smime_result *r)
{
	X509_STORE *stores[2];
	STACK_OF(X509) *untrusted = NULL, *chain = NULL, *chain_now = NULL;
	unsigned notes, notes_now;
	time_t at = signing_time > 0 && signing_time <= now ? signing_time : now;
	int i, j, eid = 0, rc = -1;

	stores[0] = t->eid;
	stores[1] = t->smime;
	r->chain = SMIME_CHAIN_UNKNOWN;
	untrusted = certs != NULL ? sk_X509_dup(certs) : sk_X509_new_null();
	if (untrusted == NULL)
		goto out;
	for (j = 0; j < sk_X509_num(t->issuing); j++) {
		if (sk_X509_push(untrusted, sk_X509_value(t->issuing, j)) <= 0)
			goto out;
	}
	r->chain = SMIME_CHAIN_UNTRUSTED;
	for (i = 0; i < 2; i++) {
		if (verify_at(stores[i], signer, untrusted, at, &notes, &chain) < 0) {
			r->chain = SMIME_CHAIN_UNKNOWN;
			goto out;
		}
		if (notes & NOTE_ANCHOR)
			continue; /* no path to this store's anchors: try the next */
		if (notes & NOTE_OTHER)
			break;    /* a path, but not a valid one: untrusted */
		if (notes & NOTE_TIME) {
			r->chain = SMIME_CHAIN_INVALID_AT_SIGNING;
		} else if (at == now) {
			r->chain = SMIME_CHAIN_TRUSTED;
		} else {
			if (verify_at(stores[i], signer, untrusted, now, &notes_now,
			    &chain_now) < 0) {
				r->chain = SMIME_CHAIN_UNKNOWN;
				goto out;
			}
			if (notes_now == 0)
				r->chain = SMIME_CHAIN_TRUSTED;
			else if (notes_now == NOTE_TIME)
				r->chain = SMIME_CHAIN_EXPIRED;
			else
				break; /* valid then, broken now for more than time */
		}
		eid = i == 0;
		r->chain_certs = chain;
		chain = NULL;
		break;
	}
	rc = 0;
out:
	smime_signer_read(signer, eid, &r->signer);
	r->has_signer = 1;
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(chain_now, X509_free);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return rc;
}

static void
add_email(struct smime_signer *s, const ASN1_STRING *str)
{
	unsigned char *utf8 = NULL;
	size_t i, len;
	int n, at = 0;

	n = ASN1_STRING_to_UTF8(&utf8, str);
	if (n <= 0 || (size_t)n >= SMIME_FIELD_MAX)
		goto out;
	len = (size_t)n;
	for (i = 0; i < len; i++) {
		/* NUL, controls and spaces: not an address, maybe a trick. */
		if (utf8[i] <= 0x20 || utf8[i] == 0x7f)
			goto out;
		if (utf8[i] == '@')
			at++;
		if (utf8[i] >= 'A' && utf8[i] <= 'Z')
			utf8[i] = (unsigned char)(utf8[i] - 'A' + 'a');
	}
	if (at != 1 || utf8[0] == '@' || utf8[len - 1] == '@')
		goto out;
	for (i = 0; i < s->n_emails; i++) {
		if (strcmp(s->emails[i], (const char *)utf8) == 0)
			goto out;
	}
	if (s->n_emails < SMIME_MAX_EMAILS)
		memcpy(s->emails[s->n_emails++], utf8, len + 1);
out:
	OPENSSL_free(utf8);
}

/* rfc822Name entries of subjectAltName, then subject emailAddress. */
static void
read_emails(X509 *cert, struct smime_signer *s)
{
	const X509_NAME *subj = X509_get_subject_name(cert);
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	int i, idx, crit = 0;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_EMAIL)
			add_email(s, g->d.rfc822Name);
	}
	GENERAL_NAMES_free(gens);
	idx = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress, -1);
	while (idx >= 0) {
		add_email(s, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));
		idx = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress, idx);
	}
	ERR_clear_error();
}

/* QcCompliance in qcStatements (RFC 3739, ETSI EN 319 412-5), decoded with
 * OpenSSL's DER parser: SEQUENCE OF SEQUENCE { OID, ANY OPTIONAL }. A
 * duplicated or malformed extension counts as no claim. */
static int
qc_compliance(X509 *cert)
{
	ASN1_OBJECT *qcobj = OBJ_txt2obj(OID_QC_STATEMENTS, 1);
	STACK_OF(ASN1_TYPE) *stmts = NULL, *one = NULL;
	const unsigned char *p, *start;
	ASN1_OCTET_STRING *data;
	const ASN1_TYPE *t;
	char oid[OID_TEXT_MAX];
	int idx, i, n, found = 0, malformed = 0;

	if (qcobj == NULL)
		goto out;
	idx = X509_get_ext_by_OBJ(cert, qcobj, -1);
	if (idx < 0 || X509_get_ext_by_OBJ(cert, qcobj, idx) >= 0)
		goto out;
	data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	start = ASN1_STRING_get0_data(data);
	p = start;
	stmts = d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(data));
	if (stmts == NULL || p != start + ASN1_STRING_length(data) ||
	    sk_ASN1_TYPE_num(stmts) > QC_STATEMENTS_MAX)
		goto out;
	for (i = 0; i < sk_ASN1_TYPE_num(stmts) && !malformed; i++) {
		t = sk_ASN1_TYPE_value(stmts, i);
		if (t->type != V_ASN1_SEQUENCE) {
			malformed = 1;
			break;
		}
		p = t->value.sequence->data;
		sk_ASN1_TYPE_pop_free(one, ASN1_TYPE_free);
		one = d2i_ASN1_SEQUENCE_ANY(NULL, &p, t->value.sequence->length);
		if (one == NULL || sk_ASN1_TYPE_num(one) < 1 ||
		    sk_ASN1_TYPE_value(one, 0)->type != V_ASN1_OBJECT) {
			malformed = 1;
			break;
		}
		n = OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_TYPE_value(one, 0)->value.object, 1);
		if (n > 0 && n < (int)sizeof(oid) && strcmp(oid, OID_QC_COMPLIANCE) == 0)
			found = 1;
	}
out:
	sk_ASN1_TYPE_pop_free(stmts, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(one, ASN1_TYPE_free);
	ASN1_OBJECT_free(qcobj);
	ERR_clear_error();
	return found && !malformed;
}

/* Whether s starts with the one-digit arc a, then ends or goes on. */
static int
arc_is(const char *s, char a)
{
	return s[0] == a && (s[1] == '\0' || s[1] == '.');
}

/* Belgian eID policy arcs, per root: 2.16.56.{1,9,10,12}.1.1, then .2 (Citizen
 * CA) / .7 (Foreigner CA), then .1 (signature) / .2 (authentication). Sets
 * card and usage from the leaf's policies ("" when absent or when two
 * policies disagree). */
static void
eid_policy(X509 *cert, const char **card, const char **usage)
{
	static const char *const roots[] = {
		"2.16.56.1.1.1.", "2.16.56.9.1.1.", "2.16.56.10.1.1.", "2.16.56.12.1.1.",
	};
	CERTIFICATEPOLICIES *pols;
	const char *c, *u, *rest;
	char oid[OID_TEXT_MAX];
	size_t k;
	int i, n, crit = 0, conflict_c = 0, conflict_u = 0;

	*card = "";
	*usage = "";
	pols = X509_get_ext_d2i(cert, NID_certificate_policies, &crit, NULL);
	for (i = 0; pols != NULL && i < sk_POLICYINFO_num(pols) && i < POLICIES_MAX; i++) {
		n = OBJ_obj2txt(oid, sizeof(oid), sk_POLICYINFO_value(pols, i)->policyid, 1);
		if (n <= 0 || n >= (int)sizeof(oid))
			continue;
		rest = NULL;
		for (k = 0; k < sizeof(roots) / sizeof(roots[0]) && rest == NULL; k++) {
			if (strncmp(oid, roots[k], strlen(roots[k])) == 0)
				rest = oid + strlen(roots[k]);
		}
		if (rest == NULL)
			continue;
		c = arc_is(rest, '2') ? "citizen" : arc_is(rest, '7') ? "foreigner" : "";
		if (c[0] == '\0')
			continue; /* .4: the national register, not a person */
		u = rest[1] != '.' ? "" : arc_is(rest + 2, '1') ? "signature" :
		    arc_is(rest + 2, '2') ? "authentication" : "";
		if ((*card)[0] != '\0' && strcmp(*card, c) != 0)
			conflict_c = 1;
		*card = c;
		if (u[0] != '\0') {
			if ((*usage)[0] != '\0' && strcmp(*usage, u) != 0)
				conflict_u = 1;
			*usage = u;
		}
	}
	CERTIFICATEPOLICIES_free(pols);
	ERR_clear_error();
	if (conflict_c)
		*card = "";
	if (conflict_u)
		*usage = "";
}

/* CN without the eID suffix " (Signature)" / " (Authentication)". */
static void
strip_suffix(char *cn)
{
	static const char *const suffixes[] = { " (Signature)", " (Authentication)" };
	size_t i, n = strlen(cn), k;

	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		k = strlen(suffixes[i]);
		if (n > k && strcmp(cn + n - k, suffixes[i]) == 0) {
			cn[n - k] = '\0';
			return;
		}
	}
}

void
smime_signer_read(X509 *cert, int eid, struct smime_signer *s)
{
	const X509_NAME *subj = X509_get_subject_name(cert);
	const X509_NAME *iss = X509_get_issuer_name(cert);
	char cn[SMIME_FIELD_MAX], icn[SMIME_FIELD_MAX];
	char full[2 * SMIME_FIELD_MAX + 2];
	const char *pcard, *pusage, *icard = "";
	uint32_t ku = X509_get_key_usage(cert);
	int has_ku = (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0;
	int nr = has_ku && (ku & KU_NON_REPUDIATION) != 0;
	int ds = has_ku && (ku & KU_DIGITAL_SIGNATURE) != 0;

	ERR_clear_error();
	memset(s, 0, sizeof(*s));
	/* Never NID_serialNumber: on an eID card it is the national register
	 * number. */
	(void)x509name_field(subj, NID_givenName, s->given_name, sizeof(s->given_name));
	(void)x509name_field(subj, NID_surname, s->surname, sizeof(s->surname));
	(void)x509name_field(subj, NID_commonName, cn, sizeof(cn));
	(void)x509name_field(subj, NID_countryName, s->country, sizeof(s->country));
	(void)x509name_field(iss, NID_commonName, s->issuer, sizeof(s->issuer));
	strip_suffix(cn);
	if (s->given_name[0] != '\0' && s->surname[0] != '\0') {
		snprintf(full, sizeof(full), "%s %s", s->given_name, s->surname);
		verdict_copy_field(s->name, sizeof(s->name), full);
	} else if (cn[0] != '\0') {
		verdict_copy_field(s->name, sizeof(s->name), cn);
	} else {
		verdict_copy_field(s->name, sizeof(s->name),
		    s->surname[0] != '\0' ? s->surname : s->given_name);
	}
	read_emails(cert, s);
	classify_cert_sha256_hex(cert, s->cert_sha256);
	s->not_after = x509name_time(X509_get0_notAfter(cert));
	s->qualified = nr && qc_compliance(cert);

	if (!eid) {
		s->kind = s->qualified ? SMIME_KIND_QUALIFIED : SMIME_KIND_SMIME;
		goto out;
	}
	s->kind = SMIME_KIND_EID;
	eid_policy(cert, &pcard, &pusage);
	verdict_copy_field(icn, sizeof(icn), s->issuer);
	if (strcmp(icn, "Citizen CA") == 0 || strcmp(icn, "Citizen CT") == 0)
		icard = "citizen";
	else if (strcmp(icn, "Foreigner CA") == 0 || strcmp(icn, "Foreigner CT") == 0)
		icard = "foreigner";
	/* The policy decides; the issuer's name stands in when the leaf has no
	 * eID policy (newer CA6 leaves); a disagreement leaves it unknown. */
	if (pcard[0] != '\0' && icard[0] != '\0' && strcmp(pcard, icard) != 0)
		pcard = "";
	else if (pcard[0] == '\0')
		pcard = icard;
	verdict_copy_field(s->card, sizeof(s->card), pcard);
	if (pusage[0] == '\0' && nr && !ds)
		pusage = "signature";
	else if (pusage[0] == '\0' && ds && !nr)
		pusage = "authentication";
	verdict_copy_field(s->usage, sizeof(s->usage), pusage);
out:
	ERR_clear_error();
}
