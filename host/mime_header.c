/*
 * mime_header: header blocks (RFC 5322 2.2), Content-Type and
 * Content-Disposition values with their parameters (RFC 2045 5.1, RFC 2231
 * continuations and percent-encoding), Message-ID, and dates (RFC 5322
 * 3.3 with the obsolete forms of 4.3).
 *
 * Refused as MIME_MALFORMED, because two readers could see two different
 * structures: a header line cut by the end of the entity, a line that is
 * neither a field nor a continuation, a continuation before the first
 * field, a continuation made only of blanks (some readers end the header
 * there), a bare CR or a NUL anywhere in the header block, a parameter
 * named twice. Limits: MIME_MAX_HEADER bytes per field, MIME_MAX_HEADERS
 * fields per entity (MIME_TOO_LARGE), MAX_PARAMS parameters per value.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "mime_internal.h"

#define MAX_PARAMS 100
#define MAX_SECTIONS 1000

enum mime_status
mime_headers_parse(const unsigned char *p, size_t len, int allow_mbox, struct mime_headers *h)
{
	const unsigned char *nl;
	struct mime_field *nf;
	size_t pos = 0, end, next, i, nend, ncap;

	h->n = 0;
	h->body = len;
	for (i = 4; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	/* An mbox "From " line, not "From : x" (RFC 5322 4.5.1 obs-optional). */
	if (allow_mbox && len >= 5 && memcmp(p, "From ", 5) == 0 && (i == len || p[i] != ':')) {
		nl = memchr(p, '\n', len);
		if (nl == NULL)
			return MIME_MALFORMED;
		pos = (size_t)(nl - p) + 1;
	}
	while (pos < len) {
		nl = memchr(p + pos, '\n', len - pos);
		if (nl == NULL)
			return MIME_MALFORMED;  /* a header line cut short */
		end = (size_t)(nl - p);
		next = end + 1;
		if (end > pos && p[end - 1] == '\r')
			end--;
		if (memchr(p + pos, '\r', end - pos) != NULL || memchr(p + pos, '\0', end - pos) != NULL)
			return MIME_MALFORMED;
		if (end == pos) {
			h->body = next;
			return MIME_OK;
		}
		if (p[pos] == ' ' || p[pos] == '\t') {
			for (i = pos; i < end && (p[i] == ' ' || p[i] == '\t'); i++)
				;
			if (h->n == 0 || i == end)
				return MIME_MALFORMED;
			nf = &h->f[h->n - 1];
			nf->value_len = (size_t)(p + end - nf->value);
			if ((size_t)(p + end - nf->name) > MIME_MAX_HEADER)
				return MIME_TOO_LARGE;
		} else {
			for (i = pos; i < end && p[i] > 32 && p[i] < 127 && p[i] != ':'; i++)
				;
			nend = i;
			while (i < end && (p[i] == ' ' || p[i] == '\t'))
				i++;
			if (nend == pos || i == end || p[i] != ':')
				return MIME_MALFORMED;
			if (h->n == MIME_MAX_HEADERS || end - pos > MIME_MAX_HEADER)
				return MIME_TOO_LARGE;
			if (h->n == h->cap) {
				ncap = h->cap == 0 ? 16 : h->cap * 2;
				nf = realloc(h->f, ncap * sizeof(*nf));
				if (nf == NULL)
					return MIME_NO_MEMORY;
				h->f = nf;
				h->cap = ncap;
			}
			nf = &h->f[h->n++];
			nf->name = p + pos;
			nf->name_len = nend - pos;
			for (i++; i < end && (p[i] == ' ' || p[i] == '\t'); i++)
				;
			nf->value = p + i;
			nf->value_len = end - i;
		}
		pos = next;
	}
	/* The block ended with the entity after a complete line: no body. */
	h->body = len;
	return MIME_OK;
}

void
mime_headers_clear(struct mime_headers *h)
{
	free(h->f);
	h->f = NULL;
	h->n = h->cap = 0;
}

int
mime_field_is(const struct mime_field *f, const char *name)
{
	return f->name_len == strlen(name) && mime_memcaseeq(f->name, name, f->name_len);
}

int
mime_headers_single(const struct mime_headers *h, const char *name)
{
	int found = -1;
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (!mime_field_is(&h->f[i], name))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

enum mime_status
mime_field_unfold(const struct mime_field *f, char **out)
{
	size_t i, o = 0;
	char *s;

	*out = NULL;
	s = malloc(f->value_len + 1);
	if (s == NULL)
		return MIME_NO_MEMORY;
	/* A CR or LF inside a value is always part of a fold (bare CRs were
	 * refused): dropping it and keeping the blank is RFC 5322 unfolding. */
	for (i = 0; i < f->value_len; i++)
		if (f->value[i] != '\r' && f->value[i] != '\n')
			s[o++] = (char)f->value[i];
	while (o > 0 && (s[o - 1] == ' ' || s[o - 1] == '\t'))
		o--;
	s[o] = '\0';
	*out = s;
	return MIME_OK;
}

/* Skips blanks and (nested) comments. */
static const char *
skip_cfws(const char *s)
{
	int depth;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s != '(')
			return s;
		for (depth = 0; *s != '\0'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
			if (depth == 0) {
				s++;
				break;
			}
		}
	}
}

/* RFC 2045 token characters. */
static int
is_token(unsigned char c)
{
	return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static int
read_token(const char **sp, char *out, size_t outlen)
{
	const char *s = *sp;
	size_t n = 0;

	while (is_token((unsigned char)s[n]))
		n++;
	if (n == 0 || n >= outlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)mime_ascii_lower((unsigned char)s[i]);
	out[n] = '\0';
	*sp = s + n;
	return 0;
}

struct raw_param {
	char *name;             /* lower case, with any "*N" / "*" */
	char *value;
	int section;            /* -1: none */
	int ext;                /* ends with '*': percent-encoded */
	size_t base_len;        /* length of the name before '*' */
	int used;
};

static void
raw_params_free(struct raw_param *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].value);
	}
}

/* value: a quoted-string (escapes removed) or an unquoted run up to ';'
 * or a blank (lenient: real boundaries carry '=' and '/' unquoted). */
static enum mime_status
read_value(const char **sp, char **out)
{
	const char *s = *sp;
	struct mime_buf b;
	enum mime_status st = MIME_OK;

	mime_buf_init(&b, MIME_MAX_HEADER);
	if (*s == '"') {
		for (s++; *s != '\0' && *s != '"' && st == MIME_OK; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			st = mime_buf_putc(&b, (unsigned char)*s);
		}
		if (*s == '"')
			s++;
	} else {
		for (; (unsigned char)*s > 32 && *s != ';' && *s != '"' && st == MIME_OK; s++)
			st = mime_buf_putc(&b, (unsigned char)*s);
	}
	if (st == MIME_OK)
		st = mime_buf_take(&b, out, NULL);
	mime_buf_free(&b);
	*sp = s;
	return st;
}

static int
hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)mime_ascii_lower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes an RFC 2231 value; first: drop the charset'language'
 * prefix. NUL refused. */
static enum mime_status
pct_decode(const char *v, int first, struct mime_buf *b)
{
	const char *q;
	enum mime_status st = MIME_OK;
	int hi, lo;

	if (first) {
		q = strchr(v, '\'');
		if (q != NULL && strchr(q + 1, '\'') != NULL)
			v = strchr(q + 1, '\'') + 1;
	}
	for (; *v != '\0' && st == MIME_OK; v++) {
		hi = *v == '%' ? hexdigit(v[1]) : -1;
		lo = hi >= 0 ? hexdigit(v[2]) : -1;
		if (lo >= 0) {
			if (hi == 0 && lo == 0)
				return MIME_MALFORMED;
			st = mime_buf_putc(b, (unsigned char)(hi * 16 + lo));
			v += 2;
		} else {
			st = mime_buf_putc(b, (unsigned char)*v);
		}
	}
	return st;
}

static struct raw_param *
find_raw(struct raw_param *r, size_t n, const char *base, size_t bl, int section, int ext)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].base_len == bl && memcmp(r[i].name, base, bl) == 0 &&
		    r[i].section == section && (ext < 0 || r[i].ext == ext))
			return &r[i];
	return NULL;
}

/* RFC 2231 section 3 and 4: name*=charset'lang'%xx, name*0, name*1*, ...
 * The extended form wins over a plain one (the RFC's advice); when both
 * are present and differ, the parameter says so (conflict). */
static enum mime_status
assemble(struct raw_param *r, size_t n, struct mime_ctype *ct)
{
	enum mime_status st = MIME_OK;
	struct mime_param *out;
	struct raw_param *plain, *ext0, *sec;
	struct mime_buf b;
	size_t i, j;
	int k, extended;

	out = calloc(n > 0 ? n : 1, sizeof(*out));
	if (out == NULL)
		return MIME_NO_MEMORY;
	ct->params = out;
	for (i = 0; i < n && st == MIME_OK; i++) {
		if (r[i].used)
			continue;
		mime_buf_init(&b, MIME_MAX_HEADER);
		plain = find_raw(r, n, r[i].name, r[i].base_len, -1, 0);
		ext0 = find_raw(r, n, r[i].name, r[i].base_len, -1, 1);
		extended = ext0 != NULL || find_raw(r, n, r[i].name, r[i].base_len, 0, -1) != NULL;
		if (ext0 != NULL) {
			st = pct_decode(ext0->value, 1, &b);
		} else if (extended) {
			for (k = 0; st == MIME_OK && k < MAX_SECTIONS; k++) {
				sec = find_raw(r, n, r[i].name, r[i].base_len, k, -1);
				if (sec == NULL)
					break;
				st = sec->ext ? pct_decode(sec->value, k == 0, &b) :
				    mime_buf_put(&b, sec->value, strlen(sec->value));
			}
		} else if (plain != NULL) {
			st = mime_buf_put(&b, plain->value, strlen(plain->value));
		}
		for (j = i; j < n; j++)
			if (r[j].base_len == r[i].base_len && memcmp(r[j].name, r[i].name, r[i].base_len) == 0)
				r[j].used = 1;
		if (st == MIME_OK && b.len > 0 && memchr(b.p, '\0', b.len) != NULL)
			st = MIME_MALFORMED;
		if (st == MIME_OK)
			st = mime_buf_take(&b, &out[ct->n_params].value, NULL);
		mime_buf_free(&b);
		if (st != MIME_OK)
			break;
		out[ct->n_params].name = strndup(r[i].name, r[i].base_len);
		if (out[ct->n_params].name == NULL) {
			free(out[ct->n_params].value);
			st = MIME_NO_MEMORY;
			break;
		}
		out[ct->n_params].conflict = plain != NULL && extended &&
		    strcmp(plain->value, out[ct->n_params].value) != 0;
		ct->n_params++;
	}
	return st;
}

/* Splits a raw parameter name into base, section and the ext flag. */
static void
raw_name_split(struct raw_param *p)
{
	char *star = strchr(p->name, '*');
	char *d;
	long sec = 0;

	p->section = -1;
	p->ext = 0;
	p->base_len = strlen(p->name);
	if (star == NULL)
		return;
	if (star[1] == '\0') {
		p->base_len = (size_t)(star - p->name);
		p->ext = 1;
		return;
	}
	for (d = star + 1; *d >= '0' && *d <= '9' && sec < MAX_SECTIONS; d++)
		sec = sec * 10 + (*d - '0');
	if (d == star + 1 || sec >= MAX_SECTIONS || (d[0] != '\0' && !(d[0] == '*' && d[1] == '\0')))
		return;         /* not RFC 2231: kept as a plain name */
	if (d - star > 2 && star[1] == '0')
		return;         /* "*01": leading zeros are not sections */
	p->base_len = (size_t)(star - p->name);
	p->section = (int)sec;
	p->ext = d[0] == '*';
}

enum mime_status
mime_ctype_parse(const char *value, int want_subtype, struct mime_ctype *ct)
{
	struct raw_param raw[MAX_PARAMS];
	enum mime_status st = MIME_OK;
	const char *s = value;
	char name[128];
	size_t n = 0, i;

	memset(ct, 0, sizeof(*ct));
	if (value == NULL)
		return MIME_OK;
	s = skip_cfws(s);
	if (read_token(&s, ct->type, sizeof(ct->type)) != 0)
		goto bad_type;
	if (!want_subtype)
		goto out;       /* a disposition: only its type matters here */
	s = skip_cfws(s);
	if (*s != '/')
		goto bad_type;
	s = skip_cfws(s + 1);
	if (read_token(&s, ct->subtype, sizeof(ct->subtype)) != 0)
		goto bad_type;
	for (;;) {
		s = skip_cfws(s);
		if (*s != ';')
			break;          /* the end, or junk a reader ignores */
		s = skip_cfws(s + 1);
		if (*s == ';' || *s == '\0')
			continue;
		if (read_token(&s, name, sizeof(name)) != 0) {
			while (*s != '\0' && *s != ';')
				s++;
			continue;
		}
		s = skip_cfws(s);
		if (*s != '=')
			continue;
		s = skip_cfws(s + 1);
		if (n == MAX_PARAMS) {
			st = MIME_MALFORMED;
			goto out;
		}
		raw[n].name = strdup(name);
		raw[n].used = 0;
		if (raw[n].name == NULL) {
			st = MIME_NO_MEMORY;
			goto out;
		}
		st = read_value(&s, &raw[n].value);
		if (st != MIME_OK) {
			free(raw[n].name);
			goto out;
		}
		raw_name_split(&raw[n]);
		for (i = 0; i < n; i++) {
			if (strcmp(raw[i].name, raw[n].name) == 0) {
				n++;
				st = MIME_MALFORMED;
				goto out;
			}
		}
		n++;
	}
	st = assemble(raw, n, ct);
	goto out;
bad_type:
	/* RFC 2045 5.2: an invalid Content-Type reads as the default. */
	ct->type[0] = ct->subtype[0] = '\0';
out:
	raw_params_free(raw, n);
	if (st != MIME_OK)
		mime_ctype_clear(ct);
	return st;
}

const struct mime_param *
mime_ctype_param(const struct mime_ctype *ct, const char *name)
{
	for (size_t i = 0; i < ct->n_params; i++)
		if (strcmp(ct->params[i].name, name) == 0)
			return &ct->params[i];
	return NULL;
}

void
mime_ctype_clear(struct mime_ctype *ct)
{
	for (size_t i = 0; i < ct->n_params; i++) {
		free(ct->params[i].name);
		free(ct->params[i].value);
	}
	free(ct->params);
	ct->params = NULL;
	ct->n_params = 0;
}

enum mime_status
mime_message_id(const char *value, char **out)
{
	const char *s = skip_cfws(value), *e;
	size_t i, n;

	*out = NULL;
	if (*s == '<') {
		s++;
		e = strchr(s, '>');
		if (e == NULL)
			return MIME_OK;
	} else {
		for (e = s; (unsigned char)*e > 32 && *e != '('; e++)
			;
	}
	n = (size_t)(e - s);
	if (n == 0)
		return MIME_OK;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 32 || (unsigned char)s[i] >= 127 || s[i] == '<')
			return MIME_OK;
	*out = strndup(s, n);
	return *out != NULL ? MIME_OK : MIME_NO_MEMORY;
}

/* Dates. */

static const char *const months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
};
static const char *const days[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
static const char *const month_names[12] = {
	"january", "february", "march", "april", "may", "june", "july", "august",
	"september", "october", "november", "december"
};
static const char *const day_names[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};

/* RFC 5322 4.3 obs-zone, in minutes east of UTC. Military letters are
 * "-0000" (the RFC: their meaning was published with the wrong sign),
 * as is any other alphabetic zone. */
static const struct {
	const char *name;
	int minutes;
} zones[] = {
	{ "ut", 0 }, { "gmt", 0 }, { "utc", 0 }, { "z", 0 },
	{ "edt", -4 * 60 }, { "est", -5 * 60 }, { "cdt", -5 * 60 }, { "cst", -6 * 60 },
	{ "mdt", -6 * 60 }, { "mst", -7 * 60 }, { "pdt", -7 * 60 }, { "pst", -8 * 60 },
};

static size_t
read_alpha(const char **sp, char *out, size_t outlen)
{
	const char *s = *sp;
	size_t n = 0;

	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) {
		if (n + 1 < outlen)
			out[n] = (char)mime_ascii_lower((unsigned char)*s);
		n++;
		s++;
	}
	if (n >= outlen)
		return 0;
	out[n] = '\0';
	*sp = s;
	return n;
}

static int
read_num(const char **sp, int min_digits, int max_digits, int *out)
{
	const char *s = *sp;
	int n = 0, v = 0;

	while (*s >= '0' && *s <= '9') {
		n++;
		if (n > max_digits)
			return -1;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (n < min_digits)
		return -1;
	*out = v;
	*sp = s;
	return n;
}

static int
name_index(const char *w, size_t n, const char *const *abbr, const char *const *full, int count)
{
	for (int i = 0; i < count; i++)
		if ((n == 3 && strcmp(w, abbr[i]) == 0) || strcmp(w, full[i]) == 0)
			return i;
	return -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long
days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153LL * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

time_t
mime_parse_date(const char *s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int day, mon, year, hour, min, sec = 0, off = 0, ydigits, hh, mm, leap;
	char w[16];
	size_t n, i;
	long long t;

	if (s == NULL)
		return 0;
	s = skip_cfws(s);
	n = read_alpha(&s, w, sizeof(w));
	if (n > 0) {
		if (name_index(w, n, days, day_names, 7) < 0)
			return 0;
		s = skip_cfws(s);
		if (*s == ',')
			s = skip_cfws(s + 1);
	}
	if (read_num(&s, 1, 2, &day) < 0)
		return 0;
	s = skip_cfws(s);
	n = read_alpha(&s, w, sizeof(w));
	mon = n > 0 ? name_index(w, n, months, month_names, 12) : -1;
	if (mon < 0)
		return 0;
	s = skip_cfws(s);
	ydigits = read_num(&s, 2, 4, &year);
	if (ydigits < 0)
		return 0;
	/* RFC 5322 4.3: two digits below 50 are 20xx, others 19xx; three
	 * digits add 1900. */
	if (ydigits == 2)
		year += year < 50 ? 2000 : 1900;
	else if (ydigits == 3)
		year += 1900;
	s = skip_cfws(s);
	if (read_num(&s, 1, 2, &hour) < 0)
		return 0;
	s = skip_cfws(s);
	if (*s != ':')
		return 0;
	s = skip_cfws(s + 1);
	if (read_num(&s, 1, 2, &min) < 0)
		return 0;
	s = skip_cfws(s);
	if (*s == ':') {
		s = skip_cfws(s + 1);
		if (read_num(&s, 1, 2, &sec) < 0)
			return 0;
		s = skip_cfws(s);
	}
	if (*s == '+' || *s == '-') {
		if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' || s[3] < '0' ||
		    s[3] > '9' || s[4] < '0' || s[4] > '9' || (s[5] >= '0' && s[5] <= '9'))
			return 0;
		hh = (s[1] - '0') * 10 + (s[2] - '0');
		mm = (s[3] - '0') * 10 + (s[4] - '0');
		if (hh > 23 || mm > 59)
			return 0;
		off = (hh * 60 + mm) * (*s == '-' ? -1 : 1);
	} else {
		n = read_alpha(&s, w, sizeof(w));
		for (i = 0; n > 0 && i < sizeof(zones) / sizeof(zones[0]); i++)
			if (strcmp(w, zones[i].name) == 0)
				off = zones[i].minutes;
		/* anything else, or no zone: "-0000", an unknown offset */
	}
	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (year < 1970 || year > 9999 || day < 1 || day > mdays[mon] ||
	    (mon == 1 && day == 29 && !leap) || hour > 23 || min > 59 || sec > 60)
		return 0;
	t = days_from_civil(year, mon + 1, day) * 86400LL + hour * 3600LL + min * 60LL + sec -
	    off * 60LL;
	if (t <= 0 || (long long)(time_t)t != t)
		return 0;
	return (time_t)t;
}
