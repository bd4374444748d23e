/*
 * token: see token.h.
 */
#include <pkcs11-helper-1.0/pkcs11h-core.h>
#include <stdio.h>

#include "token.h"

void
token_library_version(char *buf, size_t len)
{
	unsigned v = pkcs11h_getVersion();

	/* pkcs11-helper packs major.minor.fix as 0xMMmmff. */
	snprintf(buf, len, "pkcs11-helper %u.%u.%u", (v >> 16) & 0xff, (v >> 8) & 0xff,
	    v & 0xff);
}

/* PLACEHOLDER (scaffolding while issue 5 is built; replaced by the token
 * layer): every entry point reports that tokens are not built yet. */
#include <string.h>

#include "call.h"
#include "cli.h"

json_t *
token_list(const struct config *cfg, const atomic_int *cancel, char *err, size_t errlen)
{
	(void)cfg;
	(void)cancel;
	snprintf(err, errlen, "token support is not built yet");
	return NULL;
}

int
token_handle_tokens(struct tl_call *call)
{
	return call_fail(call, TL_TOKEN_ERROR, "token support is not built yet");
}

int
token_cli(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("trustlens-host: token support is not built yet\n", stderr);
	return CLI_FAILED;
}

int
token_cli_sign_mail(int argc, char **argv)
{
	return token_cli(argc, argv);
}
