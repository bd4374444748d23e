/*
 * token: the `tokens` request and `trustlens-host tokens [--json]`; see
 * token.h. The work is token_list.c's; this file asks and prints.
 *
 * The text form is for a helpdesk on the phone: which modules were found,
 * each card with its holder, its PIN state and each certificate with its
 * expiry and whether it chains to the Belgian eID roots and is revoked.
 * Nothing in it (nor in the JSON) identifies the citizen beyond the name
 * printed on the card: the national register number is never read.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pkcs11-helper-1.0/pkcs11h-core.h>

#include "call.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "token.h"
#include "token_internal.h"

void
token_library_version(char *buf, size_t len)
{
	unsigned v = pkcs11h_getVersion();

	/* pkcs11-helper packs major.minor.fix as 0xMMmmff. */
	snprintf(buf, len, "pkcs11-helper %u.%u.%u", (v >> 16) & 0xff, (v >> 8) & 0xff,
	    v & 0xff);
}

int
token_stdout_guard(void)
{
	int saved;

	fflush(stdout);
	saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	return saved;
}

void
token_stdout_restore(int saved)
{
	fflush(stdout);
	if (saved < 0)
		return;
	dup2(saved, STDOUT_FILENO);
	close(saved);
}

int
token_handle_tokens(struct tl_call *call)
{
	char err[256];

	call->result = token_list(call->cfg, call->cancel, err, sizeof(err));
	if (call->result == NULL)
		return call_fail(call, TL_TOKEN_ERROR, "%s", err);
	return 0;
}

static const char *
js(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
jb(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static const char *
note_words(const char *code)
{
	static const struct {
		const char *code, *words;
	} t[] = {
		{ "empty", "the token holds no certificate" },
		{ "no_signature_certificate", "no signature certificate (normal on the card "
		    "of a child under 18): it cannot sign mail, only authenticate" },
		{ "pin_locked", "the PIN is LOCKED: unblock it with the PUK (town hall)" },
		{ "pin_final_try", "one more wrong PIN locks the card" },
		{ "pin_count_low", "a wrong PIN was entered recently" },
		{ "certificate_expires_soon", "a certificate expires within 30 days: "
		    "renew the card" },
		{ "certificate_expired", "a certificate has expired" },
		{ "certificate_revoked", "a certificate is REVOKED" },
		{ "chain_untrusted", "a certificate does not chain to the Belgian eID roots" },
		{ "certificates_truncated", "more certificates than shown" },
		{ "certificates_unreadable", "the card's certificates could not be read: "
		    "take the card out and put it back in" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(t[i].code, code) == 0)
			return t[i].words;
	}
	return code;
}

static void
print_cert(const json_t *c)
{
	const json_t *subj = json_object_get(c, "subject"), *key = json_object_get(c, "key");
	const char *name = js(subj, "name"), *curve = js(key, "curve");
	long long days = (long long)json_integer_value(json_object_get(c, "days_left"));
	char keyw[48];

	if (curve != NULL)
		snprintf(keyw, sizeof(keyw), "EC %s", curve);
	else
		snprintf(keyw, sizeof(keyw), "%s %lld", strcmp(js(key, "type"), "rsa") == 0 ?
		    "RSA" : js(key, "type"),
		    (long long)json_integer_value(json_object_get(key, "bits")));
	printf("    %-15s (id %s) %s\n", js(c, "label")[0] ? js(c, "label") : "(no label)",
	    js(c, "id"), name != NULL ? name : "");
	printf("      key %s; valid until %.10s (%s%lld days%s); issuer %s\n", keyw,
	    js(c, "not_after"), days < 0 ? "expired " : "", days < 0 ? -days : days,
	    days < 0 ? " ago" : " left", js(c, "issuer") ? js(c, "issuer") : "?");
	printf("      eID chain: %s; revocation: %s; sha256 %s\n", js(c, "eid_chain"),
	    js(c, "revocation"), js(c, "sha256"));
}

static void
print_tokens(const json_t *r)
{
	const json_t *mods = json_object_get(r, "modules"), *toks = json_object_get(r, "tokens");
	const json_t *m, *t, *c, *n, *fl, *h;
	size_t i, j, absent = 0, failing = 0;

	printf("PKCS#11 modules:\n");
	json_array_foreach(mods, i, m) {
		if (!jb(m, "found") && strcmp(js(m, "source"), "builtin") == 0) {
			absent++;
			continue;
		}
		printf("  %s (%s): %s%s%s\n", js(m, "path"), strcmp(js(m, "source"),
		    "config") == 0 ? "TRUSTLENS_PKCS11_MODULES" : "built-in",
		    jb(m, "loaded") ? "loaded" : "NOT loaded", js(m, "error") ? ", " : "",
		    js(m, "error") ? js(m, "error") : "");
		if (jb(m, "loaded") && js(m, "error") != NULL)
			failing++;
	}
	if (absent > 0)
		printf("  (%zu other usual places searched: nothing there)\n", absent);
	if (json_array_size(toks) == 0) {
		printf("No eID card or other token found. %s\n", failing > 0 ?
		    "A module above FAILED: unplug the card reader and plug it in again, or "
		    "restart the smart card service (pcscd)." : "Is the card in the reader?");
		return;
	}
	json_array_foreach(toks, i, t) {
		fl = json_object_get(t, "flags");
		h = json_object_get(t, "holder");
		printf("\nToken \"%s\"%s\n", js(t, "label"), jb(t, "belpic") ?
		    ": Belgian eID card" : "");
		if (json_is_object(h))
			printf("  holder:        %s\n", js(h, "name"));
		printf("  maker, model:  %s, %s; serial %s\n", js(t, "manufacturer"),
		    js(t, "model"), js(t, "serial"));
		printf("  module:        %s\n", js(t, "module"));
		printf("  PIN:           %s%s\n", jb(fl, "pin_locked") ? "LOCKED" :
		    jb(fl, "pin_final_try") ? "one try left" : jb(fl, "pin_count_low") ?
		    "tries were used" : jb(fl, "pin_initialized") ? "set, usable" : "not set",
		    jb(fl, "protected_authentication_path") ? "; typed on the reader's pin pad" :
		    "");
		printf("  signature certificate: %s\n", jb(t, "has_signature_certificate") ?
		    "yes" : "no");
		printf("  certificates:%s\n", json_array_size(json_object_get(t,
		    "certificates")) == 0 ? " none" : "");
		json_array_foreach(json_object_get(t, "certificates"), j, c)
			print_cert(c);
		json_array_foreach(json_object_get(t, "notes"), j, n)
			printf("  %s %s\n", j == 0 ? "notes:" : "      ",
			    note_words(json_string_value(n)));
	}
}

int
token_cli(int argc, char **argv)
{
	struct config *cfg = NULL;
	json_t *r = NULL;
	char err[512];
	int i, as_json = 0, rc = CLI_FAILED, saved;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
		} else {
			fprintf(stderr, "usage: trustlens-host tokens [--json]\n");
			return CLI_USAGE;
		}
	}
	if (config_load(&cfg, err, sizeof(err)) != 0) {
		cli_print_error(as_json, TL_BAD_REQUEST, err);
		return CLI_FAILED;
	}
	if (log_open(cfg->log_file, err, sizeof(err)) != 0)
		fprintf(stderr, "trustlens-host: %s\n", err);
	saved = token_stdout_guard();
	r = token_list(cfg, NULL, err, sizeof(err));
	token_stdout_restore(saved);
	if (r == NULL) {
		cli_print_error(as_json, TL_TOKEN_ERROR, err);
		goto out;
	}
	if (as_json)
		cli_print_json(r);
	else
		print_tokens(r);
	rc = CLI_OK;
out:
	json_decref(r);
	config_free(cfg);
	log_close();
	return rc;
}
