/*
 * mime_internal: what the mime*.c files share and nobody else sees.
 *
 * mime.c          structure: entities, signatures, texts, the API
 * mime_bound.c    boundaries, multipart splitting, the signed bytes
 * mime_header.c   header blocks, Content-Type parameters (RFC 2045, 2231),
 *                 Message-ID, dates (RFC 5322 3.3)
 * mime_addr.c     address lists (RFC 5322 3.4), encoded words (RFC 2047),
 *                 display-name clean-up, the message's own fields
 * mime_text.c     growable buffers, base64, quoted-printable, charsets
 *                 (iconv) to UTF-8, links in plain text and HTML
 *
 * Every buffer here has a maximum size; every function that allocates
 * returns an enum mime_status.
 */
#ifndef TL_MIME_INTERNAL_H
#define TL_MIME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mime.h"

/* A growable byte buffer that refuses to grow past max (MIME_TOO_LARGE). */
struct mime_buf {
	unsigned char *p;
	size_t len;
	size_t cap;
	size_t max;
};

void mime_buf_init(struct mime_buf *b, size_t max);
enum mime_status mime_buf_put(struct mime_buf *b, const void *d, size_t n);
enum mime_status mime_buf_putc(struct mime_buf *b, unsigned char c);
/* Appends s as UTF-8: invalid sequences and NUL become U+FFFD. */
enum mime_status mime_buf_put_utf8(struct mime_buf *b, const unsigned char *s, size_t n);
/* 1 when s is valid UTF-8 without NUL (RFC 3629), else 0. */
int mime_utf8_valid(const unsigned char *s, size_t n);
/* NUL-terminates and hands the bytes over (*out owned by the caller). */
enum mime_status mime_buf_take(struct mime_buf *b, char **out, size_t *len);
void mime_buf_free(struct mime_buf *b);

/* Takes n from a budget of decoded or copied bytes (MIME_TOO_LARGE). */
enum mime_status mime_spend(size_t *budget, size_t n);

/* Delimiter candidates of one buffer: offsets of every "--" that starts a
 * line or follows a CR, and how many more the splits may visit (a parse
 * starts from MIME_VISITS, each index adds 4 per candidate). */
#define MIME_VISITS 100000
struct mime_index {
	const unsigned char *base;
	uint32_t *cand;
	size_t n_cand;
	size_t visits;
};

struct mime_span {
	size_t off;             /* from the start of the body split */
	size_t len;
};

/* RFC 2046 5.1.1: 1 to 70 bchars, not ending with a blank. */
int mime_boundary_ok(const char *b);
/* Indexes p (MIME_MAX_BYTES at most) and adds to ix->visits. */
enum mime_status mime_index_build(struct mime_index *ix, const unsigned char *p, size_t len,
    size_t *budget);
void mime_index_clear(struct mime_index *ix);
/* Splits the multipart body p (inside ix->base) at boundary b. */
enum mime_status mime_split(struct mime_index *ix, const unsigned char *p, size_t len,
    const char *b, struct mime_span **out, size_t *n);
/* The signed bytes of a body part: bare LF and bare CR made CRLF (owned). */
enum mime_status mime_canonical(const unsigned char *p, size_t n, size_t *budget,
    unsigned char **out, size_t *outlen);

/* Transfer decodings. out must hold len + 3 bytes; the decoded length is
 * returned (never more than len). Lenient like mail clients: base64
 * skips characters outside its alphabet, quoted-printable keeps a bad
 * "=" sequence literally. */
size_t mime_b64_decode(const unsigned char *in, size_t len, unsigned char *out);
size_t mime_qp_decode(const unsigned char *in, size_t len, unsigned char *out);

/* Converts text in charset (NULL: UTF-8) to UTF-8, appended to b. A
 * charset iconv does not know is read as UTF-8; bytes that do not convert
 * become U+FFFD. */
enum mime_status mime_charset_to_utf8(const char *charset, const unsigned char *in,
    size_t len, struct mime_buf *b);

/* Links: a dedupe index over msg->links by (url, signed_by). */
struct mime_linkset {
	struct mime_msg *msg;
	unsigned *slots;        /* link index + 1, 0 = empty */
	size_t n_slots;
	size_t cap;             /* allocated entries of msg->links */
};

enum mime_status mime_linkset_init(struct mime_linkset *ls, struct mime_msg *msg);
void mime_linkset_clear(struct mime_linkset *ls);
/* Appends the http(s) links of a displayed text (UTF-8). Past
 * MIME_MAX_LINKS further links are ignored. */
enum mime_status mime_links_scan(struct mime_linkset *ls, const char *text, size_t len,
    int is_html, int signed_by);

/* One header field, pointing into the entity's bytes. value runs from
 * after the colon (and leading blanks) to before the line break that
 * ends the field, folds included. */
struct mime_field {
	const unsigned char *name;
	size_t name_len;
	const unsigned char *value;
	size_t value_len;
};

struct mime_headers {
	struct mime_field *f;
	size_t n;
	size_t cap;
	size_t body;            /* offset of the body in the entity */
};

/* Parses the header block of an entity of len bytes. allow_mbox: skip an
 * mbox "From " line first (the message itself only). */
enum mime_status mime_headers_parse(const unsigned char *p, size_t len, int allow_mbox,
    struct mime_headers *h);
void mime_headers_clear(struct mime_headers *h);
int mime_field_is(const struct mime_field *f, const char *name);
/* Index of the only field called name: -1 absent, -2 present twice. */
int mime_headers_single(const struct mime_headers *h, const char *name);
/* The unfolded value, NUL-terminated (owned). MIME_MALFORMED on NUL. */
enum mime_status mime_field_unfold(const struct mime_field *f, char **out);

struct mime_param {
	char *name;             /* lower case, without RFC 2231 sections */
	char *value;            /* assembled and percent-decoded */
	int conflict;           /* both plain and RFC 2231 forms, different */
};

/* A Content-Type or Content-Disposition value. */
struct mime_ctype {
	char type[64];          /* lower case; "" when it did not parse */
	char subtype[64];       /* lower case; Content-Disposition: "" */
	struct mime_param *params;
	size_t n_params;
};

/* Parses "type/subtype; params" (want_subtype), or the type alone of
 * "disposition; params". A type that does not parse leaves type ""; a
 * parameter named twice, or containing NUL, is MIME_MALFORMED. */
enum mime_status mime_ctype_parse(const char *value, int want_subtype, struct mime_ctype *ct);
const struct mime_param *mime_ctype_param(const struct mime_ctype *ct, const char *name);
void mime_ctype_clear(struct mime_ctype *ct);

/* The first msg-id of a Message-ID value without its angle brackets;
 * NULL when absent or not printable ASCII. MIME_NO_MEMORY only. */
enum mime_status mime_message_id(const char *value, char **out);

/* Address lists (mime_addr.c). Appends to *list; *malformed is set when
 * the list does not parse completely or has over MIME_MAX_ADDRS entries. */
enum mime_status mime_addr_list(const char *value, struct mime_addr **list, size_t *n,
    int *malformed);
/* Reads From, Sender, Subject, Date and Message-ID of the message. */
enum mime_status mime_top_fields(struct mime_msg *m, const struct mime_headers *h);
/* Decodes RFC 2047 words in unstructured text to UTF-8. display: also drop
 * control and bidi-formatting characters, collapse blanks and trim. */
enum mime_status mime_decode_words(const char *s, size_t len, int display, char **out);

int mime_ascii_lower(int c);
int mime_strcaseeq(const char *a, const char *b);
int mime_memcaseeq(const void *a, const char *b, size_t n);

#endif
