/* frame: reading and writing frames over files and pipes. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "frame.h"
#include "harness.h"

/* A temporary file holding `len` bytes, rewound; returns its fd. */
static int
file_with(const void *data, size_t len)
{
	FILE *f = tmpfile();
	int fd;

	if (f == NULL)
		return -1;
	fd = dup(fileno(f));
	fclose(f);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct read_case {
	const char *name;
	const unsigned char *bytes;
	size_t nbytes;
	uint32_t header;      /* used when bytes == NULL: header + body_len bytes */
	size_t body_len;
	size_t cap;
	enum frame_result want;
	uint32_t want_len;
};

static void
read_table(void)
{
	static const unsigned char two[] = { 1, 0 };
	const struct read_case cases[] = {
		{ "eof", (const unsigned char *)"", 0, 0, 0, 100, FRAME_EOF, 0 },
		{ "short header", two, sizeof(two), 0, 0, 100, FRAME_TRUNCATED, 0 },
		{ "zero length", NULL, 0, 0, 0, 100, FRAME_OK, 0 },
		{ "small", NULL, 0, 5, 5, 100, FRAME_OK, 5 },
		{ "at cap", NULL, 0, 100, 100, 100, FRAME_OK, 100 },
		{ "above cap", NULL, 0, 101, 101, 100, FRAME_TOO_LARGE, 101 },
		{ "max length", NULL, 0, 0xffffffffu, 0, 1u << 20, FRAME_TOO_LARGE, 0xffffffffu },
		{ "short body", NULL, 0, 10, 4, 100, FRAME_TRUNCATED, 10 },
		/* Larger than the first allocation: the buffer must grow. */
		{ "grows", NULL, 0, 300000, 300000, 1u << 20, FRAME_OK, 300000 },
		{ "grows then short", NULL, 0, 300000, 200000, 1u << 20, FRAME_TRUNCATED,
		  300000 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct read_case *c = &cases[i];
		unsigned char *data, sentinel = 0, *body = &sentinel;
		size_t n;
		uint32_t len = 7;
		int fd;
		enum frame_result r;

		if (c->bytes != NULL) {
			fd = file_with(c->bytes, c->nbytes);
		} else {
			n = 4 + c->body_len;
			data = malloc(n);
			memcpy(data, &c->header, 4);
			memset(data + 4, 'x', c->body_len);
			fd = file_with(data, n);
			free(data);
		}
		CHECK(fd >= 0);
		r = frame_read(fd, c->cap, &body, &len);
		CHECK_MSG(r == c->want, "%s: result %d, want %d", c->name, r, c->want);
		CHECK_MSG(len == c->want_len, "%s: len %u", c->name, len);
		if (r == FRAME_OK) {
			CHECK(body != NULL && body[len] == '\0');
			CHECK(len == 0 || body[len - 1] == 'x');
		} else {
			CHECK_MSG(body == NULL, "%s: body set on failure", c->name);
		}
		free(r == FRAME_OK ? body : NULL);
		close(fd);
	}
}

static void
read_sequence(void)
{
	/* Two frames back to back, then EOF: each read takes exactly one. */
	unsigned char buf[4 + 2 + 4 + 3];
	uint32_t a = 2, b = 3, len;
	unsigned char *body;
	int fd;

	memcpy(buf, &a, 4);
	memcpy(buf + 4, "{}", 2);
	memcpy(buf + 6, &b, 4);
	memcpy(buf + 10, "[1]", 3);
	fd = file_with(buf, sizeof(buf));
	CHECK(frame_read(fd, 10, &body, &len) == FRAME_OK && len == 2 &&
	    memcmp(body, "{}", 2) == 0);
	free(body);
	CHECK(frame_read(fd, 10, &body, &len) == FRAME_OK && len == 3 &&
	    memcmp(body, "[1]", 3) == 0);
	free(body);
	CHECK(frame_read(fd, 10, &body, &len) == FRAME_EOF);
	close(fd);
}

static void
write_cases(void)
{
	struct frame_writer w;
	int p[2];
	unsigned char got[16];
	uint32_t len;
	char *big;

	CHECK(pipe(p) == 0);
	frame_writer_init(&w, p[1]);
	CHECK(frame_write(&w, "{\"a\":1}", 7) == 0);
	CHECK(read(p[0], got, 11) == 11);
	memcpy(&len, got, 4);
	CHECK(len == 7 && memcmp(got + 4, "{\"a\":1}", 7) == 0);

	/* One byte above the browser's limit is refused, nothing written. */
	big = calloc(1, FRAME_REPLY_MAX + 1);
	CHECK(frame_write(&w, big, FRAME_REPLY_MAX + 1) == -1);
	CHECK(!frame_writer_broken(&w));
	free(big);

	/* Reader gone: EPIPE (SIGPIPE ignored) marks the writer broken. */
	close(p[0]);
	CHECK(frame_write(&w, "{}", 2) == -1);
	CHECK(frame_writer_broken(&w));
	CHECK(frame_write(&w, "{}", 2) == -1);
	close(p[1]);
	frame_writer_destroy(&w);
}

void
suite_frame(void)
{
	read_table();
	read_sequence();
	write_cases();
}
