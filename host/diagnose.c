/*
 * diagnose: see diagnose.h.
 * PLACEHOLDER (scaffolding while issue 7 is built; replaced by the report).
 */
#include <stdio.h>

#include "call.h"
#include "cli.h"
#include "diagnose.h"

json_t *
diagnose_report(const struct config *cfg, const atomic_int *cancel)
{
	(void)cfg;
	(void)cancel;
	return json_pack("{s:s}", "status", "not built yet");
}

int
diagnose_handle(struct tl_call *call)
{
	return call_fail(call, TL_INTERNAL, "diagnose is not built yet");
}

int
diagnose_cli(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("trustlens-host: diagnose is not built yet\n", stderr);
	return CLI_FAILED;
}
