/*
 * frame: reading and writing native-messaging frames. See frame.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frame.h"

/* First allocation for a body, and the step of growth: the buffer doubles
 * as data arrives but never beyond the announced (checked) length. */
#define FRAME_INITIAL_ALLOC 65536u

/* Reads up to len bytes; returns the number read (short only at EOF), or -1
 * on error. Short reads and EINTR are looped. */
static ssize_t
read_full(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

enum frame_result
frame_read(int fd, size_t cap, unsigned char **body, uint32_t *len)
{
	unsigned char header[4];
	unsigned char *buf = NULL, *tmp;
	uint32_t want;
	size_t alloc, got = 0, chunk;
	ssize_t n;

	*body = NULL;
	*len = 0;

	n = read_full(fd, header, sizeof(header));
	if (n < 0)
		return FRAME_IO_ERROR;
	if (n == 0)
		return FRAME_EOF;
	if ((size_t)n < sizeof(header))
		return FRAME_TRUNCATED;
	/* Native byte order, as the browsers write it. */
	memcpy(&want, header, sizeof(want));
	*len = want;
	if ((size_t)want > cap)
		return FRAME_TOO_LARGE;

	alloc = want < FRAME_INITIAL_ALLOC ? want : FRAME_INITIAL_ALLOC;
	buf = malloc(alloc + 1);
	if (buf == NULL)
		return FRAME_NO_MEMORY;
	while (got < want) {
		if (got == alloc) {
			size_t next = alloc * 2;
			if (next > want)
				next = want;
			tmp = realloc(buf, next + 1);
			if (tmp == NULL) {
				free(buf);
				return FRAME_NO_MEMORY;
			}
			buf = tmp;
			alloc = next;
		}
		chunk = alloc - got;
		n = read_full(fd, buf + got, chunk);
		if (n < 0) {
			free(buf);
			return FRAME_IO_ERROR;
		}
		got += (size_t)n;
		if ((size_t)n < chunk) {
			free(buf);
			return FRAME_TRUNCATED;
		}
	}
	buf[want] = '\0';
	*body = buf;
	return FRAME_OK;
}

void
frame_writer_init(struct frame_writer *w, int fd)
{
	w->fd = fd;
	w->broken = 0;
	pthread_mutex_init(&w->lock, NULL);
}

void
frame_writer_destroy(struct frame_writer *w)
{
	pthread_mutex_destroy(&w->lock);
}

int
frame_write(struct frame_writer *w, const char *body, size_t len)
{
	uint32_t hdr;
	struct iovec iov[2];
	size_t total, done = 0;
	ssize_t n;
	int rc = -1;

	if (len > FRAME_REPLY_MAX)
		return -1;
	hdr = (uint32_t)len;
	total = sizeof(hdr) + len;

	pthread_mutex_lock(&w->lock);
	if (w->broken)
		goto out;
	while (done < total) {
		int cnt = 0;
		if (done < sizeof(hdr)) {
			iov[cnt].iov_base = (unsigned char *)&hdr + done;
			iov[cnt].iov_len = sizeof(hdr) - done;
			cnt++;
			iov[cnt].iov_base = (void *)(uintptr_t)body;
			iov[cnt].iov_len = len;
			cnt++;
		} else {
			iov[cnt].iov_base = (void *)(uintptr_t)(body + (done - sizeof(hdr)));
			iov[cnt].iov_len = total - done;
			cnt++;
		}
		n = writev(w->fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* EPIPE and friends: the browser is gone. Further
			 * writes are dropped; the reader will see EOF. */
			w->broken = 1;
			goto out;
		}
		done += (size_t)n;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int
frame_writer_broken(struct frame_writer *w)
{
	int b;

	pthread_mutex_lock(&w->lock);
	b = w->broken;
	pthread_mutex_unlock(&w->lock);
	return b;
}
