/* Counts per source IP address (the port does not matter): how much of a
 * shared resource one address holds, for the per-source limits an
 * operator sets (conf/pinholed.conf: max_bindings_per_source, ...). */
#ifndef PINHOLED_SRCMAP_H
#define PINHOLED_SRCMAP_H

#include <pinhole/addr.h>

struct srcmap;

int srcmap_alloc(struct srcmap **mp);
void srcmap_free(struct srcmap *m);
/* What ip holds now; 0 for an address never seen. */
unsigned long srcmap_get(const struct srcmap *m, const struct ph_addr *ip);
/* One more for ip (ENOMEM: nothing changed), one less (never fails; an
 * address that holds nothing is forgotten). */
int srcmap_inc(struct srcmap *m, const struct ph_addr *ip);
void srcmap_dec(struct srcmap *m, const struct ph_addr *ip);

#endif
