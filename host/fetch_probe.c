/*
 * fetch_probe: one verified HTTPS request to a reference site for
 * diagnose (fetch_probe, see fetch.h): how long name resolution, the TCP
 * connection, the TLS handshake and the first response byte took, the
 * HTTP status, and the server's Date header for a clock comparison.
 *
 * Unlike fetch_tls_handshake, this one verifies the certificate as any
 * HTTPS client does (the system store, or TRUSTLENS_CA_FILE): a failure
 * here is what a helpdesk wants to see (an intercepting proxy, a broken
 * store). It sends a GET and stops at the first byte of the body: nothing
 * of the page is read or kept. Same guard, proxy, timeout and cancellation
 * rules as every other transfer (fetch.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "fetch.h"
#include "fetch_internal.h"
#include "log.h"
#include "version.h"

struct probe_state {
	time_t date;
	int stopped;          /* the write callback ended the transfer */
};

/* Header lines, one at a time (not NUL-terminated): keep the Date. */
static size_t
header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct probe_state *p = userp;
	size_t len = size * nmemb;
	char line[128];
	time_t t;

	if (len > 5 && len < sizeof(line) && strncasecmp(data, "Date:", 5) == 0) {
		memcpy(line, data + 5, len - 5);
		line[len - 5] = '\0';
		t = curl_getdate(line, NULL);
		if (t > 0)
			p->date = t;
	}
	return len;
}

/* The first body byte: enough, stop (curl reports CURLE_WRITE_ERROR). */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct probe_state *p = userp;

	(void)data;
	(void)size;
	(void)nmemb;
	p->stopped = 1;
	return 0;
}

static long
ms_of(CURL *easy, CURLINFO what)
{
	curl_off_t us = 0;

	if (curl_easy_getinfo(easy, what, &us) != CURLE_OK || us < 0)
		return -1;
	return (long)(us / 1000);
}

enum tl_status
fetch_probe(const struct config *cfg, const char *url, const atomic_int *cancel,
    struct fetch_probe_result *out, char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;
	struct probe_state p = { 0, 0 };
	struct xfer x;
	struct fetch_url u;
	char *norm = NULL, *ip = NULL;
	int bad = 0;

	memset(out, 0, sizeof(*out));
	out->dns_ms = out->connect_ms = out->tls_ms = out->first_byte_ms = -1;
	fetch_xfer_init(&x, cfg, cancel, FETCH_HANDSHAKE);
	memset(&u, 0, sizeof(u));
	st = fetch_parse_url_norm(url, &u, &norm, err, errlen);
	if (st != TL_OK)
		goto out;
	if (strcmp(u.scheme, "https") != 0) {
		st = TL_BAD_URL;
		fetch_set_err(err, errlen, "The reference site must be an https URL.");
		goto out;
	}
	st = fetch_xfer_prepare(&x, &u, norm, err, errlen);
	if (st != TL_OK)
		goto out;
	bad |= curl_easy_setopt(x.easy, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_USERAGENT, "TrustLens/" TL_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_HEADERFUNCTION, header_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_HEADERDATA, &p) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
	bad |= curl_easy_setopt(x.easy, CURLOPT_WRITEDATA, &p) != CURLE_OK;
	if (cfg != NULL && cfg->ca_file != NULL)
		bad |= curl_easy_setopt(x.easy, CURLOPT_CAINFO, cfg->ca_file) != CURLE_OK;
	x.setup_failed |= bad;
	st = fetch_xfer_run(&x, u.host, err, errlen);
	if (st != TL_OK && p.stopped && !x.setup_failed) {
		st = TL_OK;     /* we ended it at the first body byte */
		fetch_set_err(err, errlen, "%s", "");
	}
	out->via_proxy = x.via_proxy;
	if (x.easy != NULL) {
		out->dns_ms = ms_of(x.easy, CURLINFO_NAMELOOKUP_TIME_T);
		out->connect_ms = ms_of(x.easy, CURLINFO_CONNECT_TIME_T);
		out->tls_ms = ms_of(x.easy, CURLINFO_APPCONNECT_TIME_T);
		out->first_byte_ms = ms_of(x.easy, CURLINFO_STARTTRANSFER_TIME_T);
		if (curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &out->http_status) != CURLE_OK)
			out->http_status = 0;
		if (curl_easy_getinfo(x.easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL)
			snprintf(out->address, sizeof(out->address), "%s", ip);
	}
	out->server_date = p.date;
out:
	log_msg("fetch: probe %s port %u: %s, HTTP %ld", u.host[0] != '\0' ? u.host : "-",
	    u.port, status_code(st), out->http_status);
	fetch_xfer_cleanup(&x);
	free(norm);
	return st;
}

void
fetch_library_version(char *buf, size_t len)
{
	snprintf(buf, len, "libcurl %s", curl_version_info(CURLVERSION_NOW)->version);
}
