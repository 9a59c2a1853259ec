/* Wildcard listen addresses expanded into this host's addresses. */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "listen.h"

static bool is_wildcard(const struct ph_addr *a)
{
	if (ph_addr_af(a) == AF_INET)
		return a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
}

static void add(const struct ph_addr *a, struct ph_addr *out, unsigned max,
		unsigned *n)
{
	for (unsigned i = 0; i < *n; i++)
		if (ph_addr_ip_eq(&out[i], a))
			return;
	if (*n < max)
		out[(*n)++] = *a;
}

/* i's address when it is of family af, up, and loopback or not as asked;
 * a link-local IPv6 address needs a scope no Via or Contact of ours
 * carries. */
static bool usable(const struct ifaddrs *i, int af, bool loop,
		   struct ph_addr *a)
{
	if (!i->ifa_addr || i->ifa_addr->sa_family != af ||
	    !(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_LOOPBACK) == loop ||
	    ph_addr_from_sa(a, i->ifa_addr, af == AF_INET
			    ? sizeof(struct sockaddr_in)
			    : sizeof(struct sockaddr_in6)))
		return false;
	ph_addr_set_port(a, 0);
	return af != AF_INET6 || !IN6_IS_ADDR_LINKLOCAL(&a->u.in6.sin6_addr);
}

/* Every address of family af on an interface that is up, loopback last:
 * a request nta sends without a transport named (TCP, an old Route of
 * ours) takes the first, which must reach beyond this host. */
static int add_family(int af, struct ph_addr *out, unsigned max,
		      unsigned *n)
{
	struct ifaddrs *ifs;
	struct ph_addr a;

	if (getifaddrs(&ifs))
		return errno;
	for (int loop = 0; loop < 2; loop++)
		for (const struct ifaddrs *i = ifs; i; i = i->ifa_next)
			if (usable(i, af, loop, &a))
				add(&a, out, max, n);
	freeifaddrs(ifs);
	return 0;
}

int listen_expand(const struct ph_addr *in, unsigned n_in,
		  struct ph_addr *out, unsigned max, unsigned *n)
{
	int err = 0;

	*n = 0;
	for (unsigned i = 0; i < n_in && !err; i++) {
		if (is_wildcard(&in[i]))
			err = add_family(ph_addr_af(&in[i]), out, max, n);
		else
			add(&in[i], out, max, n);
	}
	return err ? err : *n ? 0 : ENOENT;
}

int listen_ident(const struct ph_addr *a, char *buf, size_t size)
{
	return ph_addr_ip_print(a, buf, size);
}
