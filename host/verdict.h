/*
 * verdict: the site verdict of DESIGN.md s. 4 (contract: field names and
 * values), as a plain structure and as JSON.
 *
 * The structure owns no heap memory: identity strings are fixed buffers,
 * cut on a UTF-8 character boundary, so a verdict can be copied, cached and
 * freed without ceremony. A verdict starts as "unknown" and must be proven
 * trusted: site_verdict_finish derives `verdict` from validity, level and
 * revocation, and nothing else sets it.
 */
#ifndef TL_VERDICT_H
#define TL_VERDICT_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "ct.h"
#include "revocation.h"

enum site_level {
	LEVEL_NONE = 0,   /* no proven identity: not valid, or no TLS */
	LEVEL_UNKNOWN,    /* valid, but no policy we can read */
	LEVEL_DV,
	LEVEL_IV,
	LEVEL_OV,
	LEVEL_EV,
	LEVEL_QWAC
};

enum site_value {
	SITE_UNKNOWN = 0, /* not evaluated: never shown as an answer */
	SITE_DANGER,
	SITE_CAUTION,
	SITE_TRUSTED
};

/* Reasons, in the order they are reported. Stable wire names in
 * verdict.c. */
enum site_reason {
	REASON_NO_TLS = 0,
	REASON_UNTRUSTED_ROOT,
	REASON_SELF_SIGNED,
	REASON_EXPIRED,
	REASON_NOT_YET_VALID,
	REASON_HOSTNAME_MISMATCH,
	REASON_REVOKED,
	REASON_CHAIN_TOO_LONG,
	REASON_INVALID_CHAIN,
	REASON_DISTRUSTED_ROOT,
	REASON_EV_NOT_ENABLED,
	REASON_NO_POLICY,
	REASON_QC_WITHOUT_WEB,
	REASON_QWAC_NOT_ON_EUTL,
	REASON_REVOCATION_UNKNOWN,
	REASON_ENTERPRISE_INVALID,
	REASON_NO_VALID_SCTS,
	REASON_WEAK_KEY,
	REASON_COUNT
};

#define VERDICT_FIELD_MAX 256

struct site_identity {
	char organization[VERDICT_FIELD_MAX];
	char country[8];
	char jurisdiction_country[8];
	char registration_number[VERDICT_FIELD_MAX];
	char organization_identifier[VERDICT_FIELD_MAX];
	char enterprise_number[16];      /* "0123.456.789" */
	char common_name[VERDICT_FIELD_MAX];
};

struct site_verdict {
	char host[256];
	unsigned port;
	enum site_value verdict;
	enum site_level level;
	int valid;
	uint32_t reasons;                /* bit (1u << enum site_reason) */
	struct site_identity identity;
	char issuer_organization[VERDICT_FIELD_MAX];
	char issuer_common_name[VERDICT_FIELD_MAX];
	time_t not_before, not_after;    /* of the leaf; 0 when none */
	enum revocation_status revocation;
	const char *revocation_detail;   /* static reason code or NULL */
	struct ct_result ct;
	int public_root;                 /* the chain ends at a Chromium root */
	char leaf_sha256[65];
	char root_sha256[65];
	int cached;
	time_t checked_at;
};

void site_verdict_init(struct site_verdict *v, const char *host, unsigned port);

static inline void
site_verdict_add_reason(struct site_verdict *v, enum site_reason r)
{
	v->reasons |= 1u << r;
}

static inline int
site_verdict_has_reason(const struct site_verdict *v, enum site_reason r)
{
	return (v->reasons & (1u << r)) != 0;
}

/* Derives `verdict` (and forces level "none" when not valid). Policy for an
 * unknown revocation status of a trusted site: downgrade to caution when
 * unknown_is_caution is set (config "revocation_unknown": "caution"). */
void site_verdict_finish(struct site_verdict *v, int unknown_is_caution);

const char *site_level_name(enum site_level l);
const char *site_value_name(enum site_value s);
const char *site_reason_name(enum site_reason r);

/* The contract JSON. NULL when out of memory. */
json_t *site_verdict_json(const struct site_verdict *v);

/* Copies src into a fixed buffer, cutting on a UTF-8 boundary. */
void verdict_copy_field(char *dst, size_t dstlen, const char *src);

/* RFC 3339 UTC ("2026-01-31T12:00:00Z") into buf (at least 21 bytes). */
void verdict_format_time(time_t t, char *buf, size_t len);

#endif
