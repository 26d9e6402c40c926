/* ip.c: client IP from REMOTE_ADDR and X-Forwarded-For; subjects for limits. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"

static const unsigned char v4mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };

/*
 * Parses len bytes of s as an IPv4 or IPv6 address (an IPv4-mapped IPv6
 * address becomes IPv4). Returns 0, or -1 when it is not an address.
 */
int
ip_parse(const char *s, size_t len, struct ip_addr *a)
{
	char	 tmp[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, tmp, a->addr) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, a->addr) != 1)
		return -1;
	a->family = AF_INET6;
	if (memcmp(a->addr, v4mapped, 12) == 0) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		a->family = AF_INET;
	}
	return 0;
}

/* Parses "ADDR" or "ADDR/BITS". Returns 0, or -1 when malformed. */
int
ip_net_parse(const char *s, struct ip_net *n)
{
	struct ip_addr	 a;
	const char	*slash;
	char		*end;
	long		 bits;
	int		 max;

	slash = strchr(s, '/');
	if (ip_parse(s, slash ? (size_t)(slash - s) : strlen(s), &a) == -1)
		return -1;
	max = a.family == AF_INET ? 32 : 128;
	bits = max;
	if (slash != NULL) {
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > max)
			return -1;
	}
	n->family = a.family;
	memcpy(n->addr, a.addr, sizeof(n->addr));
	n->bits = (int)bits;
	return 0;
}

static int
prefix_equal(const unsigned char *x, const unsigned char *y, int bits)
{
	int	 full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(x, y, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xff << (8 - rest));
	return (x[full] & mask) == (y[full] & mask);
}

/* True when a lies in one of the n networks. */
int
ip_in_nets(const struct ip_addr *a, const struct ip_net *nets, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (nets[i].family == a->family &&
		    prefix_equal(a->addr, nets[i].addr, nets[i].bits))
			return 1;
	return 0;
}

/* The next comma-separated entry of X-Forwarded-For from the right. */
static int
xff_prev(const char *xff, size_t *end, const char **item, size_t *len)
{
	size_t	 e = *end, b;

	while (e > 0 && (xff[e - 1] == ' ' || xff[e - 1] == '\t'))
		e--;
	if (e == 0)
		return -1;
	b = e;
	while (b > 0 && xff[b - 1] != ',')
		b--;
	*end = b > 0 ? b - 1 : 0;
	while (b < e && (xff[b] == ' ' || xff[b] == '\t'))
		b++;
	*item = xff + b;
	*len = e - b;
	return 0;
}

/*
 * The client address of a request: REMOTE_ADDR, unless it is a trusted
 * proxy; then the right-most address of X-Forwarded-For that is not a
 * trusted proxy (a malformed entry stops the walk at the last good hop).
 * Returns 0, or -1 when REMOTE_ADDR itself is missing or malformed.
 */
int
ip_client(const char *remote, const char *xff, const struct ip_net *nets, size_t n,
    struct ip_addr *out)
{
	struct ip_addr	 hop;
	const char	*item;
	size_t		 end, len;

	if (remote == NULL || ip_parse(remote, strlen(remote), out) == -1)
		return -1;
	if (xff == NULL || n == 0 || !ip_in_nets(out, nets, n))
		return 0;
	end = strlen(xff);
	while (xff_prev(xff, &end, &item, &len) == 0) {
		if (ip_parse(item, len, &hop) == -1)
			break;
		*out = hop;
		if (!ip_in_nets(&hop, nets, n))
			break;
		if (end == 0)
			break;
	}
	return 0;
}

/*
 * The address in its usual text form: inet_ntop()'s, an IPv4 address's
 * written here (inet_ntop() formats it with sprintf(), twice a request).
 */
void
ip_format(const struct ip_addr *a, char out[IP_STRLEN])
{
	char	*p = out;
	int	 i, v;

	if (a->family == AF_INET) {
		for (i = 0; i < 4; i++) {
			if (i > 0)
				*p++ = '.';
			v = a->addr[i];
			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
		}
		*p = '\0';
		return;
	}
	if (inet_ntop(a->family, a->addr, out, IP_STRLEN) == NULL)
		snprintf(out, IP_STRLEN, "invalid");
}

/* The rate-limit subject: an IPv4 address, or an IPv6 address's /64. */
void
ip_subject(const struct ip_addr *a, char out[IP_STRLEN])
{
	struct ip_addr	 m = *a;
	size_t		 len;

	if (a->family == AF_INET) {
		ip_format(a, out);
		return;
	}
	memset(m.addr + 8, 0, 8);
	ip_format(&m, out);
	len = strlen(out);
	snprintf(out + len, IP_STRLEN - len, "/64");
}

/*
 * The address of a socket (sockaddr_in or sockaddr_in6; an IPv4-mapped
 * IPv6 address becomes IPv4) into a. 0, or -1 for another family.
 */
int
ip_from_sockaddr(const struct sockaddr *sa, struct ip_addr *a)
{
	char	 text[INET6_ADDRSTRLEN];
	const void *src;

	if (sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return -1;
	if (inet_ntop(sa->sa_family, src, text, sizeof(text)) == NULL)
		return -1;
	return ip_parse(text, strlen(text), a);
}

/*
 * What kind of address a is when it is not a public unicast one: what a
 * webhook must not reach unless the configuration allows it (SPEC 11), so
 * that a webhook cannot make the server call its own network. NULL for a
 * public address.
 */
const char *
ip_special(const struct ip_addr *a)
{
	static const struct {
		const char	*net;
		const char	*kind;
	} special[] = {
		{ "0.0.0.0/8", "unspecified" },		{ "10.0.0.0/8", "private" },
		{ "100.64.0.0/10", "shared (CGNAT)" },	{ "127.0.0.0/8", "loopback" },
		{ "169.254.0.0/16", "link-local" },	{ "172.16.0.0/12", "private" },
		{ "192.0.0.0/24", "reserved" },		{ "192.168.0.0/16", "private" },
		{ "198.18.0.0/15", "reserved" },	{ "224.0.0.0/4", "multicast" },
		{ "240.0.0.0/4", "reserved" },		{ "::/128", "unspecified" },
		{ "::1/128", "loopback" },		{ "64:ff9b::/96", "translated" },
		{ "fc00::/7", "unique-local" },		{ "fe80::/10", "link-local" },
		{ "fec0::/10", "site-local" },		{ "ff00::/8", "multicast" },
	};
	struct ip_net	 n;
	size_t		 i;

	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (ip_net_parse(special[i].net, &n) == 0 && ip_in_nets(a, &n, 1))
			return special[i].kind;
	return NULL;
}
