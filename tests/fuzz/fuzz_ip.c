/*
 * fuzz_ip.c: the client address: trusted_proxies (as the config file gives
 * it), REMOTE_ADDR and X-Forwarded-For, NUL-separated. Invariants: the
 * address found is the one a walk of the header written again here finds;
 * it prints as an address that parses back to itself; the rate-limit
 * subject of an IPv6 address is its /64.
 */
#include <sys/socket.h>

#include "conf.h"
#include "ip.h"
#include "fuzz.h"

static const char default_proxies[] = "127.0.0.1, 10.0.0.0/8, ::1, fd00::/8";

/* The right-most entry not a trusted proxy, walking left from the end. */
static void
reference(const char *xff, const struct ip_net *nets, size_t n,
    struct ip_addr *out)
{
	const char	*end = xff + strlen(xff), *b, *e;
	struct ip_addr	 hop;

	if (n == 0 || !ip_in_nets(out, nets, n))
		return;
	for (;;) {
		for (b = end; b > xff && b[-1] != ','; b--)
			;
		for (e = end; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		if (ip_parse(b, (size_t)(e - b), &hop) == -1)
			return;
		*out = hop;
		if (!ip_in_nets(&hop, nets, n))
			return;
		for (b = end; b > xff && b[-1] != ','; b--)
			;
		if (b == xff)
			return;
		end = b - 1;
	}
}

static void
check_text(const struct ip_addr *a)
{
	char		 s[IP_STRLEN], subj[IP_STRLEN];
	struct ip_addr	 back, net;
	size_t		 len;

	FUZZ_ASSERT(a->family == AF_INET || a->family == AF_INET6);
	ip_format(a, s);
	FUZZ_ASSERT(ip_parse(s, strlen(s), &back) == 0);
	FUZZ_ASSERT(back.family == a->family &&
	    memcmp(back.addr, a->addr, sizeof(a->addr)) == 0);
	ip_subject(a, subj);
	if (a->family == AF_INET) {
		FUZZ_ASSERT(strcmp(s, subj) == 0);
		return;
	}
	len = strlen(subj);
	FUZZ_ASSERT(len > 3 && strcmp(subj + len - 3, "/64") == 0);
	FUZZ_ASSERT(ip_parse(subj, len - 3, &net) == 0);
	/* ::ffff:0:0/64 is not an IPv4 address: only the /64 of a v6 one */
	FUZZ_ASSERT(memcmp(net.addr, a->addr, 8) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	 c;
	struct ip_addr	 got, want;
	char		*f[3], *copy, err[256];
	size_t		 i;
	int		 rc;

	copy = fuzz_fields(data, size, f, 3);
	conf_defaults(&c);
	if (conf_set(&c, "trusted_proxies", f[0], err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(conf_set(&c, "trusted_proxies", default_proxies, err,
		    sizeof(err)) == 0);
	}
	FUZZ_ASSERT(c.nproxies <= IP_MAX_PROXIES);
	for (i = 0; i < c.nproxies; i++)
		FUZZ_ASSERT((c.proxies[i].family == AF_INET &&
		    c.proxies[i].bits >= 0 && c.proxies[i].bits <= 32) ||
		    (c.proxies[i].family == AF_INET6 &&
		    c.proxies[i].bits >= 0 && c.proxies[i].bits <= 128));

	rc = ip_client(f[1], f[2], c.proxies, c.nproxies, &got);
	FUZZ_ASSERT(rc == ip_parse(f[1], strlen(f[1]), &want));
	if (rc == 0) {
		reference(f[2], c.proxies, c.nproxies, &want);
		FUZZ_ASSERT(got.family == want.family &&
		    memcmp(got.addr, want.addr, sizeof(got.addr)) == 0);
		check_text(&got);
	}
	/* no X-Forwarded-For at all: REMOTE_ADDR, whoever sent it */
	if (ip_client(f[1], NULL, c.proxies, c.nproxies, &got) == 0)
		check_text(&got);
	free(copy);
	return 0;
}
