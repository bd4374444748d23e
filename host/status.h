/*
 * status: the one answer to "could we evaluate?".
 *
 * Every operation of the host that can fail reports one of these values.
 * The numeric values are stable (tests and logs use them) and each maps to
 * exactly one wire code of the native-messaging protocol (DESIGN.md s. 3).
 * Whether a site or a mail is trustworthy is NOT a status: an untrusted
 * certificate or an unsigned mail is a verdict, reported with TL_OK.
 */
#ifndef TL_STATUS_H
#define TL_STATUS_H

enum tl_status {
	TL_OK = 0,
	TL_BAD_FRAME = 1,
	TL_BAD_JSON = 2,
	TL_BAD_REQUEST = 3,
	TL_UNKNOWN_TYPE = 4,
	TL_TOO_LARGE = 5,
	TL_FORBIDDEN_ORIGIN = 6,
	TL_BAD_URL = 7,
	TL_BLOCKED_ADDRESS = 8,
	TL_DNS_FAILED = 9,
	TL_CONNECT_FAILED = 10,
	TL_TLS_FAILED = 11,
	TL_TIMEOUT = 12,
	TL_TOKEN_ERROR = 13,
	TL_INTERNAL = 14,
	TL_STATUS_COUNT
};

/* The protocol's error code for a status ("bad_frame", ...); "internal" for
 * a value out of range. Never NULL. */
const char *status_code(enum tl_status s);

/* The status for a wire code, or -1 when the code is unknown. */
int status_from_code(const char *code);

#endif
