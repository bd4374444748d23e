/*
 * server: reader, bounded queue and worker pool. See server.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dispatch.h"
#include "frame.h"
#include "log.h"
#include "server.h"

struct job {
	unsigned char *body;
	size_t len;
	struct job *next;
};

struct server {
	const struct config *cfg;
	struct frame_writer writer;
	atomic_int cancel;

	pthread_mutex_t lock;
	pthread_cond_t have_job;   /* workers wait for work or closing */
	pthread_cond_t have_room;  /* the reader waits for room */
	pthread_cond_t idle;       /* the reader waits for workers to finish */
	struct job *head, *tail;
	size_t queued, queued_bytes;
	int closing;               /* no more jobs will come */
	unsigned running;          /* workers still alive */
	int abandoned;             /* server_run gave up waiting: the last
	                              worker out frees the server */
};

static void
server_free(struct server *s)
{
	pthread_cond_destroy(&s->have_job);
	pthread_cond_destroy(&s->have_room);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	frame_writer_destroy(&s->writer);
	free(s);
}

static void
serve_one(struct server *s, struct job *j)
{
	size_t rlen = 0;
	char *reply;

	reply = dispatch_frame(j->body, j->len, s->cfg, &s->cancel, &rlen);
	if (reply == NULL) {
		static const char oom[] = "{\"id\":null,\"ok\":false,\"error\":"
		    "{\"code\":\"internal\",\"message\":\"Out of memory.\"}}";
		frame_write(&s->writer, oom, sizeof(oom) - 1);
		return;
	}
	if (frame_write(&s->writer, reply, rlen) != 0 && !atomic_load(&s->cancel)) {
		log_msg("reply not written (%zu bytes): channel closed", rlen);
		atomic_store(&s->cancel, 1);
	}
	free(reply);
}

static void *
worker(void *arg)
{
	struct server *s = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		while (s->head == NULL && !s->closing)
			pthread_cond_wait(&s->have_job, &s->lock);
		j = s->head;
		if (j == NULL) {
			/* closing and drained */
			int last;

			/* OpenSSL's per-thread state is freed by a thread-exit
			 * handler, which may not get to run before main exits
			 * once `running` reaches 0: free it now. */
			pthread_mutex_unlock(&s->lock);
			OPENSSL_thread_stop();
			pthread_mutex_lock(&s->lock);
			s->running--;
			pthread_cond_broadcast(&s->idle);
			last = s->abandoned && s->running == 0;
			pthread_mutex_unlock(&s->lock);
			if (last)
				server_free(s);
			return NULL;
		}
		s->head = j->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->queued--;
		pthread_mutex_unlock(&s->lock);

		serve_one(s, j);
		/* The bytes count until the request is served, not only while
		 * it waits: that is what bounds memory. */
		pthread_mutex_lock(&s->lock);
		s->queued_bytes -= j->len;
		pthread_cond_signal(&s->have_room);
		pthread_mutex_unlock(&s->lock);
		free(j->body);
		free(j);
	}
}

/* Queues a frame, waiting for room. Takes ownership of body. */
static int
enqueue(struct server *s, unsigned char *body, size_t len)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		free(body);
		return -1;
	}
	j->body = body;
	j->len = len;
	pthread_mutex_lock(&s->lock);
	/* A single frame larger than the byte budget still goes in when
	 * nothing else is held: the cap of frame_read already bounds it. */
	while (s->queued >= SERVER_QUEUE_MAX ||
	    (s->queued_bytes > 0 && s->queued_bytes + len > SERVER_QUEUE_BYTES))
		pthread_cond_wait(&s->have_room, &s->lock);
	if (s->tail != NULL)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->queued++;
	s->queued_bytes += len;
	pthread_cond_signal(&s->have_job);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Writes an error reply with id null directly (frame-level failures). */
static void
reply_frame_error(struct server *s, enum tl_status status, const char *message)
{
	size_t len = 0;
	char *reply = dispatch_error_reply(status, message, &len);

	if (reply != NULL)
		frame_write(&s->writer, reply, len);
	free(reply);
}

enum server_end
server_run(int in_fd, int out_fd, const struct config *cfg, int *drained)
{
	struct server *s;
	pthread_t thread;
	pthread_attr_t attr;
	enum server_end end = SERVER_END_IO;
	enum frame_result fr;
	unsigned char *body;
	uint32_t len;
	size_t cap = dispatch_frame_cap(cfg);
	struct timespec deadline;
	unsigned i, nworkers = cfg->workers, started = 0;
	int rc = 0;

	*drained = 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SERVER_END_IO;
	s->cfg = cfg;
	atomic_init(&s->cancel, 0);
	frame_writer_init(&s->writer, out_fd);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->have_job, NULL);
	pthread_cond_init(&s->have_room, NULL);
	pthread_cond_init(&s->idle, NULL);

	pthread_attr_init(&attr);
	/* Detached: server_run must be able to return while a handler is
	 * stuck in a library call; main then exits the process. */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < nworkers; i++) {
		pthread_mutex_lock(&s->lock);
		s->running++;
		pthread_mutex_unlock(&s->lock);
		if (pthread_create(&thread, &attr, worker, s) != 0) {
			pthread_mutex_lock(&s->lock);
			s->running--;
			pthread_mutex_unlock(&s->lock);
			break;
		}
		started++;
	}
	pthread_attr_destroy(&attr);
	if (started == 0) {
		reply_frame_error(s, TL_INTERNAL, "The host could not start its workers.");
		goto stop;
	}
	log_msg("session: %u workers, frame cap %zu bytes", started, cap);

	for (;;) {
		fr = frame_read(in_fd, cap, &body, &len);
		if (fr == FRAME_OK) {
			if (enqueue(s, body, len) != 0) {
				reply_frame_error(s, TL_INTERNAL, "Out of memory.");
				end = SERVER_END_IO;
				break;
			}
			continue;
		}
		switch (fr) {
		case FRAME_EOF:
			end = SERVER_END_EOF;
			break;
		case FRAME_TOO_LARGE:
			log_msg("frame: too_large (%lu bytes announced, cap %zu)",
			    (unsigned long)len, cap);
			reply_frame_error(s, TL_TOO_LARGE,
			    "The message is larger than this host accepts.");
			end = SERVER_END_PROTOCOL;
			break;
		case FRAME_TRUNCATED:
			log_msg("frame: truncated (%lu bytes announced)", (unsigned long)len);
			reply_frame_error(s, TL_BAD_FRAME,
			    "The message ended before its announced length.");
			end = SERVER_END_PROTOCOL;
			break;
		case FRAME_NO_MEMORY:
			reply_frame_error(s, TL_INTERNAL, "Out of memory.");
			end = SERVER_END_IO;
			break;
		case FRAME_IO_ERROR:
		case FRAME_OK:
		default:
			log_msg("frame: read error %d", errno);
			end = SERVER_END_IO;
			break;
		}
		break;
	}

stop:
	/* Nobody will read answers to slow requests: cancel them, answer the
	 * instant ones already queued, and give up waiting after a bound. */
	atomic_store(&s->cancel, 1);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += (long)SERVER_EXIT_MS * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	s->closing = 1;
	pthread_cond_broadcast(&s->have_job);
	while (s->running > 0 && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->idle, &s->lock, &deadline);
	if (s->running > 0) {
		/* Workers still hold s: the last one out frees it (valgrind
		 * found it lost when they finished after the deadline). */
		s->abandoned = 1;
		pthread_mutex_unlock(&s->lock);
		log_msg("session end: %s, workers still busy after %d ms",
		    end == SERVER_END_EOF ? "eof" : "error", SERVER_EXIT_MS);
		return end;
	}
	pthread_mutex_unlock(&s->lock);
	log_msg("session end: %s", end == SERVER_END_EOF ? "eof" : "error");
	server_free(s);
	*drained = 1;
	return end;
}
