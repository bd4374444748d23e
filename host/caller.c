/*
 * caller: see caller.h.
 */
#include <string.h>

#include "caller.h"
#include "config.h"
#include "extid.h"
#include "extids.h" /* generated: EXTIDS_CHROMIUM, EXTIDS_GECKO */

static const char *const builtin_chromium[] = EXTIDS_CHROMIUM_NULL;
static const char *const builtin_gecko[] = EXTIDS_GECKO_NULL;

static const char chrome_prefix[] = "chrome-extension://";

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum caller_kind
caller_detect(int argc, char **argv, struct caller *out)
{
	const char *a;
	size_t plen = sizeof(chrome_prefix) - 1, len;

	memset(out, 0, sizeof(*out));
	if (argc < 2 || argv[1] == NULL)
		return out->kind = CALLER_NONE;
	a = argv[1];
	if (strncmp(a, chrome_prefix, plen) == 0) {
		out->kind = CALLER_CHROMIUM;
		/* Exactly "<32 letters a-p>/": anything else stays "" and is
		 * refused by caller_allowed. */
		len = strlen(a + plen);
		if (len == EXTID_LEN + 1 && a[plen + EXTID_LEN] == '/' &&
		    extid_is_valid(a + plen, EXTID_LEN)) {
			memcpy(out->id, a + plen, EXTID_LEN);
			out->id[EXTID_LEN] = '\0';
		}
		return out->kind;
	}
	if (argc >= 3 && argv[2] != NULL && ends_with(a, ".json") &&
	    strchr(a, '/') != NULL) {
		out->kind = CALLER_FIREFOX;
		len = strlen(argv[2]);
		if (len > 0 && len < CALLER_ID_MAX)
			memcpy(out->id, argv[2], len + 1);
		return out->kind;
	}
	if (strstr(a, "://") != NULL)
		return out->kind = CALLER_OTHER;
	return out->kind = CALLER_NONE;
}

static int
in_list(const char *id, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n && list[i] != NULL; i++) {
		if (strcmp(list[i], id) == 0)
			return 1;
	}
	return 0;
}

int
caller_allowed(const struct caller *c, const struct config *cfg)
{
	const char *const *extra = NULL;
	size_t n_extra = 0;

	if (c->id[0] == '\0')
		return 0;
	if (cfg != NULL) {
		extra = (const char *const *)cfg->extensions;
		n_extra = cfg->n_extensions;
	}
	switch (c->kind) {
	case CALLER_CHROMIUM:
		return in_list(c->id, builtin_chromium, (size_t)-1) ||
		    in_list(c->id, extra, n_extra);
	case CALLER_FIREFOX:
		return in_list(c->id, builtin_gecko, (size_t)-1) ||
		    in_list(c->id, extra, n_extra);
	case CALLER_NONE:
	case CALLER_OTHER:
	default:
		return 0;
	}
}

const char *const *
caller_builtin_chromium(void)
{
	return builtin_chromium;
}

const char *const *
caller_builtin_gecko(void)
{
	return builtin_gecko;
}
