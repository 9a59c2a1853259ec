/* The location store: bindings per address-of-record (RFC 3261 section 10).
 *
 * A small interface over the in-memory store, which the durable one
 * (store.h) wraps. All changes to an AoR go through loc_put(), which
 * replaces its whole contact set at once: a request is stored completely
 * or not at all; loc_sync() says when that is on disk. */
#ifndef PINHOLED_LOCATION_H
#define PINHOLED_LOCATION_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <pinhole/addr.h>

#include "flow.h"

struct loc_contact {
	const char *uri;       /* Contact URI as registered */
	const char *call_id;
	const char *fwwin;     /* stored Firewall-Window value, or NULL */
	uint32_t cseq;
	int16_t q;             /* 0..1000 (q-value x 1000), -1 when absent */
	time_t expires;        /* absolute, on the caller's clock (seconds) */
	struct flow flow;      /* how requests reach it: its REGISTER's flow */
	const char *node;      /* store = redis: the node holding that flow
				  (its node_address); NULL: this one */
};

struct loc_store;

/* A change is durable (err 0), or could not be made so (err: it was
 * undone in memory too). */
typedef void (loc_done_h)(int err, void *arg);

/* A waiter for loc_sync(), kept by the caller until done runs. */
struct loc_wait {
	struct loc_wait *next;
	loc_done_h *done;
	void *arg;
};

/* An AoR's contacts changed without loc_put (expiry). */
typedef void (loc_change_h)(const char *aor, const struct loc_contact *v,
			    unsigned n, void *arg);

struct loc_store_ops {
	const char *name;
	/* Contacts of an AoR; *vp stays valid until the next put/expire. */
	int (*get)(struct loc_store *s, const char *aor,
		   const struct loc_contact **vp, unsigned *np);
	/* Replace the AoR's contacts (n == 0 removes it). ENOSPC when the
	 * store is full, EDQUOT when a source IP would hold more than its
	 * share; then nothing changed. */
	int (*put)(struct loc_store *s, const char *aor,
		   const struct loc_contact *v, unsigned n);
	/* Drop contacts whose expires <= now; returns how many. */
	unsigned (*expire)(struct loc_store *s, time_t now);
	void (*count)(const struct loc_store *s, unsigned long *aors,
		      unsigned long *contacts);
	/* Contacts whose flow comes from this IP (any port). */
	unsigned long (*source_count)(const struct loc_store *s,
				      const struct ph_addr *ip);
	void (*destroy)(struct loc_store *s);
	/* Runs w->done once every put made so far is on disk; NULL: puts
	 * are final when they return (the memory store). */
	void (*sync)(struct loc_store *s, struct loc_wait *w);
};

struct loc_store {
	const struct loc_store_ops *ops;
};

int loc_mem_alloc(struct loc_store **sp, unsigned long max_contacts,
		  time_t now);
/* The memory store tells h of what its expiry changes. */
void loc_mem_watch(struct loc_store *s, loc_change_h *h, void *arg);
/* At most n contacts from one source IP (max_bindings_per_source); 0: no
 * limit. */
void loc_mem_set_max_per_source(struct loc_store *s, unsigned long n);

static inline int loc_get(struct loc_store *s, const char *aor,
			  const struct loc_contact **vp, unsigned *np)
{
	return s->ops->get(s, aor, vp, np);
}

static inline int loc_put(struct loc_store *s, const char *aor,
			  const struct loc_contact *v, unsigned n)
{
	return s->ops->put(s, aor, v, n);
}

static inline unsigned loc_expire(struct loc_store *s, time_t now)
{
	return s->ops->expire(s, now);
}

static inline void loc_count(const struct loc_store *s, unsigned long *aors,
			     unsigned long *contacts)
{
	s->ops->count(s, aors, contacts);
}

/* The answer to a request that changed the store waits for this. */
static inline void loc_sync(struct loc_store *s, struct loc_wait *w)
{
	if (s->ops->sync)
		s->ops->sync(s, w);
	else
		w->done(0, w->arg);
}

static inline unsigned long loc_source_count(const struct loc_store *s,
					     const struct ph_addr *ip)
{
	return s->ops->source_count(s, ip);
}

static inline void loc_destroy(struct loc_store *s)
{
	if (s)
		s->ops->destroy(s);
}

#endif
