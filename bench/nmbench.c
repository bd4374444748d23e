/*
 * nmbench: the timing client of `make bench`. It plays the browser: it
 * starts a native-messaging host (or any command) with pipes, writes framed
 * requests and reads framed replies, and times that with CLOCK_MONOTONIC.
 * It only measures and prints; bench/run.sh decides what the figures mean.
 *
 * Commands are given as groups "-- NAME CMD ARGS..." (several groups in one
 * call are run alternately, run by run or request by request, so that a
 * burst of load from elsewhere on the machine hits all of them alike):
 *
 *   nmbench startup RUNS -- NAME HOST ARGS... [-- NAME HOST ARGS...]
 *       RUNS times: spawn, write one hello frame, read one reply; the time
 *       from spawn to reply. Then close the host's stdin and reap it.
 *   nmbench pipeline COUNT RUNS -- NAME HOST ARGS... [...]
 *       RUNS times: spawn, one hello round trip (not timed), then COUNT hello
 *       frames written back to back while the replies are read (poll); the
 *       time from the first byte written to the last reply, as req/s.
 *   nmbench rtt COUNT -- NAME WARM_JSON REQ_JSON HOST ARGS... [...]
 *       One process per group: WARM_JSON once, then COUNT sequential
 *       REQ_JSON round trips, each timed. The warm-up and the last reply go
 *       to stderr ("NAME warm reply: ...", "NAME last reply: ...").
 *   nmbench session REQ_FILE REPLY_FILE -- NAME HOST ARGS...
 *       One process: every line of REQ_FILE sent in turn, each reply awaited
 *       and written to REPLY_FILE (one line each); prints each round trip,
 *       then the host's VmHWM and VmRSS (/proc/PID/status) read while it
 *       still runs, then its exit status and CPU time once its stdin is
 *       closed. NMBENCH_RSS_EACH=1: the RSS after every request too;
 *       NMBENCH_SMAPS=FILE: a copy of /proc/PID/smaps before closing.
 *   nmbench exec RUNS [--fresh-state BASE [--state-template DIR]] -- NAME CMD ARGS... [...]
 *       RUNS times: run CMD (stdin, stdout, stderr on /dev/null), timed from
 *       spawn to exit, and its CPU time. With --fresh-state, each run gets
 *       TRUSTLENS_STATE_DIR=BASE/NAME-N: a copy of DIR (cp -a, not timed) or,
 *       without a template, a directory that does not exist yet. A run that
 *       exits non-zero is reported and makes nmbench exit 1.
 *
 * Summary lines (all times in microseconds):
 *   <what> <name> n=N median=X p90=X min=X max=X mean=X unit=U
 * NMBENCH_RAW=1 adds every sample ("raw <what> <name> v1 v2 ...").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char HELLO[] = "{\"id\":1,\"type\":\"hello\"}";

static void
die(const char *what)
{
	fprintf(stderr, "nmbench: %s: %s\n", what, errno != 0 ? strerror(errno) : "failed");
	exit(2);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static void
summary(const char *what, double *v, size_t n, const char *unit)
{
	double sum = 0;
	size_t i;

	if (getenv("NMBENCH_RAW") != NULL && strcmp(getenv("NMBENCH_RAW"), "1") == 0) {
		printf("raw %s", what);
		for (i = 0; i < n; i++)
			printf(" %.1f", v[i]);
		printf("\n");
	}
	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf("%s n=%zu median=%.1f p90=%.1f min=%.1f max=%.1f mean=%.1f unit=%s\n", what, n,
	    pct(v, n, 50), pct(v, n, 90), n ? v[0] : 0, n ? v[n - 1] : 0, n ? sum / (double)n : 0,
	    unit);
	fflush(stdout);
}

struct child {
	pid_t pid;
	int to;   /* host's stdin */
	int from; /* host's stdout */
};

static void
spawn_host(char **argv, struct child *c)
{
	int in[2], out[2], rc;
	posix_spawn_file_actions_t fa;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		die("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	rc = posix_spawn(&c->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		die(argv[0]);
	}
	close(in[0]);
	close(out[1]);
	c->to = in[1];
	c->from = out[0];
}

/* Closes the host's stdin (EOF: the browser went away) and waits for it;
 * its exit status, and its CPU time in *cpu_us when not NULL. */
static int
reap_cpu(struct child *c, double *cpu_us)
{
	struct rusage ru;
	int st = 0;

	if (c->to >= 0)
		close(c->to);
	c->to = -1;
	while (wait4(c->pid, &st, 0, &ru) < 0 && errno == EINTR)
		;
	close(c->from);
	if (cpu_us != NULL)
		*cpu_us = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
		    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
reap(struct child *c)
{
	return reap_cpu(c, NULL);
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write to host");
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n == 0) {
			errno = 0;
			die("host closed its output before replying");
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read from host");
		}
		p += n;
		len -= (size_t)n;
	}
}

static void
send_frame(int fd, const char *json, size_t len)
{
	char stackbuf[4096];
	uint32_t n = (uint32_t)len;

	if (len + 4 <= sizeof(stackbuf)) {
		memcpy(stackbuf, &n, 4);
		memcpy(stackbuf + 4, json, len);
		write_all(fd, stackbuf, len + 4);
	} else {
		write_all(fd, &n, 4);
		write_all(fd, json, len);
	}
}

/* One reply; *buf grows as needed. Returns its length. */
static size_t
recv_frame(int fd, char **buf, size_t *cap)
{
	uint32_t n;

	read_all(fd, &n, 4);
	if ((size_t)n + 1 > *cap) {
		*cap = (size_t)n + 1;
		*buf = realloc(*buf, *cap);
		if (*buf == NULL)
			die("malloc");
	}
	read_all(fd, *buf, n);
	(*buf)[n] = '\0';
	return n;
}

/* The commands after the options: "-- NAME CMD ARGS... [-- NAME CMD ARGS...]".
 * Every round runs each command once, in rotating order, so that a burst of
 * load on a shared machine hits every command alike. */
struct group {
	const char *name;
	char **argv;
};

static int
parse_groups(int argc, char **argv, int from, int extra, struct group *g, char ***extras,
    int max)
{
	int i, n = 0;

	for (i = from; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	while (i < argc && strcmp(argv[i], "--") == 0) {
		int j;
		if (n == max || i + 2 + extra >= argc) {
			fprintf(stderr, "nmbench: expected -- NAME%s CMD ARGS...\n",
			    extra ? " WARM_JSON REQ_JSON" : "");
			exit(2);
		}
		argv[i] = NULL; /* ends the previous group's argv */
		g[n].name = argv[i + 1];
		if (extras != NULL)
			extras[n] = &argv[i + 2];
		g[n].argv = &argv[i + 2 + extra];
		for (j = i + 2 + extra; j < argc && strcmp(argv[j], "--") != 0; j++)
			;
		i = j;
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "nmbench: missing -- NAME CMD ARGS...\n");
		exit(2);
	}
	return n;
}

#define MAX_GROUPS 8

static long
parse_count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end != '\0' || v <= 0) {
		fprintf(stderr, "nmbench: bad count %s\n", s);
		exit(2);
	}
	return v;
}

static int
cmd_startup(int argc, char **argv)
{
	long runs = parse_count(argv[2]), i;
	struct group g[MAX_GROUPS];
	int ng = parse_groups(argc, argv, 3, 0, g, NULL, MAX_GROUPS), k, kk;
	double *v[MAX_GROUPS], t0;
	char *buf = NULL, what[128];
	size_t cap = 0;
	struct child c;

	for (k = 0; k < ng; k++)
		v[k] = calloc((size_t)runs, sizeof(double));
	for (i = 0; i < runs; i++) {
		for (kk = 0; kk < ng; kk++) {
			k = (int)((kk + i) % ng);
			t0 = now_us();
			spawn_host(g[k].argv, &c);
			send_frame(c.to, HELLO, sizeof(HELLO) - 1);
			recv_frame(c.from, &buf, &cap);
			v[k][i] = now_us() - t0;
			if (strstr(buf, "\"ok\":true") == NULL && strstr(buf, "\"ok\": true") == NULL) {
				fprintf(stderr, "nmbench: %s: hello not ok: %.200s\n", g[k].name, buf);
				exit(1);
			}
			reap(&c);
		}
	}
	for (k = 0; k < ng; k++) {
		snprintf(what, sizeof(what), "startup %s", g[k].name);
		summary(what, v[k], (size_t)runs, "us");
	}
	return 0;
}

/* COUNT hellos back to back through one warm host; returns req/s. */
static double
pipeline_once(char **host, const char *out, size_t out_len, long count)
{
	static char *in, *buf;
	static size_t cap;
	size_t in_cap = 1 << 20, in_len = 0, out_off = 0, got = 0;
	struct child c;
	double t0, rate;

	if (in == NULL && (in = malloc(in_cap)) == NULL)
		die("malloc");
	spawn_host(host, &c);
	send_frame(c.to, HELLO, sizeof(HELLO) - 1);
	recv_frame(c.from, &buf, &cap);
	fcntl(c.to, F_SETFL, O_NONBLOCK);
	fcntl(c.from, F_SETFL, O_NONBLOCK);
	t0 = now_us();
	while (got < (size_t)count) {
		struct pollfd p[2] = { { c.from, POLLIN, 0 }, { c.to, POLLOUT, 0 } };
		int np = out_off < out_len ? 2 : 1;
		ssize_t n;

		if (poll(p, (nfds_t)np, 10000) <= 0)
			die("pipeline: host stalled");
		if (np == 2 && (p[1].revents & (POLLOUT | POLLERR))) {
			n = write(c.to, out + out_off, out_len - out_off);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("pipeline write");
			if (n > 0)
				out_off += (size_t)n;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			n = read(c.from, in + in_len, in_cap - in_len);
			if (n == 0) {
				errno = 0;
				die("pipeline: host closed its output");
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("pipeline read");
			if (n > 0) {
				size_t off = 0;
				in_len += (size_t)n;
				for (;;) {
					uint32_t len;
					if (in_len - off < 4)
						break;
					memcpy(&len, in + off, 4);
					if (len + 4 > in_cap)
						die("pipeline: reply too large");
					if (in_len - off < 4 + (size_t)len)
						break;
					off += 4 + len;
					got++;
				}
				memmove(in, in + off, in_len - off);
				in_len -= off;
			}
		}
	}
	rate = (double)count / ((now_us() - t0) / 1e6);
	fcntl(c.to, F_SETFL, 0);
	reap(&c);
	return rate;
}

static int
cmd_pipeline(int argc, char **argv)
{
	long count = parse_count(argv[2]), runs = parse_count(argv[3]), r, i;
	struct group g[MAX_GROUPS];
	int ng = parse_groups(argc, argv, 4, 0, g, NULL, MAX_GROUPS), k, kk;
	double *rate[MAX_GROUPS];
	char *out, what[128];
	size_t out_len = 0;

	/* Every request its own id, written back to back. */
	out = malloc((size_t)count * 48);
	if (out == NULL)
		die("malloc");
	for (i = 0; i < count; i++) {
		char body[40];
		uint32_t n = (uint32_t)snprintf(body, sizeof(body), "{\"id\":%ld,\"type\":\"hello\"}", i + 1);
		memcpy(out + out_len, &n, 4);
		memcpy(out + out_len + 4, body, n);
		out_len += 4 + n;
	}
	for (k = 0; k < ng; k++)
		rate[k] = calloc((size_t)runs, sizeof(double));
	for (r = 0; r < runs; r++) {
		for (kk = 0; kk < ng; kk++) {
			k = (int)((kk + r) % ng);
			rate[k][r] = pipeline_once(g[k].argv, out, out_len, count);
		}
	}
	for (k = 0; k < ng; k++) {
		snprintf(what, sizeof(what), "pipeline %s", g[k].name);
		summary(what, rate[k], (size_t)runs, "req/s");
	}
	return 0;
}

static int
cmd_rtt(int argc, char **argv)
{
	long count = parse_count(argv[2]), i;
	struct group g[MAX_GROUPS];
	char **x[MAX_GROUPS];
	int ng = parse_groups(argc, argv, 3, 2, g, x, MAX_GROUPS), k, kk;
	double *v[MAX_GROUPS], t0;
	char *buf = NULL, what[128];
	size_t cap = 0;
	struct child c[MAX_GROUPS];

	for (k = 0; k < ng; k++) {
		v[k] = calloc((size_t)count, sizeof(double));
		spawn_host(g[k].argv, &c[k]);
		send_frame(c[k].to, x[k][0], strlen(x[k][0]));
		recv_frame(c[k].from, &buf, &cap);
		fprintf(stderr, "%s warm reply: %s\n", g[k].name, buf);
	}
	for (i = 0; i < count; i++) {
		for (kk = 0; kk < ng; kk++) {
			k = (int)((kk + i) % ng);
			t0 = now_us();
			send_frame(c[k].to, x[k][1], strlen(x[k][1]));
			recv_frame(c[k].from, &buf, &cap);
			v[k][i] = now_us() - t0;
			if (i == count - 1)
				fprintf(stderr, "%s last reply: %s\n", g[k].name, buf);
		}
	}
	for (k = 0; k < ng; k++) {
		reap(&c[k]);
		snprintf(what, sizeof(what), "rtt %s", g[k].name);
		summary(what, v[k], (size_t)count, "us");
	}
	return 0;
}

static void
print_rss(pid_t pid, const char *prefix)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		die(path);
	printf("%srss", prefix);
	while (fgets(line, sizeof(line), f) != NULL) {
		long kb;
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			printf(" VmHWM=%ld", kb);
		else if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			printf(" VmRSS=%ld", kb);
	}
	printf(" unit=kB\n");
	fclose(f);
}

/* /proc/PID/smaps to a file, to see what the resident memory is. */
static void
copy_smaps(pid_t pid, const char *to)
{
	char path[64], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	in = fopen(path, "r");
	out = fopen(to, "w");
	if (in == NULL || out == NULL)
		die("smaps");
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
}

static int
cmd_session(int argc, char **argv)
{
	struct group g[1];
	FILE *reqs = fopen(argv[2], "r"), *replies = fopen(argv[3], "w");
	char *line = NULL, *buf = NULL;
	size_t lcap = 0, cap = 0, n;
	ssize_t len;
	struct child c;
	double t0, t_start, cpu = 0;
	int i = 0, st, rss_each = getenv("NMBENCH_RSS_EACH") != NULL;

	parse_groups(argc, argv, 4, 0, g, NULL, 1);
	if (reqs == NULL || replies == NULL)
		die("session files");
	t_start = now_us();
	spawn_host(g[0].argv, &c);
	while ((len = getline(&line, &lcap, reqs)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		t0 = now_us();
		send_frame(c.to, line, (size_t)len);
		n = recv_frame(c.from, &buf, &cap);
		printf("request %d us=%.1f reply_bytes=%zu", ++i, now_us() - t0, n);
		if (rss_each)
			print_rss(c.pid, " ");
		else
			printf("\n");
		fwrite(buf, 1, n, replies);
		fputc('\n', replies);
	}
	fflush(stdout);
	print_rss(c.pid, "");
	if (getenv("NMBENCH_SMAPS") != NULL)
		copy_smaps(c.pid, getenv("NMBENCH_SMAPS"));
	fclose(replies);
	fclose(reqs);
	st = reap_cpu(&c, &cpu);
	printf("exit %d cpu_us=%.0f wall_us=%.0f\n", st, cpu, now_us() - t_start);
	return 0;
}

/* cp -a TEMPLATE DIR, untimed. */
static void
copy_tree(const char *from, const char *to)
{
	pid_t pid;
	int st;
	char *argv[] = { "/bin/cp", "-a", (char *)from, (char *)to, NULL };

	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("cp -a state template");
}

static int
cmd_exec(int argc, char **argv)
{
	long runs = parse_count(argv[2]), i;
	struct group g[MAX_GROUPS];
	const char *base = NULL, *tmpl = NULL;
	double *v[MAX_GROUPS], *cpu[MAX_GROUPS], t0;
	int a, st, failures = 0, devnull, ng, k, kk;
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	char what[128];
	pid_t pid;

	for (a = 3; a < argc && strcmp(argv[a], "--") != 0; a++) {
		if (strcmp(argv[a], "--fresh-state") == 0 && a + 1 < argc)
			base = argv[++a];
		else if (strcmp(argv[a], "--state-template") == 0 && a + 1 < argc)
			tmpl = argv[++a];
		else {
			fprintf(stderr, "nmbench exec: unknown option %s\n", argv[a]);
			return 2;
		}
	}
	ng = parse_groups(argc, argv, a, 0, g, NULL, MAX_GROUPS);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		die("/dev/null");
	for (k = 0; k < ng; k++) {
		v[k] = calloc((size_t)runs, sizeof(double));
		cpu[k] = calloc((size_t)runs, sizeof(double));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	for (i = 0; i < runs; i++) {
		for (kk = 0; kk < ng; kk++) {
			k = (int)((kk + i) % ng);
			if (base != NULL) {
				char dir[4096];
				snprintf(dir, sizeof(dir), "%s/%s-%ld", base, g[k].name, i);
				if (tmpl != NULL)
					copy_tree(tmpl, dir);
				setenv("TRUSTLENS_STATE_DIR", dir, 1);
			}
			t0 = now_us();
			if (posix_spawnp(&pid, g[k].argv[0], &fa, NULL, g[k].argv, environ) != 0)
				die(g[k].argv[0]);
			while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
				;
			v[k][i] = now_us() - t0;
			cpu[k][i] = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
			    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				fprintf(stderr, "nmbench exec: %s run %ld: status %d\n", g[k].name, i,
				    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
				failures++;
			}
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	for (k = 0; k < ng; k++) {
		snprintf(what, sizeof(what), "exec %s", g[k].name);
		summary(what, v[k], (size_t)runs, "us");
		snprintf(what, sizeof(what), "cpu %s", g[k].name);
		summary(what, cpu[k], (size_t)runs, "us");
	}
	return failures ? 1 : 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && strcmp(argv[1], "startup") == 0)
		return cmd_startup(argc, argv);
	if (argc >= 5 && strcmp(argv[1], "pipeline") == 0)
		return cmd_pipeline(argc, argv);
	if (argc >= 4 && strcmp(argv[1], "rtt") == 0)
		return cmd_rtt(argc, argv);
	if (argc >= 5 && strcmp(argv[1], "session") == 0)
		return cmd_session(argc, argv);
	if (argc >= 4 && strcmp(argv[1], "exec") == 0)
		return cmd_exec(argc, argv);
	fprintf(stderr, "usage: nmbench startup|pipeline|rtt|session|exec ... (see bench/nmbench.c)\n");
	return 2;
}
