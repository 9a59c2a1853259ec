/* The addresses pinholed's SIP transports bind, one transport each: a
 * wildcard listen address (0.0.0.0, ::) stands for every address of its
 * family this host has at start. On a host with several addresses a
 * request to a phone must leave from the address that phone sends to (its
 * NAT drops anything else), so each transport has one address and is
 * named by it (TPTAG_IDENT), and a request picks the one of its flow. */
#ifndef PINHOLED_LISTEN_H
#define PINHOLED_LISTEN_H

#include <pinhole/addr.h>

#define LISTEN_MAX 32

/* in[0..n_in) expanded into out[0..*n): duplicates once, IPv6 link-local
 * addresses and interfaces that are down left out. ENOENT when nothing is
 * left, else errno of getifaddrs(). */
int listen_expand(const struct ph_addr *in, unsigned n_in,
		  struct ph_addr *out, unsigned max, unsigned *n);

/* The transport name (TPTAG_IDENT) of the transport bound to a's IP. */
int listen_ident(const struct ph_addr *a, char *buf, size_t size);

#endif
