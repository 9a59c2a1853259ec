/* Counts per key: how much of a shared resource one source IP address or
 * one user holds, for the per-source limits an operator sets
 * (conf/pinholed.conf: max_bindings_per_source, relay_streams_per_source,
 * relay_streams_per_user). */
#ifndef PINHOLED_COUNTMAP_H
#define PINHOLED_COUNTMAP_H

#include <stddef.h>
#include <stdint.h>

#include <pinhole/addr.h>

#define COUNTMAP_IPKEY_LEN 17

struct countmap;

int countmap_alloc(struct countmap **mp);
void countmap_free(struct countmap *m);
/* What key holds now; 0 for a key never seen. */
unsigned long countmap_get(const struct countmap *m, const void *key,
			   size_t len);
/* n more for key (ENOMEM: nothing changed); n fewer (never fails; a key
 * that holds nothing is forgotten). */
int countmap_add(struct countmap *m, const void *key, size_t len,
		 unsigned long n);
void countmap_sub(struct countmap *m, const void *key, size_t len,
		  unsigned long n);
/* The key for a's IP address (its port does not count): family and
 * address bytes; returns its length. */
size_t countmap_ipkey(const struct ph_addr *a,
		      uint8_t key[COUNTMAP_IPKEY_LEN]);

#endif
