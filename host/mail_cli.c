/*
 * mail_cli: `trustlens-host mail FILE|- [--json]`: reads a message (at most
 * mail_max_bytes), prints the verdict for a person or as the protocol's
 * JSON. The verdict itself is mail.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "mail.h"
#include "mail_internal.h"
#include "status.h"

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
		cli_print_json(v);
	} else {
		print_mail(v);
	}
	rc = CLI_OK;
	goto out;
fail:
	cli_print_error(as_json, st, err);
out:
	json_decref(v);
	free(raw);
	mail_shutdown();
	config_free(cfg);
	log_close();
	return rc;
}
