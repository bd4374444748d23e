/*
 * token: the PKCS#11 layer (eID cards and other tokens), the only code that
 * talks to pkcs11-helper. Modules are loaded lazily, never at host start-up.
 * This version reports the library in use; token listing and signing come
 * with their issue.
 */
#ifndef TL_TOKEN_H
#define TL_TOKEN_H

#include <stddef.h>

/* "pkcs11-helper 1.29.0" into buf (always NUL-terminated). Loads no module. */
void token_library_version(char *buf, size_t len);

#endif
