/*
 * webpki: look-ups in the generated tables (sorted by hash at build time).
 */
#include <stdlib.h>
#include <string.h>

#include "webpki.h"

static int
cmp_key(const void *key, const void *elem)
{
	/* Every table's entries start with their 32-byte hash. */
	return memcmp(key, elem, 32);
}

const struct webpki_anchor *
webpki_find_anchor(const unsigned char sha256[32])
{
	return bsearch(sha256, webpki_anchors, webpki_n_anchors, sizeof(webpki_anchors[0]),
	    cmp_key);
}

const struct webpki_cert *
webpki_find_cert(const unsigned char sha256[32])
{
	return bsearch(sha256, webpki_certs, webpki_n_certs, sizeof(webpki_certs[0]),
	    cmp_key);
}

const struct webpki_ctlog *
webpki_find_ctlog(const unsigned char log_id[32])
{
	return bsearch(log_id, webpki_ctlogs, webpki_n_ctlogs, sizeof(webpki_ctlogs[0]),
	    cmp_key);
}
