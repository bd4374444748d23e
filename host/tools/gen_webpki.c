/*
 * gen_webpki: build-time generator of host/webpki.h's tables.
 *
 * Reads Chromium's root store (EV policy OIDs, EU Trusted List flags,
 * distrust dates), the second-opinion EV table and the CT log list from
 * data/webpki/, checks them (hex lengths, base64, that every log id is the
 * SHA-256 of its key), and writes C source with the tables sorted by hash so
 * the host can binary-search them. Also writes, to stderr, where the two EV
 * tables disagree (recorded in docs/site-identity.md).
 *
 * usage: gen_webpki ROOT_STORE EV_ROOTS CT_LOGS > webpki_data.c
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../config.h"

static int
hex32(const char *hex, unsigned char out[32])
{
	size_t i;
	unsigned v;

	if (hex == NULL || strlen(hex) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void
emit_bytes(const unsigned char *b, size_t n)
{
	size_t i;

	printf("{");
	for (i = 0; i < n; i++)
		printf("%s0x%02x", i ? "," : "", b[i]);
	printf("}");
}

/* A C string literal of s (ASCII printable kept, the rest escaped). */
static void
emit_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\%03o", c);
		else
			putchar(c);
	}
	putchar('"');
}

static unsigned char *
b64(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out = malloc(n / 4 * 3 + 3);
	int r;

	if (out == NULL || n == 0 || n % 4 != 0) {
		free(out);
		return NULL;
	}
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	r = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (r < 0) {
		free(out);
		return NULL;
	}
	*len = (size_t)r - pad;
	return out;
}

struct item {
	unsigned char key[32];
	json_t *obj;
	const char *operator_name;
};

static int
cmp_item(const void *a, const void *b)
{
	return memcmp(((const struct item *)a)->key, ((const struct item *)b)->key, 32);
}

static json_t *
load(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL)
		fprintf(stderr, "%s:%d: %s\n", path, e.line, e.text);
	return j;
}

static int
emit_anchors(json_t *store, json_t *ev2)
{
	json_t *anchors = json_object_get(store, "anchors"), *a, *oids, *o;
	struct item *items;
	size_t i, j, n = json_array_size(anchors);
	unsigned char k[32];

	items = calloc(n + 1, sizeof(*items));
	json_array_foreach(anchors, i, a) {
		if (hex32(json_string_value(json_object_get(a, "sha256")), items[i].key) < 0) {
			fprintf(stderr, "anchor %zu: bad sha256\n", i);
			return -1;
		}
		items[i].obj = a;
	}
	qsort(items, n, sizeof(*items), cmp_item);
	for (i = 0; i < n; i++) {
		oids = json_object_get(items[i].obj, "ev_policy_oids");
		printf("static const char *const anchor_ev_%zu[] = {", i);
		json_array_foreach(oids, j, o) {
			emit_string(json_string_value(o));
			printf(", ");
		}
		printf("NULL};\n");
	}
	printf("\nconst struct webpki_anchor webpki_anchors[] = {\n");
	for (i = 0; i < n; i++) {
		json_t *sna = json_object_get(items[i].obj, "sct_not_after");
		printf("\t{ ");
		emit_bytes(items[i].key, 32);
		printf(",\n\t  ");
		emit_string(json_string_value(json_object_get(items[i].obj, "name")));
		printf(",\n\t  anchor_ev_%zu, %zu, %d, %lld, %d },\n", i,
		    json_array_size(json_object_get(items[i].obj, "ev_policy_oids")),
		    json_is_true(json_object_get(items[i].obj, "eutl")),
		    json_is_integer(sna) ? (long long)json_integer_value(sna) : 0LL,
		    json_is_true(json_object_get(items[i].obj, "constraints")));
	}
	printf("};\nconst size_t webpki_n_anchors = %zu;\n\n", n);

	/* Where the second opinion disagrees with Chromium (stderr, for docs). */
	for (i = 0; i < n; i++) {
		char hex[65];
		json_t *other = NULL;
		const char *key;
		json_t *v;

		for (j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02X", items[i].key[j]);
		json_object_foreach(json_object_get(ev2, "EV_config"), key, v) {
			if (strcasecmp(key, hex) == 0)
				other = v;
		}
		oids = json_object_get(items[i].obj, "ev_policy_oids");
		if ((json_array_size(oids) > 0) != (other != NULL && json_array_size(other) > 0))
			fprintf(stderr, "ev-disagree: %s: chromium %s, second opinion %s\n",
			    json_string_value(json_object_get(items[i].obj, "name")),
			    json_array_size(oids) > 0 ? "EV" : "not EV",
			    other != NULL ? "EV" : "not listed");
	}
	{
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(ev2, "EV_config"), key, v) {
			if (hex32(key, k) < 0)
				continue;
			for (j = 0; j < n && memcmp(items[j].key, k, 32) != 0; j++)
				;
			if (j == n)
				fprintf(stderr, "ev-disagree: %.16s...: second opinion EV, "
				    "not in Chromium's root store\n", key);
		}
	}
	free(items);
	return 0;
}

static int
emit_certs(json_t *store)
{
	json_t *certs = json_object_get(store, "additional_certs"), *c;
	struct item *items;
	size_t i, n = json_array_size(certs);

	items = calloc(n + 1, sizeof(*items));
	json_array_foreach(certs, i, c) {
		if (hex32(json_string_value(json_object_get(c, "sha256")), items[i].key) < 0) {
			fprintf(stderr, "additional cert %zu: bad sha256\n", i);
			return -1;
		}
		items[i].obj = c;
	}
	qsort(items, n, sizeof(*items), cmp_item);
	printf("const struct webpki_cert webpki_certs[] = {\n");
	for (i = 0; i < n; i++) {
		printf("\t{ ");
		emit_bytes(items[i].key, 32);
		printf(",\n\t  ");
		emit_string(json_string_value(json_object_get(items[i].obj, "name")));
		printf(", %d },\n", json_is_true(json_object_get(items[i].obj, "eutl")));
	}
	printf("};\nconst size_t webpki_n_certs = %zu;\n\n", n);
	free(items);
	return 0;
}

static int
emit_ev2(json_t *ev2)
{
	json_t *cfg = json_object_get(ev2, "EV_config"), *v, *o;
	struct item *items;
	const char *key;
	size_t i = 0, j, n = json_object_size(cfg);

	items = calloc(n + 1, sizeof(*items));
	json_object_foreach(cfg, key, v) {
		if (hex32(key, items[i].key) < 0) {
			fprintf(stderr, "ev-roots: bad key %s\n", key);
			return -1;
		}
		items[i++].obj = v;
	}
	qsort(items, n, sizeof(*items), cmp_item);
	for (i = 0; i < n; i++) {
		printf("static const char *const ev2_%zu[] = {", i);
		json_array_foreach(items[i].obj, j, o) {
			emit_string(json_string_value(o));
			printf(", ");
		}
		printf("NULL};\n");
	}
	printf("const struct webpki_ev2 webpki_ev2[] = {\n");
	for (i = 0; i < n; i++) {
		printf("\t{ ");
		emit_bytes(items[i].key, 32);
		printf(", ev2_%zu, %zu },\n", i, json_array_size(items[i].obj));
	}
	printf("};\nconst size_t webpki_n_ev2 = %zu;\n\n", n);
	free(items);
	return 0;
}

static const char *const states[] = { "pending", "qualified", "usable", "readonly",
	"retired", "rejected" };

static int
emit_logs(json_t *ct)
{
	json_t *ops = json_object_get(ct, "operators"), *op, *logs, *log, *st, *sv;
	struct item *items = NULL;
	size_t i, j, l, n = 0, cap = 0, keylen, idlen;
	unsigned char *key, *id, md[32];
	unsigned mdlen;
	const char *lists[] = { "logs", "tiled_logs" };
	const char *sname;

	json_array_foreach(ops, i, op) {
		for (l = 0; l < 2; l++) {
			logs = json_object_get(op, lists[l]);
			json_array_foreach(logs, j, log) {
				if (n == cap) {
					cap = cap ? cap * 2 : 64;
					items = realloc(items, cap * sizeof(*items));
				}
				id = b64(json_string_value(json_object_get(log, "log_id")), &idlen);
				key = b64(json_string_value(json_object_get(log, "key")), &keylen);
				if (id == NULL || key == NULL || idlen != 32 ||
				    EVP_Digest(key, keylen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
				    memcmp(md, id, 32) != 0) {
					fprintf(stderr, "ct log %s: bad key or log id\n",
					    json_string_value(json_object_get(log, "description")));
					return -1;
				}
				memcpy(items[n].key, id, 32);
				items[n].obj = log;
				items[n].operator_name = json_string_value(json_object_get(op, "name"));
				free(id);
				free(key);
				n++;
			}
		}
	}
	qsort(items, n, sizeof(*items), cmp_item);
	for (i = 0; i < n; i++) {
		key = b64(json_string_value(json_object_get(items[i].obj, "key")), &keylen);
		printf("static const unsigned char ctkey_%zu[] = ", i);
		emit_bytes(key, keylen);
		printf(";\n");
		free(key);
	}
	printf("const struct webpki_ctlog webpki_ctlogs[] = {\n");
	for (i = 0; i < n; i++) {
		time_t since = 0;
		int state = 0;

		st = json_object_get(items[i].obj, "state");
		json_object_foreach(st, sname, sv) {
			for (j = 0; j < sizeof(states) / sizeof(states[0]); j++) {
				if (strcmp(states[j], sname) == 0)
					state = (int)j;
			}
			config_parse_time(json_string_value(json_object_get(sv, "timestamp")),
			    &since);
		}
		key = b64(json_string_value(json_object_get(items[i].obj, "key")), &keylen);
		free(key);
		printf("\t{ ");
		emit_bytes(items[i].key, 32);
		printf(", ctkey_%zu, %zu,\n\t  ", i, keylen);
		emit_string(json_string_value(json_object_get(items[i].obj, "description")));
		printf(", ");
		emit_string(items[i].operator_name ? items[i].operator_name : "");
		printf(", %d, %lld },\n", state, (long long)since);
	}
	printf("};\nconst size_t webpki_n_ctlogs = %zu;\n\n", n);
	free(items);
	return 0;
}

int
main(int argc, char **argv)
{
	json_t *store, *ev2, *ct;
	int rc = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: gen_webpki ROOT_STORE EV_ROOTS CT_LOGS COPIED_DATE\n");
		return 2;
	}
	store = load(argv[1]);
	ev2 = load(argv[2]);
	ct = load(argv[3]);
	if (store == NULL || ev2 == NULL || ct == NULL)
		goto out;
	printf("/* Generated by host/tools/gen_webpki from %s, %s and %s: do not edit. */\n",
	    argv[1], argv[2], argv[3]);
	printf("#include <stddef.h>\n#include \"webpki.h\"\n\n");
	printf("const char webpki_root_store_source[] = ");
	emit_string(json_string_value(json_object_get(store, "source")));
	printf(" \" version %lld\";\n",
	    (long long)json_integer_value(json_object_get(store, "version_major")));
	printf("const char webpki_ct_source[] = \"Chrome CT log list version ");
	printf("%s", json_string_value(json_object_get(ct, "version")) ?
	    json_string_value(json_object_get(ct, "version")) : "?");
	printf("\";\n");
	printf("const char webpki_data_copied[] = ");
	emit_string(argv[4]);
	printf(";\n\n");
	if (emit_anchors(store, ev2) < 0 || emit_certs(store) < 0 || emit_ev2(ev2) < 0 ||
	    emit_logs(ct) < 0)
		goto out;
	rc = 0;
out:
	json_decref(store);
	json_decref(ev2);
	json_decref(ct);
	return rc;
}
