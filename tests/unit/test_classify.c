/*
 * classify: the classifier, with no network, on the certificates of the test
 * PKI (tests/pki/make-pki.sh, built into $TRUSTLENS_TEST_PKI, default
 * build/pki) against the same expectations as the integration suite
 * (tests/integration/site/expected.json). Revocation is left out except for
 * stapled responses, which are checked here from their files.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "config.h"
#include "harness.h"
#include "revocation.h"
#include "verdict.h"

#define EXPECTED "tests/integration/site/expected.json"

static STACK_OF(X509) *
load_chain(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;

	while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	BIO_free(bio);
	return sk;
}

static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* The verdict's reasons as a sorted, comma-joined string, leaving out the
 * revocation ones (not decided here). */
static void
reasons_of(json_t *arr, char *out, size_t len)
{
	const char *names[32];
	size_t i, j, n = 0;
	json_t *v;

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		if (s == NULL || strcmp(s, "revoked") == 0 || strcmp(s, "revocation_unknown") == 0)
			continue;
		if (n < 32)
			names[n++] = s;
	}
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	}
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(out, names[i], len - strlen(out) - 1);
		strncat(out, ",", len - strlen(out) - 1);
	}
}

static void
one_case(const struct site_trust *trust, const char *pki, json_t *test, json_t *leaf,
    time_t now)
{
	const char *name = json_string_value(json_object_get(test, "name"));
	json_t *exp = json_object_get(test, "expect"), *got;
	const char *rev = json_string_value(json_object_get(exp, "revocation"));
	const char *staple = json_string_value(json_object_get(leaf, "staple"));
	char path[1024], want_r[512], got_r[512];
	STACK_OF(X509) *sent, *verified = NULL;
	struct site_verdict v;
	unsigned char *der;
	size_t len = 0;
	time_t next;
	const char *why;

	snprintf(path, sizeof(path), "%s/%s", pki,
	    json_string_value(json_object_get(leaf, "fullchain")));
	sent = load_chain(path);
	CHECK_MSG(sk_X509_num(sent) >= 1, "%s: no chain in %s", name, path);
	site_verdict_init(&v, json_string_value(json_object_get(leaf, "host")), 443);
	classify_chain(trust, json_string_value(json_object_get(leaf, "host")), sent, now,
	    &v, &verified);
	if (staple != NULL && verified != NULL) {
		snprintf(path, sizeof(path), "%s/%s", pki, staple);
		der = read_file(path, &len);
		v.revocation = revocation_check_ocsp(der, len, sk_X509_value(verified, 0),
		    sk_X509_value(verified, 1), verified, site_trust_store(trust), now, &next,
		    &why);
		free(der);
		CHECK_MSG(strcmp(revocation_name(v.revocation), rev) == 0,
		    "%s: staple says %s, want %s", name, revocation_name(v.revocation), rev);
	}
	site_verdict_finish(&v, 0);
	got = site_verdict_json(&v);

	/* A revoked leaf is valid to the classifier alone (unless stapled). */
	if (strcmp(rev, "revoked") != 0 || staple != NULL) {
		CHECK_MSG(json_equal(json_object_get(got, "level"), json_object_get(exp, "level")),
		    "%s: level %s, want %s", name,
		    json_string_value(json_object_get(got, "level")),
		    json_string_value(json_object_get(exp, "level")));
		CHECK_MSG(json_equal(json_object_get(got, "valid"), json_object_get(exp, "valid")),
		    "%s: valid differs", name);
		CHECK_MSG(json_equal(json_object_get(got, "verdict"), json_object_get(exp, "verdict")),
		    "%s: verdict %s", name, json_string_value(json_object_get(got, "verdict")));
	}
	reasons_of(json_object_get(exp, "reasons"), want_r, sizeof(want_r));
	reasons_of(json_object_get(got, "reasons"), got_r, sizeof(got_r));
	/* longchain: the host cuts the chain at the fetch cap; here the full
	 * chain meets the depth limit, which is the reason expected. */
	CHECK_MSG(strcmp(want_r, got_r) == 0, "%s: reasons {%s}, want {%s}", name, got_r, want_r);
	if (json_is_object(json_object_get(exp, "identity"))) {
		const char *key;
		json_t *val;
		json_object_foreach(json_object_get(exp, "identity"), key, val) {
			json_t *g = json_object_get(json_object_get(got, "identity"), key);
			CHECK_MSG(json_equal(g, val), "%s: identity.%s differs", name, key);
		}
	}
	json_decref(got);
	sk_X509_pop_free(sent, X509_free);
	sk_X509_pop_free(verified, X509_free);
}

static void
pki_cases(void)
{
	const char *pki = getenv("TRUSTLENS_TEST_PKI") ? getenv("TRUSTLENS_TEST_PKI") :
	    "build/pki";
	char path[1024], ca[1024], ev[1024], qwac[1024], err[256];
	json_t *cases, *expected, *t;
	struct config cfg;
	struct site_trust *trust = NULL;
	time_t now;
	size_t i, n = 0;

	snprintf(path, sizeof(path), "%s/cases.json", pki);
	cases = json_load_file(path, 0, NULL);
	expected = json_load_file(EXPECTED, 0, NULL);
	CHECK_MSG(cases != NULL, "no test PKI at %s (make builds it)", path);
	CHECK_MSG(expected != NULL, "cannot read %s", EXPECTED);
	if (cases == NULL || expected == NULL)
		goto out;
	snprintf(ca, sizeof(ca), "%s/ca-bundle.pem", pki);
	snprintf(ev, sizeof(ev), "%s/ev-roots.json", pki);
	snprintf(qwac, sizeof(qwac), "%s/qwac-roots.pem", pki);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ca_file = ca;
	cfg.ev_roots = ev;
	cfg.qwac_roots = qwac;
	CHECK_MSG(site_trust_load(&cfg, &trust, err, sizeof(err)) == 0, "%s", err);
	CHECK(config_parse_time(json_string_value(json_object_get(cases, "now")), &now) == 0);
	if (trust == NULL)
		goto out;
	json_array_foreach(json_object_get(expected, "tests"), i, t) {
		json_t *leaf = json_object_get(json_object_get(cases, "cases"),
		    json_string_value(json_object_get(t, "leaf")));
		if (json_object_get(t, "url_host") != NULL || leaf == NULL)
			continue; /* URL spelling: the integration suite's business */
		one_case(trust, pki, t, leaf, now);
		n++;
	}
	CHECK_MSG(n >= 25, "only %zu PKI cases ran", n);
out:
	site_trust_free(trust);
	json_decref(cases);
	json_decref(expected);
}

static void
enterprise_numbers(void)
{
	static const struct {
		const char *in;
		int want;
		const char *out;
	} t[] = {
		{ "0203201340", 1, "0203.201.340" },
		{ "0203.201.340", 1, "0203.201.340" },
		{ "BE0203201340", 1, "0203.201.340" },
		{ "0203201341", 0, NULL },
		{ "0403170701", 1, "0403.170.701" },
		{ "2203201340", -1, NULL },
		{ "020320134", -1, NULL },
		{ "02032013400", -1, NULL },
		{ "0203-201-340", -1, NULL },
		{ "", -1, NULL },
	};
	char out[16];
	size_t i;
	int r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = classify_enterprise_number(t[i].in, out);
		CHECK_MSG(r == t[i].want, "%s: %d", t[i].in, r);
		if (r == 1)
			CHECK_STR(out, t[i].out);
	}
}

static void
trust_errors(void)
{
	struct config cfg;
	struct site_trust *t = NULL;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.ca_file = (char *)(uintptr_t)"/nonexistent/ca.pem";
	CHECK(site_trust_load(&cfg, &t, err, sizeof(err)) == -1 && t == NULL);
	CHECK(strstr(err, "TRUSTLENS_CA_FILE") != NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.ev_roots = (char *)(uintptr_t)"{\"00\": [\"2.23.140.1.1\"]}";
	CHECK(site_trust_load(&cfg, &t, err, sizeof(err)) == -1);
	cfg.ev_roots = (char *)(uintptr_t)
	    "{\"0000000000000000000000000000000000000000000000000000000000000000\": [\"x.y\"]}";
	CHECK(site_trust_load(&cfg, &t, err, sizeof(err)) == -1);
	cfg.ev_roots = (char *)(uintptr_t)
	    "{\"0000000000000000000000000000000000000000000000000000000000000000\": [\"1.2.3\"]}";
	CHECK(site_trust_load(&cfg, &t, err, sizeof(err)) == 0);
	site_trust_free(t);
}

void
suite_classify(void)
{
	enterprise_numbers();
	trust_errors();
	pki_cases();
}
