/* regdomain: registrable domains from the Public Suffix List (libpsl),
 * including multi-label and private-section suffixes and the cases that
 * have none. */
#include "harness.h"
#include "regdomain.h"

static const struct {
	const char *host;
	const char *want;       /* NULL: none */
} cases[] = {
	{ "www.example.be", "example.be" },
	{ "example.be", "example.be" },
	{ "login.example.co.uk", "example.co.uk" },
	{ "a.b.c.example.com.au", "example.com.au" },
	{ "www.belgium.be", "belgium.be" },
	{ "www.health.fgov.be", "fgov.be" },
	{ "evil.github.io", "evil.github.io" },             /* private section */
	{ "login.example.com.evil.example", "evil.example" },
	{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	{ "co.uk", NULL },                                   /* a suffix itself */
	{ "com", NULL },
	{ "localhost", NULL },
	{ "192.0.2.1", NULL },
	{ "2001:db8::1", NULL },
	{ "", NULL },
};

void
suite_regdomain(void)
{
	char out[256], tiny[4];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = regdomain_of(cases[i].host, out, sizeof(out));
		if (cases[i].want == NULL) {
			CHECK_MSG(rc == -1, "%s: expected none, got %s", cases[i].host, out);
		} else {
			CHECK_MSG(rc == 0, "%s: expected %s, got none", cases[i].host, cases[i].want);
			if (rc == 0)
				CHECK_STR(out, cases[i].want);
		}
	}
	/* Too small a buffer is "none", never a truncated name. */
	CHECK(regdomain_of("www.example.be", tiny, sizeof(tiny)) == -1);
	CHECK(tiny[0] == '\0');
	CHECK(regdomain_of(NULL, out, sizeof(out)) == -1);
}
