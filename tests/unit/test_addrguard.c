/* addrguard: the special-purpose registries, boundary by boundary, through
 * both the text and the sockaddr entry points. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>

#include "addrguard.h"
#include "harness.h"

static const struct {
	const char *ip;
	enum addrguard_class cls;
} cases[] = {
	/* IPv4: 0/8 */
	{ "0.0.0.0", ADDR_UNSPECIFIED },
	{ "0.255.255.255", ADDR_UNSPECIFIED },
	{ "1.0.0.0", ADDR_PUBLIC },
	{ "1.1.1.1", ADDR_PUBLIC },
	{ "8.8.8.8", ADDR_PUBLIC },
	/* 10/8 */
	{ "9.255.255.255", ADDR_PUBLIC },
	{ "10.0.0.0", ADDR_PRIVATE },
	{ "10.255.255.255", ADDR_PRIVATE },
	{ "11.0.0.0", ADDR_PUBLIC },
	/* 100.64/10 */
	{ "100.63.255.255", ADDR_PUBLIC },
	{ "100.64.0.0", ADDR_PRIVATE },
	{ "100.127.255.255", ADDR_PRIVATE },
	{ "100.128.0.0", ADDR_PUBLIC },
	/* 127/8 */
	{ "126.255.255.255", ADDR_PUBLIC },
	{ "127.0.0.1", ADDR_LOOPBACK },
	{ "127.255.255.254", ADDR_LOOPBACK },
	{ "128.0.0.0", ADDR_PUBLIC },
	/* 169.254/16 */
	{ "169.253.255.255", ADDR_PUBLIC },
	{ "169.254.0.0", ADDR_LINK_LOCAL },
	{ "169.254.169.254", ADDR_LINK_LOCAL },
	{ "169.255.0.0", ADDR_PUBLIC },
	/* 172.16/12 */
	{ "172.15.255.255", ADDR_PUBLIC },
	{ "172.16.0.0", ADDR_PRIVATE },
	{ "172.31.255.255", ADDR_PRIVATE },
	{ "172.32.0.0", ADDR_PUBLIC },
	/* 192.0.0/24, 192.0.2/24 */
	{ "191.255.255.255", ADDR_PUBLIC },
	{ "192.0.0.0", ADDR_RESERVED },
	{ "192.0.0.255", ADDR_RESERVED },
	{ "192.0.1.0", ADDR_PUBLIC },
	{ "192.0.2.0", ADDR_RESERVED },
	{ "192.0.2.255", ADDR_RESERVED },
	{ "192.0.3.0", ADDR_PUBLIC },
	/* 192.88.99/24 */
	{ "192.88.98.255", ADDR_PUBLIC },
	{ "192.88.99.1", ADDR_RESERVED },
	{ "192.88.100.0", ADDR_PUBLIC },
	/* 192.168/16 */
	{ "192.167.255.255", ADDR_PUBLIC },
	{ "192.168.0.0", ADDR_PRIVATE },
	{ "192.168.255.255", ADDR_PRIVATE },
	{ "192.169.0.0", ADDR_PUBLIC },
	/* 198.18/15 */
	{ "198.17.255.255", ADDR_PUBLIC },
	{ "198.18.0.0", ADDR_RESERVED },
	{ "198.19.255.255", ADDR_RESERVED },
	{ "198.20.0.0", ADDR_PUBLIC },
	/* 198.51.100/24, 203.0.113/24 */
	{ "198.51.99.255", ADDR_PUBLIC },
	{ "198.51.100.7", ADDR_RESERVED },
	{ "198.51.101.0", ADDR_PUBLIC },
	{ "203.0.112.255", ADDR_PUBLIC },
	{ "203.0.113.0", ADDR_RESERVED },
	{ "203.0.113.255", ADDR_RESERVED },
	{ "203.0.114.0", ADDR_PUBLIC },
	/* 224/4, 240/4, broadcast */
	{ "223.255.255.255", ADDR_PUBLIC },
	{ "224.0.0.0", ADDR_MULTICAST },
	{ "239.255.255.255", ADDR_MULTICAST },
	{ "240.0.0.0", ADDR_RESERVED },
	{ "255.255.255.254", ADDR_RESERVED },
	{ "255.255.255.255", ADDR_RESERVED },

	/* IPv6 */
	{ "::", ADDR_UNSPECIFIED },
	{ "::1", ADDR_LOOPBACK },
	{ "::2", ADDR_MAPPED },                 /* IPv4-compatible ::0.0.0.2 */
	{ "::127.0.0.1", ADDR_MAPPED },
	{ "::ffff:0:0", ADDR_MAPPED },
	{ "::ffff:127.0.0.1", ADDR_MAPPED },
	{ "::ffff:8.8.8.8", ADDR_MAPPED },      /* never unwrapped */
	{ "::ffff:ffff:ffff", ADDR_MAPPED },
	{ "::ffff:0:10.0.0.1", ADDR_MAPPED },   /* SIIT */
	{ "::1:0:0:0", ADDR_RESERVED },
	{ "64:ff9b::", ADDR_MAPPED },
	{ "64:ff9b::8.8.8.8", ADDR_MAPPED },
	{ "64:ff9b::ffff:ffff", ADDR_MAPPED },
	{ "64:ff9b:0:0:0:1::", ADDR_RESERVED }, /* just past the /96 */
	{ "64:ff9b:1::", ADDR_MAPPED },
	{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", ADDR_MAPPED },
	{ "64:ff9b:2::", ADDR_RESERVED },
	{ "100::", ADDR_RESERVED },
	{ "100::ffff:ffff:ffff:ffff", ADDR_RESERVED },
	{ "100:0:0:1::", ADDR_RESERVED },       /* outside 2000::/3 anyway */
	{ "1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_RESERVED },
	{ "2000::", ADDR_PUBLIC },
	{ "2001::", ADDR_MAPPED },              /* Teredo */
	{ "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_MAPPED },
	{ "2001:1::1", ADDR_RESERVED },
	{ "2001:2::", ADDR_RESERVED },          /* benchmarking */
	{ "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_RESERVED },
	{ "2001:200::", ADDR_PUBLIC },          /* first address after 2001::/23 */
	{ "2001:4860:4860::8888", ADDR_PUBLIC },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_PUBLIC },
	{ "2001:db8::", ADDR_RESERVED },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_RESERVED },
	{ "2001:db9::", ADDR_PUBLIC },
	{ "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_PUBLIC },
	{ "2002::", ADDR_MAPPED },              /* 6to4 */
	{ "2002:c0a8:101::1", ADDR_MAPPED },
	{ "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_MAPPED },
	{ "2003::", ADDR_PUBLIC },
	{ "2606:4700:4700::1111", ADDR_PUBLIC },
	{ "2a00:1450:4001:80b::200e", ADDR_PUBLIC },
	{ "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_PUBLIC },
	{ "3fff::", ADDR_RESERVED },            /* documentation, RFC 9637 */
	{ "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_RESERVED },
	{ "3fff:1000::", ADDR_PUBLIC },
	{ "4000::", ADDR_RESERVED },
	{ "5f00::1", ADDR_RESERVED },
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_RESERVED },
	{ "fc00::", ADDR_PRIVATE },
	{ "fd12:3456:789a::1", ADDR_PRIVATE },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_PRIVATE },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_RESERVED },
	{ "fe80::", ADDR_LINK_LOCAL },
	{ "fe80::1", ADDR_LINK_LOCAL },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_LINK_LOCAL },
	{ "fec0::", ADDR_PRIVATE },             /* site-local, deprecated */
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_PRIVATE },
	{ "ff00::", ADDR_MULTICAST },
	{ "ff02::1", ADDR_MULTICAST },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ADDR_MULTICAST },

	/* Not addresses, or not in inet_pton's strict form. */
	{ "", ADDR_INVALID },
	{ "localhost", ADDR_INVALID },
	{ "127.1", ADDR_INVALID },
	{ "0x7f.0.0.1", ADDR_INVALID },
	{ "0x7f.1", ADDR_INVALID },
	{ "017.0.0.1", ADDR_INVALID },
	{ "2130706433", ADDR_INVALID },
	{ "127.0.0.1 ", ADDR_INVALID },
	{ " 127.0.0.1", ADDR_INVALID },
	{ "256.0.0.1", ADDR_INVALID },
	{ "1.2.3.4.5", ADDR_INVALID },
	{ "[::1]", ADDR_INVALID },
	{ "fe80::1%eth0", ADDR_INVALID },
	{ "::ffff:1.2.3", ADDR_INVALID },
	{ "1:2:3:4:5:6:7:8:9", ADDR_INVALID },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255x", ADDR_INVALID },
};

/* The same address through the sockaddr entry point. */
static void
check_sockaddr(const char *ip, enum addrguard_class want)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(443);
		CHECK_MSG(addrguard_classify((const struct sockaddr *)&sin, sizeof(sin)) ==
		    want, "sockaddr %s", ip);
		/* A truncated address is never classified as anything. */
		CHECK(addrguard_classify((const struct sockaddr *)&sin, sizeof(sin) - 1) ==
		    ADDR_INVALID);
	} else if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(443);
		CHECK_MSG(addrguard_classify((const struct sockaddr *)&sin6,
		    sizeof(sin6)) == want, "sockaddr %s", ip);
		CHECK(addrguard_classify((const struct sockaddr *)&sin6,
		    sizeof(struct sockaddr_in)) == ADDR_INVALID);
	}
}

void
suite_addrguard(void)
{
	size_t i, n = sizeof(cases) / sizeof(cases[0]);
	enum addrguard_class got;
	struct sockaddr_in sin;

	CHECK(n >= 60);
	for (i = 0; i < n; i++) {
		got = addrguard_classify_text(cases[i].ip);
		CHECK_MSG(got == cases[i].cls, "%s: got %s, want %s", cases[i].ip,
		    addrguard_class_name(got), addrguard_class_name(cases[i].cls));
		if (cases[i].cls != ADDR_INVALID)
			check_sockaddr(cases[i].ip, cases[i].cls);
	}

	CHECK(addrguard_classify_text(NULL) == ADDR_INVALID);
	CHECK(addrguard_classify(NULL, 0) == ADDR_INVALID);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_UNIX;
	CHECK(addrguard_classify((const struct sockaddr *)&sin, sizeof(sin)) ==
	    ADDR_INVALID);

	CHECK_STR(addrguard_class_name(ADDR_PUBLIC), "public");
	CHECK_STR(addrguard_class_name(ADDR_LOOPBACK), "loopback");
	CHECK_STR(addrguard_class_name(ADDR_PRIVATE), "private");
	CHECK_STR(addrguard_class_name(ADDR_LINK_LOCAL), "link-local");
	CHECK_STR(addrguard_class_name(ADDR_MULTICAST), "multicast");
	CHECK_STR(addrguard_class_name(ADDR_UNSPECIFIED), "unspecified");
	CHECK_STR(addrguard_class_name(ADDR_MAPPED), "mapped");
	CHECK_STR(addrguard_class_name(ADDR_RESERVED), "reserved");
	CHECK_STR(addrguard_class_name(ADDR_INVALID), "invalid");
	CHECK_STR(addrguard_class_name((enum addrguard_class)99), "invalid");
}
