/*
 * fuzz_config: a config file through the strict config parser (written to
 * a memfd and named through /proc/self/fd).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static const char *
env(const char *name)
{
	return strcmp(name, "TRUSTLENS_CONFIG") == 0 ? path : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[512];
	int fd = memfd_create("config", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (config_load_from(&cfg, env, err, sizeof(err)) == 0)
			config_free(cfg);
	}
	close(fd);
	return 0;
}
