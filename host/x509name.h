/*
 * x509name: reading one attribute of a certificate name as UTF-8, safely.
 * Used by the site classifier, the S/MIME signer reader and the token
 * listing alike, with the one certificate-time conversion they share.
 */
#ifndef TL_X509NAME_H
#define TL_X509NAME_H

#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

/* The first value of nid in name, converted with ASN1_STRING_to_UTF8 and
 * cut on a UTF-8 boundary into out. Returns 0 (absent: out is "", or
 * copied) or -1 when the value holds a NUL (a classic name-spoofing trick)
 * or cannot be converted (out is then ""). */
int x509name_field(const X509_NAME *name, int nid, char *out, size_t outlen);

/* A certificate time (notBefore, notAfter) as seconds since the epoch, UTC;
 * 0 when absent or not a valid time. */
time_t x509name_time(const ASN1_TIME *t);

#endif
