/*
 * shim-module: a real PKCS#11 module that stands between the host and
 * SoftHSM2 and makes the card misbehave on demand. Built by
 * tests/pkcs11/run.mjs (a shared object, like fake-module.c); never part of
 * the host.
 *
 * Every function of the CK_FUNCTION_LIST (PKCS#11 2.40) is a wrapper that
 * forwards the call to SoftHSM (/usr/lib/softhsm/libsofthsm2.so, or
 * TL_SHIM_TARGET), unless a fault chosen by TL_SHIM_FAULT says otherwise.
 * TL_SHIM_FAULT is read at C_Initialize: comma-separated WHERE:WHAT items.
 *
 *   WHERE  init (C_Initialize), info (C_GetInfo), slot_list, slot_info,
 *          token_info, session (C_OpenSession), login, find
 *          (C_FindObjectsInit, C_FindObjects), attr (C_GetAttributeValue),
 *          sign_init (C_SignInit), sign (C_Sign, C_SignUpdate,
 *          C_SignFinal), any (every call but C_GetFunctionList,
 *          C_Initialize, C_GetInfo and C_Finalize), slot (see below), or a
 *          function's own name (C_Logout).
 *   WHAT   CKR_NAME or 0xHEX   answer that code; the module is not called
 *          hang_ms=N           sleep N ms, then forward (a slow card)
 *          removed             the card is pulled out at this call: it
 *                              answers CKR_DEVICE_REMOVED (or
 *                              CKR_TOKEN_NOT_PRESENT for a slot-level call)
 *                              and every later call sees no card
 *          removed_after_N     (slot) the card is pulled out once N calls of
 *                              C_GetSlotInfo and C_GetTokenInfo were answered
 *          pin_locked, pin_final_try, pin_count_low  (token_info) C_GetTokenInfo
 *                              sets CKF_USER_PIN_LOCKED, _FINAL_TRY,
 *                              _COUNT_LOW; pin_locked_flag = pin_locked
 *
 * A card that is out behaves as a reader without a card does (PKCS#11 2.40
 * section 5): C_GetSlotList(present) lists nothing, C_GetSlotInfo answers
 * without CKF_TOKEN_PRESENT, C_GetTokenInfo, C_OpenSession and the
 * mechanism calls answer CKR_TOKEN_NOT_PRESENT, calls on a session
 * CKR_DEVICE_REMOVED; closing sessions and C_Finalize still work.
 *
 * TL_SHIM_TRACE=FILE appends one line per call ("C_Sign CKR_DEVICE_REMOVED
 * injected"), so a test can see that a fault was met where it was meant to
 * be. Names and return codes only: no argument is ever written (C_Login's
 * PIN above all). Nothing goes to stdout; a fault spec that does not parse
 * makes C_Initialize fail with CKR_ARGUMENTS_BAD and a line on stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pkcs11-helper-1.0/pkcs11.h>

#define SHIM_TARGET_DEFAULT "/usr/lib/softhsm/libsofthsm2.so"
#define SHIM_MAX_FAULTS 8

enum what {
	WHAT_RV,
	WHAT_HANG,
	WHAT_REMOVED,
	WHAT_REMOVED_AFTER,
	WHAT_FLAGS
};

struct fault {
	char where[32];
	enum what what;
	CK_RV rv;
	unsigned long n;               /* hang_ms, removed_after */
	CK_FLAGS flags;
};

static struct {
	pthread_mutex_t lock;
	void *dl;
	CK_FUNCTION_LIST_PTR real;
	struct fault faults[SHIM_MAX_FAULTS];
	size_t n_faults;
	int removed;
	unsigned long info_calls;      /* C_GetSlotInfo + C_GetTokenInfo */
	int trace_fd;
} shim = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, { { "", WHAT_RV, 0, 0, 0 } }, 0, 0, 0,
	-1 };

#define RV(x) { #x, x }
static const struct {
	const char *name;
	CK_RV rv;
} rv_names[] = {
	RV(CKR_OK), RV(CKR_CANCEL), RV(CKR_HOST_MEMORY), RV(CKR_GENERAL_ERROR),
	RV(CKR_FUNCTION_FAILED), RV(CKR_ARGUMENTS_BAD), RV(CKR_DEVICE_ERROR),
	RV(CKR_DEVICE_MEMORY), RV(CKR_DEVICE_REMOVED), RV(CKR_FUNCTION_CANCELED),
	RV(CKR_FUNCTION_NOT_SUPPORTED), RV(CKR_KEY_HANDLE_INVALID),
	RV(CKR_MECHANISM_INVALID), RV(CKR_OBJECT_HANDLE_INVALID),
	RV(CKR_OPERATION_NOT_INITIALIZED), RV(CKR_PIN_INCORRECT), RV(CKR_PIN_INVALID),
	RV(CKR_PIN_LEN_RANGE), RV(CKR_PIN_EXPIRED), RV(CKR_PIN_LOCKED),
	RV(CKR_SESSION_CLOSED), RV(CKR_SESSION_HANDLE_INVALID), RV(CKR_TOKEN_NOT_PRESENT),
	RV(CKR_TOKEN_NOT_RECOGNIZED), RV(CKR_USER_NOT_LOGGED_IN), RV(CKR_BUFFER_TOO_SMALL),
	RV(CKR_CRYPTOKI_NOT_INITIALIZED), RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
	RV(CKR_DATA_LEN_RANGE),
};

static const char *
rv_name(CK_RV rv, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++) {
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	}
	snprintf(buf, len, "0x%lx", (unsigned long)rv);
	return buf;
}

static void
trace(const char *fn, CK_RV rv, int injected)
{
	char line[160], nb[24];
	int n;
	ssize_t w;

	if (shim.trace_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %s%s\n", fn, rv_name(rv, nb, sizeof(nb)),
	    injected ? " injected" : "");
	if (n > 0 && (size_t)n < sizeof(line)) {
		w = write(shim.trace_fd, line, (size_t)n);
		(void)w;
	}
}

static void
sleep_ms(unsigned long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Does the fault's WHERE name this function? */
static int
where_matches(const char *where, const char *fn)
{
	static const struct {
		const char *where, *fn;
	} alias[] = {
		{ "init", "C_Initialize" }, { "info", "C_GetInfo" },
		{ "slot_list", "C_GetSlotList" }, { "slot_info", "C_GetSlotInfo" },
		{ "token_info", "C_GetTokenInfo" }, { "session", "C_OpenSession" },
		{ "login", "C_Login" }, { "find", "C_FindObjectsInit" },
		{ "find", "C_FindObjects" }, { "attr", "C_GetAttributeValue" },
		{ "sign_init", "C_SignInit" }, { "sign", "C_Sign" },
		{ "sign", "C_SignUpdate" }, { "sign", "C_SignFinal" },
	};
	size_t i;

	if (strcmp(where, fn) == 0)
		return 1;
	if (strcmp(where, "any") == 0)
		return strcmp(fn, "C_Initialize") != 0 && strcmp(fn, "C_GetInfo") != 0 &&
		    strcmp(fn, "C_Finalize") != 0;
	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		if (strcmp(alias[i].where, where) == 0 && strcmp(alias[i].fn, fn) == 0)
			return 1;
	}
	return 0;
}

/* What a call answers when the card is out (0: forward it). */
static CK_RV
removed_answer(const char *fn)
{
	static const char *const neutral[] = {
		"C_Initialize", "C_Finalize", "C_GetInfo", "C_GetSlotList", "C_GetSlotInfo",
		"C_WaitForSlotEvent", "C_CloseSession", "C_CloseAllSessions", NULL,
	};
	static const char *const slot_level[] = {
		"C_GetTokenInfo", "C_OpenSession", "C_GetMechanismList", "C_GetMechanismInfo",
		"C_InitToken", NULL,
	};
	size_t i;

	for (i = 0; neutral[i] != NULL; i++) {
		if (strcmp(neutral[i], fn) == 0)
			return CKR_OK;
	}
	for (i = 0; slot_level[i] != NULL; i++) {
		if (strcmp(slot_level[i], fn) == 0)
			return CKR_TOKEN_NOT_PRESENT;
	}
	return CKR_DEVICE_REMOVED;
}

struct call {
	const char *fn;
	CK_RV rv;
	int injected;
	CK_FLAGS set_flags;            /* for C_GetTokenInfo */
};

/* Before the call: 1 when the answer is decided (c->rv), 0 to forward. */
static int
enter(struct call *c)
{
	unsigned long hang = 0;
	size_t i;
	int decided = 0;
	CK_RV r;

	pthread_mutex_lock(&shim.lock);
	if (strcmp(c->fn, "C_GetSlotInfo") == 0 || strcmp(c->fn, "C_GetTokenInfo") == 0) {
		shim.info_calls++;
		for (i = 0; i < shim.n_faults; i++) {
			if (shim.faults[i].what == WHAT_REMOVED_AFTER &&
			    shim.info_calls > shim.faults[i].n)
				shim.removed = 1;
		}
	}
	for (i = 0; i < shim.n_faults && !decided; i++) {
		const struct fault *f = &shim.faults[i];

		if (f->what == WHAT_REMOVED_AFTER || !where_matches(f->where, c->fn))
			continue;
		switch (f->what) {
		case WHAT_HANG:
			hang += f->n;
			break;
		case WHAT_FLAGS:
			c->set_flags |= f->flags;
			break;
		case WHAT_REMOVED:
			shim.removed = 1;
			break;
		case WHAT_RV:
			c->rv = f->rv;
			c->injected = 1;
			decided = 1;
			break;
		case WHAT_REMOVED_AFTER:
			break;
		}
	}
	if (!decided && shim.removed) {
		r = removed_answer(c->fn);
		if (r != CKR_OK) {
			c->rv = r;
			c->injected = 1;
			decided = 1;
		}
	}
	pthread_mutex_unlock(&shim.lock);
	if (hang > 0)
		sleep_ms(hang);
	if (!decided && shim.real == NULL) {
		c->rv = CKR_GENERAL_ERROR;
		decided = 1;
	}
	return decided;
}

static CK_RV
leave(const struct call *c)
{
	trace(c->fn, c->rv, c->injected);
	return c->rv;
}

/* --- the fault spec */

static int
parse_rv(const char *s, CK_RV *rv)
{
	char *end;
	size_t i;

	for (i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++) {
		if (strcmp(rv_names[i].name, s) == 0) {
			*rv = rv_names[i].rv;
			return 0;
		}
	}
	if (strncmp(s, "0x", 2) == 0) {
		errno = 0;
		*rv = strtoul(s + 2, &end, 16);
		if (errno == 0 && end != s + 2 && *end == '\0')
			return 0;
	}
	return -1;
}

static int
parse_number(const char *s, unsigned long *n)
{
	char *end;

	errno = 0;
	*n = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' ? 0 : -1;
}

static int
parse_item(const char *item, struct fault *f)
{
	const char *colon = strchr(item, ':'), *what;
	size_t wl;

	memset(f, 0, sizeof(*f));
	if (colon == NULL)
		return -1;
	wl = (size_t)(colon - item);
	if (wl == 0 || wl >= sizeof(f->where))
		return -1;
	memcpy(f->where, item, wl);
	f->where[wl] = '\0';
	what = colon + 1;
	if (strncmp(what, "hang_ms=", 8) == 0) {
		f->what = WHAT_HANG;
		return parse_number(what + 8, &f->n);
	}
	if (strcmp(what, "removed") == 0) {
		f->what = WHAT_REMOVED;
		return 0;
	}
	if (strncmp(what, "removed_after_", 14) == 0) {
		f->what = WHAT_REMOVED_AFTER;
		return strcmp(f->where, "slot") == 0 ? parse_number(what + 14, &f->n) : -1;
	}
	if (strcmp(what, "pin_locked") == 0 || strcmp(what, "pin_locked_flag") == 0 ||
	    strcmp(what, "pin_final_try") == 0 || strcmp(what, "pin_count_low") == 0) {
		f->what = WHAT_FLAGS;
		f->flags = what[4] == 'l' ? CKF_USER_PIN_LOCKED : what[4] == 'f' ?
		    CKF_USER_PIN_FINAL_TRY : CKF_USER_PIN_COUNT_LOW;
		return strcmp(f->where, "token_info") == 0 ? 0 : -1;
	}
	f->what = WHAT_RV;
	return parse_rv(what, &f->rv);
}

/* Reads TL_SHIM_FAULT and TL_SHIM_TRACE afresh; 0, or -1 on a bad spec. */
static int
configure(void)
{
	const char *spec = getenv("TL_SHIM_FAULT"), *tr = getenv("TL_SHIM_TRACE");
	char buf[512], *item, *save = NULL;
	int rc = 0;

	pthread_mutex_lock(&shim.lock);
	shim.n_faults = 0;
	shim.removed = 0;
	shim.info_calls = 0;
	if (shim.trace_fd >= 0)
		close(shim.trace_fd);
	shim.trace_fd = tr != NULL && tr[0] != '\0' ?
	    open(tr, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (spec != NULL && spec[0] != '\0') {
		if (strlen(spec) >= sizeof(buf)) {
			rc = -1;
			goto out;
		}
		memcpy(buf, spec, strlen(spec) + 1);
		for (item = strtok_r(buf, ",", &save); item != NULL;
		    item = strtok_r(NULL, ",", &save)) {
			if (shim.n_faults == SHIM_MAX_FAULTS ||
			    parse_item(item, &shim.faults[shim.n_faults]) != 0) {
				fprintf(stderr, "tl-shim: cannot use TL_SHIM_FAULT item \"%s\"\n",
				    item);
				shim.n_faults = 0;
				rc = -1;
				goto out;
			}
			shim.n_faults++;
		}
	}
out:
	pthread_mutex_unlock(&shim.lock);
	return rc;
}

/* --- the wrappers */

#define PASS(name, params, args)                                           \
	static CK_RV w_##name params                                       \
	{                                                                  \
		struct call c = { "C_" #name, CKR_OK, 0, 0 };              \
		if (enter(&c) == 0)                                        \
			c.rv = shim.real->C_##name args;                   \
		return leave(&c);                                          \
	}

static CK_RV
w_Initialize(void *init_args)
{
	struct call c = { "C_Initialize", CKR_OK, 0, 0 };

	if (configure() != 0) {
		c.rv = CKR_ARGUMENTS_BAD;
		c.injected = 1;
		return leave(&c);
	}
	if (enter(&c) == 0)
		c.rv = shim.real->C_Initialize(init_args);
	return leave(&c);
}

static CK_RV
w_GetSlotList(unsigned char token_present, CK_SLOT_ID *slot_list, unsigned long *count)
{
	struct call c = { "C_GetSlotList", CKR_OK, 0, 0 };

	if (enter(&c) == 0) {
		if (shim.removed && token_present && count != NULL) {
			*count = 0;       /* the reader is there, the card is not */
			c.rv = CKR_OK;
		} else {
			c.rv = shim.real->C_GetSlotList(token_present, slot_list, count);
		}
	}
	return leave(&c);
}

static CK_RV
w_GetSlotInfo(CK_SLOT_ID slot_id, CK_SLOT_INFO *info)
{
	struct call c = { "C_GetSlotInfo", CKR_OK, 0, 0 };

	if (enter(&c) == 0) {
		c.rv = shim.real->C_GetSlotInfo(slot_id, info);
		if (c.rv == CKR_OK && shim.removed && info != NULL)
			info->flags &= ~(CK_FLAGS)CKF_TOKEN_PRESENT;
	}
	return leave(&c);
}

static CK_RV
w_GetTokenInfo(CK_SLOT_ID slot_id, CK_TOKEN_INFO *info)
{
	struct call c = { "C_GetTokenInfo", CKR_OK, 0, 0 };

	if (enter(&c) == 0) {
		c.rv = shim.real->C_GetTokenInfo(slot_id, info);
		/* Only a token in use has a PIN to lock (SoftHSM's blank one
		 * stays as it is). */
		if (c.rv == CKR_OK && info != NULL && (info->flags & CKF_TOKEN_INITIALIZED))
			info->flags |= c.set_flags;
	}
	return leave(&c);
}

PASS(Finalize, (void *reserved), (reserved))
PASS(GetInfo, (CK_INFO *info), (info))
PASS(GetMechanismList, (CK_SLOT_ID slot_id, CK_MECHANISM_TYPE *mechanism_list,
    unsigned long *count), (slot_id, mechanism_list, count))
PASS(GetMechanismInfo, (CK_SLOT_ID slot_id, CK_MECHANISM_TYPE type,
    CK_MECHANISM_INFO *info), (slot_id, type, info))
PASS(InitToken, (CK_SLOT_ID slot_id, unsigned char *pin, unsigned long pin_len,
    unsigned char *label), (slot_id, pin, pin_len, label))
PASS(InitPIN, (CK_SESSION_HANDLE session, unsigned char *pin, unsigned long pin_len),
    (session, pin, pin_len))
PASS(SetPIN, (CK_SESSION_HANDLE session, unsigned char *old_pin, unsigned long old_len,
    unsigned char *new_pin, unsigned long new_len), (session, old_pin, old_len, new_pin,
    new_len))
PASS(OpenSession, (CK_SLOT_ID slot_id, CK_FLAGS flags, void *application,
    CK_NOTIFY notify, CK_SESSION_HANDLE *session), (slot_id, flags, application, notify,
    session))
PASS(CloseSession, (CK_SESSION_HANDLE session), (session))
PASS(CloseAllSessions, (CK_SLOT_ID slot_id), (slot_id))
PASS(GetSessionInfo, (CK_SESSION_HANDLE session, CK_SESSION_INFO *info),
    (session, info))
PASS(GetOperationState, (CK_SESSION_HANDLE session, unsigned char *operation_state,
    unsigned long *operation_state_len), (session, operation_state, operation_state_len))
PASS(SetOperationState, (CK_SESSION_HANDLE session, unsigned char *operation_state,
    unsigned long operation_state_len, CK_OBJECT_HANDLE encryption_key,
    CK_OBJECT_HANDLE authentication_key), (session, operation_state,
    operation_state_len, encryption_key, authentication_key))
PASS(Login, (CK_SESSION_HANDLE session, CK_USER_TYPE user_type, unsigned char *pin,
    unsigned long pin_len), (session, user_type, pin, pin_len))
PASS(Logout, (CK_SESSION_HANDLE session), (session))
PASS(CreateObject, (CK_SESSION_HANDLE session, CK_ATTRIBUTE *templ,
    unsigned long count, CK_OBJECT_HANDLE *object), (session, templ, count, object))
PASS(CopyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
    CK_ATTRIBUTE *templ, unsigned long count, CK_OBJECT_HANDLE *new_object),
    (session, object, templ, count, new_object))
PASS(DestroyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object),
    (session, object))
PASS(GetObjectSize, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
    unsigned long *size), (session, object, size))
PASS(GetAttributeValue, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
    CK_ATTRIBUTE *templ, unsigned long count), (session, object, templ, count))
PASS(SetAttributeValue, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
    CK_ATTRIBUTE *templ, unsigned long count), (session, object, templ, count))
PASS(FindObjectsInit, (CK_SESSION_HANDLE session, CK_ATTRIBUTE *templ,
    unsigned long count), (session, templ, count))
PASS(FindObjects, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE *object,
    unsigned long max_object_count, unsigned long *object_count), (session, object,
    max_object_count, object_count))
PASS(FindObjectsFinal, (CK_SESSION_HANDLE session), (session))
PASS(EncryptInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE key), (session, mechanism, key))
PASS(Encrypt, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len,
    unsigned char *encrypted_data, unsigned long *encrypted_data_len), (session, data,
    data_len, encrypted_data, encrypted_data_len))
PASS(EncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part,
    unsigned long part_len, unsigned char *encrypted_part,
    unsigned long *encrypted_part_len), (session, part, part_len, encrypted_part,
    encrypted_part_len))
PASS(EncryptFinal, (CK_SESSION_HANDLE session, unsigned char *last_encrypted_part,
    unsigned long *last_encrypted_part_len), (session, last_encrypted_part,
    last_encrypted_part_len))
PASS(DecryptInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE key), (session, mechanism, key))
PASS(Decrypt, (CK_SESSION_HANDLE session, unsigned char *encrypted_data,
    unsigned long encrypted_data_len, unsigned char *data, unsigned long *data_len),
    (session, encrypted_data, encrypted_data_len, data, data_len))
PASS(DecryptUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part,
    unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len),
    (session, encrypted_part, encrypted_part_len, part, part_len))
PASS(DecryptFinal, (CK_SESSION_HANDLE session, unsigned char *last_part,
    unsigned long *last_part_len), (session, last_part, last_part_len))
PASS(DigestInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism),
    (session, mechanism))
PASS(Digest, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len,
    unsigned char *digest, unsigned long *digest_len), (session, data, data_len, digest,
    digest_len))
PASS(DigestUpdate, (CK_SESSION_HANDLE session, unsigned char *part,
    unsigned long part_len), (session, part, part_len))
PASS(DigestKey, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key), (session, key))
PASS(DigestFinal, (CK_SESSION_HANDLE session, unsigned char *digest,
    unsigned long *digest_len), (session, digest, digest_len))
PASS(SignInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE key), (session, mechanism, key))
PASS(Sign, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len,
    unsigned char *signature, unsigned long *signature_len), (session, data, data_len,
    signature, signature_len))
PASS(SignUpdate, (CK_SESSION_HANDLE session, unsigned char *part,
    unsigned long part_len), (session, part, part_len))
PASS(SignFinal, (CK_SESSION_HANDLE session, unsigned char *signature,
    unsigned long *signature_len), (session, signature, signature_len))
PASS(SignRecoverInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE key), (session, mechanism, key))
PASS(SignRecover, (CK_SESSION_HANDLE session, unsigned char *data,
    unsigned long data_len, unsigned char *signature, unsigned long *signature_len),
    (session, data, data_len, signature, signature_len))
PASS(VerifyInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE key), (session, mechanism, key))
PASS(Verify, (CK_SESSION_HANDLE session, unsigned char *data, unsigned long data_len,
    unsigned char *signature, unsigned long signature_len), (session, data, data_len,
    signature, signature_len))
PASS(VerifyUpdate, (CK_SESSION_HANDLE session, unsigned char *part,
    unsigned long part_len), (session, part, part_len))
PASS(VerifyFinal, (CK_SESSION_HANDLE session, unsigned char *signature,
    unsigned long signature_len), (session, signature, signature_len))
PASS(VerifyRecoverInit, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE key), (session, mechanism, key))
PASS(VerifyRecover, (CK_SESSION_HANDLE session, unsigned char *signature,
    unsigned long signature_len, unsigned char *data, unsigned long *data_len),
    (session, signature, signature_len, data, data_len))
PASS(DigestEncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part,
    unsigned long part_len, unsigned char *encrypted_part,
    unsigned long *encrypted_part_len), (session, part, part_len, encrypted_part,
    encrypted_part_len))
PASS(DecryptDigestUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part,
    unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len),
    (session, encrypted_part, encrypted_part_len, part, part_len))
PASS(SignEncryptUpdate, (CK_SESSION_HANDLE session, unsigned char *part,
    unsigned long part_len, unsigned char *encrypted_part,
    unsigned long *encrypted_part_len), (session, part, part_len, encrypted_part,
    encrypted_part_len))
PASS(DecryptVerifyUpdate, (CK_SESSION_HANDLE session, unsigned char *encrypted_part,
    unsigned long encrypted_part_len, unsigned char *part, unsigned long *part_len),
    (session, encrypted_part, encrypted_part_len, part, part_len))
PASS(GenerateKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_ATTRIBUTE *templ, unsigned long count, CK_OBJECT_HANDLE *key),
    (session, mechanism, templ, count, key))
PASS(GenerateKeyPair, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_ATTRIBUTE *public_key_template, unsigned long public_key_attribute_count,
    CK_ATTRIBUTE *private_key_template, unsigned long private_key_attribute_count,
    CK_OBJECT_HANDLE *public_key, CK_OBJECT_HANDLE *private_key), (session, mechanism,
    public_key_template, public_key_attribute_count, private_key_template,
    private_key_attribute_count, public_key, private_key))
PASS(WrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key, unsigned char *wrapped_key,
    unsigned long *wrapped_key_len), (session, mechanism, wrapping_key, key, wrapped_key,
    wrapped_key_len))
PASS(UnwrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE unwrapping_key, unsigned char *wrapped_key,
    unsigned long wrapped_key_len, CK_ATTRIBUTE *templ,
    unsigned long attribute_count, CK_OBJECT_HANDLE *key), (session, mechanism,
    unwrapping_key, wrapped_key, wrapped_key_len, templ, attribute_count, key))
PASS(DeriveKey, (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism,
    CK_OBJECT_HANDLE base_key, CK_ATTRIBUTE *templ,
    unsigned long attribute_count, CK_OBJECT_HANDLE *key), (session, mechanism,
    base_key, templ, attribute_count, key))
PASS(SeedRandom, (CK_SESSION_HANDLE session, unsigned char *seed,
    unsigned long seed_len), (session, seed, seed_len))
PASS(GenerateRandom, (CK_SESSION_HANDLE session, unsigned char *random_data,
    unsigned long random_len), (session, random_data, random_len))
PASS(GetFunctionStatus, (CK_SESSION_HANDLE session), (session))
PASS(CancelFunction, (CK_SESSION_HANDLE session), (session))
PASS(WaitForSlotEvent, (CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved),
    (flags, slot, reserved))

static CK_FUNCTION_LIST shim_list;

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out);

/* Loads the target once per load of the shim. */
static int
load_target(void)
{
	const char *path = getenv("TL_SHIM_TARGET");
	CK_C_GetFunctionList get = NULL;
	void *sym;

	if (shim.real != NULL)
		return 0;
	if (path == NULL || path[0] == '\0')
		path = SHIM_TARGET_DEFAULT;
	shim.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (shim.dl == NULL) {
		fprintf(stderr, "tl-shim: cannot load %s: %s\n", path, dlerror());
		return -1;
	}
	sym = dlsym(shim.dl, "C_GetFunctionList");
	memcpy(&get, &sym, sizeof(get));
	if (get == NULL || get(&shim.real) != CKR_OK || shim.real == NULL) {
		fprintf(stderr, "tl-shim: %s is not a PKCS#11 module\n", path);
		shim.real = NULL;
		dlclose(shim.dl);
		shim.dl = NULL;
		return -1;
	}
	return 0;
}

__attribute__((destructor)) static void
unload_target(void)
{
	if (shim.trace_fd >= 0)
		close(shim.trace_fd);
	shim.trace_fd = -1;
	shim.real = NULL;
	if (shim.dl != NULL)
		dlclose(shim.dl);
	shim.dl = NULL;
}

#define SET(name) shim_list.C_##name = w_##name

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
	if (out == NULL)
		return CKR_ARGUMENTS_BAD;
	if (load_target() != 0)
		return CKR_GENERAL_ERROR;
	shim_list.version = shim.real->version;
	SET(Initialize); SET(Finalize); SET(GetInfo); SET(GetSlotList); SET(GetSlotInfo);
	SET(GetTokenInfo); SET(GetMechanismList); SET(GetMechanismInfo); SET(InitToken);
	SET(InitPIN); SET(SetPIN); SET(OpenSession); SET(CloseSession);
	SET(CloseAllSessions); SET(GetSessionInfo); SET(GetOperationState);
	SET(SetOperationState); SET(Login); SET(Logout); SET(CreateObject);
	SET(CopyObject); SET(DestroyObject); SET(GetObjectSize); SET(GetAttributeValue);
	SET(SetAttributeValue); SET(FindObjectsInit); SET(FindObjects);
	SET(FindObjectsFinal); SET(EncryptInit); SET(Encrypt); SET(EncryptUpdate);
	SET(EncryptFinal); SET(DecryptInit); SET(Decrypt); SET(DecryptUpdate);
	SET(DecryptFinal); SET(DigestInit); SET(Digest); SET(DigestUpdate);
	SET(DigestKey); SET(DigestFinal); SET(SignInit); SET(Sign); SET(SignUpdate);
	SET(SignFinal); SET(SignRecoverInit); SET(SignRecover); SET(VerifyInit);
	SET(Verify); SET(VerifyUpdate); SET(VerifyFinal); SET(VerifyRecoverInit);
	SET(VerifyRecover); SET(DigestEncryptUpdate); SET(DecryptDigestUpdate);
	SET(SignEncryptUpdate); SET(DecryptVerifyUpdate); SET(GenerateKey);
	SET(GenerateKeyPair); SET(WrapKey); SET(UnwrapKey); SET(DeriveKey);
	SET(SeedRandom); SET(GenerateRandom); SET(GetFunctionStatus);
	SET(CancelFunction); SET(WaitForSlotEvent);
	shim_list.C_GetFunctionList = C_GetFunctionList;
	*out = &shim_list;
	return CKR_OK;
}
