/*
 * mime: the structure of a message (see mime.h for why this parser
 * exists). Entities are walked depth-first on the raw bytes, offsets
 * kept; mime_bound.c splits multiparts and hands out the exact signed
 * bytes of a multipart/signed entity, never decoded or re-serialised.
 *
 * Line endings: CRLF and bare LF both end a line everywhere (lf_only
 * reports a message with LF and no CRLF at all). A bare CR ends no line
 * here but does in some readers, so it is refused where it could change
 * the structure: in a header block, and before a boundary.
 *
 * Refused as ambiguous (MIME_MALFORMED): two Content-Type,
 * Content-Transfer-Encoding or Content-Disposition fields in one entity, a
 * multipart without a boundary or with a boundary outside RFC 2046, an
 * encoded multipart, and what mime_bound.c and mime_header.c refuse.
 *
 * Limits: MIME_MAX_BYTES of input, MIME_MAX_DEPTH of nesting (the walk
 * recurses at most that deep), MIME_MAX_PARTS entities, a budget of 8
 * times the input (plus 1 MiB) for every byte decoded or copied, so that
 * memory stays proportional to the input even for nested signatures,
 * whose contents overlap, and the delimiter candidates the splits may
 * visit (mime_bound.c). Time stays linear in the input.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime_internal.h"

enum cte { CTE_IDENTITY, CTE_QP, CTE_BASE64, CTE_UNKNOWN };

struct walk {
	struct mime_msg *msg;
	struct mime_linkset links;
	size_t parts;           /* entities entered */
	size_t budget;          /* bytes that may still be decoded or copied */
	struct mime_index ix;   /* delimiter candidates of the buffer walked */
	int add_mode;           /* mime_add_signed_entity: texts and links only */
	size_t cap_sigs;
	size_t cap_texts;
};

/* One entity's header, read. */
struct ent {
	struct mime_headers h;
	struct mime_ctype ct;
	int cte;
	int attachment;
	const unsigned char *body;
	size_t body_len;
};

static const char *const status_names[] = {
	[MIME_OK] = "ok",
	[MIME_TOO_LARGE] = "too_large",
	[MIME_TOO_DEEP] = "too_deep",
	[MIME_TOO_MANY_PARTS] = "too_many_parts",
	[MIME_MALFORMED] = "malformed",
	[MIME_NO_MEMORY] = "no_memory",
};

const char *
mime_status_name(enum mime_status s)
{
	if ((int)s < 0 || (size_t)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown";
	return status_names[s];
}

static enum mime_status walk_entity(struct walk *w, const unsigned char *p, size_t len,
    int depth, int signed_by, int in_att, int digest, int top);

static int
is_type(const struct ent *e, const char *type, const char *subtype)
{
	return strcmp(e->ct.type, type) == 0 && (subtype == NULL || strcmp(e->ct.subtype, subtype) == 0);
}

static const char *
param(const struct ent *e, const char *name)
{
	const struct mime_param *p = mime_ctype_param(&e->ct, name);

	return p != NULL ? p->value : NULL;
}

/* The value of the single field called name into *out (NULL if absent);
 * two of them are an ambiguity. */
static enum mime_status
single_field(const struct mime_headers *h, const char *name, char **out)
{
	int i = mime_headers_single(h, name);

	*out = NULL;
	if (i == -2)
		return MIME_MALFORMED;
	if (i < 0)
		return MIME_OK;
	return mime_field_unfold(&h->f[i], out);
}

static void
ent_clear(struct ent *e)
{
	mime_headers_clear(&e->h);
	mime_ctype_clear(&e->ct);
}

/* Reads an entity's header: Content-Type (default text/plain, or
 * message/rfc822 inside multipart/digest, RFC 2046 5.1.5),
 * Content-Transfer-Encoding and Content-Disposition. */
static enum mime_status
ent_parse(const unsigned char *p, size_t len, int top, int digest, struct ent *e)
{
	enum mime_status st;
	char *ctype = NULL, *cte = NULL, *disp = NULL;
	struct mime_ctype d;
	const char *c;

	memset(e, 0, sizeof(*e));
	memset(&d, 0, sizeof(d));
	st = mime_headers_parse(p, len, top, &e->h);
	if (st == MIME_OK)
		st = single_field(&e->h, "content-type", &ctype);
	if (st == MIME_OK)
		st = single_field(&e->h, "content-transfer-encoding", &cte);
	if (st == MIME_OK)
		st = single_field(&e->h, "content-disposition", &disp);
	if (st == MIME_OK)
		st = mime_ctype_parse(ctype, 1, &e->ct);
	if (st == MIME_OK && e->ct.type[0] == '\0') {
		mime_ctype_clear(&e->ct);
		snprintf(e->ct.type, sizeof(e->ct.type), "%s", digest ? "message" : "text");
		snprintf(e->ct.subtype, sizeof(e->ct.subtype), "%s", digest ? "rfc822" : "plain");
	}
	if (st == MIME_OK)
		st = mime_ctype_parse(disp, 0, &d);
	if (st != MIME_OK)
		goto out;
	/* RFC 2183 2.8 reads unknown dispositions as attachment; a reader that
	 * shows such a part inline shows text we must count, so only an
	 * explicit "attachment" hides a part. */
	e->attachment = strcmp(d.type, "attachment") == 0;
	e->cte = CTE_IDENTITY;
	if (cte != NULL) {
		c = cte;
		while (*c == ' ' || *c == '\t')
			c++;
		if (mime_memcaseeq(c, "quoted-printable", 16) && (c[16] == '\0' || c[16] == ' ' || c[16] == '('))
			e->cte = CTE_QP;
		else if (mime_memcaseeq(c, "base64", 6) && (c[6] == '\0' || c[6] == ' ' || c[6] == '('))
			e->cte = CTE_BASE64;
		else if (!((mime_memcaseeq(c, "7bit", 4) || mime_memcaseeq(c, "8bit", 4)) &&
		    (c[4] == '\0' || c[4] == ' ' || c[4] == '(')) &&
		    !(mime_memcaseeq(c, "binary", 6) && (c[6] == '\0' || c[6] == ' ' || c[6] == '(')))
			e->cte = CTE_UNKNOWN;
	}
	e->body = p + e->h.body;
	e->body_len = len - e->h.body;
out:
	mime_ctype_clear(&d);
	free(ctype);
	free(cte);
	free(disp);
	if (st != MIME_OK)
		ent_clear(e);
	return st;
}

/* The transfer-decoded body (owned, counted against the budget). An
 * unknown encoding gives the raw bytes. */
static enum mime_status
ent_decode(struct walk *w, const struct ent *e, unsigned char **out, size_t *outlen)
{
	enum mime_status st;
	unsigned char *d;

	*out = NULL;
	*outlen = 0;
	st = mime_spend(&w->budget, e->body_len + 3);
	if (st != MIME_OK)
		return st;
	d = malloc(e->body_len + 3);
	if (d == NULL)
		return MIME_NO_MEMORY;
	if (e->cte == CTE_BASE64)
		*outlen = mime_b64_decode(e->body, e->body_len, d);
	else if (e->cte == CTE_QP)
		*outlen = mime_qp_decode(e->body, e->body_len, d);
	else {
		memcpy(d, e->body, e->body_len);
		*outlen = e->body_len;
	}
	*out = d;
	return MIME_OK;
}

/* Appends a signature; takes content and cms, even on failure. */
static enum mime_status
add_sig(struct walk *w, enum mime_signed_kind kind, unsigned char *content, size_t clen,
    unsigned char *cms, size_t cms_len, int depth, int in_att, int entity, int *index)
{
	struct mime_msg *m = w->msg;
	struct mime_signed *ns;
	size_t ncap;

	if (m->n_sigs == w->cap_sigs) {
		ncap = w->cap_sigs == 0 ? 4 : w->cap_sigs * 2;
		ns = realloc(m->sigs, ncap * sizeof(*ns));
		if (ns == NULL) {
			free(content);
			free(cms);
			return MIME_NO_MEMORY;
		}
		m->sigs = ns;
		w->cap_sigs = ncap;
	}
	ns = &m->sigs[m->n_sigs];
	memset(ns, 0, sizeof(*ns));
	ns->kind = kind;
	ns->content = content;
	ns->content_len = clen;
	ns->cms = cms;
	ns->cms_len = cms_len;
	ns->depth = depth;
	ns->in_attachment = in_att;
	ns->entity = entity;
	*index = (int)m->n_sigs++;
	return MIME_OK;
}

static int
is_pkcs7_signature(const char *type_subtype_or_proto, const struct ent *e)
{
	if (e != NULL)
		return is_type(e, "application", "pkcs7-signature") ||
		    is_type(e, "application", "x-pkcs7-signature");
	return mime_strcaseeq(type_subtype_or_proto, "application/pkcs7-signature") ||
	    mime_strcaseeq(type_subtype_or_proto, "application/x-pkcs7-signature");
}

/* multipart/signed (RFC 1847, RFC 8551 3.5.3). A usable S/MIME signature
 * has exactly two parts, the second application/(x-)pkcs7-signature. The
 * second part is never walked: no text lives there. */
static enum mime_status
walk_signed(struct walk *w, const struct ent *e, const struct mime_span *parts, size_t n,
    int depth, int signed_by, int in_att, int entity)
{
	enum mime_status st = MIME_OK;
	struct ent sig;
	unsigned char *content = NULL, *cms = NULL;
	size_t clen = 0, cms_len = 0, i;
	const char *proto = param(e, "protocol");
	int usable = 0, index = signed_by;

	memset(&sig, 0, sizeof(sig));
	if (proto != NULL && is_pkcs7_signature(proto, NULL) && n == 2) {
		st = ent_parse(e->body + parts[1].off, parts[1].len, 0, 0, &sig);
		if (st != MIME_OK)
			return st;
		usable = is_pkcs7_signature(NULL, &sig);
	}
	if (usable && !w->add_mode) {
		st = mime_canonical(e->body + parts[0].off, parts[0].len, &w->budget, &content,
		    &clen);
		if (st == MIME_OK)
			st = ent_decode(w, &sig, &cms, &cms_len);
		if (st == MIME_OK) {
			st = add_sig(w, MIME_SIGNED_DETACHED, content, clen, cms, cms_len, depth,
			    in_att, entity, &index);
			content = cms = NULL;
		}
	} else if (!usable && !w->add_mode) {
		w->msg->n_unsupported++;
	}
	for (i = 0; i < n && st == MIME_OK; i++) {
		if (i != 1)
			st = walk_entity(w, e->body + parts[i].off, parts[i].len, depth + 1,
			    i == 0 ? index : signed_by, in_att, 0, 0);
		else if (w->parts < MIME_MAX_PARTS)
			w->parts++;     /* the signature: an entity, numbered in order */
		else
			st = MIME_TOO_MANY_PARTS;
	}
	free(content);
	free(cms);
	ent_clear(&sig);
	return st;
}

static enum mime_status
walk_multipart(struct walk *w, const struct ent *e, int depth, int signed_by, int in_att,
    int entity)
{
	enum mime_status st;
	const struct mime_param *b = mime_ctype_param(&e->ct, "boundary");
	struct mime_span *parts = NULL;
	size_t n = 0, i;

	if (b == NULL || b->conflict || !mime_boundary_ok(b->value) || e->cte != CTE_IDENTITY)
		return MIME_MALFORMED;
	st = mime_split(&w->ix, e->body, e->body_len, b->value, &parts, &n);
	if (st != MIME_OK)
		return st;
	if (w->parts + n > MIME_MAX_PARTS)
		st = MIME_TOO_MANY_PARTS;
	else if (strcmp(e->ct.subtype, "signed") == 0)
		st = walk_signed(w, e, parts, n, depth, signed_by, in_att, entity);
	for (i = 0; i < n && st == MIME_OK && strcmp(e->ct.subtype, "signed") != 0; i++)
		st = walk_entity(w, e->body + parts[i].off, parts[i].len, depth + 1, signed_by,
		    in_att, strcmp(e->ct.subtype, "digest") == 0, 0);
	free(parts);
	return st;
}

/* The CMS contentType of a DER ContentInfo: 1 for envelopedData
 * (1.2.840.113549.1.7.3) or authEnvelopedData (1.2.840.113549.1.9.16.1.23). */
static int
cms_is_enveloped(const unsigned char *d, size_t n)
{
	static const unsigned char env[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03 };
	static const unsigned char auth[] = { 0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17 };
	size_t i = 2;

	if (n < 2 || d[0] != 0x30)
		return 0;
	if (d[1] & 0x80)
		i += d[1] & 0x7f;
	if (i >= n)
		return 0;
	return (n - i >= sizeof(env) && memcmp(d + i, env, sizeof(env)) == 0) ||
	    (n - i >= sizeof(auth) && memcmp(d + i, auth, sizeof(auth)) == 0);
}

/* application/(x-)pkcs7-mime (RFC 8551 3.2.2): signed-data, or no
 * smime-type and not enveloped, is an opaque signature; anything else
 * (enveloped, compressed, certs-only) is not a usable signature. */
static enum mime_status
walk_opaque(struct walk *w, const struct ent *e, int depth, int in_att, int entity)
{
	enum mime_status st;
	const char *smime = param(e, "smime-type");
	unsigned char *cms = NULL;
	size_t cms_len = 0;
	int index;

	if (w->add_mode)
		return MIME_OK;
	st = ent_decode(w, e, &cms, &cms_len);
	if (st != MIME_OK)
		return st;
	if ((smime != NULL && mime_strcaseeq(smime, "signed-data")) ||
	    (smime == NULL && !cms_is_enveloped(cms, cms_len)))
		return add_sig(w, MIME_SIGNED_OPAQUE, NULL, 0, cms, cms_len, depth, in_att,
		    entity, &index);
	w->msg->n_unsupported++;
	free(cms);
	return MIME_OK;
}

/* message/rfc822 and message/global: an attachment, walked for the
 * signatures it holds (in_attachment). A forwarded message that does not
 * parse is an opaque attachment: nothing in it is shown or signs this
 * mail, so it does not make this mail malformed. Limits still apply. */
static enum mime_status
walk_message(struct walk *w, const struct ent *e, int depth, int signed_by)
{
	enum mime_status st;
	unsigned char *d = NULL;
	size_t n = 0;

	if (e->cte == CTE_UNKNOWN)
		return MIME_OK;
	if (e->cte == CTE_IDENTITY) {
		st = walk_entity(w, e->body, e->body_len, depth + 1, signed_by, 1, 0, 0);
	} else {
		struct mime_index outer = w->ix;

		memset(&w->ix, 0, sizeof(w->ix));
		w->ix.visits = outer.visits;
		st = ent_decode(w, e, &d, &n);
		if (st == MIME_OK)
			st = mime_index_build(&w->ix, d, n, &w->budget);
		if (st == MIME_OK)
			st = walk_entity(w, d, n, depth + 1, signed_by, 1, 0, 0);
		outer.visits = w->ix.visits;
		mime_index_clear(&w->ix);
		w->ix = outer;
		free(d);
	}
	return st == MIME_MALFORMED ? MIME_OK : st;
}

static enum mime_status
add_text(struct walk *w, const struct ent *e, int is_html, int signed_by)
{
	enum mime_status st;
	struct mime_msg *m = w->msg;
	struct mime_text *nt;
	struct mime_buf b;
	unsigned char *d = NULL;
	size_t n = 0, ncap, budget;
	char *utf8 = NULL;

	mime_buf_init(&b, 0);
	st = ent_decode(w, e, &d, &n);
	if (st != MIME_OK)
		goto out;
	/* UTF-8 from a legacy charset: at most 3 bytes per input byte (U+FFFD),
	 * a little more where iconv decomposes. */
	budget = w->budget < 6 * n + 64 ? w->budget : 6 * n + 64;
	mime_buf_init(&b, budget);
	st = mime_charset_to_utf8(param(e, "charset"), d, n, &b);
	if (st == MIME_OK)
		st = mime_spend(&w->budget, b.len + 1);
	if (st == MIME_OK)
		st = mime_buf_take(&b, &utf8, &n);
	if (st != MIME_OK)
		goto out;
	if (m->n_texts == w->cap_texts) {
		ncap = w->cap_texts == 0 ? 4 : w->cap_texts * 2;
		nt = realloc(m->texts, ncap * sizeof(*nt));
		if (nt == NULL) {
			st = MIME_NO_MEMORY;
			goto out;
		}
		m->texts = nt;
		w->cap_texts = ncap;
	}
	nt = &m->texts[m->n_texts++];
	nt->utf8 = utf8;
	nt->len = n;
	nt->is_html = is_html;
	nt->signed_by = signed_by;
	utf8 = NULL;
	st = mime_links_scan(&w->links, nt->utf8, nt->len, is_html, signed_by);
out:
	free(utf8);
	free(d);
	mime_buf_free(&b);
	return st;
}

static enum mime_status
walk_entity(struct walk *w, const unsigned char *p, size_t len, int depth, int signed_by,
    int in_att, int digest, int top)
{
	enum mime_status st;
	struct ent e;
	int entity;

	if (depth > MIME_MAX_DEPTH)
		return MIME_TOO_DEEP;
	if (w->parts >= MIME_MAX_PARTS)
		return MIME_TOO_MANY_PARTS;
	entity = (int)w->parts++;
	st = ent_parse(p, len, top && !w->add_mode, digest, &e);
	if (st != MIME_OK)
		return st;
	/* The root is no attachment, whatever it says: RFC 8551 3.2.1 even
	 * advises "attachment; filename=smime.p7m" for opaque signed mail. */
	in_att = in_att || (e.attachment && !top);
	if (top && !w->add_mode)
		st = mime_top_fields(w->msg, &e.h);
	if (st != MIME_OK)
		goto out;
	if (is_type(&e, "multipart", NULL))
		st = walk_multipart(w, &e, depth, signed_by, in_att, entity);
	else if (is_type(&e, "message", "rfc822") || is_type(&e, "message", "global"))
		st = walk_message(w, &e, depth, signed_by);
	else if (is_type(&e, "application", "pkcs7-mime") ||
	    is_type(&e, "application", "x-pkcs7-mime"))
		st = walk_opaque(w, &e, depth, in_att, entity);
	else if ((is_type(&e, "text", "plain") || is_type(&e, "text", "html")) && !in_att &&
	    e.cte != CTE_UNKNOWN)
		st = add_text(w, &e, strcmp(e.ct.subtype, "html") == 0, signed_by);
out:
	ent_clear(&e);
	return st;
}

/* 1 when the message has line feeds and not one CRLF. */
static int
lf_only(const unsigned char *p, size_t len)
{
	const unsigned char *nl = memchr(p, '\n', len);
	int lf = 0;

	for (; nl != NULL; nl = memchr(nl + 1, '\n', len - (size_t)(nl - p) - 1)) {
		if (nl > p && nl[-1] == '\r')
			return 0;
		lf = 1;
	}
	return lf;
}

static size_t
budget_for(size_t len)
{
	return 8 * len + 1024 * 1024;
}

enum mime_status
mime_parse(const unsigned char *raw, size_t len, struct mime_msg **out)
{
	enum mime_status st;
	struct mime_msg *m = NULL;
	struct walk w;

	*out = NULL;
	memset(&w, 0, sizeof(w));
	if (raw == NULL || len == 0)
		return MIME_MALFORMED;
	if (len > MIME_MAX_BYTES)
		return MIME_TOO_LARGE;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return MIME_NO_MEMORY;
	w.msg = m;
	w.budget = budget_for(len);
	w.ix.visits = MIME_VISITS;
	st = mime_linkset_init(&w.links, m);
	if (st == MIME_OK)
		st = mime_index_build(&w.ix, raw, len, &w.budget);
	if (st != MIME_OK)
		goto out;
	m->lf_only = lf_only(raw, len);
	st = walk_entity(&w, raw, len, 0, -1, 0, 0, 1);
	m->n_parts = w.parts;
out:
	mime_linkset_clear(&w.links);
	mime_index_clear(&w.ix);
	if (st != MIME_OK) {
		mime_free(m);
		return st;
	}
	*out = m;
	return MIME_OK;
}

enum mime_status
mime_add_signed_entity(struct mime_msg *msg, int sig, const unsigned char *entity, size_t len)
{
	enum mime_status st;
	struct walk w;
	size_t n_texts, n_links, i;

	memset(&w, 0, sizeof(w));
	if (msg == NULL || sig < 0 || (size_t)sig >= msg->n_sigs || (entity == NULL && len > 0))
		return MIME_MALFORMED;
	if (len > MIME_MAX_BYTES)
		return MIME_TOO_LARGE;
	/* What an attachment holds is not what the reader sees. */
	if (msg->sigs[sig].in_attachment)
		return MIME_OK;
	n_texts = msg->n_texts;
	n_links = msg->n_links;
	w.msg = msg;
	w.add_mode = 1;
	w.budget = budget_for(len);
	w.ix.visits = MIME_VISITS;
	w.cap_texts = msg->n_texts;
	st = mime_linkset_init(&w.links, msg);
	if (st == MIME_OK)
		st = mime_index_build(&w.ix, len > 0 ? entity : (const unsigned char *)"", len,
		    &w.budget);
	if (st == MIME_OK)
		st = walk_entity(&w, len > 0 ? entity : (const unsigned char *)"", len,
		    msg->sigs[sig].depth + 1, sig, 0, 0, 1);
	mime_linkset_clear(&w.links);
	mime_index_clear(&w.ix);
	if (st != MIME_OK) {
		/* Leave the message as it was. */
		for (i = n_texts; i < msg->n_texts; i++)
			free(msg->texts[i].utf8);
		for (i = n_links; i < msg->n_links; i++)
			free(msg->links[i].url);
		msg->n_texts = n_texts;
		msg->n_links = n_links;
	}
	return st;
}

static void
addrs_free(struct mime_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].display);
		free(a[i].addr_spec);
	}
	free(a);
}

void
mime_free(struct mime_msg *msg)
{
	size_t i;

	if (msg == NULL)
		return;
	addrs_free(msg->from, msg->n_from);
	addrs_free(msg->sender, msg->n_sender);
	free(msg->subject);
	free(msg->message_id);
	for (i = 0; i < msg->n_sigs; i++) {
		free(msg->sigs[i].content);
		free(msg->sigs[i].cms);
	}
	free(msg->sigs);
	for (i = 0; i < msg->n_texts; i++)
		free(msg->texts[i].utf8);
	free(msg->texts);
	for (i = 0; i < msg->n_links; i++)
		free(msg->links[i].url);
	free(msg->links);
	free(msg);
}
