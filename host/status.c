/*
 * status: wire codes of enum tl_status. The table is indexed by the enum so
 * that a new value without a code fails to compile (see the static assert).
 */
#include <string.h>

#include "status.h"

static const char *const status_codes[] = {
	[TL_OK] = "ok",
	[TL_BAD_FRAME] = "bad_frame",
	[TL_BAD_JSON] = "bad_json",
	[TL_BAD_REQUEST] = "bad_request",
	[TL_UNKNOWN_TYPE] = "unknown_type",
	[TL_TOO_LARGE] = "too_large",
	[TL_FORBIDDEN_ORIGIN] = "forbidden_origin",
	[TL_BAD_URL] = "bad_url",
	[TL_BLOCKED_ADDRESS] = "blocked_address",
	[TL_DNS_FAILED] = "dns_failed",
	[TL_CONNECT_FAILED] = "connect_failed",
	[TL_TLS_FAILED] = "tls_failed",
	[TL_TIMEOUT] = "timeout",
	[TL_TOKEN_ERROR] = "token_error",
	[TL_INTERNAL] = "internal",
};

_Static_assert(sizeof(status_codes) / sizeof(status_codes[0]) == TL_STATUS_COUNT,
    "every status needs a wire code");

const char *
status_code(enum tl_status s)
{
	if ((int)s < 0 || s >= TL_STATUS_COUNT || status_codes[s] == NULL)
		return "internal";
	return status_codes[s];
}

int
status_from_code(const char *code)
{
	int i;

	if (code == NULL)
		return -1;
	for (i = 0; i < TL_STATUS_COUNT; i++) {
		if (strcmp(status_codes[i], code) == 0)
			return i;
	}
	return -1;
}
