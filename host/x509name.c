/*
 * x509name: see x509name.h.
 */
#define _DEFAULT_SOURCE /* timegm */
#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <string.h>

#include "verdict.h"
#include "x509name.h"

int
x509name_field(const X509_NAME *name, int nid, char *out, size_t outlen)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1), n;
	unsigned char *utf8 = NULL;

	out[0] = '\0';
	if (idx < 0)
		return 0;
	n = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (n < 0)
		return -1;
	if ((size_t)n != strlen((const char *)utf8)) {
		OPENSSL_free(utf8);
		return -1;
	}
	verdict_copy_field(out, outlen, (const char *)utf8);
	OPENSSL_free(utf8);
	return 0;
}

time_t
x509name_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}
