/*
 * addrguard: which network addresses the host may connect to.
 *
 * A web page can make the extension ask about any URL; without this guard
 * the host would be a probe into the user's network (router admin pages,
 * intranet servers, cloud metadata endpoints). Only globally routable
 * unicast addresses pass. Checked on the address actually connected to
 * (fetch calls it from libcurl's open-socket callback), so a DNS answer that
 * changes between look-up and connect cannot slip through.
 * TRUSTLENS_ALLOW_PRIVATE=1 lifts the rule (tests on loopback).
 */
#ifndef TL_ADDRGUARD_H
#define TL_ADDRGUARD_H

#include <stddef.h>
#include <sys/socket.h>

enum addrguard_class {
	ADDR_PUBLIC = 0,      /* globally routable unicast: allowed */
	ADDR_LOOPBACK,        /* 127/8, ::1 */
	ADDR_PRIVATE,         /* 10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10 (CGNAT) */
	ADDR_LINK_LOCAL,      /* 169.254/16, fe80::/10 */
	ADDR_MULTICAST,       /* 224/4, ff00::/8 */
	ADDR_UNSPECIFIED,     /* 0.0.0.0/8, :: */
	ADDR_MAPPED,          /* ::ffff:0:0/96, ::/96 compat, 64:ff9b::/96 NAT64, 2002::/16 6to4, 2001::/32 Teredo */
	ADDR_RESERVED,        /* documentation, benchmarking, 240/4, broadcast, IETF protocol assignments, ... */
	ADDR_INVALID          /* not an IPv4/IPv6 address */
};

/* Classifies a socket address (AF_INET or AF_INET6). */
enum addrguard_class addrguard_classify(const struct sockaddr *sa, size_t len);

/* Classifies a numeric address in text ("192.0.2.1", "::1", "[::1]" is
 * INVALID: no brackets). */
enum addrguard_class addrguard_classify_text(const char *ip);

/* "public", "loopback", "private", ... for logs and reasons. */
const char *addrguard_class_name(enum addrguard_class c);

#endif
