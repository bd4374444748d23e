/*
 * Unit tests of the host: runs every suite, then prints the summary line.
 */
#include <signal.h>

#include "harness.h"

unsigned harness_passed, harness_failed;

static const struct {
	const char *name;
	void (*run)(void);
} suites[] = {
	{ "status", suite_status },
	{ "frame", suite_frame },
	{ "dispatch", suite_dispatch },
	{ "config", suite_config },
	{ "caller", suite_caller },
	{ "install", suite_install },
	{ "classify", suite_classify },
	{ "history", suite_history },
	{ "addrguard", suite_addrguard },
	{ "fetch", suite_fetch },
	{ "revocation", suite_revocation },
	{ "ct", suite_ct },
	{ "mime", suite_mime },
	{ "smime", suite_smime },
	{ "regdomain", suite_regdomain },
};

int
main(void)
{
	size_t i;
	unsigned before;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		before = harness_failed;
		suites[i].run();
		fprintf(stderr, "%s %s\n", harness_failed == before ? "ok  " : "FAIL",
		    suites[i].name);
	}
	printf("%u passed, %u failed\n", harness_passed, harness_failed);
	return harness_failed == 0 ? 0 : 1;
}
