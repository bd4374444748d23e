/*
 * history: see history.h.
 *
 * One table, one row per message seen: (key, sender, signed, cert, seen).
 * Counts are computed at look-up; recording is INSERT OR IGNORE inside the
 * same IMMEDIATE transaction, so two host processes opening the same mail
 * at once count it once, and a process killed mid-write leaves either the
 * whole row or nothing (SQLite's journal).
 *
 * The key is a hash of the Message-ID (else of the raw message) together
 * with the sender, whether it was signed and by which certificate: a forged
 * mail that reuses a genuine Message-ID is a different key, so it can
 * neither hide the genuine one from the counts nor be hidden by it.
 *
 * Limits: HISTORY_MAX_ROWS rows (the oldest are dropped beyond it),
 * addresses and keys of bounded length.
 */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "history.h"
#include "log.h"

#define HISTORY_MAX_ROWS 200000
#define HISTORY_ADDR_MAX 320
#define HISTORY_BUSY_MS 5000

struct history {
	sqlite3 *db;
	unsigned writes;
	/* One transaction at a time on the shared connection: SQLite's
	 * FULLMUTEX serialises calls, not transactions, and a second BEGIN
	 * from another request thread failed ("SQL logic error"), so
	 * concurrent mail requests went unrecorded (found by the fault suite). */
	pthread_mutex_t lock;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA cache_size=-256;"
    "CREATE TABLE IF NOT EXISTS messages (key TEXT PRIMARY KEY, sender TEXT NOT NULL,"
    " signed INTEGER NOT NULL, cert TEXT, seen INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS messages_sender ON messages(sender, signed);"
    "CREATE TABLE IF NOT EXISTS confirmed (sender TEXT NOT NULL, cert TEXT NOT NULL,"
    " seen INTEGER NOT NULL, PRIMARY KEY (sender, cert));";

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite answers SQLITE_BUSY without calling the busy handler when waiting
 * could deadlock, or while another connection recovers the WAL or changes
 * the journal mode (many host processes starting at once: found under
 * valgrind, where 16 concurrent writers lost most of their records). Such
 * an answer is retried 20 ms later until HISTORY_BUSY_MS have passed in
 * all. 1 when worth retrying (after the pause). */
static int
worth_retrying(int rc, long long start)
{
	struct timespec pause = { 0, 20L * 1000000L };

	if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) ||
	    mono_ms() - start >= HISTORY_BUSY_MS)
		return 0;
	nanosleep(&pause, NULL);
	return 1;
}

struct history *
history_open(const struct config *cfg, char *err, size_t errlen)
{
	char dir[4096], path[4200];
	struct history *h = NULL;
	sqlite3 *db = NULL;
	char *msg = NULL;
	long long start;
	int rc;

	if (config_state_dir(cfg, dir, sizeof(dir)) != 0) {
		snprintf(err, errlen, "no usable state directory");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/history.sqlite", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		goto bad;
	sqlite3_busy_timeout(db, HISTORY_BUSY_MS);
	start = mono_ms();
	while ((rc = sqlite3_exec(db, schema, NULL, NULL, &msg)) != SQLITE_OK) {
		if (!worth_retrying(rc, start))
			goto bad;
		sqlite3_free(msg);
		msg = NULL;
	}
	chmod(path, 0600);
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		goto bad;
	h->db = db;
	pthread_mutex_init(&h->lock, NULL);
	return h;
bad:
	snprintf(err, errlen, "history database unusable: %s",
	    msg != NULL ? msg : db != NULL ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_free(msg);
	sqlite3_close(db);
	return NULL;
}

void
history_close(struct history *h)
{
	if (h == NULL)
		return;
	sqlite3_close(h->db);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* sha256(a | b | c | d) as hex: the message key. */
static void
message_key(const char *sender, const char *key, int is_signed, const char *cert,
    char out[65])
{
	unsigned char md[32];
	unsigned n = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const char *parts[4];

	parts[0] = sender;
	parts[1] = key;
	parts[2] = is_signed ? "signed" : "unsigned";
	parts[3] = cert != NULL ? cert : "-";
	memset(md, 0, sizeof(md));
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		for (i = 0; i < 4; i++)
			EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
		EVP_DigestFinal_ex(ctx, md, &n);
	}
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* The sender's past, excluding message mkey, into view. */
static int
read_view(struct history *h, const char *addr, const char *mkey, int is_signed,
    const char *cert_sha256, struct history_view *view)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(h->db, "SELECT signed, count(*) FROM messages WHERE"
	    " sender = ?1 AND key != ?2 GROUP BY signed", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, mkey, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		unsigned c = (unsigned)sqlite3_column_int64(st, 1);
		if (sqlite3_column_int(st, 0))
			view->signed_before = c;
		else
			view->unsigned_before = c;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (is_signed && cert_sha256 != NULL) {
		/* Known: the first certificate ever seen signing for this sender
		 * (trust on first use), or one the reader confirmed. Any other
		 * stays "changed" until confirmed, however often it signs: an
		 * impostor's second mail is no more trustworthy than its first. */
		if (sqlite3_prepare_v2(h->db, "SELECT (SELECT cert FROM messages WHERE"
		    " sender = ?1 AND signed = 1 AND key != ?2 ORDER BY seen, rowid LIMIT 1) = ?3"
		    " OR EXISTS (SELECT 1 FROM confirmed WHERE sender = ?1 AND cert = ?3)",
		    -1, &st, NULL) != SQLITE_OK)
			goto out;
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, mkey, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, cert_sha256, -1, SQLITE_STATIC);
		view->known_signer = sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int(st, 0) != 0;
		view->signer_changed = view->signed_before > 0 && !view->known_signer;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* One attempt: the sender's past into view, then this message recorded.
 * SQLITE_OK, or the code of the step that failed (view still filled when
 * the past could be read). */
static int
observe_once(struct history *h, const char *addr, const char *mkey, int is_signed,
    const char *cert_sha256, time_t now, struct history_view *view)
{
	sqlite3_stmt *st = NULL;
	int rc, began = 0;

	memset(view, 0, sizeof(*view));
	rc = sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		/* Another process holds the write lock beyond the busy timeout,
		 * or the directory is read-only or full: this message cannot be
		 * recorded, but the sender's past can still be read (in WAL
		 * mode a reader never waits for a writer), so an unsigned mail
		 * from a sender who usually signs still says so. */
		read_view(h, addr, mkey, is_signed, cert_sha256, view);
		return rc;
	}
	began = 1;
	if (read_view(h, addr, mkey, is_signed, cert_sha256, view) != 0) {
		rc = sqlite3_errcode(h->db);
		rc = rc != SQLITE_OK ? rc : SQLITE_ERROR;
		goto out;
	}
	rc = sqlite3_prepare_v2(h->db, "INSERT OR IGNORE INTO messages (key, sender, signed,"
	    " cert, seen) VALUES (?1, ?2, ?3, ?4, ?5)", -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, mkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, is_signed ? 1 : 0);
	if (is_signed && cert_sha256 != NULL)
		sqlite3_bind_text(st, 4, cert_sha256, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (++h->writes % 256 == 0) {
		/* Bounded: drop the oldest rows beyond the limit. */
		sqlite3_exec(h->db, "DELETE FROM messages WHERE key IN (SELECT key FROM messages"
		    " ORDER BY seen DESC LIMIT -1 OFFSET 200000)", NULL, NULL, NULL);
	}
	rc = sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto out;
	began = 0;
out:
	sqlite3_finalize(st);
	if (began)
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int
history_observe(struct history *h, const char *sender, const char *key, int is_signed,
    const char *cert_sha256, time_t now, struct history_view *view)
{
	char addr[HISTORY_ADDR_MAX + 1], mkey[65];
	long long start;
	size_t i, n;
	int rc;

	memset(view, 0, sizeof(*view));
	if (h == NULL || sender == NULL || key == NULL)
		return -1;
	n = strlen(sender);
	if (n == 0 || n > HISTORY_ADDR_MAX)
		return -1;
	for (i = 0; i <= n; i++)
		addr[i] = (char)tolower((unsigned char)sender[i]);
	message_key(addr, key, is_signed, is_signed ? cert_sha256 : NULL, mkey);

	pthread_mutex_lock(&h->lock);
	start = mono_ms();
	do {
		rc = observe_once(h, addr, mkey, is_signed, cert_sha256, now, view);
	} while (rc != SQLITE_OK && worth_retrying(rc, start));
	pthread_mutex_unlock(&h->lock);
	if (rc != SQLITE_OK) {
		log_msg("history: %s", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

int
history_confirm(struct history *h, const char *sender, const char *cert_sha256,
    time_t now)
{
	char addr[HISTORY_ADDR_MAX + 1];
	sqlite3_stmt *st = NULL;
	size_t i, n;
	int rc = -1;

	if (h == NULL || sender == NULL || cert_sha256 == NULL)
		return -1;
	n = strlen(sender);
	if (n == 0 || n > HISTORY_ADDR_MAX || strlen(cert_sha256) != 64 ||
	    strspn(cert_sha256, "0123456789abcdef") != 64)
		return -1;
	for (i = 0; i <= n; i++)
		addr[i] = (char)tolower((unsigned char)sender[i]);
	pthread_mutex_lock(&h->lock); /* never inside another thread's transaction */
	if (sqlite3_prepare_v2(h->db, "INSERT OR IGNORE INTO confirmed (sender, cert, seen)"
	    " VALUES (?1, ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, cert_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	if (step_done(st) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&h->lock);
	return rc;
}
