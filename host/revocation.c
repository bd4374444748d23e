/*
 * revocation: OCSP responses and CRLs judged against a certificate at an
 * injected time (see revocation.h). Pure: bytes, certificates and `now` in,
 * a status and a stable reason out; no network, no files, no clock.
 *
 * Everything given here is hostile until proven otherwise: a response or
 * CRL counts only when it parses completely, carries a signature the
 * certificate's issuer (or, for OCSP, a responder the issuer delegated)
 * made, speaks about exactly this certificate and is current at `now`.
 * Refused: inputs over 1 MiB, trailing bytes after the DER, OCSP responses
 * signed by anyone else (including responders "trusted" merely because they
 * were supplied), delegated responders without an explicit
 * id-kp-OCSPSigning, partial CRLs (delta CRLs, indirect CRLs, CA-only,
 * attribute-only, reason-partitioned or other-partition CRLs) and CRLs with
 * critical extensions we do not process. Every refusal is
 * REVOCATION_UNKNOWN with a reason; only a proven answer is GOOD or REVOKED.
 * Limits: 1 MiB per input, URLs up to 2048 printable ASCII characters.
 */
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "revocation.h"

#define REV_INPUT_MAX (1024 * 1024)
#define REV_URL_MAX 2048
/* Clock skew tolerated between us and the responder or CRL issuer. */
#define REV_SKEW 300
/* An OCSP response without nextUpdate (RFC 6960 section 4.2.2.1: "newer
 * information is always available") is used for at most this long. */
#define REV_NO_NEXT_MAX (7 * 86400)

const char *
revocation_name(enum revocation_status s)
{
	switch (s) {
	case REVOCATION_GOOD:
		return "good";
	case REVOCATION_REVOKED:
		return "revoked";
	case REVOCATION_UNKNOWN:
		return "unknown";
	case REVOCATION_NOT_CHECKED:
	default:
		return "not_checked";
	}
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so that no time zone or timegm() is involved. */
static long long
rev_days(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* An ASN1_TIME as Unix seconds. Returns 0 or -1. */
static int
rev_time(const ASN1_TIME *t, long long *out)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = rev_days(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1,
	    (unsigned)tm.tm_mday) * 86400 + tm.tm_hour * 3600LL +
	    tm.tm_min * 60LL + tm.tm_sec;
	return 0;
}

/*
 * Is [this_update, next_update] current at now? OpenSSL's
 * OCSP_check_validity() and X509_cmp_time() read the real clock, and our
 * evaluation time is injected, so the same rules are applied here against
 * `now`: thisUpdate not later than now + skew; nextUpdate, when present,
 * not before thisUpdate and not earlier than now - next_skew; without
 * nextUpdate, thisUpdate not older than REV_NO_NEXT_MAX. Returns 0 (and the
 * nextUpdate, 0 when absent, in *next_out) or -1.
 */
static int
rev_current(const ASN1_TIME *this_update, const ASN1_TIME *next_update,
    time_t now, long long next_skew, time_t *next_out)
{
	long long tu, nu, n = (long long)now;

	if (rev_time(this_update, &tu) != 0 || tu > n + REV_SKEW)
		return -1;
	if (next_update == NULL) {
		if (tu < n - REV_NO_NEXT_MAX)
			return -1;
		*next_out = 0;
		return 0;
	}
	if (rev_time(next_update, &nu) != 0 || nu < tu || nu < n - next_skew)
		return -1;
	*next_out = (time_t)nu;
	return 0;
}

/* A verify callback that forgives nothing (a store's own may). */
static int
ocsp_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	(void)ctx;
	return ok;
}

/*
 * May `signer`, which is not the issuer itself, sign OCSP responses for
 * certificates `issuer` issued? RFC 6960 section 4.2.2.2: a delegated
 * responder's certificate is issued directly by the CA that issued the
 * certificate in question and carries id-kp-OCSPSigning in its extended key
 * usage. Each point is checked here, at `now`, rather than by
 * OCSP_basic_verify(): its chain check reads the real clock, and its
 * OCSP_TRUSTOTHER mode would accept any supplied certificate.
 *
 *  1. Directly issued: names and key identifiers chain, the issuer may sign
 *     certificates (X509_check_issued), and the issuer's key verifies the
 *     responder certificate's signature.
 *  2. id-kp-OCSPSigning explicitly present; anyExtendedKeyUsage or a
 *     missing EKU extension is not a delegation. Key usage, when present,
 *     allows digitalSignature; the extensions parse.
 *  3. The responder certificate chains to the trust store and is within its
 *     validity at `now` (X509_STORE_CTX with the check time set). Without a
 *     trust store no delegation is accepted.
 * The responder certificate's own revocation is not checked: RFC 6960
 * section 4.2.2.2.1 lets the CA mark it id-pkix-ocsp-nocheck, and such
 * certificates are kept short-lived instead (as browsers also assume).
 * Returns 0 when authorised, -1 otherwise.
 */
static int
ocsp_delegate_ok(X509 *signer, X509 *issuer, STACK_OF(X509) *chain,
    X509_STORE *trust, time_t now)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	EVP_PKEY *ikey;
	uint32_t flags;
	int i, rc = -1;

	if (trust == NULL)
		goto out;
	if (X509_check_issued(issuer, signer) != X509_V_OK)
		goto out;
	ikey = X509_get0_pubkey(issuer);
	if (ikey == NULL || X509_verify(signer, ikey) != 1)
		goto out;

	flags = X509_get_extension_flags(signer);
	if ((flags & EXFLAG_INVALID) != 0 || (flags & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN) == 0)
		goto out;
	if ((flags & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(signer) & KU_DIGITAL_SIGNATURE) == 0)
		goto out;

	untrusted = sk_X509_new_null();
	if (untrusted == NULL || sk_X509_push(untrusted, issuer) <= 0)
		goto out;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		if (sk_X509_push(untrusted, sk_X509_value(chain, i)) <= 0)
			goto out;
	}
	ctx = X509_STORE_CTX_new();
	if (ctx == NULL || X509_STORE_CTX_init(ctx, trust, signer, untrusted) != 1)
		goto out;
	if (X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_OCSP_HELPER) != 1)
		goto out;
	/* Whatever the caller configured on its store, this verification does
	 * not forgive errors and does check validity, at `now`. */
	X509_STORE_CTX_set_verify_cb(ctx, ocsp_verify_cb);
	X509_VERIFY_PARAM_clear_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_NO_CHECK_TIME);
	X509_STORE_CTX_set_time(ctx, 0, now);
	if (X509_verify_cert(ctx) != 1)
		goto out;
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	return rc;
}

/*
 * Is the response signed by someone allowed to speak for `issuer`? The
 * signer is located by the responder ID (by name or by key hash), looking
 * at the issuer and the chain first and at the certificates inside the
 * response last. OCSP_basic_verify() then checks only the signature with
 * that certificate's key (OCSP_NOINTERN: no other candidate;
 * OCSP_NOVERIFY: no clock-based chain check, and never OCSP_TRUSTOTHER);
 * authorisation is decided here: the signer is the issuer itself, or a
 * delegated responder that passes ocsp_delegate_ok().
 * Returns 0 when the signature is authentic and authorised, -1 otherwise.
 */
static int
ocsp_signer_ok(OCSP_BASICRESP *bs, X509 *issuer, STACK_OF(X509) *chain,
    X509_STORE *trust, time_t now)
{
	STACK_OF(X509) *extra = NULL, *only = NULL;
	X509 *signer = NULL;
	int i, rc = -1;

	extra = sk_X509_new_null();
	only = sk_X509_new_null();
	if (extra == NULL || only == NULL || sk_X509_push(extra, issuer) <= 0)
		goto out;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		if (sk_X509_push(extra, sk_X509_value(chain, i)) <= 0)
			goto out;
	}
	if (OCSP_resp_get0_signer(bs, &signer, extra) != 1 || signer == NULL)
		goto out;
	if (sk_X509_push(only, signer) <= 0)
		goto out;
	if (OCSP_basic_verify(bs, only, NULL, OCSP_NOINTERN | OCSP_NOVERIFY) <= 0)
		goto out;
	if (X509_cmp(signer, issuer) == 0) {
		rc = 0;
		goto out;
	}
	rc = ocsp_delegate_ok(signer, issuer, chain, trust, now);
out:
	sk_X509_free(only);
	sk_X509_free(extra);
	return rc;
}

/*
 * The status the response gives for (leaf, issuer). Every single response
 * whose CertID matches (SHA-1 or SHA-256: hash algorithm, issuer name hash,
 * issuer key hash and serial) is considered; the current ones decide, with
 * revoked over unknown over good. Sets *why when the result is UNKNOWN.
 */
static enum revocation_status
ocsp_status(OCSP_BASICRESP *bs, X509 *leaf, X509 *issuer, time_t now,
    time_t *next_out, time_t *revoked_at, const char **why)
{
	static const EVP_MD *(*const digests[])(void) = { EVP_sha1, EVP_sha256 };
	enum revocation_status result = REVOCATION_UNKNOWN;
	int seen = 0, current = 0, revoked = 0, unknown = 0, good = 0;
	time_t next = 0, n_revoked = 0, n_unknown = 0, n_good = 0;
	OCSP_CERTID *id = NULL;
	size_t d;
	int idx;

	*why = "ocsp_unparseable";
	for (d = 0; d < sizeof(digests) / sizeof(digests[0]); d++) {
		OCSP_CERTID_free(id);
		id = OCSP_cert_to_id(digests[d](), leaf, issuer);
		if (id == NULL)
			goto out;
		for (idx = OCSP_resp_find(bs, id, -1); idx >= 0;
		    idx = OCSP_resp_find(bs, id, idx)) {
			OCSP_SINGLERESP *single = OCSP_resp_get0(bs, idx);
			ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
			ASN1_GENERALIZEDTIME *revtime = NULL;
			int st;

			seen = 1;
			st = OCSP_single_get0_status(single, NULL, &revtime,
			    &thisupd, &nextupd);
			if (rev_current(thisupd, nextupd, now, REV_SKEW, &next) != 0)
				continue;
			current = 1;
			switch (st) {
			case V_OCSP_CERTSTATUS_REVOKED:
				if (!revoked) {
					long long rt = 0;
					n_revoked = next;
					if (revtime != NULL && rev_time(revtime, &rt) == 0)
						*revoked_at = (time_t)rt;
				}
				revoked = 1;
				break;
			case V_OCSP_CERTSTATUS_GOOD:
				if (!good)
					n_good = next;
				good = 1;
				break;
			default:
				/* V_OCSP_CERTSTATUS_UNKNOWN, or malformed. */
				if (!unknown)
					n_unknown = next;
				unknown = 1;
				break;
			}
		}
	}
	if (revoked) {
		result = REVOCATION_REVOKED;
		*next_out = n_revoked;
	} else if (unknown) {
		*why = "ocsp_unknown_cert";
		*next_out = n_unknown;
	} else if (good) {
		result = REVOCATION_GOOD;
		*next_out = n_good;
	} else if (seen && !current) {
		*why = "ocsp_stale";
	} else {
		*why = "ocsp_wrong_cert";
	}
out:
	OCSP_CERTID_free(id);
	return result;
}

enum revocation_status
revocation_check_ocsp(const unsigned char *der, size_t len, X509 *leaf,
    X509 *issuer, STACK_OF(X509) *chain, X509_STORE *trust, time_t now,
    time_t *next_update, const char **reason)
{
	time_t revoked_at = 0;

	return revocation_check_ocsp_at(der, len, leaf, issuer, chain, trust, now,
	    next_update, &revoked_at, reason);
}

enum revocation_status
revocation_check_ocsp_at(const unsigned char *der, size_t len, X509 *leaf,
    X509 *issuer, STACK_OF(X509) *chain, X509_STORE *trust, time_t now,
    time_t *next_update, time_t *revoked_at, const char **reason)
{
	enum revocation_status result = REVOCATION_UNKNOWN;
	const char *why = "ocsp_unparseable";
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	time_t next = 0;

	ERR_clear_error();
	if (der == NULL || len == 0 || len > REV_INPUT_MAX || leaf == NULL ||
	    issuer == NULL)
		goto out;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL || p != der + len)
		goto out;
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		why = "ocsp_not_successful";
		goto out;
	}
	bs = OCSP_response_get1_basic(resp);
	if (bs == NULL)
		goto out;
	if (ocsp_signer_ok(bs, issuer, chain, trust, now) != 0) {
		why = "ocsp_bad_signature";
		goto out;
	}
	*revoked_at = 0;
	result = ocsp_status(bs, leaf, issuer, now, &next, revoked_at, &why);
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	if (next_update != NULL)
		*next_update = next;
	if (reason != NULL)
		*reason = result == REVOCATION_UNKNOWN ? why : NULL;
	return result;
}

/* A PEM pass phrase callback that refuses: hostile PEM must never prompt. */
static int
rev_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* A CRL from DER (exactly len bytes) or PEM (leading "-----BEGIN"). */
static X509_CRL *
crl_parse(const unsigned char *data, size_t len)
{
	static const char pem[] = "-----BEGIN";
	const unsigned char *p = data;
	X509_CRL *crl = NULL;
	BIO *bio = NULL;
	size_t i = 0;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
	    data[i] == '\n'))
		i++;
	if (len - i >= sizeof(pem) - 1 &&
	    memcmp(data + i, pem, sizeof(pem) - 1) == 0) {
		bio = BIO_new_mem_buf(data, (int)len);
		if (bio != NULL)
			crl = PEM_read_bio_X509_CRL(bio, NULL, rev_no_password, NULL);
		goto out;
	}
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl != NULL && p != data + len) {
		X509_CRL_free(crl);
		crl = NULL;
	}
out:
	BIO_free(bio);
	return crl;
}

/* 1 when nid is a CRL extension (entry: CRL entry extension) we process or
 * may safely ignore even when marked critical. */
static int
crl_ext_known(int nid, int entry)
{
	if (entry)
		return nid == NID_crl_reason || nid == NID_invalidity_date ||
		    nid == NID_hold_instruction_code;
	return nid == NID_issuing_distribution_point || nid == NID_crl_number ||
	    nid == NID_authority_key_identifier || nid == NID_issuer_alt_name ||
	    nid == NID_delta_crl || nid == NID_freshest_crl ||
	    nid == NID_info_access;
}

/* RFC 5280 sections 5.2 and 5.3: a CRL with a critical extension (or
 * critical entry extension) we cannot process must not be used at all.
 * Returns 0 or -1. */
static int
crl_critical_ok(X509_CRL *crl)
{
	STACK_OF(X509_REVOKED) *revoked;
	int i, j;

	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		X509_EXTENSION *ext = X509_CRL_get_ext(crl, i);
		if (X509_EXTENSION_get_critical(ext) &&
		    !crl_ext_known(OBJ_obj2nid(X509_EXTENSION_get_object(ext)), 0))
			return -1;
	}
	revoked = X509_CRL_get_REVOKED(crl);
	for (i = 0; i < sk_X509_REVOKED_num(revoked); i++) {
		X509_REVOKED *rev = sk_X509_REVOKED_value(revoked, i);
		for (j = 0; j < X509_REVOKED_get_ext_count(rev); j++) {
			X509_EXTENSION *ext = X509_REVOKED_get_ext(rev, j);
			if (X509_EXTENSION_get_critical(ext) &&
			    !crl_ext_known(OBJ_obj2nid(X509_EXTENSION_get_object(ext)), 1))
				return -1;
		}
	}
	return 0;
}

/* RFC 5280 section 6.3.3 (b)(2)(i): an IDP distribution point name must
 * match one of the full names in the certificate's CRL distribution
 * points. Only fullName forms are compared; anything else does not match.
 * Returns 0 on a match, -1 otherwise. */
static int
crl_dp_matches(const DIST_POINT_NAME *idp_name, X509 *leaf)
{
	STACK_OF(DIST_POINT) *dps = NULL;
	int i, j, k, rc = -1;

	if (idp_name->type != 0)
		goto out;
	dps = X509_get_ext_d2i(leaf, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++) {
			GENERAL_NAME *a = sk_GENERAL_NAME_value(
			    dp->distpoint->name.fullname, j);
			for (k = 0; k < sk_GENERAL_NAME_num(idp_name->name.fullname); k++) {
				if (GENERAL_NAME_cmp(a, sk_GENERAL_NAME_value(
				    idp_name->name.fullname, k)) == 0) {
					rc = 0;
					goto out;
				}
			}
		}
	}
out:
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return rc;
}

/*
 * Does this CRL cover the certificate completely? Refused as "crl_scope":
 * delta CRLs (they list only changes), and by the issuing distribution
 * point extension: indirect CRLs, CA-only or attribute-certificate-only
 * CRLs, CRLs partitioned by reason, user-only CRLs when the certificate is
 * a CA, and CRLs for another distribution point. Also refused: critical
 * extensions we do not process. Returns 0 or -1.
 */
static int
crl_scope_ok(X509_CRL *crl, X509 *leaf)
{
	ISSUING_DIST_POINT *idp = NULL;
	ASN1_INTEGER *delta = NULL;
	int crit = -1, rc = -1;

	if (crl_critical_ok(crl) != 0)
		goto out;
	delta = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
	if (delta != NULL || crit != -1)
		goto out;
	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
	if (idp == NULL) {
		/* -1: absent; anything else: malformed or repeated. */
		rc = crit == -1 ? 0 : -1;
		goto out;
	}
	if (idp->onlyCA || idp->onlyattr || idp->indirectCRL ||
	    idp->onlysomereasons != NULL)
		goto out;
	if (idp->onlyuser && X509_check_ca(leaf) != 0)
		goto out;
	if (idp->distpoint != NULL && crl_dp_matches(idp->distpoint, leaf) != 0)
		goto out;
	rc = 0;
out:
	ISSUING_DIST_POINT_free(idp);
	ASN1_INTEGER_free(delta);
	return rc;
}

enum revocation_status
revocation_check_crl(const unsigned char *data, size_t len, X509 *leaf,
    X509 *issuer, time_t now, time_t *next_update, const char **reason)
{
	time_t revoked_at = 0;

	return revocation_check_crl_at(data, len, leaf, issuer, now, next_update,
	    &revoked_at, reason);
}

enum revocation_status
revocation_check_crl_at(const unsigned char *data, size_t len, X509 *leaf,
    X509 *issuer, time_t now, time_t *next_update, time_t *revoked_at,
    const char **reason)
{
	long long rt = 0;

	enum revocation_status result = REVOCATION_UNKNOWN;
	const char *why = "crl_unparseable";
	X509_REVOKED *entry = NULL;
	X509_CRL *crl = NULL;
	EVP_PKEY *ikey;
	time_t next = 0;
	uint32_t flags;

	ERR_clear_error();
	*revoked_at = 0;
	if (data == NULL || len == 0 || len > REV_INPUT_MAX || leaf == NULL ||
	    issuer == NULL)
		goto out;
	crl = crl_parse(data, len);
	if (crl == NULL)
		goto out;
	why = "crl_wrong_issuer";
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(leaf)) != 0 ||
	    X509_NAME_cmp(X509_get_subject_name(issuer), X509_get_issuer_name(leaf)) != 0)
		goto out;
	why = "crl_bad_signature";
	ikey = X509_get0_pubkey(issuer);
	if (ikey == NULL || X509_CRL_verify(crl, ikey) != 1)
		goto out;
	/* RFC 5280 section 4.2.1.3: a CRL signer asserts cRLSign. */
	flags = X509_get_extension_flags(issuer);
	if ((flags & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0)
		goto out;
	why = "crl_stale";
	if (rev_current(X509_CRL_get0_lastUpdate(crl),
	    X509_CRL_get0_nextUpdate(crl), now, 0, &next) != 0)
		goto out;
	why = "crl_scope";
	if (crl_scope_ok(crl, leaf) != 0)
		goto out;
	/* 1: listed; 2: listed as removeFromCRL, i.e. no longer revoked. */
	switch (X509_CRL_get0_by_cert(crl, &entry, leaf)) {
	case 0:
	case 2:
		result = REVOCATION_GOOD;
		break;
	case 1:
		result = REVOCATION_REVOKED;
		if (rev_time(X509_REVOKED_get0_revocationDate(entry), &rt) == 0)
			*revoked_at = (time_t)rt;
		break;
	default:
		why = "crl_unparseable";
		break;
	}
out:
	X509_CRL_free(crl);
	ERR_clear_error();
	if (next_update != NULL)
		*next_update = result == REVOCATION_UNKNOWN ? 0 : next;
	if (reason != NULL)
		*reason = result == REVOCATION_UNKNOWN ? why : NULL;
	return result;
}

/* Case-insensitive ASCII prefix test. */
static int
rev_has_prefix(const unsigned char *s, size_t n, const char *prefix)
{
	size_t i, plen = strlen(prefix);

	if (n <= plen)
		return 0;
	for (i = 0; i < plen; i++) {
		unsigned char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)prefix[i])
			return 0;
	}
	return 1;
}

/* A malloc'd copy of a URI general name when it is an acceptable URL:
 * http:// (or https:// when allowed), at most REV_URL_MAX bytes, printable
 * ASCII without spaces. NULL otherwise. */
static char *
rev_url(const GENERAL_NAME *gn, int allow_https)
{
	const unsigned char *s;
	char *url = NULL;
	int n, i;

	if (gn == NULL || gn->type != GEN_URI)
		goto out;
	s = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
	n = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
	if (s == NULL || n <= 0 || n > REV_URL_MAX)
		goto out;
	for (i = 0; i < n; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			goto out;
	}
	if (!rev_has_prefix(s, (size_t)n, "http://") &&
	    !(allow_https && rev_has_prefix(s, (size_t)n, "https://")))
		goto out;
	url = malloc((size_t)n + 1);
	if (url == NULL)
		goto out;
	memcpy(url, s, (size_t)n);
	url[n] = '\0';
out:
	return url;
}

char *
revocation_crl_url(X509 *cert)
{
	STACK_OF(DIST_POINT) *dps = NULL;
	char *url = NULL;
	int i, j;

	ERR_clear_error();
	if (cert == NULL)
		goto out;
	dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; url == NULL && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		/* Partitioned (reasons) or indirect (cRLIssuer) points lead to
		 * CRLs that revocation_check_crl refuses anyway. */
		if (dp->distpoint == NULL || dp->distpoint->type != 0 ||
		    dp->reasons != NULL || dp->CRLissuer != NULL)
			continue;
		for (j = 0; url == NULL &&
		    j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++)
			url = rev_url(sk_GENERAL_NAME_value(
			    dp->distpoint->name.fullname, j), 1);
	}
out:
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
	return url;
}

char *
revocation_ocsp_url(X509 *cert)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	char *url = NULL;
	int i;

	ERR_clear_error();
	if (cert == NULL)
		goto out;
	aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
	for (i = 0; url == NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == NID_ad_OCSP)
			url = rev_url(ad->location, 0);
	}
out:
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
	return url;
}

int
revocation_ocsp_request(X509 *leaf, X509 *issuer, unsigned char **der,
    size_t *len)
{
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL;
	unsigned char *buf = NULL, *p;
	int n, rc = -1;

	*der = NULL;
	*len = 0;
	ERR_clear_error();
	if (leaf == NULL || issuer == NULL)
		goto out;
	req = OCSP_REQUEST_new();
	id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
	if (req == NULL || id == NULL || OCSP_request_add0_id(req, id) == NULL)
		goto out;
	id = NULL;	/* owned by req */
	if (OCSP_request_add1_nonce(req, NULL, -1) != 1)
		goto out;
	n = i2d_OCSP_REQUEST(req, NULL);
	if (n <= 0)
		goto out;
	buf = malloc((size_t)n);
	if (buf == NULL)
		goto out;
	p = buf;
	if (i2d_OCSP_REQUEST(req, &p) != n)
		goto out;
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return rc;
}
