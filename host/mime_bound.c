/*
 * mime_bound: the byte-exact half of the MIME parser. Multipart bodies
 * are split at their boundaries (RFC 2046 5.1.1) and the first part of a
 * multipart/signed becomes the signed bytes, canonicalised to CRLF and
 * nothing else (RFC 8551 3.1.1).
 *
 * A delimiter is a line "--" boundary, then transport padding (blanks);
 * the close delimiter adds "--"; the line break before a delimiter belongs
 * to it. Refused (MIME_MALFORMED), because readers differ on them: a line
 * that starts with "--" boundary and goes on with anything else (OpenSSL's
 * SMIME_read takes it for a delimiter, Thunderbird does not), a bare CR
 * before "--" boundary (a line break to some), a multipart that never
 * reaches its close delimiter.
 *
 * Hostile input is linear here: the candidates for a delimiter ("--" that
 * starts a line or follows a CR) are found in one pass per buffer, not
 * once per level of nesting, and the splits may visit each only a few
 * times (MIME_TOO_DEEP past that); runs of line breaks or dashes switch
 * the scans from memchr to plain loops.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_internal.h"

enum mime_status
mime_spend(size_t *budget, size_t n)
{
	if (n > *budget)
		return MIME_TOO_LARGE;
	*budget -= n;
	return MIME_OK;
}

void
mime_index_clear(struct mime_index *ix)
{
	free(ix->cand);
	ix->cand = NULL;
	ix->n_cand = 0;
}

/* RFC 2046 5.1.1 bchars, at most 70, not ending with a blank. */
int
mime_boundary_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (n == 0 || n > 70 || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    strchr("'()+_,-./:=? ", c) != NULL) || c == '\0')
			return 0;
	}
	return 1;
}

/* 1: delimiter line, 2: close delimiter, 0: another line, -1: a line
 * that starts like a delimiter and is none (refused). line excludes LF. */
static int
delimiter(const unsigned char *line, size_t n, const char *b, size_t bl)
{
	size_t i;
	int close = 0;

	if (n < bl + 2 || line[0] != '-' || line[1] != '-' || memcmp(line + 2, b, bl) != 0)
		return 0;
	if (line[n - 1] == '\r')
		n--;
	i = bl + 2;
	if (i + 1 < n && line[i] == '-' && line[i + 1] == '-') {
		close = 1;
		i += 2;
	}
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i != n)
		return -1;
	return close ? 2 : 1;
}

/* memchr, except that once hits come every few bytes (a run of "-\n" or
 * empty lines) a plain loop takes over: a call per byte costs ten times
 * the loop, and hostile input is made of such runs. */
static const unsigned char *
scan_for(const unsigned char *p, size_t n, unsigned char c, unsigned *hops)
{
	const unsigned char *hit;
	size_t i;

	if (*hops >= 64) {
		for (i = 0; i < n && p[i] != c; i++)
			;
		return i < n ? p + i : NULL;
	}
	hit = memchr(p, c, n);
	if (hit != NULL)
		*hops = hit - p < 16 ? *hops + 1 : 0;
	return hit;
}

/* The next "--" at pos or later that starts a line or follows a CR; len
 * when none. */
static size_t
next_dashes(const unsigned char *p, size_t len, size_t pos, unsigned *hops)
{
	const unsigned char *hit, *nl, *cr;
	size_t i;

	while (pos + 1 < len) {
		hit = scan_for(p + pos, len - pos, '-', hops);
		if (hit == NULL)
			return len;
		i = (size_t)(hit - p);
		if (i == 0 || p[i - 1] == '\n' || p[i - 1] == '\r') {
			if (i + 1 < len && p[i + 1] == '-')
				return i;
			pos = i + 1;
			continue;
		}
		/* Mid-line: the next candidate follows a line break. */
		nl = scan_for(p + i, len - i, '\n', hops);
		cr = scan_for(p + i, (nl != NULL ? (size_t)(nl - p) : len) - i, '\r', hops);
		if (cr == NULL && nl == NULL)
			return len;
		pos = (size_t)((cr != NULL ? cr : nl) - p) + 1;
	}
	return len;
}

/* Indexes the candidates of a buffer (at most MIME_MAX_BYTES, so offsets
 * fit 32 bits) and grants the splits 4 more visits per candidate (the
 * caller starts from MIME_VISITS): legitimate mail has few "--" lines,
 * hostile mail with millions of them nested 64 deep would otherwise cost
 * seconds. Past the grant: MIME_TOO_DEEP. */
enum mime_status
mime_index_build(struct mime_index *ix, const unsigned char *p, size_t len, size_t *budget)
{
	enum mime_status st = MIME_OK;
	uint32_t *nc;
	size_t pos = 0, h, cap = 0;
	unsigned hops = 0;

	ix->base = p;
	ix->cand = NULL;
	ix->n_cand = 0;
	while (pos < len && st == MIME_OK) {
		h = next_dashes(p, len, pos, &hops);
		if (h == len)
			break;
		if (ix->n_cand == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			st = mime_spend(budget, cap / 2 * sizeof(*nc));
			nc = st == MIME_OK ? realloc(ix->cand, cap * sizeof(*nc)) : NULL;
			if (nc == NULL) {
				st = st == MIME_OK ? MIME_NO_MEMORY : st;
				break;
			}
			ix->cand = nc;
		}
		ix->cand[ix->n_cand++] = (uint32_t)h;
		pos = h + 2;
	}
	ix->visits += 4 * ix->n_cand;
	return st;
}

/* Splits a multipart body into its body parts (without the line break
 * that belongs to the next delimiter). Preamble and epilogue ignored. */
enum mime_status
mime_split(struct mime_index *ix, const unsigned char *p, size_t len, const char *b,
    struct mime_span **out, size_t *n_out)
{
	enum mime_status st = MIME_MALFORMED;
	struct mime_span *parts = NULL, *np;
	size_t bl = strlen(b), off = (size_t)(p - ix->base), lo = 0, hi = ix->n_cand, mid;
	size_t h, end, start = 0, n = 0, cap = 0, pe;
	const unsigned char *nl;
	int in_part = 0, kind;

	*out = NULL;
	*n_out = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ix->cand[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n_cand && ix->cand[lo] < off + len; lo++) {
		if (ix->visits == 0) {
			st = MIME_TOO_DEEP;
			goto out;
		}
		ix->visits--;
		h = ix->cand[lo] - off;
		if (h < start || len - h < bl + 2 || p[h + 2] != (unsigned char)b[0] ||
		    memcmp(p + h + 2, b, bl) != 0)
			continue;
		/* A bare CR before "--boundary" ends a line for some. */
		if (h > 0 && p[h - 1] == '\r')
			goto out;
		nl = memchr(p + h, '\n', len - h);
		end = nl != NULL ? (size_t)(nl - p) : len;
		kind = delimiter(p + h, end - h, b, bl);
		if (kind <= 0)
			goto out;
		if (in_part) {
			pe = h;
			if (pe > start) {
				pe--;                   /* the LF */
				if (pe > start && p[pe - 1] == '\r')
					pe--;
			}
			if (n == MIME_MAX_PARTS) {
				st = MIME_TOO_MANY_PARTS;
				goto out;
			}
			if (n == cap) {
				cap = cap == 0 ? 8 : cap * 2;
				np = realloc(parts, cap * sizeof(*np));
				if (np == NULL) {
					st = MIME_NO_MEMORY;
					goto out;
				}
				parts = np;
			}
			parts[n].off = start;
			parts[n].len = pe - start;
			n++;
		}
		if (kind == 2) {
			*out = parts;
			*n_out = n;
			parts = NULL;
			st = MIME_OK;
			goto out;
		}
		in_part = 1;
		start = nl != NULL ? end + 1 : len;
	}
out:
	free(parts);
	return st;
}

/* 1 when one of the 8 bytes at p is a CR or an LF (the "has a zero
 * byte" test of Hacker's Delight 6-1, on p XOR "\r..." and p XOR "\n..."). */
static int
crlf_in8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t x, a, b;

	memcpy(&x, p, sizeof(x));
	a = x ^ (ones * '\n');
	b = x ^ (ones * '\r');
	return ((((a - ones) & ~a) | ((b - ones) & ~b)) & highs) != 0;
}

/* Bytes mime_canonical() adds: one per bare LF and per bare CR. Eight bytes at
 * a time between line breaks; once over a quarter of the bytes went one
 * by one (hostile runs of line breaks), branch-free counting instead. */
static size_t
bare_breaks(const unsigned char *p, size_t n)
{
	size_t i = 0, j, extra = 0, slow = 0, lf = 0, cr = 0, crlf = 0;

	while (i < n && slow <= i / 4 + 4096) {
		if (n - i >= 8 && !crlf_in8(p + i)) {
			i += 8;
			continue;
		}
		if (p[i] == '\n')
			extra += i == 0 || p[i - 1] != '\r';
		else if (p[i] == '\r')
			extra += i + 1 == n || p[i + 1] != '\n';
		slow++;
		i++;
	}
	if (i == n)
		return extra;
	for (j = i; j < n; j++) {
		lf += p[j] == '\n';
		cr += p[j] == '\r';
	}
	for (j = i + 1; j < n; j++)
		crlf += (p[j] == '\n') & (p[j - 1] == '\r');
	if (i > 0 && p[i - 1] == '\r' && p[i] == '\n')
		lf--;           /* its CR was counted (as not bare) above */
	return extra + lf + cr - 2 * crlf;
}

/* The signed bytes: every bare LF and bare CR becomes CRLF. */
enum mime_status
mime_canonical(const unsigned char *p, size_t n, size_t *budget, unsigned char **out,
    size_t *outlen)
{
	enum mime_status st;
	size_t extra, i = 0, o = 0, slow = 0;
	unsigned char *c;

	*out = NULL;
	extra = bare_breaks(p, n);
	st = mime_spend(budget, n + extra + 1);
	if (st != MIME_OK)
		return st;
	c = malloc(n + extra + 1);
	if (c == NULL)
		return MIME_NO_MEMORY;
	if (extra == 0) {
		memcpy(c, p, n);
		o = n;
		i = n;
	}
	while (i < n) {
		if (slow <= i / 4 + 4096 && n - i >= 8 && !crlf_in8(p + i)) {
			memcpy(c + o, p + i, 8);
			o += 8;
			i += 8;
			continue;
		}
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			c[o++] = '\r';
		c[o++] = p[i];
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			c[o++] = '\n';
		slow++;
		i++;
	}
	*out = c;
	*outlen = o;
	return MIME_OK;
}
