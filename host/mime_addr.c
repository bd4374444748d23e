/*
 * mime_addr: address lists (RFC 5322 3.4: mailboxes, display names,
 * angle-addr, groups, with the obsolete route and empty list elements of
 * 4.4) and encoded words (RFC 2047) decoded to UTF-8.
 *
 * The structure of an address is parsed on the raw header, encoded words
 * still encoded: a display name that decodes to "<bank@belfius.be>" or
 * contains '@' never changes the addr-spec. Display names lose control
 * and bidi-formatting characters (U+202A-202E, U+2066-2069 and friends):
 * they exist there only to make one name look like another.
 *
 * Refuses (the list is "malformed", what parsed before the fault is kept):
 * a mailbox without addr-spec, an unterminated quoted string, comment or
 * angle-addr, a nested group, a local part of words separated by blanks,
 * an empty or dotted-out domain, over MIME_MAX_ADDRS addresses.
 *
 * Also here: the message's own fields (From, Sender, Subject, Date,
 * Message-ID), read into struct mime_msg.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "mime_internal.h"

enum tok_kind { TK_WORD, TK_QSTR, TK_DLIT, TK_SPECIAL };

struct tok {
	enum tok_kind kind;
	const char *s;          /* raw text (quotes included for TK_QSTR) */
	size_t n;
	int space_before;       /* blanks or a comment before it */
};

/* Length of the RFC 2047 encoded word at s, 0 if none. */
static size_t
eword_len(const char *s, size_t n, size_t *cs_len, char *enc, size_t *text_off, size_t *text_len)
{
	size_t j = 2;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	while (j < n && s[j] != '?' && (unsigned char)s[j] > 32 && (unsigned char)s[j] < 127)
		j++;
	if (j == 2 || j - 2 >= 48 || j + 3 >= n || s[j] != '?' || s[j + 2] != '?')
		return 0;
	*cs_len = j - 2;
	*enc = (char)mime_ascii_lower((unsigned char)s[j + 1]);
	if (*enc != 'b' && *enc != 'q')
		return 0;
	j += 3;
	*text_off = j;
	while (j + 1 < n && !(s[j] == '?' && s[j + 1] == '=')) {
		if ((unsigned char)s[j] <= 32 || (unsigned char)s[j] >= 127 || s[j] == '?')
			return 0;
		j++;
	}
	if (j + 1 >= n)
		return 0;
	*text_len = j - *text_off;
	return j + 2;
}

struct pending {
	char charset[48];
	struct mime_buf raw;
	int active;
};

static enum mime_status
pending_flush(struct pending *p, struct mime_buf *out)
{
	enum mime_status st = MIME_OK;

	if (p->active)
		st = mime_charset_to_utf8(p->charset, p->raw.p, p->raw.len, out);
	p->raw.len = 0;
	p->active = 0;
	return st;
}

static int
all_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static int
hexd(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)mime_ascii_lower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static enum mime_status
eword_decode(const char *t, size_t n, char enc, struct mime_buf *raw)
{
	enum mime_status st = MIME_OK;
	unsigned char *tmp;
	size_t i, o;

	if (enc == 'b') {
		tmp = malloc(n + 3);
		if (tmp == NULL)
			return MIME_NO_MEMORY;
		o = mime_b64_decode((const unsigned char *)t, n, tmp);
		st = mime_buf_put(raw, tmp, o);
		free(tmp);
		return st;
	}
	for (i = 0; i < n && st == MIME_OK; i++) {
		if (t[i] == '_') {
			st = mime_buf_putc(raw, ' ');
		} else if (t[i] == '=' && i + 2 < n && hexd(t[i + 1]) >= 0 && hexd(t[i + 2]) >= 0) {
			st = mime_buf_putc(raw, (unsigned char)(hexd(t[i + 1]) * 16 + hexd(t[i + 2])));
			i += 2;
		} else {
			st = mime_buf_putc(raw, (unsigned char)t[i]);
		}
	}
	return st;
}

/* The code point of the valid UTF-8 sequence at s, its length in *len. */
static unsigned long
utf8_next(const unsigned char *s, size_t *len)
{
	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if (s[0] < 0xe0) {
		*len = 2;
		return ((unsigned long)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0) {
		*len = 3;
		return ((unsigned long)(s[0] & 0x0f) << 12) | ((unsigned long)(s[1] & 0x3f) << 6) |
		    (s[2] & 0x3f);
	}
	*len = 4;
	return ((unsigned long)(s[0] & 0x07) << 18) | ((unsigned long)(s[1] & 0x3f) << 12) |
	    ((unsigned long)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
}

/* Characters a display name never needs: C0 and C1 controls, the soft
 * hyphen, zero-width and directional marks, embeddings, overrides and
 * isolates (Unicode UAX #9), invisible operators, line and paragraph
 * separators, the BOM. */
static int
display_drop(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad || cp == 0x61c ||
	    cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

/* Cleans valid UTF-8 in place for display; returns the new length. */
static size_t
display_clean(unsigned char *s, size_t n)
{
	size_t i = 0, o = 0, k;
	unsigned long cp;

	while (i < n) {
		cp = utf8_next(s + i, &k);
		if (cp == '\t' || cp == '\r' || cp == '\n')
			cp = ' ';
		if (cp == ' ') {
			if (o > 0 && s[o - 1] != ' ')
				s[o++] = ' ';
		} else if (!display_drop(cp)) {
			memmove(s + o, s + i, k);
			o += k;
		}
		i += k;
	}
	while (o > 0 && s[o - 1] == ' ')
		o--;
	return o;
}

enum mime_status
mime_decode_words(const char *s, size_t len, int display, char **out)
{
	enum mime_status st = MIME_OK;
	struct pending pend;
	struct mime_buf b;
	size_t i = 0, run = 0, wl, cs_len, toff, tlen, k;
	char enc, cs[48];

	*out = NULL;
	mime_buf_init(&b, 6 * len + 64);
	mime_buf_init(&pend.raw, len + 3);
	pend.active = 0;
	while (i < len && st == MIME_OK) {
		wl = s[i] == '=' ? eword_len(s + i, len - i, &cs_len, &enc, &toff, &tlen) : 0;
		if (wl == 0) {
			i++;
			continue;
		}
		/* RFC 2047 6.2: blanks between two encoded words are dropped. */
		if (!(pend.active && all_blank(s + run, i - run))) {
			st = pending_flush(&pend, &b);
			if (st == MIME_OK)
				st = mime_buf_put_utf8(&b, (const unsigned char *)s + run, i - run);
		}
		memcpy(cs, s + i + 2, cs_len);
		cs[cs_len] = '\0';
		for (k = 0; k < cs_len && cs[k] != '*'; k++)
			;
		cs[k] = '\0';                   /* RFC 2231 5: charset*language */
		if (st == MIME_OK && pend.active && !mime_strcaseeq(pend.charset, cs))
			st = pending_flush(&pend, &b);
		memcpy(pend.charset, cs, k + 1);
		if (st == MIME_OK)
			st = eword_decode(s + i + toff, tlen, enc, &pend.raw);
		pend.active = 1;
		i += wl;
		run = i;
	}
	if (st == MIME_OK)
		st = pending_flush(&pend, &b);
	if (st == MIME_OK)
		st = mime_buf_put_utf8(&b, (const unsigned char *)s + run, len - run);
	if (st == MIME_OK && display)
		b.len = b.p != NULL ? display_clean(b.p, b.len) : 0;
	if (st == MIME_OK)
		st = mime_buf_take(&b, out, NULL);
	mime_buf_free(&b);
	mime_buf_free(&pend.raw);
	return st;
}

/* Address lists. */

#define MAX_TOKS 4096

struct lexer {
	struct tok *t;
	size_t n;
	size_t cap;
};

static int
is_special(char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"[]", c) != NULL;
}

static enum mime_status
lex_push(struct lexer *lx, enum tok_kind kind, const char *s, size_t n, int space)
{
	struct tok *nt;
	size_t ncap;

	if (lx->n == MAX_TOKS)
		return MIME_MALFORMED;
	if (lx->n == lx->cap) {
		ncap = lx->cap == 0 ? 32 : lx->cap * 2;
		nt = realloc(lx->t, ncap * sizeof(*nt));
		if (nt == NULL)
			return MIME_NO_MEMORY;
		lx->t = nt;
		lx->cap = ncap;
	}
	lx->t[lx->n].kind = kind;
	lx->t[lx->n].s = s;
	lx->t[lx->n].n = n;
	lx->t[lx->n].space_before = space;
	lx->n++;
	return MIME_OK;
}

/* Splits a header value into words, quoted strings, domain literals and
 * specials; comments and blanks only mark "space before". MIME_MALFORMED
 * for an unterminated quoted string, comment or domain literal. */
static enum mime_status
lex(const char *s, struct lexer *lx)
{
	enum mime_status st = MIME_OK;
	size_t n = strlen(s), i = 0, j, wl, a, b, c, d;
	int space = 0, depth;
	char e;

	while (i < n && st == MIME_OK) {
		if (s[i] == ' ' || s[i] == '\t') {
			space = 1;
			i++;
		} else if (s[i] == '(') {
			for (depth = 0, j = i; j < n; j++) {
				if (s[j] == '\\' && j + 1 < n)
					j++;
				else if (s[j] == '(')
					depth++;
				else if (s[j] == ')')
					depth--;
				if (depth == 0)
					break;
			}
			if (j >= n)
				return MIME_MALFORMED;
			i = j + 1;
			space = 1;
		} else if (s[i] == '"' || s[i] == '[') {
			e = s[i] == '"' ? '"' : ']';
			for (j = i + 1; j < n && s[j] != e; j++)
				if (s[j] == '\\' && j + 1 < n)
					j++;
			if (j >= n)
				return MIME_MALFORMED;
			st = lex_push(lx, e == '"' ? TK_QSTR : TK_DLIT, s + i, j + 1 - i, space);
			i = j + 1;
			space = 0;
		} else if (is_special(s[i])) {
			st = lex_push(lx, TK_SPECIAL, s + i, 1, space);
			i++;
			space = 0;
		} else {
			/* An encoded word is one word whatever it contains. */
			wl = eword_len(s + i, n - i, &a, &e, &b, &c);
			for (j = i + wl; j < n && s[j] != ' ' && s[j] != '\t' && !is_special(s[j]); j++) {
				d = s[j] == '=' ? eword_len(s + j, n - j, &a, &e, &b, &c) : 0;
				if (d > 0)
					j += d - 1;
			}
			st = lex_push(lx, TK_WORD, s + i, j - i, space);
			i = j;
			space = 0;
		}
	}
	return st;
}

static int
tok_is(const struct tok *t, char c)
{
	return t->kind == TK_SPECIAL && t->s[0] == c;
}

/* The display name: words joined by single blanks, quoted strings
 * unescaped, then RFC 2047 decoding and display clean-up. */
static enum mime_status
phrase(const struct tok *t, size_t n, char **out)
{
	enum mime_status st = MIME_OK;
	struct mime_buf b;
	size_t i, j;

	*out = NULL;
	if (n == 0)
		return MIME_OK;
	mime_buf_init(&b, MIME_MAX_HEADER);
	for (i = 0; i < n && st == MIME_OK; i++) {
		if (i > 0 && t[i].space_before)
			st = mime_buf_putc(&b, ' ');
		if (t[i].kind != TK_QSTR) {
			if (st == MIME_OK)
				st = mime_buf_put(&b, t[i].s, t[i].n);
			continue;
		}
		for (j = 1; j + 1 < t[i].n && st == MIME_OK; j++) {
			if (t[i].s[j] == '\\' && j + 2 < t[i].n)
				j++;
			st = mime_buf_putc(&b, (unsigned char)t[i].s[j]);
		}
	}
	if (st == MIME_OK && b.len > 0)
		st = mime_decode_words((const char *)b.p, b.len, 1, out);
	mime_buf_free(&b);
	if (st == MIME_OK && *out != NULL && (*out)[0] == '\0') {
		free(*out);
		*out = NULL;
	}
	return st;
}

/* addr-spec = local-part "@" domain from t[*i]; the domain lower-cased
 * (ASCII letters only: an IDN stays as written). */
static enum mime_status
addr_spec(const struct tok *t, size_t n, size_t *i, char **out)
{
	struct mime_buf b;
	enum mime_status st = MIME_MALFORMED;
	size_t k = *i, start = *i, j;
	const struct tok *d;

	*out = NULL;
	mime_buf_init(&b, MIME_MAX_HEADER);
	while (k < n && (t[k].kind == TK_WORD || t[k].kind == TK_QSTR)) {
		if (k > start && t[k].space_before)
			goto out;       /* "john doe@x" */
		if (mime_buf_put(&b, t[k].s, t[k].n) != MIME_OK)
			goto out;
		k++;
	}
	if (k == start || k + 1 >= n || !tok_is(&t[k], '@'))
		goto out;
	d = &t[k + 1];
	if (d->kind == TK_WORD) {
		if (d->s[0] == '.' || d->s[d->n - 1] == '.')
			goto out;
		for (j = 0; j + 1 < d->n; j++)
			if (d->s[j] == '.' && d->s[j + 1] == '.')
				goto out;
	} else if (d->kind != TK_DLIT) {
		goto out;
	}
	if (mime_buf_putc(&b, '@') != MIME_OK)
		goto out;
	for (j = 0; j < d->n; j++)
		if (mime_buf_putc(&b, (unsigned char)mime_ascii_lower((unsigned char)d->s[j])) != MIME_OK)
			goto out;
	/* RFC 6532 allows UTF-8 in an address, not arbitrary bytes: those
	 * could not be named in a verdict, nor compared safely. */
	if (!mime_utf8_valid(b.p, b.len))
		goto out;
	st = mime_buf_take(&b, out, NULL);
	if (st == MIME_OK)
		*i = k + 2;
out:
	mime_buf_free(&b);
	return st;
}

static enum mime_status
addr_push(struct mime_addr **list, size_t *n, char *display, char *spec)
{
	struct mime_addr *nl;

	nl = realloc(*list, (*n + 1) * sizeof(*nl));
	if (nl == NULL) {
		free(display);
		free(spec);
		return MIME_NO_MEMORY;
	}
	*list = nl;
	nl[*n].display = display;
	nl[*n].addr_spec = spec;
	(*n)++;
	return MIME_OK;
}

/* One mailbox at t[*i]: name-addr or addr-spec. MIME_MALFORMED when it is
 * neither. */
static enum mime_status
mailbox(const struct tok *t, size_t n, size_t *i, char **display, char **spec)
{
	enum mime_status st;
	size_t j = *i, k;

	*display = *spec = NULL;
	while (j < n && (t[j].kind == TK_WORD || t[j].kind == TK_QSTR))
		j++;
	if (j < n && tok_is(&t[j], '@'))
		return addr_spec(t, n, i, spec);
	if (j >= n || !tok_is(&t[j], '<'))
		return MIME_MALFORMED;
	k = j + 1;
	if (k < n && tok_is(&t[k], '@')) {
		/* RFC 5322 4.4 obs-route "@a,@b:" is skipped. */
		while (k < n && !tok_is(&t[k], ':') && !tok_is(&t[k], '>'))
			k++;
		if (k >= n || !tok_is(&t[k], ':'))
			return MIME_MALFORMED;
		k++;
	}
	st = addr_spec(t, n, &k, spec);
	if (st == MIME_OK && (k >= n || !tok_is(&t[k], '>')))
		st = MIME_MALFORMED;
	if (st == MIME_OK)
		st = phrase(t + *i, j - *i, display);
	if (st != MIME_OK) {
		free(*spec);
		*spec = NULL;
		return st;
	}
	*i = k + 1;
	return MIME_OK;
}

enum mime_status
mime_addr_list(const char *value, struct mime_addr **list, size_t *n, int *malformed)
{
	enum mime_status st;
	struct lexer lx = { NULL, 0, 0 };
	size_t i = 0, j;
	int in_group = 0;
	char *display, *spec;

	st = lex(value, &lx);
	while (st == MIME_OK && i < lx.n) {
		if (tok_is(&lx.t[i], ',')) {
			i++;            /* RFC 5322 4.4: empty list elements */
			continue;
		}
		if (tok_is(&lx.t[i], ';') && in_group) {
			in_group = 0;
			i++;
			continue;
		}
		for (j = i; j < lx.n && (lx.t[j].kind == TK_WORD || lx.t[j].kind == TK_QSTR); j++)
			;
		if (j < lx.n && tok_is(&lx.t[j], ':')) {
			if (in_group || j == i)
				st = MIME_MALFORMED;
			in_group = 1;
			i = j + 1;
			continue;
		}
		if (*n >= MIME_MAX_ADDRS) {
			st = MIME_MALFORMED;
			break;
		}
		st = mailbox(lx.t, lx.n, &i, &display, &spec);
		if (st == MIME_OK)
			st = addr_push(list, n, display, spec);
		if (st == MIME_OK && i < lx.n && !tok_is(&lx.t[i], ',') && !tok_is(&lx.t[i], ';'))
			st = MIME_MALFORMED;
	}
	if (st == MIME_MALFORMED) {
		*malformed = 1;
		st = MIME_OK;
	}
	free(lx.t);
	return st;
}

/* The message's own header: From, Sender, Subject, Date, Message-ID.
 * Two From fields, or one without an address, make From malformed; two
 * Date fields are two claims, so neither is kept; the first Subject and
 * Message-ID count. */
enum mime_status
mime_top_fields(struct mime_msg *m, const struct mime_headers *h)
{
	enum mime_status st = MIME_OK;
	size_t i;
	int n_from = 0, n_date = 0, seen_id = 0, ignored = 0;
	char *v = NULL;

	for (i = 0; i < h->n && st == MIME_OK; i++) {
		const struct mime_field *f = &h->f[i];
		int from = mime_field_is(f, "from"), sender = mime_field_is(f, "sender");

		if (!from && !sender && !mime_field_is(f, "subject") && !mime_field_is(f, "date") &&
		    !mime_field_is(f, "message-id"))
			continue;
		st = mime_field_unfold(f, &v);
		if (st != MIME_OK)
			break;
		if (from) {
			size_t before = m->n_from;

			n_from++;
			if (n_from > 1)
				m->from_malformed = 1;
			st = mime_addr_list(v, &m->from, &m->n_from, &m->from_malformed);
			if (m->n_from == before)
				m->from_malformed = 1;
		} else if (sender) {
			st = mime_addr_list(v, &m->sender, &m->n_sender, &ignored);
		} else if (mime_field_is(f, "subject")) {
			if (m->subject == NULL)
				st = mime_decode_words(v, strlen(v), 1, &m->subject);
		} else if (mime_field_is(f, "date")) {
			m->date = n_date == 0 ? mime_parse_date(v) : 0;
			n_date++;
		} else if (!seen_id) {
			seen_id = 1;
			st = mime_message_id(v, &m->message_id);
		}
		free(v);
		v = NULL;
	}
	return st;
}
