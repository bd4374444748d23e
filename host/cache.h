/*
 * cache: site verdicts and revocation data kept between requests and
 * between host processes.
 *
 * Two layers: a bounded in-memory map (LRU, cache_max_entries) per process,
 * and an SQLite database in the state directory (TRUSTLENS_STATE_DIR, else
 * $XDG_STATE_HOME/trustlens, else ~/.local/state/trustlens; created 0700)
 * shared by every host process of the user: WAL journal, a busy timeout, and
 * one transaction per write, so concurrent hosts and a crash mid-write never
 * corrupt it. When the database cannot be opened (read-only home, full
 * disk, locked) the host keeps working from memory and says so in the log.
 *
 * Entries expire at the time the caller gives (TTL bounded by the
 * certificate's notAfter). Keys include a fingerprint of the trust
 * configuration, so a verdict made under TRUSTLENS_CA_FILE is never served
 * under the system store. Values are verdict JSON without "cached"; nothing
 * personal beyond the host name is stored.
 */
#ifndef TL_CACHE_H
#define TL_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

struct config;
struct cache;

#define CACHE_VALUE_MAX (64u * 1024u)      /* bytes of one verdict */
#define CACHE_BLOB_MAX (16u * 1024u * 1024u) /* bytes of one CRL */

/* Opens the cache for this configuration. Never fails for lack of a disk:
 * returns NULL only when memory runs out. */
struct cache *cache_open(const struct config *cfg);
void cache_close(struct cache *c);

/* 1 when the database is in use, 0 when memory only. */
int cache_persistent(const struct cache *c);

/* A verdict for host:port not expired at now: 1 and *out (new reference)
 * on a hit, 0 on a miss. */
int cache_get_verdict(struct cache *c, const char *host, unsigned port, time_t now,
    json_t **out);

/* The same, as the compact JSON text stored (malloc'd; it already says
 * "cached": true). 1 on a hit. */
int cache_get_verdict_text(struct cache *c, const char *host, unsigned port, time_t now,
    char **out);

/* Stores a verdict until `expires`. Returns 0, or -1 (logged, harmless). */
int cache_put_verdict(struct cache *c, const char *host, unsigned port,
    const json_t *verdict, time_t expires, time_t now);

/* Revocation data (CRLs) by URL, until `expires`. *data is malloc'd on a
 * hit. */
int cache_get_blob(struct cache *c, const char *url, time_t now,
    unsigned char **data, size_t *len);
int cache_put_blob(struct cache *c, const char *url, const unsigned char *data,
    size_t len, time_t expires, time_t now);

/* Number of verdicts held in memory (for benchmarks and diagnose). */
size_t cache_memory_entries(const struct cache *c);

#endif
