/* Counts per key: a chained hash table whose size follows the number of
 * keys held, so memory is proportional to the sources present. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "countmap.h"

struct ent {
	struct ent *next;
	unsigned long n;
	uint32_t hash;
	size_t len;
	uint8_t key[];
};

struct countmap {
	struct ent **b;
	size_t nb;             /* power of two */
	size_t used;
};

int countmap_alloc(struct countmap **mp)
{
	struct countmap *m = calloc(1, sizeof *m);

	if (!m)
		return ENOMEM;
	m->nb = 256;
	m->b = calloc(m->nb, sizeof *m->b);
	if (!m->b) {
		free(m);
		return ENOMEM;
	}
	*mp = m;
	return 0;
}

void countmap_free(struct countmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		struct ent *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->b);
	free(m);
}

static uint32_t hash(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (len--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static struct ent **find(const struct countmap *m, const void *key,
			 size_t len, uint32_t h)
{
	struct ent **pp = &m->b[h & (m->nb - 1)];

	while (*pp && ((*pp)->hash != h || (*pp)->len != len ||
		       memcmp((*pp)->key, key, len)))
		pp = &(*pp)->next;
	return pp;
}

unsigned long countmap_get(const struct countmap *m, const void *key,
			   size_t len)
{
	struct ent *e = *find(m, key, len, hash(key, len));

	return e ? e->n : 0;
}

/* Twice the buckets when there are more keys than buckets; on ENOMEM the
 * chains just get longer. */
static void grow(struct countmap *m)
{
	size_t nb = m->nb * 2;
	struct ent **b = calloc(nb, sizeof *b);

	if (!b)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		struct ent *e = m->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

int countmap_add(struct countmap *m, const void *key, size_t len,
		 unsigned long n)
{
	uint32_t h = hash(key, len);
	struct ent **pp = find(m, key, len, h), *e = *pp;

	if (!e) {
		e = malloc(sizeof *e + len);
		if (!e)
			return ENOMEM;
		*e = (struct ent){.hash = h, .len = len};
		memcpy(e->key, key, len);
		*pp = e;
		if (++m->used > m->nb)
			grow(m);
	}
	e->n += n;
	return 0;
}

void countmap_sub(struct countmap *m, const void *key, size_t len,
		  unsigned long n)
{
	struct ent **pp = find(m, key, len, hash(key, len)), *e = *pp;

	if (!e)
		return;
	if (e->n > n) {
		e->n -= n;
		return;
	}
	*pp = e->next;
	free(e);
	m->used--;
}

size_t countmap_ipkey(const struct ph_addr *a, uint8_t key[COUNTMAP_IPKEY_LEN])
{
	if (ph_addr_af(a) == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &a->u.in.sin_addr, 4);
		return 5;
	}
	key[0] = 6;
	memcpy(key + 1, &a->u.in6.sin6_addr, 16);
	return 17;
}
