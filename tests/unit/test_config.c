/* config: environment and file parsing, strictness, RFC 3339 times. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

/* A fake environment: NULL-terminated name/value pairs. */
static const char *const *fake_env;

static const char *
fake_getenv(const char *name)
{
	const char *const *p;

	for (p = fake_env; p != NULL && p[0] != NULL; p += 2) {
		if (strcmp(p[0], name) == 0)
			return p[1];
	}
	return NULL;
}

static struct config *
load(const char *const *env, char *err, size_t errlen)
{
	struct config *cfg = NULL;

	fake_env = env;
	err[0] = '\0';
	if (config_load_from(&cfg, fake_getenv, err, errlen) != 0)
		return NULL;
	return cfg;
}

static void
env_values(void)
{
	static const char *const env[] = {
		"HOME", "/nonexistent-home",
		"TRUSTLENS_CA_FILE", "/tmp/ca.pem",
		"TRUSTLENS_ALLOW_PRIVATE", "1",
		"TRUSTLENS_RESOLVE", "Site.Example:443:127.0.0.1,v6.example:8443:[::1]",
		"TRUSTLENS_NOW", "2026-01-31T12:00:00Z",
		"TRUSTLENS_PKCS11_MODULES", "/a.so::/b.so",
		"TRUSTLENS_LOG", "/tmp/tl.log",
		NULL,
	};
	char err[256];
	struct config *cfg = load(env, err, sizeof(err));

	CHECK_MSG(cfg != NULL, "%s", err);
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->ca_file, "/tmp/ca.pem");
	CHECK(cfg->allow_private == 1);
	CHECK(cfg->n_resolve == 2);
	CHECK_STR(cfg->resolve[0].host, "site.example");
	CHECK(cfg->resolve[0].port == 443);
	CHECK_STR(cfg->resolve[0].address, "127.0.0.1");
	CHECK_STR(cfg->resolve[1].address, "::1");
	CHECK(cfg->resolve[1].port == 8443);
	CHECK(cfg->has_now && cfg->now == 1769860800);
	CHECK(config_now(cfg) == 1769860800);
	CHECK(cfg->n_pkcs11_modules == 2);
	CHECK_STR(cfg->pkcs11_modules[1], "/b.so");
	CHECK_STR(cfg->log_file, "/tmp/tl.log");
	CHECK(cfg->mail_max_bytes == CONFIG_DEFAULT_MAIL_MAX);
	CHECK(cfg->workers == CONFIG_DEFAULT_WORKERS);
	CHECK(cfg->load_error == NULL);
	config_free(cfg);
}

static void
env_errors(void)
{
	static const char *const bad[][5] = {
		{ "TRUSTLENS_ALLOW_PRIVATE", "maybe", NULL },
		{ "TRUSTLENS_RESOLVE", "host-without-port", NULL },
		{ "TRUSTLENS_RESOLVE", "h:99999:1.2.3.4", NULL },
		{ "TRUSTLENS_RESOLVE", "h:443:not-an-address!", NULL },
		{ "TRUSTLENS_NOW", "yesterday", NULL },
		{ "TRUSTLENS_NOW", "2026-02-30T00:00:00Z", NULL },
		{ "TRUSTLENS_CONFIG", "/nonexistent/config.json", NULL },
	};
	char err[256];
	size_t i;
	struct config *cfg;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = load(bad[i], err, sizeof(err));
		CHECK_MSG(cfg == NULL, "%s=%s accepted", bad[i][0], bad[i][1]);
		/* The message names what is wrong. */
		CHECK_MSG(strstr(err, bad[i][0]) != NULL, "%s: message \"%s\"", bad[i][0],
		    err);
		config_free(cfg);
	}
}

/* Writes text to a temporary config file and loads it. */
static struct config *
load_file_text(const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/tl-config-XXXXXX";
	const char *env[] = { "TRUSTLENS_CONFIG", path, "TRUSTLENS_LOG", "/tmp/env.log",
		NULL };
	struct config *cfg;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return NULL;
	close(fd);
	cfg = load(env, err, errlen);
	unlink(path);
	return cfg;
}

static void
file_values(void)
{
	char err[256];
	struct config *cfg = load_file_text(
	    "{\"ca_file\": \"/etc/ca.pem\", \"allow_private\": true,"
	    " \"allowed_extensions\": [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],"
	    " \"allowed_ports\": [8443], \"mail_max_bytes\": 1048576,"
	    " \"workers\": 2, \"log\": \"/tmp/file.log\","
	    " \"resolve\": [\"a.example:443:10.0.0.1\"]}", err, sizeof(err));

	CHECK_MSG(cfg != NULL, "%s", err);
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->ca_file, "/etc/ca.pem");
	CHECK(cfg->allow_private == 1);
	CHECK(cfg->n_extensions == 1);
	CHECK(cfg->n_ports == 1 && cfg->ports[0] == 8443);
	CHECK(cfg->mail_max_bytes == 1048576);
	CHECK(cfg->workers == 2);
	CHECK(cfg->n_resolve == 1);
	/* The environment wins over the file. */
	CHECK_STR(cfg->log_file, "/tmp/env.log");
	CHECK(cfg->file != NULL);
	config_free(cfg);
}

static void
file_errors(void)
{
	static const struct {
		const char *text;
		const char *needle; /* expected in the message */
	} bad[] = {
		{ "{\"ca_file\": 1}", "ca_file" },
		{ "{\"no_such_key\": 1}", "no_such_key" },
		{ "{\"workers\": 0}", "workers" },
		{ "{\"workers\": 65}", "workers" },
		{ "{\"allow_private\": \"yes\"}", "allow_private" },
		{ "{\"allowed_ports\": [0]}", "allowed_ports" },
		{ "{\"a\": 1, \"a\": 2}", "duplicate" },
		{ "[1, 2]", "object" },
		{ "{", ":1:" },
		{ "{\"resolve\": [\"nope\"]}", "resolve" },
		{ "{\"mail_max_bytes\": 99999999999}", "mail_max_bytes" },
	};
	char err[256];
	size_t i;
	struct config *cfg;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg = load_file_text(bad[i].text, err, sizeof(err));
		CHECK_MSG(cfg == NULL, "accepted: %s", bad[i].text);
		CHECK_MSG(strstr(err, bad[i].needle) != NULL, "%s: message \"%s\"",
		    bad[i].text, err);
		config_free(cfg);
	}
}

static void
times(void)
{
	static const struct {
		const char *s;
		int ok;
		time_t t;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 1, 0 },
		{ "2026-01-31T12:00:00Z", 1, 1769860800 },
		{ "2026-01-31T13:00:00+01:00", 1, 1769860800 },
		{ "2026-01-31T11:30:00.123-00:30", 1, 1769860800 },
		{ "2024-02-29T00:00:00Z", 1, 1709164800 },
		{ "2023-02-29T00:00:00Z", 0, 0 },
		{ "2026-13-01T00:00:00Z", 0, 0 },
		{ "2026-01-31T24:00:00Z", 0, 0 },
		{ "2026-01-31T12:00:00", 0, 0 },
		{ "2026-01-31T12:00:00Zjunk", 0, 0 },
		{ "2026-01-31", 0, 0 },
		{ "", 0, 0 },
	};
	size_t i;
	time_t t;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = -1;
		r = config_parse_time(cases[i].s, &t);
		CHECK_MSG((r == 0) == cases[i].ok, "%s", cases[i].s);
		if (cases[i].ok)
			CHECK_MSG(t == cases[i].t, "%s: %lld", cases[i].s, (long long)t);
	}
	CHECK(config_parse_time(NULL, &t) == -1);
}

void
suite_config(void)
{
	env_values();
	env_errors();
	file_values();
	file_errors();
	times();
}
