/* Transport addresses. IPv4-mapped IPv6 addresses compare and hash as the
 * IPv4 address they carry, since dual-stack sockets report them so. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pinhole/addr.h"

PH_API int ph_addr_set_n(struct ph_addr *a, const char *ip, size_t len,
			 uint16_t port)
{
	char buf[INET6_ADDRSTRLEN];
	struct ph_addr t;

	if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']') {
		ip++;
		len -= 2;
		if (!memchr(ip, ':', len))
			return EINVAL; /* brackets are for IPv6 only */
	}
	if (!len || len >= sizeof buf || memchr(ip, '\0', len))
		return EINVAL;
	memcpy(buf, ip, len);
	buf[len] = '\0';
	memset(&t, 0, sizeof t);
	if (inet_pton(AF_INET, buf, &t.u.in.sin_addr) == 1) {
		t.u.in.sin_family = AF_INET;
		t.u.in.sin_port = htons(port);
	} else if (inet_pton(AF_INET6, buf, &t.u.in6.sin6_addr) == 1) {
		t.u.in6.sin6_family = AF_INET6;
		t.u.in6.sin6_port = htons(port);
	} else {
		return EINVAL;
	}
	*a = t;
	return 0;
}

PH_API int ph_addr_set(struct ph_addr *a, const char *ip, uint16_t port)
{
	if (!ip)
		return EINVAL;
	return ph_addr_set_n(a, ip, strlen(ip), port);
}

PH_API int ph_addr_parse(struct ph_addr *a, const char *s, size_t len,
			 uint16_t defport)
{
	const char *end = s + len, *colon = NULL;
	unsigned long port = 0;

	for (const char *p = end; p > s; p--)
		if (p[-1] == ':') {
			colon = p - 1;
			break;
		}
	/* a port follows the last colon of "IPv4:port" or "[IPv6]:port" only */
	if (colon && ((s[0] == '[' && colon > s && colon[-1] == ']') ||
		      (s[0] != '[' && memchr(s, ':', (size_t)(colon - s)) == NULL))) {
		if (colon + 1 == end || end - colon > 6)
			return EINVAL;
		for (const char *p = colon + 1; p < end; p++) {
			if (*p < '0' || *p > '9')
				return EINVAL;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (!port || port > 65535)
			return EINVAL;
		return ph_addr_set_n(a, s, (size_t)(colon - s), (uint16_t)port);
	}
	return ph_addr_set_n(a, s, len, defport);
}

PH_API int ph_addr_from_sa(struct ph_addr *a, const struct sockaddr *sa,
			   socklen_t len)
{
	size_t need;

	if (!sa)
		return EINVAL;
	if (sa->sa_family == AF_INET)
		need = sizeof a->u.in;
	else if (sa->sa_family == AF_INET6)
		need = sizeof a->u.in6;
	else
		return EAFNOSUPPORT;
	if (len < need)
		return EINVAL;
	memset(a, 0, sizeof *a);
	memcpy(&a->u, sa, need);
	return 0;
}

PH_API void ph_addr_set_port(struct ph_addr *a, uint16_t port)
{
	if (a->u.sa.sa_family == AF_INET)
		a->u.in.sin_port = htons(port);
	else if (a->u.sa.sa_family == AF_INET6)
		a->u.in6.sin6_port = htons(port);
}

PH_API uint16_t ph_addr_port(const struct ph_addr *a)
{
	if (a->u.sa.sa_family == AF_INET)
		return ntohs(a->u.in.sin_port);
	if (a->u.sa.sa_family == AF_INET6)
		return ntohs(a->u.in6.sin6_port);
	return 0;
}

PH_API int ph_addr_af(const struct ph_addr *a)
{
	return a->u.sa.sa_family;
}

PH_API socklen_t ph_addr_len(const struct ph_addr *a)
{
	if (a->u.sa.sa_family == AF_INET)
		return sizeof a->u.in;
	if (a->u.sa.sa_family == AF_INET6)
		return sizeof a->u.in6;
	return 0;
}

PH_API bool ph_addr_isset(const struct ph_addr *a)
{
	return a->u.sa.sa_family == AF_INET || a->u.sa.sa_family == AF_INET6;
}

/* The IPv4 address inside a (plain or v4-mapped); false for real IPv6. */
static bool v4_of(const struct ph_addr *a, struct in_addr *out)
{
	if (a->u.sa.sa_family == AF_INET) {
		*out = a->u.in.sin_addr;
		return true;
	}
	if (a->u.sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&a->u.in6.sin6_addr)) {
		memcpy(out, &a->u.in6.sin6_addr.s6_addr[12], 4);
		return true;
	}
	return false;
}

PH_API bool ph_addr_ip_eq(const struct ph_addr *a, const struct ph_addr *b)
{
	struct in_addr x, y;
	bool va = v4_of(a, &x), vb = v4_of(b, &y);

	if (va || vb)
		return va && vb && x.s_addr == y.s_addr;
	if (a->u.sa.sa_family != AF_INET6 || b->u.sa.sa_family != AF_INET6)
		return false;
	return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16);
}

PH_API bool ph_addr_is_private(const struct ph_addr *a)
{
	struct in_addr v4;

	if (v4_of(a, &v4)) {
		uint32_t x = ntohl(v4.s_addr);

		return (x >> 24) == 10 ||                /* RFC 1918 */
		       (x >> 20) == (172u << 4 | 1) ||   /* 172.16/12 */
		       (x >> 16) == (192u << 8 | 168) || /* 192.168/16 */
		       (x >> 22) == (100u << 2 | 1) ||   /* RFC 6598 100.64/10 */
		       (x >> 16) == (169u << 8 | 254);   /* RFC 3927 link-local */
	}
	if (a->u.sa.sa_family != AF_INET6)
		return false;
	return (a->u.in6.sin6_addr.s6_addr[0] & 0xfe) == 0xfc || /* RFC 4193 */
	       (a->u.in6.sin6_addr.s6_addr[0] == 0xfe &&         /* fe80::/10 */
		(a->u.in6.sin6_addr.s6_addr[1] & 0xc0) == 0x80);
}

PH_API bool ph_addr_eq(const struct ph_addr *a, const struct ph_addr *b)
{
	return ph_addr_ip_eq(a, b) && ph_addr_port(a) == ph_addr_port(b);
}

PH_API int ph_addr_ip_print(const struct ph_addr *a, char *buf, size_t size)
{
	const void *src = a->u.sa.sa_family == AF_INET
				  ? (const void *)&a->u.in.sin_addr
				  : (const void *)&a->u.in6.sin6_addr;
	char tmp[INET6_ADDRSTRLEN];

	if (!ph_addr_isset(a) ||
	    !inet_ntop(a->u.sa.sa_family, src, tmp, sizeof tmp))
		return EINVAL;
	if (strlen(tmp) >= size)
		return ENOSPC;
	strcpy(buf, tmp);
	return 0;
}

static char *put_dec(char *p, unsigned v)
{
	char d[10];
	unsigned n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = d[--n];
	return p;
}

/* "a.b.c.d:port", what inet_ntop and "%s:%u" write, without them: they
 * cost some 2,900 instructions an address (callgrind), and the durable
 * store prints two for each REGISTER it writes (store_codec.c). */
static int print_v4(const struct ph_addr *a, char *buf, size_t size)
{
	const uint8_t *b = (const uint8_t *)&a->u.in.sin_addr.s_addr;
	char tmp[sizeof "255.255.255.255:65535"], *p = tmp;

	for (unsigned i = 0; i < 4; i++) {
		p = put_dec(p, b[i]);
		*p++ = i < 3 ? '.' : ':';
	}
	p = put_dec(p, ph_addr_port(a));
	*p = '\0';
	if ((size_t)(p - tmp) >= size)
		return ENOSPC;
	memcpy(buf, tmp, (size_t)(p - tmp) + 1);
	return 0;
}

PH_API int ph_addr_print(const struct ph_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n, err;

	if (a->u.sa.sa_family == AF_INET)
		return print_v4(a, buf, size);
	if ((err = ph_addr_ip_print(a, ip, sizeof ip)))
		return err;
	n = snprintf(buf, size, a->u.sa.sa_family == AF_INET6 ? "[%s]:%u"
							       : "%s:%u",
		     ip, ph_addr_port(a));
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

PH_API uint32_t ph_addr_hash(const struct ph_addr *a)
{
	struct in_addr v4;
	uint32_t h = 2166136261u; /* FNV-1a over IP bytes, then port */
	const uint8_t *p;
	size_t n;

	if (v4_of(a, &v4)) {
		p = (const uint8_t *)&v4.s_addr;
		n = 4;
	} else {
		p = a->u.in6.sin6_addr.s6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (ph_addr_port(a) & 0xff)) * 16777619u;
	h = (h ^ (ph_addr_port(a) >> 8)) * 16777619u;
	return h;
}
