/*
 * extid: Chromium extension ids.
 *
 * Chromium derives an extension's id from the "key" of its manifest (base64
 * DER SubjectPublicKeyInfo): the first 16 bytes of its SHA-256, each hex
 * digit 0-f written as a letter a-p. Used at build time (to compile in our
 * own id) and by install/diagnose to explain what a manifest allows.
 */
#ifndef TL_EXTID_H
#define TL_EXTID_H

#include <stddef.h>

#define EXTID_LEN 32

/* Computes the id for a base64 key. Returns 0 and fills out (NUL-terminated),
 * or -1 when the key is not valid base64 or is empty or over 16 KiB. */
int extid_from_key(const char *b64, char out[EXTID_LEN + 1]);

/* 1 when s is exactly 32 letters a-p. */
int extid_is_valid(const char *s, size_t len);

#endif
