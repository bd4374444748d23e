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
#include "diagnose.h"
#include "dispatch.h"
#include "frame.h"
#include "log.h"
#include "mail.h"
#include "site.h"
#include "token.h"
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
static const char *const site_params[] = { "url", NULL };
static const char *const sites_params[] = { "urls", NULL };
static const char *const chain_params[] = { "host", "port", "chain", NULL };
static const char *const mail_params[] = { "raw", "raw_b64", NULL };
static const char *const confirm_params[] = { "from", "cert_sha256", NULL };

static const struct dispatch_entry table[] = {
	{ "hello", handle_hello, DISPATCH_LOOKUP_MAX, no_params, DISPATCH_INSTANT },
	{ "site", site_handle_site, DISPATCH_LOOKUP_MAX, site_params, 0 },
	{ "sites", site_handle_sites, DISPATCH_LOOKUP_MAX, sites_params, 0 },
	{ "chain", site_handle_chain, DISPATCH_LOOKUP_MAX, chain_params, 0 },
	{ "mail", mail_handle, 0, mail_params, 0 },
	{ "confirm_signer", mail_handle_confirm, DISPATCH_LOOKUP_MAX, confirm_params, 0 },
	{ "tokens", token_handle_tokens, DISPATCH_LOOKUP_MAX, no_params, 0 },
	{ "diagnose", diagnose_handle, DISPATCH_LOOKUP_MAX, no_params, 0 },
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

/* {"id":<id>,"ok":true,"result":<text>}: the text is compact JSON made by
 * this host (a cached verdict), never request content. */
static char *
splice_reply(json_t *id, const char *text, size_t *len)
{
	char *ids = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY), *out = NULL;
	size_t n;

	if (ids == NULL)
		return NULL;
	n = strlen(ids) + strlen(text) + 32;
	out = malloc(n);
	if (out != NULL) {
		int k = snprintf(out, n, "{\"id\":%s,\"ok\":true,\"result\":%s}", ids, text);
		*len = k > 0 ? (size_t)k : 0;
	}
	free(ids);
	return out;
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

/* A cheap look at a large frame's envelope before the full parse.
 *
 * Only `mail` may be larger than DISPATCH_LOOKUP_MAX. Parsing 60 MiB of
 * JSON to learn that it is a `hello` costs a second and hundreds of MiB, so
 * for large frames the top-level members are scanned without building
 * anything: strings are skipped with their escapes, nesting is counted
 * without recursion. When the scan finds exactly one "id" and one plain
 * "type" (no escapes), a type whose cap the frame exceeds is refused at once.
 * Anything unusual (duplicates, escapes, bad syntax) falls back to the full,
 * strict parse, so the scan never accepts what the parser would refuse. */
struct span {
	const unsigned char *p;
	size_t len;
};

static const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns just past the closing one, or NULL. */
static const unsigned char *
skip_string(const unsigned char *p, const unsigned char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Skips one value; returns the first byte after it, or NULL. */
static const unsigned char *
skip_value(const unsigned char *p, const unsigned char *end)
{
	size_t depth = 0;

	do {
		if (p >= end)
			return NULL;
		if (*p == '"') {
			p = skip_string(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p; /* end of the enclosing object */
			depth--;
		} else if (depth == 0 && (*p == ',')) {
			return p;
		}
		p++;
	} while (depth > 0 || (p < end && *p != ',' && *p != '}' && *p != ']' &&
	    *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r'));
	return p;
}

static int
sniff_envelope(const unsigned char *body, size_t len, struct span *id, struct span *type)
{
	const unsigned char *p = body, *end = body + len, *k, *v;
	size_t klen;

	memset(id, 0, sizeof(*id));
	memset(type, 0, sizeof(*type));
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	while (p < end && *p != '}') {
		if (*p != '"')
			return -1;
		k = p + 1;
		p = skip_string(p, end);
		if (p == NULL)
			return -1;
		klen = (size_t)(p - k - 1);
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return -1;
		v = skip_ws(p + 1, end);
		p = skip_value(v, end);
		if (p == NULL || p == v)
			return -1;
		if (klen == 2 && memcmp(k, "id", 2) == 0) {
			if (id->p != NULL)
				return -1;
			id->p = v;
			id->len = (size_t)(p - v);
		} else if (klen == 4 && memcmp(k, "type", 4) == 0) {
			if (type->p != NULL)
				return -1;
			type->p = v;
			type->len = (size_t)(p - v);
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			if (p >= end || *p != '"')
				return -1;
		} else if (p >= end || *p != '}') {
			return -1;
		}
	}
	return p < end && id->p != NULL && type->p != NULL ? 0 : -1;
}

/* For a frame above the lookup cap: a too_large reply when the sniffed type
 * cannot be that large, else NULL (go on with the full parse). */
static char *
refuse_large_early(const unsigned char *body, size_t len, const struct config *cfg,
    size_t *reply_len)
{
	const struct dispatch_entry *e;
	struct span id, type;
	char name[32];
	json_t *idv;
	char *out;

	if (len <= DISPATCH_LOOKUP_MAX || sniff_envelope(body, len, &id, &type) != 0)
		return NULL;
	if (type.len < 2 || type.len - 2 >= sizeof(name) || type.p[0] != '"' ||
	    memchr(type.p, '\\', type.len) != NULL)
		return NULL;
	memcpy(name, type.p + 1, type.len - 2);
	name[type.len - 2] = '\0';
	e = dispatch_find(name);
	if (e != NULL && len <= (e->max_frame != 0 ? e->max_frame : dispatch_frame_cap(cfg)))
		return NULL;
	if (id.len > DISPATCH_ID_MAX + 2)
		return NULL;
	idv = json_loadb((const char *)id.p, id.len, JSON_DECODE_ANY, NULL);
	if (idv == NULL || !(json_is_integer(idv) || (json_is_string(idv) &&
	    json_string_length(idv) <= DISPATCH_ID_MAX))) {
		json_decref(idv);
		return NULL;
	}
	log_msg("request: too_large before parsing (%zu bytes)", len);
	out = error_reply(idv, TL_TOO_LARGE, "The request is too large for its type.",
	    reply_len);
	json_decref(idv);
	return out;
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
	out = refuse_large_early(body, len, cfg, reply_len);
	if (out != NULL)
		return out;
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
	if (e->handler(&call) != 0 || (call.result == NULL && call.result_text == NULL)) {
		if (call.message[0] == '\0')
			call_fail(&call, TL_INTERNAL, "The request failed.");
		goto fail;
	}
	if (call.result_text != NULL) {
		out = splice_reply(id, call.result_text, reply_len);
	} else {
		reply = json_pack("{s:O, s:b, s:O}", "id", id, "ok", 1, "result",
		    call.result);
		if (reply == NULL) {
			call_fail(&call, TL_INTERNAL, "Out of memory.");
			goto fail;
		}
		out = dump(reply, reply_len);
		json_decref(reply);
	}
	if (out == NULL) {
		call_fail(&call, TL_INTERNAL, "Out of memory.");
		goto fail;
	}
	if (out != NULL && *reply_len > FRAME_REPLY_MAX) {
		free(out);
		out = NULL;
		call_fail(&call, TL_TOO_LARGE,
		    "The answer is larger than the browser accepts (1 MiB).");
		goto fail;
	}
	log_msg("request %s: ok (%zu bytes in, %zu out)", e->type, len, *reply_len);
	json_decref(call.result);
	free(call.result_text);
	json_decref(req);
	return out;
fail:
	log_msg("request %s: %s (%zu bytes)", e != NULL ? e->type : "-",
	    status_code(call.status), len);
	out = error_reply(id, call.status, call.message, reply_len);
	json_decref(call.result);
	free(call.result_text);
	json_decref(req);
	return out;
}
