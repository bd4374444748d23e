/*
 * addrguard: classifies IPv4 and IPv6 addresses so that the host connects
 * only to globally routable unicast addresses (see addrguard.h for why).
 *
 * The tables follow the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890 and its updates). The rule errs on the side of
 * refusing: a range IANA marks as globally reachable but where no web site
 * lives (192.0.0.9/32 PCP anycast, 2001:3::/32 AMT, ...) is still refused,
 * and for IPv6 everything outside 2000::/3, the only block IANA allocates
 * for global unicast, is refused. Addresses that embed or tunnel to an IPv4
 * address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are MAPPED and
 * are never unwrapped and allowed: the embedded IPv4 address is not what
 * the socket connects to, and unwrapping is how such guards get bypassed.
 *
 * Text is parsed with inet_pton only: "127.1", "0x7f.1" and "017.0.0.1"
 * are INVALID, never read the lenient inet_aton way. Pure functions, no
 * state, thread-safe.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "addrguard.h"

struct range4 {
	uint32_t net;   /* host byte order */
	unsigned bits;
	enum addrguard_class cls;
};

/* IANA IPv4 Special-Purpose Address Registry. First match wins, so more
 * specific entries come first where ranges nest. */
static const struct range4 ranges4[] = {
	{ 0x00000000u, 8, ADDR_UNSPECIFIED },   /* 0.0.0.0/8 "this network", RFC 791 */
	{ 0x0a000000u, 8, ADDR_PRIVATE },       /* 10.0.0.0/8, RFC 1918 */
	{ 0x64400000u, 10, ADDR_PRIVATE },      /* 100.64.0.0/10 shared (CGNAT), RFC 6598 */
	{ 0x7f000000u, 8, ADDR_LOOPBACK },      /* 127.0.0.0/8, RFC 1122 */
	{ 0xa9fe0000u, 16, ADDR_LINK_LOCAL },   /* 169.254.0.0/16, RFC 3927 */
	{ 0xac100000u, 12, ADDR_PRIVATE },      /* 172.16.0.0/12, RFC 1918 */
	{ 0xc0000000u, 24, ADDR_RESERVED },     /* 192.0.0.0/24 IETF protocol assignments, RFC 6890 */
	{ 0xc0000200u, 24, ADDR_RESERVED },     /* 192.0.2.0/24 TEST-NET-1, RFC 5737 */
	{ 0xc0586300u, 24, ADDR_RESERVED },     /* 192.88.99.0/24 6to4 relay anycast (deprecated), RFC 7526 */
	{ 0xc0a80000u, 16, ADDR_PRIVATE },      /* 192.168.0.0/16, RFC 1918 */
	{ 0xc6120000u, 15, ADDR_RESERVED },     /* 198.18.0.0/15 benchmarking, RFC 2544 */
	{ 0xc6336400u, 24, ADDR_RESERVED },     /* 198.51.100.0/24 TEST-NET-2, RFC 5737 */
	{ 0xcb007100u, 24, ADDR_RESERVED },     /* 203.0.113.0/24 TEST-NET-3, RFC 5737 */
	{ 0xe0000000u, 4, ADDR_MULTICAST },     /* 224.0.0.0/4, RFC 5771 */
	{ 0xf0000000u, 4, ADDR_RESERVED },      /* 240.0.0.0/4 reserved, RFC 1112; includes
	                                           255.255.255.255 limited broadcast, RFC 919 */
};

struct range6 {
	unsigned char net[16];
	unsigned bits;
	enum addrguard_class cls;
};

/* IANA IPv6 Special-Purpose Address Registry plus the address architecture
 * (RFC 4291). First match wins: specific entries before the blocks that
 * contain them. Anything matching no entry and outside 2000::/3 is
 * RESERVED (see classify6). */
static const struct range6 ranges6[] = {
	/* ::/128 unspecified, RFC 4291 */
	{ { 0 }, 128, ADDR_UNSPECIFIED },
	/* ::1/128 loopback, RFC 4291 */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, ADDR_LOOPBACK },
	/* ::ffff:0:0/96 IPv4-mapped, RFC 4291 */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, ADDR_MAPPED },
	/* ::ffff:0:0:0/96 IPv4-translated (SIIT), RFC 2765 */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, ADDR_MAPPED },
	/* ::/96 IPv4-compatible (deprecated), RFC 4291 s. 2.5.5.1 */
	{ { 0 }, 96, ADDR_MAPPED },
	/* 64:ff9b::/96 NAT64 well-known prefix, RFC 6052 */
	{ { 0, 0x64, 0xff, 0x9b }, 96, ADDR_MAPPED },
	/* 64:ff9b:1::/48 local-use NAT64, RFC 8215 */
	{ { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, ADDR_MAPPED },
	/* 100::/64 discard-only, RFC 6666 */
	{ { 0x01, 0 }, 64, ADDR_RESERVED },
	/* 2001::/32 Teredo, RFC 4380 */
	{ { 0x20, 0x01, 0, 0 }, 32, ADDR_MAPPED },
	/* 2001::/23 IETF protocol assignments, RFC 2928 (benchmarking
	 * 2001:2::/48, ORCHID, AMT, AS112, ...) */
	{ { 0x20, 0x01, 0, 0 }, 23, ADDR_RESERVED },
	/* 2001:db8::/32 documentation, RFC 3849 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, ADDR_RESERVED },
	/* 2002::/16 6to4, RFC 3056 */
	{ { 0x20, 0x02 }, 16, ADDR_MAPPED },
	/* 3fff::/20 documentation, RFC 9637 */
	{ { 0x3f, 0xff, 0 }, 20, ADDR_RESERVED },
	/* fc00::/7 unique local, RFC 4193 */
	{ { 0xfc }, 7, ADDR_PRIVATE },
	/* fe80::/10 link-local unicast, RFC 4291 */
	{ { 0xfe, 0x80 }, 10, ADDR_LINK_LOCAL },
	/* fec0::/10 site-local (deprecated, RFC 3879): private in effect */
	{ { 0xfe, 0xc0 }, 10, ADDR_PRIVATE },
	/* ff00::/8 multicast, RFC 4291 */
	{ { 0xff }, 8, ADDR_MULTICAST },
};

static enum addrguard_class
classify4(uint32_t a)
{
	enum addrguard_class cls = ADDR_PUBLIC;
	size_t i;
	uint32_t mask;

	for (i = 0; i < sizeof(ranges4) / sizeof(ranges4[0]); i++) {
		mask = 0xffffffffu << (32 - ranges4[i].bits);
		if ((a & mask) == ranges4[i].net) {
			cls = ranges4[i].cls;
			break;
		}
	}
	return cls;
}

/* 1 when the first `bits` bits of a and net are equal. */
static int
prefix6_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	unsigned char mask;
	int match = memcmp(a, net, full) == 0;

	if (match && rest != 0) {
		mask = (unsigned char)(0xffu << (8 - rest));
		match = (a[full] & mask) == (net[full] & mask);
	}
	return match;
}

static enum addrguard_class
classify6(const unsigned char *a)
{
	/* Global unicast is allocated from 2000::/3 only (RFC 4291 s. 2.4,
	 * IANA IPv6 Address Space registry); the rest is reserved or
	 * unassigned. */
	enum addrguard_class cls = (a[0] & 0xe0) == 0x20 ? ADDR_PUBLIC : ADDR_RESERVED;
	size_t i;

	for (i = 0; i < sizeof(ranges6) / sizeof(ranges6[0]); i++) {
		if (prefix6_match(a, ranges6[i].net, ranges6[i].bits)) {
			cls = ranges6[i].cls;
			break;
		}
	}
	return cls;
}

enum addrguard_class
addrguard_classify(const struct sockaddr *sa, size_t len)
{
	enum addrguard_class cls = ADDR_INVALID;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (sa == NULL || len < sizeof(sa_family_t))
		goto out;
	if (sa->sa_family == AF_INET && len >= sizeof(sin)) {
		/* Copied, not cast: the caller's buffer need not be aligned. */
		memcpy(&sin, sa, sizeof(sin));
		cls = classify4(ntohl(sin.sin_addr.s_addr));
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(sin6)) {
		memcpy(&sin6, sa, sizeof(sin6));
		cls = classify6(sin6.sin6_addr.s6_addr);
	}
out:
	return cls;
}

enum addrguard_class
addrguard_classify_text(const char *ip)
{
	enum addrguard_class cls = ADDR_INVALID;
	struct in_addr a4;
	struct in6_addr a6;

	if (ip == NULL || strnlen(ip, INET6_ADDRSTRLEN) >= INET6_ADDRSTRLEN)
		goto out;
	if (inet_pton(AF_INET, ip, &a4) == 1)
		cls = classify4(ntohl(a4.s_addr));
	else if (inet_pton(AF_INET6, ip, &a6) == 1)
		cls = classify6(a6.s6_addr);
out:
	return cls;
}

static const char *const class_names[] = {
	[ADDR_PUBLIC] = "public",
	[ADDR_LOOPBACK] = "loopback",
	[ADDR_PRIVATE] = "private",
	[ADDR_LINK_LOCAL] = "link-local",
	[ADDR_MULTICAST] = "multicast",
	[ADDR_UNSPECIFIED] = "unspecified",
	[ADDR_MAPPED] = "mapped",
	[ADDR_RESERVED] = "reserved",
	[ADDR_INVALID] = "invalid",
};

_Static_assert(sizeof(class_names) / sizeof(class_names[0]) == ADDR_INVALID + 1,
    "every class needs a name");

const char *
addrguard_class_name(enum addrguard_class c)
{
	const char *name = "invalid";

	if ((unsigned)c < sizeof(class_names) / sizeof(class_names[0]))
		name = class_names[c];
	return name;
}
