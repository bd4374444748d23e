/*
 * laststart: see laststart.h.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "caller.h"
#include "config.h"
#include "laststart.h"
#include "version.h"

#define ID_MAX 128

/* 1 when id looks like an extension id we may copy into a file. */
static int
id_printable(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("@._-{}", c) != NULL))
			return 0;
	}
	return 1;
}

static const char *
kind_name(enum caller_kind k)
{
	switch (k) {
	case CALLER_CHROMIUM:
		return "chromium";
	case CALLER_FIREFOX:
		return "firefox";
	case CALLER_OTHER:
		return "other";
	case CALLER_NONE:
		break;
	}
	return "none";
}

void
laststart_record(const struct config *cfg, const struct caller *who, int allowed)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX], when[32];
	time_t now = time(NULL);
	struct tm tm;
	json_t *o = NULL;
	char *text = NULL;
	size_t len;
	int fd = -1;

	if (cfg == NULL || config_state_dir(cfg, dir, sizeof(dir)) != 0)
		return;
	if (snprintf(path, sizeof(path), "%s/%s", dir, LASTSTART_FILE) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return;
	o = json_pack("{s:s, s:s, s:s?, s:b, s:s}", "time", when, "browser_kind",
	    kind_name(who->kind), "extension_id", id_printable(who->id) ? who->id : NULL,
	    "allowed_then", allowed, "version", TL_VERSION);
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text == NULL)
		goto out;
	len = strlen(text);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto out;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, 0600) != 0 || close(fd) != 0) {
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		unlink(tmp);
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(text);
	json_decref(o);
}

json_t *
laststart_read(const struct config *cfg)
{
	char dir[PATH_MAX], path[PATH_MAX];
	json_t *o, *out = NULL;
	const char *when = NULL, *kind = NULL, *id = NULL, *version = NULL;
	int allowed = 0;

	if (cfg == NULL || config_state_dir(cfg, dir, sizeof(dir)) != 0 ||
	    snprintf(path, sizeof(path), "%s/%s", dir, LASTSTART_FILE) >= (int)sizeof(path))
		return NULL;
	o = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL)
		return NULL;
	if (json_unpack(o, "{s:s, s:s, s?s, s:b, s:s}", "time", &when, "browser_kind", &kind,
	    "extension_id", &id, "allowed_then", &allowed, "version", &version) == 0 &&
	    (id == NULL || id_printable(id)))
		out = json_pack("{s:s, s:s, s:s?, s:b, s:s}", "time", when, "browser_kind",
		    kind, "extension_id", id, "allowed_then", allowed, "version", version);
	json_decref(o);
	return out;
}
