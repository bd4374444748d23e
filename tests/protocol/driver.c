/*
 * protocol-driver: golden tests of the native-messaging wire contract
 * (DESIGN.md s. 3) against the real host binary. Format: README.md.
 *
 *   protocol-driver HOST CASES_DIR
 *
 * A case is CASES_DIR/NAME.in.json + NAME.out.json. NAME.in.json: {"args":
 * [argv after the program], "env": {added to PATH, HOME=$TMP,
 * XDG_CONFIG_HOME=$TMP/xdg}, "input": [steps], "close": "after_replies" |
 * "immediately" | "never"}; a step is {"json": V, "pad_to": N?}, {"text": S},
 * {"hex": H} (one frame each), {"raw_hex": H} (no header), {"length": N,
 * "hex": H} (header N, body H), {"repeat": K, "json": V} ("$i" = 0..K-1),
 * {"nested": D, "id": I} (a hello with D nested arrays) or {"wait_ms": N}.
 * NAME.out.json: {"replies": [...], "ordered": false, "exit": 0, "max_ms":
 * 2000, "max_rss_kib": 65536, "stderr_empty": bool, "log_contains": [...],
 * "log_lacks": [...]}; wildcards "*", "*string*", "*integer*", "*sentence*";
 * objects match with the same keys; {"repeat": K, "reply": V} expands.
 * "$CASES" and "$TMP" are substituted in args and env values.
 *
 * The host is hostile: stdout must split exactly into frames of at most
 * 1 MiB holding one UTF-8 JSON object each, and no reply may come beyond
 * those expected. A child alive after 3 x its time bound is killed. Peak RSS
 * is its ru_maxrss, which counts pages inherited at fork: the input is built
 * after the fork. Sanitizer builds (HOST path with "/asan/", or
 * TRUSTLENS_TEST_SANITIZED=1) get 5 x the time and no memory bound. Output:
 * "ok NAME (T ms, R KiB)" or "FAIL NAME: reason" per case, then
 * "N passed, N failed"; exit 0 iff all passed.
 */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 1048576u              /* what a browser accepts */
#define OUT_MAX (64u * 1024u * 1024u)   /* stdout kept before giving up */
#define ERR_MAX (64u * 1024u)           /* stderr kept; the rest dropped */
#define MAX_PAUSES 64
#define DEFAULT_ORIGIN "chrome-extension://npfbfafbeggpjpnhdcidonbfednhhnij/"

enum close_mode { CLOSE_AFTER, CLOSE_NOW, CLOSE_NEVER };

struct buf {
	unsigned char *p;
	size_t len, cap;
};

struct input {
	struct buf bytes;
	size_t pause_at[MAX_PAUSES]; /* offset in bytes where a pause starts */
	long pause_ms[MAX_PAUSES];
	size_t npause;
};

struct result {
	struct buf out, err;
	int status, killed;
	long ms;
	struct rusage ru;
};

struct ctx {
	const char *host, *cases, *tmp;
	int sanitized;
	char why[600]; /* the first failure of the running case */
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first failure of the case; returns -1. */
static int
fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof(c->why), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
buf_add(struct buf *b, const void *p, size_t n)
{
	size_t cap = b->cap != 0 ? b->cap : 256;
	unsigned char *q = b->p;

	while (cap - b->len < n)
		cap *= 2;
	if (cap != b->cap && (q = realloc(b->p, cap)) != NULL) {
		b->p = q;
		b->cap = cap;
	}
	if (q != NULL && n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += q != NULL ? n : 0;
	return q != NULL ? 0 : -1;
}

static int
hex_decode(const char *s, struct buf *b)
{
	static const char digits[] = "0123456789abcdef";
	const char *hi, *lo;
	unsigned char byte;
	int rc = 0;

	for (; rc == 0 && s[0] != '\0'; s += 2) {
		hi = strchr(digits, s[0] | 0x20);
		lo = s[1] != '\0' ? strchr(digits, s[1] | 0x20) : NULL;
		byte = hi != NULL && lo != NULL ? (unsigned char)((hi - digits) << 4 | (lo - digits)) : 0;
		rc = hi != NULL && lo != NULL ? buf_add(b, &byte, 1) : -1;
	}
	return rc;
}

static void
describe(char *dst, size_t n, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(dst, n, "%.200s%s", s ? s : "?", s && strlen(s) > 200 ? "..." : "");
	free(s);
}

/* A header announcing `announced`, then n body bytes. */
static int
add_frame(struct buf *b, uint32_t announced, const void *body, size_t n)
{
	int rc = buf_add(b, &announced, sizeof(announced));

	return rc == 0 ? buf_add(b, body, n) : rc;
}

/* A deep copy of v in which every string "$i" is the integer i. */
static json_t *
subst_i(json_t *v, json_int_t i)
{
	json_t *copy, *item;
	const char *key;
	size_t k;

	if (json_is_string(v) && strcmp(json_string_value(v), "$i") == 0) {
		copy = json_integer(i);
	} else if (json_is_object(v)) {
		copy = json_object();
		json_object_foreach(v, key, item)
			json_object_set_new(copy, key, subst_i(item, i));
	} else if (json_is_array(v)) {
		copy = json_array();
		json_array_foreach(v, k, item)
			json_array_append_new(copy, subst_i(item, i));
	} else {
		copy = json_deep_copy(v);
	}
	return copy;
}

/* Frames v compactly; with pad_to > 0 an extra "pad" string brings the
 * body to exactly pad_to bytes. Takes a reference to v. */
static int
add_json_frame(struct buf *b, json_t *v, json_int_t pad_to)
{
	char *s = NULL, *pad = NULL;
	size_t n;
	int rc = -1;

	if (v == NULL || (pad_to > 0 && !json_is_object(v)))
		goto out;
	if (pad_to > 0) {
		json_object_set_new(v, "pad", json_string(""));
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s == NULL || (size_t)pad_to < strlen(s) || (pad = calloc(1, (size_t)pad_to)) == NULL)
			goto out;
		n = (size_t)pad_to - strlen(s);
		memset(pad, 'a', n);
		json_object_set_new(v, "pad", json_string(pad));
		free(s);
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL)
		rc = add_frame(b, (uint32_t)strlen(s), s, strlen(s));
out:
	json_decref(v);
	free(pad);
	free(s);
	return rc;
}

/* {"id":ID,"type":"hello","p":[[...]]} with `depth` nested arrays. */
static int
add_nested(struct buf *b, json_t *id, json_int_t depth)
{
	char *ids = json_dumps(id != NULL ? id : json_null(), JSON_ENCODE_ANY);
	struct buf body = { 0 };
	json_int_t i;
	int rc = ids == NULL ? -1 : 0;

	rc = rc == 0 ? buf_add(&body, "{\"id\":", 6) : rc;
	rc = rc == 0 ? buf_add(&body, ids, strlen(ids)) : rc;
	rc = rc == 0 ? buf_add(&body, ",\"type\":\"hello\",\"p\":", 20) : rc;
	for (i = 0; rc == 0 && i < 2 * depth; i++)
		rc = buf_add(&body, i < depth ? "[" : "]", 1);
	rc = rc == 0 ? buf_add(&body, "}", 1) : rc;
	rc = rc == 0 ? add_frame(b, (uint32_t)body.len, body.p, body.len) : rc;
	free(ids);
	free(body.p);
	return rc;
}

static int
build_step(struct ctx *c, json_t *st, struct input *in)
{
	json_t *j = json_object_get(st, "json"), *rep = json_object_get(st, "repeat");
	json_t *len = json_object_get(st, "length"), *w = json_object_get(st, "wait_ms");
	const char *text = json_string_value(json_object_get(st, "text"));
	const char *hex = json_string_value(json_object_get(st, "hex"));
	const char *raw = json_string_value(json_object_get(st, "raw_hex"));
	struct buf tmp = { 0 };
	json_int_t k;
	char d[256];
	int rc = -1;

	if (w != NULL && in->npause < MAX_PAUSES) {
		in->pause_at[in->npause] = in->bytes.len;
		in->pause_ms[in->npause++] = (long)json_integer_value(w);
		rc = 0;
	} else if (rep != NULL && j != NULL) {
		for (k = 0, rc = 0; rc == 0 && k < json_integer_value(rep); k++)
			rc = add_json_frame(&in->bytes, subst_i(j, k), 0);
	} else if (j != NULL) {
		rc = add_json_frame(&in->bytes, json_deep_copy(j),
		    json_integer_value(json_object_get(st, "pad_to")));
	} else if (json_object_get(st, "nested") != NULL) {
		rc = add_nested(&in->bytes, json_object_get(st, "id"),
		    json_integer_value(json_object_get(st, "nested")));
	} else if (text != NULL) {
		rc = add_frame(&in->bytes, (uint32_t)strlen(text), text, strlen(text));
	} else if (raw != NULL) {
		rc = hex_decode(raw, &in->bytes);
	} else if (hex != NULL && hex_decode(hex, &tmp) == 0) {
		rc = add_frame(&in->bytes, len != NULL ? (uint32_t)json_integer_value(len) :
		    (uint32_t)tmp.len, tmp.p, tmp.len);
	}
	free(tmp.p);
	if (rc != 0) {
		describe(d, sizeof(d), st);
		fail(c, "input step %s cannot be built", d);
	}
	return rc;
}

/* The expected replies with {"repeat": K, "reply": V} expanded. */
static json_t *
expand_expected(json_t *list)
{
	json_t *out = json_array(), *item, *k, *r;
	json_int_t i;
	size_t n;

	json_array_foreach(list, n, item) {
		k = json_object_get(item, "repeat");
		r = json_object_get(item, "reply");
		if (k == NULL || r == NULL)
			json_array_append(out, item);
		for (i = 0; k != NULL && r != NULL && i < json_integer_value(k); i++)
			json_array_append_new(out, subst_i(r, i));
	}
	return out;
}

/* One human sentence: a line of text ending in '.'. */
static int
is_sentence(const char *s)
{
	size_t n = strlen(s), i;
	int ok = n > 1 && s[n - 1] == '.';

	for (i = 0; ok && i < n; i++)
		ok = (unsigned char)s[i] >= 0x20;
	return ok;
}

/* 1 when actual value a matches expected value e (with wildcards). */
static int
match(json_t *e, json_t *a)
{
	const char *key, *s = json_string_value(e);
	json_t *v;
	size_t i;
	int ok;

	if (s != NULL && strcmp(s, "*") == 0)
		ok = 1;
	else if (s != NULL && strcmp(s, "*string*") == 0)
		ok = json_is_string(a);
	else if (s != NULL && strcmp(s, "*integer*") == 0)
		ok = json_is_integer(a);
	else if (s != NULL && strcmp(s, "*sentence*") == 0)
		ok = json_is_string(a) && is_sentence(json_string_value(a));
	else if (json_is_object(e)) {
		ok = json_is_object(a) && json_object_size(a) == json_object_size(e);
		json_object_foreach(e, key, v) {
			if (ok)
				ok = json_object_get(a, key) != NULL && match(v, json_object_get(a, key));
		}
	} else if (json_is_array(e)) {
		ok = json_is_array(a) && json_array_size(a) == json_array_size(e);
		json_array_foreach(e, i, v) {
			if (ok)
				ok = match(v, json_array_get(a, i));
		}
	} else {
		ok = json_equal(e, a);
	}
	return ok;
}

/* Kuhn's augmenting path over the expected x actual match matrix m. */
static int
augment(size_t e, const unsigned char *m, size_t na, size_t *owner, unsigned char *seen)
{
	size_t a;
	int found = 0;

	for (a = 0; !found && a < na; a++) {
		if (!m[e * na + a] || seen[a])
			continue;
		seen[a] = 1;
		if (owner[a] == SIZE_MAX || augment(owner[a], m, na, owner, seen)) {
			owner[a] = e;
			found = 1;
		}
	}
	return found;
}

/* Each expected reply must match its own actual reply (as a multiset, or
 * position by position when ordered), and no actual reply may be left. */
static int
match_replies(struct ctx *c, json_t *exp, json_t *act, int ordered)
{
	size_t ne = json_array_size(exp), na = json_array_size(act), e, a;
	unsigned char *m = calloc(ne * na + 1, 1), *seen = calloc(na + 1, 1);
	size_t *owner = malloc((na + 1) * sizeof(*owner));
	char d[256];
	int rc = -1;

	if (m == NULL || seen == NULL || owner == NULL) {
		fail(c, "out of memory");
		goto out;
	}
	for (a = 0; a < na; a++)
		owner[a] = SIZE_MAX;
	for (e = 0; e < ne; e++) {
		for (a = 0; a < na; a++)
			m[e * na + a] = (unsigned char)((!ordered || a == e) &&
			    match(json_array_get(exp, e), json_array_get(act, a)));
	}
	for (e = 0; e < ne; e++) {
		memset(seen, 0, na);
		if (!augment(e, m, na, owner, seen)) {
			describe(d, sizeof(d), json_array_get(exp, e));
			fail(c, "%zu replies for %zu expected; none matches %s", na, ne, d);
			goto out;
		}
	}
	for (a = 0; a < na; a++) {
		if (owner[a] == SIZE_MAX) {
			describe(d, sizeof(d), json_array_get(act, a));
			fail(c, "%zu replies for %zu expected; unexpected %s", na, ne, d);
			goto out;
		}
	}
	rc = 0;
out:
	free(m);
	free(seen);
	free(owner);
	return rc;
}

/* Splits stdout into frames. Without `replies`, counts the complete ones.
 * With it, parses each into `replies` and fails on any stray byte, a frame
 * above 1 MiB, or a body that is not one UTF-8 JSON object without NULs. */
static long
split_frames(struct ctx *c, const struct buf *b, json_t *replies)
{
	size_t off = 0;
	uint32_t len = 0;
	json_error_t jerr;
	json_t *v = NULL;
	long n = 0;

	while (b->len - off >= 4) {
		memcpy(&len, b->p + off, 4);
		if (replies != NULL && len > REPLY_MAX) {
			n = fail(c, "stdout: frame of %lu bytes (above 1 MiB) at offset %zu",
			    (unsigned long)len, off);
			goto out;
		}
		if (b->len - off - 4 < len)
			break;
		off += 4 + (size_t)len;
		n++;
		if (replies == NULL)
			continue;
		snprintf(jerr.text, sizeof(jerr.text), "a NUL byte");
		v = memchr(b->p + off - len, 0, len) == NULL ? json_loadb((const char *)b->p +
		    off - len, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
		if (!json_is_object(v)) {
			n = fail(c, "stdout: frame at offset %zu is not one UTF-8 JSON object: %s",
			    off - len - 4, v != NULL ? "another value" : jerr.text);
			goto out;
		}
		json_array_append_new(replies, v);
		v = NULL;
	}
	if (replies != NULL && off != b->len)
		n = fail(c, "stdout: %zu stray bytes at offset %zu%s", b->len - off, off,
		    b->len - off >= 4 ? " (an incomplete frame)" : "");
out:
	json_decref(v);
	return n;
}

/* A fresh "prefix" + s, with $CASES and $TMP substituted. */
static char *
subst_vars(const struct ctx *c, const char *prefix, const char *s)
{
	struct buf b = { 0 };
	int rc = buf_add(&b, prefix, strlen(prefix));

	for (; rc == 0 && s != NULL && *s != '\0'; s++) {
		if (strncmp(s, "$CASES", 6) == 0) {
			rc = buf_add(&b, c->cases, strlen(c->cases));
			s += 5;
		} else if (strncmp(s, "$TMP", 4) == 0) {
			rc = buf_add(&b, c->tmp, strlen(c->tmp));
			s += 3;
		} else {
			rc = buf_add(&b, s, 1);
		}
	}
	if (rc != 0 || buf_add(&b, "", 1) != 0) {
		free(b.p);
		b.p = NULL;
	}
	return (char *)b.p;
}

static void
free_strv(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A NULL-terminated vector of fresh strings, substituted: the items of an
 * array (argv), or "KEY=value" for each member of an object (envp). */
static char **
make_strv(const struct ctx *c, json_t *v)
{
	size_t n = json_is_object(v) ? json_object_size(v) : json_array_size(v), i = 0, k;
	char **out = calloc(n + 1, sizeof(*out)), pre[256];
	const char *key;
	json_t *item;
	int ok = out != NULL;

	json_object_foreach(v, key, item) {
		snprintf(pre, sizeof(pre), "%s=", key);
		if (ok)
			ok = (out[i++] = subst_vars(c, pre, json_string_value(item))) != NULL;
	}
	json_array_foreach(v, k, item) {
		if (ok)
			ok = (out[i++] = subst_vars(c, "", json_string_value(item))) != NULL;
	}
	if (!ok) {
		free_strv(out);
		out = NULL;
	}
	return out;
}

/* Reads what is there into b (at most max bytes kept). Returns 0, 1 when
 * bytes were dropped, -1 on error; closes *fd and sets it to -1 at EOF. */
static int
read_into(int *fd, struct buf *b, size_t max)
{
	unsigned char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));
	int rc = 0;

	if (n < 0) {
		rc = errno == EAGAIN || errno == EINTR ? 0 : -1;
	} else if (n == 0) {
		close(*fd);
		*fd = -1;
	} else if (b->len + (size_t)n > max) {
		rc = buf_add(b, chunk, max - b->len) == 0 ? 1 : -1;
	} else {
		rc = buf_add(b, chunk, (size_t)n);
	}
	return rc;
}

/* Runs the child: builds the input only after the fork (the child's peak
 * RSS counts the driver's pages at fork), feeds it (pausing where asked),
 * collects stdout and stderr, closes stdin as the mode says, kills the child
 * past 3 x max_ms and reaps it with its resource usage. */
static int
run_child(struct ctx *c, char **argv, char **envp, json_t *steps, struct input *in,
    enum close_mode mode, long want, long max_ms, struct result *r)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, rc = -1, i;
	size_t wpos = 0, pidx = 0, limit, k;
	long start = now_ms(), t, resume = 0, wait_for;
	struct timespec half_ms = { 0, 500000L };
	struct pollfd pf[3];
	pid_t pid = -1, w;
	ssize_t n;
	json_t *v;

	if (pipe(pin) != 0 || pipe(pout) != 0 || pipe(perr) != 0 || (pid = fork()) < 0) {
		fail(c, "pipe or fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		for (i = 3; i < 256; i++)
			close(i);
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	fcntl(pout[0], F_SETFL, O_NONBLOCK);
	fcntl(perr[0], F_SETFL, O_NONBLOCK);
	json_array_foreach(steps, k, v) {
		if (build_step(c, v, in) != 0)
			goto out;
	}

	while (pout[0] >= 0 || perr[0] >= 0) {
		t = now_ms() - start;
		if (!r->killed && t >= 3 * max_ms) {
			kill(pid, SIGKILL);
			r->killed = 1;
		}
		while (pidx < in->npause && in->pause_at[pidx] == wpos && resume <= now_ms())
			resume = now_ms() + in->pause_ms[pidx++];
		if (pin[1] >= 0 && ((mode == CLOSE_AFTER && t >= max_ms) ||
		    (wpos == in->bytes.len && pidx == in->npause && resume <= now_ms() &&
		    (mode == CLOSE_NOW || (mode == CLOSE_AFTER && split_frames(c, &r->out, NULL) >= want))))) {
			close(pin[1]);
			pin[1] = -1;
		}
		wait_for = 3 * max_ms - t;
		if (mode == CLOSE_AFTER && pin[1] >= 0 && max_ms - t < wait_for)
			wait_for = max_ms - t;
		if (resume > now_ms() && resume - now_ms() < wait_for)
			wait_for = resume - now_ms();
		pf[0].fd = pin[1] >= 0 && wpos < in->bytes.len && resume <= now_ms() ? pin[1] : -1;
		pf[1].fd = pout[0];
		pf[2].fd = perr[0];
		pf[0].events = POLLOUT;
		pf[1].events = pf[2].events = POLLIN;
		if (poll(pf, 3, wait_for < 1 ? 1 : (int)wait_for) < 0 && errno != EINTR) {
			fail(c, "poll: %s", strerror(errno));
			goto out;
		}
		if (pf[0].fd >= 0 && pf[0].revents != 0) {
			limit = pidx < in->npause ? in->pause_at[pidx] : in->bytes.len;
			n = write(pin[1], in->bytes.p + wpos, limit - wpos);
			if (n > 0)
				wpos += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				close(pin[1]); /* EPIPE: the host stopped reading */
				pin[1] = -1;
			}
		}
		if (pout[0] >= 0 && pf[1].revents != 0 && read_into(&pout[0], &r->out, OUT_MAX) != 0) {
			fail(c, "stdout: read error or more than %u bytes", OUT_MAX);
			kill(pid, SIGKILL);
		}
		if (perr[0] >= 0 && pf[2].revents != 0 && read_into(&perr[0], &r->err, ERR_MAX) < 0)
			kill(pid, SIGKILL);
	}
	while ((w = wait4(pid, &r->status, WNOHANG, &r->ru)) == 0) {
		if (!r->killed && now_ms() - start >= 3 * max_ms) {
			kill(pid, SIGKILL);
			r->killed = 1;
		}
		nanosleep(&half_ms, NULL);
	}
	r->ms = now_ms() - start;
	pid = -1;
	rc = w < 0 ? fail(c, "wait4: %s", strerror(errno)) : 0;
out:
	for (i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return rc;
}

/* log_contains / log_lacks against the file named by env TRUSTLENS_LOG. */
static int
check_log(struct ctx *c, json_t *env, json_t *contains, json_t *lacks)
{
	char *path = subst_vars(c, "", json_string_value(json_object_get(env, "TRUSTLENS_LOG")));
	int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1, rc = -1;
	struct buf b = { 0 };
	json_t *v, *lists[2] = { contains, lacks };
	size_t i, l;

	if (fd < 0) {
		fail(c, "log %s: %s", path ? path : "?", strerror(errno));
		goto out;
	}
	while (fd >= 0 && read_into(&fd, &b, 1u << 20) == 0)
		;
	rc = buf_add(&b, "", 1);
	for (l = 0; l < 2; l++) {
		json_array_foreach(lists[l], i, v) {
			if (rc == 0 && (strstr((const char *)b.p, json_string_value(v)) == NULL) == (l == 0))
				rc = fail(c, "log %s \"%s\"", l == 0 ? "lacks" : "contains",
				    json_string_value(v));
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(path);
	free(b.p);
	return rc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static json_t *
load_json(struct ctx *c, const char *name, const char *suffix)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *v;

	snprintf(path, sizeof(path), "%s/%s%s", c->cases, name, suffix);
	v = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL)
		fail(c, "%s:%d: %s", path, jerr.line, jerr.text);
	return v;
}

/* Compares the run with the expectations after the replies. */
static int
check_run(struct ctx *c, const struct result *r, int code, long max_ms, long max_rss,
    json_t *stderr_empty)
{
	int got = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -WTERMSIG(r->status);
	int n = (int)(r->err.len < 300 ? r->err.len : 300), rc = -1;
	const char *err = r->err.p != NULL ? (const char *)r->err.p : "";

	if (got != code)
		fail(c, "exit %d (negative: signal), expected %d; stderr: %.*s", got, code, n, err);
	else if (r->ms > max_ms)
		fail(c, "took %ld ms, bound %ld ms", r->ms, max_ms);
	else if (!c->sanitized && r->ru.ru_maxrss > max_rss)
		fail(c, "peak RSS %ld KiB, bound %ld KiB", (long)r->ru.ru_maxrss, max_rss);
	else if (json_is_true(stderr_empty) && r->err.len > 0)
		fail(c, "stderr is not empty: %.*s", n, err);
	else if (json_is_false(stderr_empty) && r->err.len == 0)
		fail(c, "stderr is empty");
	else
		rc = 0;
	return rc;
}

/* Runs one case; returns 0 when it passed. */
static int
run_case(struct ctx *c, const char *name, long *ms, long *rss)
{
	char tmpl[] = "/tmp/tl-protocol-XXXXXX", xdg[PATH_MAX];
	json_t *in = NULL, *out = NULL, *exp = NULL, *act = json_array(), *argj = NULL, *envj = NULL;
	json_t *args = NULL, *env = NULL, *steps = NULL, *replies = NULL, *serr = NULL, *lc = NULL,
	    *ll = NULL;
	const char *pass[] = { "PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", NULL };
	const char *close_s = "after_replies";
	json_int_t max_ms = 2000, max_rss = 65536;
	int ordered = 0, code = 0, rc = -1;
	struct input input = { 0 };
	struct result r = { 0 };
	char **argv = NULL, **envp = NULL;
	json_error_t jerr;
	size_t i;

	c->why[0] = '\0';
	if ((c->tmp = mkdtemp(tmpl)) == NULL) {
		fail(c, "mkdtemp: %s", strerror(errno));
		goto done;
	}
	snprintf(xdg, sizeof(xdg), "%s/xdg", c->tmp);
	if ((in = load_json(c, name, ".in.json")) == NULL || (out = load_json(c, name, ".out.json")) == NULL)
		goto done;
	if (json_unpack_ex(in, &jerr, 0, "{s?o, s?o, s?o, s?s !}", "args", &args, "env", &env,
	    "input", &steps, "close", &close_s) != 0 ||
	    json_unpack_ex(out, &jerr, 0, "{s?o, s?b, s?i, s?I, s?I, s?o, s?o, s?o !}",
	    "replies", &replies, "ordered", &ordered, "exit", &code, "max_ms", &max_ms,
	    "max_rss_kib", &max_rss, "stderr_empty", &serr, "log_contains", &lc,
	    "log_lacks", &ll) != 0) {
		fail(c, "case file: %s", jerr.text);
		goto done;
	}
	if (strcmp(close_s, "after_replies") != 0 && strcmp(close_s, "immediately") != 0 &&
	    strcmp(close_s, "never") != 0) {
		fail(c, "case file: unknown close mode \"%s\"", close_s);
		goto done;
	}
	exp = expand_expected(replies);
	max_ms *= c->sanitized ? 5 : 1;
	/* Minimal environment: no user's configuration is read. */
	envj = json_pack("{s:s, s:s}", "HOME", c->tmp, "XDG_CONFIG_HOME", xdg);
	for (i = 0; pass[i] != NULL; i++) {
		if (getenv(pass[i]) != NULL)
			json_object_set_new(envj, pass[i], json_string(getenv(pass[i])));
	}
	if (env != NULL)
		json_object_update(envj, env);
	argj = json_pack("[s]", c->host);
	if (args != NULL)
		json_array_extend(argj, args);
	else
		json_array_append_new(argj, json_string(DEFAULT_ORIGIN));
	argv = make_strv(c, argj);
	envp = make_strv(c, envj);
	if (argv == NULL || envp == NULL || mkdir(xdg, 0700) != 0) {
		fail(c, "cannot set up the child");
		goto done;
	}
	if (run_child(c, argv, envp, steps, &input, strcmp(close_s, "immediately") == 0 ? CLOSE_NOW :
	    strcmp(close_s, "never") == 0 ? CLOSE_NEVER : CLOSE_AFTER,
	    (long)json_array_size(exp), (long)max_ms, &r) != 0)
		goto done;
	*ms = r.ms;
	*rss = r.ru.ru_maxrss;
	if (r.killed) {
		fail(c, "killed after %ld ms (bound %ld ms)", r.ms, (long)max_ms);
		goto done;
	}
	if (split_frames(c, &r.out, act) < 0 || match_replies(c, exp, act, ordered) != 0 ||
	    check_run(c, &r, code, (long)max_ms, (long)max_rss, serr) != 0)
		goto done;
	rc = lc != NULL || ll != NULL ? check_log(c, env, lc, ll) : 0;
done:
	if (c->tmp != NULL)
		nftw(c->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free_strv(argv);
	free_strv(envp);
	free(input.bytes.p);
	free(r.out.p);
	free(r.err.p);
	json_decref(in);
	json_decref(out);
	json_decref(exp);
	json_decref(act);
	json_decref(argj);
	json_decref(envj);
	c->tmp = NULL;
	return rc == 0 && c->why[0] == '\0' ? 0 : -1;
}

static int
is_case(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 8 && strcmp(d->d_name + n - 8, ".in.json") == 0;
}

/* The reason NAME is listed for in TRUSTLENS_TEST_SKIP_FILE (lines "NAME
 * reason", '#' comments), or NULL. Only `make check-valgrind` sets it: some
 * cases measure wall-clock bounds that no host meets under valgrind. */
static const char *
skip_reason(const char *name, char *line, size_t len)
{
	const char *file = getenv("TRUSTLENS_TEST_SKIP_FILE");
	const char *why = NULL;
	size_t n = strlen(name);
	FILE *f;

	if (file == NULL || (f = fopen(file, "r")) == NULL)
		return NULL;
	while (why == NULL && fgets(line, (int)len, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '#' && strncmp(line, name, n) == 0 && line[n] == ' ')
			why = line + n + 1;
	}
	fclose(f);
	return why;
}

int
main(int argc, char **argv)
{
	struct ctx c = { 0 };
	char skipline[512];
	const char *skip;
	struct dirent **list = NULL;
	char cases[PATH_MAX], name[NAME_MAX + 1];
	const char *san = getenv("TRUSTLENS_TEST_SANITIZED");
	unsigned passed = 0, failed = 0;
	long ms, rss;
	int n = -1, i, rc = 2;

	if (argc != 3 || realpath(argv[2], cases) == NULL) {
		fprintf(stderr, "usage: protocol-driver HOST CASES_DIR\n");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	/* A fixed threshold: big buffers are mmap'd and go back to the system
	 * when freed, so one large case does not inflate the RSS that later
	 * children inherit at fork (glibc otherwise raises it dynamically). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	c.host = argv[1];
	c.cases = cases;
	c.sanitized = strstr(c.host, "/asan/") != NULL || (san != NULL && strcmp(san, "1") == 0);
	n = scandir(cases, &list, is_case, alphasort);
	if (n < 0) {
		fprintf(stderr, "protocol-driver: %s: %s\n", cases, strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(list[i]->d_name) - 8),
		    list[i]->d_name);
		ms = rss = 0;
		skip = skip_reason(name, skipline, sizeof(skipline));
		if (skip != NULL) {
			printf("skip %s: %s\n", name, skip);
		} else if (run_case(&c, name, &ms, &rss) == 0) {
			printf("ok %s (%ld ms, %ld KiB)\n", name, ms, rss);
			passed++;
		} else {
			printf("FAIL %s: %s\n", name, c.why[0] ? c.why : "unknown failure");
			failed++;
		}
		fflush(stdout);
	}
	printf("%u passed, %u failed\n", passed, failed);
	rc = failed == 0 && passed > 0 ? 0 : 1;
out:
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return rc;
}
