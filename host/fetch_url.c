/*
 * fetch_url: URLs and host names for the fetch module (see fetch.h):
 * fetch_parse_url, the normalised URL fetch_http hands to libcurl, and the
 * host-name check fetch_tls_handshake makes. Parsing only: no network I/O.
 *
 * What it refuses: anything but an absolute http(s) URL (the scheme is
 * checked before libcurl sees the URL, and the "https:/host" forms libcurl
 * tolerates are not taken), spaces and control characters, user names,
 * passwords and login options, IPv6 zone identifiers, ports outside 1 to
 * 65535, and hosts that are neither an IP literal nor a plausible DNS name:
 * nothing that could change the meaning of a URL the host is put into.
 *
 * IDNs: libcurl's URL API converts them to punycode (CURLU_PUNYCODE) and
 * reads them in the locale's charset, so a URL with non-ASCII bytes is
 * parsed under a C.UTF-8 locale given to the calling thread alone
 * (uselocale), never to the process.
 *
 * Limits: FETCH_URL_MAX bytes of URL, FETCH_HOST_MAX bytes of host.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <locale.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "fetch.h"
#include "fetch_internal.h"

#define STR_(x) #x
#define STR(x) STR_(x)

int
fetch_host_valid(const char *host, int *is_ip)
{
	unsigned char buf[sizeof(struct in6_addr)];
	size_t i, len, label_len = 0;
	int ok = 0, label_numeric = 1;

	*is_ip = 0;
	len = host != NULL ? strnlen(host, FETCH_HOST_MAX + 1) : 0;
	if (len == 0 || len > FETCH_HOST_MAX)
		goto out;
	if (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1) {
		*is_ip = ok = 1;
		goto out;
	}
	for (i = 0; i < len; i++) {
		char c = host[i];

		if (c == '.') {
			if (label_len == 0)
				goto out;               /* empty label */
			if (i + 1 < len) {              /* not the root's trailing dot */
				label_len = 0;
				label_numeric = 1;
			}
		} else if (c >= '0' && c <= '9') {
			label_len++;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-' || c == '_') {
			label_len++;
			label_numeric = 0;
		} else {
			goto out;
		}
	}
	/* A last label that is a number makes a malformed IPv4 address
	 * (WHATWG URL: "ends in a number"), never a DNS name. */
	ok = label_len > 0 && !label_numeric;
out:
	return ok;
}

/* curl_url_get into *part, first freeing what *part held: 1 when u has
 * that part. */
static int
url_get(CURLU *u, CURLUPart what, unsigned flags, char **part)
{
	curl_free(*part);
	*part = NULL;
	return curl_url_get(u, what, part, flags) == CURLUE_OK;
}

enum tl_status
fetch_parse_url_norm(const char *url, struct fetch_url *out, char **norm, char *err,
    size_t errlen)
{
	enum tl_status st = TL_BAD_URL;
	const char *msg = "The URL could not be parsed.";
	CURLU *u = NULL;
	CURLUcode rc;
	char *part = NULL, *host = NULL, *end = NULL;
	size_t len = 0, i, hlen;
	unsigned long port;
	int is_ip, non_ascii = 0;
	locale_t utf8 = (locale_t)0, saved = (locale_t)0;

	memset(out, 0, sizeof(*out));
	if (norm != NULL)
		*norm = NULL;
	msg = "No URL was given.";
	if (url != NULL)
		len = strnlen(url, FETCH_URL_MAX + 1);
	if (len == 0)
		goto out;
	msg = "The URL is longer than " STR(FETCH_URL_MAX) " bytes.";
	if (len > FETCH_URL_MAX)
		goto out;
	msg = "The URL contains spaces or control characters.";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c == 0x7f)
			goto out;
		non_ascii |= c >= 0x80;
	}
	/* The scheme is checked before libcurl sees the URL. */
	msg = "Only http and https URLs are accepted.";
	if (strncasecmp(url, "https:", 6) == 0)
		i = 6;
	else if (strncasecmp(url, "http:", 5) == 0)
		i = 5;
	else
		goto out;
	/* libcurl tolerates "https:/host" and "https:///host"; only the
	 * absolute form is taken. */
	msg = "The URL is not absolute.";
	if (strncmp(url + i, "//", 2) != 0 || url[i + 2] == '/')
		goto out;
	/* libcurl 7.88 converts IDNs with idn2_lookup_ul(), which reads the
	 * name in the locale's charset: give this thread (only) a UTF-8 one,
	 * as URLs are UTF-8. Without it IDNs are refused. */
	if (non_ascii) {
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
		if (utf8 != (locale_t)0)
			saved = uselocale(utf8);
	}
	msg = "Out of memory.";
	u = curl_url();
	if (u == NULL) {
		st = TL_INTERNAL;
		goto out;
	}
	/* No CURLU_NON_SUPPORT_SCHEME, no CURLU_DEFAULT_SCHEME, no guessing. */
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	msg = rc == CURLUE_BAD_PORT_NUMBER ? "The URL's port is not valid." :
	    rc == CURLUE_NO_HOST ? "The URL has no host." : "The URL could not be parsed.";
	if (rc != CURLUE_OK)
		goto out;
	msg = "The URL must not contain a user name or password.";
	if (url_get(u, CURLUPART_USER, 0, &part) ||
	    url_get(u, CURLUPART_PASSWORD, 0, &part) ||
	    url_get(u, CURLUPART_OPTIONS, 0, &part))
		goto out;
	msg = "IPv6 zone identifiers are not accepted.";
	if (url_get(u, CURLUPART_ZONEID, 0, &part))
		goto out;
	msg = "Only http and https URLs are accepted.";
	if (!url_get(u, CURLUPART_SCHEME, 0, &part) ||
	    (strcmp(part, "https") != 0 && strcmp(part, "http") != 0))
		goto out;
	memcpy(out->scheme, part, strlen(part) + 1);

	msg = "The URL's host name is not valid.";
	if (!url_get(u, CURLUPART_HOST, CURLU_PUNYCODE, &host))
		goto out;
	hlen = strlen(host);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		hlen -= 2;
		host[hlen] = '\0';
	}
	for (i = 0; i < hlen; i++) {
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	}
	if (hlen == 0)
		msg = "The URL has no host.";
	if (hlen == 0 || hlen > FETCH_HOST_MAX || !fetch_host_valid(host, &is_ip))
		goto out;
	memcpy(out->host, host, hlen + 1);
	out->is_ip = is_ip;

	msg = "The URL's port is not valid.";
	if (!url_get(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, &part))
		goto out;
	errno = 0;
	port = strtoul(part, &end, 10);
	if (errno != 0 || end == part || *end != '\0' || port == 0 || port > 65535)
		goto out;
	out->port = (unsigned)port;

	msg = "The URL could not be parsed.";
	if (norm != NULL) {
		if (!url_get(u, CURLUPART_URL, CURLU_PUNYCODE, &part))
			goto out;
		*norm = strdup(part);
		if (*norm == NULL) {
			st = TL_INTERNAL;
			msg = "Out of memory.";
			goto out;
		}
	}
	st = TL_OK;
out:
	if (st != TL_OK) {
		memset(out, 0, sizeof(*out));
		fetch_set_err(err, errlen, "%s", msg);
	}
	curl_free(part);
	curl_free(host);
	curl_url_cleanup(u);
	if (saved != (locale_t)0)
		uselocale(saved);
	if (utf8 != (locale_t)0)
		freelocale(utf8);
	return st;
}

enum tl_status
fetch_parse_url(const char *url, struct fetch_url *out, char *err, size_t errlen)
{
	enum tl_status st = TL_INTERNAL;

	if (out != NULL)
		st = fetch_parse_url_norm(url, out, NULL, err, errlen);
	return st;
}
