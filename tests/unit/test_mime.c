/* mime: signed bytes extracted exactly (CRLF and LF-only), structure and
 * signatures, texts and links with their coverage, addresses and their
 * tricks, dates, Message-ID, every limit and the malformed inputs. Small
 * literal messages; each row is checked field by field. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mime.h"

#define CRLF "\r\n"

/* A multipart/signed around PART1 (the exact signed bytes). */
#define SIGNED_HEAD "From: Alice <alice@example.be>" CRLF \
	"Subject: signed" CRLF \
	"MIME-Version: 1.0" CRLF \
	"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";" CRLF \
	"\tmicalg=sha-256; boundary=\"sig-b\"" CRLF CRLF \
	"This is an S/MIME signed message" CRLF CRLF
#define SIG_TAIL CRLF "--sig-b" CRLF \
	"Content-Type: application/pkcs7-signature; name=smime.p7s" CRLF \
	"Content-Transfer-Encoding: base64" CRLF \
	"Content-Disposition: attachment; filename=smime.p7s" CRLF CRLF \
	"aGVs" CRLF "bG8=" CRLF \
	"--sig-b--" CRLF "epilogue" CRLF
#define PART1 "Content-Type: text/plain; charset=utf-8" CRLF CRLF "Hello Bob." CRLF
#define PART1_PAD "Content-Type: text/plain" CRLF CRLF "padded" CRLF
#define PART1_INSIDE "Content-Type: text/plain" CRLF CRLF \
	"the boundary is --sig-b, inside a line" CRLF \
	" --sig-b" CRLF "x--sig-b" CRLF "-- " CRLF "--sig-" CRLF "-" CRLF
#define PART1_QP "Content-Type: text/plain; charset=iso-8859-1" CRLF \
	"Content-Transfer-Encoding: quoted-printable" CRLF CRLF \
	"Caf=E9 cr=E8me, soft=" CRLF " break =3D done" CRLF
#define PART1_B64 "Content-Type: text/plain; charset=UTF-8" CRLF \
	"Content-Transfer-Encoding: base64" CRLF CRLF \
	"R3LDvMOfZSBhdXMgQnLDvHNzZWwNCmh0dHBzOi8vZXhhbXBsZS5iZS/DvD9hPTEmYj0yDQo=" CRLF

/* A plain multipart/signed wrapper, for nesting. */
#define INNER_SIGNED "Content-Type: multipart/signed; protocol=\"application/x-pkcs7-signature\"; boundary=in" CRLF CRLF \
	"--in" CRLF "Content-Type: text/plain" CRLF CRLF "inner" CRLF \
	"--in" CRLF "Content-Type: application/x-pkcs7-signature" CRLF CRLF "raw-cms" CRLF "--in--" CRLF

#define ENVELOPED_B64 "MIAGCSqGSIb3DQEHA6CA"
#define SIGNEDDATA_B64 "MIAGCSqGSIb3DQEHAqCA"

struct sig_exp {
	enum mime_signed_kind kind;
	int depth;
	int in_att;
	int entity;
	const char *content;    /* exact canonical bytes (DETACHED) */
	const char *cms;        /* decoded CMS bytes */
	size_t cms_len;
};

struct text_exp {
	int signed_by;
	int is_html;
	const char *utf8;
};

static const struct struct_case {
	const char *name;
	const char *raw;
	enum mime_status st;
	int lf_too;             /* also run with every CRLF made LF */
	int n_unsupported;
	size_t n_sigs;
	struct sig_exp sigs[3];
	size_t n_texts;
	struct text_exp texts[4];
} struct_cases[] = {
	{ "detached", SIGNED_HEAD "--sig-b" CRLF PART1 SIG_TAIL, MIME_OK, 1, 0,
	  1, { { MIME_SIGNED_DETACHED, 0, 0, 0, PART1, "hello", 5 } },
	  1, { { 0, 0, "Hello Bob." CRLF } } },
	{ "transport padding", SIGNED_HEAD "--sig-b \t" CRLF PART1_PAD CRLF "--sig-b\t" CRLF
	  "Content-Type: application/pkcs7-signature" CRLF "Content-Transfer-Encoding: BASE64" CRLF CRLF
	  "aGVsbG8=" CRLF "--sig-b--  " CRLF,
	  MIME_OK, 1, 0, 1, { { MIME_SIGNED_DETACHED, 0, 0, 0, PART1_PAD, "hello", 5 } },
	  1, { { 0, 0, "padded" CRLF } } },
	{ "boundary inside content", SIGNED_HEAD "--sig-b" CRLF PART1_INSIDE SIG_TAIL, MIME_OK, 1, 0,
	  1, { { MIME_SIGNED_DETACHED, 0, 0, 0, PART1_INSIDE, "hello", 5 } },
	  1, { { 0, 0, "the boundary is --sig-b, inside a line" CRLF " --sig-b" CRLF "x--sig-b"
	  CRLF "-- " CRLF "--sig-" CRLF "-" CRLF } } },
	{ "quoted-printable latin-1", SIGNED_HEAD "--sig-b" CRLF PART1_QP SIG_TAIL, MIME_OK, 1, 0,
	  1, { { MIME_SIGNED_DETACHED, 0, 0, 0, PART1_QP, "hello", 5 } },
	  1, { { 0, 0, "Caf\xc3\xa9 cr\xc3\xa8me, soft break = done" CRLF } } },
	{ "base64 utf-8", SIGNED_HEAD "--sig-b" CRLF PART1_B64 SIG_TAIL, MIME_OK, 0, 0,
	  1, { { MIME_SIGNED_DETACHED, 0, 0, 0, PART1_B64, "hello", 5 } },
	  1, { { 0, 0, "Gr\xc3\xbc\xc3\x9f" "e aus Br\xc3\xbcssel\r\nhttps://example.be/\xc3\xbc?a=1&b=2\r\n" } } },
	{ "bare LF and CR inside a CRLF message", SIGNED_HEAD "--sig-b" CRLF
	  "Content-Type: text/plain" CRLF CRLF "a\nb\rc" CRLF SIG_TAIL, MIME_OK, 0, 0,
	  1, { { MIME_SIGNED_DETACHED, 0, 0, 0, "Content-Type: text/plain" CRLF CRLF "a\r\nb\r\nc" CRLF,
	  "hello", 5 } }, 1, { { 0, 0, "a\nb\rc" CRLF } } },
	{ "signed part and unsigned footer",
	  "From: a@example.be" CRLF "Content-Type: multipart/mixed; boundary=mix" CRLF CRLF
	  "--mix" CRLF INNER_SIGNED CRLF "--mix" CRLF "Content-Type: text/plain" CRLF CRLF
	  "-- list footer" CRLF "--mix--" CRLF, MIME_OK, 1, 0,
	  1, { { MIME_SIGNED_DETACHED, 1, 0, 1, "Content-Type: text/plain" CRLF CRLF "inner",
	  "raw-cms", 7 } },
	  2, { { 0, 0, "inner" }, { -1, 0, "-- list footer" } } },
	{ "nested multipart/signed", SIGNED_HEAD "--sig-b" CRLF INNER_SIGNED SIG_TAIL, MIME_OK, 1, 0,
	  2, { { MIME_SIGNED_DETACHED, 0, 0, 0, INNER_SIGNED, "hello", 5 },
	  { MIME_SIGNED_DETACHED, 1, 0, 1, "Content-Type: text/plain" CRLF CRLF "inner",
	  "raw-cms", 7 } },
	  1, { { 1, 0, "inner" } } },
	{ "opaque signed-data", "From: a@example.be" CRLF
	  "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m" CRLF
	  "Content-Transfer-Encoding: base64" CRLF
	  "Content-Disposition: attachment; filename=smime.p7m" CRLF CRLF SIGNEDDATA_B64 CRLF,
	  MIME_OK, 1, 0, 1, { { MIME_SIGNED_OPAQUE, 0, 0, 0, NULL,
	  "\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x80", 15 } }, 0, { { 0 } } },
	{ "opaque without smime-type", "Content-Type: application/x-pkcs7-mime; name=smime.p7m" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF SIGNEDDATA_B64 CRLF,
	  MIME_OK, 1, 0, 1, { { MIME_SIGNED_OPAQUE, 0, 0, 0, NULL,
	  "\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x80", 15 } }, 0, { { 0 } } },
	{ "enveloped-data", "Content-Type: application/pkcs7-mime; smime-type=enveloped-data" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF ENVELOPED_B64 CRLF, MIME_OK, 1, 1,
	  0, { { 0 } }, 0, { { 0 } } },
	{ "enveloped without smime-type", "Content-Type: application/pkcs7-mime" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF ENVELOPED_B64 CRLF, MIME_OK, 1, 1,
	  0, { { 0 } }, 0, { { 0 } } },
	{ "PGP/MIME", "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; micalg=pgp-sha256; boundary=p" CRLF CRLF
	  "--p" CRLF "Content-Type: text/plain" CRLF CRLF "pgp signed" CRLF
	  "--p" CRLF "Content-Type: application/pgp-signature" CRLF CRLF "-----BEGIN PGP SIGNATURE-----" CRLF
	  "--p--" CRLF, MIME_OK, 1, 1, 0, { { 0 } }, 1, { { -1, 0, "pgp signed" } } },
	{ "three parts", "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=t" CRLF CRLF
	  "--t" CRLF CRLF "one" CRLF "--t" CRLF "Content-Type: application/pkcs7-signature" CRLF CRLF "x" CRLF
	  "--t" CRLF CRLF "three" CRLF "--t--" CRLF, MIME_OK, 1, 1, 0, { { 0 } },
	  2, { { -1, 0, "one" }, { -1, 0, "three" } } },
	{ "second part no signature", "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=t" CRLF CRLF
	  "--t" CRLF CRLF "one" CRLF "--t" CRLF "Content-Type: text/plain" CRLF CRLF "hidden" CRLF
	  "--t--" CRLF, MIME_OK, 1, 1, 0, { { 0 } }, 1, { { -1, 0, "one" } } },
	{ "forwarded signed message", "From: b@example.be" CRLF "Content-Type: multipart/mixed; boundary=fw" CRLF CRLF
	  "--fw" CRLF "Content-Type: text/plain" CRLF CRLF "see below" CRLF
	  "--fw" CRLF "Content-Type: message/rfc822" CRLF CRLF "From: c@example.be" CRLF INNER_SIGNED
	  "--fw--" CRLF, MIME_OK, 1, 0,
	  1, { { MIME_SIGNED_DETACHED, 2, 1, 3, "Content-Type: text/plain" CRLF CRLF "inner",
	  "raw-cms", 7 } }, 1, { { -1, 0, "see below" } } },
	{ "forwarded message that does not parse", "Content-Type: multipart/mixed; boundary=fw" CRLF CRLF
	  "--fw" CRLF "Content-Type: text/plain" CRLF CRLF "see below" CRLF
	  "--fw" CRLF "Content-Type: message/rfc822" CRLF CRLF "not a header" CRLF CRLF "body" CRLF
	  "--fw--" CRLF, MIME_OK, 1, 0, 0, { { 0 } }, 1, { { -1, 0, "see below" } } },
	{ "signed attachment", "Content-Type: multipart/mixed; boundary=fw" CRLF CRLF
	  "--fw" CRLF "Content-Type: text/html" CRLF CRLF "<p>hi</p>" CRLF
	  "--fw" CRLF "Content-Disposition: attachment; filename=doc.p7m" CRLF
	  "Content-Type: application/pkcs7-mime; smime-type=signed-data" CRLF CRLF "raw" CRLF
	  "--fw" CRLF "Content-Type: text/plain; charset=us-ascii" CRLF
	  "Content-Disposition: ATTACHMENT; filename=a.txt; filename=b.txt" CRLF CRLF "not shown" CRLF
	  "--fw--" CRLF, MIME_OK, 1, 0,
	  1, { { MIME_SIGNED_OPAQUE, 1, 1, 2, NULL, "raw", 3 } }, 1, { { -1, 1, "<p>hi</p>" } } },
	{ "alternative, both kept", "Content-Type: multipart/alternative; boundary=\"=_a\"" CRLF CRLF
	  "--=_a" CRLF "Content-Type: text/plain; charset=\"x-no-such-charset\"" CRLF CRLF "plain \xff" CRLF
	  "--=_a" CRLF "Content-Type: TEXT/HTML; charset=windows-1252" CRLF CRLF "<b>\x80</b>" CRLF
	  "--=_a" CRLF "Content-Type: text/plain" CRLF "Content-Transfer-Encoding: x-uuencode" CRLF CRLF "opaque" CRLF
	  "--=_a--" CRLF, MIME_OK, 1, 0, 0, { { 0 } },
	  2, { { -1, 0, "plain \xef\xbf\xbd" }, { -1, 1, "<b>\xe2\x82\xac</b>" } } },
	{ "RFC 2231 boundary, digest default", "Content-Type: multipart/digest; boundary*0=\"dig\"; boundary*1*=%2Dest" CRLF CRLF
	  "--dig-est" CRLF CRLF "Subject: inner" CRLF CRLF "in a digest" CRLF "--dig-est--" CRLF,
	  MIME_OK, 1, 0, 0, { { 0 } }, 0, { { 0 } } },
	{ "empty parts", "Content-Type: multipart/mixed; boundary=e" CRLF CRLF "--e" CRLF "--e" CRLF
	  "Content-Type: text/plain" CRLF CRLF "--e--" CRLF, MIME_OK, 1, 0, 0, { { 0 } },
	  2, { { -1, 0, "" }, { -1, 0, "" } } },
	{ "no body", "From: a@example.be" CRLF "Subject: nothing" CRLF, MIME_OK, 1, 0, 0, { { 0 } },
	  1, { { -1, 0, "" } } },
	{ "mbox From line", "From a@example.be Thu Jan  1 00:00:00 2024" CRLF "From: a@example.be" CRLF CRLF
	  "body" CRLF, MIME_OK, 1, 0, 0, { { 0 } }, 1, { { -1, 0, "body" CRLF } } },
};

static char *
to_lf(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (!(s[i] == '\r' && s[i + 1] == '\n'))
			d[o++] = s[i];
	d[o] = '\0';
	return d;
}

/* Equal, ignoring the CRs of CRLF when lf. */
static int
text_eq(const char *got, size_t got_len, const char *want, int lf)
{
	char *w = lf ? to_lf(want) : NULL;
	const char *x = lf ? w : want;
	int eq = x != NULL && strlen(x) == got_len && memcmp(got, x, got_len) == 0;

	free(w);
	return eq;
}

static void
run_struct_case(const struct struct_case *c, int lf)
{
	struct mime_msg *m = NULL;
	char *raw = lf ? to_lf(c->raw) : NULL;
	const char *r = lf ? raw : c->raw;
	enum mime_status st;
	size_t i;

	if (r == NULL)
		return;
	st = mime_parse((const unsigned char *)r, strlen(r), &m);
	CHECK_MSG(st == c->st, "%s%s: status %s", c->name, lf ? " (LF)" : "", mime_status_name(st));
	if (st != MIME_OK || m == NULL)
		goto out;
	CHECK_MSG(m->lf_only == lf, "%s: lf_only %d", c->name, m->lf_only);
	CHECK_MSG(m->n_unsupported == c->n_unsupported, "%s: n_unsupported %d", c->name, m->n_unsupported);
	CHECK_MSG(m->n_sigs == c->n_sigs, "%s: n_sigs %zu", c->name, m->n_sigs);
	for (i = 0; i < m->n_sigs && i < c->n_sigs; i++) {
		const struct mime_signed *s = &m->sigs[i];
		const struct sig_exp *e = &c->sigs[i];

		CHECK_MSG(s->kind == e->kind && s->depth == e->depth && s->in_attachment == e->in_att &&
		    s->entity == e->entity, "%s: sig %zu kind %d depth %d att %d entity %d", c->name, i,
		    s->kind, s->depth, s->in_attachment, s->entity);
		if (e->content == NULL)
			CHECK_MSG(s->content == NULL, "%s: sig %zu has content", c->name, i);
		else
			CHECK_MSG(s->content != NULL && s->content_len == strlen(e->content) &&
			    memcmp(s->content, e->content, s->content_len) == 0,
			    "%s: sig %zu content (%zu bytes) differs", c->name, i, s->content_len);
		CHECK_MSG(s->cms != NULL && s->cms_len == e->cms_len &&
		    memcmp(s->cms, e->cms, e->cms_len) == 0, "%s: sig %zu cms", c->name, i);
	}
	CHECK_MSG(m->n_texts == c->n_texts, "%s: n_texts %zu", c->name, m->n_texts);
	for (i = 0; i < m->n_texts && i < c->n_texts; i++) {
		const struct mime_text *t = &m->texts[i];

		CHECK_MSG(t->signed_by == c->texts[i].signed_by && t->is_html == c->texts[i].is_html,
		    "%s: text %zu signed_by %d html %d", c->name, i, t->signed_by, t->is_html);
		CHECK_MSG(text_eq(t->utf8, t->len, c->texts[i].utf8, lf) && strlen(t->utf8) == t->len,
		    "%s: text %zu is \"%s\"", c->name, i, t->utf8);
	}
out:
	mime_free(m);
	free(raw);
}

/* Whole-message status rows: limits, ambiguities, broken input. */
static const struct {
	const char *name;
	const char *raw;
	enum mime_status st;
} status_cases[] = {
	{ "unterminated multipart", "Content-Type: multipart/mixed; boundary=u" CRLF CRLF "--u" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "no first delimiter", "Content-Type: multipart/mixed; boundary=u" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "truncated in the header", "From: a@example.be" CRLF "Subject: cut", MIME_MALFORMED },
	{ "truncated signed message", SIGNED_HEAD "--sig-b" CRLF PART1 CRLF "--sig-b" CRLF "Content-Type: appl", MIME_MALFORMED },
	{ "no boundary", "Content-Type: multipart/mixed" CRLF CRLF "--x--" CRLF, MIME_MALFORMED },
	{ "empty boundary", "Content-Type: multipart/mixed; boundary=\"\"" CRLF CRLF "----" CRLF, MIME_MALFORMED },
	{ "boundary of 71", "Content-Type: multipart/mixed; boundary=12345678901234567890123456789012345678901234567890123456789012345678901" CRLF CRLF
	  "--12345678901234567890123456789012345678901234567890123456789012345678901--" CRLF, MIME_MALFORMED },
	{ "boundary of 70", "Content-Type: multipart/mixed; boundary=1234567890123456789012345678901234567890123456789012345678901234567890" CRLF CRLF
	  "--1234567890123456789012345678901234567890123456789012345678901234567890--" CRLF, MIME_OK },
	{ "boundary with a bad character", "Content-Type: multipart/mixed; boundary=\"a\x01\"" CRLF CRLF "--a\x01--" CRLF, MIME_MALFORMED },
	{ "boundary named twice", "Content-Type: multipart/mixed; boundary=a; boundary=b" CRLF CRLF "--a--" CRLF, MIME_MALFORMED },
	{ "boundary plain and RFC 2231 differ", "Content-Type: multipart/mixed; boundary=a; boundary*=''b" CRLF CRLF "--b--" CRLF, MIME_MALFORMED },
	{ "delimiter prefix", "Content-Type: multipart/mixed; boundary=a" CRLF CRLF "--a" CRLF CRLF "x" CRLF "--ab" CRLF "--a--" CRLF, MIME_MALFORMED },
	{ "close with junk", "Content-Type: multipart/mixed; boundary=a" CRLF CRLF "--a" CRLF CRLF "x" CRLF "--a--x" CRLF, MIME_MALFORMED },
	{ "bare CR before a delimiter", "Content-Type: multipart/mixed; boundary=a" CRLF CRLF "--a" CRLF CRLF "x\r--a--" CRLF "--a--" CRLF, MIME_MALFORMED },
	{ "bare CR in a header", "Subject: a\rContent-Type: multipart/mixed" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "blank continuation line", "Subject: a" CRLF " " CRLF "Content-Type: text/plain" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "continuation first", " Subject: a" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "line without colon", "From: a@example.be" CRLF "hello" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "NUL in a header", "Subject: a\0b" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "two Content-Type", "Content-Type: text/plain" CRLF "Content-type: multipart/mixed; boundary=a" CRLF CRLF "--a--" CRLF, MIME_MALFORMED },
	{ "two Content-Transfer-Encoding", "Content-Transfer-Encoding: base64" CRLF "Content-Transfer-Encoding: 7bit" CRLF CRLF "x" CRLF, MIME_MALFORMED },
	{ "two Content-Type in a part", "Content-Type: multipart/mixed; boundary=a" CRLF CRLF "--a" CRLF
	  "Content-Type: text/plain" CRLF "Content-Type: text/html" CRLF CRLF "x" CRLF "--a--" CRLF, MIME_MALFORMED },
	{ "encoded multipart", "Content-Type: multipart/mixed; boundary=a" CRLF "Content-Transfer-Encoding: base64" CRLF CRLF "--a--" CRLF, MIME_MALFORMED },
	{ "part without header separation", "Content-Type: multipart/mixed; boundary=a" CRLF CRLF "--a" CRLF "just text" CRLF "--a--" CRLF, MIME_MALFORMED },
	{ "garbage", "\x8f\x01\xff\xfe garbage \x02\x03 no structure", MIME_MALFORMED },
	{ "only a line break", CRLF, MIME_OK },
};

static void
test_status_cases(void)
{
	struct mime_msg *m = NULL;
	enum mime_status st;
	size_t i, len;

	for (i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		len = strlen(status_cases[i].raw);
		if (strcmp(status_cases[i].name, "NUL in a header") == 0)
			len = sizeof("Subject: a\0b" CRLF CRLF "x" CRLF) - 1;
		m = NULL;
		st = mime_parse((const unsigned char *)status_cases[i].raw, len, &m);
		CHECK_MSG(st == status_cases[i].st, "%s: %s", status_cases[i].name, mime_status_name(st));
		CHECK_MSG((st == MIME_OK) == (m != NULL), "%s: out", status_cases[i].name);
		mime_free(m);
	}
	m = NULL;
	CHECK(mime_parse((const unsigned char *)"", 0, &m) == MIME_MALFORMED && m == NULL);
	CHECK(mime_parse(NULL, 10, &m) == MIME_MALFORMED && m == NULL);
	CHECK_STR(mime_status_name(MIME_TOO_DEEP), "too_deep");
	CHECK_STR(mime_status_name(MIME_MALFORMED), "malformed");
	CHECK_STR(mime_status_name((enum mime_status)99), "unknown");
}

/* A buffer the size tests fill. */
static char *
grow(char *buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	char *nb;

	if (buf == NULL && *cap != 0)
		return NULL;
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		nb = realloc(buf, *cap);
		if (nb == NULL) {
			free(buf);
			*cap = 1;
			return NULL;
		}
		buf = nb;
	}
	memcpy(buf + *len, s, n + 1);
	*len += n;
	return buf;
}

static enum mime_status
parse_status(const char *raw, size_t len)
{
	struct mime_msg *m = NULL;
	enum mime_status st = mime_parse((const unsigned char *)raw, len, &m);

	mime_free(m);
	return st;
}

/* levels multiparts, one inside the other, around count times inner. */
static enum mime_status
nested_status(size_t levels, const char *inner, size_t count)
{
	char line[128], *b = NULL;
	size_t len = 0, cap = 0, i;
	enum mime_status st;

	for (i = 0; i < levels; i++) {
		snprintf(line, sizeof(line), "Content-Type: multipart/mixed; boundary=\"n%zu-\"\r\n\r\n--n%zu-\r\n", i, i);
		b = grow(b, &len, &cap, line);
	}
	for (i = 0; i < count; i++)
		b = grow(b, &len, &cap, inner);
	for (i = levels; i-- > 0;) {
		snprintf(line, sizeof(line), "\r\n--n%zu---\r\n", i);
		b = grow(b, &len, &cap, line);
	}
	st = b != NULL ? parse_status(b, len) : MIME_NO_MEMORY;
	free(b);
	return st;
}

static void
test_limits(void)
{
	char *b = NULL;
	size_t len = 0, cap = 0, i;
	unsigned char *huge;

	/* 1,000 nested multiparts: refused at MIME_MAX_DEPTH, no deep stack;
	 * MIME_MAX_DEPTH levels still parse. */
	CHECK(nested_status(1000, "\r\nx\r\n", 1) == MIME_TOO_DEEP);
	CHECK(nested_status(MIME_MAX_DEPTH, "\r\nx\r\n", 1) == MIME_OK);
	/* 300,000 "--" lines: two levels of nesting around them parse, twenty
	 * exceed what the boundary searches may visit. */
	CHECK(nested_status(2, "\r\n--\n", 300000) == MIME_OK);
	CHECK(nested_status(20, "\r\n--\n", 300000) == MIME_TOO_DEEP);
	/* Too many parts. */
	b = NULL;
	len = cap = 0;
	b = grow(b, &len, &cap, "Content-Type: multipart/mixed; boundary=p\r\n\r\n");
	for (i = 0; i < MIME_MAX_PARTS; i++)
		b = grow(b, &len, &cap, "--p\r\n\r\nx\r\n");
	b = grow(b, &len, &cap, "--p--\r\n");
	CHECK(b != NULL && parse_status(b, len) == MIME_TOO_MANY_PARTS);
	free(b);
	/* A header field over MIME_MAX_HEADER, folded or not. */
	b = NULL;
	len = cap = 0;
	b = grow(b, &len, &cap, "Subject: ");
	for (i = 0; i < MIME_MAX_HEADER / 64 + 1; i++)
		b = grow(b, &len, &cap, "x123456789012345678901234567890123456789012345678901234567890\r\n ");
	b = grow(b, &len, &cap, "end\r\n\r\nbody\r\n");
	CHECK(b != NULL && parse_status(b, len) == MIME_TOO_LARGE);
	free(b);
	/* Too many fields. */
	b = NULL;
	len = cap = 0;
	for (i = 0; i < MIME_MAX_HEADERS + 1; i++)
		b = grow(b, &len, &cap, "X-A: b\r\n");
	b = grow(b, &len, &cap, "\r\nbody\r\n");
	CHECK(b != NULL && parse_status(b, len) == MIME_TOO_LARGE);
	free(b);
	/* A message over MIME_MAX_BYTES (zero pages, never touched). */
	huge = calloc(1, (size_t)MIME_MAX_BYTES + 1);
	CHECK(huge != NULL && parse_status((const char *)huge, (size_t)MIME_MAX_BYTES + 1) == MIME_TOO_LARGE);
	free(huge);
}

/* From and Sender: display-name tricks, RFC 2047, groups, obsolete forms. */
static const struct {
	const char *header;     /* the From (and Sender) lines */
	size_t n;
	int malformed;
	const char *display[3];
	const char *spec[3];
} from_cases[] = {
	{ "From: =?UTF-8?B?Sm9zw6kgUGXDsWE=?= <jose@Example.BE>", 1, 0, { "Jos\xc3\xa9 Pe\xc3\xb1" "a" }, { "jose@example.be" } },
	{ "From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@VM1.ULG.AC.BE>", 1, 0, { "Andr\xc3\xa9 Pirard" }, { "PIRARD@vm1.ulg.ac.be" } },
	{ "From: =?utf-8?q?a?= =?utf-8?q?b?=\r\n =?iso-8859-1?q?_=E9?= <x@y.example>", 1, 0, { "ab \xc3\xa9" }, { "x@y.example" } },
	{ "From: \"bank@belfius.be\" <attacker@evil.example>", 1, 0, { "bank@belfius.be" }, { "attacker@evil.example" } },
	{ "From: Bank <a@b.example>, <c@d.example>", 2, 0, { "Bank", NULL }, { "a@b.example", "c@d.example" } },
	{ "From: =?utf-8?Q?bank@belfius.be_<bank@belfius.be>?= <attacker@evil.example>", 1, 0,
	  { "bank@belfius.be <bank@belfius.be>" }, { "attacker@evil.example" } },
	{ "From: =?utf-8?B?QmFuayA8YmFua0BiZWxmaXVzLmJlPg==?= <attacker@evil.example>", 1, 0,
	  { "Bank <bank@belfius.be>" }, { "attacker@evil.example" } },
	{ "From: =?utf-8?B?QmFua+KArmVnLmxhbmlm4oCsIOKBp3jigak=?= <a@b.example>", 1, 0, { "Bankeg.lanif x" }, { "a@b.example" } },
	{ "From: \"Ba\x01nk\t \\\"x\\\"\" <a@b.example>", 1, 0, { "Bank \"x\"" }, { "a@b.example" } },
	{ "From: a@b.example (Alice)", 1, 0, { NULL }, { "a@b.example" } },
	{ "From : a@b.example", 1, 0, { NULL }, { "a@b.example" } },
	{ "From: Alice (the boss) <a@b.example> (comment)", 1, 0, { "Alice" }, { "a@b.example" } },
	{ "From: John Q. Public <JQP@Example.COM>", 1, 0, { "John Q. Public" }, { "JQP@example.com" } },
	{ "From: <@relay.example,@other.example:a@b.example>", 1, 0, { NULL }, { "a@b.example" } },
	{ "From: \"john doe\"@x.example", 1, 0, { NULL }, { "\"john doe\"@x.example" } },
	{ "From: a@[192.0.2.1]", 1, 0, { NULL }, { "a@[192.0.2.1]" } },
	{ "From: j\xc3\xb6rg@b\xc3\xbc" "cher.example", 1, 0, { NULL }, { "j\xc3\xb6rg@b\xc3\xbc" "cher.example" } },
	{ "From: Team: a@b.example, Bob <c@d.example>;", 2, 0, { NULL, "Bob" }, { "a@b.example", "c@d.example" } },
	{ "From: undisclosed-recipients:;", 0, 1, { NULL }, { NULL } },
	{ "From: a@b.example\r\nFrom: c@d.example", 2, 1, { NULL, NULL }, { "a@b.example", "c@d.example" } },
	{ "From: a@b.example, , c@d.example", 2, 0, { NULL, NULL }, { "a@b.example", "c@d.example" } },
	{ "From: not an address", 0, 1, { NULL }, { NULL } },
	{ "From: john doe@x.example", 0, 1, { NULL }, { NULL } },
	{ "From: a@b.example, Bank", 1, 1, { NULL }, { "a@b.example" } },
	{ "From: <a@b.example", 0, 1, { NULL }, { NULL } },
	{ "From: \"unterminated <a@b.example>", 0, 1, { NULL }, { NULL } },
	{ "From: a@.example", 0, 1, { NULL }, { NULL } },
	{ "From: a@b..example", 0, 1, { NULL }, { NULL } },
	{ "From: A: B: c@d.example;;", 0, 1, { NULL }, { NULL } },
	{ "From: ", 0, 1, { NULL }, { NULL } },
};

static void
test_from(void)
{
	char raw[512];
	struct mime_msg *m;
	enum mime_status st;
	size_t i, j;

	for (i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
		snprintf(raw, sizeof(raw), "%s\r\nSender: S <s@Sender.example>\r\n\r\nbody\r\n", from_cases[i].header);
		m = NULL;
		st = mime_parse((const unsigned char *)raw, strlen(raw), &m);
		CHECK_MSG(st == MIME_OK, "%s: %s", from_cases[i].header, mime_status_name(st));
		if (m == NULL)
			continue;
		CHECK_MSG(m->n_from == from_cases[i].n && m->from_malformed == from_cases[i].malformed,
		    "%s: n_from %zu malformed %d", from_cases[i].header, m->n_from, m->from_malformed);
		for (j = 0; j < m->n_from && j < from_cases[i].n; j++) {
			const char *d = from_cases[i].display[j];
			CHECK_MSG(d == NULL ? m->from[j].display == NULL :
			    (m->from[j].display != NULL && strcmp(m->from[j].display, d) == 0),
			    "%s: display \"%s\"", from_cases[i].header,
			    m->from[j].display ? m->from[j].display : "(null)");
			CHECK_STR(m->from[j].addr_spec, from_cases[i].spec[j]);
		}
		CHECK(m->n_sender == 1 && strcmp(m->sender[0].addr_spec, "s@sender.example") == 0 &&
		    strcmp(m->sender[0].display, "S") == 0);
		mime_free(m);
	}
	/* MIME_MAX_ADDRS addresses at most; past it, malformed. */
	{
		char *b = NULL;
		size_t len = 0, cap = 0;

		b = grow(b, &len, &cap, "From: ");
		for (i = 0; i < MIME_MAX_ADDRS + 1; i++)
			b = grow(b, &len, &cap, "a@b.example, ");
		b = grow(b, &len, &cap, "\r\n\r\n");
		m = NULL;
		CHECK(b != NULL && mime_parse((const unsigned char *)b, len, &m) == MIME_OK &&
		    m->n_from == MIME_MAX_ADDRS && m->from_malformed == 1);
		mime_free(m);
		free(b);
	}
}

static const struct {
	const char *header;
	const char *subject;
	const char *message_id;
	time_t date;
} field_cases[] = {
	{ "Subject: Re: =?utf-8?q?caf=C3=A9?= ok\r\nMessage-ID: <abc.123@mail.example>\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200",
	  "Re: caf\xc3\xa9 ok", "abc.123@mail.example", 1057049557 },
	{ "Subject: raw \xff latin\r\nMessage-ID: (comment) <a@b> <c@d>", "raw \xef\xbf\xbd latin", "a@b", 0 },
	{ "Subject: =?utf-8?b?4oCuZXZpbA==?= x\r\nMessage-Id: id-without-brackets@x",
	  "evil x", "id-without-brackets@x", 0 },
	{ "Subject: first\r\nSubject: second\r\nMessage-ID: <>\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	  "Date: Wed, 2 Jul 2003 10:52:37 +0200", "first", NULL, 0 },
	{ "Subject: =?unknown-charset?q?=E9t=C3=A9?=\r\nMessage-ID: <a b@c>", "\xef\xbf\xbdt\xc3\xa9", NULL, 0 },
	{ "X-Other: x", NULL, NULL, 0 },
};

static void
test_fields(void)
{
	char raw[512];
	struct mime_msg *m;
	size_t i;

	for (i = 0; i < sizeof(field_cases) / sizeof(field_cases[0]); i++) {
		snprintf(raw, sizeof(raw), "%s\r\n\r\nbody\r\n", field_cases[i].header);
		m = NULL;
		CHECK(mime_parse((const unsigned char *)raw, strlen(raw), &m) == MIME_OK);
		if (m == NULL)
			continue;
		if (field_cases[i].subject == NULL)
			CHECK(m->subject == NULL);
		else
			CHECK_STR(m->subject, field_cases[i].subject);
		if (field_cases[i].message_id == NULL)
			CHECK_MSG(m->message_id == NULL, "message id %s", m->message_id);
		else
			CHECK_STR(m->message_id, field_cases[i].message_id);
		CHECK_MSG(m->date == field_cases[i].date, "%s: date %lld", field_cases[i].header,
		    (long long)m->date);
		mime_free(m);
	}
}

static const struct {
	const char *s;
	long long t;
} date_cases[] = {
	{ "Tue, 1 Jul 2003 10:52:37 +0200", 1057049557 },
	{ "1 Jul 2003 10:52:37 +0200", 1057049557 },
	{ "Tue, 01 Jul 2003 10:52 -0130", 1057062120 },
	{ "Fri, 21 Nov 1997 09:55:06 -0600", 880127706 },
	{ "Thu, 13 Feb 1969 23:32:54 -0330", 0 },
	{ "Mon, 29 Feb 2021 10:00:00 +0000", 0 },
	{ "Tue, 29 Feb 2000 10:00:00 +0000", 951818400 },
	{ "21 Nov 97 09:55:06 GMT", 880106106 },
	{ "21 Nov 03 09:55:06 UT", 1069408506 },
	{ "21 Nov 103 09:55:06 GMT", 1069408506 },
	{ "Fri, 21 Nov 1997 09:55:06 EST", 880124106 },
	{ "Fri, 21 Nov 1997 09:55:06 PDT", 880131306 },
	{ "Fri, 21 Nov 1997 09:55:06 Z", 880106106 },
	{ "Fri, 21 Nov 1997 09:55:06 A", 880106106 },
	{ "Fri, 21 Nov 1997 09:55:06 +0200 (CEST)", 880098906 },
	{ "  Fri ,  21  Nov  1997  09 : 55 : 06  +0000", 880106106 },
	{ "fri, 21 nov 1997 09:55:06 +0000", 880106106 },
	{ "Friday, 21 November 1997 09:55:06 +0000", 880106106 },
	{ "Fri, 21 Nov 1997 09:55:60 +0000", 880106160 },
	{ "Fri, 21 Nov 1997 24:00:00 +0000", 0 },
	{ "Fri, 32 Nov 1997 09:55:06 +0000", 0 },
	{ "Fri, 21 Foo 1997 09:55:06 +0000", 0 },
	{ "Fry, 21 Nov 1997 09:55:06 +0000", 0 },
	{ "Fri, 21 Nov 1997 09:55:06 +2500", 0 },
	{ "Fri, 21 Nov 1997 09:55:06 +02", 0 },
	{ "Fri, 21 Nov 1997", 0 },
	{ "", 0 },
	{ "garbage", 0 },
	{ "2003-07-01T10:52:37Z", 0 },
	{ "Fri, 21 Nov 1997 09:55:06", 880106106 },
	{ "Sat, 1 Jan 2000 00:00:00 +1400", 946634400 },
};

static void
test_dates(void)
{
	size_t i;
	time_t t;

	for (i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
		t = mime_parse_date(date_cases[i].s);
		CHECK_MSG((long long)t == date_cases[i].t, "\"%s\": %lld", date_cases[i].s, (long long)t);
	}
	CHECK(mime_parse_date(NULL) == 0);
}

struct link_exp {
	const char *url;
	int signed_by;
};

static const struct {
	const char *name;
	const char *raw;
	size_t n;
	struct link_exp links[8];
} link_cases[] = {
	{ "plain text", "Content-Type: text/plain" CRLF CRLF
	  "See https://example.be/a?b=c. Or (http://x.example/wiki/Foo_(bar)), HTTPS://Up.Example/!" CRLF
	  "<http://angle.example/p> \"https://quote.example\" xhttp://no.example http:// https://example.be/a?b=c" CRLF,
	  5, { { "https://example.be/a?b=c", -1 }, { "http://x.example/wiki/Foo_(bar)", -1 },
	  { "HTTPS://Up.Example/", -1 }, { "http://angle.example/p", -1 }, { "https://quote.example", -1 } } },
	{ "html", "Content-Type: text/html; charset=utf-8" CRLF CRLF
	  "<a href=\"https://a.example/?x=1&amp;y=&#50;\">one</a> <A HREF='http://b.example/&#x2F;'>two</A>" CRLF
	  "<a title=x href=https://c.example/u>3</a><!-- <a href=\"http://hidden.example\"> -->" CRLF
	  "<p>text https://d.example/?p=1&amp;q=2&nbsp;end</p><img src=\"https://img.example/i\">" CRLF
	  "<a href=\" java\tscript:alert(1)\">no</a><a href=\"\n https://e.exa\tmple/ \">ws</a>" CRLF
	  "<style>a{background:url(http://style.example)}</style><a href=mailto:x@y>m</a>" CRLF,
	  5, { { "https://a.example/?x=1&y=2", -1 }, { "http://b.example//", -1 },
	  { "https://c.example/u", -1 }, { "https://e.example/", -1 }, { "https://d.example/?p=1&q=2", -1 } } },
	{ "signed and unsigned", "Content-Type: multipart/mixed; boundary=mix" CRLF CRLF
	  "--mix" CRLF "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=in" CRLF CRLF
	  "--in" CRLF "Content-Type: text/plain" CRLF CRLF "https://signed.example/ https://both.example/ https://signed.example/" CRLF
	  "--in" CRLF "Content-Type: application/pkcs7-signature" CRLF CRLF "x" CRLF "--in--" CRLF
	  "--mix" CRLF "Content-Type: text/html" CRLF CRLF "<a href=\"https://both.example/\">footer</a> https://footer.example" CRLF
	  "--mix" CRLF "Content-Type: text/plain" CRLF "Content-Disposition: attachment" CRLF CRLF "https://attached.example/" CRLF
	  "--mix--" CRLF,
	  4, { { "https://signed.example/", 0 }, { "https://both.example/", 0 },
	  { "https://both.example/", -1 }, { "https://footer.example", -1 } } },
};

static void
test_links(void)
{
	struct mime_msg *m;
	char *b = NULL, line[64];
	size_t i, j, len = 0, cap = 0;

	for (i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
		m = NULL;
		CHECK(mime_parse((const unsigned char *)link_cases[i].raw, strlen(link_cases[i].raw), &m) == MIME_OK);
		if (m == NULL)
			continue;
		CHECK_MSG(m->n_links == link_cases[i].n, "%s: %zu links", link_cases[i].name, m->n_links);
		for (j = 0; j < m->n_links && j < link_cases[i].n; j++) {
			CHECK_STR(m->links[j].url, link_cases[i].links[j].url);
			CHECK_MSG(m->links[j].signed_by == link_cases[i].links[j].signed_by, "%s: link %zu signed_by %d",
			    link_cases[i].name, j, m->links[j].signed_by);
		}
		mime_free(m);
	}
	/* MIME_MAX_LINKS links kept, a URL over MIME_MAX_URL dropped. */
	b = grow(b, &len, &cap, "Content-Type: text/plain\r\n\r\nhttps://long.example/");
	for (i = 0; i < MIME_MAX_URL; i++)
		b = grow(b, &len, &cap, "a");
	b = grow(b, &len, &cap, " https://max.example/");
	for (i = 0; i < MIME_MAX_URL - strlen("https://max.example/"); i++)
		b = grow(b, &len, &cap, "b");
	b = grow(b, &len, &cap, "\r\n");
	for (i = 0; i < MIME_MAX_LINKS + 100; i++) {
		snprintf(line, sizeof(line), "http://h%zu.example/\r\n", i);
		b = grow(b, &len, &cap, line);
	}
	m = NULL;
	CHECK(b != NULL && mime_parse((const unsigned char *)b, len, &m) == MIME_OK);
	if (m != NULL) {
		CHECK(m->n_links == MIME_MAX_LINKS);
		CHECK(m->n_links > 0 && strlen(m->links[0].url) == MIME_MAX_URL &&
		    strncmp(m->links[0].url, "https://max.example/", 20) == 0);
		CHECK(m->n_links > 1 && strcmp(m->links[1].url, "http://h0.example/") == 0);
	}
	mime_free(m);
	free(b);
}

/* Opaque content added after verification: its texts and links count as
 * signed by that signature; a broken entity leaves the message as it was. */
static void
test_add_signed_entity(void)
{
	static const char raw[] = "From: a@example.be" CRLF "Content-Type: multipart/mixed; boundary=m" CRLF CRLF
	    "--m" CRLF "Content-Type: application/pkcs7-mime; smime-type=signed-data" CRLF
	    "Content-Transfer-Encoding: base64" CRLF CRLF SIGNEDDATA_B64 CRLF
	    "--m" CRLF "Content-Type: text/plain" CRLF CRLF "footer https://f.example/" CRLF "--m--" CRLF;
	static const char inner[] = "Content-Type: multipart/alternative; boundary=a" CRLF CRLF
	    "--a" CRLF "Content-Type: text/plain" CRLF CRLF "signed https://s.example/" CRLF
	    "--a" CRLF "Content-Type: text/html" CRLF CRLF "<a href=\"https://f.example/\">x</a>" CRLF "--a--" CRLF;
	static const char broken[] = "Content-Type: multipart/mixed; boundary=b" CRLF CRLF "--b" CRLF CRLF
	    "x https://x.example/" CRLF "--b" CRLF "Content-Type: multipart/mixed; boundary=c" CRLF CRLF
	    "--c" CRLF CRLF "y" CRLF "--b--" CRLF;
	struct mime_msg *m = NULL;

	CHECK(mime_parse((const unsigned char *)raw, sizeof(raw) - 1, &m) == MIME_OK);
	if (m == NULL)
		return;
	CHECK(m->n_sigs == 1 && m->sigs[0].kind == MIME_SIGNED_OPAQUE && m->sigs[0].depth == 1 &&
	    m->sigs[0].in_attachment == 0 && m->n_texts == 1 && m->n_links == 1);
	CHECK(mime_add_signed_entity(m, 0, (const unsigned char *)inner, sizeof(inner) - 1) == MIME_OK);
	CHECK(m->n_texts == 3 && m->texts[1].signed_by == 0 && m->texts[2].signed_by == 0 &&
	    m->texts[2].is_html == 1 && strcmp(m->texts[1].utf8, "signed https://s.example/") == 0);
	CHECK(m->n_links == 3 && strcmp(m->links[1].url, "https://s.example/") == 0 &&
	    m->links[1].signed_by == 0 && strcmp(m->links[2].url, "https://f.example/") == 0 &&
	    m->links[2].signed_by == 0);
	CHECK(mime_add_signed_entity(m, 0, (const unsigned char *)broken, sizeof(broken) - 1) == MIME_MALFORMED);
	CHECK(m->n_texts == 3 && m->n_links == 3);
	CHECK(mime_add_signed_entity(m, 1, (const unsigned char *)inner, sizeof(inner) - 1) == MIME_MALFORMED);
	CHECK(mime_add_signed_entity(m, -1, (const unsigned char *)inner, sizeof(inner) - 1) == MIME_MALFORMED);
	CHECK(mime_add_signed_entity(NULL, 0, (const unsigned char *)inner, sizeof(inner) - 1) == MIME_MALFORMED);
	mime_free(m);
	mime_free(NULL);
}

/* Signed bytes with runs of bare LF and CR (the dense path of the
 * canonicalisation) equal a byte-by-byte reference. */
static void
test_canonical_dense(void)
{
	static const char head[] = "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=dz\n\n--dz\n";
	static const char tail[] = "\n--dz\nContent-Type: application/pkcs7-signature\n\nx\n--dz--\n";
	static const char unit[] = "\n\n\r\r\n-\r\nabcdefghijk\n";
	size_t n = 40000, plen = 2 + n * (sizeof(unit) - 1), len, i, o = 0;
	char *b, *want;
	struct mime_msg *m = NULL;

	len = sizeof(head) - 1 + plen + sizeof(tail) - 1;
	b = malloc(len);
	want = malloc(2 * plen);
	if (b == NULL || want == NULL) {
		CHECK(0);
		free(b);
		free(want);
		return;
	}
	memcpy(b, head, sizeof(head) - 1);
	memcpy(b + sizeof(head) - 1, "\n\n", 2);
	for (i = 0; i < n; i++)
		memcpy(b + sizeof(head) - 1 + 2 + i * (sizeof(unit) - 1), unit, sizeof(unit) - 1);
	memcpy(b + sizeof(head) - 1 + plen, tail, sizeof(tail) - 1);
	for (i = 0; i < plen; i++) {
		const char *p = b + sizeof(head) - 1;

		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			want[o++] = '\r';
		want[o++] = p[i];
		if (p[i] == '\r' && (i + 1 == plen || p[i + 1] != '\n'))
			want[o++] = '\n';
	}
	CHECK(mime_parse((const unsigned char *)b, len, &m) == MIME_OK);
	CHECK(m != NULL && m->n_sigs == 1 && m->sigs[0].content_len == o &&
	    memcmp(m->sigs[0].content, want, o) == 0);
	mime_free(m);
	free(b);
	free(want);
}

/* A 25 MB base64 attachment parses (its bytes are scanned, not decoded). */
static void
test_large_attachment(void)
{
	static const char head[] = "From: a@example.be" CRLF "Content-Type: multipart/mixed; boundary=big" CRLF CRLF
	    "--big" CRLF "Content-Type: text/plain" CRLF CRLF "see attachment" CRLF
	    "--big" CRLF "Content-Type: application/octet-stream" CRLF "Content-Transfer-Encoding: base64" CRLF
	    "Content-Disposition: attachment; filename=big.bin" CRLF CRLF;
	static const char tail[] = CRLF "--big--" CRLF;
	static const char line[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx" CRLF;
	size_t lines = 25u * 1024 * 1024 / (sizeof(line) - 1), len, i;
	struct mime_msg *m = NULL;
	char *b;

	len = sizeof(head) - 1 + lines * (sizeof(line) - 1) + sizeof(tail) - 1;
	b = malloc(len);
	if (b == NULL) {
		CHECK(b != NULL);
		return;
	}
	memcpy(b, head, sizeof(head) - 1);
	for (i = 0; i < lines; i++)
		memcpy(b + sizeof(head) - 1 + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	memcpy(b + len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	CHECK(mime_parse((const unsigned char *)b, len, &m) == MIME_OK);
	CHECK(m != NULL && m->n_texts == 1 && m->n_parts == 3 && m->n_sigs == 0);
	mime_free(m);
	free(b);
}

void
suite_mime(void)
{
	size_t i;

	for (i = 0; i < sizeof(struct_cases) / sizeof(struct_cases[0]); i++) {
		run_struct_case(&struct_cases[i], 0);
		if (struct_cases[i].lf_too)
			run_struct_case(&struct_cases[i], 1);
	}
	test_status_cases();
	test_limits();
	test_from();
	test_fields();
	test_dates();
	test_links();
	test_add_signed_entity();
	test_canonical_dense();
	test_large_attachment();
}
