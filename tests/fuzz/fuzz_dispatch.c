/*
 * fuzz_dispatch: one request frame body through the envelope validation and
 * the dispatcher. The cancel flag is raised so that handlers which would use
 * the network are refused: only the parsing and envelope code is exercised.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *cfg;
	atomic_int cancel;
	size_t len = 0;
	char *reply;

	if (cfg == NULL)
		cfg = config_fallback(NULL);
	atomic_init(&cancel, 1);
	reply = dispatch_frame(data, size, cfg, &cancel, &len);
	if (reply != NULL && (len > FRAME_REPLY_MAX || strlen(reply) != len))
		abort();
	free(reply);
	return 0;
}
