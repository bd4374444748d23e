/*
 * token_sign: `trustlens-host sign-mail --in FILE --out FILE
 * [--cert Signature|Authentication] [--token LABEL|SERIAL]`.
 *
 * Makes an RFC 8551 (S/MIME 4.0) section 3.5.3 multipart/signed message:
 * the message's own header fields stay outside; its Content-* fields and
 * body become the first part, canonicalised (RFC 8551 3.1.1: CRLF line
 * ends; a body with 8-bit bytes, NULs or lines over 998 bytes in a single
 * part is base64-encoded first so that no relay rewrites it) and written
 * out byte for byte as they were signed; the second part is a detached CMS
 * SignedData (RFC 5652) made on the card: RSA PKCS#1 v1.5 with SHA-256, or
 * ECDSA with SHA-384 for P-384 keys (SHA-512 for P-521), micalg to match.
 * Signed attributes: contentType, messageDigest, signingTime (the
 * evaluation time), SMIMECapabilities. The certificates between the card's
 * certificate and its root travel with it (the card's CA, or the shipped
 * Belgian issuing CA, found by the same chain builder as the mail checks);
 * the root does not (the reader must already trust it).
 *
 * The key never leaves the card: pkcs11-helper's OpenSSL glue turns the
 * card's key into an EVP_PKEY whose operations are C_Sign calls. Login is
 * forced before anything is signed (pkcs11h_certificate_ensureKeyAccess)
 * so that a wrong PIN, a locked PIN, a cancelled prompt or a removed card
 * each give their own sentence (token_error, exit 3), never a hang: no
 * prompt for a card to be inserted, one PIN attempt. A card that fails
 * the signature itself is judged by the module's own answer to C_Sign
 * (token_key_error: pkcs11-helper hides it behind its retry), and a card
 * gone before the login by what the module says about the slot now.
 *
 * Limits: the message at most mail_max_bytes; nothing is signed with a
 * certificate outside its validity period.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <pkcs11-helper-1.0/pkcs11h-certificate.h>
#include <pkcs11-helper-1.0/pkcs11h-openssl.h>
#include <pkcs11-helper-1.0/pkcs11h-token.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "smime.h"
#include "smime_internal.h"
#include "token.h"
#include "token_internal.h"
#include "verdict.h"

#define LINE_MAX_OCTETS 998      /* RFC 5322 2.1.1 */

struct sbuf {
	unsigned char *p;
	size_t len, cap, max;
};

static int
sb_add(struct sbuf *b, const void *data, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (n == 0)
		return 0;
	if (n > b->max || b->len > b->max - n)
		return -1;
	if (b->len + n > b->cap) {
		cap = b->cap == 0 ? 4096 : b->cap;
		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static int
sb_str(struct sbuf *b, const char *s)
{
	return sb_add(b, s, strlen(s));
}

/* Appends data with every line end made CRLF (bare LF and bare CR too). */
static int
sb_crlf(struct sbuf *b, const unsigned char *d, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (d[i] != '\n' && d[i] != '\r')
			continue;
		if (sb_add(b, d + start, i - start) != 0 || sb_add(b, "\r\n", 2) != 0)
			return -1;
		if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	return sb_add(b, d + start, n - start);
}

/* Base64 in lines of 76 (RFC 2045 6.8). */
static int
sb_base64(struct sbuf *b, const unsigned char *d, size_t n)
{
	unsigned char line[80];
	size_t off, k;
	int w;

	for (off = 0; off < n; off += k) {
		k = n - off < 57 ? n - off : 57;
		w = EVP_EncodeBlock(line, d + off, (int)k);
		if (w < 0 || sb_add(b, line, (size_t)w) != 0 || sb_add(b, "\r\n", 2) != 0)
			return -1;
	}
	return 0;
}

/* --- the message */

struct mail_in {
	struct sbuf outer;       /* header fields that stay outside, CRLF */
	struct sbuf fields;      /* Content-* fields but the CTE, CRLF */
	char ctype[256];         /* Content-Type value, unfolded, cut */
	char cte[64];            /* Content-Transfer-Encoding value */
	struct sbuf cte_field;   /* the original CTE field, CRLF */
	const unsigned char *body;
	size_t body_len;
	int has_date;
};

static int
field_name_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static void
keep_value(char *dst, size_t max, const unsigned char *line, size_t len, size_t colon)
{
	size_t o = strlen(dst), i = colon;

	for (; i < len && o + 1 < max; i++) {
		if (line[i] == '\r' || line[i] == '\n')
			continue;
		dst[o++] = line[i] == '\t' ? ' ' : (char)line[i];
	}
	dst[o] = '\0';
}

/* Splits the message into outside fields, content fields and body. */
static int
mail_split(const unsigned char *raw, size_t len, struct mail_in *m, char *err, size_t errlen)
{
	size_t pos = 0, eol, next, colon, nl;
	enum { DEST_NONE, DEST_OUTER, DEST_FIELDS, DEST_CTE, DEST_DROP } dest = DEST_NONE;
	struct sbuf *to;

	while (pos < len) {
		nl = pos;
		while (nl < len && raw[nl] != '\n')
			nl++;
		next = nl < len ? nl + 1 : len;
		eol = nl;
		if (eol > pos && raw[eol - 1] == '\r')
			eol--;
		if (eol == pos) {           /* the empty line: the body follows */
			pos = next;
			break;
		}
		if (raw[pos] == ' ' || raw[pos] == '\t') {
			if (dest == DEST_NONE)
				goto not_mail;
		} else {
			for (colon = pos; colon < eol && field_name_char(raw[colon]); colon++)
				;
			if (colon == pos || colon >= eol || raw[colon] != ':')
				goto not_mail;
			if (colon - pos == 12 && strncasecmp((const char *)raw + pos,
			    "MIME-Version", 12) == 0) {
				dest = DEST_DROP;
			} else if (colon - pos == 25 && strncasecmp((const char *)raw + pos,
			    "Content-Transfer-Encoding", 25) == 0) {
				dest = DEST_CTE;
				m->cte[0] = '\0';
				m->cte_field.len = 0;
			} else if (colon - pos > 8 && strncasecmp((const char *)raw + pos,
			    "Content-", 8) == 0) {
				dest = DEST_FIELDS;
				if (colon - pos == 12 && strncasecmp((const char *)raw + pos + 8,
				    "Type", 4) == 0)
					m->ctype[0] = '\0';
			} else {
				dest = DEST_OUTER;
				if (colon - pos == 4 && strncasecmp((const char *)raw + pos, "Date",
				    4) == 0)
					m->has_date = 1;
			}
			colon++;
		}
		if (raw[pos] == ' ' || raw[pos] == '\t')
			colon = pos;
		if (dest == DEST_CTE)
			keep_value(m->cte, sizeof(m->cte), raw + pos, eol - pos, colon - pos);
		else if (dest == DEST_FIELDS && strncasecmp((const char *)raw + pos,
		    "Content-Type", 12) == 0)
			keep_value(m->ctype, sizeof(m->ctype), raw + pos, eol - pos, colon - pos);
		else if (dest == DEST_FIELDS && m->ctype[0] != '\0' &&
		    (raw[pos] == ' ' || raw[pos] == '\t') && m->ctype[sizeof(m->ctype) - 2] == '\0')
			keep_value(m->ctype, sizeof(m->ctype), raw + pos, eol - pos, 0);
		to = dest == DEST_OUTER ? &m->outer : dest == DEST_FIELDS ? &m->fields :
		    dest == DEST_CTE ? &m->cte_field : NULL;
		if (to != NULL && (sb_add(to, raw + pos, eol - pos) != 0 ||
		    sb_add(to, "\r\n", 2) != 0)) {
			snprintf(err, errlen, "the message is too large");
			return -1;
		}
		pos = next;
	}
	if (dest == DEST_NONE)
		goto not_mail;
	m->body = raw + pos;
	m->body_len = len - pos;
	return 0;
not_mail:
	snprintf(err, errlen, "the input is not a mail message (header fields, an empty "
	    "line, then the body)");
	return -1;
}

static const char *
trim(char *s)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == ';'))
		s[--n] = '\0';
	return s;
}

/* The first part, exactly as it is signed. */
static int
build_entity(struct mail_in *m, struct sbuf *e, int *eightbit_kept)
{
	const char *cte = trim(m->cte), *ct = trim(m->ctype);
	int multipart = strncasecmp(ct, "multipart/", 10) == 0;
	int is_text = ct[0] == '\0' || strncasecmp(ct, "text/", 5) == 0;
	int plain_cte = cte[0] == '\0' || strcasecmp(cte, "7bit") == 0 ||
	    strcasecmp(cte, "8bit") == 0 || strcasecmp(cte, "binary") == 0;
	int eight = 0, encode;
	size_t i, run = 0;
	struct sbuf canon = { NULL, 0, 0, e->max };
	int rc = -1;

	*eightbit_kept = 0;
	for (i = 0; i < m->body_len; i++) {
		unsigned char c = m->body[i];
		if (c >= 0x80 || c == 0)
			eight = 1;
		run = c == '\n' || c == '\r' ? 0 : run + 1;
		if (run > LINE_MAX_OCTETS)
			eight = 1;
	}
	encode = eight && plain_cte && !multipart;
	if (ct[0] == '\0' && sb_str(e, eight ? "Content-Type: text/plain; charset=utf-8\r\n" :
	    "Content-Type: text/plain; charset=us-ascii\r\n") != 0)
		goto out;
	if (sb_add(e, m->fields.p, m->fields.len) != 0)
		goto out;
	if (encode) {
		if (sb_str(e, "Content-Transfer-Encoding: base64\r\n\r\n") != 0)
			goto out;
		if (is_text) {
			if (sb_crlf(&canon, m->body, m->body_len) != 0 ||
			    sb_base64(e, canon.p, canon.len) != 0)
				goto out;
		} else if (sb_base64(e, m->body, m->body_len) != 0) {
			goto out;
		}
	} else {
		if (sb_add(e, m->cte_field.p, m->cte_field.len) != 0 || sb_str(e, "\r\n") != 0 ||
		    sb_crlf(e, m->body, m->body_len) != 0)
			goto out;
		*eightbit_kept = eight;
	}
	rc = 0;
out:
	free(canon.p);
	return rc;
}

/* --- the card */

struct sign_opts {
	const char *in, *out, *cert, *token;
};

struct sign_failure {
	char msg[512];
};

static int
failf(struct sign_failure *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
failf(struct sign_failure *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static struct token_cert *
find_cert(struct token_entry *t, const char *label)
{
	size_t i;

	for (i = 0; i < t->n_certs; i++) {
		if (strcasecmp(t->certs[i].label, label) == 0 &&
		    X509_check_ca(t->certs[i].x509) == 0)
			return &t->certs[i];
	}
	return NULL;
}

/* The token and certificate to sign with, or -1 with the sentence. */
static int
choose(struct token_session *s, const struct sign_opts *o, struct token_entry **pt,
    struct token_cert **pc, struct sign_failure *f)
{
	struct token_entry *t, *found = NULL;
	struct token_cert *c = NULL;
	char serials[256] = "";
	size_t i, matching = 0, several = 0;

	*pt = NULL;
	*pc = NULL;
	for (i = 0; i < s->n_tokens; i++) {
		t = &s->tokens[i];
		if (o->token != NULL && strcmp(t->label, o->token) != 0 &&
		    strcmp(t->serial, o->token) != 0)
			continue;
		matching++;
		if (find_cert(t, o->cert) == NULL)
			continue;
		if (found != NULL) {
			several++;
			if (several == 1)
				snprintf(serials, sizeof(serials), "%s", found->serial);
			snprintf(serials + strlen(serials), sizeof(serials) - strlen(serials),
			    ", %s", t->serial);
			continue;
		}
		found = t;
		c = find_cert(t, o->cert);
	}
	if (several > 0)
		return failf(f, "Several tokens hold a %s certificate (serials %s): choose one "
		    "with --token SERIAL.", o->cert, serials);
	if (found != NULL) {
		*pt = found;
		*pc = c;
		return 0;
	}
	for (i = 0; i < s->n_modules; i++) {
		const struct token_module *m = &s->modules[i];
		if (strcmp(m->source, "config") == 0 && !m->found)
			return failf(f, "The PKCS#11 module %s (TRUSTLENS_PKCS11_MODULES) does "
			    "not exist.", m->path);
		if (strcmp(m->source, "config") == 0 && !m->loaded)
			return failf(f, "The PKCS#11 module %s (TRUSTLENS_PKCS11_MODULES) %s.",
			    m->path, m->error);
	}
	for (i = 0; i < s->n_modules && !s->modules[i].loaded; i++)
		;
	if (i == s->n_modules)
		return failf(f, "No PKCS#11 module was found: install the Belgian eID "
		    "middleware or OpenSC, or set TRUSTLENS_PKCS11_MODULES.");
	for (i = 0; s->n_tokens == 0 && i < s->n_modules; i++) {
		const struct token_module *m = &s->modules[i];
		if (m->loaded && m->error[0] != '\0')
			return failf(f, "The PKCS#11 module %s %s: unplug the card reader and "
			    "plug it in again, or restart the smart card service (pcscd).",
			    m->path, m->error);
	}
	if (s->n_tokens == 0)
		return failf(f, "No eID card or other token was found: insert the card in "
		    "the reader.");
	if (o->token != NULL && matching == 0)
		return failf(f, "No token with the label or serial \"%s\" was found.", o->token);
	for (i = 0; i < s->n_tokens; i++) {
		t = &s->tokens[i];
		if (o->token != NULL && strcmp(t->label, o->token) != 0 &&
		    strcmp(t->serial, o->token) != 0)
			continue;
		if (t->read_error != CKR_OK)
			return failf(f, "The certificates of the card \"%s\" (serial %s) could "
			    "not be read (%s): take the card out and put it back in.", t->label,
			    t->serial, pkcs11h_getMessage(t->read_error));
		if (strcasecmp(o->cert, "Signature") == 0 && token_label_is_belpic(t->label) &&
		    find_cert(t, "Authentication") != NULL)
			return failf(f, "The card (serial %s) has no signature certificate: "
			    "cards of children under 18 have none. --cert Authentication signs "
			    "with its authentication certificate instead.", t->serial);
	}
	return failf(f, "No token holds a certificate labelled \"%s\".", o->cert);
}

/* The certificates to send along: the path between the card's certificate
 * and its anchor, else the card's own CA certificates; never a self-signed
 * one. */
static STACK_OF(X509) *
chain_to_send(const struct config *cfg, const struct token_entry *t, X509 *leaf, time_t now)
{
	STACK_OF(X509) *out = sk_X509_new_null(), *mine = sk_X509_new_null();
	struct smime_trust *trust = NULL;
	struct smime_result r;
	char why[256];
	X509 *x;
	size_t i;
	int k;

	smime_result_init(&r);
	if (out == NULL || mine == NULL)
		goto out;
	for (i = 0; i < t->n_certs; i++) {
		if (t->certs[i].x509 != leaf)
			sk_X509_push(mine, t->certs[i].x509);
	}
	if (smime_trust_load(cfg, &trust, why, sizeof(why)) == 0 &&
	    smime_signer_evaluate(trust, leaf, mine, 0, now, &r) == 0 &&
	    r.chain_certs != NULL) {
		for (k = 1; k < sk_X509_num(r.chain_certs); k++) {
			x = sk_X509_value(r.chain_certs, k);
			if (X509_check_issued(x, x) != X509_V_OK && X509_up_ref(x) == 1 &&
			    sk_X509_push(out, x) <= 0)
				X509_free(x);
		}
	} else {
		for (k = 0; k < sk_X509_num(mine); k++) {
			x = sk_X509_value(mine, k);
			if (X509_check_ca(x) != 0 && X509_check_issued(x, x) != X509_V_OK &&
			    X509_up_ref(x) == 1 && sk_X509_push(out, x) <= 0)
				X509_free(x);
		}
	}
out:
	smime_result_clear(&r);
	smime_trust_free(trust);
	sk_X509_free(mine);
	ERR_clear_error();
	return out;
}

static const char *
login_failure(CK_RV rv, const struct token_pin_ctx *pc, CK_FLAGS after, char *buf,
    size_t len)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		snprintf(buf, len, "Wrong PIN: the card refused it%s. Nothing was signed.",
		    (after & CKF_USER_PIN_LOCKED) ? " and is now locked" :
		    (after & CKF_USER_PIN_FINAL_TRY) ? "; one more wrong PIN locks the card" :
		    (after & CKF_USER_PIN_COUNT_LOW) ? "; few tries are left" : "");
		return buf;
	case CKR_PIN_LOCKED:
		return "The card's PIN is locked after too many wrong PINs: unblock it with "
		    "the PUK (for a Belgian eID card, at the town hall).";
	case CKR_PIN_EXPIRED:
		return "The card's PIN has expired: change it with the card's own software.";
	case CKR_CANCEL:
	case CKR_FUNCTION_CANCELED:
		if (pc->unavailable) {
			snprintf(buf, len, "The PIN could not be asked for: %s.", pc->why);
			return buf;
		}
		return "PIN entry was cancelled: nothing was signed.";
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_REMOVED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_RECOGNIZED:
		return "The card was removed (or the reader lost it) before the signature was "
		    "made.";
	default:
		snprintf(buf, len, "The card refused to sign (%s).", pkcs11h_getMessage(rv));
		return buf;
	}
}

/* The module says the card is out, or the reader lost it. */
static int
card_gone(CK_RV rv)
{
	return rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED ||
	    rv == CKR_SLOT_ID_INVALID || rv == CKR_DEVICE_ERROR ||
	    rv == CKR_TOKEN_NOT_RECOGNIZED;
}

static int
pin_refused(CK_RV rv)
{
	return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID || rv == CKR_PIN_LEN_RANGE ||
	    rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED;
}

/* The card failed while it was signing: rv is the module's own answer to
 * C_SignInit or C_Sign (token_key_error). */
static const char *
signing_failure(CK_RV rv, const struct token_pin_ctx *pc, CK_FLAGS after, char *buf,
    size_t len)
{
	switch (rv) {
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_REMOVED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_DEVICE_ERROR:
	case CKR_TOKEN_NOT_RECOGNIZED:
		return "The card was removed (or the reader lost it) while it was signing: "
		    "nothing was signed.";
	case CKR_CANCEL:
	case CKR_FUNCTION_CANCELED:
		return "The signature was cancelled at the card (its own PIN dialog or the "
		    "reader's pin pad): nothing was signed.";
	default:
		/* Cards that ask the PIN again for each signature answer the
		 * login's codes here. */
		if (pin_refused(rv))
			return login_failure(rv, pc, after, buf, len);
		snprintf(buf, len, "The card failed while making the signature (%s): nothing "
		    "was signed.", pkcs11h_getMessage(rv));
		return buf;
	}
}

static pkcs11h_certificate_id_t
helper_cert_id(const struct token_entry *t, const struct token_cert *c)
{
	pkcs11h_token_id_list_t tl = NULL, ti;
	pkcs11h_certificate_id_list_t iss = NULL, ends = NULL, ci, lists[2];
	pkcs11h_certificate_id_t out = NULL;
	unsigned char *der = NULL;
	int derlen = i2d_X509(c->x509, &der), k;

	if (derlen <= 0 || pkcs11h_token_enumTokenIds(PKCS11H_ENUM_METHOD_RELOAD, &tl) != CKR_OK)
		goto out;
	for (ti = tl; ti != NULL && out == NULL; ti = ti->next) {
		char label[33], manu[33], model[17], serial[17];
		pkcs11h_token_id_t id = ti->token_id;

		token_printable(label, sizeof(label), (const unsigned char *)id->label,
		    strlen(id->label));
		token_printable(manu, sizeof(manu), (const unsigned char *)id->manufacturerID,
		    strlen(id->manufacturerID));
		token_printable(model, sizeof(model), (const unsigned char *)id->model,
		    strlen(id->model));
		token_printable(serial, sizeof(serial), (const unsigned char *)id->serialNumber,
		    strlen(id->serialNumber));
		if (strcmp(label, t->label) != 0 || strcmp(manu, t->manufacturer) != 0 ||
		    strcmp(model, t->model) != 0 || strcmp(serial, t->serial) != 0)
			continue;
		if (pkcs11h_certificate_enumTokenCertificateIds(id, PKCS11H_ENUM_METHOD_CACHE_EXIST,
		    NULL, 0, &iss, &ends) != CKR_OK)
			continue;
		lists[0] = ends;
		lists[1] = iss;
		for (k = 0; k < 2 && out == NULL; k++) {
			for (ci = lists[k]; ci != NULL; ci = ci->next) {
				pkcs11h_certificate_id_t x = ci->certificate_id;
				if (x->attrCKA_ID_size == c->id_len &&
				    memcmp(x->attrCKA_ID, c->id, c->id_len) == 0 &&
				    x->certificate_blob_size == (size_t)derlen &&
				    memcmp(x->certificate_blob, der, (size_t)derlen) == 0) {
					if (pkcs11h_certificate_duplicateCertificateId(&out, x) !=
					    CKR_OK)
						out = NULL;
					break;
				}
			}
		}
		pkcs11h_certificate_freeCertificateIdList(iss);
		pkcs11h_certificate_freeCertificateIdList(ends);
		iss = ends = NULL;
	}
out:
	if (tl != NULL)
		pkcs11h_token_freeTokenIdList(tl);
	OPENSSL_free(der);
	return out;
}

static const EVP_MD *
digest_for(X509 *x, const char **micalg)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	int bits = pk != NULL ? EVP_PKEY_get_bits(pk) : 0;

	if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC && bits > 256) {
		*micalg = bits > 384 ? "sha-512" : "sha-384";
		return bits > 384 ? EVP_sha512() : EVP_sha384();
	}
	*micalg = "sha-256";
	return EVP_sha256();
}

/* The detached SignedData over content, signed with pk (the card). */
static unsigned char *
make_cms(X509 *signer, EVP_PKEY *pk, STACK_OF(X509) *chain, const EVP_MD *md,
    const struct sbuf *content, time_t now, size_t *len)
{
	const unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_TIME *st = NULL;
	BIO *in = NULL;
	unsigned char *der = NULL;
	int k, n;

	*len = 0;
	ERR_clear_error();
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (cms == NULL)
		goto out;
	si = CMS_add1_signer(cms, signer, pk, md, flags);
	st = ASN1_TIME_adj(NULL, now, 0, 0);
	if (si == NULL || st == NULL ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, st->type, st, -1) != 1)
		goto out;
	for (k = 0; k < sk_X509_num(chain); k++) {
		if (CMS_add1_cert(cms, sk_X509_value(chain, k)) != 1)
			goto out;
	}
	in = BIO_new_mem_buf(content->p, (int)content->len);
	if (in == NULL || CMS_final(cms, in, NULL, CMS_DETACHED | CMS_BINARY) != 1)
		goto out;
	n = i2d_CMS_ContentInfo(cms, &der);
	if (n <= 0) {
		der = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	if (der == NULL && log_enabled())
		log_msg("sign-mail: CMS signing failed (OpenSSL error %lu)", ERR_peek_error());
	ERR_clear_error();
	BIO_free(in);
	ASN1_TIME_free(st);
	CMS_ContentInfo_free(cms);
	return der;
}

/* Signs entity with the chosen certificate's key; the DER in *cms. */
static int
sign_on_card(const struct config *cfg, struct token_session *s, struct token_entry *t,
    struct token_cert *c, struct token_pin_ctx *pc, const struct sbuf *entity,
    const EVP_MD *md, STACK_OF(X509) *chain, unsigned char **cms, size_t *cms_len,
    struct sign_failure *f)
{
	pkcs11h_certificate_id_t id = NULL;
	pkcs11h_certificate_t cert = NULL;
	pkcs11h_openssl_session_t os = NULL;
	EVP_PKEY *pk = NULL;
	char buf[256];
	CK_FLAGS after = 0;
	CK_RV rv, now_rv;
	int rc = -1;

	*cms = NULL;
	id = helper_cert_id(t, c);
	if (id == NULL) {
		/* pkcs11-helper no longer sees the token the scan read. */
		now_rv = token_session_probe(s, t, &after);
		if (card_gone(now_rv))
			return failf(f, "%s", login_failure(now_rv, pc, 0, buf, sizeof(buf)));
		return failf(f, "The card's %s certificate could not be opened for signing.",
		    c->label);
	}
	rv = pkcs11h_certificate_create(id, NULL, PKCS11H_PROMPT_MASK_ALLOW_PIN_PROMPT,
	    PKCS11H_PIN_CACHE_INFINITE, &cert);
	if (rv != CKR_OK) {
		failf(f, "%s", login_failure(rv, pc, 0, buf, sizeof(buf)));
		goto out;
	}
	if (t->flags & CKF_PROTECTED_AUTHENTICATION_PATH)
		fprintf(stderr, "trustlens-host: enter the PIN of the card \"%s\" on the card "
		    "reader's pin pad.\n", t->label);
	rv = pkcs11h_certificate_ensureKeyAccess(cert);
	ERR_clear_error();
	if (rv != CKR_OK) {
		/* A card pulled out before the login makes pkcs11-helper ask
		 * for it to be inserted (declined: CKR_CANCEL); the card's own
		 * answer says what happened. */
		now_rv = token_session_probe(s, t, &after);
		if (card_gone(now_rv) && !pin_refused(rv))
			rv = now_rv;
		failf(f, "%s", login_failure(rv, pc, after, buf, sizeof(buf)));
		log_msg("sign-mail: login failed: %s", pkcs11h_getMessage(rv));
		goto out;
	}
	os = pkcs11h_openssl_createSession(cert);
	if (os == NULL) {
		failf(f, "The card's key could not be used (pkcs11-helper).");
		goto out;
	}
	cert = NULL;          /* the OpenSSL session owns it now */
	pk = pkcs11h_openssl_session_getEVP(os);
	if (pk == NULL) {
		failf(f, "The card's key could not be used (pkcs11-helper).");
		goto out;
	}
	token_key_watch(1);
	*cms = make_cms(c->x509, pk, chain, md, entity, config_now(cfg), cms_len);
	token_key_watch(0);
	if (*cms == NULL) {
		rv = token_key_error();
		now_rv = token_session_probe(s, t, &after);
		if (rv == CKR_OK && card_gone(now_rv))
			rv = now_rv;
		if (rv != CKR_OK)
			failf(f, "%s", signing_failure(rv, pc, after, buf, sizeof(buf)));
		else
			failf(f, "The card did not make the signature (was it removed?).");
		log_msg("sign-mail: the card did not sign: %s", pkcs11h_getMessage(rv));
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(pk);
	if (os != NULL)
		pkcs11h_openssl_freeSession(os);
	if (cert != NULL)
		pkcs11h_certificate_freeCertificate(cert);
	pkcs11h_certificate_freeCertificateId(id);
	ERR_clear_error();
	return rc;
}

/* --- the command */

static const char sign_usage[] =
    "usage: trustlens-host sign-mail --in FILE --out FILE "
    "[--cert Signature|Authentication] [--token LABEL|SERIAL]\n";

static unsigned char *
read_file(const char *path, size_t max, size_t *len, int *too_large)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct sbuf b = { NULL, 0, 0, max };
	unsigned char chunk[65536];
	size_t n;

	*too_large = 0;
	*len = 0;
	if (fp == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (sb_add(&b, chunk, n) != 0) {
			*too_large = b.len + n > max;
			free(b.p);
			b.p = NULL;
			break;
		}
	}
	if (ferror(fp)) {
		free(b.p);
		b.p = NULL;
	}
	if (fp != stdin)
		fclose(fp);
	if (b.p == NULL && !*too_large && b.len == 0)
		b.p = calloc(1, 1);
	*len = b.len;
	return b.p;
}

static int
write_file(const char *path, const struct sbuf *b)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	int ok;

	if (fp == NULL)
		return -1;
	ok = fwrite(b->p, 1, b->len, fp) == b->len;
	if (fp == stdout)
		ok = fflush(fp) == 0 && ok;
	else
		ok = fclose(fp) == 0 && ok;
	if (!ok && fp != stdout)
		unlink(path);
	return ok ? 0 : -1;
}

static int
parse_args(int argc, char **argv, struct sign_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->cert = "Signature";
	for (i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--in") == 0)
			o->in = argv[++i];
		else if (strcmp(argv[i], "--out") == 0)
			o->out = argv[++i];
		else if (strcmp(argv[i], "--cert") == 0)
			o->cert = argv[++i];
		else if (strcmp(argv[i], "--token") == 0)
			o->token = argv[++i];
		else
			return -1;
	}
	if (o->in == NULL || o->out == NULL || o->in[0] == '\0' || o->out[0] == '\0' ||
	    (strcasecmp(o->cert, "Signature") != 0 && strcasecmp(o->cert, "Authentication") != 0))
		return -1;
	o->cert = strcasecmp(o->cert, "Signature") == 0 ? "Signature" : "Authentication";
	return 0;
}

/* The whole message: outside fields, the multipart/signed header, the
 * signed entity as it was signed, the signature. */
static int
compose(const struct mail_in *m, const struct sbuf *entity, const unsigned char *cms,
    size_t cms_len, const char *micalg, time_t now, struct sbuf *out)
{
	unsigned char rnd[12];
	char boundary[64], line[512], date[64];
	struct tm tm;
	int tries;

	for (tries = 0; tries < 8; tries++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -1;
		snprintf(boundary, sizeof(boundary), "----=_TrustLens_");
		token_hex(rnd, sizeof(rnd), boundary + strlen(boundary),
		    sizeof(boundary) - strlen(boundary));
		if (memmem(entity->p, entity->len, boundary, strlen(boundary)) == NULL)
			break;
	}
	if (tries == 8)
		return -1;
	if (sb_add(out, m->outer.p, m->outer.len) != 0)
		return -1;
	if (!m->has_date && gmtime_r(&now, &tm) != NULL &&
	    strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S +0000\r\n", &tm) > 0 &&
	    sb_str(out, date) != 0)
		return -1;
	snprintf(line, sizeof(line), "MIME-Version: 1.0\r\nContent-Type: multipart/signed; "
	    "protocol=\"application/pkcs7-signature\"; micalg=%s;\r\n boundary=\"%s\"\r\n\r\n"
	    "This is a cryptographically signed message in MIME format.\r\n\r\n--%s\r\n",
	    micalg, boundary, boundary);
	if (sb_str(out, line) != 0 || sb_add(out, entity->p, entity->len) != 0)
		return -1;
	snprintf(line, sizeof(line), "\r\n--%s\r\nContent-Type: application/pkcs7-signature; "
	    "name=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: "
	    "attachment; filename=\"smime.p7s\"\r\nContent-Description: S/MIME Cryptographic "
	    "Signature\r\n\r\n", boundary);
	if (sb_str(out, line) != 0 || sb_base64(out, cms, cms_len) != 0)
		return -1;
	snprintf(line, sizeof(line), "--%s--\r\n", boundary);
	return sb_str(out, line);
}

int
token_cli_sign_mail(int argc, char **argv)
{
	struct sign_opts o;
	struct config *cfg = NULL;
	struct token_session *s = NULL;
	struct token_entry *t = NULL;
	struct token_cert *c = NULL;
	struct token_pin_ctx pc;
	struct sign_failure f;
	struct mail_in m;
	struct sbuf entity, out;
	STACK_OF(X509) *chain = NULL;
	const EVP_MD *md;
	const char *micalg = "sha-256";
	unsigned char *raw = NULL, *cms = NULL;
	char err[512], when[32];
	size_t raw_len = 0, cms_len = 0;
	time_t now;
	int rc = CLI_FAILED, too_large = 0, eight = 0, saved = -1;
	enum tl_status st = TL_TOKEN_ERROR;

	memset(&m, 0, sizeof(m));
	memset(&entity, 0, sizeof(entity));
	memset(&out, 0, sizeof(out));
	memset(&pc, 0, sizeof(pc));
	f.msg[0] = '\0';
	if (parse_args(argc, argv, &o) != 0) {
		fputs(sign_usage, stderr);
		return CLI_USAGE;
	}
	if (config_load(&cfg, err, sizeof(err)) != 0) {
		st = TL_BAD_REQUEST;
		snprintf(f.msg, sizeof(f.msg), "%s", err);
		goto fail;
	}
	if (log_open(cfg->log_file, err, sizeof(err)) != 0)
		fprintf(stderr, "trustlens-host: %s\n", err);
	now = config_now(cfg);
	m.outer.max = m.fields.max = m.cte_field.max = cfg->mail_max_bytes;
	entity.max = 2 * cfg->mail_max_bytes;
	out.max = 3 * cfg->mail_max_bytes;
	raw = read_file(o.in, cfg->mail_max_bytes, &raw_len, &too_large);
	if (raw == NULL) {
		st = too_large ? TL_TOO_LARGE : TL_BAD_REQUEST;
		snprintf(f.msg, sizeof(f.msg), too_large ? "the message is larger than %zu "
		    "bytes" : "cannot read the message", cfg->mail_max_bytes);
		goto fail;
	}
	if (mail_split(raw, raw_len, &m, f.msg, sizeof(f.msg)) != 0 ||
	    build_entity(&m, &entity, &eight) != 0) {
		st = TL_BAD_REQUEST;
		if (f.msg[0] == '\0')
			snprintf(f.msg, sizeof(f.msg), "the message is too large");
		goto fail;
	}
	if (eight)
		fprintf(stderr, "trustlens-host: note: the message holds 8-bit data inside a "
		    "multipart body; a relay that is not 8-bit clean may break the signature\n");

	s = token_session_new(cfg);
	if (s == NULL) {
		snprintf(f.msg, sizeof(f.msg), "out of memory");
		goto fail;
	}
	saved = token_stdout_guard();
	if (token_session_open(s, &pc, f.msg, sizeof(f.msg)) != 0)
		goto fail;
	token_session_scan(s, NULL);
	if (choose(s, &o, &t, &c, &f) != 0)
		goto fail;
	if (t->flags & CKF_USER_PIN_LOCKED) {
		snprintf(f.msg, sizeof(f.msg), "%s", login_failure(CKR_PIN_LOCKED, &pc, 0,
		    err, sizeof(err)));
		goto fail;
	}
	if (X509_cmp_time(X509_get0_notAfter(c->x509), &now) < 0) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		when[0] = '\0';
		if (ASN1_TIME_to_tm(X509_get0_notAfter(c->x509), &tm) == 1)
			verdict_format_time(timegm(&tm), when, sizeof(when));
		snprintf(f.msg, sizeof(f.msg), "The %s certificate of the card expired on %.10s: "
		    "it can no longer sign.", c->label, when);
		goto fail;
	}
	if (X509_cmp_time(X509_get0_notBefore(c->x509), &now) > 0) {
		snprintf(f.msg, sizeof(f.msg), "The %s certificate of the card is not valid "
		    "yet.", c->label);
		goto fail;
	}
	md = digest_for(c->x509, &micalg);
	chain = chain_to_send(cfg, t, c->x509, now);
	pc.token_label = t->label;
	pc.final_try = (t->flags & CKF_USER_PIN_FINAL_TRY) != 0;
	pc.count_low = (t->flags & CKF_USER_PIN_COUNT_LOW) != 0;
	if (sign_on_card(cfg, s, t, c, &pc, &entity, md, chain, &cms, &cms_len, &f) != 0)
		goto fail;
	token_session_close(s);
	token_stdout_restore(saved);
	saved = -1;
	if (compose(&m, &entity, cms, cms_len, micalg, now, &out) != 0) {
		st = TL_INTERNAL;
		snprintf(f.msg, sizeof(f.msg), "out of memory");
		goto fail;
	}
	if (write_file(o.out, &out) != 0) {
		st = TL_INTERNAL;
		snprintf(f.msg, sizeof(f.msg), "cannot write %s: %s", o.out, strerror(errno));
		goto fail;
	}
	log_msg("sign-mail: signed %zu bytes with the %s certificate", entity.len, c->label);
	if (strcmp(o.out, "-") != 0)
		printf("Signed with the %s certificate of the card \"%s\" (serial %s): %s\n",
		    c->label, t->label, t->serial, o.out);
	rc = CLI_OK;
	goto out;
fail:
	if (saved >= 0) {
		token_session_close(s);
		token_stdout_restore(saved);
		saved = -1;
	}
	log_msg("sign-mail: failed (%s)", status_code(st));
	cli_print_error(0, st, f.msg);
out:
	sk_X509_pop_free(chain, X509_free);
	OPENSSL_free(cms);
	token_session_free(s);
	free(raw);
	free(m.outer.p);
	free(m.fields.p);
	free(m.cte_field.p);
	free(entity.p);
	free(out.p);
	OPENSSL_cleanse(&pc, sizeof(pc));
	config_free(cfg);
	log_close();
	return rc;
}
