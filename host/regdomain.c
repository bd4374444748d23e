/*
 * regdomain: see regdomain.h. The list is loaded once, on first use, and
 * shared read-only by every thread (libpsl look-ups do not modify it).
 */
#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "regdomain.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *list;

static void
load(void)
{
	/* psl_latest: the system file when it is newer than the built-in
	 * list, else the built-in one (NULL only when neither exists). */
	list = psl_latest(NULL);
	if (list == NULL)
		list = psl_builtin();
}

int
regdomain_of(const char *host, char *out, size_t len)
{
	const char *reg;
	size_t n;

	if (host == NULL || out == NULL || len == 0)
		return -1;
	out[0] = '\0';
	if (strchr(host, ':') != NULL || strspn(host, "0123456789.") == strlen(host))
		return -1;      /* IP literals have no registrable domain */
	pthread_once(&load_once, load);
	if (list == NULL)
		return -1;
	reg = psl_registrable_domain(list, host);
	if (reg == NULL || *reg == '\0')
		return -1;
	n = strlen(reg);
	if (n + 1 > len)
		return -1;
	memcpy(out, reg, n + 1);
	return 0;
}
