/*
 * call: one request being served, as handlers see it.
 *
 * A handler reads its parameters from the borrowed request object, and
 * either sets `result` (a new reference, owned by the call) and returns 0,
 * or records a status and one human sentence with call_fail and returns -1.
 * The error text stays on the call (libtls style), never in a global.
 * Handlers that wait on the network poll `cancel`: once the browser has
 * closed the port nobody will read the answer.
 */
#ifndef TL_CALL_H
#define TL_CALL_H

#include <jansson.h>
#include <stdatomic.h>

#include "status.h"

struct config;

#define CALL_MESSAGE_MAX 256

struct tl_call {
	const struct config *cfg;     /* borrowed, immutable */
	const atomic_int *cancel;     /* non-zero: stop, nobody is listening */
	json_t *request;              /* borrowed: the whole request object */
	json_t *result;               /* owned: set by the handler on success */
	char *result_text;            /* owned: or the result already serialised
	                                 as compact JSON (a cached verdict): spliced
	                                 into the reply without a parse */
	enum tl_status status;
	char message[CALL_MESSAGE_MAX];
};

/* Records the failure on the call and returns -1. */
int call_fail(struct tl_call *call, enum tl_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 1 when the handler should give up. */
int call_cancelled(const struct tl_call *call);

#endif
