/*
 * echo-host: the framing floor of `make bench`. A native-messaging host that
 * does nothing but framing: it reads each frame (32-bit native-order length,
 * then the body) and answers every one with the same fixed hello reply. No
 * JSON parsing, no caller check, no threads. Whatever trustlens-host spends
 * beyond this is its own work.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char REPLY[] = "{\"id\":1,\"ok\":true,\"result\":{\"protocol\":1,"
    "\"version\":\"0.1.0\",\"capabilities\":[\"hello\"]}}";

/* 1 when len bytes were read, 0 at EOF, -1 on error. */
static int
read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
main(void)
{
	char out[4 + sizeof(REPLY)];
	uint32_t len, rlen = sizeof(REPLY) - 1;
	char *body = NULL;
	size_t cap = 0;

	memcpy(out, &rlen, 4);
	memcpy(out + 4, REPLY, rlen);
	for (;;) {
		if (read_full(0, &len, 4) != 1)
			return 0;
		if (len > 64u * 1024u * 1024u)
			return 1;
		if (len > cap) {
			free(body);
			cap = len;
			body = malloc(cap);
			if (body == NULL)
				return 1;
		}
		if (read_full(0, body, len) != 1)
			return 1;
		if (write_full(1, out, 4 + rlen) != 0)
			return 1;
	}
}
