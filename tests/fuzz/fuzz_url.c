/*
 * fuzz_url: URL parsing (libcurl's URL API behind fetch_parse_url) and the
 * address guard on its result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrguard.h"
#include "fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fetch_url u;
	char err[256];
	char *s;

	if (size > FETCH_URL_MAX + 16)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (fetch_parse_url(s, &u, err, sizeof(err)) == TL_OK) {
		if (u.port == 0 || u.port > 65535 || u.host[0] == '\0')
			abort();
		if (u.is_ip)
			(void)addrguard_classify_text(u.host);
	}
	(void)addrguard_classify_text(s);
	free(s);
	return 0;
}
