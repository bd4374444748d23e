/*
 * mime_text: the byte-level helpers of the MIME parser. Bounded buffers,
 * base64 and quoted-printable (RFC 2045 6.7, 6.8), charsets to UTF-8
 * through glibc iconv, and the links a reader can click in a displayed
 * text (http and https only: those are what the link guard checks).
 *
 * Refuses: growing a buffer past its maximum (MIME_TOO_LARGE). Decoders
 * never fail: like mail clients they skip what they cannot read, and what
 * is not UTF-8 after conversion becomes U+FFFD, so every string handed
 * out is valid UTF-8 without NUL. Charset names are passed to iconv only
 * when made of the characters charset names use.
 *
 * Limits: MIME_MAX_LINKS links per message (later ones are ignored),
 * MIME_MAX_URL bytes per link (longer ones are dropped); the decoders'
 * output is never longer than their input.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_internal.h"

void
mime_buf_init(struct mime_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static enum mime_status
buf_reserve(struct mime_buf *b, size_t n)
{
	size_t want, ncap;
	unsigned char *np;

	if (n > b->max || b->len > b->max - n)
		return MIME_TOO_LARGE;
	want = b->len + n + 1;  /* room for the terminating NUL */
	if (want <= b->cap)
		return MIME_OK;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	np = realloc(b->p, ncap);
	if (np == NULL)
		return MIME_NO_MEMORY;
	b->p = np;
	b->cap = ncap;
	return MIME_OK;
}

enum mime_status
mime_buf_put(struct mime_buf *b, const void *d, size_t n)
{
	enum mime_status st;

	if (n == 0)
		return MIME_OK;
	st = buf_reserve(b, n);
	if (st != MIME_OK)
		return st;
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return MIME_OK;
}

enum mime_status
mime_buf_putc(struct mime_buf *b, unsigned char c)
{
	return mime_buf_put(b, &c, 1);
}

enum mime_status
mime_buf_take(struct mime_buf *b, char **out, size_t *len)
{
	enum mime_status st;

	*out = NULL;
	st = buf_reserve(b, 0);
	if (st != MIME_OK)
		return st;
	b->p[b->len] = '\0';
	*out = (char *)b->p;
	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return MIME_OK;
}

void
mime_buf_free(struct mime_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static const unsigned char replacement[3] = { 0xef, 0xbf, 0xbd };  /* U+FFFD */

/* Length of the valid UTF-8 sequence at s (RFC 3629 table), 0 if none. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		    (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

int
mime_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(s + i, n - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

enum mime_status
mime_buf_put_utf8(struct mime_buf *b, const unsigned char *s, size_t n)
{
	enum mime_status st = MIME_OK;
	size_t i = 0, run = 0, k;

	if (n == 0)
		return MIME_OK;
	while (i < n && st == MIME_OK) {
		k = utf8_seq(s + i, n - i);
		if (k > 0) {
			i += k;
			continue;
		}
		st = mime_buf_put(b, s + run, i - run);
		if (st == MIME_OK)
			st = mime_buf_put(b, replacement, sizeof(replacement));
		i++;
		run = i;
	}
	if (st == MIME_OK)
		st = mime_buf_put(b, s + run, n - run);
	return st;
}

static const signed char b64_value[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* "=" ends a quantum; decoding goes on after it, so that concatenated
 * base64 runs decode as the clients decode them. */
size_t
mime_b64_decode(const unsigned char *in, size_t len, unsigned char *out)
{
	uint32_t acc = 0;
	unsigned have = 0;
	size_t i, o = 0;
	int v;

	for (i = 0; i < len; i++) {
		v = b64_value[in[i]];
		if (v < 0) {
			if (in[i] == '=') {
				if (have == 2)
					out[o++] = (unsigned char)(acc >> 4);
				else if (have == 3) {
					out[o++] = (unsigned char)(acc >> 10);
					out[o++] = (unsigned char)(acc >> 2);
				}
				have = 0;
				acc = 0;
			}
			continue;
		}
		acc = (acc << 6) | (uint32_t)v;
		have++;
		if (have == 4) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			have = 0;
			acc = 0;
		}
	}
	if (have == 2)
		out[o++] = (unsigned char)(acc >> 4);
	else if (have == 3) {
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
	}
	return o;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t
mime_qp_decode(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t i = 0, o = 0, j;

	while (i < len) {
		if (in[i] != '=') {
			out[o++] = in[i++];
			continue;
		}
		if (i + 2 < len && hexval(in[i + 1]) >= 0 &&
		    hexval(in[i + 2]) >= 0) {
			out[o++] = (unsigned char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
			i += 3;
			continue;
		}
		/* A soft line break: "=", optional blanks, line break or end. */
		j = i + 1;
		while (j < len && (in[j] == ' ' || in[j] == '\t'))
			j++;
		if (j == len) {
			i = len;
		} else if (in[j] == '\n') {
			i = j + 1;
		} else if (in[j] == '\r' && j + 1 < len && in[j + 1] == '\n') {
			i = j + 2;
		} else {
			out[o++] = '=';
			i++;
		}
	}
	return o;
}

/* Labels mail uses that iconv either lacks or reads more narrowly than the
 * clients do (the WHATWG Encoding Standard reads Latin-1 as windows-1252).
 * NULL: read as UTF-8. */
static const struct {
	const char *label;
	const char *iconv;
} charset_aliases[] = {
	{ "utf-8", NULL }, { "utf8", NULL }, { "us-ascii", NULL }, { "ascii", NULL },
	{ "ansi_x3.4-1968", NULL }, { "unknown-8bit", NULL }, { "x-unknown", NULL },
	{ "iso-8859-1", "WINDOWS-1252" }, { "iso8859-1", "WINDOWS-1252" },
	{ "iso_8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
	{ "ks_c_5601-1987", "CP949" }, { "gb2312", "GBK" },
};

static int
charset_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == ':' || c == '+' || c == '(' || c == ')'))
			return 0;
	}
	return i > 0 && i <= 40;
}

enum mime_status
mime_charset_to_utf8(const char *charset, const unsigned char *in, size_t len,
    struct mime_buf *b)
{
	enum mime_status st = MIME_OK;
	const char *name = charset;
	iconv_t cd = (iconv_t)-1;
	char chunk[4096];
	char *ip = (char *)(uintptr_t)in, *op;
	size_t il = len, ol, i, r;
	int err, flushed = 0;

	if (len == 0)
		return MIME_OK;
	for (i = 0; name != NULL && i < sizeof(charset_aliases) / sizeof(charset_aliases[0]); i++) {
		if (mime_strcaseeq(name, charset_aliases[i].label)) {
			name = charset_aliases[i].iconv;
			break;
		}
	}
	if (name != NULL && charset_name_ok(name))
		cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1)
		return mime_buf_put_utf8(b, in, len);
	while (st == MIME_OK && !flushed) {
		op = chunk;
		ol = sizeof(chunk);
		if (il > 0) {
			r = iconv(cd, &ip, &il, &op, &ol);
		} else {
			r = iconv(cd, NULL, NULL, &op, &ol);    /* the shift state */
			flushed = 1;
		}
		err = errno;
		st = mime_buf_put_utf8(b, (unsigned char *)chunk, sizeof(chunk) - ol);
		if (st != MIME_OK || flushed || r != (size_t)-1 || err == E2BIG)
			continue;
		st = mime_buf_put(b, replacement, sizeof(replacement));
		if (err != EILSEQ)
			break;          /* EINVAL: a sequence cut by the end */
		ip++;
		il--;
	}
	iconv_close(cd);
	return st;
}

/* Links. */

static uint32_t
link_hash(const char *url, size_t n, int signed_by)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)url[i]) * 16777619u;
	return (h ^ (uint32_t)(signed_by + 1)) * 16777619u;
}

enum mime_status
mime_linkset_init(struct mime_linkset *ls, struct mime_msg *msg)
{
	size_t i, s;

	ls->msg = msg;
	ls->n_slots = 4096;     /* a power of two over 2 * MIME_MAX_LINKS */
	ls->cap = msg->n_links;
	ls->slots = calloc(ls->n_slots, sizeof(*ls->slots));
	if (ls->slots == NULL)
		return MIME_NO_MEMORY;
	for (i = 0; i < msg->n_links; i++) {
		s = link_hash(msg->links[i].url, strlen(msg->links[i].url),
		    msg->links[i].signed_by) & (ls->n_slots - 1);
		while (ls->slots[s] != 0)
			s = (s + 1) & (ls->n_slots - 1);
		ls->slots[s] = (unsigned)i + 1;
	}
	return MIME_OK;
}

void
mime_linkset_clear(struct mime_linkset *ls)
{
	free(ls->slots);
	ls->slots = NULL;
}

static enum mime_status
link_add(struct mime_linkset *ls, const char *url, size_t n, int signed_by)
{
	struct mime_msg *m = ls->msg;
	struct mime_link *nl;
	size_t s, ncap;
	char *copy;

	if (n == 0 || n > MIME_MAX_URL || m->n_links >= MIME_MAX_LINKS)
		return MIME_OK;
	s = link_hash(url, n, signed_by) & (ls->n_slots - 1);
	while (ls->slots[s] != 0) {
		const struct mime_link *l = &m->links[ls->slots[s] - 1];
		if (l->signed_by == signed_by && strlen(l->url) == n && memcmp(l->url, url, n) == 0)
			return MIME_OK;
		s = (s + 1) & (ls->n_slots - 1);
	}
	if (m->n_links == ls->cap) {
		ncap = ls->cap < 16 ? 16 : ls->cap * 2;
		if (ncap > MIME_MAX_LINKS)
			ncap = MIME_MAX_LINKS;
		nl = realloc(m->links, ncap * sizeof(*nl));
		if (nl == NULL)
			return MIME_NO_MEMORY;
		m->links = nl;
		ls->cap = ncap;
	}
	copy = malloc(n + 1);
	if (copy == NULL)
		return MIME_NO_MEMORY;
	memcpy(copy, url, n);
	copy[n] = '\0';
	m->links[m->n_links].url = copy;
	m->links[m->n_links].signed_by = signed_by;
	m->n_links++;
	ls->slots[s] = (unsigned)m->n_links;
	return MIME_OK;
}

/* Where a URL in running text ends: blanks, controls, the delimiters
 * RFC 3986 appendix C names, and U+00A0 / C1 controls in UTF-8. */
static int
url_stop(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"')
		return 1;
	return c == 0xc2 && n >= 2 && s[1] >= 0x80 && s[1] <= 0xa0;
}

static int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Bare http:// and https:// URLs, as clients turn them into links. */
static enum mime_status
scan_plain(struct mime_linkset *ls, const char *t, size_t len, int signed_by)
{
	const unsigned char *u = (const unsigned char *)t;
	enum mime_status st = MIME_OK;
	size_t i = 0, k, start, end, j, open, close;
	const char *colon;

	while (i < len && st == MIME_OK && ls->msg->n_links < MIME_MAX_LINKS) {
		colon = memchr(t + i, ':', len - i);
		if (colon == NULL)
			break;
		k = (size_t)(colon - t);
		i = k + 1;
		if (k + 3 >= len || t[k + 1] != '/' || t[k + 2] != '/')
			continue;
		if (k >= 5 && mime_memcaseeq(t + k - 5, "https", 5))
			start = k - 5;
		else if (k >= 4 && mime_memcaseeq(t + k - 4, "http", 4))
			start = k - 4;
		else
			continue;
		if (start > 0 && is_alnum(u[start - 1]))
			continue;
		end = k + 3;
		while (end < len && !url_stop(u + end, len - end))
			end++;
		i = end;
		/* Trailing sentence punctuation is not part of the URL; a
		 * closing parenthesis only when unbalanced. */
		for (;;) {
			if (end > k + 3 && memchr(".,;:!?", t[end - 1], 6) != NULL) {
				end--;
				continue;
			}
			if (end > k + 3 && t[end - 1] == ')') {
				for (open = close = 0, j = start; j < end; j++) {
					open += t[j] == '(';
					close += t[j] == ')';
				}
				if (close > open) {
					end--;
					continue;
				}
			}
			break;
		}
		if (end > k + 3)
			st = link_add(ls, t + start, end - start, signed_by);
	}
	return st;
}

static enum mime_status
put_codepoint(struct mime_buf *b, unsigned long cp)
{
	unsigned char u[4];

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return mime_buf_put(b, replacement, sizeof(replacement));
	if (cp < 0x80)
		return mime_buf_putc(b, (unsigned char)cp);
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return mime_buf_put(b, u, 2);
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return mime_buf_put(b, u, 3);
	}
	u[0] = (unsigned char)(0xf0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return mime_buf_put(b, u, 4);
}

/* Decodes the character reference at s (s[0] == '&') into b and returns
 * the bytes it used; a lone '&' is copied. Numeric references and the
 * named ones that matter in URLs. */
static size_t
entity_decode(const char *s, size_t n, struct mime_buf *b, enum mime_status *st)
{
	static const struct {
		const char *name;
		const char *text;
	} named[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" },
		{ "apos;", "'" }, { "nbsp;", "\xc2\xa0" },
	};
	unsigned long cp = 0;
	size_t i, j = 1, digits = 0;
	int hex = 0, d;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t l = strlen(named[i].name);
		if (n - 1 >= l && mime_memcaseeq(s + 1, named[i].name, l)) {
			*st = mime_buf_put(b, named[i].text, strlen(named[i].text));
			return l + 1;
		}
	}
	if (n < 3 || s[1] != '#') {
		*st = mime_buf_putc(b, '&');
		return 1;
	}
	j = 2;
	if (s[j] == 'x' || s[j] == 'X') {
		hex = 1;
		j++;
	}
	while (j < n && digits < 8) {
		d = hex ? hexval((unsigned char)s[j]) : (s[j] >= '0' && s[j] <= '9' ? s[j] - '0' : -1);
		if (d < 0)
			break;
		cp = cp * (hex ? 16u : 10u) + (unsigned long)d;
		digits++;
		j++;
	}
	if (digits == 0) {
		*st = mime_buf_putc(b, '&');
		return 1;
	}
	if (j < n && s[j] == ';')
		j++;
	*st = put_codepoint(b, cp);
	return j;
}

/* An href value: references decoded, tab and line breaks removed and
 * outer blanks trimmed (what a browser does), kept when http(s). */
static enum mime_status
href_add(struct mime_linkset *ls, const char *v, size_t n, int signed_by)
{
	enum mime_status st = MIME_OK;
	struct mime_buf b;
	size_t i = 0, s, e;

	mime_buf_init(&b, n + 16);
	while (i < n && st == MIME_OK) {
		if (v[i] == '&')
			i += entity_decode(v + i, n - i, &b, &st);
		else if (v[i] == '\t' || v[i] == '\r' || v[i] == '\n')
			i++;
		else
			st = mime_buf_putc(&b, (unsigned char)v[i++]);
	}
	if (st != MIME_OK || b.len == 0)
		goto out;
	for (s = 0; s < b.len && b.p[s] <= 0x20; s++)
		;
	for (e = b.len; e > s && b.p[e - 1] <= 0x20; e--)
		;
	if ((e - s >= 5 && mime_memcaseeq(b.p + s, "http:", 5)) ||
	    (e - s >= 6 && mime_memcaseeq(b.p + s, "https:", 6)))
		st = link_add(ls, (const char *)b.p + s, e - s, signed_by);
out:
	mime_buf_free(&b);
	return st;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f';
}

/* The index of the next "</name" (case-insensitive) at or after i. */
static size_t
skip_raw_text(const char *t, size_t len, size_t i, const char *name, size_t nl)
{
	const char *lt;

	while (i < len) {
		lt = memchr(t + i, '<', len - i);
		if (lt == NULL)
			return len;
		i = (size_t)(lt - t) + 1;
		if (i + 1 + nl <= len && t[i] == '/' && mime_memcaseeq(t + i + 1, name, nl))
			return i - 1;   /* the closing tag is parsed as a tag */
	}
	return len;
}

/* Parses the tag at t[i] == '<'; records a/area hrefs. Returns the index
 * after it, or i + 1 when '<' does not open a tag (it is text then). */
static size_t
html_tag(struct mime_linkset *ls, const char *t, size_t len, size_t i, int signed_by,
    enum mime_status *st)
{
	size_t j = i + 1, name, nlen, an, alen, vs, vlen;
	int is_a, closing = 0;
	char q;

	if (j + 2 < len && t[j] == '!' && t[j + 1] == '-' && t[j + 2] == '-') {
		const char *end = NULL;
		for (j += 3; j + 2 < len && end == NULL; j++)
			if (t[j] == '-' && t[j + 1] == '-' && t[j + 2] == '>')
				end = t + j;
		return end != NULL ? (size_t)(end - t) + 3 : len;
	}
	if (j < len && t[j] == '/') {
		closing = 1;
		j++;
	}
	name = j;
	while (j < len && is_alnum((unsigned char)t[j]))
		j++;
	nlen = j - name;
	if (nlen == 0 || !((t[name] | 0x20) >= 'a' && (t[name] | 0x20) <= 'z')) {
		/* "</ ...>", "<!DOCTYPE>", "<?xml?>" are markup; "< 3" is text. */
		if (closing || (j < len && (t[j] == '!' || t[j] == '?'))) {
			const char *gt = memchr(t + j, '>', len - j);
			return gt != NULL ? (size_t)(gt - t) + 1 : len;
		}
		return i + 1;
	}
	is_a = !closing && ((nlen == 1 && (t[name] | 0x20) == 'a') ||
	    (nlen == 4 && mime_memcaseeq(t + name, "area", 4)));
	while (j < len && t[j] != '>' && *st == MIME_OK) {
		if (is_blank(t[j]) || t[j] == '/') {
			j++;
			continue;
		}
		an = j++;
		while (j < len && !is_blank(t[j]) && t[j] != '/' && t[j] != '>' && t[j] != '=')
			j++;
		alen = j - an;
		while (j < len && is_blank(t[j]))
			j++;
		if (j >= len || t[j] != '=')
			continue;
		j++;
		while (j < len && is_blank(t[j]))
			j++;
		if (j < len && (t[j] == '"' || t[j] == '\'')) {
			q = t[j++];
			vs = j;
			while (j < len && t[j] != q)
				j++;
			vlen = j - vs;
			if (j < len)
				j++;
		} else {
			vs = j;
			while (j < len && !is_blank(t[j]) && t[j] != '>')
				j++;
			vlen = j - vs;
		}
		if (is_a && alen == 4 && mime_memcaseeq(t + an, "href", 4))
			*st = href_add(ls, t + vs, vlen, signed_by);
	}
	if (j < len)
		j++;
	if (!closing && nlen == 6 && mime_memcaseeq(t + name, "script", 6))
		j = skip_raw_text(t, len, j, "script", 6);
	else if (!closing && nlen == 5 && mime_memcaseeq(t + name, "style", 5))
		j = skip_raw_text(t, len, j, "style", 5);
	return j;
}

/* HTML: hrefs of <a> and <area>, and bare URLs in the text between tags
 * (references decoded, comments, scripts and styles skipped). */
static enum mime_status
scan_html(struct mime_linkset *ls, const char *t, size_t len, int signed_by)
{
	enum mime_status st = MIME_OK;
	struct mime_buf text;
	size_t i = 0, next;

	mime_buf_init(&text, len + 16);
	while (i < len && st == MIME_OK) {
		if (t[i] == '<') {
			next = html_tag(ls, t, len, i, signed_by, &st);
			if (next == i + 1)
				st = mime_buf_putc(&text, '<');
			else if (st == MIME_OK)
				st = mime_buf_putc(&text, ' ');
			i = next;
		} else if (t[i] == '&') {
			i += entity_decode(t + i, len - i, &text, &st);
		} else {
			st = mime_buf_putc(&text, (unsigned char)t[i++]);
		}
	}
	if (st == MIME_OK && text.len > 0)
		st = scan_plain(ls, (const char *)text.p, text.len, signed_by);
	mime_buf_free(&text);
	return st;
}

enum mime_status
mime_links_scan(struct mime_linkset *ls, const char *text, size_t len, int is_html,
    int signed_by)
{
	if (ls->msg->n_links >= MIME_MAX_LINKS)
		return MIME_OK;
	return is_html ? scan_html(ls, text, len, signed_by) : scan_plain(ls, text, len, signed_by);
}

int
mime_ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
mime_memcaseeq(const void *a, const char *b, size_t n)
{
	const unsigned char *x = a;
	size_t i;

	for (i = 0; i < n; i++)
		if (mime_ascii_lower(x[i]) != mime_ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int
mime_strcaseeq(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && mime_memcaseeq(a, b, n);
}
