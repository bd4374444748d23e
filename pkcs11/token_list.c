/*
 * token_list: the `tokens` result (token.h) from one scan.
 *
 * The card is read under the token lock (token_module.c); what is then
 * judged about its certificates happens after the modules are unloaded
 * again, so a slow OCSP responder never holds the card:
 *   - an end-entity certificate: smime_signer_evaluate, the chain builder
 *     the mail verdicts use (the token's other certificates and the shipped
 *     Belgian issuing CAs as intermediates, the Belgian eID roots plus
 *     TRUSTLENS_EID_ROOTS as anchors, S/MIME signing purpose), then, when
 *     the chain holds, revfetch exactly as mail.c does for a signer (OCSP
 *     first for eID, CRL, both cached in the state directory);
 *   - a CA certificate (the card's CA and Root objects): OpenSSL's path to
 *     the same eID anchors, no revocation check.
 * eid_chain: "trusted" (a valid path to a Belgian eID root now),
 * "expired" (a path, but a certificate of it is outside its validity now),
 * "untrusted" (a Belgian card or certificate profile without a valid path),
 * "not_eid" (neither).
 *
 * Names come from smime_signer_read (given name, surname, common name,
 * issuer's common name); the subject serialNumber, the national register
 * number on a Belgian card, is never read, so it cannot be reported.
 */
#define _DEFAULT_SOURCE
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "classify.h"
#include "config.h"
#include "fetch.h"
#include "revfetch.h"
#include "smime.h"
#include "smime_internal.h"
#include "token.h"
#include "token_internal.h"
#include "verdict.h"
#include "x509name.h"

#define SOON_DAYS 30

struct cert_view {
	const struct token_cert *tc;
	struct smime_signer s;
	int is_ca;
	const char *eid_chain;
	const char *revocation;
	long days_left;
	time_t not_before, not_after;
};

static long
days_between(time_t now, time_t then)
{
	long long d = (long long)then - (long long)now;

	return d >= 0 ? (long)(d / 86400) : -(long)((-d + 86399) / 86400);
}

static json_t *
key_json(X509 *x)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[64];
	const char *curve = NULL;
	size_t glen = 0;
	int nid;

	if (pk == NULL)
		return json_pack("{s:s, s:n, s:n}", "type", "unknown", "bits", "curve");
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		return json_pack("{s:s, s:i, s:n}", "type", "rsa", "bits",
		    (json_int_t)EVP_PKEY_get_bits(pk), "curve");
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), &glen) == 1) {
			nid = OBJ_txt2nid(group);
			curve = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
			if (curve == NULL)
				curve = group;
		}
		ERR_clear_error();
		return json_pack("{s:s, s:i, s:s?}", "type", "ec", "bits",
		    (json_int_t)EVP_PKEY_get_bits(pk), "curve", curve);
	default:
		return json_pack("{s:s, s:i, s:n}", "type", "other", "bits",
		    (json_int_t)EVP_PKEY_get_bits(pk), "curve");
	}
}

/* A CA certificate of the card: a path to the eID anchors now. */
static const char *
ca_chain(const struct smime_trust *t, X509 *x, STACK_OF(X509) *others, time_t now)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_dup(others);
	const char *r = "untrusted";
	int i, e;

	ERR_clear_error();
	if (ctx == NULL || untrusted == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(t->issuing); i++) {
		if (sk_X509_push(untrusted, sk_X509_value(t->issuing, i)) <= 0)
			goto out;
	}
	if (X509_STORE_CTX_init(ctx, t->eid, x, untrusted) != 1)
		goto out;
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), now);
	X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx), SMIME_MAX_DEPTH);
	if (X509_verify_cert(ctx) == 1) {
		r = "trusted";
	} else {
		e = X509_STORE_CTX_get_error(ctx);
		if (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
			r = "expired";
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return r;
}

static void
judge_leaf(const struct config *cfg, const struct smime_trust *t, struct cache *cache,
    STACK_OF(X509) *others, time_t now, const atomic_int *cancel, int belpic,
    struct cert_view *v)
{
	struct smime_result r;
	struct smime_signer probe;
	struct revfetch_query q;
	struct revfetch_answer a;
	int eid;

	smime_result_init(&r);
	smime_signer_evaluate(t, v->tc->x509, others, 0, now, &r);
	v->s = r.signer;
	eid = r.has_signer && r.signer.kind == SMIME_KIND_EID;
	if (eid && r.chain == SMIME_CHAIN_TRUSTED)
		v->eid_chain = "trusted";
	else if (eid && (r.chain == SMIME_CHAIN_EXPIRED ||
	    r.chain == SMIME_CHAIN_INVALID_AT_SIGNING))
		v->eid_chain = "expired";
	else if (eid)
		v->eid_chain = "untrusted";
	else {
		/* Not a valid eID path: does it claim to be one? */
		smime_signer_read(v->tc->x509, 1, &probe);
		v->eid_chain = belpic || probe.card[0] != '\0' ? "untrusted" : "not_eid";
		if (strcmp(v->eid_chain, "untrusted") == 0) {
			/* Keep what the card says it is (citizen, usage). */
			verdict_copy_field(v->s.card, sizeof(v->s.card), probe.card);
			verdict_copy_field(v->s.usage, sizeof(v->s.usage), probe.usage);
		}
	}
	v->revocation = "not_checked";
	if (r.chain == SMIME_CHAIN_TRUSTED && r.chain_certs != NULL &&
	    sk_X509_num(r.chain_certs) >= 2 && (cancel == NULL || atomic_load(cancel) == 0)) {
		memset(&q, 0, sizeof(q));
		q.cfg = cfg;
		q.cache = cache;
		q.trust = smime_trust_store(t, eid);
		q.chain = r.chain_certs;
		q.now = now;
		q.cancel = cancel;
		/* The card's own CA is asked about the card's own certificate:
		 * it learns nothing about what the user reads or visits. */
		q.allow_ocsp = 1;
		q.prefer_ocsp = eid;
		revfetch_status(&q, &a);
		v->revocation = revocation_name(a.status);
	}
	smime_result_clear(&r);
}

static int
is_signature_cert(const struct cert_view *v)
{
	return !v->is_ca && (strcasecmp(v->tc->label, "Signature") == 0 ||
	    strcmp(v->s.usage, "signature") == 0);
}

static json_t *
cert_json(const struct cert_view *v)
{
	char id[2 * TOKEN_ID_MAX + 1], nb[32], na[32], cn[SMIME_FIELD_MAX];
	json_t *o;

	token_hex(v->tc->id, v->tc->id_len, id, sizeof(id));
	verdict_format_time(v->not_before, nb, sizeof(nb));
	verdict_format_time(v->not_after, na, sizeof(na));
	cn[0] = '\0';
	(void)x509name_field(X509_get_subject_name(v->tc->x509), NID_commonName, cn,
	    sizeof(cn));
	o = json_pack("{s:s, s:s, s:{s:s?, s:s?, s:s?, s:s?}, s:s?, s:s, s:s, s:I, "
	    "s:o, s:s, s:s, s:s, s:b, s:s?, s:s?}",
	    "label", v->tc->label,
	    "id", id,
	    "subject",
	    "name", v->s.name[0] ? v->s.name : NULL,
	    "given_name", v->s.given_name[0] ? v->s.given_name : NULL,
	    "surname", v->s.surname[0] ? v->s.surname : NULL,
	    "common_name", cn[0] ? cn : NULL,
	    "issuer", v->s.issuer[0] ? v->s.issuer : NULL,
	    "not_before", nb,
	    "not_after", na,
	    "days_left", (json_int_t)v->days_left,
	    "key", key_json(v->tc->x509),
	    "sha256", v->s.cert_sha256,
	    "eid_chain", v->eid_chain,
	    "revocation", v->revocation,
	    "ca", v->is_ca,
	    "card", v->s.card[0] ? v->s.card : NULL,
	    "usage", v->s.usage[0] ? v->s.usage : NULL);
	return o;
}

static json_t *
flags_json(CK_FLAGS f)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b}",
	    "login_required", (f & CKF_LOGIN_REQUIRED) != 0,
	    "pin_initialized", (f & CKF_USER_PIN_INITIALIZED) != 0,
	    "pin_count_low", (f & CKF_USER_PIN_COUNT_LOW) != 0,
	    "pin_final_try", (f & CKF_USER_PIN_FINAL_TRY) != 0,
	    "pin_locked", (f & CKF_USER_PIN_LOCKED) != 0,
	    "protected_authentication_path", (f & CKF_PROTECTED_AUTHENTICATION_PATH) != 0);
}

static void
note(json_t *notes, const char *code)
{
	size_t i;
	json_t *v;

	json_array_foreach(notes, i, v) {
		if (strcmp(json_string_value(v), code) == 0)
			return;
	}
	json_array_append_new(notes, json_string(code));
}

/* Certificates in a stable order: by CKA_ID, then label. */
static int
cmp_view(const void *a, const void *b)
{
	const struct cert_view *x = a, *y = b;
	size_t n = x->tc->id_len < y->tc->id_len ? x->tc->id_len : y->tc->id_len;
	int c = memcmp(x->tc->id, y->tc->id, n);

	if (c != 0)
		return c;
	if (x->tc->id_len != y->tc->id_len)
		return x->tc->id_len < y->tc->id_len ? -1 : 1;
	return strcmp(x->tc->label, y->tc->label);
}

static json_t *
token_json(const struct config *cfg, const struct smime_trust *trust, struct cache *cache,
    const struct token_session *s, const struct token_entry *t, time_t now,
    const atomic_int *cancel)
{
	struct cert_view views[TOKEN_MAX_CERTS];
	STACK_OF(X509) *others = sk_X509_new_null();
	json_t *o = NULL, *certs = json_array(), *notes = json_array(), *holder = json_null();
	const struct cert_view *hv = NULL;
	int belpic = token_label_is_belpic(t->label), has_sig = 0, claims_eid = 0;
	size_t i;

	if (others == NULL || certs == NULL || notes == NULL)
		goto out;
	for (i = 0; i < t->n_certs; i++) {
		if (sk_X509_push(others, t->certs[i].x509) <= 0)
			goto out;
	}
	memset(views, 0, sizeof(views));
	for (i = 0; i < t->n_certs; i++) {
		struct cert_view *v = &views[i];

		v->tc = &t->certs[i];
		v->not_before = x509name_time(X509_get0_notBefore(v->tc->x509));
		v->not_after = x509name_time(X509_get0_notAfter(v->tc->x509));
		v->days_left = days_between(now, v->not_after);
		v->is_ca = X509_check_ca(v->tc->x509) != 0;
		ERR_clear_error();
		if (v->is_ca) {
			smime_signer_read(v->tc->x509, 0, &v->s);
			v->eid_chain = ca_chain(trust, v->tc->x509, others, now);
			if (strcmp(v->eid_chain, "untrusted") == 0 && !belpic)
				v->eid_chain = "not_eid";
			v->revocation = "not_checked";
		} else {
			judge_leaf(cfg, trust, cache, others, now, cancel, belpic, v);
			if (v->s.card[0] != '\0')
				claims_eid = 1;
		}
	}
	qsort(views, t->n_certs, sizeof(views[0]), cmp_view);
	belpic = belpic || claims_eid;
	for (i = 0; i < t->n_certs; i++) {
		const struct cert_view *v = &views[i];

		json_array_append_new(certs, cert_json(v));
		if (is_signature_cert(v))
			has_sig = 1;
		if (v->is_ca)
			continue;
		if (hv == NULL || is_signature_cert(v) ||
		    (!is_signature_cert(hv) && strcasecmp(v->tc->label, "Authentication") == 0))
			hv = v;
		if (v->days_left < 0)
			note(notes, "certificate_expired");
		else if (v->days_left <= SOON_DAYS)
			note(notes, "certificate_expires_soon");
		if (strcmp(v->revocation, "revoked") == 0)
			note(notes, "certificate_revoked");
		if (strcmp(v->eid_chain, "untrusted") == 0)
			note(notes, "chain_untrusted");
	}
	if (hv != NULL && hv->s.name[0] != '\0') {
		json_decref(holder);
		holder = json_pack("{s:s, s:s?, s:s?}", "name", hv->s.name,
		    "given_name", hv->s.given_name[0] ? hv->s.given_name : NULL,
		    "surname", hv->s.surname[0] ? hv->s.surname : NULL);
	}
	if (t->read_error != CKR_OK)
		note(notes, "certificates_unreadable");
	else if (t->n_certs == 0)
		note(notes, "empty");
	if (belpic && t->n_certs > 0 && !has_sig)
		note(notes, "no_signature_certificate");
	if (t->flags & CKF_USER_PIN_LOCKED)
		note(notes, "pin_locked");
	else if (t->flags & CKF_USER_PIN_FINAL_TRY)
		note(notes, "pin_final_try");
	else if (t->flags & CKF_USER_PIN_COUNT_LOW)
		note(notes, "pin_count_low");
	if (t->certs_truncated)
		note(notes, "certificates_truncated");
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:o, s:O, s:O, s:O}",
	    "label", t->label,
	    "manufacturer", t->manufacturer,
	    "model", t->model,
	    "serial", t->serial,
	    "module", s->modules[t->module].path,
	    "belpic", belpic,
	    "has_signature_certificate", has_sig,
	    "flags", flags_json(t->flags),
	    "holder", holder,
	    "certificates", certs,
	    "notes", notes);
out:
	sk_X509_free(others);
	json_decref(certs);
	json_decref(notes);
	json_decref(holder);
	return o;
}

static json_t *
modules_json(const struct token_session *s)
{
	json_t *a = json_array();
	const struct token_module *m;
	size_t i;

	for (i = 0; a != NULL && i < s->n_modules; i++) {
		m = &s->modules[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:b, s:s?}",
		    "path", m->path, "source", m->source, "found", m->found,
		    "loaded", m->loaded, "error", m->error[0] ? m->error : NULL));
	}
	return a;
}

/* Tokens in a stable order: by module, then label, then serial. */
static int
cmp_token(const void *a, const void *b)
{
	const struct token_entry *x = a, *y = b;
	int c;

	if (x->module != y->module)
		return x->module < y->module ? -1 : 1;
	c = strcmp(x->label, y->label);
	return c != 0 ? c : strcmp(x->serial, y->serial);
}

json_t *
token_list(const struct config *cfg, const atomic_int *cancel, char *err, size_t errlen)
{
	struct token_session *s = NULL;
	struct smime_trust *trust = NULL;
	struct cache *cache = NULL;
	json_t *out = NULL, *tokens = NULL, *one;
	char why[256];
	time_t now = config_now(cfg);
	size_t i;

	if (cfg == NULL) {
		snprintf(err, errlen, "No configuration.");
		return NULL;
	}
	s = token_session_new(cfg);
	if (s == NULL) {
		snprintf(err, errlen, "Out of memory.");
		goto out;
	}
	if (token_session_open(s, NULL, err, errlen) != 0)
		goto out;
	token_session_scan(s, cancel);
	/* Unload the modules before anything slow (the network). */
	token_session_close(s);
	if (cancel != NULL && atomic_load(cancel) != 0) {
		snprintf(err, errlen, "Cancelled.");
		goto out;
	}
	qsort(s->tokens, s->n_tokens, sizeof(s->tokens[0]), cmp_token);
	if (s->n_tokens > 0) {
		if (fetch_global_init() != 0 ||
		    smime_trust_load(cfg, &trust, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "The eID trust configuration is invalid: %.200s.",
			    why);
			goto out;
		}
		cache = cache_open(cfg);
	}
	tokens = json_array();
	if (tokens == NULL)
		goto oom;
	for (i = 0; i < s->n_tokens; i++) {
		one = token_json(cfg, trust, cache, s, &s->tokens[i], now, cancel);
		if (one == NULL)
			goto oom;
		json_array_append_new(tokens, one);
	}
	out = json_pack("{s:o, s:O}", "modules", modules_json(s), "tokens", tokens);
	if (out == NULL)
		goto oom;
	goto out;
oom:
	snprintf(err, errlen, "Out of memory.");
out:
	json_decref(tokens);
	cache_close(cache);
	smime_trust_free(trust);
	token_session_free(s);
	return out;
}
