/*
 * token_module: where PKCS#11 modules are looked for, one pkcs11-helper
 * session at a time, and the scan of tokens and certificates.
 *
 * Modules: TRUSTLENS_PKCS11_MODULES (or "pkcs11_modules" in the config
 * file) first, then the usual places of the Belgian eID middleware
 * (libbeidpkcs11) and of OpenSC (opensc-pkcs11) for this OS; the same file
 * reached twice (a symbolic link) is used once. Nothing is loaded until a
 * token function runs: host start-up never touches a module.
 *
 * pkcs11-helper keeps process-global state and vendor modules are not all
 * safe to enter from several threads, so one lock (token_lock) covers a
 * whole session: pkcs11h_initialize, the modules added, the work, and
 * pkcs11h_terminate, which finalises and unloads every module again. The
 * worker pool thus meets the card one request at a time, a card inserted
 * or removed between two requests is seen afresh, and nothing of a module
 * stays in the process between requests. Fork: pkcs11-helper's fork mode
 * is off (its atfork child handler would re-initialise modules in a child);
 * the only child the host starts is a pinentry program, through
 * posix_spawn, which runs no atfork handler, and that child execs at once.
 *
 * A module may print on stdout when it is loaded: in a browser session
 * fd 1 is already stderr (main.c); the command line points fd 1 at stderr
 * around a session itself (token.c).
 *
 * The scan reads, without logging in, CK_TOKEN_INFO and the certificate
 * objects (CKA_LABEL, CKA_ID, CKA_VALUE) of every initialised token; no
 * data object is read (a Belgian card keeps its identity file, national
 * register number included, in data objects). Limits: TOKEN_MAX_* in
 * token_internal.h.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pkcs11-helper-1.0/pkcs11h-core.h>

#include "config.h"
#include "log.h"
#include "token_internal.h"

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

#if defined(__x86_64__)
#define TRIPLET "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define TRIPLET "aarch64-linux-gnu"
#elif defined(__i386__)
#define TRIPLET "i386-linux-gnu"
#elif defined(__arm__)
#define TRIPLET "arm-linux-gnueabihf"
#endif

/* The built-in list, most specific first: the Belgian eID middleware, then
 * OpenSC (which also reads Belgian cards). See docs/tokens.md. */
static const char *const builtin_modules[] = {
#if defined(__APPLE__)
	"/usr/local/lib/libbeidpkcs11.dylib",
	"/Library/Belgium Identity Card/Pkcs11/libbeidpkcs11.bundle/Contents/MacOS/libbeidpkcs11.dylib",
	"/Library/OpenSC/lib/opensc-pkcs11.so",
	"/usr/local/lib/opensc-pkcs11.so",
	"/opt/homebrew/lib/opensc-pkcs11.so",
#elif defined(_WIN32)
	"C:\\Windows\\System32\\beidpkcs11.dll",
	"C:\\Program Files\\OpenSC Project\\OpenSC\\pkcs11\\opensc-pkcs11.dll",
#else
#ifdef TRIPLET
	"/usr/lib/" TRIPLET "/libbeidpkcs11.so.0",
	"/usr/lib/" TRIPLET "/libbeidpkcs11.so",
#endif
	"/usr/lib64/libbeidpkcs11.so.0",
	"/usr/lib/libbeidpkcs11.so.0",
	"/usr/lib/libbeidpkcs11.so",
	"/usr/local/lib/libbeidpkcs11.so.0",
	"/usr/local/lib/libbeidpkcs11.so",
#ifdef TRIPLET
	"/usr/lib/" TRIPLET "/opensc-pkcs11.so",
	"/usr/lib/" TRIPLET "/pkcs11/opensc-pkcs11.so",
#endif
	"/usr/lib64/opensc-pkcs11.so",
	"/usr/lib64/pkcs11/opensc-pkcs11.so",
#endif
	NULL
};

int
token_label_is_belpic(const char *label)
{
	return strncmp(label, "BELPIC", 6) == 0;
}

void
token_hex(const unsigned char *id, size_t len, char *out, size_t outlen)
{
	size_t i;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < len && 2 * i + 2 < outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void
token_printable(char *dst, size_t dstlen, const unsigned char *src, size_t srclen)
{
	size_t i = 0, o = 0, k, end = srclen;

	if (dstlen == 0)
		return;
	/* A PKCS#11 fixed string is blank padded; a C string ends at NUL. */
	for (k = 0; k < srclen; k++) {
		if (src[k] == '\0') {
			end = k;
			break;
		}
	}
	while (end > 0 && src[end - 1] == ' ')
		end--;
	while (i < end) {
		k = utf8_len(src + i, end - i);
		if (k == 0 || (k == 1 && (src[i] < 0x20 || src[i] == 0x7f))) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + k >= dstlen)
			break;
		memcpy(dst + o, src + i, k);
		o += k;
		i += k;
	}
	dst[o] = '\0';
}

static void
add_candidate(struct token_session *s, const char *path, const char *source)
{
	struct token_module *m;
	char real[PATH_MAX], other[PATH_MAX];
	struct stat st;
	size_t i;

	if (s->n_modules >= TOKEN_MAX_MODULES || path == NULL || path[0] == '\0' ||
	    strlen(path) >= TOKEN_PATH_MAX)
		return;
	if (realpath(path, real) != NULL) {
		for (i = 0; i < s->n_modules; i++) {
			if (s->modules[i].found &&
			    realpath(s->modules[i].path, other) != NULL &&
			    strcmp(real, other) == 0)
				return;
		}
	}
	for (i = 0; i < s->n_modules; i++) {
		if (strcmp(s->modules[i].path, path) == 0)
			return;
	}
	m = &s->modules[s->n_modules++];
	memset(m, 0, sizeof(*m));
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->source = source;
	snprintf(m->ref, sizeof(m->ref), "m%zu", s->n_modules - 1);
	if (stat(path, &st) != 0) {
		snprintf(m->error, sizeof(m->error), "not found");
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(m->error, sizeof(m->error), "not a file");
	} else {
		m->found = 1;
	}
}

/* What the module answered to the last failed private-key operation
 * (C_SignInit, C_Sign). pkcs11-helper keeps that answer to itself: it
 * resets the session, logs in again and retries, and its caller (OpenSSL)
 * only learns that the key failed. It does tell its log hook, at
 * PKCS11H_LOG_DEBUG1, before the retry; while token_key_watch is on the
 * hook keeps that first answer. Under token_lock. */
#define KEY_FAILED "PKCS#11: Private key operation failed rv="
static int key_watch;
static CK_RV key_error = CKR_OK;

/* pkcs11-helper's warnings go to the log (off unless asked for), never to
 * stdout or stderr. They name functions and return codes, never a PIN. */
static void
log_hook(void *global_data, unsigned flags, const char *format, va_list args)
{
	const size_t klen = strlen(KEY_FAILED);
	char line[512], *end;
	unsigned long v;

	(void)global_data;
	if (!key_watch && (!log_enabled() || flags > PKCS11H_LOG_WARN))
		return;
	vsnprintf(line, sizeof(line), format, args);
	if (key_watch && key_error == CKR_OK && strncmp(line, KEY_FAILED, klen) == 0) {
		errno = 0;
		v = strtoul(line + klen, &end, 10);
		if (errno == 0 && end != line + klen && v != CKR_OK)
			key_error = (CK_RV)v;
	}
	if (log_enabled() && flags <= PKCS11H_LOG_WARN)
		log_msg("pkcs11-helper: %s", line);
}

void
token_key_watch(int on)
{
	if (on)
		key_error = CKR_OK;
	key_watch = on;
	pkcs11h_setLogLevel(on ? PKCS11H_LOG_DEBUG1 : log_enabled() ? PKCS11H_LOG_WARN :
	    PKCS11H_LOG_QUIET);
}

CK_RV
token_key_error(void)
{
	return key_error;
}

/* No waiting for a card to be inserted: "no token" is an answer. */
static PKCS11H_BOOL
token_prompt_hook(void *global_data, void *user_data, const pkcs11h_token_id_t token,
    const unsigned retry)
{
	(void)global_data;
	(void)user_data;
	(void)token;
	(void)retry;
	return 0;
}

static void
load_module(struct token_module *m)
{
	CK_C_GetFunctionList get = NULL;
	CK_FUNCTION_LIST_PTR f = NULL;
	void *sym;
	const char *why;
	CK_RV rv;

	/* Our own reference first: dlerror says why a file does not load,
	 * and C_GetFunctionList gives the functions the scan calls. This is
	 * the same loaded object pkcs11-helper then initialises. */
	dlerror();
	m->dl = dlopen(m->path, RTLD_NOW | RTLD_LOCAL);
	if (m->dl == NULL) {
		why = dlerror();
		snprintf(m->error, sizeof(m->error), "cannot be loaded: %.160s",
		    why != NULL ? why : "unknown reason");
		return;
	}
	sym = dlsym(m->dl, "C_GetFunctionList");
	_Static_assert(sizeof(get) == sizeof(sym), "function and object pointers differ");
	memcpy(&get, &sym, sizeof(get));
	if (get == NULL || get(&f) != CKR_OK || f == NULL) {
		snprintf(m->error, sizeof(m->error), "is not a PKCS#11 module "
		    "(no C_GetFunctionList)");
		goto fail;
	}
	rv = pkcs11h_addProvider(m->ref, m->path, 1, PKCS11H_PRIVATEMODE_MASK_AUTO,
	    PKCS11H_SLOTEVENT_METHOD_AUTO, 0, 0);
	/* SoftHSM (and others built on OpenSSL) leave errors behind. */
	ERR_clear_error();
	if (rv != CKR_OK) {
		snprintf(m->error, sizeof(m->error), "could not be initialised: %s",
		    pkcs11h_getMessage(rv));
		goto fail;
	}
	m->f = f;
	m->loaded = 1;
	m->error[0] = '\0';
	return;
fail:
	dlclose(m->dl);
	m->dl = NULL;
}

int
token_session_open(struct token_session *s, void *pin_ctx, char *err, size_t errlen)
{
	CK_RV rv;
	size_t i;

	pthread_mutex_lock(&token_lock);
	s->n_tokens = 0;
	rv = pkcs11h_initialize();
	if (rv != CKR_OK) {
		snprintf(err, errlen, "The PKCS#11 layer could not start (%s).",
		    pkcs11h_getMessage(rv));
		pthread_mutex_unlock(&token_lock);
		return -1;
	}
	s->open = 1;
	pkcs11h_setLogHook(log_hook, NULL);
	pkcs11h_setLogLevel(log_enabled() ? PKCS11H_LOG_WARN : PKCS11H_LOG_QUIET);
	pkcs11h_setForkMode(0);
	pkcs11h_setTokenPromptHook(token_prompt_hook, NULL);
	pkcs11h_setPINPromptHook(token_pin_hook, pin_ctx);
	pkcs11h_setProtectedAuthentication(1);
	/* One PIN attempt per command: a Belgian card locks after three,
	 * so a wrong PIN is reported, never retried behind the user's back. */
	pkcs11h_setMaxLoginRetries(1);
	for (i = 0; i < s->n_modules; i++) {
		if (s->modules[i].found)
			load_module(&s->modules[i]);
		log_msg("pkcs11: module %zu (%s) %s", i, s->modules[i].source,
		    s->modules[i].loaded ? "loaded" : s->modules[i].error);
	}
	return 0;
}

/* One attribute of an object: its length, then its value (at most max
 * bytes). Returns the length, or -1; *rv is the module's answer when it
 * failed (CKR_OK otherwise). */
static long
get_attr(CK_FUNCTION_LIST_PTR f, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, unsigned char *buf, size_t max, CK_RV *rv)
{
	CK_ATTRIBUTE a;

	a.type = type;
	a.pValue = NULL;
	a.ulValueLen = 0;
	*rv = f->C_GetAttributeValue(h, o, &a, 1);
	if (*rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen > max)
		return -1;
	if (a.ulValueLen == 0)
		return 0;
	a.pValue = buf;
	*rv = f->C_GetAttributeValue(h, o, &a, 1);
	if (*rv != CKR_OK || a.ulValueLen > max)
		return -1;
	return (long)a.ulValueLen;
}

static void
read_certs(CK_FUNCTION_LIST_PTR f, CK_SLOT_ID slot, struct token_entry *t)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ctype = CKC_X_509;
	CK_ATTRIBUTE tmpl[2];
	CK_OBJECT_HANDLE objs[TOKEN_MAX_CERTS + 1];
	CK_SESSION_HANDLE h;
	CK_ULONG n = 0, i;
	unsigned char *der = NULL, label[TOKEN_LABEL_MAX];
	const unsigned char *p;
	struct token_cert *c;
	long len;
	X509 *x;
	CK_RV rv;

	/* A failure here is the card's (removed, reader trouble), not "no
	 * certificate": it is kept on the token. */
	rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h);
	if (rv != CKR_OK) {
		t->read_error = rv;
		return;
	}
	tmpl[0].type = CKA_CLASS;
	tmpl[0].pValue = &cls;
	tmpl[0].ulValueLen = sizeof(cls);
	tmpl[1].type = CKA_CERTIFICATE_TYPE;
	tmpl[1].pValue = &ctype;
	tmpl[1].ulValueLen = sizeof(ctype);
	rv = f->C_FindObjectsInit(h, tmpl, 2);
	if (rv != CKR_OK) {
		t->read_error = rv;
		goto out;
	}
	rv = f->C_FindObjects(h, objs, TOKEN_MAX_CERTS + 1, &n);
	if (rv != CKR_OK) {
		t->read_error = rv;
		n = 0;
	}
	f->C_FindObjectsFinal(h);
	if (n > TOKEN_MAX_CERTS) {
		n = TOKEN_MAX_CERTS;
		t->certs_truncated = 1;
	}
	der = malloc(TOKEN_CERT_MAX_BYTES);
	if (der == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		len = get_attr(f, h, objs[i], CKA_VALUE, der, TOKEN_CERT_MAX_BYTES, &rv);
		/* An attribute the object does not have is the object's
		 * business; any other failure is the card's. */
		if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
		    rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_BUFFER_TOO_SMALL)
			t->read_error = rv;
		if (len <= 0)
			continue;
		p = der;
		x = d2i_X509(NULL, &p, len);
		if (x == NULL || p != der + len) {
			X509_free(x);
			ERR_clear_error();
			continue;
		}
		c = &t->certs[t->n_certs++];
		memset(c, 0, sizeof(*c));
		c->x509 = x;
		len = get_attr(f, h, objs[i], CKA_LABEL, label, sizeof(label) - 1, &rv);
		token_printable(c->label, sizeof(c->label), label, len > 0 ? (size_t)len : 0);
		len = get_attr(f, h, objs[i], CKA_ID, c->id, sizeof(c->id), &rv);
		c->id_len = len > 0 ? (size_t)len : 0;
	}
out:
	free(der);
	f->C_CloseSession(h);
	ERR_clear_error();
}

static void
scan_module(struct token_session *s, size_t mi, const atomic_int *cancel)
{
	CK_FUNCTION_LIST_PTR f = s->modules[mi].f;
	CK_SLOT_ID slots[TOKEN_MAX_SLOTS];
	CK_ULONG n = 0, i;
	CK_TOKEN_INFO info;
	struct token_entry *t;
	CK_RV rv;

	/* A module that cannot even list its slots is broken (its service,
	 * its reader): say so on the module, not "no card". */
	rv = f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK) {
		snprintf(s->modules[mi].error, sizeof(s->modules[mi].error),
		    "failed when asked for its cards (%s)", pkcs11h_getMessage(rv));
		return;
	}
	if (n > TOKEN_MAX_SLOTS)
		n = TOKEN_MAX_SLOTS;
	/* CKR_BUFFER_TOO_SMALL when a token appeared in between: read what
	 * fits, the rest is seen next time. */
	if (n == 0 || f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return;
	for (i = 0; i < n && s->n_tokens < TOKEN_MAX_TOKENS; i++) {
		if (cancel != NULL && atomic_load(cancel) != 0)
			return;
		memset(&info, 0, sizeof(info));
		if (f->C_GetTokenInfo(slots[i], &info) != CKR_OK)
			continue;
		/* SoftHSM always shows one blank token to initialise; a card
		 * reader with an uninitialised card is nothing to report. */
		if ((info.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		t = &s->tokens[s->n_tokens++];
		memset(t, 0, sizeof(*t));
		t->module = mi;
		t->slot = slots[i];
		t->flags = info.flags;
		token_printable(t->label, sizeof(t->label), info.label, sizeof(info.label));
		token_printable(t->manufacturer, sizeof(t->manufacturer), info.manufacturerID,
		    sizeof(info.manufacturerID));
		token_printable(t->model, sizeof(t->model), info.model, sizeof(info.model));
		token_printable(t->serial, sizeof(t->serial), info.serialNumber,
		    sizeof(info.serialNumber));
		read_certs(f, slots[i], t);
	}
}

void
token_session_scan(struct token_session *s, const atomic_int *cancel)
{
	size_t i;

	for (i = 0; i < s->n_modules; i++) {
		if (cancel != NULL && atomic_load(cancel) != 0)
			return;
		if (s->modules[i].loaded)
			scan_module(s, i, cancel);
	}
	log_msg("pkcs11: scan found %zu token(s)", s->n_tokens);
}

CK_RV
token_session_probe(struct token_session *s, const struct token_entry *t, CK_FLAGS *flags)
{
	CK_TOKEN_INFO info;
	CK_FUNCTION_LIST_PTR f;
	CK_RV rv;

	*flags = 0;
	if (!s->open || t->module >= s->n_modules || s->modules[t->module].f == NULL)
		return CKR_CRYPTOKI_NOT_INITIALIZED;
	f = s->modules[t->module].f;
	memset(&info, 0, sizeof(info));
	rv = f->C_GetTokenInfo(t->slot, &info);
	if (rv == CKR_OK)
		*flags = info.flags;
	return rv;
}

CK_FLAGS
token_session_flags(struct token_session *s, const struct token_entry *t)
{
	CK_FLAGS flags;

	(void)token_session_probe(s, t, &flags);
	return flags;
}

void
token_session_close(struct token_session *s)
{
	size_t i;

	if (s->open) {
		pkcs11h_terminate();
		ERR_clear_error();
	}
	for (i = 0; i < s->n_modules; i++) {
		s->modules[i].f = NULL;
		if (s->modules[i].dl != NULL)
			dlclose(s->modules[i].dl);
		s->modules[i].dl = NULL;
	}
	if (s->open) {
		s->open = 0;
		pthread_mutex_unlock(&token_lock);
	}
}

void
token_session_free(struct token_session *s)
{
	size_t i, j;

	if (s == NULL)
		return;
	token_session_close(s);
	for (i = 0; i < s->n_tokens; i++) {
		for (j = 0; j < s->tokens[i].n_certs; j++)
			X509_free(s->tokens[i].certs[j].x509);
	}
	free(s);
}

/* The candidates: the configured ones (config), then the built-in list for
 * this OS (builtin), duplicates (the same real file) dropped. Loads
 * nothing. */
struct token_session *
token_session_new(const struct config *cfg)
{
	struct token_session *s = calloc(1, sizeof(*s));
	size_t i;

	if (s == NULL)
		return NULL;
	for (i = 0; cfg != NULL && i < cfg->n_pkcs11_modules; i++)
		add_candidate(s, cfg->pkcs11_modules[i], "config");
	for (i = 0; builtin_modules[i] != NULL; i++)
		add_candidate(s, builtin_modules[i], "builtin");
	return s;
}
