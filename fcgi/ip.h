/* ip.h: client addresses, trusted proxies and the /64 folding of IPv6. */
#ifndef IP_H
#define IP_H

#include <stddef.h>

#define IP_MAX_PROXIES	32
#define IP_STRLEN	64	/* enough for any address, with "/64" */

struct ip_net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	int		 bits;
};

struct ip_addr {
	int		 family;
	unsigned char	 addr[16];
};

int	 ip_parse(const char *, size_t, struct ip_addr *);
int	 ip_net_parse(const char *, struct ip_net *);
int	 ip_in_nets(const struct ip_addr *, const struct ip_net *, size_t);
int	 ip_client(const char *, const char *, const struct ip_net *, size_t,
	    struct ip_addr *);
void	 ip_format(const struct ip_addr *, char [IP_STRLEN]);
void	 ip_subject(const struct ip_addr *, char [IP_STRLEN]);
struct sockaddr;
int	 ip_from_sockaddr(const struct sockaddr *, struct ip_addr *);
const char *ip_special(const struct ip_addr *);

#endif
