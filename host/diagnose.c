/*
 * diagnose: see diagnose.h. This file assembles the report from the areas
 * (diagnose_browsers.c, diagnose_system.c, diagnose_tokens.c), renders the
 * text a person reads and copies, and serves the CLI and the request.
 *
 * The text comes first as one verdict line per area ("browsers  problem
 * <sentence>" and, when not ok, "fix: <sentence>"), then the details. The
 * JSON carries the same verdicts in "areas", every detail object under the
 * area's name, and the whole text in "text": the CLI's --json and the
 * `diagnose` request return the same object.
 *
 * What it refuses to include: anything private. Paths pass through
 * diag_path ($HOME as "~"); tokens are described by label, key and dates,
 * never by holder name, card number or national register number; the
 * history and cache databases by size and integrity only; proxy settings
 * without credentials.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "call.h"
#include "cli.h"
#include "config.h"
#include "diagnose.h"
#include "diagnose_internal.h"
#include "install.h"
#include "version.h"

const char *
diag_level_name(enum diag_level level)
{
	switch (level) {
	case DIAG_WARNING:
		return "warning";
	case DIAG_PROBLEM:
		return "problem";
	case DIAG_OK:
		break;
	}
	return "ok";
}

const char *
diag_path(const char *path, char *buf, size_t len)
{
	install_display_path(path, buf, len);
	return buf;
}

char *
diag_scrub(const char *s)
{
	const char *home = getenv("HOME"), *p, *hit;
	size_t hl, n = 0, cap;
	char *out;

	hl = home != NULL ? strlen(home) : 0;
	while (hl > 1 && home[hl - 1] == '/')
		hl--;
	cap = strlen(s) + 1;
	out = malloc(cap);
	if (out == NULL)
		return NULL;
	if (hl < 2) {
		memcpy(out, s, cap);
		return out;
	}
	for (p = s; (hit = strstr(p, home)) != NULL; p = hit + hl) {
		/* Only a whole path component: /home/ann, not /home/anna. */
		if (hit[hl] != '\0' && hit[hl] != '/' && hit[hl] != ' ' && hit[hl] != '"' &&
		    hit[hl] != ':' && hit[hl] != ',' && hit[hl] != ')' && hit[hl] != '\n') {
			memcpy(out + n, p, (size_t)(hit - p) + 1);
			n += (size_t)(hit - p) + 1;
			hit = hit + 1 - hl;
			continue;
		}
		memcpy(out + n, p, (size_t)(hit - p));
		n += (size_t)(hit - p);
		out[n++] = '~';
	}
	memcpy(out + n, p, strlen(p) + 1);
	return out;
}

void
diag_find(struct diag_area *a, enum diag_level level, const char *fix, const char *fmt, ...)
{
	char msg[DIAG_SENTENCE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!a->has_finding || level > a->level) {
		a->level = level;
		snprintf(a->message, sizeof(a->message), "%s", msg);
		snprintf(a->fix, sizeof(a->fix), "%s", fix != NULL ? fix : "");
		a->has_finding = 1;
	}
	if (a->findings != NULL)
		json_array_append_new(a->findings, json_pack("{s:s, s:s, s:s?}", "verdict",
		    diag_level_name(level), "message", msg, "fix",
		    level != DIAG_OK ? fix : NULL));
}

void
diag_line(struct diag_area *a, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (a->n_lines == DIAG_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->lines[a->n_lines] = strdup(line);
	if (a->lines[a->n_lines] != NULL)
		a->n_lines++;
}

/* A growable text buffer; failures make it NULL (reported as no text). */
struct text {
	char *s;
	size_t len, cap;
	int failed;
};

static void
text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t need;
	char *p;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = 1;
		return;
	}
	need = t->len + (size_t)n + 1;
	if (need > t->cap) {
		t->cap = need > 2 * t->cap ? need + 4096 : 2 * t->cap;
		p = realloc(t->s, t->cap);
		if (p == NULL) {
			t->failed = 1;
			return;
		}
		t->s = p;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

#define N_AREAS 7

static void
area_init(struct diag_area *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->name = name;
	a->details = json_object();
	a->findings = json_array();
}

static void
area_free(struct diag_area *a)
{
	size_t i;

	json_decref(a->details);
	json_decref(a->findings);
	for (i = 0; i < a->n_lines; i++)
		free(a->lines[i]);
	memset(a, 0, sizeof(*a));
}

static void
render(struct text *t, struct diag_area *areas, size_t n, const char *when)
{
	size_t i, j;

	text_add(t, "TrustLens diagnose report: trustlens-host %s, %s\n\n", TL_VERSION, when);
	for (i = 0; i < n; i++) {
		text_add(t, "%-11s %-8s %s\n", areas[i].name, diag_level_name(areas[i].level),
		    areas[i].message);
		if (areas[i].level != DIAG_OK && areas[i].fix[0] != '\0')
			text_add(t, "%-11s %-8s fix: %s\n", "", "", areas[i].fix);
	}
	for (i = 0; i < n; i++) {
		text_add(t, "\n[%s]\n", areas[i].name);
		for (j = 0; j < areas[i].n_lines; j++)
			text_add(t, "  %s\n", areas[i].lines[j]);
	}
	text_add(t, "\nThis report holds no national register number, PIN, mail content or "
	    "history entry; the home directory is shown as ~.\n");
}

json_t *
diagnose_report(const struct config *cfg, const atomic_int *cancel)
{
	static const char *const names[N_AREAS] = { "host", "browsers", "last_start", "trust",
		"network", "tokens", "state" };
	struct diag_area areas[N_AREAS];
	struct text t = { NULL, 0, 0, 0 };
	json_t *report = NULL, *list = NULL;
	char when[32], *scrubbed = NULL;
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	for (i = 0; i < N_AREAS; i++)
		area_init(&areas[i], names[i]);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "unknown");
	diag_host(&areas[0], cfg);
	diag_browsers(&areas[1], cfg);
	diag_last_start(&areas[2], cfg);
	diag_trust(&areas[3], cfg);
	diag_network(&areas[4], cfg, cancel);
	diag_tokens(&areas[5], cfg, cancel);
	diag_state(&areas[6], cfg);

	list = json_array();
	report = json_pack("{s:s, s:s}", "version", TL_VERSION, "generated", when);
	if (list == NULL || report == NULL)
		goto fail;
	for (i = 0; i < N_AREAS; i++) {
		if (!areas[i].has_finding)
			diag_find(&areas[i], DIAG_OK, NULL, "Nothing to report.");
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s?}", "area",
		    areas[i].name, "verdict", diag_level_name(areas[i].level), "message",
		    areas[i].message, "fix", areas[i].level != DIAG_OK && areas[i].fix[0] != '\0' ?
		    areas[i].fix : NULL)) != 0)
			goto fail;
		if (areas[i].details != NULL) {
			json_object_set(areas[i].details, "findings", areas[i].findings);
			json_object_set(report, areas[i].name, areas[i].details);
		}
	}
	render(&t, areas, N_AREAS, when);
	if (t.failed || t.s == NULL)
		goto fail;
	if (json_object_set_new(report, "areas", list) != 0) {
		list = NULL;
		goto fail;
	}
	list = NULL;
	/* A last guard: the home directory never leaves in the text. */
	scrubbed = diag_scrub(t.s);
	if (scrubbed == NULL || json_object_set_new(report, "text", json_string(scrubbed)) != 0)
		goto fail;
	goto out;
fail:
	json_decref(report);
	report = NULL;
out:
	json_decref(list);
	free(t.s);
	free(scrubbed);
	for (i = 0; i < N_AREAS; i++)
		area_free(&areas[i]);
	return report;
}

int
diagnose_handle(struct tl_call *call)
{
	call->result = diagnose_report(call->cfg, call->cancel);
	if (call->result == NULL)
		return call_fail(call, TL_INTERNAL, "Out of memory.");
	return 0;
}

int
diagnose_cli(int argc, char **argv)
{
	struct config *cfg = NULL;
	char err[512];
	json_t *r;
	int as_json = 0, i, rc = CLI_FAILED;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
		} else {
			fprintf(stderr, "trustlens-host: unknown diagnose option\n"
			    "usage: trustlens-host diagnose [--json]\n");
			return CLI_USAGE;
		}
	}
	/* A broken configuration is one of the things diagnose reports: go
	 * on with the defaults and say why. */
	if (config_load(&cfg, err, sizeof(err)) != 0) {
		cfg = config_fallback(err);
		if (cfg == NULL) {
			cli_print_error(as_json, TL_INTERNAL, "Out of memory.");
			return CLI_FAILED;
		}
	}
	r = diagnose_report(cfg, NULL);
	if (r == NULL) {
		cli_print_error(as_json, TL_INTERNAL, "Out of memory.");
		goto out;
	}
	if (as_json)
		cli_print_json(r);
	else
		fputs(json_string_value(json_object_get(r, "text")), stdout);
	json_decref(r);
	rc = CLI_OK;
out:
	config_free(cfg);
	return rc;
}
