/* dispatch: the envelope rules of DESIGN.md s. 3, one row per rule. */
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "config.h"
#include "dispatch.h"
#include "frame.h"
#include "harness.h"

struct dispatch_case {
	const char *name;
	const char *in;       /* request body */
	const char *code;     /* expected error code, or NULL for ok */
	const char *id;       /* expected id, as compact JSON */
};

static const struct dispatch_case cases[] = {
	{ "hello int id", "{\"id\":1,\"type\":\"hello\"}", NULL, "1" },
	{ "hello string id", "{\"type\":\"hello\",\"id\":\"x\"}", NULL, "\"x\"" },
	{ "big int id", "{\"id\":9007199254740993,\"type\":\"hello\"}", NULL,
	  "9007199254740993" },
	{ "unicode id", "{\"id\":\"\\u00e9t\\u00e9\",\"type\":\"hello\"}", NULL,
	  "\"\xc3\xa9t\xc3\xa9\"" },
	{ "empty", "", "bad_frame", "null" },
	{ "not json", "x", "bad_json", "null" },
	{ "truncated json", "{\"id\":1", "bad_json", "null" },
	{ "duplicate keys", "{\"id\":1,\"id\":2,\"type\":\"hello\"}", "bad_json", "null" },
	{ "invalid utf8", "{\"id\":\"\xff\",\"type\":\"hello\"}", "bad_json", "null" },
	{ "nul escape", "{\"id\":\"a\\u0000b\",\"type\":\"hello\"}", "bad_json", "null" },
	{ "array", "[]", "bad_request", "null" },
	{ "string", "\"hello\"", "bad_request", "null" },
	{ "number", "42", "bad_request", "null" },
	{ "null", "null", "bad_request", "null" },
	{ "no id", "{\"type\":\"hello\"}", "bad_request", "null" },
	{ "id object", "{\"id\":{},\"type\":\"hello\"}", "bad_request", "null" },
	{ "id array", "{\"id\":[1],\"type\":\"hello\"}", "bad_request", "null" },
	{ "id float", "{\"id\":1.5,\"type\":\"hello\"}", "bad_request", "null" },
	{ "id bool", "{\"id\":true,\"type\":\"hello\"}", "bad_request", "null" },
	{ "id null", "{\"id\":null,\"type\":\"hello\"}", "bad_request", "null" },
	{ "no type", "{\"id\":7}", "bad_request", "7" },
	{ "type number", "{\"id\":7,\"type\":3}", "bad_request", "7" },
	{ "unknown type", "{\"id\":7,\"type\":\"frobnicate\"}", "unknown_type", "7" },
	{ "type not served", "{\"id\":7,\"type\":\"sign\"}",
	  "unknown_type", "7" },
	{ "extra param", "{\"id\":8,\"type\":\"hello\",\"x\":1}", "bad_request", "8" },
};

static void
run_table(void)
{
	size_t i, rlen;
	json_t *reply, *err;
	json_error_t jerr;
	char *out, *id;
	atomic_int cancel;

	atomic_init(&cancel, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dispatch_case *c = &cases[i];

		out = dispatch_frame((const unsigned char *)c->in, strlen(c->in), NULL,
		    &cancel, &rlen);
		CHECK_MSG(out != NULL && strlen(out) == rlen, "%s", c->name);
		if (out == NULL)
			continue;
		reply = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
		CHECK_MSG(reply != NULL, "%s: reply not JSON: %s", c->name, out);
		if (reply == NULL) {
			free(out);
			continue;
		}
		id = json_dumps(json_object_get(reply, "id"), JSON_ENCODE_ANY | JSON_COMPACT);
		CHECK_MSG(id != NULL && strcmp(id, c->id) == 0, "%s: id %s, want %s",
		    c->name, id, c->id);
		free(id);
		if (c->code == NULL) {
			CHECK_MSG(json_is_true(json_object_get(reply, "ok")), "%s: %s",
			    c->name, out);
			CHECK(json_object_size(reply) == 3);
		} else {
			err = json_object_get(reply, "error");
			CHECK_MSG(json_is_false(json_object_get(reply, "ok")) &&
			    json_is_string(json_object_get(err, "code")) &&
			    strcmp(json_string_value(json_object_get(err, "code")),
			    c->code) == 0, "%s: %s", c->name, out);
			CHECK_MSG(json_string_length(json_object_get(err, "message")) > 10,
			    "%s: no message", c->name);
		}
		json_decref(reply);
		free(out);
	}
}

static void
hello_result(void)
{
	const char *in = "{\"id\":1,\"type\":\"hello\"}";
	json_t *reply;
	size_t rlen;
	char *out;

	out = dispatch_frame((const unsigned char *)in, strlen(in), NULL, NULL, &rlen);
	reply = json_loads(out, 0, NULL);
	CHECK(json_integer_value(json_object_get(json_object_get(reply, "result"),
	    "protocol")) == 1);
	CHECK(json_is_string(json_object_get(json_object_get(reply, "result"), "version")));
	CHECK(json_array_size(json_object_get(json_object_get(reply, "result"),
	    "capabilities")) >= 1);
	json_decref(reply);
	free(out);
}

static void
long_id(void)
{
	char in[600];
	size_t rlen;
	char *out;

	/* 256 bytes pass, 257 do not. */
	snprintf(in, sizeof(in), "{\"id\":\"%0256d\",\"type\":\"hello\"}", 0);
	out = dispatch_frame((const unsigned char *)in, strlen(in), NULL, NULL, &rlen);
	CHECK(out != NULL && strstr(out, "\"ok\":true") != NULL);
	free(out);
	snprintf(in, sizeof(in), "{\"id\":\"%0257d\",\"type\":\"hello\"}", 0);
	out = dispatch_frame((const unsigned char *)in, strlen(in), NULL, NULL, &rlen);
	CHECK(out != NULL && strstr(out, "\"bad_request\"") != NULL &&
	    strstr(out, "\"id\":null") != NULL);
	free(out);
}

static void
deep_nesting(void)
{
	size_t depth = 10000, rlen;
	char *in = malloc(2 * depth), *out;

	memset(in, '[', depth);
	memset(in + depth, ']', depth);
	out = dispatch_frame((const unsigned char *)in, 2 * depth, NULL, NULL, &rlen);
	CHECK(out != NULL && strstr(out, "\"bad_json\"") != NULL);
	free(out);
	free(in);
}

static void
oversized_lookup(void)
{
	/* A hello frame above the lookup cap is too_large with its id. */
	size_t n = DISPATCH_LOOKUP_MAX + 64, rlen;
	char *in = malloc(n + 1), *out;
	int k = snprintf(in, n, "{\"id\":4,\"type\":\"hello\"}");

	memset(in + k, ' ', n - (size_t)k);
	in[n] = '\0';
	out = dispatch_frame((const unsigned char *)in, n, NULL, NULL, &rlen);
	CHECK(out != NULL && strstr(out, "\"too_large\"") != NULL &&
	    strstr(out, "\"id\":4") != NULL);
	free(out);
	free(in);
}

/* Large frames are refused from a scan of the envelope, but only when the
 * scan is unambiguous; otherwise the strict parser decides. */
static void
large_frames(void)
{
	static const struct {
		const char *head;
		const char *want;
	} large[] = {
		{ "{\"id\":\"big\",\"type\":\"hello\",\"pad\":\"", "\"too_large\"" },
		{ "{\"type\":\"hello\",\"x\":[{\"a\":\"}\"}],\"id\":9,\"pad\":\"",
		  "\"id\":9" },
		/* duplicate type: the parser refuses duplicates */
		{ "{\"id\":1,\"type\":\"hello\",\"type\":\"hello\",\"pad\":\"", "\"bad_json\"" },
		/* escaped key: not recognised by the scan, found by the parser */
		{ "{\"id\":2,\"t\\u0079pe\":\"hello\",\"pad\":\"", "\"too_large\"" },
		/* broken JSON: the parser says so */
		{ "{\"id\":3,\"type\":\"hello\" \"pad\":\"", "\"bad_json\"" },
		/* an unknown type is refused as too large for any lookup */
		{ "{\"id\":4,\"type\":\"nope\",\"pad\":\"", "\"too_large\"" },
	};
	size_t i, n = DISPATCH_LOOKUP_MAX + 100, k, rlen;
	char *in = malloc(n + 1), *out;

	for (i = 0; i < sizeof(large) / sizeof(large[0]); i++) {
		k = strlen(large[i].head);
		memcpy(in, large[i].head, k);
		memset(in + k, 'x', n - k - 2);
		memcpy(in + n - 2, "\"}", 2);
		in[n] = '\0';
		out = dispatch_frame((const unsigned char *)in, n, NULL, NULL, &rlen);
		CHECK_MSG(out != NULL && strstr(out, large[i].want) != NULL, "case %zu: %s", i,
		    out ? out : "(null)");
		free(out);
	}
	free(in);
}

static void
config_error_and_cancel(void)
{
	const char *in = "{\"id\":1,\"type\":\"hello\"}";
	struct config *cfg = config_fallback("bad thing in config.json");
	atomic_int cancel;
	size_t rlen;
	char *out;

	/* hello still answers, and says what is wrong. */
	out = dispatch_frame((const unsigned char *)in, strlen(in), cfg, NULL, &rlen);
	CHECK(out != NULL && strstr(out, "\"ok\":true") != NULL &&
	    strstr(out, "\"config_error\":\"bad thing in config.json\"") != NULL);
	free(out);
	config_free(cfg);

	/* hello is instant: still answered after the browser has gone. */
	atomic_init(&cancel, 1);
	out = dispatch_frame((const unsigned char *)in, strlen(in), NULL, &cancel, &rlen);
	CHECK(out != NULL && strstr(out, "\"ok\":true") != NULL);
	free(out);
}

void
suite_dispatch(void)
{
	const char *const *t;
	size_t cap;

	run_table();
	hello_result();
	long_id();
	deep_nesting();
	oversized_lookup();
	large_frames();
	config_error_and_cancel();

	for (t = dispatch_types(); *t != NULL; t++)
		CHECK(dispatch_find(*t) != NULL);
	CHECK(dispatch_find("nope") == NULL);
	cap = dispatch_frame_cap(NULL);
	CHECK(cap >= 2u * CONFIG_DEFAULT_MAIL_MAX && cap < 0xffffffffu);
	CHECK(FRAME_REPLY_MAX == 1048576u);
}
