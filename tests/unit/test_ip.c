/* test_ip.c: client addresses, trusted proxies, the /64 folding of IPv6 (fcgi/ip.c). */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ip.h"

/* The text form of a parsed address, for comparing results as strings. */
static const char *
fmt(const struct ip_addr *a, char out[IP_STRLEN])
{
	ip_format(a, out);
	return out;
}

Test(ip, parse_table)
{
	static const struct {
		const char	*s;
		int		 rc;
		int		 family;
		const char	*text;		/* ip_format of the result */
	} cases[] = {
		{ "203.0.113.7", 0, AF_INET, "203.0.113.7" },
		{ "0.0.0.0", 0, AF_INET, "0.0.0.0" },
		{ "255.255.255.255", 0, AF_INET, "255.255.255.255" },
		{ "::1", 0, AF_INET6, "::1" },
		{ "2001:db8::1", 0, AF_INET6, "2001:db8::1" },
		{ "2001:DB8:0:0:0:0:0:1", 0, AF_INET6, "2001:db8::1" },
		{ "2001:db8:1:2:3:4:5:6", 0, AF_INET6, "2001:db8:1:2:3:4:5:6" },
		{ "::ffff:192.0.2.1", 0, AF_INET, "192.0.2.1" },	/* v4-mapped */
		{ "::ffff:c000:201", 0, AF_INET, "192.0.2.1" },
		{ "::192.0.2.1", 0, AF_INET6, "::192.0.2.1" },	/* v4-compatible: not mapped */
		{ "1.2.3", -1, 0, NULL },
		{ "256.1.1.1", -1, 0, NULL },
		{ "1.2.3.4.5", -1, 0, NULL },
		{ " 1.2.3.4", -1, 0, NULL },
		{ "1.2.3.4 ", -1, 0, NULL },
		{ "1.2.3.4:80", -1, 0, NULL },
		{ "[::1]", -1, 0, NULL },
		{ "fe80::1%eth0", -1, 0, NULL },
		{ "2001:db8::1::2", -1, 0, NULL },
		{ "unknown", -1, 0, NULL },
		{ "", -1, 0, NULL },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa", -1, 0, NULL },
	};
	struct ip_addr	 a;
	char		 text[IP_STRLEN];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = ip_parse(cases[i].s, strlen(cases[i].s), &a);

		cr_expect_eq(rc, cases[i].rc, "'%s'", cases[i].s);
		if (rc == 0 && cases[i].rc == 0) {
			cr_expect_eq(a.family, cases[i].family, "%s", cases[i].s);
			cr_expect_str_eq(fmt(&a, text), cases[i].text, "%s", cases[i].s);
		}
	}
}

Test(ip, parse_uses_len)
{
	struct ip_addr	 a;
	char		 text[IP_STRLEN], big[200];

	cr_assert_eq(ip_parse("1.2.3.4, 5.6.7.8", 7, &a), 0);
	cr_expect_str_eq(fmt(&a, text), "1.2.3.4");
	cr_expect_eq(ip_parse("1.2.3.4", 0, &a), -1);
	memset(big, '1', sizeof(big));
	cr_expect_eq(ip_parse(big, sizeof(big), &a), -1);
}

Test(ip, v4_mapped_is_v4_bytes)
{
	static const unsigned char want[16] = { 192, 0, 2, 1 };
	struct ip_addr	 a;

	cr_assert_eq(ip_parse("::ffff:192.0.2.1", 16, &a), 0);
	cr_expect_eq(a.family, AF_INET);
	cr_expect_eq(memcmp(a.addr, want, 16), 0);
}

Test(ip, net_parse_table)
{
	static const struct {
		const char	*s;
		int		 rc;
		int		 family;
		int		 bits;
	} cases[] = {
		{ "10.0.0.0/8", 0, AF_INET, 8 },
		{ "10.0.0.1", 0, AF_INET, 32 },
		{ "172.16.0.0/12", 0, AF_INET, 12 },
		{ "0.0.0.0/0", 0, AF_INET, 0 },
		{ "192.0.2.1/32", 0, AF_INET, 32 },
		{ "::1", 0, AF_INET6, 128 },
		{ "2001:db8::/32", 0, AF_INET6, 32 },
		{ "::/0", 0, AF_INET6, 0 },
		{ "2001:db8::/128", 0, AF_INET6, 128 },
		{ "::ffff:10.0.0.1", 0, AF_INET, 32 },
		{ "10.0.0.0/33", -1, 0, 0 },
		{ "10.0.0.0/-1", -1, 0, 0 },
		{ "10.0.0.0/", -1, 0, 0 },
		{ "10.0.0.0/8x", -1, 0, 0 },
		{ "10.0.0.0/abc", -1, 0, 0 },
		{ "10.0.0.0/8/8", -1, 0, 0 },
		{ "10.0.0.0/99999999999999999999", -1, 0, 0 },
		{ "2001:db8::/129", -1, 0, 0 },
		{ "localhost", -1, 0, 0 },
		{ "foo/8", -1, 0, 0 },
		{ "/8", -1, 0, 0 },
		{ "", -1, 0, 0 },
	};
	struct ip_net	 n;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = ip_net_parse(cases[i].s, &n);

		cr_expect_eq(rc, cases[i].rc, "'%s'", cases[i].s);
		if (rc == 0 && cases[i].rc == 0) {
			cr_expect_eq(n.family, cases[i].family, "%s", cases[i].s);
			cr_expect_eq(n.bits, cases[i].bits, "%s", cases[i].s);
		}
	}
}

static size_t
nets(struct ip_net *out, const char *const *list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		cr_assert_eq(ip_net_parse(list[i], &out[i]), 0, "%s", list[i]);
	return n;
}

Test(ip, in_nets_table)
{
	static const char *const list[] = {
		"10.0.0.0/8", "192.168.1.0/24", "172.16.0.0/12", "2001:db8::/32",
		"203.0.113.9", "fd00::/7",
	};
	static const struct {
		const char	*addr;
		int		 in;
	} cases[] = {
		{ "10.0.0.1", 1 },
		{ "10.255.255.255", 1 },
		{ "11.0.0.1", 0 },
		{ "9.255.255.255", 0 },
		{ "192.168.1.255", 1 },
		{ "192.168.2.1", 0 },
		{ "172.16.0.1", 1 },
		{ "172.31.255.255", 1 },		/* /12: not on a byte boundary */
		{ "172.32.0.0", 0 },
		{ "172.15.255.255", 0 },
		{ "203.0.113.9", 1 },
		{ "203.0.113.10", 0 },
		{ "2001:db8:ffff::1", 1 },
		{ "2001:db9::1", 0 },
		{ "fdff::1", 1 },
		{ "fc00::1", 1 },
		{ "fe00::1", 0 },
		{ "::ffff:10.1.2.3", 1 },		/* mapped: compared as v4 */
		{ "::a01:203", 0 },			/* 10.1.2.3's bits, but v6 */
	};
	struct ip_net	 n[8];
	struct ip_addr	 a;
	size_t		 nn = nets(n, list, sizeof(list) / sizeof(list[0])), i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(ip_parse(cases[i].addr, strlen(cases[i].addr), &a), 0);
		cr_expect_eq(ip_in_nets(&a, n, nn), cases[i].in, "%s", cases[i].addr);
	}
	cr_assert_eq(ip_parse("10.0.0.1", 8, &a), 0);
	cr_expect_eq(ip_in_nets(&a, n, 0), 0, "no networks");
}

Test(ip, in_nets_any)
{
	static const char *const list[] = { "0.0.0.0/0" };
	struct ip_net	 n[1];
	struct ip_addr	 a;

	nets(n, list, 1);
	cr_assert_eq(ip_parse("198.51.100.1", 12, &a), 0);
	cr_expect(ip_in_nets(&a, n, 1));
	cr_assert_eq(ip_parse("::1", 3, &a), 0);
	cr_expect_not(ip_in_nets(&a, n, 1), "a v4 network holds no v6 address");
}

Test(ip, client_table)
{
	static const char *const list[] = { "10.0.0.0/8", "2001:db8::/32", "127.0.0.1" };
	static const struct {
		const char	*what;
		const char	*remote;
		const char	*xff;
		size_t		 nproxies;	/* how many of list are trusted */
		int		 rc;
		const char	*client;
	} cases[] = {
		{ "no proxy trusted: XFF ignored", "203.0.113.7", "198.51.100.1", 0, 0,
		    "203.0.113.7" },
		{ "untrusted REMOTE_ADDR: XFF ignored", "203.0.113.7", "198.51.100.1", 3, 0,
		    "203.0.113.7" },
		{ "untrusted, XFF naming a proxy", "203.0.113.7", "10.0.0.1", 3, 0,
		    "203.0.113.7" },
		{ "trusted, no XFF", "10.0.0.1", NULL, 3, 0, "10.0.0.1" },
		{ "trusted, empty XFF", "10.0.0.1", "", 3, 0, "10.0.0.1" },
		{ "trusted, blank XFF", "10.0.0.1", "  \t ", 3, 0, "10.0.0.1" },
		{ "trusted: one hop", "10.0.0.1", "198.51.100.1", 3, 0, "198.51.100.1" },
		{ "trusted: the right-most untrusted", "10.0.0.1",
		    "1.1.1.1, 198.51.100.1", 3, 0, "198.51.100.1" },
		{ "a chain of trusted proxies is skipped", "10.0.0.1",
		    "6.6.6.6, 198.51.100.1, 10.0.0.3, 10.9.9.9", 3, 0, "198.51.100.1" },
		{ "no spaces, tabs", "10.0.0.1", "6.6.6.6,198.51.100.1,\t10.0.0.3", 3, 0,
		    "198.51.100.1" },
		{ "trailing blanks", "10.0.0.1", "198.51.100.1 ,  ", 3, 0, "10.0.0.1" },
		{ "garbage stops the walk", "10.0.0.1",
		    "198.51.100.1, garbage, 10.0.0.2", 3, 0, "10.0.0.2" },
		{ "garbage right-most", "10.0.0.1", "198.51.100.1, junk", 3, 0, "10.0.0.1" },
		{ "a port is garbage", "10.0.0.1", "198.51.100.1:4711", 3, 0, "10.0.0.1" },
		{ "an empty entry is garbage", "10.0.0.1", "198.51.100.1,,10.0.0.2", 3, 0,
		    "10.0.0.2" },
		{ "leading comma", "10.0.0.1", ",198.51.100.1", 3, 0, "198.51.100.1" },
		{ "all trusted: the left-most", "10.0.0.1", "10.0.0.5, 10.0.0.6", 3, 0,
		    "10.0.0.5" },
		{ "v6 proxy, v6 client", "2001:db8::10", "2a00:1450:4001::1", 3, 0,
		    "2a00:1450:4001::1" },
		{ "v4 proxy, mapped client", "10.0.0.1", "::ffff:198.51.100.1", 3, 0,
		    "198.51.100.1" },
		{ "mapped proxy", "::ffff:10.0.0.1", "198.51.100.1", 3, 0, "198.51.100.1" },
		{ "loopback proxy", "127.0.0.1", "198.51.100.1", 3, 0, "198.51.100.1" },
		{ "loopback not trusted when absent", "127.0.0.1", "198.51.100.1", 2, 0,
		    "127.0.0.1" },
		{ "no REMOTE_ADDR", NULL, "198.51.100.1", 3, -1, NULL },
		{ "garbage REMOTE_ADDR", "nope", "198.51.100.1", 3, -1, NULL },
		{ "empty REMOTE_ADDR", "", NULL, 3, -1, NULL },
	};
	struct ip_net	 n[3];
	struct ip_addr	 a;
	char		 text[IP_STRLEN];
	size_t		 i;

	nets(n, list, 3);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = ip_client(cases[i].remote, cases[i].xff, n, cases[i].nproxies, &a);

		cr_expect_eq(rc, cases[i].rc, "%s", cases[i].what);
		if (rc == 0 && cases[i].rc == 0)
			cr_expect_str_eq(fmt(&a, text), cases[i].client, "%s",
			    cases[i].what);
	}
}

/* A long X-Forwarded-For of trusted hops is walked to its end, and no further. */
Test(ip, client_long_chain)
{
	static const char *const list[] = { "10.0.0.0/8" };
	struct ip_net	 n[1];
	struct ip_addr	 a;
	char		 xff[4096], text[IP_STRLEN];
	size_t		 len = 0;
	int		 i;

	nets(n, list, 1);
	len += (size_t)snprintf(xff, sizeof(xff), "198.51.100.77");
	for (i = 0; i < 200; i++)
		len += (size_t)snprintf(xff + len, sizeof(xff) - len, ", 10.0.%d.%d",
		    i / 250, i % 250);
	cr_assert_eq(ip_client("10.0.0.1", xff, n, 1, &a), 0);
	cr_expect_str_eq(fmt(&a, text), "198.51.100.77");
}

Test(ip, subject_folds_v6_to_64)
{
	static const struct {
		const char	*addr;
		const char	*subject;
	} cases[] = {
		{ "203.0.113.7", "203.0.113.7" },
		{ "::ffff:203.0.113.7", "203.0.113.7" },
		{ "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
		{ "2001:db8:1:2::", "2001:db8:1:2::/64" },
		{ "2001:db8::1", "2001:db8::/64" },
		{ "::1", "::/64" },
		{ "fe80::1:2:3:4", "fe80::/64" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::/64" },
	};
	struct ip_addr	 a;
	char		 out[IP_STRLEN];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(ip_parse(cases[i].addr, strlen(cases[i].addr), &a), 0);
		ip_subject(&a, out);
		cr_expect_str_eq(out, cases[i].subject, "%s", cases[i].addr);
	}
}

/* Two addresses of one /64 are one subject; of neighbouring /64s, two. */
Test(ip, subject_same_64)
{
	struct ip_addr	 a, b, c;
	char		 sa[IP_STRLEN], sb[IP_STRLEN], sc[IP_STRLEN];

	cr_assert_eq(ip_parse("2001:db8:0:7::1", 15, &a), 0);
	cr_assert_eq(ip_parse("2001:db8:0:7:ffff:ffff:ffff:ffff", 32, &b), 0);
	cr_assert_eq(ip_parse("2001:db8:0:8::1", 15, &c), 0);
	ip_subject(&a, sa);
	ip_subject(&b, sb);
	ip_subject(&c, sc);
	cr_expect_str_eq(sa, sb);
	cr_expect_str_neq(sa, sc);
}

/* What a webhook may not reach unless allowed (ip_special()), and what it may. */
Test(ip, special_kinds)
{
	static const struct {
		const char	*addr;
		const char	*kind;		/* NULL: public */
	} cases[] = {
		{ "127.0.0.1", "loopback" }, { "127.255.255.254", "loopback" },
		{ "10.1.2.3", "private" }, { "172.16.0.1", "private" },
		{ "172.31.255.255", "private" }, { "192.168.1.1", "private" },
		{ "100.64.0.1", "shared (CGNAT)" }, { "169.254.169.254", "link-local" },
		{ "0.0.0.0", "unspecified" }, { "224.0.0.1", "multicast" },
		{ "255.255.255.255", "reserved" }, { "198.18.0.1", "reserved" },
		{ "::1", "loopback" }, { "::", "unspecified" }, { "fe80::1", "link-local" },
		{ "fd00::1", "unique-local" }, { "ff02::1", "multicast" },
		{ "::ffff:10.0.0.1", "private" }, { "::ffff:127.0.0.1", "loopback" },
		{ "64:ff9b::a00:1", "translated" },
		{ "8.8.8.8", NULL }, { "172.32.0.1", NULL }, { "172.15.255.255", NULL },
		{ "100.128.0.1", NULL }, { "192.169.0.1", NULL }, { "2606:4700::1111", NULL },
		{ "2001:db8::1", NULL },
	};
	struct ip_addr	 a;
	const char	*kind;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(ip_parse(cases[i].addr, strlen(cases[i].addr), &a), 0, "%s",
		    cases[i].addr);
		kind = ip_special(&a);
		if (cases[i].kind == NULL)
			cr_expect_null(kind, "%s: %s", cases[i].addr, kind);
		else
			cr_expect_str_eq(kind != NULL ? kind : "(public)", cases[i].kind, "%s",
			    cases[i].addr);
	}
}

/* An IPv4 address is written as inet_ntop() writes it (ip_format() does it itself). */
Test(ip, format_v4_as_inet_ntop)
{
	struct ip_addr	 a;
	char		 got[IP_STRLEN], want[INET_ADDRSTRLEN];
	unsigned	 i;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	for (i = 0; i < 70000; i++) {
		/* every value of each byte, in every position, and their mixes */
		a.addr[0] = (unsigned char)(i % 256);
		a.addr[1] = (unsigned char)(i * 7 % 256);
		a.addr[2] = (unsigned char)(i / 256 % 256);
		a.addr[3] = (unsigned char)(i * 13 % 251);
		ip_format(&a, got);
		cr_assert_not_null(inet_ntop(AF_INET, a.addr, want, sizeof(want)));
		cr_assert_str_eq(got, want, "%u", i);
	}
}
