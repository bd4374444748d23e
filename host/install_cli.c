/*
 * install_cli: `trustlens-host install|uninstall [--user|--system]
 * [--browser NAME]... [--manifest-dir DIR]`.
 *
 * Walks the browser table of install.c (every browser, or the ones named)
 * and writes or removes the manifest in each directory the browser reads,
 * one line per directory saying what was done: "wrote", "unchanged",
 * "removed", "nothing to remove", or the error. Then one line per Snap or
 * Flatpak packaging found, saying what works there. Both commands are
 * idempotent; uninstall removes only manifests named org.trustlens.host and
 * the directories that became empty.
 */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "install.h"

#define MAX_NAMES 16

struct install_opts {
	int system;
	const char *manifest_dir;
	const char *names[MAX_NAMES];
	size_t n_names;
};

static int
usage(const char *problem)
{
	fprintf(stderr, "trustlens-host: %s\n"
	    "usage: trustlens-host install|uninstall [--user|--system] [--browser NAME]... "
	    "[--manifest-dir DIR]\n", problem);
	return CLI_USAGE;
}

static int
parse(int argc, char **argv, struct install_opts *o)
{
	char names[256];
	const struct install_browser *b;
	size_t off = 0;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0) {
			o->system = 0;
		} else if (strcmp(argv[i], "--system") == 0) {
			o->system = 1;
		} else if (strcmp(argv[i], "--browser") == 0 && i + 1 < argc) {
			if (install_find(argv[i + 1]) == NULL) {
				names[0] = '\0';
				for (b = install_browsers(); b->name != NULL; b++) {
					off += (size_t)snprintf(names + off, sizeof(names) - off,
					    "%s%s", off > 0 ? ", " : "", b->name);
					if (off >= sizeof(names))
						break;
				}
				fprintf(stderr, "trustlens-host: unknown browser name '%s' "
				    "(one of: %s)\n", argv[i + 1], names);
				return CLI_USAGE;
			}
			if (o->n_names == MAX_NAMES)
				return usage("too many --browser options");
			o->names[o->n_names++] = argv[++i];
		} else if (strcmp(argv[i], "--manifest-dir") == 0 && i + 1 < argc) {
			o->manifest_dir = argv[++i];
		} else {
			return usage("unknown install option");
		}
	}
	if (o->manifest_dir != NULL && o->n_names != 1)
		return usage("--manifest-dir needs exactly one --browser");
	if (o->manifest_dir != NULL && o->manifest_dir[0] != '/')
		return usage("--manifest-dir needs an absolute directory");
	return 0;
}

/* One directory: install or remove there, print what happened. Returns 0
 * or -1 (the error is printed). */
static int
one_dir(const struct install_browser *b, const char *dir, const char *stop,
    const char *self, int remove, int prune)
{
	char err[512], shown[PATH_MAX];
	int changed = 0, r;

	install_display_path(dir, shown, sizeof(shown));
	if (remove) {
		r = install_remove(dir, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", b->name, err);
			return -1;
		}
		if (prune)
			install_prune_dirs(dir, stop);
		printf("%s: %s %s/%s.json\n", b->name, r == 1 ? "removed" : "nothing to remove in",
		    shown, INSTALL_HOST_NAME);
		return 0;
	}
	if (install_write(dir, b->family, self, &changed, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", b->name, err);
		return -1;
	}
	printf("%s: %s %s/%s.json\n", b->name, changed ? "wrote" : "unchanged", shown,
	    INSTALL_HOST_NAME);
	return 0;
}

/* Everything for one browser. Returns the number of failures. */
static int
one_browser(const struct install_browser *b, const struct install_opts *o, const char *self,
    int remove)
{
	char dir[PATH_MAX], base[PATH_MAX], root[PATH_MAX], bin[PATH_MAX];
	struct install_sandbox sb;
	int failures = 0, r;
	size_t i;

	if (o->manifest_dir != NULL)
		return one_dir(b, o->manifest_dir, NULL, self, remove, 0) < 0;
	if (o->system) {
		if (install_system_path("", root, sizeof(root)) != 0)
			return 1;
		for (i = 0; i < INSTALL_MAX_DIRS && b->system_dirs[i] != NULL; i++) {
			if (install_system_path(b->system_dirs[i], dir, sizeof(dir)) != 0) {
				fprintf(stderr, "%s: the system root is too long\n", b->name);
				failures++;
				continue;
			}
			failures += one_dir(b, dir, root[0] != '\0' ? root : NULL, self, remove,
			    1) < 0;
		}
	} else {
		r = install_user_dir(b, dir, sizeof(dir), base, sizeof(base));
		if (r < 0) {
			fprintf(stderr, "%s: HOME is not set (or too long): cannot find the "
			    "per-user directory\n", b->name);
			return 1;
		}
		if (r == 0)
			failures += one_dir(b, dir, base, self, remove, 1) < 0;
	}
	if (b->shares != NULL && !remove)
		printf("%s: also reads %s's manifests (install --browser %s covers it too)\n",
		    b->name, b->shares, b->shares);
	if (!remove && install_binary_found(b, bin, sizeof(bin)) != 0)
		printf("%s: note: %s is not installed here; the manifest is ready for when it "
		    "is\n", b->name, b->display);
	install_sandbox_detect(b, &sb);
	if (!remove && sb.snap)
		printf("%s: Snap package found: %s\n", b->name, install_sandbox_advice(b, 1));
	if (!remove && sb.flatpak)
		printf("%s: Flatpak package found: %s\n", b->name, install_sandbox_advice(b, 0));
	return failures;
}

int
install_cli(int argc, char **argv, int remove)
{
	struct install_opts o;
	const struct install_browser *b;
	char *self = NULL;
	int failures = 0, rc;
	size_t i;

	rc = parse(argc, argv, &o);
	if (rc != 0)
		return rc;
	if (!remove) {
		self = install_self_path();
		if (self == NULL) {
			fprintf(stderr, "trustlens-host: cannot find the path of this program\n");
			return CLI_FAILED;
		}
	}
	if (o.n_names == 0) {
		for (b = install_browsers(); b->name != NULL; b++)
			failures += one_browser(b, &o, self, remove);
	} else {
		for (i = 0; i < o.n_names; i++)
			failures += one_browser(install_find(o.names[i]), &o, self, remove);
	}
	if (!remove && failures == 0)
		printf("Restart the browser (every window) so that it reads the manifest.\n");
	free(self);
	return failures == 0 ? CLI_OK : CLI_FAILED;
}
