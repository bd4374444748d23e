/*
 * config: loading and validating settings. See config.h.
 *
 * Hostile input: the config file may have been written by anyone who could
 * write to the user's home; it is parsed with the same strictness as a
 * protocol request. Environment values are checked the same way.
 */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static int
fail(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void
free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void
free_resolve(struct config_resolve *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(r[i].host);
		free(r[i].address);
	}
	free(r);
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->ca_file);
	free(cfg->ev_roots);
	free(cfg->qwac_roots);
	free(cfg->eid_roots);
	free(cfg->smime_ca_file);
	free_resolve(cfg->resolve, cfg->n_resolve);
	free(cfg->state_dir);
	free_list(cfg->pkcs11_modules, cfg->n_pkcs11_modules);
	free(cfg->log_file);
	free(cfg->diagnose_url);
	free_list(cfg->extensions, cfg->n_extensions);
	free(cfg->ports);
	free(cfg->load_error);
	free(cfg);
}

time_t
config_now(const struct config *cfg)
{
	if (cfg != NULL && cfg->has_now)
		return cfg->now;
	return time(NULL);
}

/* Parses exactly `n` decimal digits at s. */
static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
config_state_dir(const struct config *cfg, char *out, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	size_t i, n;
	int k;

	if (cfg->state_dir != NULL)
		k = snprintf(out, len, "%s", cfg->state_dir);
	else if (xdg != NULL && xdg[0] == '/')
		k = snprintf(out, len, "%s/trustlens", xdg);
	else if (home != NULL && home[0] == '/')
		k = snprintf(out, len, "%s/.local/state/trustlens", home);
	else
		return -1;
	if (k <= 0 || (size_t)k >= len)
		return -1;
	n = (size_t)k;
	/* mkdir -p, private: the cache and the history are nobody else's. */
	for (i = 1; i <= n; i++) {
		if (out[i] != '/' && out[i] != '\0')
			continue;
		out[i] = '\0';
		if (mkdir(out, 0700) != 0 && errno != EEXIST) {
			out[i] = i == n ? '\0' : '/';
			return -1;
		}
		out[i] = i == n ? '\0' : '/';
	}
	return 0;
}

int
config_parse_time(const char *s, time_t *t)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	struct tm tm;
	const char *p;
	time_t v;

	if (s == NULL || strlen(s) < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return -1;
	/* Reject dates timegm normalised (31 February and the like). */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*t = v - sign * (time_t)(oh * 3600 + om * 60);
	return 0;
}

static int
set_string(char **dst, const char *val, const char *what, char *errbuf,
    size_t errlen)
{
	char *copy;

	if (strlen(val) > CONFIG_MAX_STRING)
		return fail(errbuf, errlen, "%s is longer than %u bytes", what,
		    CONFIG_MAX_STRING);
	copy = strdup(val);
	if (copy == NULL)
		return fail(errbuf, errlen, "out of memory reading %s", what);
	free(*dst);
	*dst = copy;
	return 0;
}

/* "host:port:address": address may be an IPv6 literal in brackets. */
static int
parse_resolve_one(const char *s, struct config_resolve *r, const char *what,
    char *errbuf, size_t errlen)
{
	const char *c1, *c2, *addr;
	size_t hlen, alen, i;
	char *end;
	unsigned long port;

	memset(r, 0, sizeof(*r));
	c1 = strchr(s, ':');
	if (c1 == NULL || c1 == s)
		goto bad;
	c2 = strchr(c1 + 1, ':');
	if (c2 == NULL)
		goto bad;
	errno = 0;
	port = strtoul(c1 + 1, &end, 10);
	if (errno != 0 || end != c2 || port == 0 || port > 65535 || !isdigit((unsigned char)c1[1]))
		goto bad;
	addr = c2 + 1;
	alen = strlen(addr);
	if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
		addr++;
		alen -= 2;
	}
	if (alen == 0 || alen > 45)
		goto bad;
	for (i = 0; i < alen; i++) {
		if (!isxdigit((unsigned char)addr[i]) && addr[i] != '.' && addr[i] != ':')
			goto bad;
	}
	hlen = (size_t)(c1 - s);
	if (hlen > 253)
		goto bad;
	r->host = strndup(s, hlen);
	r->address = strndup(addr, alen);
	if (r->host == NULL || r->address == NULL) {
		free(r->host);
		free(r->address);
		r->host = r->address = NULL;
		return fail(errbuf, errlen, "out of memory reading %s", what);
	}
	for (i = 0; i < hlen; i++)
		r->host[i] = (char)tolower((unsigned char)r->host[i]);
	r->port = (unsigned)port;
	return 0;
bad:
	return fail(errbuf, errlen,
	    "%s: \"%.80s\" is not of the form host:port:address", what, s);
}

/* Splits a separator-joined list into fresh strings. Empty items are
 * skipped. */
static int
split_list(const char *s, char sep, char ***out, size_t *n, const char *what,
    char *errbuf, size_t errlen)
{
	char **list = NULL;
	size_t count = 0;
	const char *p = s, *q;

	*out = NULL;
	*n = 0;
	list = calloc(CONFIG_MAX_LIST, sizeof(*list));
	if (list == NULL)
		return fail(errbuf, errlen, "out of memory reading %s", what);
	while (*p != '\0') {
		q = strchr(p, sep);
		if (q == NULL)
			q = p + strlen(p);
		if (q > p) {
			if (count == CONFIG_MAX_LIST) {
				free_list(list, count);
				return fail(errbuf, errlen, "%s has more than %u entries",
				    what, CONFIG_MAX_LIST);
			}
			list[count] = strndup(p, (size_t)(q - p));
			if (list[count] == NULL) {
				free_list(list, count);
				return fail(errbuf, errlen, "out of memory reading %s", what);
			}
			count++;
		}
		p = *q == '\0' ? q : q + 1;
	}
	*out = list;
	*n = count;
	return 0;
}

static int
set_resolve_list(struct config *cfg, char **items, size_t n, const char *what,
    char *errbuf, size_t errlen)
{
	struct config_resolve *r;
	size_t i;

	r = calloc(n == 0 ? 1 : n, sizeof(*r));
	if (r == NULL)
		return fail(errbuf, errlen, "out of memory reading %s", what);
	for (i = 0; i < n; i++) {
		if (parse_resolve_one(items[i], &r[i], what, errbuf, errlen) < 0) {
			free_resolve(r, i);
			return -1;
		}
	}
	free_resolve(cfg->resolve, cfg->n_resolve);
	cfg->resolve = r;
	cfg->n_resolve = n;
	return 0;
}

static int
parse_bool_env(const char *val, int *out, const char *what, char *errbuf,
    size_t errlen)
{
	if (strcmp(val, "1") == 0 || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0)
		*out = 1;
	else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0 ||
	    strcmp(val, "no") == 0 || val[0] == '\0')
		*out = 0;
	else
		return fail(errbuf, errlen, "%s must be 1 or 0, not \"%.40s\"", what, val);
	return 0;
}

/* Reads a JSON array of strings into a fresh list. */
static int
json_string_list(json_t *arr, char ***out, size_t *n, const char *what,
    char *errbuf, size_t errlen)
{
	char **list;
	size_t i;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr))
		return fail(errbuf, errlen, "%s must be an array of strings", what);
	if (json_array_size(arr) > CONFIG_MAX_LIST)
		return fail(errbuf, errlen, "%s has more than %u entries", what,
		    CONFIG_MAX_LIST);
	list = calloc(json_array_size(arr) + 1, sizeof(*list));
	if (list == NULL)
		return fail(errbuf, errlen, "out of memory reading %s", what);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > CONFIG_MAX_STRING) {
			free_list(list, i);
			return fail(errbuf, errlen,
			    "%s must be an array of non-empty strings", what);
		}
		list[i] = strdup(json_string_value(v));
		if (list[i] == NULL) {
			free_list(list, i);
			return fail(errbuf, errlen, "out of memory reading %s", what);
		}
	}
	*out = list;
	*n = json_array_size(arr);
	return 0;
}

static int
json_uint(json_t *v, unsigned long long lo, unsigned long long hi,
    unsigned long long *out, const char *what, char *errbuf, size_t errlen)
{
	json_int_t i;

	if (!json_is_integer(v))
		return fail(errbuf, errlen, "%s must be an integer", what);
	i = json_integer_value(v);
	if (i < 0 || (unsigned long long)i < lo || (unsigned long long)i > hi)
		return fail(errbuf, errlen, "%s must be between %llu and %llu", what,
		    lo, hi);
	*out = (unsigned long long)i;
	return 0;
}

/* Keys of the config file that hold a path or a plain string. */
struct string_key {
	const char *key;
	size_t offset;
};

static const struct string_key string_keys[] = {
	{ "ca_file", offsetof(struct config, ca_file) },
	{ "ev_roots", offsetof(struct config, ev_roots) },
	{ "qwac_roots", offsetof(struct config, qwac_roots) },
	{ "eid_roots", offsetof(struct config, eid_roots) },
	{ "smime_ca_file", offsetof(struct config, smime_ca_file) },
	{ "state_dir", offsetof(struct config, state_dir) },
	{ "log", offsetof(struct config, log_file) },
	{ "diagnose_reference_url", offsetof(struct config, diagnose_url) },
};

static char **
string_field(struct config *cfg, size_t offset)
{
	return (char **)(void *)((unsigned char *)cfg + offset);
}

static int
apply_file_key(struct config *cfg, const char *key, json_t *v, char *errbuf,
    size_t errlen)
{
	char what[128];
	unsigned long long u;
	char **list;
	size_t i, n;
	int rc;

	snprintf(what, sizeof(what), "%s: \"%s\"", cfg->file, key);
	for (i = 0; i < sizeof(string_keys) / sizeof(string_keys[0]); i++) {
		if (strcmp(key, string_keys[i].key) != 0)
			continue;
		if (!json_is_string(v))
			return fail(errbuf, errlen, "%s must be a string", what);
		return set_string(string_field(cfg, string_keys[i].offset),
		    json_string_value(v), what, errbuf, errlen);
	}
	if (strcmp(key, "allow_private") == 0) {
		if (!json_is_boolean(v))
			return fail(errbuf, errlen, "%s must be true or false", what);
		cfg->allow_private = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "resolve") == 0) {
		if (json_string_list(v, &list, &n, what, errbuf, errlen) < 0)
			return -1;
		rc = set_resolve_list(cfg, list, n, what, errbuf, errlen);
		free_list(list, n);
		return rc;
	}
	if (strcmp(key, "pkcs11_modules") == 0) {
		if (json_string_list(v, &list, &n, what, errbuf, errlen) < 0)
			return -1;
		free_list(cfg->pkcs11_modules, cfg->n_pkcs11_modules);
		cfg->pkcs11_modules = list;
		cfg->n_pkcs11_modules = n;
		return 0;
	}
	if (strcmp(key, "allowed_extensions") == 0) {
		if (json_string_list(v, &list, &n, what, errbuf, errlen) < 0)
			return -1;
		free_list(cfg->extensions, cfg->n_extensions);
		cfg->extensions = list;
		cfg->n_extensions = n;
		return 0;
	}
	if (strcmp(key, "allowed_ports") == 0) {
		json_t *p;
		unsigned *ports;

		if (!json_is_array(v) || json_array_size(v) > CONFIG_MAX_LIST)
			return fail(errbuf, errlen, "%s must be an array of at most %u ports",
			    what, CONFIG_MAX_LIST);
		ports = calloc(json_array_size(v) + 1, sizeof(*ports));
		if (ports == NULL)
			return fail(errbuf, errlen, "out of memory reading %s", what);
		json_array_foreach(v, i, p) {
			if (json_uint(p, 1, 65535, &u, what, errbuf, errlen) < 0) {
				free(ports);
				return -1;
			}
			ports[i] = (unsigned)u;
		}
		free(cfg->ports);
		cfg->ports = ports;
		cfg->n_ports = json_array_size(v);
		return 0;
	}
	if (strcmp(key, "mail_max_bytes") == 0) {
		/* The browser sends at most 64 MiB; raw_b64 grows by 4/3. */
		if (json_uint(v, 1024, 48ull * 1024 * 1024, &u, what, errbuf, errlen) < 0)
			return -1;
		cfg->mail_max_bytes = (size_t)u;
		return 0;
	}
	if (strcmp(key, "timeout_ms") == 0) {
		if (json_uint(v, 100, 300000, &u, what, errbuf, errlen) < 0)
			return -1;
		cfg->timeout_ms = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "connect_timeout_ms") == 0) {
		if (json_uint(v, 100, 300000, &u, what, errbuf, errlen) < 0)
			return -1;
		cfg->connect_timeout_ms = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "workers") == 0) {
		if (json_uint(v, 1, 64, &u, what, errbuf, errlen) < 0)
			return -1;
		cfg->workers = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "ocsp_fetch") == 0) {
		if (!json_is_boolean(v))
			return fail(errbuf, errlen, "%s must be true or false", what);
		cfg->ocsp_fetch = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "revocation_unknown") == 0) {
		if (!json_is_string(v) || (strcmp(json_string_value(v), "trusted") != 0 &&
		    strcmp(json_string_value(v), "caution") != 0))
			return fail(errbuf, errlen, "%s must be \"trusted\" or \"caution\"",
			    what);
		cfg->revocation_unknown_caution =
		    strcmp(json_string_value(v), "caution") == 0;
		return 0;
	}
	if (strcmp(key, "cache_ttl_s") == 0) {
		if (json_uint(v, 0, 7 * 86400, &u, what, errbuf, errlen) < 0)
			return -1;
		cfg->cache_ttl_s = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "cache_max_entries") == 0) {
		if (json_uint(v, 0, 1000000, &u, what, errbuf, errlen) < 0)
			return -1;
		cfg->cache_max_entries = (unsigned)u;
		return 0;
	}
	if (strcmp(key, "sites_max") == 0) {
		if (json_uint(v, 1, 2000, &u, what, errbuf, errlen) < 0)
			return -1;
		cfg->sites_max = (unsigned)u;
		return 0;
	}
	return fail(errbuf, errlen, "%s: unknown setting \"%.64s\"", cfg->file, key);
}

/* Finds the config file: TRUSTLENS_CONFIG, then the per-user file, then the
 * system one. Returns a fresh path or NULL when none exists. *explicit is set
 * when TRUSTLENS_CONFIG named it (a missing explicit file is an error). */
static char *
find_file(const char *(*get)(const char *), int *explicit_path)
{
	const char *v;
	char buf[4096];
	struct stat st;

	*explicit_path = 0;
	v = get ? get("TRUSTLENS_CONFIG") : NULL;
	if (v != NULL && v[0] != '\0') {
		*explicit_path = 1;
		return strdup(v);
	}
	v = get ? get("XDG_CONFIG_HOME") : NULL;
	if (v != NULL && v[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/trustlens/config.json", v);
		if (stat(buf, &st) == 0)
			return strdup(buf);
	} else {
		v = get ? get("HOME") : NULL;
		if (v != NULL && v[0] == '/') {
			snprintf(buf, sizeof(buf), "%s/.config/trustlens/config.json", v);
			if (stat(buf, &st) == 0)
				return strdup(buf);
		}
	}
	if (stat("/etc/trustlens/config.json", &st) == 0)
		return strdup("/etc/trustlens/config.json");
	return NULL;
}

static int
load_file(struct config *cfg, char *errbuf, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	int rc = -1;

	root = json_load_file(cfg->file, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return fail(errbuf, errlen, "%s:%d: %s", cfg->file, jerr.line, jerr.text);
	if (!json_is_object(root)) {
		fail(errbuf, errlen, "%s must hold a JSON object", cfg->file);
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (apply_file_key(cfg, key, v, errbuf, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static const struct {
	const char *name;
	size_t offset;
} env_strings[] = {
	{ "TRUSTLENS_CA_FILE", offsetof(struct config, ca_file) },
	{ "TRUSTLENS_EV_ROOTS", offsetof(struct config, ev_roots) },
	{ "TRUSTLENS_QWAC_ROOTS", offsetof(struct config, qwac_roots) },
	{ "TRUSTLENS_EID_ROOTS", offsetof(struct config, eid_roots) },
	{ "TRUSTLENS_SMIME_CA_FILE", offsetof(struct config, smime_ca_file) },
	{ "TRUSTLENS_STATE_DIR", offsetof(struct config, state_dir) },
	{ "TRUSTLENS_LOG", offsetof(struct config, log_file) },
	{ "TRUSTLENS_DIAGNOSE_URL", offsetof(struct config, diagnose_url) },
};

static int
load_env(struct config *cfg, const char *(*get)(const char *), char *errbuf,
    size_t errlen)
{
	const char *v;
	char **list;
	size_t i, n;
	int rc;

	for (i = 0; i < sizeof(env_strings) / sizeof(env_strings[0]); i++) {
		v = get(env_strings[i].name);
		if (v == NULL || v[0] == '\0')
			continue;
		if (set_string(string_field(cfg, env_strings[i].offset), v,
		    env_strings[i].name, errbuf, errlen) < 0)
			return -1;
	}
	v = get("TRUSTLENS_ALLOW_PRIVATE");
	if (v != NULL && parse_bool_env(v, &cfg->allow_private,
	    "TRUSTLENS_ALLOW_PRIVATE", errbuf, errlen) < 0)
		return -1;
	v = get("TRUSTLENS_RESOLVE");
	if (v != NULL && v[0] != '\0') {
		if (split_list(v, ',', &list, &n, "TRUSTLENS_RESOLVE", errbuf, errlen) < 0)
			return -1;
		rc = set_resolve_list(cfg, list, n, "TRUSTLENS_RESOLVE", errbuf, errlen);
		free_list(list, n);
		if (rc < 0)
			return -1;
	}
	v = get("TRUSTLENS_NOW");
	if (v != NULL && v[0] != '\0') {
		if (config_parse_time(v, &cfg->now) < 0)
			return fail(errbuf, errlen,
			    "TRUSTLENS_NOW must be an RFC 3339 time such as 2026-01-31T12:00:00Z");
		cfg->has_now = 1;
	}
	v = get("TRUSTLENS_PKCS11_MODULES");
	if (v != NULL && v[0] != '\0') {
		if (split_list(v, ':', &list, &n, "TRUSTLENS_PKCS11_MODULES", errbuf,
		    errlen) < 0)
			return -1;
		free_list(cfg->pkcs11_modules, cfg->n_pkcs11_modules);
		cfg->pkcs11_modules = list;
		cfg->n_pkcs11_modules = n;
	}
	return 0;
}

static const char *
no_env(const char *name)
{
	(void)name;
	return NULL;
}

static struct config *
config_defaults(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL)
		return NULL;
	cfg->mail_max_bytes = CONFIG_DEFAULT_MAIL_MAX;
	cfg->timeout_ms = CONFIG_DEFAULT_TIMEOUT_MS;
	cfg->connect_timeout_ms = CONFIG_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->workers = CONFIG_DEFAULT_WORKERS;
	cfg->cache_ttl_s = CONFIG_DEFAULT_CACHE_TTL_S;
	cfg->cache_max_entries = CONFIG_DEFAULT_CACHE_MAX;
	cfg->sites_max = CONFIG_DEFAULT_SITES_MAX;
	return cfg;
}

struct config *
config_fallback(const char *error)
{
	struct config *cfg = config_defaults();

	if (cfg != NULL && error != NULL) {
		cfg->load_error = strdup(error);
		if (cfg->load_error == NULL) {
			config_free(cfg);
			cfg = NULL;
		}
	}
	return cfg;
}

int
config_load_from(struct config **out, const char *(*getenv_fn)(const char *),
    char *errbuf, size_t errlen)
{
	struct config *cfg;
	int explicit_path;
	struct stat st;

	*out = NULL;
	if (getenv_fn == NULL)
		getenv_fn = no_env;
	cfg = config_defaults();
	if (cfg == NULL)
		return fail(errbuf, errlen, "out of memory reading the configuration");

	cfg->file = find_file(getenv_fn, &explicit_path);
	if (cfg->file != NULL) {
		if (explicit_path && stat(cfg->file, &st) != 0) {
			fail(errbuf, errlen, "TRUSTLENS_CONFIG names %s, which cannot be read",
			    cfg->file);
			goto err;
		}
		if (load_file(cfg, errbuf, errlen) < 0)
			goto err;
	}
	if (load_env(cfg, getenv_fn, errbuf, errlen) < 0)
		goto err;
	*out = cfg;
	return 0;
err:
	config_free(cfg);
	return -1;
}

static const char *
real_getenv(const char *name)
{
	return getenv(name);
}

int
config_load(struct config **out, char *errbuf, size_t errlen)
{
	return config_load_from(out, real_getenv, errbuf, errlen);
}
