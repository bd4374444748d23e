/*
 * diagnose_system: the "host", "trust", "network" and "state" areas.
 *
 * host: versions of the host and the libraries it runs with, the system
 * and architecture, the configuration file read (or why it could not be),
 * test-only settings that are active.
 * trust: the system trust store OpenSSL uses (or TRUSTLENS_CA_FILE) and how
 * many certificates it holds; the compiled-in EV table and EU Trusted List
 * (QWAC) anchors with their sources; the Belgian eID roots and their
 * expiry.
 * network: proxy settings seen (scheme, host and port only: never
 * credentials), then one verified HTTPS request to the reference site
 * (diagnose_reference_url, default CONFIG_DEFAULT_DIAGNOSE_URL) with DNS,
 * connect, TLS and first-byte times and the clock compared with the
 * server's Date header. A machine without network gets a warning, not a
 * hang: the request is bounded by the configured timeouts.
 * state: the state directory exists and a file can really be created in
 * it (a test write, so read-only mounts show even for root); the cache and
 * history databases' sizes and PRAGMA integrity_check, opened read-only.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../pkcs11/token.h"
#include "config.h"
#include "diagnose_internal.h"
#include "fetch.h"
#include "smime_internal.h"
#include "version.h"
#include "webpki.h"

/* ---- host ---- */

/* PRETTY_NAME of os-release, or "". */
static void
os_name(char *out, size_t len)
{
	char line[256], path[PATH_MAX], *src;
	size_t n;
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/etc/os-release");
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "PRETTY_NAME=", 12) != 0)
			continue;
		n = strcspn(line + 12, "\n");
		line[12 + n] = '\0';
		src = line + 12;
		if (src[0] == '"' && n >= 2 && src[n - 1] == '"') {
			src[n - 1] = '\0';
			src++;
		}
		n = strlen(src);
		if (n >= len)
			n = len - 1;
		memcpy(out, src, n);
		out[n] = '\0';
		break;
	}
	fclose(f);
}

void
diag_host(struct diag_area *a, const struct config *cfg)
{
	char curl[64], p11[64], os[128], shown[PATH_MAX];
	struct utsname u;
	const char *ssl = OpenSSL_version(OPENSSL_VERSION);

	fetch_library_version(curl, sizeof(curl));
	token_library_version(p11, sizeof(p11));
	os_name(os, sizeof(os));
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	json_object_set_new(a->details, "versions", json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}",
	    "host", TL_VERSION, "protocol", TL_PROTOCOL, "openssl", ssl, "libcurl", curl,
	    "jansson", jansson_version_str(), "pkcs11_helper", p11));
	json_object_set_new(a->details, "system", json_pack("{s:s, s:s, s:s, s:s}", "os",
	    u.sysname, "release", u.release, "arch", u.machine, "distribution", os));
	diag_line(a, "trustlens-host %s (protocol %d)", TL_VERSION, TL_PROTOCOL);
	diag_line(a, "%s; %s; jansson %s; %s", ssl, curl, jansson_version_str(), p11);
	diag_line(a, "%s %s %s%s%s", u.sysname, u.release, u.machine, os[0] != '\0' ? "; " : "",
	    os);
	if (cfg->file != NULL)
		diag_line(a, "config file: %s", diag_path(cfg->file, shown, sizeof(shown)));
	else
		diag_line(a, "config file: none (built-in defaults)");
	json_object_set_new(a->details, "config_file", cfg->file != NULL ?
	    json_string(diag_path(cfg->file, shown, sizeof(shown))) : json_null());
	if (cfg->log_file != NULL)
		diag_line(a, "log: %s", diag_path(cfg->log_file, shown, sizeof(shown)));
	if (cfg->load_error != NULL) {
		char *e = diag_scrub(cfg->load_error);

		json_object_set_new(a->details, "config_error", json_string(e != NULL ? e : "?"));
		diag_find(a, DIAG_PROBLEM, "Fix or remove the configuration file named in the "
		    "message; unknown keys are errors on purpose.",
		    "The configuration could not be loaded: %s", e != NULL ? e : "?");
		free(e);
		return;
	}
	if (cfg->has_now)
		diag_find(a, DIAG_WARNING, "Unset TRUSTLENS_NOW: it is meant for tests only.",
		    "TRUSTLENS_NOW replaces the clock for every verdict.");
	if (cfg->allow_private)
		diag_find(a, DIAG_WARNING, "Unset TRUSTLENS_ALLOW_PRIVATE (or \"allow_private\") "
		    "unless a test needs it.",
		    "The host may connect to loopback and private addresses "
		    "(TRUSTLENS_ALLOW_PRIVATE), which web pages could use to probe the local "
		    "network.");
	diag_find(a, DIAG_OK, NULL, "trustlens-host %s with %s, %s on %s %s.", TL_VERSION, ssl,
	    curl, u.sysname, u.machine);
}

/* ---- trust ---- */

/* Number of certificates in a PEM file, -1 when it cannot be read. */
static int
count_pem(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int n = 0;

	if (bio == NULL) {
		ERR_clear_error();
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	return n;
}

/* "2028-01-28" from an ASN1_TIME. */
static void
asn1_date(const ASN1_TIME *t, char *out, size_t len, time_t *unix_time)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	*unix_time = 0;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(out, len, "unknown");
		return;
	}
	*unix_time = timegm(&tm);
	strftime(out, len, "%Y-%m-%d", &tm);
}

static void
eid_roots(struct diag_area *a, time_t now)
{
	json_t *list = json_array();
	char cn[128], until[16];
	time_t not_after;
	size_t i;
	int in_force = 0, soon = 0;
	BIO *bio;
	X509 *x;

	for (i = 0; i < smime_eid_n_certs; i++) {
		if (!smime_eid_certs[i].root)
			continue;
		bio = BIO_new_mem_buf(smime_eid_certs[i].pem, -1);
		x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (x == NULL) {
			ERR_clear_error();
			continue;
		}
		cn[0] = '\0';
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
		    sizeof(cn));
		asn1_date(X509_get0_notAfter(x), until, sizeof(until), &not_after);
		X509_free(x);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:b}", "name", cn,
		    "file", smime_eid_certs[i].file, "not_after", until, "expired",
		    not_after < now));
		diag_line(a, "Belgian eID root %s (%s): valid until %s%s", cn,
		    smime_eid_certs[i].file, until,
		    not_after < now ? " (expired; kept to read old signed mail)" : "");
		if (not_after >= now) {
			in_force++;
			soon += not_after - now < 180 * 86400;
		}
	}
	json_object_set_new(a->details, "eid_roots", list);
	if (in_force == 0)
		diag_find(a, DIAG_PROBLEM, "Update TrustLens: this build carries no Belgian eID "
		    "root in force.", "No Belgian eID root certificate in this build is "
		    "still valid.");
	else if (soon > 0)
		diag_find(a, DIAG_WARNING, "Update TrustLens before the root expires.",
		    "A Belgian eID root of this build expires within 180 days.");
}

void
diag_trust(struct diag_area *a, const struct config *cfg)
{
	char shown[PATH_MAX];
	const char *file = X509_get_default_cert_file(), *dir = X509_get_default_cert_dir();
	size_t i, n_ev = 0, n_eutl = 0, n_eutl_certs = 0;
	int n;

	if (cfg->ca_file != NULL) {
		n = count_pem(cfg->ca_file);
		diag_path(cfg->ca_file, shown, sizeof(shown));
		json_object_set_new(a->details, "store", json_pack("{s:s, s:s, s:i}", "source",
		    "TRUSTLENS_CA_FILE", "path", shown, "certificates", n));
		diag_line(a, "websites: TRUSTLENS_CA_FILE %s, %d certificate(s)", shown, n);
		if (n <= 0)
			diag_find(a, DIAG_PROBLEM, "Point TRUSTLENS_CA_FILE at a PEM bundle, or "
			    "unset it to use the system store.",
			    "TRUSTLENS_CA_FILE (%s) holds no readable certificate.", shown);
		else
			diag_find(a, DIAG_WARNING, "Unset TRUSTLENS_CA_FILE (or \"ca_file\") unless "
			    "a test or your administrator set it on purpose.",
			    "Websites are checked against %s instead of the system trust store.",
			    shown);
	} else {
		n = count_pem(file);
		json_object_set_new(a->details, "store", json_pack("{s:s, s:s, s:s, s:i}",
		    "source", "system", "path", file, "dir", dir, "certificates", n));
		diag_line(a, "websites: system store %s (%s), %d certificate(s)", file, dir, n);
		if (n <= 0)
			diag_find(a, DIAG_PROBLEM, "Install the ca-certificates package "
			    "(apt install ca-certificates).",
			    "The system trust store (%s) is missing or empty: no website can "
			    "be verified.", file);
	}
	for (i = 0; i < webpki_n_anchors; i++) {
		n_ev += webpki_anchors[i].n_ev_oids > 0;
		n_eutl += webpki_anchors[i].eutl != 0;
	}
	for (i = 0; i < webpki_n_certs; i++)
		n_eutl_certs += webpki_certs[i].eutl != 0;
	json_object_set_new(a->details, "webpki", json_pack("{s:s, s:i, s:i, s:i, s:i, s:s, "
	    "s:s}", "root_store_source", webpki_root_store_source, "anchors",
	    (int)webpki_n_anchors, "ev_roots", (int)n_ev, "qwac_anchors", (int)n_eutl,
	    "eutl_certificates", (int)n_eutl_certs, "ct_source", webpki_ct_source,
	    "copied", webpki_data_copied));
	diag_line(a, "EV table: %zu of %zu roots may assert EV (%s, copied %s)", n_ev,
	    (size_t)webpki_n_anchors, webpki_root_store_source, webpki_data_copied);
	diag_line(a, "QWAC anchors (EU Trusted List): %zu roots and %zu further certificates",
	    n_eutl, n_eutl_certs);
	diag_line(a, "Certificate Transparency: %s, %zu logs (copied %s)", webpki_ct_source,
	    (size_t)webpki_n_ctlogs, webpki_data_copied);
	if (cfg->ev_roots != NULL || cfg->qwac_roots != NULL || cfg->eid_roots != NULL ||
	    cfg->smime_ca_file != NULL)
		diag_find(a, DIAG_WARNING, "Unset the TRUSTLENS_*_ROOTS / TRUSTLENS_SMIME_CA_FILE "
		    "settings unless your administrator set them on purpose.",
		    "Extra trust anchors are configured (%s%s%s%s).",
		    cfg->ev_roots != NULL ? "EV " : "", cfg->qwac_roots != NULL ? "QWAC " : "",
		    cfg->eid_roots != NULL ? "eID " : "",
		    cfg->smime_ca_file != NULL ? "S/MIME" : "");
	if (n_ev == 0 || n_eutl == 0)
		diag_find(a, DIAG_PROBLEM, "Reinstall TrustLens: its reference data is missing.",
		    "This build has no EV or QWAC reference data.");
	eid_roots(a, config_now(cfg));
	diag_find(a, DIAG_OK, NULL, "Trust store with %d certificates, %zu EV roots, %zu QWAC "
	    "anchors.", n, n_ev, n_eutl);
}

/* ---- network ---- */

/* "http://proxy.example:3128" without user:password@ and without path. */
static void
proxy_shown(const char *v, char *out, size_t len)
{
	const char *p = strstr(v, "://"), *host, *at, *end;
	size_t scheme_len = 0;

	if (p != NULL) {
		scheme_len = (size_t)(p - v) + 3;
		host = p + 3;
	} else {
		host = v;
	}
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (at != NULL)
		host = at + 1;
	snprintf(out, len, "%.*s%s%.*s", (int)scheme_len, v, at != NULL ? "(credentials "
	    "hidden)@" : "", (int)(end - host), host);
}

void
diag_network(struct diag_area *a, const struct config *cfg, const atomic_int *cancel)
{
	static const char *const vars[] = { "https_proxy", "HTTPS_PROXY", "http_proxy",
		"HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", NULL };
	const char *url = cfg->diagnose_url != NULL ? cfg->diagnose_url :
	    CONFIG_DEFAULT_DIAGNOSE_URL;
	struct fetch_probe_result r;
	json_t *proxies = json_object();
	char shown[256], err[256];
	enum tl_status st;
	long skew = 0;
	time_t now;
	size_t i;
	int any = 0;

	for (i = 0; vars[i] != NULL; i++) {
		const char *v = getenv(vars[i]);

		if (v == NULL || v[0] == '\0')
			continue;
		if (strncmp(vars[i], "no_", 3) == 0 || strncmp(vars[i], "NO_", 3) == 0)
			snprintf(shown, sizeof(shown), "%s", v);
		else
			proxy_shown(v, shown, sizeof(shown));
		json_object_set_new(proxies, vars[i], json_string(shown));
		diag_line(a, "%s=%s", vars[i], shown);
		any = 1;
	}
	if (!any)
		diag_line(a, "no proxy settings in the environment");
	json_object_set_new(a->details, "proxy", proxies);
	json_object_set_new(a->details, "reference_url", json_string(url));
	st = fetch_probe(cfg, url, cancel, &r, err, sizeof(err));
	json_object_set_new(a->details, "probe", json_pack("{s:s, s:s?, s:i, s:i, s:i, s:i, "
	    "s:i, s:b, s:s?}", "status", status_code(st), "error", st != TL_OK ? err : NULL,
	    "dns_ms", (int)r.dns_ms, "connect_ms", (int)r.connect_ms, "tls_ms", (int)r.tls_ms,
	    "first_byte_ms", (int)r.first_byte_ms, "http_status", (int)r.http_status,
	    "via_proxy", r.via_proxy, "address", r.address[0] != '\0' ? r.address : NULL));
	diag_line(a, "reference site %s: %s%s%s", url, status_code(st), st != TL_OK ? ", " : "",
	    st != TL_OK ? err : "");
	switch (st) {
	case TL_OK:
		break;
	case TL_DNS_FAILED:
		diag_find(a, DIAG_WARNING, "Check the network connection; behind a proxy, set "
		    "https_proxy in the browser's environment.",
		    "Offline, or DNS does not work: %s could not be resolved, so the network "
		    "checks were skipped.", url);
		return;
	case TL_BLOCKED_ADDRESS:
		diag_find(a, DIAG_WARNING, "Check the DNS settings: a filter or intranet DNS "
		    "answers with a private address.",
		    "The reference site resolves to an address the host refuses: %s", err);
		return;
	case TL_TLS_FAILED:
		diag_find(a, DIAG_PROBLEM, "Ask the network administrator whether a proxy or "
		    "antivirus intercepts TLS, and check that ca-certificates is installed.",
		    "The reference site's certificate did not verify (%s): TLS is intercepted "
		    "or the trust store is broken.", err);
		return;
	case TL_CONNECT_FAILED:
	case TL_TIMEOUT:
		diag_find(a, DIAG_WARNING, "Check the network connection, the firewall and "
		    "https_proxy.", "The reference site could not be reached: %s", err);
		return;
	default:
		diag_find(a, DIAG_WARNING, "Check diagnose_reference_url in the config file.",
		    "The network check could not run: %s", err);
		return;
	}
	diag_line(a, "DNS %ld ms, connect %ld ms, TLS %ld ms, first byte %ld ms, HTTP %ld%s",
	    r.dns_ms, r.connect_ms, r.tls_ms, r.first_byte_ms, r.http_status,
	    r.via_proxy ? " (through the proxy)" : "");
	if (r.server_date == 0) {
		diag_line(a, "clock: the server sent no Date header; not compared");
		diag_find(a, DIAG_OK, NULL, "The reference site answered over verified TLS "
		    "in %ld ms.", r.first_byte_ms);
		return;
	}
	now = config_now(cfg);
	skew = (long)(now - r.server_date);
	json_object_set_new(a->details, "clock_skew_s", json_integer(skew));
	diag_line(a, "clock: %+ld s against the server's Date header", skew);
	if (skew > 300 || skew < -300)
		diag_find(a, DIAG_PROBLEM, "Set the clock right (enable time synchronisation: "
		    "timedatectl set-ntp true).",
		    "This computer's clock is %ld minutes %s the reference site's: "
		    "certificates are judged at the wrong time.", (skew < 0 ? -skew : skew) / 60,
		    skew < 0 ? "behind" : "ahead of");
	else if (skew > 60 || skew < -60)
		diag_find(a, DIAG_WARNING, "Enable time synchronisation (timedatectl set-ntp "
		    "true).", "This computer's clock is %ld s off the reference site's.",
		    skew < 0 ? -skew : skew);
	else
		diag_find(a, DIAG_OK, NULL, "The reference site answered over verified TLS in "
		    "%ld ms; the clock is right.", r.first_byte_ms);
}

/* ---- state ---- */

/* Size of a file in bytes, -1 when absent. */
static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* PRAGMA integrity_check on a database opened read-only: "ok", or the
 * first message, or why it could not be run. */
static void
integrity(const char *path, char *out, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	const unsigned char *v;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(out, len, "cannot open: %s", db != NULL ? sqlite3_errmsg(db) : "?");
		goto out;
	}
	sqlite3_busy_timeout(db, 2000);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(5)", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		snprintf(out, len, "cannot check: %s", sqlite3_errmsg(db));
		goto out;
	}
	v = sqlite3_column_text(st, 0);
	snprintf(out, len, "%s", v != NULL ? (const char *)v : "?");
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
one_db(struct diag_area *a, const char *dir, const char *name, const char *fix)
{
	char path[PATH_MAX], wal[PATH_MAX], shown[PATH_MAX], check[256];
	long long size, wal_size;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
		return;
	size = file_size(path);
	diag_path(path, shown, sizeof(shown));
	if (size < 0) {
		json_object_set_new(a->details, name, json_pack("{s:b}", "present", 0));
		diag_line(a, "%s: not created yet", shown);
		return;
	}
	wal_size = file_size(wal);
	integrity(path, check, sizeof(check));
	json_object_set_new(a->details, name, json_pack("{s:b, s:I, s:I, s:s}", "present", 1,
	    "bytes", (json_int_t)size, "wal_bytes", (json_int_t)(wal_size < 0 ? 0 : wal_size),
	    "integrity", check));
	diag_line(a, "%s: %lld bytes (+%lld WAL), integrity: %s", shown, size,
	    wal_size < 0 ? 0 : wal_size, check);
	if (strcmp(check, "ok") != 0)
		diag_find(a, DIAG_PROBLEM, fix, "%s is damaged or unreadable (%s).", shown, check);
}

void
diag_state(struct diag_area *a, const struct config *cfg)
{
	char dir[PATH_MAX], shown[PATH_MAX], probe[PATH_MAX];
	int fd, writable = 0;

	if (config_state_dir(cfg, dir, sizeof(dir)) != 0) {
		if (cfg->state_dir != NULL)
			diag_path(cfg->state_dir, shown, sizeof(shown));
		else
			snprintf(shown, sizeof(shown), "~/.local/state/trustlens");
		json_object_set_new(a->details, "dir", json_string(shown));
		json_object_set_new(a->details, "writable", json_false());
		diag_line(a, "state directory %s: cannot be created", shown);
		diag_find(a, DIAG_PROBLEM, "Make the directory creatable (a file may stand in "
		    "its path), or point TRUSTLENS_STATE_DIR at a writable one.",
		    "The state directory %s cannot be created: no cache, no mail history.",
		    shown);
		return;
	}
	diag_path(dir, shown, sizeof(shown));
	/* A real write, not access(2): root passes access() on read-only
	 * permissions, not on a read-only mount. */
	if (snprintf(probe, sizeof(probe), "%s/.diagnose-XXXXXX", dir) < (int)sizeof(probe)) {
		fd = mkstemp(probe);
		if (fd >= 0) {
			writable = 1;
			close(fd);
			unlink(probe);
		}
	}
	json_object_set_new(a->details, "dir", json_string(shown));
	json_object_set_new(a->details, "writable", json_boolean(writable));
	diag_line(a, "state directory %s: %s", shown, writable ? "writable" : "NOT writable");
	if (!writable)
		diag_find(a, DIAG_PROBLEM, "Make the state directory writable for this user, "
		    "or point TRUSTLENS_STATE_DIR at a writable one.",
		    "The state directory %s is not writable: verdicts are not cached and "
		    "mail history is not kept.", shown);
	one_db(a, dir, "cache.sqlite", "Delete cache.sqlite (and its -wal and -shm files): "
	    "it holds only cached verdicts and is rebuilt.");
	one_db(a, dir, "history.sqlite", "Move history.sqlite aside: TrustLens starts a new "
	    "history (warnings based on earlier mail from each sender are lost).");
	diag_find(a, DIAG_OK, NULL, "The state directory %s is usable.", shown);
}
