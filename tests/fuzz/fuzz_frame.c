/*
 * fuzz_frame: a byte stream through the frame reader, frame after frame,
 * as the host reads the browser's pipe (through a memfd).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("frames", MFD_CLOEXEC);
	unsigned char *body;
	uint32_t len;
	int i;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && lseek(fd, 0, SEEK_SET) == 0) {
		for (i = 0; i < 64; i++) {
			if (frame_read(fd, 1u << 20, &body, &len) != FRAME_OK)
				break;
			if (body[len] != '\0')
				abort();
			free(body);
		}
	}
	close(fd);
	return 0;
}
