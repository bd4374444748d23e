/*
 * dispatch: from one request frame to exactly one reply.
 *
 * The table of request types lives in dispatch.c; each entry names its
 * handler, the largest frame it accepts, and the parameters it takes (any
 * other key is refused). dispatch_frame validates the envelope of DESIGN.md
 * s. 3 (an object with an id that is a string of at most 256 bytes or an
 * integer, and a string type) and always produces one serialised reply that
 * fits the browser's 1 MiB limit. It is a pure function of the bytes, the
 * configuration and the cancel flag: it writes nothing anywhere.
 */
#ifndef TL_DISPATCH_H
#define TL_DISPATCH_H

#include <stdatomic.h>
#include <stddef.h>

#include "call.h"

struct config;

/* Frames of lookup requests (hello, site, sites, chain, tokens, diagnose). */
#define DISPATCH_LOOKUP_MAX (1024u * 1024u)
#define DISPATCH_ID_MAX 256u

#define DISPATCH_INSTANT 1u /* does no I/O: still answered after EOF */

struct dispatch_entry {
	const char *type;
	int (*handler)(struct tl_call *call);
	size_t max_frame;              /* 0: the mail cap of the config */
	const char *const *params;     /* NULL-terminated; id and type implied */
	unsigned flags;
};

/* The entry for a type, or NULL. */
const struct dispatch_entry *dispatch_find(const char *type);

/* The types served, in table order, NULL-terminated. */
const char *const *dispatch_types(void);

/* The largest frame the host reads at all, for this configuration: above it
 * the stream is abandoned with too_large. */
size_t dispatch_frame_cap(const struct config *cfg);

/* Serves one frame body. Returns a malloc'd NUL-terminated JSON reply (at
 * most FRAME_REPLY_MAX bytes); NULL only when memory ran out. Once *cancel is
 * set, only DISPATCH_INSTANT types run; others are refused at once. */
char *dispatch_frame(const unsigned char *body, size_t len,
    const struct config *cfg, const atomic_int *cancel, size_t *reply_len);

/* A reply for a failure that happened before dispatch (frame level), with
 * id null. Returns malloc'd JSON or NULL when memory ran out. */
char *dispatch_error_reply(enum tl_status status, const char *message,
    size_t *reply_len);

#endif
