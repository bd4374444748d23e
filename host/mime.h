/*
 * mime: a small, bounded parser of RFC 5322 / MIME messages, written for one
 * job: find what a signature covers, byte-exact, and what a reader sees.
 *
 * Why not GMime: the signed bytes of a multipart/signed entity must be the
 * exact bytes between two boundary lines (RFC 1847 section 2.1, RFC 8551
 * section 3.5), never a re-serialisation of a parsed tree; and everything
 * else needed (headers, RFC 2047 words, addresses, multipart structure,
 * quoted-printable, base64, charsets through iconv) is small enough to own,
 * bound and fuzz. The parser works on the raw bytes and keeps offsets.
 *
 * Hostile input: every mail is. Limits: MIME_MAX_BYTES of message,
 * MIME_MAX_DEPTH of nesting, MIME_MAX_PARTS entities, MIME_MAX_HEADER bytes
 * per header field, MIME_MAX_HEADERS fields per entity, MIME_MAX_LINKS
 * links. Past a limit the parse fails with a status (the mail verdict then
 * reads "invalid" when a signature was involved, never "unsigned").
 * Ambiguities are refused rather than guessed: a boundary that never closes,
 * a multipart without a boundary, two Content-Type fields, an entity whose
 * structure differs depending on the line-ending convention.
 */
#ifndef TL_MIME_H
#define TL_MIME_H

#include <stddef.h>
#include <time.h>

#define MIME_MAX_BYTES (48u * 1024u * 1024u)
#define MIME_MAX_DEPTH 64
#define MIME_MAX_PARTS 2000
#define MIME_MAX_HEADER (64u * 1024u)
#define MIME_MAX_HEADERS 1000
#define MIME_MAX_LINKS 1000
#define MIME_MAX_ADDRS 64
#define MIME_MAX_URL 2048

enum mime_status {
	MIME_OK = 0,
	MIME_TOO_LARGE,      /* message, header or a decoded part over its cap */
	MIME_TOO_DEEP,       /* nesting over MIME_MAX_DEPTH */
	MIME_TOO_MANY_PARTS, /* over MIME_MAX_PARTS */
	MIME_MALFORMED,      /* no header/body separation, unterminated
	                        multipart, bad boundary, ambiguous structure */
	MIME_NO_MEMORY
};

const char *mime_status_name(enum mime_status s);

struct mime_addr {
	char *display;      /* decoded display name (UTF-8), or NULL */
	char *addr_spec;    /* local@domain as written (domain lower-cased) */
};

/* A signature found in the message, with what it signs. */
enum mime_signed_kind {
	MIME_SIGNED_DETACHED = 1,  /* multipart/signed + application/(x-)pkcs7-signature */
	MIME_SIGNED_OPAQUE         /* application/(x-)pkcs7-mime; smime-type=signed-data */
};

struct mime_signed {
	enum mime_signed_kind kind;
	/* DETACHED: the first body part with its headers, exactly as sent
	 * between the boundary lines, line endings canonicalised to CRLF
	 * (owned). OPAQUE: NULL (the content is inside the CMS). */
	unsigned char *content;
	size_t content_len;
	/* The CMS structure, base64 (or other transfer encoding) decoded
	 * (owned). */
	unsigned char *cms;
	size_t cms_len;
	int depth;            /* 0 when it is the message itself */
	int in_attachment;    /* inside message/rfc822 or a part with
	                         Content-Disposition: attachment */
	int entity;           /* index of the signed entity (for coverage) */
};

/* A part a mail client shows as text. */
struct mime_text {
	char *utf8;           /* decoded, converted to UTF-8 (owned) */
	size_t len;
	int is_html;
	int signed_by;        /* index into sigs of the innermost signature
	                         covering it, or -1 */
};

struct mime_link {
	char *url;            /* as found, trimmed; at most MIME_MAX_URL */
	int signed_by;        /* as for texts */
};

struct mime_msg {
	/* Top-level header fields. */
	struct mime_addr *from;
	size_t n_from;
	struct mime_addr *sender;
	size_t n_sender;
	int from_malformed;   /* a From that did not parse as addresses */
	char *subject;        /* decoded UTF-8, or NULL */
	char *message_id;     /* without angle brackets, or NULL */
	time_t date;          /* 0 when absent or unparseable */

	struct mime_signed *sigs;
	size_t n_sigs;
	struct mime_text *texts;
	size_t n_texts;
	struct mime_link *links;
	size_t n_links;
	size_t n_parts;
	int lf_only;          /* the message used bare LF line endings */
	int n_unsupported;    /* multipart/signed and pkcs7-mime entities that
	                         are no usable S/MIME signature: another
	                         protocol (PGP), not two parts, a second part
	                         that is no pkcs7-signature, enveloped or
	                         other non-signed-data pkcs7-mime */
};

/* Parses a raw message. *out is NULL on entry, set on MIME_OK. */
enum mime_status mime_parse(const unsigned char *raw, size_t len, struct mime_msg **out);

/* Parses the content of an opaque signed-data (an entity: headers and
 * body) and adds its texts and links to msg, marked as covered by
 * signature `sig`. */
enum mime_status mime_add_signed_entity(struct mime_msg *msg, int sig,
    const unsigned char *entity, size_t len);

void mime_free(struct mime_msg *msg);

/* Parses an RFC 5322 date-time; 0 when it does not parse. */
time_t mime_parse_date(const char *s);

#endif
