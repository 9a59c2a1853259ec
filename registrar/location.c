/* In-memory location store.
 *
 * One allocation per address-of-record holds the record, its contacts and
 * all their strings, so a binding costs a few hundred bytes and replacing
 * an AoR's contacts is one malloc and one free. Records sit in a chained
 * hash table by AoR and in a timing wheel by their earliest expiry, so
 * expiring is proportional to what expires, not to what is stored. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "location.h"
#include "countmap.h"

#define WHEEL_SLOTS 4096u /* seconds; later expiries wrap and are rechecked */

struct rec {
	struct rec *hnext;
	struct rec *wprev, *wnext;
	uint32_t hash;
	unsigned n;
	time_t next_expiry;
	const char *aor;
	struct loc_contact c[];
};

struct mem_store {
	struct loc_store base;
	struct rec **buckets;
	size_t nbuckets;       /* power of two */
	unsigned long aors, contacts, max_contacts;
	unsigned long max_per_source;  /* 0: no limit */
	struct countmap *sources;        /* contacts per source IP of their flow */
	struct rec *wheel[WHEEL_SLOTS];
	time_t wheel_now;      /* every slot up to here has been processed */
	loc_change_h *watch;   /* told of what expiry changes */
	void *watch_arg;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static struct rec **find_slot(struct mem_store *m, const char *aor,
			      uint32_t h)
{
	struct rec **pp = &m->buckets[h & (m->nbuckets - 1)];

	while (*pp && ((*pp)->hash != h || strcmp((*pp)->aor, aor)))
		pp = &(*pp)->hnext;
	return pp;
}

static void wheel_unlink(struct mem_store *m, struct rec *r)
{
	if (r->wprev)
		r->wprev->wnext = r->wnext;
	else
		m->wheel[r->next_expiry % WHEEL_SLOTS] = r->wnext;
	if (r->wnext)
		r->wnext->wprev = r->wprev;
	r->wprev = r->wnext = NULL;
}

static void wheel_link(struct mem_store *m, struct rec *r)
{
	struct rec **head;

	r->next_expiry = r->c[0].expires;
	for (unsigned i = 1; i < r->n; i++)
		if (r->c[i].expires < r->next_expiry)
			r->next_expiry = r->c[i].expires;
	/* Never behind the wheel's hand, or the slot would not be seen
	 * again for a whole turn. */
	if (r->next_expiry <= m->wheel_now)
		r->next_expiry = m->wheel_now + 1;
	head = &m->wheel[r->next_expiry % WHEEL_SLOTS];
	r->wprev = NULL;
	r->wnext = *head;
	if (*head)
		(*head)->wprev = r;
	*head = r;
}

static int grow(struct mem_store *m)
{
	size_t n = m->nbuckets * 2;
	struct rec **b = calloc(n, sizeof *b);

	if (!b)
		return ENOMEM;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct rec *r = m->buckets[i], *next;

		for (; r; r = next) {
			next = r->hnext;
			r->hnext = b[r->hash & (n - 1)];
			b[r->hash & (n - 1)] = r;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
	return 0;
}

static size_t strsize(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static const char *strput(char **arena, const char *s)
{
	char *d = *arena;
	size_t n = strsize(s);

	if (!s)
		return NULL;
	memcpy(d, s, n);
	*arena += n;
	return d;
}

/* One block: record, contacts, then every string. */
static struct rec *rec_build(const char *aor, uint32_t h,
			     const struct loc_contact *v, unsigned n)
{
	size_t size = sizeof(struct rec) + n * sizeof(struct loc_contact) +
		      strsize(aor);
	struct rec *r;
	char *arena;

	for (unsigned i = 0; i < n; i++)
		size += strsize(v[i].uri) + strsize(v[i].call_id) +
			strsize(v[i].fwwin) + strsize(v[i].node);
	r = malloc(size);
	if (!r)
		return NULL;
	memset(r, 0, sizeof *r);
	r->hash = h;
	r->n = n;
	arena = (char *)&r->c[n];
	r->aor = strput(&arena, aor);
	for (unsigned i = 0; i < n; i++) {
		r->c[i] = v[i];
		r->c[i].uri = strput(&arena, v[i].uri);
		r->c[i].call_id = strput(&arena, v[i].call_id);
		r->c[i].fwwin = strput(&arena, v[i].fwwin);
		r->c[i].node = strput(&arena, v[i].node);
	}
	return r;
}

static void source_sub(struct mem_store *m, const struct ph_addr *ip)
{
	uint8_t k[COUNTMAP_IPKEY_LEN];

	countmap_sub(m->sources, k, countmap_ipkey(ip, k), 1);
}

static unsigned long source_get(const struct mem_store *m,
				const struct ph_addr *ip)
{
	uint8_t k[COUNTMAP_IPKEY_LEN];

	return countmap_get(m->sources, k, countmap_ipkey(ip, k));
}

static void rec_release(struct mem_store *m, struct rec *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++)
		source_sub(m, &r->c[i].flow.src);
	m->contacts -= r->n;
	m->aors--;
	free(r);
}

static int mem_get(struct loc_store *s, const char *aor,
		   const struct loc_contact **vp, unsigned *np)
{
	struct mem_store *m = (struct mem_store *)s;
	struct rec *r = *find_slot(m, aor, hash_str(aor));

	*vp = r ? r->c : NULL;
	*np = r ? r->n : 0;
	return 0;
}

static unsigned count_ip(const struct loc_contact *v, unsigned n,
			 const struct ph_addr *ip)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += ph_addr_ip_eq(&v[i].flow.src, ip);
	return k;
}

/* Would the new contact set v take any source IP over max_per_source?
 * Only growth counts: a source already over (the limit was lowered) may
 * still refresh or remove what it holds. */
static bool over_source_limit(const struct mem_store *m,
			      const struct rec *old,
			      const struct loc_contact *v, unsigned n)
{
	for (unsigned i = 0; m->max_per_source && i < n; i++) {
		const struct ph_addr *ip = &v[i].flow.src;
		unsigned now = count_ip(v, n, ip);
		unsigned was = old ? count_ip(old->c, old->n, ip) : 0;

		if (now > was &&
		    source_get(m, ip) - was + now > m->max_per_source)
			return true;
	}
	return false;
}

static int count_sources(struct mem_store *m, struct rec *r)
{
	uint8_t k[COUNTMAP_IPKEY_LEN];

	for (unsigned i = 0; i < r->n; i++) {
		if (countmap_add(m->sources, k,
				 countmap_ipkey(&r->c[i].flow.src, k), 1)) {
			while (i--)
				source_sub(m, &r->c[i].flow.src);
			return ENOMEM;
		}
	}
	return 0;
}

static int mem_put(struct loc_store *s, const char *aor,
		   const struct loc_contact *v, unsigned n)
{
	struct mem_store *m = (struct mem_store *)s;
	uint32_t h = hash_str(aor);
	struct rec **pp = find_slot(m, aor, h), *old = *pp, *r = NULL;
	unsigned long after = m->contacts - (old ? old->n : 0) + n;

	if (after > m->max_contacts)
		return ENOSPC;
	if (over_source_limit(m, old, v, n))
		return EDQUOT;
	if (n) {
		r = rec_build(aor, h, v, n);
		if (!r)
			return ENOMEM;
		if (count_sources(m, r)) {
			free(r);
			return ENOMEM;
		}
	}
	if (old) {
		*pp = old->hnext;
		wheel_unlink(m, old);
		rec_release(m, old);
	}
	if (r) {
		r->hnext = m->buckets[h & (m->nbuckets - 1)];
		m->buckets[h & (m->nbuckets - 1)] = r;
		wheel_link(m, r);
		m->aors++;
		m->contacts += n;
		if (m->aors > m->nbuckets)
			grow(m); /* on ENOMEM the chains just get longer */
	}
	return 0;
}

/* Keep the contacts of r that outlive `now`; returns how many went. */
static unsigned rec_expire(struct mem_store *m, struct rec *r, time_t now)
{
	struct loc_contact keep[r->n];
	unsigned k = 0, gone;
	char aor[strlen(r->aor) + 1];

	for (unsigned i = 0; i < r->n; i++)
		if (r->c[i].expires > now)
			keep[k++] = r->c[i];
	gone = r->n - k;
	if (!gone) {
		wheel_link(m, r);
		return 0;
	}
	strcpy(aor, r->aor);
	/* Re-link first so mem_put finds r in the wheel to unlink. */
	wheel_link(m, r);
	if (mem_put(&m->base, aor, keep, k)) {
		/* Could not shrink the record (ENOMEM): retry next second. */
		return 0;
	}
	if (m->watch)
		m->watch(aor, keep, k, m->watch_arg);
	return gone;
}

static unsigned mem_expire(struct loc_store *s, time_t now)
{
	struct mem_store *m = (struct mem_store *)s;
	unsigned gone = 0;
	time_t t = m->wheel_now;

	if (now - t > (time_t)WHEEL_SLOTS)
		t = now - WHEEL_SLOTS;
	while (t < now) {
		struct rec *r = m->wheel[++t % WHEEL_SLOTS], *next;

		m->wheel_now = t;
		m->wheel[t % WHEEL_SLOTS] = NULL;
		for (; r; r = next) {
			next = r->wnext;
			r->wprev = r->wnext = NULL;
			if (r->next_expiry > t)
				wheel_link(m, r); /* a later turn of the wheel */
			else
				gone += rec_expire(m, r, t);
		}
	}
	return gone;
}

static void mem_count(const struct loc_store *s, unsigned long *aors,
		      unsigned long *contacts)
{
	const struct mem_store *m = (const struct mem_store *)s;

	*aors = m->aors;
	*contacts = m->contacts;
}

static void mem_destroy(struct loc_store *s)
{
	struct mem_store *m = (struct mem_store *)s;

	for (size_t i = 0; i < m->nbuckets; i++) {
		struct rec *r = m->buckets[i], *next;

		for (; r; r = next) {
			next = r->hnext;
			rec_release(m, r);
		}
	}
	free(m->buckets);
	countmap_free(m->sources);
	free(m);
}

void loc_mem_watch(struct loc_store *s, loc_change_h *h, void *arg)
{
	struct mem_store *m = (struct mem_store *)s;

	m->watch = h;
	m->watch_arg = arg;
}

static unsigned long mem_source_count(const struct loc_store *s,
				      const struct ph_addr *ip)
{
	return source_get((const struct mem_store *)s, ip);
}

static const struct loc_store_ops mem_ops = {
	.name = "memory",
	.get = mem_get,
	.put = mem_put,
	.expire = mem_expire,
	.count = mem_count,
	.source_count = mem_source_count,
	.destroy = mem_destroy,
};

int loc_mem_alloc(struct loc_store **sp, unsigned long max_contacts,
		  time_t now)
{
	struct mem_store *m = calloc(1, sizeof *m);

	if (!m)
		return ENOMEM;
	m->nbuckets = 1024;
	m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
	if (!m->buckets || countmap_alloc(&m->sources)) {
		free(m->buckets);
		free(m);
		return ENOMEM;
	}
	m->base.ops = &mem_ops;
	m->max_contacts = max_contacts;
	m->wheel_now = now;
	*sp = &m->base;
	return 0;
}

void loc_mem_set_max_per_source(struct loc_store *s, unsigned long n)
{
	((struct mem_store *)s)->max_per_source = n;
}
