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
