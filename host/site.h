/*
 * site: the `site`, `sites` and `chain` requests and `trustlens-host site`.
 *
 * Orchestrates one verdict: parse the URL, answer from the cache, else
 * handshake (fetch), classify the chain (classify), learn the revocation
 * status (staple, else CRL, else OCSP when configured), count Certificate
 * Transparency SCTs (ct), derive the verdict and cache it. The trust store
 * and the cache are loaded once per process, on the first request that
 * needs them (never at start-up).
 */
#ifndef TL_SITE_H
#define TL_SITE_H

#include "call.h"

#define SITE_URLS_MAX 2000   /* URLs in one `sites` request */
#define SITE_UNKNOWN_TTL_S 300 /* cache life of a verdict with revocation "unknown" */
#define SITE_FANOUT 64       /* hosts checked at once by `sites` (network-bound) */

int site_handle_site(struct tl_call *call);
int site_handle_sites(struct tl_call *call);
int site_handle_chain(struct tl_call *call);

/* trustlens-host site URL [--json]. Returns the CLI exit code. */
int site_cli(int argc, char **argv);

/* Releases the process-wide trust store and cache (at exit). */
void site_shutdown(void);

#endif
