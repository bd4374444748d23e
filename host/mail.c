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
#include "cli.h"
#include "config.h"
#include "fetch.h"
#include "history.h"
#include "log.h"
#include "mail.h"
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

struct mail_ctx {
	const struct config *cfg;
	struct smime_trust *trust;
	struct history *history;
	struct cache *cache;
};

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mail_ctx *shared_ctx;

static struct mail_ctx *
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
static json_t *
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

/* Reads a whole file (or stdin for "-"), at most max bytes. */
static unsigned char *
read_all(const char *path, size_t max, size_t *len, int *too_large)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	unsigned char *buf = NULL, *tmp;
	size_t cap = 0, n = 0, got;

	*too_large = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap > max) {
				*too_large = 1;
				break;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			tmp = realloc(buf, cap + 1);
			if (tmp == NULL)
				break;
			buf = tmp;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (f != stdin)
		fclose(f);
	if (*too_large || n > max || (buf == NULL && n > 0)) {
		*too_large = n > max || *too_large;
		free(buf);
		return NULL;
	}
	if (buf == NULL)
		buf = calloc(1, 1);
	*len = n;
	return buf;
}

static const char *
js(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);

	if (k2 != NULL)
		v = json_object_get(v, k2);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *
mail_reason_words(const char *code)
{
	static const struct {
		const char *code, *words;
	} t[] = {
		{ "unsigned", "the mail is not signed" },
		{ "unsupported", "a signature or encryption this version cannot check" },
		{ "malformed_mime", "the message structure could not be read" },
		{ "from_mismatch", "the sender address is not the signer's certified address" },
		{ "several_from", "the mail names several senders" },
		{ "sender_differs", "the Sender header names another address than From" },
		{ "address_not_certified", "the signer's certificate holds no e-mail address" },
		{ "signer_untrusted", "the signing certificate is not from a trusted issuer" },
		{ "invalid_at_signing", "the certificate was not valid when it signed" },
		{ "certificate_expired_since", "signed while valid; the certificate has expired since" },
		{ "revoked", "the certificate was revoked before it signed" },
		{ "revoked_since", "signed while valid; the certificate was revoked since" },
		{ "revocation_unknown", "whether the certificate was revoked could not be learned" },
		{ "signing_time_differs", "the signing time is far from the mail's date" },
		{ "partial_coverage", "part of what is shown is not covered by the signature" },
		{ "signature_in_attachment_only", "only an attachment is signed, not this mail" },
		{ "unsigned_usually_signed", "this sender's mails were signed before" },
		{ "signer_changed", "signed by a different certificate than before" },
		{ "digest_mismatch", "the signed content was changed after signing" },
		{ "bad_signature", "the signature does not match" },
		{ "several_signers", "several signatures in one: ambiguous" },
		{ "no_signer", "no signer in the signature" },
		{ "weak_digest", "signed with a broken hash algorithm (SHA-1 or weaker)" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(t[i].code, code) == 0)
			return t[i].words;
	}
	return "the signature could not be verified";
}

static void
print_mail(json_t *v)
{
	json_t *reasons = json_object_get(v, "reasons"), *r, *links = json_object_get(v, "links");
	const char *sig = js(v, "signature", NULL), *kind = js(v, "signer", "kind");
	size_t i;

	printf("from:        %s\n", js(v, "from", NULL) ? js(v, "from", NULL) : "(none)");
	printf("verdict:     %s\n", js(v, "verdict", NULL));
	if (strcmp(sig, "valid") == 0 && js(v, "signer", "name") != NULL)
		printf("signature:   valid, %s by %s%s%s\n",
		    kind != NULL && strcmp(kind, "eid") == 0 ? "signed with eID" :
		    kind != NULL && strcmp(kind, "qualified") == 0 ? "qualified signature" :
		    "S/MIME signature", js(v, "signer", "name"),
		    js(v, "signer", "card") ? ", " : "",
		    js(v, "signer", "card") ? js(v, "signer", "card") : "");
	else
		printf("signature:   %s\n", sig);
	if (js(v, "from_binding", NULL) != NULL) {
		const char *b = js(v, "from_binding", NULL);
		printf("address:     %s\n", strcmp(b, "match") == 0 ?
		    "the sender address is certified by the signer's certificate" :
		    strcmp(b, "mismatch") == 0 ?
		    "the sender address does NOT match the signer" :
		    "not certified (an eID certificate holds no e-mail address)");
	}
	if (js(v, "chain", NULL) != NULL)
		printf("certificate: %s\n", js(v, "chain", NULL));
	if (js(v, "signing_time", NULL) != NULL)
		printf("signed at:   %s\n", js(v, "signing_time", NULL));
	printf("coverage:    %s\n", js(v, "coverage", NULL));
	printf("history:     %lld signed and %lld unsigned mails from this sender before\n",
	    (long long)json_integer_value(json_object_get(json_object_get(v, "history"),
	    "signed_before")),
	    (long long)json_integer_value(json_object_get(json_object_get(v, "history"),
	    "unsigned_before")));
	json_array_foreach(reasons, i, r)
		printf("%s %s: %s\n", i == 0 ? "reasons:    " : "            ",
		    json_string_value(r), mail_reason_words(json_string_value(r)));
	json_array_foreach(links, i, r)
		printf("%s %s%s\n", i == 0 ? "links:      " : "            ",
		    js(r, "url", NULL), json_is_true(json_object_get(r, "signed")) ?
		    " (signed)" : " (not signed)");
}

int
mail_cli(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct mail_ctx *c;
	const char *path = NULL;
	unsigned char *raw = NULL;
	size_t len = 0;
	char err[512];
	json_t *v = NULL;
	enum tl_status st = TL_INTERNAL;
	int i, as_json = 0, too_large = 0, rc = CLI_FAILED;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (path == NULL)
			path = argv[i];
		else
			path = NULL, i = argc + 1;
	}
	if (path == NULL || i > argc) {
		fprintf(stderr, "usage: trustlens-host mail FILE|- [--json]\n");
		return CLI_USAGE;
	}
	if (config_load(&cfg, err, sizeof(err)) != 0)
		goto fail;
	if (log_open(cfg->log_file, err, sizeof(err)) != 0)
		fprintf(stderr, "trustlens-host: %s\n", err);
	raw = read_all(path, cfg->mail_max_bytes, &len, &too_large);
	if (raw == NULL) {
		st = too_large ? TL_TOO_LARGE : TL_BAD_REQUEST;
		snprintf(err, sizeof(err), too_large ? "the message is larger than %zu bytes" :
		    "cannot read the message", cfg->mail_max_bytes);
		goto fail;
	}
	c = mail_context(cfg, err, sizeof(err));
	if (c == NULL)
		goto fail;
	v = mail_evaluate(c, raw, len, config_now(cfg), NULL);
	if (v == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (as_json) {
		char *s = json_dumps(v, JSON_COMPACT);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else {
		print_mail(v);
	}
	rc = CLI_OK;
	goto out;
fail:
	if (as_json) {
		json_t *e = json_pack("{s:{s:s, s:s}}", "error", "code", status_code(st),
		    "message", err);
		char *s = e != NULL ? json_dumps(e, JSON_COMPACT) : NULL;
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(e);
	}
	fprintf(stderr, "trustlens-host: %s (%s)\n", err, status_code(st));
out:
	json_decref(v);
	free(raw);
	mail_shutdown();
	config_free(cfg);
	log_close();
	return rc;
}
