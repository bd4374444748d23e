/*
 * extid: see extid.h.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "extid.h"

#define EXTID_KEY_MAX 16384

int
extid_from_key(const char *b64, char out[EXTID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	unsigned char *der = NULL;
	size_t len, pad = 0, i;
	int n, rc = -1;

	out[0] = '\0';
	len = strlen(b64);
	if (len == 0 || len > EXTID_KEY_MAX || len % 4 != 0)
		goto out;
	for (i = 0; i < len; i++) {
		char c = b64[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		    (c == '=' && i >= len - 2);
		if (!ok)
			goto out;
	}
	if (b64[len - 1] == '=')
		pad++;
	if (b64[len - 2] == '=')
		pad++;
	der = malloc(len / 4 * 3 + 1);
	if (der == NULL)
		goto out;
	n = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)len);
	if (n < 0 || (size_t)n < pad)
		goto out;
	if (EVP_Digest(der, (size_t)n - pad, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < EXTID_LEN / 2)
		goto out;
	for (i = 0; i < EXTID_LEN / 2; i++) {
		out[2 * i] = (char)('a' + (md[i] >> 4));
		out[2 * i + 1] = (char)('a' + (md[i] & 0x0f));
	}
	out[EXTID_LEN] = '\0';
	rc = 0;
out:
	free(der);
	return rc;
}

int
extid_is_valid(const char *s, size_t len)
{
	size_t i;

	if (len != EXTID_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] < 'a' || s[i] > 'p')
			return 0;
	}
	return 1;
}
