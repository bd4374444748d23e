/* install: manifest content, atomic idempotent writes, careful removal. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "install.h"

static void
manifest_content(void)
{
	json_t *m, *origins;
	char *s;

	s = install_manifest_json(INSTALL_CHROMIUM_FAMILY, "/usr/bin/trustlens-host");
	CHECK(s != NULL && (unsigned char)s[0] == '{'); /* no BOM */
	m = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	CHECK_STR(json_string_value(json_object_get(m, "name")), "org.trustlens.host");
	CHECK_STR(json_string_value(json_object_get(m, "path")), "/usr/bin/trustlens-host");
	CHECK_STR(json_string_value(json_object_get(m, "type")), "stdio");
	origins = json_object_get(m, "allowed_origins");
	CHECK(json_array_size(origins) == 1);
	/* The trailing slash is required, or Chromium reports "not found". */
	CHECK_STR(json_string_value(json_array_get(origins, 0)),
	    "chrome-extension://npfbfafbeggpjpnhdcidonbfednhhnij/");
	CHECK(json_object_get(m, "allowed_extensions") == NULL);
	json_decref(m);
	free(s);

	s = install_manifest_json(INSTALL_FIREFOX_FAMILY, "/opt/x/trustlens-host");
	m = json_loads(s, 0, NULL);
	CHECK_STR(json_string_value(json_array_get(json_object_get(m,
	    "allowed_extensions"), 0)), "trustlens@trustlens.org");
	CHECK(json_object_get(m, "allowed_origins") == NULL);
	json_decref(m);
	free(s);

	CHECK(install_manifest_json(INSTALL_CHROMIUM_FAMILY, "relative/path") == NULL);
	CHECK(install_find("chromium") != NULL && install_find("firefox") != NULL);
	CHECK(install_find("netscape") == NULL);
}

static void
write_and_remove(void)
{
	char dir[] = "/tmp/tl-install-XXXXXX", sub[128], path[256], err[256];
	struct stat st;
	int changed = -1;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/a/NativeMessagingHosts", dir);
	snprintf(path, sizeof(path), "%s/org.trustlens.host.json", sub);

	CHECK(install_write(sub, INSTALL_CHROMIUM_FAMILY, "/usr/bin/h", &changed, err,
	    sizeof(err)) == 0);
	CHECK(changed == 1);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	/* Idempotent: the same content is not rewritten. */
	CHECK(install_write(sub, INSTALL_CHROMIUM_FAMILY, "/usr/bin/h", &changed, err,
	    sizeof(err)) == 0);
	CHECK(changed == 0);
	/* A new host path is. */
	CHECK(install_write(sub, INSTALL_CHROMIUM_FAMILY, "/usr/local/bin/h", &changed,
	    err, sizeof(err)) == 0);
	CHECK(changed == 1);

	CHECK(install_remove(sub, err, sizeof(err)) == 1);
	CHECK(stat(path, &st) != 0);
	CHECK(install_remove(sub, err, sizeof(err)) == 0);

	/* Someone else's file of that name is left alone. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs("{\"name\": \"com.other.host\"}", f);
		fclose(f);
	}
	CHECK(install_remove(sub, err, sizeof(err)) == -1);
	CHECK(stat(path, &st) == 0);
	unlink(path);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", dir);
	rmdir(sub);
	rmdir(dir);
}

void
suite_install(void)
{
	manifest_content();
	write_and_remove();
}
