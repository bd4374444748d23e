/*
 * pki_fixture: see pki_fixture.h. Test code: failures return NULL/-1 and
 * the suite's CHECKs report them; nothing here exits.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki_fixture.h"

#define PKI_LINE_MAX 4096
#define PKI_DAY 86400

EVP_PKEY *
pki_fixture_key(void)
{
	return EVP_EC_gen("P-256");
}

/* Splits "name=value" and adds it through X509V3_EXT_nconf with ctx. */
static X509_EXTENSION *
pki_ext(X509V3_CTX *ctx, const char *line)
{
	char buf[PKI_LINE_MAX];
	char *eq;
	size_t n = strlen(line);

	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, line, n + 1);
	eq = strchr(buf, '=');
	if (eq == NULL)
		return NULL;
	*eq = '\0';
	return X509V3_EXT_nconf(NULL, ctx, buf, eq + 1);
}

struct pki_fixture *
pki_fixture_issue(const struct pki_fixture *issuer, const struct pki_spec *spec)
{
	struct pki_fixture *f = NULL;
	X509_NAME *name = NULL;
	X509V3_CTX ctx;
	size_t i;
	int ok = 0;

	ERR_clear_error();
	f = calloc(1, sizeof(*f));
	if (f == NULL || spec == NULL || spec->cn == NULL)
		goto out;
	if (spec->key != NULL && EVP_PKEY_up_ref(spec->key) == 1)
		f->key = spec->key;
	else if (spec->key == NULL)
		f->key = pki_fixture_key();
	f->cert = X509_new();
	name = X509_NAME_new();
	if (f->key == NULL || f->cert == NULL || name == NULL)
		goto out;
	if (X509_set_version(f->cert, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set_int64(X509_get_serialNumber(f->cert),
	    spec->serial > 0 ? spec->serial : 1) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)spec->cn, -1, -1, 0) != 1 ||
	    X509_set_subject_name(f->cert, name) != 1 ||
	    X509_set_issuer_name(f->cert, issuer != NULL ?
	    X509_get_subject_name(issuer->cert) : name) != 1 ||
	    ASN1_TIME_set(X509_getm_notBefore(f->cert), spec->not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(f->cert), spec->not_after) == NULL ||
	    X509_set_pubkey(f->cert, f->key) != 1)
		goto out;
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer->cert : f->cert, f->cert,
	    NULL, NULL, 0);
	for (i = 0; spec->exts != NULL && spec->exts[i] != NULL; i++) {
		X509_EXTENSION *ext = pki_ext(&ctx, spec->exts[i]);
		int added = ext != NULL && X509_add_ext(f->cert, ext, -1) == 1;

		X509_EXTENSION_free(ext);
		if (!added)
			goto out;
	}
	if (X509_sign(f->cert, issuer != NULL ? issuer->key : f->key,
	    EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	X509_NAME_free(name);
	if (!ok) {
		pki_fixture_free(f);
		f = NULL;
	}
	ERR_clear_error();
	return f;
}

struct pki_fixture *
pki_fixture_ca(const char *cn, const struct pki_fixture *issuer, time_t now)
{
	static const char *const root_exts[] = {
		"basicConstraints=critical,CA:TRUE",
		"keyUsage=critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier=hash",
		NULL
	};
	static const char *const sub_exts[] = {
		"basicConstraints=critical,CA:TRUE",
		"keyUsage=critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier=hash",
		"authorityKeyIdentifier=keyid",
		NULL
	};
	struct pki_spec spec = {
		.cn = cn,
		.serial = 1000,
		.not_before = now - 365L * PKI_DAY,
		.not_after = now + 3650L * PKI_DAY,
		.exts = issuer != NULL ? sub_exts : root_exts,
	};

	return pki_fixture_issue(issuer, &spec);
}

struct pki_fixture *
pki_fixture_leaf(const struct pki_fixture *ca, const char *host, long serial,
    time_t now, const char *const *extra)
{
	enum { FIXED = 6, EXTRA_MAX = 16 };
	const char *exts[FIXED + EXTRA_MAX + 1];
	char san[PKI_LINE_MAX];
	struct pki_spec spec = {
		.cn = host,
		.serial = serial,
		.not_before = now - 30L * PKI_DAY,
		.not_after = now + 90L * PKI_DAY,
		.exts = exts,
	};
	size_t i, n = 0;
	int w;

	w = snprintf(san, sizeof(san), "subjectAltName=DNS:%s", host);
	if (w < 0 || (size_t)w >= sizeof(san))
		return NULL;
	exts[n++] = "basicConstraints=critical,CA:FALSE";
	exts[n++] = "keyUsage=critical,digitalSignature";
	exts[n++] = "extendedKeyUsage=serverAuth";
	exts[n++] = san;
	exts[n++] = "subjectKeyIdentifier=hash";
	exts[n++] = "authorityKeyIdentifier=keyid";
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (i >= EXTRA_MAX)
			return NULL;
		exts[n++] = extra[i];
	}
	exts[n] = NULL;
	return pki_fixture_issue(ca, &spec);
}

void
pki_fixture_free(struct pki_fixture *f)
{
	if (f == NULL)
		return;
	X509_free(f->cert);
	EVP_PKEY_free(f->key);
	free(f);
}

unsigned char *
pki_fixture_i2d(const void *obj, const ASN1_ITEM *it, size_t *len)
{
	unsigned char *tmp = NULL, *buf = NULL;
	int n;

	*len = 0;
	n = ASN1_item_i2d((const ASN1_VALUE *)obj, &tmp, it);
	if (n > 0)
		buf = malloc((size_t)n);
	if (buf != NULL) {
		memcpy(buf, tmp, (size_t)n);
		*len = (size_t)n;
	}
	OPENSSL_free(tmp);
	return buf;
}

unsigned char *
pki_fixture_der(X509 *cert, size_t *len)
{
	return pki_fixture_i2d(cert, ASN1_ITEM_rptr(X509), len);
}

unsigned char *
pki_fixture_crl_pem(X509_CRL *crl, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char *buf = NULL;
	char *mem = NULL;
	long n = 0;

	*len = 0;
	if (bio != NULL && PEM_write_bio_X509_CRL(bio, crl) == 1)
		n = BIO_get_mem_data(bio, &mem);
	if (n > 0)
		buf = malloc((size_t)n);
	if (buf != NULL) {
		memcpy(buf, mem, (size_t)n);
		*len = (size_t)n;
	}
	BIO_free(bio);
	return buf;
}

X509_STORE *
pki_fixture_store(X509 *cert)
{
	X509_STORE *st = X509_STORE_new();

	if (st != NULL && X509_STORE_add_cert(st, cert) != 1) {
		X509_STORE_free(st);
		st = NULL;
	}
	return st;
}

int
pki_fixture_crl_ext(X509_CRL *crl, X509 *issuer, const char *line)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc = -1;

	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	ext = pki_ext(&ctx, line);
	if (ext != NULL && X509_CRL_add_ext(crl, ext, -1) == 1)
		rc = 0;
	X509_EXTENSION_free(ext);
	ERR_clear_error();
	return rc;
}
