/*
 * site: see site.h.
 *
 * Hostile input: URLs from any web page (through the extension), chains
 * from the browser, and everything a server or a CA's CRL/OCSP endpoint
 * sends. Limits: SITE_URLS_MAX URLs and cfg->sites_max distinct hosts per
 * `sites`, FETCH_CHAIN_MAX certificates of at most FETCH_CERT_MAX bytes per
 * chain; revocation fetches are bounded in revfetch.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "classify.h"
#include "cli.h"
#include "config.h"
#include "ct.h"
#include "fetch.h"
#include "log.h"
#include "revfetch.h"
#include "revocation.h"
#include "site.h"
#include "verdict.h"

struct site_ctx {
	const struct config *cfg;
	struct site_trust *trust;
	struct cache *cache;
};

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct site_ctx *shared_ctx;

/* The process-wide context, made on first use. NULL with the reason in
 * ctx_error when the trust configuration cannot be loaded (tried again on
 * the next request: the user may have fixed the file). */
static struct site_ctx *
site_context(const struct config *cfg, char *ctx_error, size_t ctx_errlen)
{
	struct site_ctx *c = NULL;
	char err[256];

	if (cfg == NULL) {
		snprintf(ctx_error, ctx_errlen, "No configuration.");
		return NULL;
	}
	pthread_mutex_lock(&ctx_lock);
	if (shared_ctx != NULL) {
		c = shared_ctx;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(ctx_error, ctx_errlen, "Out of memory.");
		goto out;
	}
	c->cfg = cfg;
	if (fetch_global_init() != 0 || ct_init() != 0 ||
	    site_trust_load(cfg, &c->trust, err, sizeof(err)) != 0) {
		snprintf(ctx_error, ctx_errlen, "The trust configuration is invalid: %s.",
		    c->trust == NULL ? err : "initialisation failed");
		site_trust_free(c->trust);
		free(c);
		c = NULL;
		goto out;
	}
	c->cache = cache_open(cfg);
	shared_ctx = c;
out:
	pthread_mutex_unlock(&ctx_lock);
	return c;
}

void
site_shutdown(void)
{
	pthread_mutex_lock(&ctx_lock);
	if (shared_ctx != NULL) {
		cache_close(shared_ctx->cache);
		site_trust_free(shared_ctx->trust);
		free(shared_ctx);
		shared_ctx = NULL;
	}
	pthread_mutex_unlock(&ctx_lock);
}

/* Staple first; then the CRL; then OCSP over HTTP where configured (it
 * tells the CA which site the user visits). Unknown never upgrades. */
static void
check_revocation(struct site_ctx *c, STACK_OF(X509) *chain, const unsigned char *staple,
    size_t staple_len, time_t now, const atomic_int *cancel, struct site_verdict *v)
{
	struct revfetch_query q;
	struct revfetch_answer a;

	memset(&q, 0, sizeof(q));
	q.cfg = c->cfg;
	q.cache = c->cache;
	q.trust = site_trust_store(c->trust);
	q.chain = chain;
	q.staple = staple;
	q.staple_len = staple_len;
	q.now = now;
	q.cancel = cancel;
	q.allow_ocsp = c->cfg->ocsp_fetch;
	revfetch_status(&q, &a);
	v->revocation = a.status;
	if (a.status == REVOCATION_UNKNOWN)
		site_verdict_add_reason(v, REASON_REVOCATION_UNKNOWN);
	if (a.status == REVOCATION_UNKNOWN || a.status == REVOCATION_NOT_CHECKED)
		v->revocation_detail = a.detail;
}

/* Classification, revocation and CT for a chain; fills v. */
static void
evaluate_chain(struct site_ctx *c, const char *host, STACK_OF(X509) *sent,
    const unsigned char *staple, size_t staple_len, time_t now,
    const atomic_int *cancel, struct site_verdict *v)
{
	STACK_OF(X509) *verified = NULL;

	classify_chain(c->trust, host, sent, now, v, &verified);
	if (v->valid && verified != NULL) {
		check_revocation(c, verified, staple, staple_len, now, cancel, v);
		if (sk_X509_num(verified) > 1 &&
		    ct_check(sk_X509_value(verified, 0), sk_X509_value(verified, 1), staple,
		    staple_len, now, &v->ct) == 0 && v->public_root && v->ct.valid == 0 &&
		    (v->level == LEVEL_EV || v->level == LEVEL_QWAC))
			site_verdict_add_reason(v, REASON_NO_VALID_SCTS);
	}
	site_verdict_finish(v, c->cfg->revocation_unknown_caution);
	v->checked_at = now;
	sk_X509_pop_free(verified, X509_free);
}

static json_t *
error_entry(const char *host, unsigned port, enum tl_status st, const char *message)
{
	json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", status_code(st),
	    "message", message);

	if (o != NULL && host != NULL) {
		json_object_set_new(o, "host", json_string(host));
		json_object_set_new(o, "port", json_integer(port));
	}
	return o;
}

/* One verdict for a parsed URL. On TL_OK *out is the verdict JSON. */
static enum tl_status
site_check(struct site_ctx *c, const struct fetch_url *u, const atomic_int *cancel,
    json_t **out, char *err, size_t errlen)
{
	struct site_verdict v;
	struct fetch_tls tls;
	time_t now = config_now(c->cfg), expires;
	enum tl_status st;
	json_t *j;

	*out = NULL;
	if (cache_get_verdict(c->cache, u->host, u->port, now, &j)) {
		*out = j;
		return TL_OK;
	}
	site_verdict_init(&v, u->host, u->port);
	if (strcmp(u->scheme, "https") != 0) {
		/* Plain HTTP proves nothing about who is behind the site. */
		site_verdict_add_reason(&v, REASON_NO_TLS);
		site_verdict_finish(&v, 0);
		*out = site_verdict_json(&v);
		return *out != NULL ? TL_OK : TL_INTERNAL;
	}
	st = fetch_tls_handshake(c->cfg, u->host, u->port, cancel, &tls, err, errlen);
	if (st != TL_OK)
		return st;
	evaluate_chain(c, u->host, tls.sent, tls.staple, tls.staple_len, now, cancel, &v);
	if (tls.truncated && !v.valid) {
		/* The server sent more certificates than any valid path needs:
		 * say that, not what the cut-off chain suggests (an untrusted
		 * root). A chain valid within the cap stays valid. */
		v.reasons = 1u << REASON_CHAIN_TOO_LONG;
	}
	fetch_tls_clear(&tls);
	j = site_verdict_json(&v);
	if (j == NULL) {
		snprintf(err, errlen, "Out of memory.");
		return TL_INTERNAL;
	}
	expires = now + (time_t)c->cfg->cache_ttl_s;
	if (v.valid && v.not_after != 0 && v.not_after < expires)
		expires = v.not_after;
	/* A status that could not be learned (a CA's CRL or OCSP server
	 * down) is a passing condition: asked again soon, not remembered for
	 * the whole TTL. */
	if (v.revocation == REVOCATION_UNKNOWN && expires > now + SITE_UNKNOWN_TTL_S)
		expires = now + SITE_UNKNOWN_TTL_S;
	/* Stored as it will be served: from the cache. */
	json_object_set_new(j, "cached", json_true());
	cache_put_verdict(c->cache, u->host, u->port, j, expires, now);
	json_object_set_new(j, "cached", json_false());
	*out = j;
	return TL_OK;
}

int
site_handle_site(struct tl_call *call)
{
	json_t *url = json_object_get(call->request, "url");
	struct site_ctx *c;
	struct fetch_url u;
	char err[256];
	enum tl_status st;

	if (!json_is_string(url))
		return call_fail(call, TL_BAD_REQUEST, "A site request needs a url string.");
	if (fetch_parse_url(json_string_value(url), &u, err, sizeof(err)) != TL_OK)
		return call_fail(call, TL_BAD_URL, "%s", err);
	c = site_context(call->cfg, err, sizeof(err));
	if (c == NULL)
		return call_fail(call, TL_INTERNAL, "%s", err);
	/* The hot path: a cached verdict goes out as stored, unparsed. */
	if (cache_get_verdict_text(c->cache, u.host, u.port, config_now(call->cfg),
	    &call->result_text))
		return 0;
	st = site_check(c, &u, call->cancel, &call->result, err, sizeof(err));
	if (st != TL_OK)
		return call_fail(call, st, "%s", err);
	return 0;
}

struct sites_job {
	struct site_ctx *ctx;
	const atomic_int *cancel;
	struct fetch_url *hosts;
	json_t **results;
	size_t n;
	atomic_size_t next;
};

static void *
sites_worker(void *arg)
{
	struct sites_job *job = arg;
	size_t i;
	char err[256];
	enum tl_status st;
	json_t *j;

	for (;;) {
		i = atomic_fetch_add(&job->next, 1);
		if (i >= job->n)
			return NULL;
		err[0] = '\0';
		st = site_check(job->ctx, &job->hosts[i], job->cancel, &j, err, sizeof(err));
		job->results[i] = st == TL_OK ? j :
		    error_entry(job->hosts[i].host, job->hosts[i].port, st, err);
	}
}

int
site_handle_sites(struct tl_call *call)
{
	json_t *urls = json_object_get(call->request, "urls"), *v, *out = NULL, *arr;
	struct sites_job job;
	pthread_t threads[SITE_FANOUT];
	size_t i, j, nthreads = 0, started = 0;
	struct fetch_url u;
	char err[256];
	int rc = -1;

	memset(&job, 0, sizeof(job));
	if (!json_is_array(urls) || json_array_size(urls) == 0 ||
	    json_array_size(urls) > SITE_URLS_MAX)
		return call_fail(call, TL_BAD_REQUEST,
		    "A sites request needs urls: an array of 1 to %d strings.", SITE_URLS_MAX);
	job.ctx = site_context(call->cfg, err, sizeof(err));
	if (job.ctx == NULL)
		return call_fail(call, TL_INTERNAL, "%s", err);
	job.cancel = call->cancel;
	job.hosts = calloc(json_array_size(urls), sizeof(*job.hosts));
	job.results = calloc(json_array_size(urls), sizeof(*job.results));
	arr = json_array();
	if (job.hosts == NULL || job.results == NULL || arr == NULL) {
		call_fail(call, TL_INTERNAL, "Out of memory.");
		goto out;
	}
	/* Distinct scheme://host:port, in order of first appearance. */
	json_array_foreach(urls, i, v) {
		if (!json_is_string(v)) {
			call_fail(call, TL_BAD_REQUEST, "Every url must be a string.");
			goto out;
		}
		if (fetch_parse_url(json_string_value(v), &u, err, sizeof(err)) != TL_OK) {
			json_t *e = error_entry(NULL, 0, TL_BAD_URL, err);
			json_object_set_new(e, "index", json_integer((json_int_t)i));
			json_array_append_new(arr, e);
			continue;
		}
		for (j = 0; j < job.n; j++) {
			if (job.hosts[j].port == u.port && strcmp(job.hosts[j].host, u.host) == 0 &&
			    strcmp(job.hosts[j].scheme, u.scheme) == 0)
				break;
		}
		if (j < job.n)
			continue;
		if (job.n == call->cfg->sites_max) {
			call_fail(call, TL_TOO_LARGE,
			    "A sites request may name at most %u distinct sites.",
			    call->cfg->sites_max);
			goto out;
		}
		job.hosts[job.n++] = u;
	}
	atomic_init(&job.next, 0);
	nthreads = job.n < SITE_FANOUT ? job.n : SITE_FANOUT;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&threads[i], NULL, sites_worker, &job) != 0)
			break;
		started++;
	}
	if (started == 0 && job.n > 0)
		sites_worker(&job);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < job.n; i++) {
		if (job.results[i] == NULL) {
			call_fail(call, TL_INTERNAL, "Out of memory.");
			goto out;
		}
		json_array_append(arr, job.results[i]);
	}
	out = json_pack("{s:O}", "verdicts", arr);
	if (out == NULL) {
		call_fail(call, TL_INTERNAL, "Out of memory.");
		goto out;
	}
	call->result = out;
	rc = 0;
out:
	for (i = 0; job.results != NULL && i < job.n; i++)
		json_decref(job.results[i]);
	free(job.results);
	free(job.hosts);
	json_decref(arr);
	return rc;
}

/* Decodes one base64 DER certificate, strictly. */
static X509 *
decode_cert(const char *b64)
{
	size_t n = strlen(b64), pad = 0;
	unsigned char *der;
	const unsigned char *p;
	X509 *x = NULL;
	int len;

	if (n == 0 || n % 4 != 0 || n > (FETCH_CERT_MAX / 3 + 1) * 4)
		return NULL;
	der = malloc(n / 4 * 3 + 1);
	if (der == NULL)
		return NULL;
	if (b64[n - 1] == '=')
		pad++;
	if (b64[n - 2] == '=')
		pad++;
	len = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n);
	if (len >= (int)pad) {
		len -= (int)pad;
		p = der;
		x = d2i_X509(NULL, &p, len);
		if (x != NULL && p != der + len) {
			X509_free(x); /* trailing bytes: not one certificate */
			x = NULL;
		}
	}
	free(der);
	ERR_clear_error();
	return x;
}

int
site_handle_chain(struct tl_call *call)
{
	json_t *host = json_object_get(call->request, "host");
	json_t *chain = json_object_get(call->request, "chain");
	json_t *port = json_object_get(call->request, "port"), *v;
	STACK_OF(X509) *sent = NULL;
	struct site_ctx *c;
	struct site_verdict verdict;
	struct fetch_url u;
	char url[FETCH_HOST_MAX + 32], err[256];
	X509 *x;
	size_t i;
	int rc = -1;

	if (!json_is_string(host) || json_string_length(host) > FETCH_HOST_MAX ||
	    strpbrk(json_string_value(host), "/@?#\\ ") != NULL)
		return call_fail(call, TL_BAD_REQUEST, "A chain request needs a host name.");
	if (port != NULL && (!json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535))
		return call_fail(call, TL_BAD_REQUEST, "The port must be 1 to 65535.");
	if (!json_is_array(chain) || json_array_size(chain) == 0 ||
	    json_array_size(chain) > FETCH_CHAIN_MAX)
		return call_fail(call, TL_BAD_REQUEST,
		    "A chain request needs 1 to %d base64 DER certificates.", FETCH_CHAIN_MAX);
	snprintf(url, sizeof(url), strchr(json_string_value(host), ':') != NULL ?
	    "https://[%s]/" : "https://%s/", json_string_value(host));
	if (fetch_parse_url(url, &u, err, sizeof(err)) != TL_OK)
		return call_fail(call, TL_BAD_REQUEST, "The host is not a valid host name.");
	c = site_context(call->cfg, err, sizeof(err));
	if (c == NULL)
		return call_fail(call, TL_INTERNAL, "%s", err);
	sent = sk_X509_new_null();
	if (sent == NULL)
		return call_fail(call, TL_INTERNAL, "Out of memory.");
	json_array_foreach(chain, i, v) {
		x = json_is_string(v) ? decode_cert(json_string_value(v)) : NULL;
		if (x == NULL || !sk_X509_push(sent, x)) {
			X509_free(x);
			call_fail(call, TL_BAD_REQUEST,
			    "Certificate %zu of the chain is not base64 DER.", i);
			goto out;
		}
	}
	site_verdict_init(&verdict, u.host, port != NULL ? (unsigned)json_integer_value(port) :
	    443);
	evaluate_chain(c, u.host, sent, NULL, 0, config_now(call->cfg), call->cancel,
	    &verdict);
	call->result = site_verdict_json(&verdict);
	if (call->result == NULL) {
		call_fail(call, TL_INTERNAL, "Out of memory.");
		goto out;
	}
	rc = 0;
out:
	sk_X509_pop_free(sent, X509_free);
	return rc;
}

static const char *
level_words(const char *level)
{
	static const struct {
		const char *level, *words;
	} t[] = {
		{ "qwac", "QWAC: qualified website certificate (eIDAS)" },
		{ "ev", "EV: extended validation of the organisation" },
		{ "ov", "OV: organisation validated" },
		{ "iv", "IV: individual validated" },
		{ "dv", "DV: only control of the domain was checked" },
		{ "unknown", "no identity policy in the certificate" },
		{ "none", "no proven identity" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(t[i].level, level) == 0)
			return t[i].words;
	}
	return level;
}

static const char *
reason_words(const char *code)
{
	static const struct {
		const char *code, *words;
	} t[] = {
		{ "no_tls", "the connection is not encrypted; nothing is proven" },
		{ "untrusted_root", "the certificate does not chain to a trusted root" },
		{ "self_signed", "the certificate is self-signed" },
		{ "expired", "the certificate (or one above it) has expired" },
		{ "not_yet_valid", "the certificate is not valid yet" },
		{ "hostname_mismatch", "the certificate is for another name" },
		{ "revoked", "the certificate was revoked by its issuer" },
		{ "chain_too_long", "the certificate chain is longer than allowed" },
		{ "invalid_chain", "the certificate chain is malformed or misused" },
		{ "distrusted_root", "browsers no longer trust this root for new certificates" },
		{ "ev_policy_not_enabled_for_root",
		  "claims extended validation, but its root may not grant it" },
		{ "no_policy", "states no validation policy" },
		{ "qc_statements_without_web_type", "qualified, but not for websites" },
		{ "qwac_not_on_eutl", "claims to be a QWAC, but no issuer is on the EU Trusted List" },
		{ "revocation_unknown", "whether it was revoked could not be learned" },
		{ "enterprise_number_invalid", "its Belgian enterprise number has wrong check digits" },
		{ "no_valid_scts", "it was not publicly logged (Certificate Transparency)" },
		{ "weak_key", "its key is too weak" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(t[i].code, code) == 0)
			return t[i].words;
	}
	return "see docs/site-identity.md";
}

static const char *
jstr(json_t *o, const char *k1, const char *k2)
{
	json_t *v = json_object_get(o, k1);

	if (k2 != NULL)
		v = json_object_get(v, k2);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A verdict for people: who is proven to be behind the site, and why not
 * more. */
static void
print_verdict(json_t *v)
{
	const char *org = jstr(v, "identity", "organization");
	const char *ent = jstr(v, "identity", "enterprise_number");
	json_t *reasons = json_object_get(v, "reasons"), *r;
	size_t i;

	printf("%s:%lld\n", jstr(v, "host", NULL),
	    (long long)json_integer_value(json_object_get(v, "port")));
	if (jstr(v, "registrable_domain", NULL) != NULL)
		printf("  domain:       %s (the registrable domain: the part to read)\n",
		    jstr(v, "registrable_domain", NULL));
	printf("  verdict:      %s\n", jstr(v, "verdict", NULL));
	printf("  level:        %s\n", level_words(jstr(v, "level", NULL)));
	if (!json_is_true(json_object_get(v, "valid"))) {
		printf("  proven:       nothing: the certificate is not valid\n");
	} else if (org != NULL) {
		printf("  proven:       %s", org);
		if (jstr(v, "identity", "country") != NULL)
			printf(" (%s)", jstr(v, "identity", "country"));
		printf("\n");
	} else {
		printf("  proven:       only control of the name: no organisation is named\n");
	}
	if (ent != NULL)
		printf("  enterprise:   %s (Belgian enterprise number, check digits valid)\n", ent);
	if (jstr(v, "identity", "jurisdiction_country") != NULL)
		printf("  jurisdiction: %s\n", jstr(v, "identity", "jurisdiction_country"));
	if (jstr(v, "issuer", "organization") != NULL || jstr(v, "issuer", "common_name") != NULL)
		printf("  issued by:    %s%s%s\n",
		    jstr(v, "issuer", "common_name") ? jstr(v, "issuer", "common_name") : "",
		    jstr(v, "issuer", "organization") ? ", " : "",
		    jstr(v, "issuer", "organization") ? jstr(v, "issuer", "organization") : "");
	if (jstr(v, "not_after", NULL) != NULL)
		printf("  valid until:  %s\n", jstr(v, "not_after", NULL));
	printf("  revocation:   %s\n", jstr(v, "revocation", NULL));
	printf("  CT:           %lld SCTs, %lld valid\n",
	    (long long)json_integer_value(json_object_get(json_object_get(v, "ct"), "scts")),
	    (long long)json_integer_value(json_object_get(json_object_get(v, "ct"), "valid")));
	if (json_array_size(reasons) == 0)
		printf("  reasons:      none\n");
	json_array_foreach(reasons, i, r)
		printf("  %s %s: %s\n", i == 0 ? "reasons:     " : "             ",
		    json_string_value(r), reason_words(json_string_value(r)));
	if (json_is_true(json_object_get(v, "cached")))
		printf("  (from the cache)\n");
}

int
site_cli(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct site_ctx *c;
	struct fetch_url u;
	const char *url = NULL;
	char err[512];
	json_t *v = NULL;
	enum tl_status st;
	int i, as_json = 0, rc = CLI_FAILED;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (url == NULL && argv[i][0] != '-')
			url = argv[i];
		else {
			fprintf(stderr, "usage: trustlens-host site URL [--json]\n");
			return CLI_USAGE;
		}
	}
	if (url == NULL) {
		fprintf(stderr, "usage: trustlens-host site URL [--json]\n");
		return CLI_USAGE;
	}
	if (config_load(&cfg, err, sizeof(err)) != 0) {
		st = TL_INTERNAL;
		goto fail;
	}
	if (log_open(cfg->log_file, err, sizeof(err)) != 0)
		fprintf(stderr, "trustlens-host: %s\n", err);
	st = fetch_parse_url(url, &u, err, sizeof(err));
	if (st != TL_OK)
		goto fail;
	c = site_context(cfg, err, sizeof(err));
	if (c == NULL) {
		st = TL_INTERNAL;
		goto fail;
	}
	st = site_check(c, &u, NULL, &v, err, sizeof(err));
	if (st != TL_OK)
		goto fail;
	if (as_json) {
		cli_print_json(v);
	} else {
		print_verdict(v);
	}
	rc = CLI_OK;
	goto out;
fail:
	cli_print_error(as_json, st, err);
out:
	json_decref(v);
	site_shutdown();
	config_free(cfg);
	log_close();
	return rc;
}
