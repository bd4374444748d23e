/* caller and extid: who may use the host. */
#include <stdint.h>

#include "caller.h"
#include "config.h"
#include "extid.h"
#include "harness.h"

#define OUR_ID "npfbfafbeggpjpnhdcidonbfednhhnij"

static void
detect_table(void)
{
	static const struct {
		const char *a1, *a2;
		enum caller_kind kind;
		int allowed;
	} cases[] = {
		{ "chrome-extension://" OUR_ID "/", NULL, CALLER_CHROMIUM, 1 },
		{ "chrome-extension://" OUR_ID, NULL, CALLER_CHROMIUM, 0 },
		{ "chrome-extension://" OUR_ID "/x", NULL, CALLER_CHROMIUM, 0 },
		{ "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/", NULL, CALLER_CHROMIUM, 0 },
		{ "chrome-extension://NPFBFAFBEGGPJPNHDCIDONBFEDNHHNIJ/", NULL, CALLER_CHROMIUM, 0 },
		{ "chrome-extension:///", NULL, CALLER_CHROMIUM, 0 },
		{ "/home/u/.mozilla/native-messaging-hosts/org.trustlens.host.json",
		  "trustlens@trustlens.org", CALLER_FIREFOX, 1 },
		{ "/home/u/.mozilla/native-messaging-hosts/org.trustlens.host.json",
		  "evil@example.org", CALLER_FIREFOX, 0 },
		{ "/m.json", "", CALLER_FIREFOX, 0 },
		{ "https://evil.example/", NULL, CALLER_OTHER, 0 },
		{ "moz-extension://x/", NULL, CALLER_OTHER, 0 },
		{ "site", "https://a.example/", CALLER_NONE, 0 },
		{ "--version", NULL, CALLER_NONE, 0 },
	};
	struct caller c;
	char *argv[4];
	size_t i;
	int argc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		argv[0] = (char *)(uintptr_t)"trustlens-host";
		argv[1] = (char *)(uintptr_t)cases[i].a1;
		argv[2] = (char *)(uintptr_t)cases[i].a2;
		argv[3] = NULL;
		argc = cases[i].a2 != NULL ? 3 : 2;
		CHECK_MSG(caller_detect(argc, argv, &c) == cases[i].kind, "%s", cases[i].a1);
		CHECK_MSG(caller_allowed(&c, NULL) == cases[i].allowed, "%s", cases[i].a1);
	}
	argv[1] = NULL;
	CHECK(caller_detect(1, argv, &c) == CALLER_NONE);
}

static void
configured_ids(void)
{
	char *ids[] = { (char *)(uintptr_t)"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		(char *)(uintptr_t)"other@example.org" };
	struct config cfg;
	struct caller c;
	char *argv[] = { (char *)(uintptr_t)"h",
		(char *)(uintptr_t)"chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/", NULL };

	memset(&cfg, 0, sizeof(cfg));
	cfg.extensions = ids;
	cfg.n_extensions = 2;
	caller_detect(2, argv, &c);
	CHECK(caller_allowed(&c, &cfg));
	CHECK(!caller_allowed(&c, NULL));
}

static void
extids(void)
{
	char id[EXTID_LEN + 1];

	/* The key of extension-manifest/manifest.json gives the built-in id
	 * (checked against `sha256sum | tr 0-9a-f a-p` when the key was made). */
	CHECK_STR(caller_builtin_chromium()[0], OUR_ID);
	CHECK_STR(caller_builtin_gecko()[0], "trustlens@trustlens.org");
	CHECK(caller_builtin_chromium()[1] == NULL);
	/* SHA-256("abc") = ba7816bf 8f01cfea...: "abc" is base64 "YWJj". */
	CHECK(extid_from_key("YWJj", id) == 0);
	CHECK_STR(id, "lkhibglpipabmpokebebeanofnkocccd");
	CHECK(extid_from_key("", id) == -1);
	CHECK(extid_from_key("YWJ", id) == -1);
	CHECK(extid_from_key("Y!Jj", id) == -1);
	CHECK(extid_from_key("YW==YWJj", id) == -1);
	CHECK(extid_is_valid(OUR_ID, 32));
	CHECK(!extid_is_valid("npfbfafbeggpjpnhdcidonbfednhhniq", 32));
	CHECK(!extid_is_valid(OUR_ID, 31));
}

void
suite_caller(void)
{
	detect_table();
	configured_ids();
	extids();
}
