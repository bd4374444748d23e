/*
 * diagnose_browsers: the "browsers" and "last_start" areas.
 *
 * For every Linux browser of install.c's table: is it installed (one of
 * its binaries exists and is executable), which of the directories it
 * reads hold our manifest, and is each manifest right: readable JSON
 * without BOM, our name, type stdio, an absolute path to an executable
 * file (this very binary, or another copy: a warning), our extension ids
 * allowed (Chromium: with the trailing slash). Then the managed policies
 * that can stop it: Chromium-family NativeMessagingUserLevelHosts,
 * NativeMessagingBlocklist/Allowlist and ExtensionInstallBlocklist/
 * Allowlist in every JSON file of the browser's managed policy directory;
 * Firefox's ExtensionSettings in policies.json. Snap and Flatpak
 * packagings get the sentence install.c has for them.
 *
 * Limits: manifest and policy files over 1 MiB, more than 64 policy files,
 * are reported as unreadable rather than read.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caller.h"
#include "config.h"
#include "diagnose_internal.h"
#include "install.h"
#include "laststart.h"

#define FILE_MAX (1024 * 1024)
#define POLICY_FILES_MAX 64

/* Reads a small file whole; NULL when missing, unreadable or too big. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = malloc(FILE_MAX + 1);
	if (buf != NULL) {
		n = fread(buf, 1, FILE_MAX + 1, f);
		if (n > FILE_MAX || ferror(f)) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

static int
array_has(const json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	}
	return 0;
}

enum manifest_state {
	MANIFEST_ABSENT,
	MANIFEST_OK,
	MANIFEST_OTHER_COPY,    /* right, but names another copy of the host */
	MANIFEST_BROKEN
};

/* Checks one manifest file. On MANIFEST_BROKEN / OTHER_COPY, why[] says
 * what is wrong in a sentence fragment. */
static enum manifest_state
check_manifest(const char *path, enum install_family family, const char *self,
    json_t *detail, char *why, size_t whylen)
{
	const char *const *ids;
	char origin[128], shown[PATH_MAX], *text, *real = NULL;
	const char *name = NULL, *type = NULL, *hpath = NULL;
	json_t *m = NULL, *allowed;
	enum manifest_state st = MANIFEST_BROKEN;
	struct stat sb;
	size_t len = 0;

	why[0] = '\0';
	if (lstat(path, &sb) != 0)
		return MANIFEST_ABSENT;
	text = slurp(path, &len);
	if (text == NULL) {
		snprintf(why, whylen, "cannot be read");
		goto out;
	}
	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf) {
		snprintf(why, whylen, "starts with a byte-order mark, which browsers refuse");
		goto out;
	}
	m = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (m == NULL || !json_is_object(m)) {
		snprintf(why, whylen, "is not valid JSON");
		goto out;
	}
	name = json_string_value(json_object_get(m, "name"));
	type = json_string_value(json_object_get(m, "type"));
	hpath = json_string_value(json_object_get(m, "path"));
	if (name == NULL || strcmp(name, INSTALL_HOST_NAME) != 0) {
		snprintf(why, whylen, "does not name %s", INSTALL_HOST_NAME);
		goto out;
	}
	if (type == NULL || strcmp(type, "stdio") != 0) {
		snprintf(why, whylen, "does not say \"type\": \"stdio\"");
		goto out;
	}
	if (hpath == NULL || hpath[0] != '/') {
		snprintf(why, whylen, "does not name the host by an absolute path");
		goto out;
	}
	json_object_set_new(detail, "host_path", json_string(diag_path(hpath, shown,
	    sizeof(shown))));
	if (stat(hpath, &sb) != 0) {
		snprintf(why, whylen, "names %s, which does not exist", shown);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || access(hpath, X_OK) != 0 || (sb.st_mode & 0111) == 0) {
		snprintf(why, whylen, "names %s, which is not an executable file", shown);
		goto out;
	}
	if (family == INSTALL_FIREFOX_FAMILY) {
		allowed = json_object_get(m, "allowed_extensions");
		for (ids = caller_builtin_gecko(); *ids != NULL; ids++) {
			if (!array_has(allowed, *ids)) {
				snprintf(why, whylen, "does not allow the add-on %s in "
				    "\"allowed_extensions\"", *ids);
				goto out;
			}
		}
	} else {
		allowed = json_object_get(m, "allowed_origins");
		for (ids = caller_builtin_chromium(); *ids != NULL; ids++) {
			snprintf(origin, sizeof(origin), "chrome-extension://%s/", *ids);
			if (array_has(allowed, origin))
				continue;
			snprintf(origin, sizeof(origin), "chrome-extension://%s", *ids);
			if (array_has(allowed, origin))
				snprintf(why, whylen, "allows chrome-extension://%s without the "
				    "trailing slash, which Chromium ignores", *ids);
			else
				snprintf(why, whylen, "does not allow the extension %s in "
				    "\"allowed_origins\"", *ids);
			goto out;
		}
	}
	real = realpath(hpath, NULL);
	if (self != NULL && real != NULL && strcmp(real, self) != 0) {
		st = MANIFEST_OTHER_COPY;
		snprintf(why, whylen, "names another copy of the host (%s)", shown);
		goto out;
	}
	st = MANIFEST_OK;
out:
	free(real);
	json_decref(m);
	free(text);
	return st;
}

/* Chromium-family managed policies: sets the flags from every *.json file
 * of dir (later files win, as the browser merges them). */
struct chromium_policy {
	int files;
	int user_level_off;      /* NativeMessagingUserLevelHosts: false */
	int host_blocked;        /* blocklist "*" or our name, not allowlisted */
	int ext_blocked;         /* ExtensionInstallBlocklist, not allowlisted */
	int unreadable;
};

static void
read_chromium_policies(const char *dir, struct chromium_policy *p)
{
	const char *const *ids;
	struct dirent *de;
	char path[PATH_MAX], *text;
	json_t *m, *v, *allow, *block;
	size_t len, n;
	DIR *d;

	memset(p, 0, sizeof(*p));
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && p->files < POLICY_FILES_MAX) {
		n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		p->files++;
		len = 0;
		text = slurp(path, &len);
		m = text != NULL ? json_loadb(text, len, 0, NULL) : NULL;
		free(text);
		if (m == NULL) {
			p->unreadable++;
			continue;
		}
		v = json_object_get(m, "NativeMessagingUserLevelHosts");
		if (json_is_boolean(v))
			p->user_level_off = json_is_false(v);
		allow = json_object_get(m, "NativeMessagingAllowlist");
		block = json_object_get(m, "NativeMessagingBlocklist");
		if (block != NULL)
			p->host_blocked = (array_has(block, "*") ||
			    array_has(block, INSTALL_HOST_NAME)) &&
			    !array_has(allow, INSTALL_HOST_NAME);
		allow = json_object_get(m, "ExtensionInstallAllowlist");
		block = json_object_get(m, "ExtensionInstallBlocklist");
		if (block != NULL) {
			p->ext_blocked = 0;
			for (ids = caller_builtin_chromium(); *ids != NULL; ids++) {
				if ((array_has(block, "*") || array_has(block, *ids)) &&
				    !array_has(allow, *ids))
					p->ext_blocked = 1;
			}
		}
		json_decref(m);
	}
	closedir(d);
}

/* Firefox policies.json: 1 when ExtensionSettings blocks our add-on. */
static int
firefox_blocked(const char *path, int *present)
{
	const char *const *ids;
	const char *mode;
	json_t *m, *settings, *s;
	int blocked = 0;

	*present = 0;
	m = json_load_file(path, 0, NULL);
	if (m == NULL)
		return 0;
	*present = 1;
	settings = json_object_get(json_object_get(m, "policies"), "ExtensionSettings");
	for (ids = caller_builtin_gecko(); settings != NULL && *ids != NULL; ids++) {
		s = json_object_get(settings, *ids);
		if (s == NULL)
			s = json_object_get(settings, "*");
		mode = json_string_value(json_object_get(s, "installation_mode"));
		if (mode != NULL && strcmp(mode, "blocked") == 0)
			blocked = 1;
	}
	json_decref(m);
	return blocked;
}

/* One manifest location of browser b: checks it, adds to the details,
 * returns its state. */
static enum manifest_state
one_location(struct diag_area *a, const struct install_browser *b, const char *dir,
    const char *scope, const char *self, json_t *locs, char *why, size_t whylen)
{
	char path[PATH_MAX], shown[PATH_MAX];
	enum manifest_state st;
	json_t *d = json_object();
	static const char *const state_names[] = { "absent", "ok", "other_copy", "broken" };

	if (snprintf(path, sizeof(path), "%s/%s.json", dir, INSTALL_HOST_NAME) >=
	    (int)sizeof(path)) {
		json_decref(d);
		return MANIFEST_ABSENT;
	}
	st = check_manifest(path, b->family, self, d, why, whylen);
	diag_path(path, shown, sizeof(shown));
	json_object_set_new(d, "scope", json_string(scope));
	json_object_set_new(d, "path", json_string(shown));
	json_object_set_new(d, "state", json_string(state_names[st]));
	if (why[0] != '\0')
		json_object_set_new(d, "problem", json_string(why));
	json_array_append_new(locs, d);
	if (st != MANIFEST_ABSENT)
		diag_line(a, "  %-6s %s: %s%s%s", scope, shown, state_names[st],
		    why[0] != '\0' ? ", " : "", why);
	return st;
}

void
diag_browsers(struct diag_area *a, const struct config *cfg)
{
	const struct install_browser *b, *shared;
	const struct install_location *o;
	struct install_sandbox sb;
	struct chromium_policy pol;
	char dir[PATH_MAX], bin[PATH_MAX], why[PATH_MAX + 128], fix[512], pdir[PATH_MAX];
	char *self = install_self_path(), first_why[PATH_MAX + 128];
	enum manifest_state st;
	json_t *list = json_array(), *one, *locs, *others;
	int installed, n_installed = 0, ok_user, ok_system, broken, other, present;
	size_t i;

	(void)cfg;
	for (b = install_browsers(); b->name != NULL; b++) {
		installed = install_binary_found(b, bin, sizeof(bin)) == 0;
		install_sandbox_detect(b, &sb);
		one = json_pack("{s:s, s:s, s:b, s:s?, s:b, s:b}", "name", b->name, "display",
		    b->display, "installed", installed, "binary", installed ? bin : NULL,
		    "snap", sb.snap, "flatpak", sb.flatpak);
		locs = json_array();
		diag_line(a, "%s: %s%s%s", b->display, installed ? "installed, " : "not installed",
		    installed ? bin : "", sb.snap ? " (Snap package found)" :
		    sb.flatpak ? " (Flatpak package found)" : "");
		n_installed += installed || sb.snap || sb.flatpak;
		ok_user = ok_system = broken = other = 0;
		first_why[0] = '\0';
		if (install_user_dir(b, dir, sizeof(dir), NULL, 0) == 0) {
			st = one_location(a, b, dir, "user", self, locs, why, sizeof(why));
			ok_user = st == MANIFEST_OK || st == MANIFEST_OTHER_COPY;
			broken += st == MANIFEST_BROKEN;
			other += st == MANIFEST_OTHER_COPY;
			if (st == MANIFEST_BROKEN && first_why[0] == '\0')
				snprintf(first_why, sizeof(first_why), "%s", why);
		}
		for (i = 0; i < INSTALL_MAX_DIRS && b->system_dirs[i] != NULL; i++) {
			if (install_system_path(b->system_dirs[i], dir, sizeof(dir)) != 0)
				continue;
			st = one_location(a, b, dir, "system", self, locs, why, sizeof(why));
			ok_system |= st == MANIFEST_OK || st == MANIFEST_OTHER_COPY;
			broken += st == MANIFEST_BROKEN;
			other += st == MANIFEST_OTHER_COPY;
			if (st == MANIFEST_BROKEN && first_why[0] == '\0')
				snprintf(first_why, sizeof(first_why), "%s", why);
		}
		shared = b->shares != NULL ? install_find(b->shares) : NULL;
		if (shared != NULL && install_system_path(shared->system_dirs[0], dir,
		    sizeof(dir)) == 0) {
			st = one_location(a, b, dir, "shared", self, locs, why, sizeof(why));
			ok_system |= st == MANIFEST_OK || st == MANIFEST_OTHER_COPY;
		}
		json_object_set_new(one, "manifests", locs);

		/* Policies. */
		if (b->family == INSTALL_CHROMIUM_FAMILY && b->policy_dir != NULL &&
		    install_system_path(b->policy_dir, pdir, sizeof(pdir)) == 0) {
			read_chromium_policies(pdir, &pol);
			json_object_set_new(one, "policies", json_pack("{s:i, s:b, s:b, s:b, s:i}",
			    "files", pol.files, "user_level_hosts_blocked", pol.user_level_off,
			    "host_blocked", pol.host_blocked, "extension_blocked", pol.ext_blocked,
			    "unreadable", pol.unreadable));
			if (pol.files > 0)
				diag_line(a, "  policy %s: %d file(s)%s%s%s", diag_path(b->policy_dir,
				    why, sizeof(why)), pol.files,
				    pol.user_level_off ? ", NativeMessagingUserLevelHosts false" : "",
				    pol.host_blocked ? ", host on NativeMessagingBlocklist" : "",
				    pol.ext_blocked ? ", extension on ExtensionInstallBlocklist" : "");
			if (pol.host_blocked)
				diag_find(a, DIAG_PROBLEM, "Ask the administrator to add "
				    INSTALL_HOST_NAME " to the NativeMessagingAllowlist policy.",
				    "%s: a managed policy (NativeMessagingBlocklist) blocks the "
				    "TrustLens host.", b->display);
			if (pol.ext_blocked)
				diag_find(a, DIAG_PROBLEM, "Ask the administrator to allow the "
				    "TrustLens extension (ExtensionInstallAllowlist).",
				    "%s: a managed policy (ExtensionInstallBlocklist) blocks the "
				    "TrustLens extension.", b->display);
			if (pol.user_level_off && ok_user && !ok_system)
				diag_find(a, DIAG_PROBLEM, "Install system-wide (the trustlens "
				    "package, or trustlens-host install --system as root).",
				    "%s: a managed policy ignores per-user hosts "
				    "(NativeMessagingUserLevelHosts) and there is no system-wide "
				    "manifest.", b->display);
		}
		if (b->family == INSTALL_FIREFOX_FAMILY) {
			const char *pfiles[2] = { b->policy_dir, b->policy_dir2 };

			for (i = 0; i < 2; i++) {
				if (pfiles[i] == NULL || install_system_path(pfiles[i], pdir,
				    sizeof(pdir)) != 0)
					continue;
				if (firefox_blocked(pdir, &present))
					diag_find(a, DIAG_PROBLEM, "Ask the administrator to allow "
					    "the TrustLens add-on in ExtensionSettings.",
					    "Firefox: policies.json (%s) blocks the TrustLens "
					    "add-on.", diag_path(pfiles[i], why, sizeof(why)));
				if (present)
					diag_line(a, "  policy %s: present", diag_path(pfiles[i],
					    why, sizeof(why)));
			}
		}

		/* The browser's verdict. */
		snprintf(fix, sizeof(fix), "Run \"trustlens-host install --user --browser %s\" "
		    "(or install the trustlens package), then restart %s.", b->name, b->display);
		if (broken > 0)
			diag_find(a, DIAG_PROBLEM, fix, "%s: the TrustLens manifest %s.",
			    b->display, first_why);
		else if ((installed || sb.snap || sb.flatpak) && !ok_user && !ok_system)
			diag_find(a, DIAG_PROBLEM, fix, "%s is installed but has no TrustLens "
			    "manifest, so it cannot start the host.", b->display);
		else if (other > 0)
			diag_find(a, DIAG_WARNING, fix, "%s: the TrustLens manifest names another "
			    "copy of the host than this one.", b->display);
		if (sb.snap || sb.flatpak)
			diag_find(a, DIAG_WARNING, install_sandbox_advice(b, sb.snap),
			    "%s is installed as a %s package.", b->display,
			    sb.snap ? "Snap" : "Flatpak");
		if (installed && (ok_user || ok_system) && broken == 0)
			diag_find(a, DIAG_OK, NULL, "%s can start the host.", b->display);
		json_array_append_new(list, one);
	}
	if (n_installed == 0)
		diag_find(a, DIAG_WARNING, "Install Firefox, Chromium, Google Chrome, Microsoft "
		    "Edge, Brave or Vivaldi from a .deb package.",
		    "No supported browser was found on this machine.");
	json_object_set_new(a->details, "browsers", list);
	/* The macOS and Windows rows of the same table, for the installer
	 * scripts and helpdesks on those systems. */
	others = json_array();
	for (o = install_other_locations(); o->browser != NULL; o++)
		json_array_append_new(others, json_pack("{s:s, s:s, s:s, s:s, s:s}", "os",
		    install_os_name(o->os), "browser", o->browser, "family",
		    o->family == INSTALL_FIREFOX_FAMILY ? "firefox" : "chromium", "user", o->user,
		    "system", o->system));
	json_object_set_new(a->details, "other_systems", others);
	json_object_set_new(a->details, "self", json_string(self != NULL ?
	    diag_path(self, dir, sizeof(dir)) : "unknown"));
	free(self);
}

void
diag_last_start(struct diag_area *a, const struct config *cfg)
{
	struct caller c;
	json_t *l = laststart_read(cfg);
	const char *kind, *id, *when;
	int allowed_now;

	if (l == NULL) {
		diag_find(a, DIAG_WARNING, "Open the TrustLens toolbar popup in the browser; if "
		    "it still fails, the browsers line says why.",
		    "No browser has started the host on this account yet (or the state "
		    "directory is not writable).");
		json_object_set_new(a->details, "recorded", json_false());
		diag_line(a, "no browser start recorded");
		return;
	}
	kind = json_string_value(json_object_get(l, "browser_kind"));
	id = json_string_value(json_object_get(l, "extension_id"));
	when = json_string_value(json_object_get(l, "time"));
	memset(&c, 0, sizeof(c));
	c.kind = strcmp(kind, "chromium") == 0 ? CALLER_CHROMIUM :
	    strcmp(kind, "firefox") == 0 ? CALLER_FIREFOX : CALLER_OTHER;
	if (id != NULL)
		snprintf(c.id, sizeof(c.id), "%s", id);
	allowed_now = id != NULL && caller_allowed(&c, cfg);
	json_object_set_new(l, "allowed_now", json_boolean(allowed_now));
	json_object_set_new(l, "recorded", json_true());
	json_object_update(a->details, l);
	diag_line(a, "last start: %s by a %s browser, extension %s, %s", when, kind,
	    id != NULL ? id : "(unrecognised)", allowed_now ? "allowed" : "NOT allowed");
	if (allowed_now)
		diag_find(a, DIAG_OK, NULL, "A browser last started the host at %s for the "
		    "TrustLens extension.", when);
	else
		diag_find(a, DIAG_PROBLEM, "Install the published TrustLens extension; add the "
		    "id to \"allowed_extensions\" in the config file only if you trust it.",
		    "At %s a browser started the host for extension %s, which this host does "
		    "not allow.", when, id != NULL ? id : "(unrecognised)");
	json_decref(l);
}
