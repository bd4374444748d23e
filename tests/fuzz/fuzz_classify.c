/*
 * fuzz_classify: a chain of DER certificates (concatenated, leaf first)
 * through the site classifier at a fixed time, with the system trust store.
 */
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "config.h"
#include "verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct site_trust *trust;
	static int loaded;
	const unsigned char *p = data, *end = data + size;
	STACK_OF(X509) *sent = sk_X509_new_null(), *verified = NULL;
	struct site_verdict v;
	json_t *j;
	X509 *x;
	char err[256];

	if (!loaded) {
		struct config *cfg = config_fallback(NULL);
		loaded = 1;
		if (cfg != NULL)
			site_trust_load(cfg, &trust, err, sizeof(err));
		config_free(cfg);
	}
	while (sent != NULL && p < end && sk_X509_num(sent) < 10) {
		x = d2i_X509(NULL, &p, (long)(end - p));
		if (x == NULL)
			break;
		sk_X509_push(sent, x);
	}
	if (trust != NULL && sent != NULL) {
		site_verdict_init(&v, "www.example.be", 443);
		classify_chain(trust, "www.example.be", sent, 1780000000, &v, &verified);
		site_verdict_finish(&v, 0);
		j = site_verdict_json(&v);
		if (j == NULL)
			abort();
		json_decref(j);
	}
	sk_X509_pop_free(verified, X509_free);
	sk_X509_pop_free(sent, X509_free);
	return 0;
}
