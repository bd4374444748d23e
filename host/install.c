/*
 * install: see install.h. Linux paths; the macOS and Windows equivalents
 * live in installers/ (scripts) until the host runs there.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller.h"
#include "install.h"

static const struct install_browser browsers[] = {
	{ "chromium", INSTALL_CHROMIUM_FAMILY, ".config/chromium/NativeMessagingHosts",
	  "/etc/chromium/native-messaging-hosts" },
	{ "chrome", INSTALL_CHROMIUM_FAMILY, ".config/google-chrome/NativeMessagingHosts",
	  "/etc/opt/chrome/native-messaging-hosts" },
	{ "edge", INSTALL_CHROMIUM_FAMILY, ".config/microsoft-edge/NativeMessagingHosts",
	  "/etc/opt/edge/native-messaging-hosts" },
	{ "brave", INSTALL_CHROMIUM_FAMILY,
	  ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
	  "/etc/opt/chrome/native-messaging-hosts" },
	{ "vivaldi", INSTALL_CHROMIUM_FAMILY, ".config/vivaldi/NativeMessagingHosts",
	  "/etc/opt/vivaldi/native-messaging-hosts" },
	{ "firefox", INSTALL_FIREFOX_FAMILY, ".mozilla/native-messaging-hosts",
	  "/usr/lib/mozilla/native-messaging-hosts" },
	{ NULL, INSTALL_CHROMIUM_FAMILY, NULL, NULL },
};

const struct install_browser *
install_browsers(void)
{
	return browsers;
}

const struct install_browser *
install_find(const char *name)
{
	const struct install_browser *b;

	for (b = browsers; b->name != NULL; b++) {
		if (strcmp(b->name, name) == 0)
			return b;
	}
	return NULL;
}

char *
install_manifest_json(enum install_family family, const char *host_path)
{
	const char *const *ids;
	json_t *m, *allowed;
	char origin[128];
	char *s = NULL;

	if (host_path == NULL || host_path[0] != '/')
		return NULL;
	allowed = json_array();
	if (allowed == NULL)
		return NULL;
	if (family == INSTALL_FIREFOX_FAMILY) {
		for (ids = caller_builtin_gecko(); *ids != NULL; ids++)
			json_array_append_new(allowed, json_string(*ids));
	} else {
		for (ids = caller_builtin_chromium(); *ids != NULL; ids++) {
			snprintf(origin, sizeof(origin), "chrome-extension://%s/", *ids);
			json_array_append_new(allowed, json_string(origin));
		}
	}
	m = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", INSTALL_HOST_NAME,
	    "description", "TrustLens: who is proven to be behind a site or a mail",
	    "path", host_path, "type", "stdio",
	    family == INSTALL_FIREFOX_FAMILY ? "allowed_extensions" : "allowed_origins",
	    allowed);
	if (m == NULL)
		return NULL;
	s = json_dumps(m, JSON_INDENT(2));
	json_decref(m);
	return s;
}

static int
mkdirs(const char *dir, char *errbuf, size_t errlen)
{
	char path[PATH_MAX];
	size_t i, len = strlen(dir);

	if (len == 0 || len >= sizeof(path)) {
		snprintf(errbuf, errlen, "the directory name is empty or too long");
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			snprintf(errbuf, errlen, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
		path[i] = i == len ? '\0' : '/';
	}
	return 0;
}

static int
manifest_path(const char *dir, char *out, size_t outlen, char *errbuf, size_t errlen)
{
	int n = snprintf(out, outlen, "%s/%s.json", dir, INSTALL_HOST_NAME);

	if (n < 0 || (size_t)n >= outlen) {
		snprintf(errbuf, errlen, "the directory name is too long");
		return -1;
	}
	return 0;
}

/* Reads a whole small file; NULL when missing or over 64 KiB. */
static char *
read_small(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(65537);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, 65537, f);
	fclose(f);
	if (n > 65536) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

int
install_write(const char *dir, enum install_family family, const char *host_path,
    int *changed, char *errbuf, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	char *text = NULL, *old = NULL;
	size_t len, done = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	*changed = 0;
	text = install_manifest_json(family, host_path);
	if (text == NULL) {
		snprintf(errbuf, errlen, "cannot build the manifest (host path must be absolute)");
		goto out;
	}
	if (manifest_path(dir, path, sizeof(path), errbuf, errlen) < 0 ||
	    mkdirs(dir, errbuf, errlen) < 0)
		goto out;
	len = strlen(text);
	old = read_small(path);
	if (old != NULL && strlen(old) == len + 1 && memcmp(old, text, len) == 0 &&
	    old[len] == '\n') {
		rc = 0; /* already as we would write it */
		goto out;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		snprintf(errbuf, errlen, "the directory name is too long");
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot write in %s: %s", dir, strerror(errno));
		goto out;
	}
	text[len] = '\n'; /* replaces the NUL; write len + 1 bytes */
	while (done < len + 1) {
		n = write(fd, text + done, len + 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(errbuf, errlen, "cannot write %s: %s", tmp, strerror(errno));
			goto out_unlink;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		snprintf(errbuf, errlen, "cannot finish %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(errbuf, errlen, "cannot rename into %s: %s", path, strerror(errno));
		goto out_unlink;
	}
	*changed = 1;
	rc = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(old);
	return rc;
}

int
install_remove(const char *dir, char *errbuf, size_t errlen)
{
	char path[PATH_MAX];
	json_t *m;
	const char *name = NULL;
	struct stat st;

	if (manifest_path(dir, path, sizeof(path), errbuf, errlen) < 0)
		return -1;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	m = json_load_file(path, 0, NULL);
	if (m == NULL || json_unpack(m, "{s:s}", "name", &name) != 0 ||
	    strcmp(name, INSTALL_HOST_NAME) != 0) {
		json_decref(m);
		snprintf(errbuf, errlen, "%s is not a TrustLens manifest; left in place", path);
		return -1;
	}
	json_decref(m);
	if (unlink(path) != 0) {
		snprintf(errbuf, errlen, "cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 1;
}

char *
install_self_path(void)
{
	return realpath("/proc/self/exe", NULL);
}
