/*
 * dispatch: envelope validation, the table of request types, and replies.
 * See dispatch.h. Later capabilities add a row to `table` and a handler in
 * their own module; nothing else here changes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "frame.h"
#include "log.h"
#include "version.h"

int
call_fail(struct tl_call *call, enum tl_status status, const char *fmt, ...)
{
	va_list ap;

	call->status = status;
	va_start(ap, fmt);
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
	va_end(ap);
	return -1;
}

int
call_cancelled(const struct tl_call *call)
{
	return call->cancel != NULL && atomic_load(call->cancel) != 0;
}

static int handle_hello(struct tl_call *call);

static const char *const no_params[] = { NULL };

static const struct dispatch_entry table[] = {
	{ "hello", handle_hello, DISPATCH_LOOKUP_MAX, no_params, DISPATCH_INSTANT },
};

#define TABLE_SIZE (sizeof(table) / sizeof(table[0]))

static const char *type_names[TABLE_SIZE + 1];

const struct dispatch_entry *
dispatch_find(const char *type)
{
	size_t i;

	for (i = 0; i < TABLE_SIZE; i++) {
		if (strcmp(table[i].type, type) == 0)
			return &table[i];
	}
	return NULL;
}

const char *const *
dispatch_types(void)
{
	size_t i;

	/* Idempotent: every thread writes the same pointers. */
	for (i = 0; i < TABLE_SIZE; i++)
		type_names[i] = table[i].type;
	type_names[TABLE_SIZE] = NULL;
	return type_names;
}

size_t
dispatch_frame_cap(const struct config *cfg)
{
	size_t mail = cfg != NULL ? cfg->mail_max_bytes : CONFIG_DEFAULT_MAIL_MAX;

	/* A raw message travels as a JSON string: escapes (CRLF as \r\n) can
	 * double it. raw_b64 grows it by 4/3. */
	return mail * 2 + DISPATCH_LOOKUP_MAX;
}

static int
handle_hello(struct tl_call *call)
{
	json_t *caps = json_array();
	const char *const *t;

	if (caps == NULL)
		return call_fail(call, TL_INTERNAL, "Out of memory.");
	for (t = dispatch_types(); *t != NULL; t++)
		json_array_append_new(caps, json_string(*t));
	call->result = json_pack("{s:i, s:s, s:o}", "protocol", TL_PROTOCOL,
	    "version", TL_VERSION, "capabilities", caps);
	if (call->result == NULL)
		return call_fail(call, TL_INTERNAL, "Out of memory.");
	if (call->cfg != NULL && call->cfg->load_error != NULL &&
	    json_object_set_new(call->result, "config_error",
	    json_string(call->cfg->load_error)) != 0)
		return call_fail(call, TL_INTERNAL, "Out of memory.");
	return 0;
}

/* Serialises a reply; NULL when memory ran out. */
static char *
dump(json_t *reply, size_t *len)
{
	char *s = json_dumps(reply, JSON_COMPACT);

	*len = s != NULL ? strlen(s) : 0;
	return s;
}

static char *
error_reply(json_t *id, enum tl_status status, const char *message, size_t *len)
{
	json_t *reply;
	char *s;

	reply = json_pack("{s:O, s:b, s:{s:s, s:s}}", "id", id != NULL ? id : json_null(),
	    "ok", 0, "error", "code", status_code(status), "message", message);
	if (reply == NULL) {
		/* The message was not valid UTF-8; say so without it. */
		reply = json_pack("{s:O, s:b, s:{s:s, s:s}}", "id",
		    id != NULL ? id : json_null(), "ok", 0, "error", "code",
		    status_code(status), "message", "The request failed.");
	}
	if (reply == NULL)
		return NULL;
	s = dump(reply, len);
	json_decref(reply);
	return s;
}

char *
dispatch_error_reply(enum tl_status status, const char *message, size_t *reply_len)
{
	return error_reply(NULL, status, message, reply_len);
}

/* Checks the envelope. Returns the entry, or NULL with the failure on the
 * call; *id is set to the request's id when it is usable. */
static const struct dispatch_entry *
check_envelope(struct tl_call *call, json_t *req, size_t len, json_t **id)
{
	const struct dispatch_entry *e;
	const char *key;
	json_t *v, *type;
	size_t i;
	int known;

	*id = NULL;
	if (!json_is_object(req)) {
		call_fail(call, TL_BAD_REQUEST, "The request must be a JSON object.");
		return NULL;
	}
	v = json_object_get(req, "id");
	if (v == NULL || !(json_is_string(v) || json_is_integer(v))) {
		call_fail(call, TL_BAD_REQUEST,
		    "The request needs an id that is a string or an integer.");
		return NULL;
	}
	if (json_is_string(v) && json_string_length(v) > DISPATCH_ID_MAX) {
		call_fail(call, TL_BAD_REQUEST,
		    "The request id is longer than %u bytes.", DISPATCH_ID_MAX);
		return NULL;
	}
	*id = v;
	type = json_object_get(req, "type");
	if (type == NULL || !json_is_string(type)) {
		call_fail(call, TL_BAD_REQUEST, "The request needs a type that is a string.");
		return NULL;
	}
	e = dispatch_find(json_string_value(type));
	if (e == NULL) {
		call_fail(call, TL_UNKNOWN_TYPE,
		    "This host does not know that request type.");
		return NULL;
	}
	if (len > (e->max_frame != 0 ? e->max_frame : dispatch_frame_cap(call->cfg))) {
		call_fail(call, TL_TOO_LARGE, "The request is too large for its type.");
		return NULL;
	}
	json_object_foreach(req, key, v) {
		if (strcmp(key, "id") == 0 || strcmp(key, "type") == 0)
			continue;
		known = 0;
		for (i = 0; e->params[i] != NULL; i++) {
			if (strcmp(e->params[i], key) == 0)
				known = 1;
		}
		if (!known) {
			call_fail(call, TL_BAD_REQUEST,
			    "The request has a parameter its type does not take.");
			return NULL;
		}
	}
	return e;
}

char *
dispatch_frame(const unsigned char *body, size_t len, const struct config *cfg,
    const atomic_int *cancel, size_t *reply_len)
{
	struct tl_call call;
	const struct dispatch_entry *e;
	json_error_t jerr;
	json_t *req, *id = NULL, *reply;
	char *out = NULL;

	memset(&call, 0, sizeof(call));
	call.cfg = cfg;
	call.cancel = cancel;
	call.status = TL_INTERNAL;
	*reply_len = 0;

	if (len == 0) {
		return error_reply(NULL, TL_BAD_FRAME,
		    "The message is empty: a request is a JSON object.", reply_len);
	}
	req = json_loadb((const char *)body, len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (req == NULL) {
		log_msg("request: bad_json (%zu bytes, line %d column %d)", len,
		    jerr.line, jerr.column);
		return error_reply(NULL, TL_BAD_JSON,
		    "The request is not valid UTF-8 JSON without duplicate keys.",
		    reply_len);
	}
	call.request = req;
	e = check_envelope(&call, req, len, &id);
	if (e == NULL)
		goto fail;
	if (cfg != NULL && cfg->load_error != NULL && e->handler != handle_hello) {
		call_fail(&call, TL_INTERNAL, "The TrustLens configuration is invalid: %s",
		    cfg->load_error);
		goto fail;
	}
	if (cancel != NULL && atomic_load(cancel) && !(e->flags & DISPATCH_INSTANT)) {
		call_fail(&call, TL_INTERNAL, "The browser closed the connection.");
		goto fail;
	}
	if (e->handler(&call) != 0 || call.result == NULL) {
		if (call.message[0] == '\0')
			call_fail(&call, TL_INTERNAL, "The request failed.");
		goto fail;
	}
	reply = json_pack("{s:O, s:b, s:O}", "id", id, "ok", 1, "result", call.result);
	if (reply == NULL) {
		call_fail(&call, TL_INTERNAL, "Out of memory.");
		goto fail;
	}
	out = dump(reply, reply_len);
	json_decref(reply);
	if (out != NULL && *reply_len > FRAME_REPLY_MAX) {
		free(out);
		out = NULL;
		call_fail(&call, TL_TOO_LARGE,
		    "The answer is larger than the browser accepts (1 MiB).");
		goto fail;
	}
	log_msg("request %s: ok (%zu bytes in, %zu out)", e->type, len, *reply_len);
	json_decref(call.result);
	json_decref(req);
	return out;
fail:
	log_msg("request %s: %s (%zu bytes)", e != NULL ? e->type : "-",
	    status_code(call.status), len);
	out = error_reply(id, call.status, call.message, reply_len);
	json_decref(call.result);
	json_decref(req);
	return out;
}
