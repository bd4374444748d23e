/*
 * server: the native-messaging session.
 *
 * One reader (the calling thread) takes frames from the protocol input and
 * queues them; a fixed pool of worker threads serves them through
 * dispatch_frame and writes each reply through the one frame writer, so
 * replies leave in completion order and a slow site never holds up another
 * request. The queue is bounded in requests and in bytes: when it is full
 * the reader stops reading, and the browser's writes wait (backpressure
 * instead of unbounded memory).
 *
 * End of the session: on EOF the cancel flag is raised (handlers doing
 * network I/O give up at once, requests not yet started that are not
 * instant are refused), instant requests already received are answered,
 * and server_run returns within SERVER_EXIT_MS even if a handler is stuck.
 * A frame the stream cannot recover from (too large, truncated) gets one
 * error reply with id null and ends the session.
 */
#ifndef TL_SERVER_H
#define TL_SERVER_H

struct config;

#define SERVER_QUEUE_MAX 256u                       /* queued requests */
#define SERVER_QUEUE_BYTES (64u * 1024u * 1024u)    /* frame bytes held, queued or being served */
#define SERVER_EXIT_MS 80                           /* after EOF */

enum server_end {
	SERVER_END_EOF = 0,        /* the browser closed the port */
	SERVER_END_PROTOCOL = 1,   /* unrecoverable frame (reply sent) */
	SERVER_END_IO = 2          /* read error or resources */
};

/* Serves frames from in_fd, replying on out_fd, until the stream ends.
 * *drained is 1 when every worker finished (all memory released), 0 when
 * some were still busy at the deadline: the caller must then end the
 * process without freeing what they may use (cfg). */
enum server_end server_run(int in_fd, int out_fd, const struct config *cfg,
    int *drained);

#endif
