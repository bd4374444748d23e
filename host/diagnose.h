/*
 * diagnose: one report of why TrustLens does or does not work on this
 * machine, for a person (the CLI) and as JSON (the CLI's --json and the
 * `diagnose` request carry the same object). Nothing private goes in: no
 * national register number, no PIN, no mail content, no history entries,
 * home-directory paths shown as "~".
 */
#ifndef TL_DIAGNOSE_H
#define TL_DIAGNOSE_H

#include <jansson.h>
#include <stdatomic.h>

struct config;
struct tl_call;

/* The report (new reference); NULL only when memory ran out. */
json_t *diagnose_report(const struct config *cfg, const atomic_int *cancel);

/* The `diagnose` request handler (dispatch table). */
int diagnose_handle(struct tl_call *call);

/* `trustlens-host diagnose [--json]`: exit codes of cli.h. */
int diagnose_cli(int argc, char **argv);

#endif
