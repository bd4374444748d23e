/*
 * regdomain: the registrable domain of a host name ("example.co.uk" for
 * "login.example.co.uk"), from the Public Suffix List through libpsl: the
 * newest of the list compiled into libpsl and the system's copy (Debian's
 * publicsuffix package). It names the part of a host that a person should
 * read; it decides nothing about trust.
 */
#ifndef TL_REGDOMAIN_H
#define TL_REGDOMAIN_H

#include <stddef.h>

/* Writes the registrable domain of `host` (a lower-case DNS name, A-labels
 * or U-labels) into out and returns 0; -1 when there is none (an IP
 * literal, a public suffix itself, a single label, or it does not fit). */
int regdomain_of(const char *host, char *out, size_t len);

#endif
