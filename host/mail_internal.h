/*
 * mail_internal: what mail.c shares with mail_cli.c (the command line).
 */
#ifndef TL_MAIL_INTERNAL_H
#define TL_MAIL_INTERNAL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

struct config;

struct mail_ctx {
	const struct config *cfg;
	struct smime_trust *trust;
	struct history *history;
	struct cache *cache;
};

/* The process-wide context, made on first use; NULL with a sentence. */
struct mail_ctx *mail_context(const struct config *cfg, char *err, size_t errlen);

/* The verdict for one raw message (never NULL unless out of memory). */
json_t *mail_evaluate(struct mail_ctx *c, const unsigned char *raw, size_t len,
    time_t now, const atomic_int *cancel);

#endif
