/*
 * config: every setting of the host, read in one place into one immutable
 * structure.
 *
 * Sources, later ones winning: built-in defaults; the JSON config file
 * (TRUSTLENS_CONFIG if set, else $XDG_CONFIG_HOME/trustlens/config.json or
 * ~/.config/trustlens/config.json, else /etc/trustlens/config.json: the
 * first that exists); the TRUSTLENS_* environment names of DESIGN.md s. 5.
 * The file is parsed strictly: duplicate keys, unknown keys, wrong types and
 * out-of-range values are errors naming the key. After config_load returns,
 * nothing changes the structure, so threads share it without locking.
 */
#ifndef TL_CONFIG_H
#define TL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CONFIG_MAX_LIST 64         /* entries in any list setting */
#define CONFIG_MAX_STRING 4096     /* bytes in any string setting */

struct config_resolve {
	char *host;     /* lower-case host name */
	unsigned port;
	char *address;  /* numeric IPv4 or IPv6 (without brackets) */
};

struct config {
	char *file;              /* config file read, or NULL */

	char *ca_file;           /* TRUSTLENS_CA_FILE / "ca_file" */
	char *ev_roots;          /* TRUSTLENS_EV_ROOTS / "ev_roots" */
	char *qwac_roots;        /* TRUSTLENS_QWAC_ROOTS / "qwac_roots" */
	char *eid_roots;         /* TRUSTLENS_EID_ROOTS / "eid_roots" */
	char *smime_ca_file;     /* TRUSTLENS_SMIME_CA_FILE / "smime_ca_file" */
	int allow_private;       /* TRUSTLENS_ALLOW_PRIVATE / "allow_private" */
	struct config_resolve *resolve; /* TRUSTLENS_RESOLVE / "resolve" */
	size_t n_resolve;
	int has_now;             /* TRUSTLENS_NOW (tests only) */
	time_t now;
	char *state_dir;         /* TRUSTLENS_STATE_DIR / "state_dir" */
	char **pkcs11_modules;   /* TRUSTLENS_PKCS11_MODULES / "pkcs11_modules" */
	size_t n_pkcs11_modules;
	char *log_file;          /* TRUSTLENS_LOG / "log" */
	char *diagnose_url;      /* TRUSTLENS_DIAGNOSE_URL / "diagnose_reference_url":
	                            the site diagnose handshakes with, NULL for
	                            CONFIG_DEFAULT_DIAGNOSE_URL */

	/* File-only settings. */
	char **extensions;       /* "allowed_extensions": extra caller ids */
	size_t n_extensions;
	unsigned *ports;         /* "allowed_ports": besides 443 */
	size_t n_ports;
	size_t mail_max_bytes;   /* "mail_max_bytes": default 32 MiB */
	unsigned timeout_ms;     /* "timeout_ms": per network operation */
	unsigned connect_timeout_ms; /* "connect_timeout_ms" */
	unsigned workers;        /* "workers": concurrent requests */
	int ocsp_fetch;          /* "ocsp_fetch": ask OCSP responders (tells
	                            the CA which sites the user visits) */
	int revocation_unknown_caution; /* "revocation_unknown": "caution" */
	unsigned cache_ttl_s;    /* "cache_ttl_s": verdict lifetime */
	unsigned cache_max_entries; /* "cache_max_entries" */
	unsigned sites_max;      /* "sites_max": distinct hosts per `sites` */

	/* Set only on the fallback configuration the host runs with when the
	 * real one could not be loaded: every request but hello then fails
	 * with this sentence, so the extension can show the problem. */
	char *load_error;
};

#define CONFIG_DEFAULT_MAIL_MAX (32u * 1024u * 1024u)
#define CONFIG_DEFAULT_TIMEOUT_MS 10000u
#define CONFIG_DEFAULT_CONNECT_TIMEOUT_MS 5000u
#define CONFIG_DEFAULT_WORKERS 8u
#define CONFIG_DEFAULT_CACHE_TTL_S 3600u
#define CONFIG_DEFAULT_CACHE_MAX 20000u
#define CONFIG_DEFAULT_SITES_MAX 500u
#define CONFIG_DEFAULT_DIAGNOSE_URL "https://www.belgium.be/"

/* Reads the configuration from the file and the environment. *out is NULL on
 * entry and assigned only on success. On failure returns -1 with one
 * sentence in errbuf naming the file or variable and the key. */
int config_load(struct config **out, char *errbuf, size_t errlen);

/* Same, from an explicit environment lookup (tests): getenv_fn may be NULL
 * for "no environment". */
int config_load_from(struct config **out, const char *(*getenv_fn)(const char *),
    char *errbuf, size_t errlen);

/* Built-in defaults only, reading neither file nor environment, with
 * load_error set to a copy of `error` (may be NULL). NULL when out of
 * memory. */
struct config *config_fallback(const char *error);

void config_free(struct config *cfg);

/* The evaluation time: TRUSTLENS_NOW when set, else the clock. */
time_t config_now(const struct config *cfg);

/* The state directory (TRUSTLENS_STATE_DIR / "state_dir", else
 * $XDG_STATE_HOME/trustlens, else ~/.local/state/trustlens), created with
 * mode 0700 when missing. Returns 0 with the path in out, or -1. */
int config_state_dir(const struct config *cfg, char *out, size_t len);

/* Parses an RFC 3339 date-time ("2026-01-31T12:00:00Z", offsets allowed,
 * fractions ignored). Returns 0 and sets *t, or -1. */
int config_parse_time(const char *s, time_t *t);

#endif
