/*
 * install: native-messaging host manifests, and the one table of browsers
 * and where each reads them.
 *
 * The table is used by install, uninstall and diagnose alike, and the
 * macOS and Windows rows by the installers/ scripts and the docs (a test
 * checks that the scripts carry the same paths and keys). A manifest is
 * written atomically (temporary file in the same directory, fsync, rename)
 * with mode 0644, as UTF-8 JSON without BOM, naming the host by absolute
 * path and allowing exactly our extension ids (Chromium: "chrome-extension://
 * <id>/" with the trailing slash the browsers require; Firefox: the add-on
 * id). Uninstall removes a manifest only when it is ours (name
 * org.trustlens.host), then the directories that became empty, up to $HOME
 * (per user) or the shared system directories (/etc, /etc/opt, /usr/lib).
 *
 * TRUSTLENS_SYSTEM_ROOT (tests and packagers only) prefixes every absolute
 * system path the table names: manifest and policy directories, browser
 * binaries, Snap and Flatpak locations. It is never set in normal use.
 */
#ifndef TL_INSTALL_H
#define TL_INSTALL_H

#include <stddef.h>

#define INSTALL_HOST_NAME "org.trustlens.host"
#define INSTALL_MAX_DIRS 3      /* system directories of one browser */
#define INSTALL_MAX_BINARIES 4  /* binary paths probed for one browser */

enum install_family {
	INSTALL_CHROMIUM_FAMILY,
	INSTALL_FIREFOX_FAMILY
};

/* A Linux browser: where it reads manifests, how to tell it is installed,
 * where its managed policies live, and its sandboxed packagings. */
struct install_browser {
	const char *name;          /* "chromium", "chrome", "firefox", ... */
	const char *display;       /* "Chromium", "Google Chrome", ... */
	enum install_family family;
	const char *user_dir;      /* relative to $HOME (".config/..." follows
	                              $XDG_CONFIG_HOME); NULL: none of its own */
	const char *system_dirs[INSTALL_MAX_DIRS]; /* absolute, NULL-ended */
	const char *shares;        /* also reads this row's directories (Opera:
	                              "chrome"), or NULL */
	const char *binaries[INSTALL_MAX_BINARIES]; /* absolute, NULL-ended */
	const char *policy_dir;    /* Chromium family: managed policy JSON
	                              directory; Firefox: policies.json path */
	const char *policy_dir2;   /* a second one (Firefox: distribution dir
	                              of the ESR package), or NULL */
	const char *snap;          /* snap name, or NULL */
	const char *flatpak;       /* Flatpak application id, or NULL */
	const char *notes;         /* one sentence for the docs, or NULL */
};

/* The Linux browsers, NULL-name-terminated. */
const struct install_browser *install_browsers(void);

const struct install_browser *install_find(const char *name);

enum install_os {
	INSTALL_OS_LINUX,
	INSTALL_OS_MACOS,
	INSTALL_OS_WINDOWS
};

/* A manifest location on another system, as data for the installer
 * scripts, diagnose's JSON and the docs (this binary runs on Linux). */
struct install_location {
	enum install_os os;
	const char *browser;       /* table name: "chrome", "edge", "firefox" */
	enum install_family family;
	const char *user;          /* macOS: directory relative to $HOME;
	                              Windows: key under HKEY_CURRENT_USER */
	const char *system;        /* macOS: absolute directory; Windows: key
	                              under HKEY_LOCAL_MACHINE */
};

/* The macOS and Windows rows, NULL-browser-terminated. */
const struct install_location *install_other_locations(void);

const char *install_os_name(enum install_os os);

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

/* Removes dir and its parents while they are empty, stopping before `stop`
 * (a prefix of dir), or when stop is NULL before the shared system
 * directories. Never fails: a directory that is not empty simply stays. */
void install_prune_dirs(const char *dir, const char *stop);

/* The absolute path of the running binary, or NULL. */
char *install_self_path(void);

/* TRUSTLENS_SYSTEM_ROOT + path into out (path absolute). 0, or -1 when it
 * does not fit. */
int install_system_path(const char *path, char *out, size_t len);

/* The user manifest directory of b into out, and (when base != NULL) the
 * directory uninstall never prunes into ($HOME or $XDG_CONFIG_HOME). 0; 1
 * when b has none of its own; -1 when HOME is unusable or too long. */
int install_user_dir(const struct install_browser *b, char *out, size_t len,
    char *base, size_t baselen);

/* out = path with $HOME replaced by "~" (and TRUSTLENS_SYSTEM_ROOT left
 * out), for reports that must not name the user's home. */
void install_display_path(const char *path, char *out, size_t len);

/* Sandboxed packagings of b found for this user / system. */
struct install_sandbox {
	int snap;                  /* snap installed or used (~/snap/<name>) */
	int flatpak;               /* Flatpak installed or used (~/.var/app/<id>) */
};

void install_sandbox_detect(const struct install_browser *b, struct install_sandbox *out);

/* One sentence: what works and what does not for a Snap or Flatpak
 * packaging of b (NULL when neither is known for b). */
const char *install_sandbox_advice(const struct install_browser *b, int snap);

/* The first of b's binaries that exists and is executable, into out
 * (unprefixed path); 0 when found, -1 when none is. */
int install_binary_found(const struct install_browser *b, char *out, size_t len);

/* `trustlens-host install|uninstall ...` (exit codes of cli.h). */
int install_cli(int argc, char **argv, int remove);

#endif
