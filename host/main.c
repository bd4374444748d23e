/*
 * main: the only place that exits.
 *
 * Decides from argv alone (no library touched yet) whether a browser
 * launched us. If so, before anything else is loaded, the protocol channel
 * moves to private descriptors: stdin and stdout are duplicated (close-on-
 * exec) for the frame reader and writer, fd 1 is pointed at stderr and fd 0
 * at /dev/null, so a library (a PKCS#11 module above all) that prints or
 * reads cannot corrupt the stream. SIGPIPE is ignored; a closed browser
 * shows up as EPIPE on write and EOF on read.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caller.h"
#include "cli.h"
#include "config.h"
#include "dispatch.h"
#include "frame.h"
#include "laststart.h"
#include "log.h"
#include "mail.h"
#include "server.h"
#include "site.h"
#include "version.h"

/* Exit statuses of a browser session (documented in trustlens-host(1)). */
#define EXIT_SESSION_OK 0
#define EXIT_SESSION_PROTOCOL 1
#define EXIT_SESSION_IO 1

/* Makes sure fds 0-2 are open, so that no file we open later becomes one
 * of them by accident. */
static void
ensure_std_fds(void)
{
	int fd;

	for (;;) {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0 || fd > 2) {
			if (fd >= 0)
				close(fd);
			return;
		}
	}
}

static int
private_channel(int *in_fd, int *out_fd)
{
	int devnull;

	*in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	*out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (*in_fd < 0 || *out_fd < 0)
		return -1;
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return -1;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0)
		return -1;
	close(devnull);
	return 0;
}

/* After a refusal: let the browser read the reply before the pipe closes.
 * A host that exits at once makes Chromium's first write fail, and the
 * extension then sees "Error when communicating" instead of the refusal.
 * Reads and discards until EOF, for at most REFUSE_LINGER_MS. */
#define REFUSE_LINGER_MS 1000

static void
linger_until_eof(int in_fd)
{
	char buf[4096];
	struct pollfd p;
	struct timespec t0, t;
	long left;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = REFUSE_LINGER_MS - ((t.tv_sec - t0.tv_sec) * 1000L +
		    (t.tv_nsec - t0.tv_nsec) / 1000000L);
		if (left <= 0)
			return;
		p.fd = in_fd;
		p.events = POLLIN;
		if (poll(&p, 1, (int)left) <= 0)
			return;
		n = read(in_fd, buf, sizeof(buf));
		if (n <= 0 && !(n < 0 && errno == EINTR))
			return;
	}
}

static int
refuse_caller(int out_fd)
{
	struct frame_writer w;
	size_t len = 0;
	char *reply;

	reply = dispatch_error_reply(TL_FORBIDDEN_ORIGIN,
	    "This host answers only the TrustLens extension.", &len);
	frame_writer_init(&w, out_fd);
	if (reply != NULL)
		frame_write(&w, reply, len);
	frame_writer_destroy(&w);
	free(reply);
	return EXIT_SESSION_PROTOCOL;
}

static int
run_native(const struct caller *who)
{
	struct config *cfg = NULL;
	char err[512];
	int in_fd, out_fd, rc, drained = 1, allowed;
	enum server_end end;

	signal(SIGPIPE, SIG_IGN);
	if (private_channel(&in_fd, &out_fd) != 0) {
		fprintf(stderr, "trustlens-host: cannot set up the protocol channel: %s\n",
		    strerror(errno));
		return EXIT_SESSION_IO;
	}
#ifdef M_ARENA_MAX
	/* Worker and fan-out threads would each get a glibc arena: most of
	 * the host's memory. Two are plenty for this workload (measured:
	 * 40 to 30 MiB with 10,000 cached verdicts, same CPU). */
	mallopt(M_ARENA_MAX, 2);
#endif
	if (config_load(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "trustlens-host: %s\n", err);
		cfg = config_fallback(err);
		if (cfg == NULL)
			return EXIT_SESSION_IO;
		/* Logging is what a helpdesk needs most when the config is
		 * broken: honour TRUSTLENS_LOG even then. */
		if (getenv("TRUSTLENS_LOG") != NULL && getenv("TRUSTLENS_LOG")[0] != '\0')
			cfg->log_file = strdup(getenv("TRUSTLENS_LOG"));
	}
	if (log_open(cfg->log_file, err, sizeof(err)) != 0)
		fprintf(stderr, "trustlens-host: %s\n", err);
	log_msg("start %s, caller kind %d", TL_VERSION, (int)who->kind);

	allowed = caller_allowed(who, cfg);
	/* For diagnose: when, by whom, allowed or not (one small atomic
	 * write; failure ignored). */
	laststart_record(cfg, who, allowed);
	if (!allowed) {
		/* Log the kind only: an unknown caller's string is not ours to
		 * copy anywhere. */
		log_msg("caller refused: forbidden_origin");
		rc = refuse_caller(out_fd);
		linger_until_eof(in_fd);
		goto out;
	}
	end = server_run(in_fd, out_fd, cfg, &drained);
	rc = end == SERVER_END_EOF ? EXIT_SESSION_OK :
	    end == SERVER_END_PROTOCOL ? EXIT_SESSION_PROTOCOL : EXIT_SESSION_IO;
out:
	log_msg("exit %d", rc);
	log_close();
	if (!drained) {
		/* Workers are still running (stuck in a library call after
		 * EOF): end now without freeing or running destructors under
		 * their feet. */
		fflush(stderr);
		_exit(rc);
	}
	site_shutdown();
	mail_shutdown();
	config_free(cfg);
	close(in_fd);
	close(out_fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct caller who;

	ensure_std_fds();
	if (caller_detect(argc, argv, &who) != CALLER_NONE)
		return run_native(&who);
	return cli_main(argc, argv);
}
