/*
 * history: what this user's mail from each sender looked like before.
 *
 * An SQLite database (history.sqlite in the state directory; WAL journal,
 * busy timeout, one transaction per recorded message) shared safely by
 * several host processes and crash-safe at any point. Per sender address:
 * how many signed and unsigned mails were seen, and by which signer
 * certificates (SHA-256: never a name or a national register number).
 * Recording is idempotent per message (Message-ID, else a hash of the raw
 * message): opening a mail again does not count twice.
 */
#ifndef TL_HISTORY_H
#define TL_HISTORY_H

#include <stddef.h>
#include <time.h>

struct config;
struct history;

struct history_view {
	unsigned signed_before;    /* other messages from this sender, signed */
	unsigned unsigned_before;  /* other messages, unsigned */
	int known_signer;          /* this certificate signed for the sender before */
	int signer_changed;        /* signed before, but never by this certificate */
};

/* Opens (creating) the database. NULL when the state directory is not
 * usable: the caller goes on without history (and says so). */
struct history *history_open(const struct config *cfg, char *err, size_t errlen);
void history_close(struct history *h);

/* Looks up the sender's past (excluding this message), then records this
 * message: key = Message-ID or raw hash; cert = signer SHA-256 hex or NULL
 * for an unsigned (or invalid) mail. Returns 0, or -1 (view still filled
 * from what could be read). */
int history_observe(struct history *h, const char *sender, const char *key,
    int is_signed, const char *cert_sha256, time_t now, struct history_view *view);

/* The reader confirmed that `cert_sha256` (lower-case hex) signs for
 * `sender`: it no longer reads as a changed signer. Returns 0 or -1. */
int history_confirm(struct history *h, const char *sender, const char *cert_sha256,
    time_t now);

#endif
