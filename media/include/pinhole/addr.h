/* Transport addresses (IPv4 and IPv6, IP + port), no allocation. */
#ifndef PINHOLE_ADDR_H
#define PINHOLE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pinhole/api.h"

/* Longest text ph_addr_print() writes: "[" ipv6 "]:" port NUL. */
#define PH_ADDR_STRLEN (INET6_ADDRSTRLEN + 9)

struct ph_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
};

/* Numeric IPv4 or IPv6 literal (IPv6 with or without brackets); no DNS. */
PH_API int ph_addr_set(struct ph_addr *a, const char *ip, uint16_t port);
/* Same, from a buffer that need not be NUL-terminated. */
PH_API int ph_addr_set_n(struct ph_addr *a, const char *ip, size_t len,
			 uint16_t port);
/* "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" (defport when none). */
PH_API int ph_addr_parse(struct ph_addr *a, const char *s, size_t len,
			 uint16_t defport);
PH_API int ph_addr_from_sa(struct ph_addr *a, const struct sockaddr *sa,
			   socklen_t len);
PH_API void ph_addr_set_port(struct ph_addr *a, uint16_t port);
PH_API uint16_t ph_addr_port(const struct ph_addr *a);
PH_API int ph_addr_af(const struct ph_addr *a);
PH_API socklen_t ph_addr_len(const struct ph_addr *a);
PH_API bool ph_addr_isset(const struct ph_addr *a);
/* Same IP and port / same IP. IPv4-mapped IPv6 equals its IPv4 address. */
PH_API bool ph_addr_eq(const struct ph_addr *a, const struct ph_addr *b);
PH_API bool ph_addr_ip_eq(const struct ph_addr *a, const struct ph_addr *b);
/* "192.0.2.1:5060", "[2001:db8::1]:5060"; returns 0 or ENOSPC. */
/* An address no host on the internet has (RFC 1918, RFC 6598 shared,
 * link-local, RFC 4193 unique local): a NAT or a LAN is in front of it.
 * Loopback is not: it never crosses one. */
PH_API bool ph_addr_is_private(const struct ph_addr *a);

PH_API int ph_addr_print(const struct ph_addr *a, char *buf, size_t size);
/* IP only, IPv6 without brackets. */
PH_API int ph_addr_ip_print(const struct ph_addr *a, char *buf, size_t size);
/* 32-bit hash of IP and port, for tables. */
PH_API uint32_t ph_addr_hash(const struct ph_addr *a);

#endif
