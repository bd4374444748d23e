/*
 * fuzz_mime: libFuzzer target for the MIME parser. Every input is parsed
 * as a message; when it yields a signature, the same bytes are also added
 * as opaque signed content (mime_add_signed_entity), and its first line is
 * read as a date. Everything is freed: LeakSanitizer sees every path.
 * `make fuzz` runs it (tests/fuzz/mime.dict helps: -dict=...); `make
 * check` replays tests/fuzz/corpus/mime through replay.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>

#include "mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_msg *m = NULL;
	char line[256];
	size_t n;

	if (mime_parse(data, size, &m) == MIME_OK && m->n_sigs > 0)
		(void)mime_add_signed_entity(m, (int)(m->n_sigs - 1), data, size);
	mime_free(m);
	for (n = 0; n < size && n + 1 < sizeof(line) && data[n] != '\n'; n++)
		line[n] = data[n] != '\0' ? (char)data[n] : ' ';
	line[n] = '\0';
	(void)mime_parse_date(line);
	return 0;
}
