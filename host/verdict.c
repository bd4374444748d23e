/*
 * verdict: names, the verdict rule, and JSON of a site verdict.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "regdomain.h"
#include "verdict.h"

static const char *const level_names[] = {
	[LEVEL_NONE] = "none", [LEVEL_UNKNOWN] = "unknown", [LEVEL_DV] = "dv",
	[LEVEL_IV] = "iv", [LEVEL_OV] = "ov", [LEVEL_EV] = "ev", [LEVEL_QWAC] = "qwac",
};

static const char *const value_names[] = {
	[SITE_UNKNOWN] = "unknown", [SITE_DANGER] = "danger",
	[SITE_CAUTION] = "caution", [SITE_TRUSTED] = "trusted",
};

static const char *const reason_names[] = {
	[REASON_NO_TLS] = "no_tls",
	[REASON_UNTRUSTED_ROOT] = "untrusted_root",
	[REASON_SELF_SIGNED] = "self_signed",
	[REASON_EXPIRED] = "expired",
	[REASON_NOT_YET_VALID] = "not_yet_valid",
	[REASON_HOSTNAME_MISMATCH] = "hostname_mismatch",
	[REASON_REVOKED] = "revoked",
	[REASON_CHAIN_TOO_LONG] = "chain_too_long",
	[REASON_INVALID_CHAIN] = "invalid_chain",
	[REASON_DISTRUSTED_ROOT] = "distrusted_root",
	[REASON_EV_NOT_ENABLED] = "ev_policy_not_enabled_for_root",
	[REASON_NO_POLICY] = "no_policy",
	[REASON_QC_WITHOUT_WEB] = "qc_statements_without_web_type",
	[REASON_QWAC_NOT_ON_EUTL] = "qwac_not_on_eutl",
	[REASON_REVOCATION_UNKNOWN] = "revocation_unknown",
	[REASON_ENTERPRISE_INVALID] = "enterprise_number_invalid",
	[REASON_NO_VALID_SCTS] = "no_valid_scts",
	[REASON_WEAK_KEY] = "weak_key",
};

_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == REASON_COUNT,
    "every reason needs a wire name");
_Static_assert(REASON_COUNT <= 32, "reasons are a 32-bit mask");

const char *
site_level_name(enum site_level l)
{
	return (unsigned)l < sizeof(level_names) / sizeof(level_names[0]) ?
	    level_names[l] : "none";
}

const char *
site_value_name(enum site_value s)
{
	return (unsigned)s < sizeof(value_names) / sizeof(value_names[0]) ?
	    value_names[s] : "danger";
}

const char *
site_reason_name(enum site_reason r)
{
	return (unsigned)r < REASON_COUNT ? reason_names[r] : "invalid_chain";
}

void
site_verdict_init(struct site_verdict *v, const char *host, unsigned port)
{
	memset(v, 0, sizeof(*v));
	verdict_copy_field(v->host, sizeof(v->host), host);
	v->port = port;
	v->verdict = SITE_UNKNOWN;
	v->level = LEVEL_NONE;
	v->revocation = REVOCATION_NOT_CHECKED;
}

void
site_verdict_finish(struct site_verdict *v, int unknown_is_caution)
{
	if (v->revocation == REVOCATION_REVOKED) {
		v->valid = 0;
		site_verdict_add_reason(v, REASON_REVOKED);
	}
	if (!v->valid) {
		/* Nothing is proven about who is behind an invalid (or revoked)
		 * certificate: no identity, no issuer. */
		memset(&v->identity, 0, sizeof(v->identity));
		v->issuer_organization[0] = '\0';
		v->issuer_common_name[0] = '\0';
		v->level = LEVEL_NONE;
		v->verdict = SITE_DANGER;
		return;
	}
	if (v->level == LEVEL_EV || v->level == LEVEL_QWAC) {
		v->verdict = SITE_TRUSTED;
		if (v->revocation == REVOCATION_UNKNOWN && unknown_is_caution)
			v->verdict = SITE_CAUTION;
	} else {
		v->verdict = SITE_CAUTION;
	}
}

void
verdict_copy_field(char *dst, size_t dstlen, const char *src)
{
	size_t n;

	if (dstlen == 0)
		return;
	if (src == NULL) {
		dst[0] = '\0';
		return;
	}
	n = strlen(src);
	if (n >= dstlen) {
		n = dstlen - 1;
		/* Step back over continuation bytes to a character start. */
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
verdict_format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* Adds key: string, or key: null when empty. */
static int
set_str(json_t *o, const char *key, const char *val)
{
	return json_object_set_new(o, key, val != NULL && val[0] != '\0' ?
	    json_string(val) : json_null());
}

json_t *
site_verdict_json(const struct site_verdict *v)
{
	json_t *o = json_object(), *reasons = json_array(), *id = json_object(),
	    *iss = json_object(), *ct = json_object();
	char when[32], reg[256];
	int i, bad = 0;

	if (o == NULL || reasons == NULL || id == NULL || iss == NULL || ct == NULL) {
		json_decref(o);
		json_decref(reasons);
		json_decref(id);
		json_decref(iss);
		json_decref(ct);
		return NULL;
	}
	for (i = 0; i < REASON_COUNT; i++) {
		if (v->reasons & (1u << i))
			bad |= json_array_append_new(reasons, json_string(reason_names[i]));
	}
	bad |= set_str(id, "organization", v->identity.organization);
	bad |= set_str(id, "country", v->identity.country);
	bad |= set_str(id, "jurisdiction_country", v->identity.jurisdiction_country);
	bad |= set_str(id, "registration_number", v->identity.registration_number);
	bad |= set_str(id, "organization_identifier", v->identity.organization_identifier);
	bad |= set_str(id, "enterprise_number", v->identity.enterprise_number);
	bad |= set_str(iss, "organization", v->issuer_organization);
	bad |= set_str(iss, "common_name", v->issuer_common_name);
	bad |= json_object_set_new(ct, "scts", json_integer(v->ct.total));
	bad |= json_object_set_new(ct, "valid", json_integer(v->ct.valid));
	bad |= json_object_set_new(ct, "operators", json_integer(v->ct.operators));

	bad |= json_object_set_new(o, "host", json_string(v->host));
	bad |= json_object_set_new(o, "port", json_integer(v->port));
	bad |= json_object_set_new(o, "registrable_domain",
	    regdomain_of(v->host, reg, sizeof(reg)) == 0 ? json_string(reg) : json_null());
	bad |= json_object_set_new(o, "verdict", json_string(site_value_name(v->verdict)));
	bad |= json_object_set_new(o, "level", json_string(site_level_name(v->level)));
	bad |= json_object_set_new(o, "valid", json_boolean(v->valid));
	bad |= json_object_set_new(o, "reasons", reasons);
	bad |= json_object_set_new(o, "identity", id);
	bad |= json_object_set_new(o, "issuer", iss);
	if (v->not_after != 0) {
		verdict_format_time(v->not_after, when, sizeof(when));
		bad |= json_object_set_new(o, "not_after", json_string(when));
	} else {
		bad |= json_object_set_new(o, "not_after", json_null());
	}
	bad |= json_object_set_new(o, "revocation",
	    json_string(revocation_name(v->revocation)));
	if (v->revocation_detail != NULL)
		bad |= json_object_set_new(o, "revocation_detail",
		    json_string(v->revocation_detail));
	bad |= json_object_set_new(o, "ct", ct);
	bad |= json_object_set_new(o, "public_root", json_boolean(v->public_root));
	bad |= set_str(o, "cert_sha256", v->leaf_sha256);
	bad |= json_object_set_new(o, "cached", json_boolean(v->cached));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
