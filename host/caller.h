/*
 * caller: who launched the host, and may they use it?
 *
 * Chromium-family browsers pass "chrome-extension://<id>/" as argv[1];
 * Firefox passes the path of the host manifest as argv[1] and the add-on id
 * as argv[2] (DESIGN.md s. 3). The host answers only its own extension: the
 * ids compiled in from extension-manifest/manifest.json, plus the
 * "allowed_extensions" of the config file. Anything that looks like a
 * browser launch but names another caller is refused with forbidden_origin.
 */
#ifndef TL_CALLER_H
#define TL_CALLER_H

#include <stddef.h>

struct config;

enum caller_kind {
	CALLER_NONE = 0,   /* not a browser launch: command line */
	CALLER_CHROMIUM,   /* chrome-extension://<id>/ */
	CALLER_FIREFOX,    /* manifest path + add-on id */
	CALLER_OTHER       /* looks like a browser launch, unrecognised form */
};

#define CALLER_ID_MAX 256

struct caller {
	enum caller_kind kind;
	char id[CALLER_ID_MAX]; /* extension id, or "" when unparseable */
};

/* Classifies argv (pure string checks: safe before any library is loaded).
 * Returns the kind and fills *out. */
enum caller_kind caller_detect(int argc, char **argv, struct caller *out);

/* 1 when the caller is one of ours (built-in ids or cfg->extensions). */
int caller_allowed(const struct caller *c, const struct config *cfg);

/* The built-in ids, NULL-terminated, for install and diagnose. */
const char *const *caller_builtin_chromium(void);
const char *const *caller_builtin_gecko(void);

#endif
