/*
 * install: native-messaging host manifests.
 *
 * One table of browsers and where each reads host manifests, used by
 * install, uninstall (and later diagnose). A manifest is written atomically
 * (temporary file in the same directory, fsync, rename) with mode 0644, as
 * UTF-8 JSON without BOM, naming the host by absolute path and allowing
 * exactly our extension ids (Chromium: "chrome-extension://<id>/" with the
 * trailing slash the browsers require; Firefox: the add-on id). Uninstall
 * removes a manifest only when it is ours (name org.trustlens.host).
 */
#ifndef TL_INSTALL_H
#define TL_INSTALL_H

#include <stddef.h>

#define INSTALL_HOST_NAME "org.trustlens.host"

enum install_family {
	INSTALL_CHROMIUM_FAMILY,
	INSTALL_FIREFOX_FAMILY
};

struct install_browser {
	const char *name;          /* "chromium", "chrome", "firefox", ... */
	enum install_family family;
	const char *user_dir;      /* relative to $HOME */
	const char *system_dir;    /* absolute */
};

/* The browsers of this platform, NULL-name-terminated. */
const struct install_browser *install_browsers(void);

const struct install_browser *install_find(const char *name);

/* The manifest text for a family and an absolute host path. Returns a
 * malloc'd string or NULL (out of memory, or path not absolute). */
char *install_manifest_json(enum install_family family, const char *host_path);

/* Writes the manifest into dir (created, mode 0755, if missing). Returns 0,
 * or -1 with one sentence in errbuf. *changed says whether the file's
 * content changed (idempotence is reported, not hidden). */
int install_write(const char *dir, enum install_family family,
    const char *host_path, int *changed, char *errbuf, size_t errlen);

/* Removes our manifest from dir. Returns 1 when removed, 0 when there was
 * none, -1 on error (including "a manifest of that name that is not ours"). */
int install_remove(const char *dir, char *errbuf, size_t errlen);

/* The absolute path of the running binary, or NULL. */
char *install_self_path(void);

#endif
