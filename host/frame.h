/*
 * frame: the native-messaging wire format (DESIGN.md s. 3).
 *
 * A frame is a 32-bit unsigned length in native byte order followed by that
 * many bytes of UTF-8 JSON. The reader never allocates from a length it has
 * not checked against the caller's cap, and even below the cap it grows its
 * buffer only as bytes actually arrive, so a peer that announces 60 MiB and
 * sends nothing costs nothing. The writer is the only code that writes to
 * the protocol descriptor; it serialises writers with a mutex, refuses a
 * frame above FRAME_REPLY_MAX (the browser kills the port past it) and
 * survives EPIPE (SIGPIPE is ignored by main).
 */
#ifndef TL_FRAME_H
#define TL_FRAME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Chromium and Firefox refuse a host-to-browser message above 1 MiB. */
#define FRAME_REPLY_MAX 1048576u

enum frame_result {
	FRAME_OK = 0,       /* *body holds *len bytes (malloc'd, NUL added) */
	FRAME_EOF,          /* clean end of stream before a header */
	FRAME_TRUNCATED,    /* stream ended inside a header or a body */
	FRAME_TOO_LARGE,    /* announced length above the cap; *len holds it */
	FRAME_IO_ERROR,     /* read(2) failed; errno kept */
	FRAME_NO_MEMORY
};

/* Reads one frame from fd. *body is set to NULL on entry and assigned only on
 * FRAME_OK; the caller frees it. The body is NUL-terminated (not counted in
 * *len) for the JSON parser's convenience. */
enum frame_result frame_read(int fd, size_t cap, unsigned char **body,
    uint32_t *len);

struct frame_writer {
	int fd;
	int broken; /* set after EPIPE or another write error; guarded */
	pthread_mutex_t lock;
};

void frame_writer_init(struct frame_writer *w, int fd);
void frame_writer_destroy(struct frame_writer *w);

/* Writes one frame. Returns 0, or -1 when len is above FRAME_REPLY_MAX (the
 * frame is not written) or the channel is broken. */
int frame_write(struct frame_writer *w, const char *body, size_t len);

/* 1 once a write has failed: the browser side is gone. */
int frame_writer_broken(struct frame_writer *w);

#endif
