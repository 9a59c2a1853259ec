/* The STUN service's memory of answered sources (PROTOCOL.md section 3's
 * window check): a bounded set of addresses with the time each was last
 * answered. One network (a /24 for IPv4, a /64 for IPv6) holds at most
 * per_prefix entries; a new source of a network at its share replaces that
 * network's own oldest entry, other new sources the oldest of all. */
#ifndef PINHOLED_STUNMEM_H
#define PINHOLED_STUNMEM_H

#include <stdbool.h>
#include <stdint.h>

#include <pinhole/addr.h>

struct stunmem;

int stunmem_alloc(struct stunmem **mp, unsigned size, unsigned per_prefix);
void stunmem_free(struct stunmem *m);
void stunmem_note(struct stunmem *m, const struct ph_addr *a, uint64_t now);
/* The time a was last noted; false when it is not remembered. */
bool stunmem_get(const struct stunmem *m, const struct ph_addr *a,
		 uint64_t *at);

#endif
