/*
 * mail: see mail.h.
 *
 * Hostile input: the message (any bytes, up to mail_max_bytes), and every
 * certificate and CMS structure in it. An attack or an ambiguity reads as
 * signature "invalid" and verdict "danger", never as "unsigned" and never
 * as "valid": a message that does not parse is "invalid" with the reason
 * malformed_mime; a signature inside an attachment does not sign the mail.
 * The national register number never leaves smime (it is never copied out
 * of the certificate), so nothing here can reply, log or store it.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "config.h"
#include "fetch.h"
#include "history.h"
#include "log.h"
#include "mail.h"
#include "mail_internal.h"
#include "mime.h"
#include "revfetch.h"
#include "smime.h"
#include "verdict.h"

enum mail_reason {
	MR_UNSIGNED = 0,
	MR_UNSUPPORTED,
	MR_MALFORMED_MIME,
	MR_FROM_MISMATCH,
	MR_SEVERAL_FROM,
	MR_SENDER_DIFFERS,
	MR_ADDRESS_NOT_CERTIFIED,
	MR_SIGNER_UNTRUSTED,
	MR_INVALID_AT_SIGNING,
	MR_CERT_EXPIRED_SINCE,
	MR_REVOKED,
	MR_REVOKED_SINCE,
	MR_REVOCATION_UNKNOWN,
	MR_SIGNING_TIME_DIFFERS,
	MR_PARTIAL_COVERAGE,
	MR_SIG_IN_ATTACHMENT_ONLY,
	MR_UNSIGNED_USUALLY_SIGNED,
	MR_SIGNER_CHANGED,
	MR_COUNT
};

static const char *const reason_names[] = {
	[MR_UNSIGNED] = "unsigned",
	[MR_UNSUPPORTED] = "unsupported",
	[MR_MALFORMED_MIME] = "malformed_mime",
	[MR_FROM_MISMATCH] = "from_mismatch",
	[MR_SEVERAL_FROM] = "several_from",
	[MR_SENDER_DIFFERS] = "sender_differs",
	[MR_ADDRESS_NOT_CERTIFIED] = "address_not_certified",
	[MR_SIGNER_UNTRUSTED] = "signer_untrusted",
	[MR_INVALID_AT_SIGNING] = "invalid_at_signing",
	[MR_CERT_EXPIRED_SINCE] = "certificate_expired_since",
	[MR_REVOKED] = "revoked",
	[MR_REVOKED_SINCE] = "revoked_since",
	[MR_REVOCATION_UNKNOWN] = "revocation_unknown",
	[MR_SIGNING_TIME_DIFFERS] = "signing_time_differs",
	[MR_PARTIAL_COVERAGE] = "partial_coverage",
	[MR_SIG_IN_ATTACHMENT_ONLY] = "signature_in_attachment_only",
	[MR_UNSIGNED_USUALLY_SIGNED] = "unsigned_usually_signed",
	[MR_SIGNER_CHANGED] = "signer_changed",
};

_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == MR_COUNT,
    "every mail reason needs a wire name");

/* Reasons that make a mail "danger". */
#define MR_DANGER ((1u << MR_FROM_MISMATCH) | (1u << MR_SEVERAL_FROM) | \
    (1u << MR_SENDER_DIFFERS) | (1u << MR_REVOKED) | (1u << MR_INVALID_AT_SIGNING) | \
    (1u << MR_UNSIGNED_USUALLY_SIGNED) | (1u << MR_SIGNER_CHANGED) | \
    (1u << MR_MALFORMED_MIME))


static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mail_ctx *shared_ctx;

struct mail_ctx *
mail_context(const struct config *cfg, char *err, size_t errlen)
{
	struct mail_ctx *c = NULL;
	char why[256];

	if (cfg == NULL) {
		snprintf(err, errlen, "No configuration.");
		return NULL;
	}
	pthread_mutex_lock(&ctx_lock);
	if (shared_ctx != NULL) {
		c = shared_ctx;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "Out of memory.");
		goto out;
	}
	c->cfg = cfg;
	if (fetch_global_init() != 0 ||
	    smime_trust_load(cfg, &c->trust, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "The mail trust configuration is invalid: %.200s.", why);
		free(c);
		c = NULL;
		goto out;
	}
	c->history = history_open(cfg, why, sizeof(why));
	if (c->history == NULL)
		log_msg("mail: %s; verdicts without history", why);
	c->cache = cache_open(cfg);
	shared_ctx = c;
out:
	pthread_mutex_unlock(&ctx_lock);
	return c;
}

void
mail_shutdown(void)
{
	pthread_mutex_lock(&ctx_lock);
	if (shared_ctx != NULL) {
		smime_trust_free(shared_ctx->trust);
		history_close(shared_ctx->history);
		cache_close(shared_ctx->cache);
		free(shared_ctx);
		shared_ctx = NULL;
	}
	pthread_mutex_unlock(&ctx_lock);
}

struct mail_verdict {
	enum site_value verdict;
	const char *signature;        /* valid, invalid, none, unsupported */
	const char *invalid_reason;   /* smime's code, when invalid */
	uint32_t reasons;
	struct smime_signer signer;
	int has_signer;
	const char *from;             /* borrowed from the parsed message */
	const char *binding;
	time_t signing_time;
	const char *chain;
	const char *coverage;
	json_t *links;                /* owned */
	struct history_view history;
	int history_available;
};

static void
add(struct mail_verdict *v, enum mail_reason r)
{
	v->reasons |= 1u << r;
}

static int
has(const struct mail_verdict *v, enum mail_reason r)
{
	return (v->reasons & (1u << r)) != 0;
}

/* The signature that signs the mail: the outermost one outside any
 * attachment. -1 when none. */
static int
primary_signature(const struct mime_msg *m)
{
	int best = -1;
	size_t i;

	for (i = 0; i < m->n_sigs; i++) {
		if (m->sigs[i].in_attachment)
			continue;
		if (best < 0 || m->sigs[i].depth < m->sigs[best].depth)
			best = (int)i;
	}
	return best;
}

static void
bind_from(const struct mime_msg *m, struct mail_verdict *v)
{
	size_t i;

	if (m->n_from != 1 || m->from_malformed) {
		add(v, MR_SEVERAL_FROM);
		v->binding = "mismatch";
		return;
	}
	if (m->n_sender > 0 && (m->n_sender > 1 ||
	    strcasecmp(m->sender[0].addr_spec, m->from[0].addr_spec) != 0)) {
		add(v, MR_SENDER_DIFFERS);
		v->binding = "mismatch";
		return;
	}
	if (v->signer.n_emails == 0) {
		add(v, MR_ADDRESS_NOT_CERTIFIED);
		v->binding = "cert_without_address";
		return;
	}
	for (i = 0; i < v->signer.n_emails; i++) {
		if (strcasecmp(v->signer.emails[i], m->from[0].addr_spec) == 0) {
			v->binding = "match";
			return;
		}
	}
	add(v, MR_FROM_MISMATCH);
	v->binding = "mismatch";
}

static void
check_chain(struct mail_ctx *c, struct smime_result *r, time_t now,
    const atomic_int *cancel, struct mail_verdict *v)
{
	struct revfetch_query q;
	struct revfetch_answer a;

	switch (r->chain) {
	case SMIME_CHAIN_TRUSTED:
		v->chain = "trusted";
		break;
	case SMIME_CHAIN_EXPIRED:
		v->chain = "expired";
		add(v, MR_CERT_EXPIRED_SINCE);
		break;
	case SMIME_CHAIN_INVALID_AT_SIGNING:
		v->chain = "expired";
		add(v, MR_INVALID_AT_SIGNING);
		return;
	case SMIME_CHAIN_UNTRUSTED:
		v->chain = "untrusted";
		add(v, MR_SIGNER_UNTRUSTED);
		return;
	case SMIME_CHAIN_UNKNOWN:
	default:
		v->chain = "unknown";
		return;
	}
	if (r->chain_certs == NULL || sk_X509_num(r->chain_certs) < 2)
		return;
	memset(&q, 0, sizeof(q));
	q.cfg = c->cfg;
	q.cache = c->cache;
	q.trust = smime_trust_store(c->trust, v->signer.kind == SMIME_KIND_EID);
	q.chain = r->chain_certs;
	q.now = now;
	q.cancel = cancel;
	/* The signer's own CA is asked (the eID responders for eID cards):
	 * that tells it a mail from this signer was read, not which sites
	 * the user visits. OCSP first for eID (its CRLs are large). */
	q.allow_ocsp = 1;
	q.prefer_ocsp = v->signer.kind == SMIME_KIND_EID;
	revfetch_status(&q, &a);
	if (a.status == REVOCATION_REVOKED) {
		v->chain = "revoked";
		if (r->signing_time != 0 && a.revoked_at != 0 && a.revoked_at > r->signing_time)
			add(v, MR_REVOKED_SINCE);
		else
			add(v, MR_REVOKED);
	} else if (a.status == REVOCATION_UNKNOWN) {
		add(v, MR_REVOCATION_UNKNOWN);
	}
}

/* Verifies the signatures that sign the mail. Returns the index of the
 * primary one, or -1. */
static int
verify_signatures(struct mail_ctx *c, struct mime_msg *m, time_t now,
    struct smime_result *res, int *valid, struct mail_verdict *v)
{
	int primary = primary_signature(m);
	size_t i;

	for (i = 0; i < m->n_sigs; i++) {
		struct mime_signed *s = &m->sigs[i];

		valid[i] = 0;
		if (s->in_attachment)
			continue;
		smime_verify(c->trust, s->cms, s->cms_len,
		    s->kind == MIME_SIGNED_DETACHED ? s->content : NULL,
		    s->kind == MIME_SIGNED_DETACHED ? s->content_len : 0, now, &res[i]);
		if (res[i].sig == SMIME_SIG_VALID) {
			valid[i] = 1;
			if (s->kind == MIME_SIGNED_OPAQUE && res[i].econtent != NULL &&
			    mime_add_signed_entity(m, (int)i, res[i].econtent,
			    res[i].econtent_len) != MIME_OK) {
				valid[i] = 0;
				v->signature = "invalid";
				v->invalid_reason = "malformed_mime";
			}
		} else if (res[i].sig == SMIME_SIG_UNSUPPORTED && (int)i == primary &&
		    v->signature == NULL) {
			v->signature = "unsupported";
			add(v, MR_UNSUPPORTED);
		} else if (res[i].sig != SMIME_SIG_VALID && v->invalid_reason == NULL) {
			v->signature = "invalid";
			v->invalid_reason = res[i].invalid_reason != NULL ?
			    res[i].invalid_reason : "bad_signature";
		}
	}
	if (primary >= 0 && v->signature == NULL)
		v->signature = valid[primary] ? "valid" : "invalid";
	return primary;
}

static void
coverage(const struct mime_msg *m, const int *valid, struct mail_verdict *v)
{
	size_t i, covered = 0;
	int any_valid = strcmp(v->signature, "valid") == 0;

	for (i = 0; i < m->n_texts; i++) {
		int s = m->texts[i].signed_by;
		if (s >= 0 && (size_t)s < m->n_sigs && valid[s])
			covered++;
	}
	if (m->n_texts == 0)
		v->coverage = any_valid ? "full" : "none";
	else if (covered == m->n_texts)
		v->coverage = "full";
	else if (covered > 0)
		v->coverage = "partial";
	else
		v->coverage = "none";
	if (any_valid && strcmp(v->coverage, "full") != 0)
		add(v, MR_PARTIAL_COVERAGE);
	v->links = json_array();
	for (i = 0; v->links != NULL && i < m->n_links; i++) {
		int s = m->links[i].signed_by;
		json_array_append_new(v->links, json_pack("{s:s, s:b}", "url", m->links[i].url,
		    "signed", s >= 0 && (size_t)s < m->n_sigs && valid[s]));
	}
}

/* The message key for history: its Message-ID, else a hash of it. */
static void
message_key(const struct mime_msg *m, const unsigned char *raw, size_t len, char *out,
    size_t outlen)
{
	unsigned char md[32];
	unsigned n = 0, i;

	if (m->message_id != NULL && strlen(m->message_id) < outlen - 4) {
		snprintf(out, outlen, "mid:%s", m->message_id);
		return;
	}
	EVP_Digest(raw, len, md, &n, EVP_sha256(), NULL);
	snprintf(out, outlen, "sha256:");
	for (i = 0; i < 32 && 7 + 2 * i + 2 < outlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

static void
decide(struct mail_verdict *v)
{
	int kind_ok = v->has_signer && (v->signer.kind == SMIME_KIND_EID ||
	    v->signer.kind == SMIME_KIND_QUALIFIED);
	int chain_ok = v->chain != NULL && (strcmp(v->chain, "trusted") == 0 ||
	    strcmp(v->chain, "expired") == 0);
	int binding_ok = v->binding != NULL && (strcmp(v->binding, "match") == 0 ||
	    strcmp(v->binding, "cert_without_address") == 0);

	if (strcmp(v->signature, "invalid") == 0 || (v->reasons & MR_DANGER) != 0) {
		v->verdict = SITE_DANGER;
	} else if (strcmp(v->signature, "valid") == 0 && chain_ok && kind_ok && binding_ok &&
	    strcmp(v->coverage, "full") == 0 && !has(v, MR_REVOKED_SINCE) &&
	    !has(v, MR_SIGNING_TIME_DIFFERS)) {
		v->verdict = SITE_TRUSTED;
	} else {
		v->verdict = SITE_CAUTION;
	}
}

static json_t *
signer_json(const struct mail_verdict *v)
{
	const struct smime_signer *s = &v->signer;
	static const char *const kinds[] = { "smime", "eid", "qualified", "smime" };

	if (!v->has_signer)
		return json_null();
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:b, s:s?, s:s}",
	    "name", s->name[0] ? s->name : NULL,
	    "given_name", s->given_name[0] ? s->given_name : NULL,
	    "surname", s->surname[0] ? s->surname : NULL,
	    "email", s->n_emails > 0 ? s->emails[0] : NULL,
	    "kind", (unsigned)s->kind < 4 ? kinds[s->kind] : "smime",
	    "country", s->country[0] ? s->country : NULL,
	    "card", s->card[0] ? s->card : NULL,
	    "qualified", s->qualified,
	    "issuer", s->issuer[0] ? s->issuer : NULL,
	    "cert_sha256", s->cert_sha256);
}

static json_t *
verdict_json(const struct mail_verdict *v)
{
	json_t *reasons = json_array(), *o;
	char when[32];
	int i;

	if (reasons == NULL)
		return NULL;
	if (v->invalid_reason != NULL)
		json_array_append_new(reasons, json_string(v->invalid_reason));
	for (i = 0; i < MR_COUNT; i++) {
		if (v->reasons & (1u << i))
			json_array_append_new(reasons, json_string(reason_names[i]));
	}
	if (v->signing_time != 0)
		verdict_format_time(v->signing_time, when, sizeof(when));
	o = json_pack("{s:s, s:s, s:o, s:o, s:s?, s:s?, s:s?, s:s?, s:s, s:O, s:{s:i, s:i, s:b}}",
	    "verdict", site_value_name(v->verdict),
	    "signature", v->signature,
	    "reasons", reasons,
	    "signer", signer_json(v),
	    "from", v->from,
	    "from_binding", v->binding,
	    "signing_time", v->signing_time != 0 ? when : NULL,
	    "chain", v->chain,
	    "coverage", v->coverage,
	    "links", v->links != NULL ? v->links : json_array(),
	    "history", "signed_before", (json_int_t)v->history.signed_before,
	    "unsigned_before", (json_int_t)v->history.unsigned_before,
	    "signer_changed", v->history.signer_changed);
	if (o != NULL && !v->history_available)
		json_object_set_new(json_object_get(o, "history"), "available", json_false());
	return o;
}

/* The From addr-spec of a message whose body does not parse: its From
 * field(s) alone, parsed as a message of their own. "" when that fails. */
static void
header_from(const unsigned char *raw, size_t len, char *out, size_t outlen)
{
	struct mime_msg *h = NULL;
	unsigned char *copy;
	size_t i = 0, n = 0, eol;
	int keep = 0;

	out[0] = '\0';
	copy = malloc(2 * len + 3); /* a bare LF becomes CRLF */
	if (copy == NULL)
		return;
	while (i < len) {
		for (eol = i; eol < len && raw[eol] != '\n'; eol++)
			;
		if (eol == i || (eol == i + 1 && raw[i] == '\r'))
			break; /* end of the header block */
		if (raw[i] != ' ' && raw[i] != '\t')
			keep = eol - i >= 5 && strncasecmp((const char *)raw + i, "from:", 5) == 0;
		if (keep) {
			memcpy(copy + n, raw + i, eol - i);
			n += eol - i;
			if (n == 0 || copy[n - 1] != '\r')
				copy[n++] = '\r';
			copy[n++] = '\n';
		}
		i = eol + 1;
	}
	if (n > 0) {
		memcpy(copy + n, "\r\n", 2);
		if (mime_parse(copy, n + 2, &h) == MIME_OK && h->n_from > 0 &&
		    strlen(h->from[0].addr_spec) < outlen)
			snprintf(out, outlen, "%s", h->from[0].addr_spec);
	}
	mime_free(h);
	free(copy);
}

/* The whole evaluation. Returns the verdict JSON (never NULL unless out of
 * memory): a message is always given a verdict. */
json_t *
mail_evaluate(struct mail_ctx *c, const unsigned char *raw, size_t len, time_t now,
    const atomic_int *cancel)
{
	struct mail_verdict v;
	struct mime_msg *m = NULL;
	struct smime_result *res = NULL;
	int *valid = NULL, primary = -1;
	char key[600], from[MIME_MAX_URL];
	json_t *out;
	size_t i;

	memset(&v, 0, sizeof(v));
	if (mime_parse(raw, len, &m) != MIME_OK) {
		/* Nothing can be said about a message that does not parse;
		 * it never reads as "unsigned". Its From is still named when
		 * the header block alone parses. */
		header_from(raw, len, from, sizeof(from));
		if (from[0] != '\0')
			v.from = from;
		v.signature = "invalid";
		add(&v, MR_MALFORMED_MIME);
		v.coverage = "none";
		v.links = json_array();
		v.verdict = SITE_DANGER;
		v.history_available = c->history != NULL;
		goto done;
	}
	v.from = m->n_from > 0 ? m->from[0].addr_spec : NULL;
	res = calloc(m->n_sigs + 1, sizeof(*res));
	valid = calloc(m->n_sigs + 1, sizeof(*valid));
	if (res == NULL || valid == NULL)
		goto oom;
	for (i = 0; i < m->n_sigs; i++)
		smime_result_init(&res[i]);
	primary = verify_signatures(c, m, now, res, valid, &v);
	if (primary < 0) {
		if (v.signature == NULL && m->n_unsupported > 0) {
			v.signature = "unsupported";
			add(&v, MR_UNSUPPORTED);
		} else if (v.signature == NULL) {
			v.signature = "none";
			add(&v, MR_UNSIGNED);
			if (m->n_sigs > 0)
				add(&v, MR_SIG_IN_ATTACHMENT_ONLY);
		}
	} else if (res[primary].has_signer) {
		v.has_signer = 1;
		v.signer = res[primary].signer;
		v.signing_time = res[primary].signing_time;
	}
	if (strcmp(v.signature, "valid") == 0) {
		bind_from(m, &v);
		check_chain(c, &res[primary], now, cancel, &v);
		if (v.signing_time != 0 && m->date != 0 &&
		    (v.signing_time - m->date > MAIL_SIGNING_SKEW ||
		    m->date - v.signing_time > MAIL_SIGNING_SKEW))
			add(&v, MR_SIGNING_TIME_DIFFERS);
	}
	coverage(m, valid, &v);

	v.history_available = c->history != NULL;
	if (c->history != NULL && m->n_from == 1 && !m->from_malformed) {
		int is_signed = strcmp(v.signature, "valid") == 0 && v.chain != NULL &&
		    (strcmp(v.chain, "trusted") == 0 || strcmp(v.chain, "expired") == 0) &&
		    v.binding != NULL && strcmp(v.binding, "mismatch") != 0;

		message_key(m, raw, len, key, sizeof(key));
		history_observe(c->history, m->from[0].addr_spec, key, is_signed,
		    is_signed ? v.signer.cert_sha256 : NULL, now, &v.history);
		if (!is_signed && strcmp(v.signature, "invalid") != 0 &&
		    v.history.signed_before > 0)
			add(&v, MR_UNSIGNED_USUALLY_SIGNED);
		if (is_signed && v.history.signer_changed)
			add(&v, MR_SIGNER_CHANGED);
	}
	decide(&v);
done:
	out = verdict_json(&v);
	goto cleanup;
oom:
	out = NULL;
cleanup:
	for (i = 0; res != NULL && m != NULL && i < m->n_sigs; i++)
		smime_result_clear(&res[i]);
	free(res);
	free(valid);
	json_decref(v.links);
	mime_free(m);
	return out;
}

/* Strict base64 (no whitespace), into a fresh buffer. */
static unsigned char *
b64_decode(const char *s, size_t n, size_t *out_len)
{
	unsigned char *buf;
	size_t pad = 0;
	int r;

	if (n == 0 || n % 4 != 0 || n > (size_t)0x7fffffff)
		return NULL;
	buf = malloc(n / 4 * 3 + 1);
	if (buf == NULL)
		return NULL;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	r = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r < pad) {
		free(buf);
		return NULL;
	}
	*out_len = (size_t)r - pad;
	return buf;
}

int
mail_handle(struct tl_call *call)
{
	json_t *raw = json_object_get(call->request, "raw");
	json_t *raw_b64 = json_object_get(call->request, "raw_b64");
	const unsigned char *bytes;
	unsigned char *decoded = NULL;
	struct mail_ctx *c;
	size_t len = 0;
	char err[320];

	if ((raw == NULL) == (raw_b64 == NULL) || (raw != NULL && !json_is_string(raw)) ||
	    (raw_b64 != NULL && !json_is_string(raw_b64)))
		return call_fail(call, TL_BAD_REQUEST,
		    "A mail request needs exactly one of raw or raw_b64, a string.");
	if (raw != NULL) {
		bytes = (const unsigned char *)json_string_value(raw);
		len = json_string_length(raw);
	} else {
		decoded = b64_decode(json_string_value(raw_b64), json_string_length(raw_b64),
		    &len);
		if (decoded == NULL)
			return call_fail(call, TL_BAD_REQUEST, "raw_b64 is not valid base64.");
		bytes = decoded;
	}
	if (len > call->cfg->mail_max_bytes) {
		free(decoded);
		return call_fail(call, TL_TOO_LARGE, "The message is larger than %zu bytes.",
		    call->cfg->mail_max_bytes);
	}
	c = mail_context(call->cfg, err, sizeof(err));
	if (c == NULL) {
		free(decoded);
		return call_fail(call, TL_INTERNAL, "%s", err);
	}
	call->result = mail_evaluate(c, bytes, len, config_now(call->cfg), call->cancel);
	free(decoded);
	if (call->result == NULL)
		return call_fail(call, TL_INTERNAL, "Out of memory.");
	return 0;
}

int
mail_handle_confirm(struct tl_call *call)
{
	json_t *from = json_object_get(call->request, "from");
	json_t *cert = json_object_get(call->request, "cert_sha256");
	struct mail_ctx *c;
	char err[320];

	if (!json_is_string(from) || !json_is_string(cert))
		return call_fail(call, TL_BAD_REQUEST,
		    "A confirm_signer request needs from and cert_sha256 strings.");
	c = mail_context(call->cfg, err, sizeof(err));
	if (c == NULL)
		return call_fail(call, TL_INTERNAL, "%s", err);
	if (c->history == NULL)
		return call_fail(call, TL_INTERNAL, "The sender history is not available.");
	if (history_confirm(c->history, json_string_value(from), json_string_value(cert),
	    config_now(call->cfg)) != 0)
		return call_fail(call, TL_BAD_REQUEST,
		    "from must be an address and cert_sha256 64 lower-case hex digits.");
	call->result = json_pack("{s:b}", "confirmed", 1);
	return call->result != NULL ? 0 : call_fail(call, TL_INTERNAL, "Out of memory.");
}
