/*
 * diagnose_internal: what the files of the diagnose module share
 * (diagnose.c assembles and prints; diagnose_browsers.c, diagnose_system.c
 * and diagnose_tokens.c each examine areas). No other file includes it.
 *
 * An area collects findings. Each finding has a level (ok, warning,
 * problem), one sentence and, unless it is ok, one sentence of fix. The
 * area's verdict is its worst finding's level; its message and fix are
 * those of the first finding at that level. Details go into the area's
 * JSON object and its text lines. Every path shown passes through
 * diag_path (home as "~"); nothing private is ever added.
 */
#ifndef TL_DIAGNOSE_INTERNAL_H
#define TL_DIAGNOSE_INTERNAL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

struct config;

enum diag_level {
	DIAG_OK = 0,
	DIAG_WARNING = 1,
	DIAG_PROBLEM = 2
};

#define DIAG_SENTENCE_MAX 512
#define DIAG_MAX_LINES 160

struct diag_area {
	const char *name;               /* "host", "browsers", ... */
	enum diag_level level;
	char message[DIAG_SENTENCE_MAX];
	char fix[DIAG_SENTENCE_MAX];
	int has_finding;
	json_t *details;                /* owned: the area's detail object */
	json_t *findings;               /* owned: [{"verdict", "message", "fix"}] */
	char *lines[DIAG_MAX_LINES];    /* owned: detail lines of the text report */
	size_t n_lines;
};

/* A finding. fix may be NULL for DIAG_OK. */
void diag_find(struct diag_area *a, enum diag_level level, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A detail line for the text report (indented by the printer). */
void diag_line(struct diag_area *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* path as shown in the report: $HOME as "~", TRUSTLENS_SYSTEM_ROOT left
 * out. Returns buf. */
const char *diag_path(const char *path, char *buf, size_t len);

const char *diag_level_name(enum diag_level level);

/* A malloc'd copy of s with every $HOME path prefix replaced by "~" (for
 * text that comes from elsewhere, such as a config error). NULL when out
 * of memory. */
char *diag_scrub(const char *s);

/* The areas, in report order. */
void diag_host(struct diag_area *a, const struct config *cfg);
void diag_browsers(struct diag_area *a, const struct config *cfg);
void diag_last_start(struct diag_area *a, const struct config *cfg);
void diag_trust(struct diag_area *a, const struct config *cfg);
void diag_network(struct diag_area *a, const struct config *cfg, const atomic_int *cancel);
void diag_tokens(struct diag_area *a, const struct config *cfg, const atomic_int *cancel);
void diag_state(struct diag_area *a, const struct config *cfg);

#endif
