/*
 * ct_internal: ct_check against a caller-supplied log table instead of the
 * compiled-in one. For unit tests only; the host calls ct_check.
 */
#ifndef TL_CT_INTERNAL_H
#define TL_CT_INTERNAL_H

#include "ct.h"
#include "webpki.h"

/* As ct_check, with the logs of logs[0..n_logs) (parsed for this call). */
int ct_check_with(const struct webpki_ctlog *logs, size_t n_logs, X509 *leaf,
    X509 *issuer, const unsigned char *staple, size_t staple_len, time_t now,
    struct ct_result *out);

#endif
