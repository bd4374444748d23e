/*
 * cache: see cache.h. The memory layer is a chained hash map with an LRU
 * list; the disk layer is SQLite (a well-kept library for exactly the hard
 * part: atomic, concurrent, crash-safe local state).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "config.h"
#include "log.h"

#define MEM_BUCKETS 4096u
#define MEM_BLOB_BYTES (32u * 1024u * 1024u)
#define DB_BUSY_MS 2000
#define DB_TRIM_EVERY 128u

struct mem_entry {
	char *key;
	unsigned char *value;
	size_t len;
	time_t expires;
	struct mem_entry *next_in_bucket;
	struct mem_entry *lru_prev, *lru_next; /* head: most recent */
};

struct mem_map {
	struct mem_entry *buckets[MEM_BUCKETS];
	struct mem_entry *lru_head, *lru_tail;
	size_t entries, bytes, max_entries, max_bytes;
};

struct cache {
	pthread_mutex_t lock;
	struct mem_map verdicts, blobs;
	sqlite3 *db;
	char context[17];        /* fingerprint of the trust configuration */
	unsigned puts;
	unsigned max_entries;
};

static unsigned
hash_key(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % MEM_BUCKETS;
}

static void
lru_unlink(struct mem_map *m, struct mem_entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		m->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		m->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void
lru_push(struct mem_map *m, struct mem_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = m->lru_head;
	if (m->lru_head != NULL)
		m->lru_head->lru_prev = e;
	m->lru_head = e;
	if (m->lru_tail == NULL)
		m->lru_tail = e;
}

static void
mem_remove(struct mem_map *m, struct mem_entry *e)
{
	struct mem_entry **p = &m->buckets[hash_key(e->key)];

	while (*p != NULL && *p != e)
		p = &(*p)->next_in_bucket;
	if (*p == e)
		*p = e->next_in_bucket;
	lru_unlink(m, e);
	m->entries--;
	m->bytes -= e->len;
	free(e->key);
	free(e->value);
	free(e);
}

static struct mem_entry *
mem_find(struct mem_map *m, const char *key)
{
	struct mem_entry *e = m->buckets[hash_key(key)];

	while (e != NULL && strcmp(e->key, key) != 0)
		e = e->next_in_bucket;
	return e;
}

static int
mem_put(struct mem_map *m, const char *key, const unsigned char *value, size_t len,
    time_t expires)
{
	struct mem_entry *e = mem_find(m, key);
	unsigned b;

	if (e != NULL)
		mem_remove(m, e);
	if (m->max_entries == 0 || len > m->max_bytes)
		return 0;
	while (m->lru_tail != NULL &&
	    (m->entries >= m->max_entries || m->bytes + len > m->max_bytes))
		mem_remove(m, m->lru_tail);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	e->key = strdup(key);
	e->value = malloc(len + 1);
	if (e->key == NULL || e->value == NULL) {
		free(e->key);
		free(e->value);
		free(e);
		return -1;
	}
	memcpy(e->value, value, len);
	e->value[len] = '\0';
	e->len = len;
	e->expires = expires;
	b = hash_key(key);
	e->next_in_bucket = m->buckets[b];
	m->buckets[b] = e;
	lru_push(m, e);
	m->entries++;
	m->bytes += len;
	return 0;
}

/* A fresh copy of a live entry; 0 on a miss. */
static int
mem_get(struct mem_map *m, const char *key, time_t now, unsigned char **value,
    size_t *len)
{
	struct mem_entry *e = mem_find(m, key);

	if (e == NULL)
		return 0;
	if (e->expires <= now) {
		mem_remove(m, e);
		return 0;
	}
	*value = malloc(e->len + 1);
	if (*value == NULL)
		return 0;
	memcpy(*value, e->value, e->len + 1);
	*len = e->len;
	lru_unlink(m, e);
	lru_push(m, e);
	return 1;
}

static void
mem_clear(struct mem_map *m)
{
	while (m->lru_head != NULL)
		mem_remove(m, m->lru_head);
}

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA cache_size=-256;"
    "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
    " expires INTEGER NOT NULL, stored INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, value BLOB NOT NULL,"
    " expires INTEGER NOT NULL, stored INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS verdicts_stored ON verdicts(stored);";

static sqlite3 *
open_db(const struct config *cfg)
{
	char dir[4096], path[4200];
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (config_state_dir(cfg, dir, sizeof(dir)) < 0) {
		log_msg("cache: no usable state directory (%d); memory only", errno);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/cache.sqlite", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		goto bad;
	sqlite3_busy_timeout(db, DB_BUSY_MS);
	if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK)
		goto bad;
	chmod(path, 0600);
	return db;
bad:
	log_msg("cache: database unusable (%s); memory only",
	    msg != NULL ? msg : db != NULL ? sqlite3_errmsg(db) : "open failed");
	sqlite3_free(msg);
	sqlite3_close(db);
	return NULL;
}

/* The trust configuration's fingerprint, so that verdicts made under one
 * trust store are not served under another, nor verdicts of an older shape
 * (VERDICT_SHAPE: raised when a field is added) by a newer host. */
#define VERDICT_SHAPE "verdict-shape-2"
static void
make_context(const struct config *cfg, char out[17])
{
	unsigned char md[32];
	unsigned n = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *parts[6];

	parts[0] = cfg->ca_file != NULL ? cfg->ca_file : "-";
	parts[1] = cfg->ev_roots != NULL ? cfg->ev_roots : "-";
	parts[2] = cfg->qwac_roots != NULL ? cfg->qwac_roots : "-";
	parts[3] = cfg->allow_private ? "private" : "public";
	parts[4] = cfg->ocsp_fetch ? "ocsp" : "-";
	parts[5] = VERDICT_SHAPE;
	memset(md, 0, sizeof(md));
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		for (i = 0; i < 6; i++)
			EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
		EVP_DigestFinal_ex(ctx, md, &n);
	}
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct cache *
cache_open(const struct config *cfg)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->max_entries = cfg->cache_max_entries;
	c->verdicts.max_entries = cfg->cache_max_entries;
	c->verdicts.max_bytes = (size_t)cfg->cache_max_entries * 4096u + CACHE_VALUE_MAX;
	c->blobs.max_entries = cfg->cache_max_entries > 0 ? 256 : 0;
	c->blobs.max_bytes = MEM_BLOB_BYTES;
	make_context(cfg, c->context);
	if (cfg->cache_max_entries > 0)
		c->db = open_db(cfg);
	return c;
}

void
cache_close(struct cache *c)
{
	if (c == NULL)
		return;
	mem_clear(&c->verdicts);
	mem_clear(&c->blobs);
	sqlite3_close(c->db);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int
cache_persistent(const struct cache *c)
{
	return c != NULL && c->db != NULL;
}

size_t
cache_memory_entries(const struct cache *c)
{
	return c != NULL ? c->verdicts.entries : 0;
}

static void
verdict_key(const struct cache *c, const char *host, unsigned port, char *out,
    size_t len)
{
	snprintf(out, len, "%s|%s:%u", c->context, host, port);
}

/* Reads a row from the database; 1 on a live hit. */
static int
db_get(struct cache *c, const char *table, const char *key, time_t now,
    unsigned char **value, size_t *len, time_t *expires)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	const void *p;
	int n, hit = 0;

	if (c->db == NULL)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT value, expires FROM %s WHERE key = ?1", table);
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*expires = (time_t)sqlite3_column_int64(st, 1);
	if (*expires <= now)
		goto out;
	p = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if (p == NULL || n <= 0 || (size_t)n > CACHE_BLOB_MAX)
		goto out;
	*value = malloc((size_t)n + 1);
	if (*value == NULL)
		goto out;
	memcpy(*value, p, (size_t)n);
	(*value)[n] = '\0';
	*len = (size_t)n;
	hit = 1;
out:
	sqlite3_finalize(st);
	return hit;
}

static int
db_put(struct cache *c, const char *table, const char *key,
    const unsigned char *value, size_t len, time_t expires, time_t now)
{
	char sql[160];
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (c->db == NULL)
		return 0;
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s (key, value, expires, stored)"
	    " VALUES (?1, ?2, ?3, ?4)", table);
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)expires);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	rc = 0;
	/* Keep the database bounded: now and then drop what expired and the
	 * oldest beyond the entry limit. */
	if (++c->puts % DB_TRIM_EVERY == 0) {
		sqlite3_stmt *trim = NULL;
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE expires <= ?1 OR key IN "
		    "(SELECT key FROM %s ORDER BY stored DESC LIMIT -1 OFFSET ?2)", table, table);
		if (sqlite3_prepare_v2(c->db, sql, -1, &trim, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(trim, 1, (sqlite3_int64)now);
			sqlite3_bind_int64(trim, 2, (sqlite3_int64)c->max_entries);
			sqlite3_step(trim);
		}
		sqlite3_finalize(trim);
	}
out:
	if (rc != 0)
		log_msg("cache: write to %s failed: %s", table, sqlite3_errmsg(c->db));
	sqlite3_finalize(st);
	return rc;
}

int
cache_get_verdict_text(struct cache *c, const char *host, unsigned port, time_t now,
    char **out)
{
	char key[320];
	unsigned char *value = NULL;
	size_t len = 0;
	time_t expires = 0;
	int hit;

	*out = NULL;
	if (c == NULL)
		return 0;
	verdict_key(c, host, port, key, sizeof(key));
	pthread_mutex_lock(&c->lock);
	hit = mem_get(&c->verdicts, key, now, &value, &len);
	if (!hit && db_get(c, "verdicts", key, now, &value, &len, &expires)) {
		hit = 1;
		mem_put(&c->verdicts, key, value, len, expires);
	}
	pthread_mutex_unlock(&c->lock);
	if (hit)
		*out = (char *)value;
	else
		free(value);
	return hit;
}

int
cache_get_verdict(struct cache *c, const char *host, unsigned port, time_t now,
    json_t **out)
{
	char *text = NULL;

	*out = NULL;
	if (!cache_get_verdict_text(c, host, port, now, &text))
		return 0;
	*out = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL; /* a damaged row reads as a miss */
	}
	free(text);
	return *out != NULL;
}

int
cache_put_verdict(struct cache *c, const char *host, unsigned port,
    const json_t *verdict, time_t expires, time_t now)
{
	char key[320];
	char *text;
	size_t len;
	int rc;

	if (c == NULL || expires <= now)
		return 0;
	text = json_dumps(verdict, JSON_COMPACT);
	if (text == NULL)
		return -1;
	len = strlen(text);
	if (len > CACHE_VALUE_MAX) {
		free(text);
		return -1;
	}
	verdict_key(c, host, port, key, sizeof(key));
	pthread_mutex_lock(&c->lock);
	rc = mem_put(&c->verdicts, key, (const unsigned char *)text, len, expires);
	if (db_put(c, "verdicts", key, (const unsigned char *)text, len, expires, now) < 0)
		rc = -1;
	pthread_mutex_unlock(&c->lock);
	free(text);
	return rc;
}

int
cache_get_blob(struct cache *c, const char *url, time_t now, unsigned char **data,
    size_t *len)
{
	time_t expires = 0;
	int hit;

	*data = NULL;
	*len = 0;
	if (c == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	hit = mem_get(&c->blobs, url, now, data, len);
	if (!hit && db_get(c, "blobs", url, now, data, len, &expires)) {
		hit = 1;
		mem_put(&c->blobs, url, *data, *len, expires);
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

int
cache_put_blob(struct cache *c, const char *url, const unsigned char *data, size_t len,
    time_t expires, time_t now)
{
	int rc;

	if (c == NULL || expires <= now || len > CACHE_BLOB_MAX)
		return 0;
	pthread_mutex_lock(&c->lock);
	rc = mem_put(&c->blobs, url, data, len, expires);
	if (db_put(c, "blobs", url, data, len, expires, now) < 0)
		rc = -1;
	pthread_mutex_unlock(&c->lock);
	return rc;
}
