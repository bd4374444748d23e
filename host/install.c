/*
 * install: see install.h. The table below is the one place that knows
 * where browsers look; installers/ and docs/install.md follow it (checked
 * by tests/install/run.sh).
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

/*
 * Linux. Chromium-family browsers read <user data dir>/NativeMessagingHosts
 * and one system directory fixed at build time (Chromium's
 * chrome/common/chrome_paths.cc: /etc/opt/chrome for Google-branded
 * builds, /etc/chromium otherwise; forks patch their own in). Where forks
 * are reported to use two system directories (Brave), both are written.
 * Opera reads Google Chrome's directories. Firefox reads
 * ~/.mozilla/native-messaging-hosts and /usr/lib/mozilla/native-messaging-
 * hosts (MDN, "Native manifests").
 */
static const struct install_browser browsers[] = {
	{ "chromium", "Chromium", INSTALL_CHROMIUM_FAMILY,
	  ".config/chromium/NativeMessagingHosts",
	  { "/etc/chromium/native-messaging-hosts", NULL }, NULL,
	  { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium", NULL },
	  "/etc/chromium/policies/managed", NULL, "chromium", "org.chromium.Chromium",
	  "Debian's and Ubuntu's chromium packages." },
	{ "chrome", "Google Chrome", INSTALL_CHROMIUM_FAMILY,
	  ".config/google-chrome/NativeMessagingHosts",
	  { "/etc/opt/chrome/native-messaging-hosts", NULL }, NULL,
	  { "/usr/bin/google-chrome-stable", "/usr/bin/google-chrome", "/opt/google/chrome/chrome",
	    NULL },
	  "/etc/opt/chrome/policies/managed", NULL, NULL, "com.google.Chrome", NULL },
	{ "edge", "Microsoft Edge", INSTALL_CHROMIUM_FAMILY,
	  ".config/microsoft-edge/NativeMessagingHosts",
	  { "/etc/opt/edge/native-messaging-hosts", NULL }, NULL,
	  { "/usr/bin/microsoft-edge-stable", "/usr/bin/microsoft-edge",
	    "/opt/microsoft/msedge/msedge", NULL },
	  "/etc/opt/edge/policies/managed", NULL, NULL, "com.microsoft.Edge", NULL },
	{ "brave", "Brave", INSTALL_CHROMIUM_FAMILY,
	  ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
	  { "/etc/brave/native-messaging-hosts", "/etc/opt/brave/native-messaging-hosts", NULL },
	  NULL,
	  { "/usr/bin/brave-browser", "/usr/bin/brave-browser-stable",
	    "/opt/brave.com/brave/brave", NULL },
	  "/etc/brave/policies/managed", NULL, "brave", "com.brave.Browser",
	  "Builds differ in their system directory: both are written." },
	{ "vivaldi", "Vivaldi", INSTALL_CHROMIUM_FAMILY,
	  ".config/vivaldi/NativeMessagingHosts",
	  { "/etc/opt/vivaldi/native-messaging-hosts", NULL }, NULL,
	  { "/usr/bin/vivaldi-stable", "/usr/bin/vivaldi", "/opt/vivaldi/vivaldi", NULL },
	  "/etc/opt/vivaldi/policies/managed", NULL, NULL, "com.vivaldi.Vivaldi", NULL },
	{ "opera", "Opera", INSTALL_CHROMIUM_FAMILY,
	  ".config/opera/NativeMessagingHosts",
	  { "/etc/opt/opera/native-messaging-hosts", NULL }, "chrome",
	  { "/usr/bin/opera", "/usr/lib/x86_64-linux-gnu/opera/opera", "/opt/opera/opera", NULL },
	  NULL, NULL, "opera", "com.opera.Opera",
	  "Opera also reads Google Chrome's directories; untested here." },
	{ "firefox", "Firefox", INSTALL_FIREFOX_FAMILY,
	  ".mozilla/native-messaging-hosts",
	  { "/usr/lib/mozilla/native-messaging-hosts", NULL }, NULL,
	  { "/usr/bin/firefox", "/usr/bin/firefox-esr", "/usr/lib/firefox-esr/firefox-esr",
	    "/usr/lib/firefox/firefox" },
	  "/etc/firefox/policies/policies.json", "/usr/lib/firefox-esr/distribution/policies.json",
	  "firefox", "org.mozilla.firefox",
	  "Firefox and Firefox ESR share these directories." },
	{ NULL, NULL, INSTALL_CHROMIUM_FAMILY, NULL, { NULL }, NULL, { NULL }, NULL, NULL, NULL,
	  NULL, NULL },
};

/*
 * macOS (Chrome's and MDN's documentation; Brave and Chromium as Chrome's
 * scheme gives them) and Windows (registry keys whose default value is the
 * manifest's path). Data for installers/ and the docs: untested here.
 */
static const struct install_location others[] = {
	{ INSTALL_OS_MACOS, "chrome", INSTALL_CHROMIUM_FAMILY,
	  "Library/Application Support/Google/Chrome/NativeMessagingHosts",
	  "/Library/Google/Chrome/NativeMessagingHosts" },
	{ INSTALL_OS_MACOS, "chromium", INSTALL_CHROMIUM_FAMILY,
	  "Library/Application Support/Chromium/NativeMessagingHosts",
	  "/Library/Application Support/Chromium/NativeMessagingHosts" },
	{ INSTALL_OS_MACOS, "edge", INSTALL_CHROMIUM_FAMILY,
	  "Library/Application Support/Microsoft Edge/NativeMessagingHosts",
	  "/Library/Microsoft/Edge/NativeMessagingHosts" },
	{ INSTALL_OS_MACOS, "brave", INSTALL_CHROMIUM_FAMILY,
	  "Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
	  "/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts" },
	{ INSTALL_OS_MACOS, "firefox", INSTALL_FIREFOX_FAMILY,
	  "Library/Application Support/Mozilla/NativeMessagingHosts",
	  "/Library/Application Support/Mozilla/NativeMessagingHosts" },
	{ INSTALL_OS_WINDOWS, "chrome", INSTALL_CHROMIUM_FAMILY,
	  "Software\\Google\\Chrome\\NativeMessagingHosts\\" INSTALL_HOST_NAME,
	  "Software\\Google\\Chrome\\NativeMessagingHosts\\" INSTALL_HOST_NAME },
	{ INSTALL_OS_WINDOWS, "edge", INSTALL_CHROMIUM_FAMILY,
	  "Software\\Microsoft\\Edge\\NativeMessagingHosts\\" INSTALL_HOST_NAME,
	  "Software\\Microsoft\\Edge\\NativeMessagingHosts\\" INSTALL_HOST_NAME },
	{ INSTALL_OS_WINDOWS, "firefox", INSTALL_FIREFOX_FAMILY,
	  "Software\\Mozilla\\NativeMessagingHosts\\" INSTALL_HOST_NAME,
	  "Software\\Mozilla\\NativeMessagingHosts\\" INSTALL_HOST_NAME },
	{ INSTALL_OS_LINUX, NULL, INSTALL_CHROMIUM_FAMILY, NULL, NULL },
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

const struct install_location *
install_other_locations(void)
{
	return others;
}

const char *
install_os_name(enum install_os os)
{
	switch (os) {
	case INSTALL_OS_MACOS:
		return "macos";
	case INSTALL_OS_WINDOWS:
		return "windows";
	case INSTALL_OS_LINUX:
		break;
	}
	return "linux";
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

int
install_system_path(const char *path, char *out, size_t len)
{
	const char *root = getenv("TRUSTLENS_SYSTEM_ROOT");
	int n;

	if (root == NULL || root[0] != '/')
		root = "";
	n = snprintf(out, len, "%s%s", root, path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const char *
home_dir(void)
{
	const char *home = getenv("HOME");

	return home != NULL && home[0] == '/' ? home : NULL;
}

int
install_user_dir(const struct install_browser *b, char *out, size_t len, char *base,
    size_t baselen)
{
	const char *home = home_dir(), *xdg = getenv("XDG_CONFIG_HOME");
	const char *rel;
	int n, m = 0;

	if (b->user_dir == NULL)
		return 1;
	if (home == NULL)
		return -1;
	rel = b->user_dir;
	if (strncmp(rel, ".config/", 8) == 0 && xdg != NULL && xdg[0] == '/')
		n = snprintf(out, len, "%s/%s", xdg, rel + 8);
	else
		n = snprintf(out, len, "%s/%s", home, rel);
	/* Uninstall prunes empty directories up to, not including, $HOME
	 * (or $XDG_CONFIG_HOME): a directory install created is removed
	 * again once nothing else lives in it. */
	if (base != NULL)
		m = snprintf(base, baselen, "%s", strncmp(rel, ".config/", 8) == 0 &&
		    xdg != NULL && xdg[0] == '/' ? xdg : home);
	if (n < 0 || (size_t)n >= len || m < 0 || (base != NULL && (size_t)m >= baselen))
		return -1;
	return 0;
}

void
install_display_path(const char *path, char *out, size_t len)
{
	const char *home = home_dir(), *root = getenv("TRUSTLENS_SYSTEM_ROOT");
	size_t n;

	if (home != NULL) {
		n = strlen(home);
		while (n > 1 && home[n - 1] == '/')
			n--;
		if (strncmp(path, home, n) == 0 && (path[n] == '/' || path[n] == '\0')) {
			snprintf(out, len, "~%s", path + n);
			return;
		}
	}
	if (root != NULL && root[0] == '/' && root[1] != '\0') {
		n = strlen(root);
		if (strncmp(path, root, n) == 0 && path[n] == '/') {
			snprintf(out, len, "%s", path + n);
			return;
		}
	}
	snprintf(out, len, "%s", path);
}

/* Directories never pruned, whatever is left in them. */
static int
shared_root(const char *rel)
{
	static const char *const roots[] = { "", "/etc", "/etc/opt", "/usr", "/usr/lib",
		"/usr/lib64", "/opt", "/Library", NULL };
	size_t i;

	for (i = 0; roots[i] != NULL; i++) {
		if (strcmp(rel, roots[i]) == 0)
			return 1;
	}
	return 0;
}

void
install_prune_dirs(const char *dir, const char *stop)
{
	char path[PATH_MAX];
	size_t stop_len = stop != NULL ? strlen(stop) : 0;
	char *slash;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return;
	for (;;) {
		/* Stop at (not into) the stop directory; on the real root also
		 * at the shared directories every system has. Under a
		 * TRUSTLENS_SYSTEM_ROOT (tests) the caller passes the root as
		 * the stop, so nothing outside it is touched. */
		if (stop != NULL && (strlen(path) <= stop_len ||
		    strncmp(path, stop, stop_len) != 0))
			return;
		if (stop == NULL && shared_root(path))
			return;
		if (rmdir(path) != 0)
			return;
		slash = strrchr(path, '/');
		if (slash == NULL || slash == path)
			return;
		*slash = '\0';
	}
}

/* 1 when path (unprefixed, absolute) exists under the system root. */
static int
system_exists(const char *path, int want_exec)
{
	char p[PATH_MAX];
	struct stat st;

	if (install_system_path(path, p, sizeof(p)) != 0 || stat(p, &st) != 0)
		return 0;
	if (want_exec)
		return S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
	return 1;
}

int
install_binary_found(const struct install_browser *b, char *out, size_t len)
{
	size_t i;

	for (i = 0; i < INSTALL_MAX_BINARIES && b->binaries[i] != NULL; i++) {
		if (system_exists(b->binaries[i], 1)) {
			snprintf(out, len, "%s", b->binaries[i]);
			return 0;
		}
	}
	return -1;
}

static int
home_exists(const char *a, const char *b)
{
	const char *home = home_dir();
	char p[PATH_MAX];
	struct stat st;

	if (home == NULL || snprintf(p, sizeof(p), "%s/%s/%s", home, a, b) >= (int)sizeof(p))
		return 0;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void
install_sandbox_detect(const struct install_browser *b, struct install_sandbox *out)
{
	char p[PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (b->snap != NULL) {
		snprintf(p, sizeof(p), "/snap/bin/%s", b->snap);
		out->snap = home_exists("snap", b->snap) || system_exists(p, 0);
	}
	if (b->flatpak != NULL) {
		snprintf(p, sizeof(p), "/var/lib/flatpak/app/%s", b->flatpak);
		out->flatpak = home_exists(".var/app", b->flatpak) ||
		    home_exists(".local/share/flatpak/app", b->flatpak) || system_exists(p, 0);
	}
}

const char *
install_sandbox_advice(const struct install_browser *b, int snap)
{
	if (b->family == INSTALL_FIREFOX_FAMILY && snap)
		return "Snap Firefox reaches native hosts only through the WebExtensions portal "
		    "(xdg-desktop-portal 1.17 or later, Firefox 106 or later), which reads the "
		    "manifest from ~/.mozilla/native-messaging-hosts and asks the user once; "
		    "the portal starts the host without naming the calling add-on, and this "
		    "host refuses callers it cannot identify, so use Firefox from a .deb "
		    "(Firefox ESR or Mozilla's APT repository) instead.";
	if (b->family == INSTALL_FIREFOX_FAMILY)
		return "Flatpak Firefox cannot start programs outside its sandbox except "
		    "through the WebExtensions portal, which Flatpak Firefox does not use by "
		    "default; use Firefox from a .deb instead.";
	if (snap)
		return "A Snap-packaged Chromium-family browser cannot start native hosts "
		    "outside its confinement (no portal support): use the .deb package of "
		    "the browser instead.";
	return "A Flatpak Chromium-family browser cannot start native hosts outside its "
	    "sandbox (no portal support): use the browser's .deb package instead.";
}
