/*
 * fuzz_mail: one raw message through the whole mail verdict (mail_evaluate):
 * MIME parsing, S/MIME verification, the From binding, coverage, links, the
 * sender history and the decision. No network: the cancel flag is raised and
 * private addresses stay refused, so revocation checks give up at once.
 * State (history, cache) lives in a fresh directory under /tmp, removed at
 * exit. The demo mails' test anchors (tests/demo-mail, relative to the
 * repository root where `make fuzz` and `make check` run) are trusted when
 * present, so signed seeds reach the chain, binding and history code.
 *
 * Beyond "no crash, no leak", the contract of DESIGN.md s. 4 is checked on
 * every input: a verdict is always produced, its values are from the lists,
 * and a signature that is "invalid" is always "danger".
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mail.h"
#include "mail_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EID_ROOTS "tests/demo-mail/eid-test-roots.pem"
#define SMIME_CA "tests/demo-mail/smime-test-ca.pem"

static char state_dir[64];
static struct config *cfg;
static struct mail_ctx *ctx;

static const char *
env(const char *name)
{
	if (strcmp(name, "TRUSTLENS_STATE_DIR") == 0)
		return state_dir;
	if (strcmp(name, "TRUSTLENS_NOW") == 0)
		return "2026-06-01T00:00:00Z";
	if (strcmp(name, "TRUSTLENS_EID_ROOTS") == 0)
		return access(EID_ROOTS, R_OK) == 0 ? EID_ROOTS : NULL;
	if (strcmp(name, "TRUSTLENS_SMIME_CA_FILE") == 0)
		return access(SMIME_CA, R_OK) == 0 ? SMIME_CA : NULL;
	return NULL;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	mail_shutdown();
	config_free(cfg);
	if (state_dir[0] != '\0')
		nftw(state_dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static int
one_of(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++) {
		if (strcmp(s, *list) == 0)
			return 1;
	}
	return 0;
}

static void
setup(void)
{
	char err[512];

	snprintf(state_dir, sizeof(state_dir), "/tmp/tl-fuzz-mail.XXXXXX");
	if (mkdtemp(state_dir) == NULL || config_load_from(&cfg, env, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_mail: setup failed\n");
		abort();
	}
	atexit(cleanup);
	ctx = mail_context(cfg, err, sizeof(err));
	if (ctx == NULL) {
		fprintf(stderr, "fuzz_mail: %s\n", err);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const verdicts[] = { "trusted", "caution", "danger", NULL };
	static const char *const signatures[] = { "valid", "invalid", "none", "unsupported",
	    NULL };
	static const char *const coverages[] = { "full", "partial", "none", NULL };
	atomic_int cancel;
	const char *verdict, *sig;
	json_t *v;
	char *text;

	if (ctx == NULL)
		setup();
	atomic_init(&cancel, 1);
	v = mail_evaluate(ctx, data, size, config_now(cfg), &cancel);
	if (v == NULL)
		abort(); /* only out of memory may give no verdict */
	verdict = json_string_value(json_object_get(v, "verdict"));
	sig = json_string_value(json_object_get(v, "signature"));
	if (!one_of(verdict, verdicts) || !one_of(sig, signatures) ||
	    !one_of(json_string_value(json_object_get(v, "coverage")), coverages) ||
	    !json_is_array(json_object_get(v, "links")) ||
	    (strcmp(sig, "invalid") == 0 && strcmp(verdict, "danger") != 0))
		abort();
	text = json_dumps(v, JSON_COMPACT);
	if (text == NULL)
		abort();
	free(text);
	json_decref(v);
	return 0;
}
