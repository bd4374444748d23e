/*
 * token_pin: asking for a card's PIN, for `sign-mail` only.
 *
 * Where a PIN may come from, in this order:
 *   - the reader's pin pad (CKF_PROTECTED_AUTHENTICATION_PATH): the PIN
 *     never enters the computer; pkcs11-helper then logs in without one and
 *     this hook is not called (token_sign.c tells the user to type it on
 *     the reader);
 *   - TRUSTLENS_PIN_FD=N: one line read from inherited descriptor N, for
 *     scripts and tests (the variable holds a descriptor number, never the
 *     PIN; PINs are never taken from argv or from an environment value);
 *   - the terminal (/dev/tty, echo off), when there is one;
 *   - a pinentry program (Assuan protocol, GnuPG's dialogs), when there is
 *     no terminal: $PINENTRY_PROGRAM, else pinentry in the usual places.
 * Never through the browser: the hook refuses when no prompt context was
 * given (every session but sign-mail's) and the browser protocol has no
 * request that signs.
 *
 * One attempt per run (pkcs11-helper's retry limit is 1, and the hook
 * answers once): a Belgian card locks after three wrong PINs, so a wrong
 * one is reported, never retried behind the user's back, and a card that
 * fails a signature does not bring a second prompt. Every buffer that held the PIN is wiped with
 * OPENSSL_cleanse before it is released; pkcs11-helper wipes its own.
 * A PIN is at most TOKEN_PIN_MAX bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "token_internal.h"

#define TOKEN_PIN_MAX 64
#define PINENTRY_LINE_MAX 2048
#define PINENTRY_GREETING_MS 10000
#define PINENTRY_ANSWER_MS 300000     /* the user types, or walks away */

extern char **environ;

enum pin_read {
	PIN_READ_OK = 0,
	PIN_READ_CANCELLED,
	PIN_READ_UNAVAILABLE
};

static void
prompt_text(const struct token_pin_ctx *c, char *out, size_t len)
{
	snprintf(out, len, "PIN of the card \"%s\" (it goes to the card only)%s: ",
	    c->token_label != NULL ? c->token_label : "",
	    c->final_try ? " - LAST TRY before the card locks" :
	    c->count_low ? " - a wrong PIN was entered before" : "");
}

/* One line from fd into pin (without the line end); 1 when the line was
 * longer than pin can hold. *interrupted set when read() was interrupted
 * by a signal (Ctrl-C at the terminal). */
static ssize_t
read_line(int fd, char *pin, size_t max, int *too_long, volatile sig_atomic_t *interrupted)
{
	size_t n = 0;
	ssize_t r;
	char ch;

	*too_long = 0;
	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR) {
			if (interrupted != NULL && *interrupted)
				return -1;
			continue;
		}
		if (r <= 0)
			break;
		if (ch == '\n')
			break;
		if (ch == '\r')
			continue;
		if (n + 1 < max)
			pin[n++] = ch;
		else
			*too_long = 1;
	}
	pin[n] = '\0';
	ch = 0;
	return (ssize_t)n;
}

static enum pin_read
pin_from_fd(struct token_pin_ctx *c, const char *val, char *pin, size_t max)
{
	char *end;
	long fd;
	int too_long;
	ssize_t n;

	errno = 0;
	fd = strtol(val, &end, 10);
	if (errno != 0 || end == val || *end != '\0' || fd < 0 || fd > 65535 || fd == 1 ||
	    fd == 2 || fcntl((int)fd, F_GETFD) < 0) {
		snprintf(c->why, sizeof(c->why), "TRUSTLENS_PIN_FD does not name an open "
		    "descriptor");
		return PIN_READ_UNAVAILABLE;
	}
	n = read_line((int)fd, pin, max, &too_long, NULL);
	close((int)fd);
	if (n <= 0 || too_long)
		return PIN_READ_CANCELLED;
	return PIN_READ_OK;
}

static volatile sig_atomic_t tty_interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	tty_interrupted = 1;
}

static enum pin_read
pin_from_tty(struct token_pin_ctx *c, int tty, char *pin, size_t max)
{
	struct termios old, quiet;
	struct sigaction sa, old_int, old_term, old_quit;
	char prompt[256];
	int have_termios, too_long;
	ssize_t n, w;
	enum pin_read rc = PIN_READ_CANCELLED;

	prompt_text(c, prompt, sizeof(prompt));
	have_termios = tcgetattr(tty, &old) == 0;
	tty_interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;   /* no SA_RESTART: Ctrl-C ends the read */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGQUIT, &sa, &old_quit);
	if (have_termios) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	w = write(tty, prompt, strlen(prompt));
	(void)w;
	n = read_line(tty, pin, max, &too_long, &tty_interrupted);
	if (have_termios)
		tcsetattr(tty, TCSAFLUSH, &old);
	w = write(tty, "\n", 1);
	(void)w;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (n > 0 && !too_long && !tty_interrupted)
		rc = PIN_READ_OK;
	return rc;
}

/* --- pinentry (Assuan) */

struct assuan {
	int in, out;                  /* we write to in, read from out */
	char buf[PINENTRY_LINE_MAX];
	size_t len;
};

/* One line (without "\n") into line; 0, or -1 on EOF, error or timeout. */
static int
assuan_line(struct assuan *a, char *line, size_t max, int ms)
{
	struct pollfd p;
	char *nl;
	size_t k;
	ssize_t r;

	for (;;) {
		nl = memchr(a->buf, '\n', a->len);
		if (nl != NULL) {
			k = (size_t)(nl - a->buf);
			if (k >= max)
				return -1;
			memcpy(line, a->buf, k);
			line[k] = '\0';
			memmove(a->buf, nl + 1, a->len - k - 1);
			a->len -= k + 1;
			OPENSSL_cleanse(a->buf + a->len, k + 1);
			return 0;
		}
		if (a->len == sizeof(a->buf))
			return -1;
		p.fd = a->out;
		p.events = POLLIN;
		r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		r = read(a->out, a->buf + a->len, sizeof(a->buf) - a->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		a->len += (size_t)r;
	}
}

static int
assuan_send(struct assuan *a, const char *cmd)
{
	size_t len = strlen(cmd), off = 0;
	ssize_t r;

	while (off < len) {
		r = write(a->in, cmd + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* Sends cmd and waits for OK (1), ERR (-1 with *cancelled for GPG's
 * "cancelled"), collecting a D line into data when given. */
static int
assuan_cmd(struct assuan *a, const char *cmd, char *data, size_t dmax, int ms,
    int *cancelled)
{
	char line[PINENTRY_LINE_MAX];
	unsigned long code;
	size_t o = 0, i;
	int rc = -1;

	if (cmd != NULL && assuan_send(a, cmd) != 0)
		return -1;
	for (;;) {
		if (assuan_line(a, line, sizeof(line), ms) != 0)
			break;
		if (strncmp(line, "OK", 2) == 0 && (line[2] == '\0' || line[2] == ' ')) {
			rc = 1;
			break;
		}
		if (strncmp(line, "ERR ", 4) == 0) {
			code = strtoul(line + 4, NULL, 10);
			/* GPG_ERR_CANCELED (99) from any error source. */
			if ((code & 0xffffu) == 99u && cancelled != NULL)
				*cancelled = 1;
			break;
		}
		if (strncmp(line, "D ", 2) == 0 && data != NULL) {
			for (i = 2; line[i] != '\0' && o + 1 < dmax; i++) {
				if (line[i] == '%' && line[i + 1] != '\0' && line[i + 2] != '\0') {
					char hex[3] = { line[i + 1], line[i + 2], '\0' };
					data[o++] = (char)strtoul(hex, NULL, 16);
					i += 2;
				} else {
					data[o++] = line[i];
				}
			}
			data[o] = '\0';
		}
		/* S (status) and # (comment) lines: ignored. */
	}
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

static const char *
pinentry_program(void)
{
	static const char *const places[] = {
		"/usr/bin/pinentry", "/usr/local/bin/pinentry", "/opt/homebrew/bin/pinentry-mac",
		"/usr/local/bin/pinentry-mac", NULL,
	};
	const char *env = getenv("PINENTRY_PROGRAM");
	size_t i;

	if (env != NULL && env[0] == '/' && access(env, X_OK) == 0)
		return env;
	for (i = 0; places[i] != NULL; i++) {
		if (access(places[i], X_OK) == 0)
			return places[i];
	}
	return NULL;
}

/* Percent-escapes what Assuan does not carry raw. */
static void
assuan_escape(const char *in, char *out, size_t max)
{
	size_t o = 0;

	for (; *in != '\0' && o + 4 < max; in++) {
		unsigned char ch = (unsigned char)*in;
		if (ch == '%' || ch < 0x20 || ch == 0x7f) {
			snprintf(out + o, 4, "%%%02X", ch);
			o += 3;
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

static enum pin_read
pin_from_pinentry(struct token_pin_ctx *c, char *pin, size_t max)
{
	const char *prog = pinentry_program();
	posix_spawn_file_actions_t fa;
	struct assuan a;
	char *argv[2];
	char desc[512], esc[1200], cmd[1300];
	int to_child[2] = { -1, -1 }, from_child[2] = { -1, -1 };
	int cancelled = 0, status, i, got;
	enum pin_read rc = PIN_READ_UNAVAILABLE;
	pid_t pid = -1;

	if (prog == NULL) {
		snprintf(c->why, sizeof(c->why), "there is no terminal to ask for the PIN and "
		    "no pinentry program");
		return PIN_READ_UNAVAILABLE;
	}
	if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0)
		goto out;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
	argv[0] = (char *)(uintptr_t)prog;
	argv[1] = NULL;
	/* posix_spawn: no atfork handler runs (pkcs11-helper's, a module's). */
	if (posix_spawn(&pid, prog, &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(to_child[0]);
	close(from_child[1]);
	to_child[0] = from_child[1] = -1;
	if (pid < 0)
		goto out;
	memset(&a, 0, sizeof(a));
	a.in = to_child[1];
	a.out = from_child[0];
	if (assuan_cmd(&a, NULL, NULL, 0, PINENTRY_GREETING_MS, NULL) != 1)
		goto out;
	snprintf(desc, sizeof(desc), "TrustLens: sign a mail with the card \"%s\".\n"
	    "The PIN goes to the card only.%s", c->token_label != NULL ? c->token_label : "",
	    c->final_try ? "\nLAST TRY before the card locks." : "");
	assuan_escape(desc, esc, sizeof(esc));
	snprintf(cmd, sizeof(cmd), "SETDESC %s\n", esc);
	if (assuan_cmd(&a, "SETTITLE TrustLens\n", NULL, 0, PINENTRY_GREETING_MS, NULL) != 1 ||
	    assuan_cmd(&a, cmd, NULL, 0, PINENTRY_GREETING_MS, NULL) != 1 ||
	    assuan_cmd(&a, "SETPROMPT PIN:\n", NULL, 0, PINENTRY_GREETING_MS, NULL) != 1)
		goto out;
	pin[0] = '\0';
	got = assuan_cmd(&a, "GETPIN\n", pin, max, PINENTRY_ANSWER_MS, &cancelled);
	if (got == 1 && pin[0] != '\0')
		rc = PIN_READ_OK;
	else if (cancelled || got == 1)
		rc = PIN_READ_CANCELLED;   /* cancelled, or an empty PIN */
	else
		snprintf(c->why, sizeof(c->why), "the pinentry program %s could not show a "
		    "dialog (no terminal or display?)", prog);
	(void)assuan_send(&a, "BYE\n");
	OPENSSL_cleanse(&a, sizeof(a));
out:
	if (rc == PIN_READ_UNAVAILABLE && c->why[0] == '\0')
		snprintf(c->why, sizeof(c->why), "the pinentry program %s failed", prog);
	for (i = 0; i < 2; i++) {
		if (to_child[i] >= 0)
			close(to_child[i]);
		if (from_child[i] >= 0)
			close(from_child[i]);
	}
	if (pid > 0) {
		for (i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (i == 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	return rc;
}

PKCS11H_BOOL
token_pin_hook(void *global_data, void *user_data, const pkcs11h_token_id_t token,
    const unsigned retry, char *pin, const size_t pin_max)
{
	struct token_pin_ctx *c = global_data;
	char buf[TOKEN_PIN_MAX + 1];
	const char *fdvar = getenv("TRUSTLENS_PIN_FD");
	enum pin_read r;
	size_t len;
	int tty;

	(void)user_data;
	(void)token;
	buf[0] = '\0';
	if (c == NULL)
		return 0;     /* listing, or a browser session: never a PIN */
	/* Never a second attempt on the user's behalf: not after a wrong PIN
	 * (retry), and not when pkcs11-helper logs in afresh after the card
	 * failed a signature (retry is 0 again then; the card's own error is
	 * what the user must see, not a second PIN prompt). */
	if (retry > 0 || c->asked)
		return 0;
	c->asked = 1;
	if (fdvar != NULL && fdvar[0] != '\0') {
		r = pin_from_fd(c, fdvar, buf, sizeof(buf));
	} else {
		tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (tty >= 0) {
			r = pin_from_tty(c, tty, buf, sizeof(buf));
			close(tty);
		} else {
			r = pin_from_pinentry(c, buf, sizeof(buf));
		}
	}
	len = strlen(buf);
	if (r == PIN_READ_OK && len + 1 <= pin_max) {
		memcpy(pin, buf, len + 1);
	} else if (r == PIN_READ_OK) {
		r = PIN_READ_CANCELLED;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (r == PIN_READ_CANCELLED)
		c->cancelled = 1;
	else if (r == PIN_READ_UNAVAILABLE)
		c->unavailable = 1;
	return r == PIN_READ_OK;
}
