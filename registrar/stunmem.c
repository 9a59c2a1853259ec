/* Slots sit in a ring in arrival order (the hand reuses the oldest), in a
 * chained hash table by address, and in a list per network, oldest first,
 * whose length is the network's share. Networks live in a table of their
 * own, as many records as slots (a network holds at least one slot). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "stunmem.h"

struct slot {
	struct ph_addr addr;
	uint64_t at;
	int32_t next;          /* hash chain by address, -1 ends */
	int32_t pnext, pprev;  /* the network's list */
	int32_t net;
	bool used;
};

struct net {
	struct ph_addr key;    /* the address with its host part zeroed */
	uint32_t count;
	int32_t head, tail;    /* oldest, newest slot */
	int32_t next;          /* hash chain, or the free list */
};

struct stunmem {
	unsigned size, per_prefix;
	uint32_t hand, mask;
	struct slot *slots;
	int32_t *heads;        /* by address, mask + 1 */
	struct net *nets;
	int32_t *nheads;       /* by network, mask + 1 */
	int32_t nfree;
};

int stunmem_alloc(struct stunmem **mp, unsigned size, unsigned per_prefix)
{
	struct stunmem *m;
	uint32_t n = 1;

	if (!size)
		return EINVAL;
	while (n < size)
		n <<= 1;
	m = calloc(1, sizeof *m);
	if (!m)
		return ENOMEM;
	m->slots = calloc(size, sizeof *m->slots);
	m->nets = calloc(size, sizeof *m->nets);
	m->heads = malloc(n * sizeof *m->heads);
	m->nheads = malloc(n * sizeof *m->nheads);
	if (!m->slots || !m->nets || !m->heads || !m->nheads) {
		stunmem_free(m);
		return ENOMEM;
	}
	memset(m->heads, 0xff, n * sizeof *m->heads);
	memset(m->nheads, 0xff, n * sizeof *m->nheads);
	for (unsigned i = 0; i < size; i++)
		m->nets[i].next = i + 1 < size ? (int32_t)i + 1 : -1;
	m->size = size;
	m->per_prefix = per_prefix && per_prefix < size ? per_prefix : size;
	m->mask = n - 1;
	*mp = m;
	return 0;
}

void stunmem_free(struct stunmem *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m->nets);
	free(m->heads);
	free(m->nheads);
	free(m);
}

/* /24 for IPv4 (and IPv4-mapped IPv6), /64 for IPv6. */
static struct ph_addr net_key(const struct ph_addr *a)
{
	struct ph_addr k = *a;

	ph_addr_set_port(&k, 0);
	if (ph_addr_af(&k) == AF_INET) {
		k.u.in.sin_addr.s_addr &= htonl(0xffffff00u);
	} else {
		uint8_t *b = k.u.in6.sin6_addr.s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&k.u.in6.sin6_addr))
			b[15] = 0;
		else
			memset(b + 8, 0, 8);
		k.u.in6.sin6_flowinfo = 0;
		k.u.in6.sin6_scope_id = 0;
	}
	return k;
}

static int32_t *slot_find(const struct stunmem *m, const struct ph_addr *a)
{
	int32_t *p = &m->heads[ph_addr_hash(a) & m->mask];

	while (*p >= 0 && !ph_addr_eq(&m->slots[*p].addr, a))
		p = &m->slots[*p].next;
	return p;
}

static int32_t *net_find(const struct stunmem *m, const struct ph_addr *k)
{
	int32_t *p = &m->nheads[ph_addr_hash(k) & m->mask];

	while (*p >= 0 && !ph_addr_ip_eq(&m->nets[*p].key, k))
		p = &m->nets[*p].next;
	return p;
}

/* Take slot i out of the address table and its network's list. */
static void forget(struct stunmem *m, int32_t i)
{
	struct slot *s = &m->slots[i];
	struct net *n = &m->nets[s->net];
	int32_t *p = slot_find(m, &s->addr);

	*p = s->next;
	if (s->pprev >= 0)
		m->slots[s->pprev].pnext = s->pnext;
	else
		n->head = s->pnext;
	if (s->pnext >= 0)
		m->slots[s->pnext].pprev = s->pprev;
	else
		n->tail = s->pprev;
	if (!--n->count) {
		p = net_find(m, &n->key);
		*p = n->next;
		n->next = m->nfree;
		m->nfree = s->net;
	}
	s->used = false;
}

/* The network of key, made when new (a free record always exists: no
 * more networks than used slots, and the slot to fill was just freed). */
static int32_t net_get(struct stunmem *m, const struct ph_addr *k)
{
	int32_t *p = net_find(m, k), i;

	if (*p >= 0)
		return *p;
	i = m->nfree;
	m->nfree = m->nets[i].next;
	memset(&m->nets[i], 0, sizeof m->nets[i]);
	m->nets[i].key = *k;
	m->nets[i].head = m->nets[i].tail = -1;
	m->nets[i].next = -1;
	*p = i;
	return i;
}

void stunmem_note(struct stunmem *m, const struct ph_addr *a, uint64_t now)
{
	struct ph_addr k = net_key(a);
	int32_t *p = slot_find(m, a), *q, i, ni;
	struct slot *s;

	if (*p >= 0) {
		m->slots[*p].at = now;
		return;
	}
	q = net_find(m, &k);
	if (*q >= 0 && m->nets[*q].count >= m->per_prefix) {
		i = m->nets[*q].head; /* its own oldest, in place */
	} else {
		i = (int32_t)m->hand;
		m->hand = (m->hand + 1) % m->size;
	}
	if (m->slots[i].used)
		forget(m, i);
	ni = net_get(m, &k);
	s = &m->slots[i];
	s->addr = *a;
	s->at = now;
	s->used = true;
	s->net = ni;
	p = slot_find(m, a);
	s->next = -1;
	*p = i;
	s->pnext = -1;
	s->pprev = m->nets[ni].tail;
	if (s->pprev >= 0)
		m->slots[s->pprev].pnext = i;
	else
		m->nets[ni].head = i;
	m->nets[ni].tail = i;
	m->nets[ni].count++;
}

bool stunmem_get(const struct stunmem *m, const struct ph_addr *a,
		 uint64_t *at)
{
	int32_t i = *slot_find(m, a);

	if (i < 0)
		return false;
	*at = m->slots[i].at;
	return true;
}
