/*
 * log: an optional, append-only diagnostic log.
 *
 * Off unless TRUSTLENS_LOG or the config file names a file. Never writes to
 * stdout (the protocol channel) and never to stderr behind the user's back.
 * Callers log operation names, sizes and status codes only: never message
 * bodies, PINs, URLs' query strings or national register numbers.
 * Thread-safe: each line is written with a single write(2) on an O_APPEND
 * descriptor, so concurrent hosts can share one file.
 */
#ifndef TL_LOG_H
#define TL_LOG_H

/* Opens (creating with mode 0600) the log file. Returns 0, or -1 with the
 * reason in errbuf. A NULL or empty path leaves logging off and returns 0. */
int log_open(const char *path, char *errbuf, unsigned errlen);

/* 1 when a log file is open. */
int log_enabled(void);

/* One line: "<RFC 3339 UTC time> <pid> <message>\n". Lines longer than
 * 2 KiB are cut. Control characters in the message are replaced by '?'. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void log_close(void);

#endif
