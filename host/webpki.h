/*
 * webpki: the reference data the host is built with, generated at build time
 * by host/tools/gen_webpki from data/webpki/ (see data/README.md for the
 * sources and dates). Read-only tables; no I/O.
 */
#ifndef TL_WEBPKI_H
#define TL_WEBPKI_H

#include <stddef.h>

/* A root of Chromium's root store. */
struct webpki_anchor {
	unsigned char sha256[32];
	const char *name;
	const char *const *ev_oids;   /* EV policy OIDs this root may assert */
	size_t n_ev_oids;
	int eutl;                     /* on the EU Trusted List */
	long long sct_not_after;      /* distrust: leaves with an SCT (or, without
	                                 SCTs, a notBefore) after this Unix time
	                                 are not valid; 0 when unset */
	int constraints;              /* Chromium applies extra constraints */
};

/* A further certificate Chromium knows (mostly EU Trusted List CAs). */
struct webpki_cert {
	unsigned char sha256[32];
	const char *name;
	int eutl;
};

enum webpki_log_state {
	WEBPKI_LOG_PENDING = 0,
	WEBPKI_LOG_QUALIFIED,
	WEBPKI_LOG_USABLE,
	WEBPKI_LOG_READONLY,
	WEBPKI_LOG_RETIRED,
	WEBPKI_LOG_REJECTED
};

/* A Certificate Transparency log. */
struct webpki_ctlog {
	unsigned char log_id[32];       /* SHA-256 of the key's DER */
	const unsigned char *key_der;   /* SubjectPublicKeyInfo */
	size_t key_len;
	const char *description;
	const char *operator_name;
	enum webpki_log_state state;
	long long state_since;          /* Unix time of the state, 0 unknown */
};

/* A root of the second-opinion EV table (data/webpki/ev-roots.json). */
struct webpki_ev2 {
	unsigned char sha256[32];
	const char *const *ev_oids;
	size_t n_ev_oids;
};

extern const struct webpki_anchor webpki_anchors[];
extern const size_t webpki_n_anchors;
extern const struct webpki_cert webpki_certs[];
extern const size_t webpki_n_certs;
extern const struct webpki_ctlog webpki_ctlogs[];
extern const size_t webpki_n_ctlogs;
extern const struct webpki_ev2 webpki_ev2[];
extern const size_t webpki_n_ev2;

/* "Chromium net/data/ssl/chrome_root_store/root_store.textproto version 36" */
extern const char webpki_root_store_source[];
/* "Chrome CT log list version N (date)" */
extern const char webpki_ct_source[];
/* When these files were copied into data/webpki/ ("2026-11-28"; the
 * Makefile's WEBPKI_COPIED, the date data/README.md records). */
extern const char webpki_data_copied[];

/* Lookups by SHA-256 of a certificate's DER; NULL when absent. */
const struct webpki_anchor *webpki_find_anchor(const unsigned char sha256[32]);
const struct webpki_cert *webpki_find_cert(const unsigned char sha256[32]);
const struct webpki_ctlog *webpki_find_ctlog(const unsigned char log_id[32]);

#endif
