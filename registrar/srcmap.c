/* Counts per source IP: a chained hash table whose size follows the number
 * of addresses held, so memory is proportional to the sources present. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "srcmap.h"

struct ent {
	struct ent *next;
	struct ph_addr ip;     /* port 0 */
	unsigned long n;
};

struct srcmap {
	struct ent **b;
	size_t nb;             /* power of two */
	size_t used;
};

int srcmap_alloc(struct srcmap **mp)
{
	struct srcmap *m = calloc(1, sizeof *m);

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

void srcmap_free(struct srcmap *m)
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

static struct ph_addr ip_only(const struct ph_addr *a)
{
	struct ph_addr k = *a;

	ph_addr_set_port(&k, 0);
	return k;
}

static struct ent **find(const struct srcmap *m, const struct ph_addr *k)
{
	struct ent **pp = &m->b[ph_addr_hash(k) & (m->nb - 1)];

	while (*pp && !ph_addr_ip_eq(&(*pp)->ip, k))
		pp = &(*pp)->next;
	return pp;
}

unsigned long srcmap_get(const struct srcmap *m, const struct ph_addr *ip)
{
	struct ph_addr k = ip_only(ip);
	struct ent *e = *find(m, &k);

	return e ? e->n : 0;
}

/* Twice the buckets when there are more addresses than buckets; on ENOMEM
 * the chains just get longer. */
static void grow(struct srcmap *m)
{
	size_t nb = m->nb * 2;
	struct ent **b = calloc(nb, sizeof *b);

	if (!b)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		struct ent *e = m->b[i], *next;

		for (; e; e = next) {
			size_t j = ph_addr_hash(&e->ip) & (nb - 1);

			next = e->next;
			e->next = b[j];
			b[j] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

int srcmap_inc(struct srcmap *m, const struct ph_addr *ip)
{
	struct ph_addr k = ip_only(ip);
	struct ent **pp = find(m, &k);

	if (!*pp) {
		*pp = calloc(1, sizeof **pp);
		if (!*pp)
			return ENOMEM;
		(*pp)->ip = k;
		if (++m->used > m->nb)
			grow(m);
		pp = find(m, &k);
	}
	(*pp)->n++;
	return 0;
}

void srcmap_dec(struct srcmap *m, const struct ph_addr *ip)
{
	struct ph_addr k = ip_only(ip);
	struct ent **pp = find(m, &k), *e = *pp;

	if (!e)
		return;
	if (--e->n)
		return;
	*pp = e->next;
	free(e);
	m->used--;
}
