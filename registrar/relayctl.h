/* How pinholed drives a media relay: a narrow control interface behind an
 * ops table (allocate, expect, touch, stats, free), with only addresses
 * and counters crossing it, so that a relay on another host can be a
 * second backend without touching the call code. The in-process relay
 * engine (media/relay, its own threads) is the first backend.
 *
 * A reservation may complete later than alloc() returns (a remote relay
 * answers over the network): its handler runs exactly once, with the
 * streams or an error, possibly before alloc() returns. */
#ifndef PINHOLED_RELAYCTL_H
#define PINHOLED_RELAYCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "relay.h"

#include "conf.h"

#define RELAYCTL_MAX_STREAMS 8

/* What a reservation got: per stream an id and where each leg sends (leg
 * 0: the caller, 1: the callee), at the address that faces the caller;
 * the callee leg's IP may be moved to the one that faces the callee
 * (face() below) before the callee is told it. */
struct relay_grant {
	unsigned n;
	uint64_t id[RELAYCTL_MAX_STREAMS];
	struct ph_addr port[RELAYCTL_MAX_STREAMS][2];
};

/* err 0 with g filled, or ENOTSUP (no relay), EAFNOSUPPORT (media of
 * another address family than the relay's), EBUSY (no ports left). */
typedef void (relay_grant_h)(int err, const struct relay_grant *g, void *arg);

struct relayctl;

struct relayctl_ops {
	const char *name;
	/* n streams for media at these addresses, for a caller at `toward`. */
	void (*alloc)(struct relayctl *r, unsigned n, const struct ph_addr *media,
		      const struct ph_addr *toward, relay_grant_h *h, void *arg);
	int (*expect)(struct relayctl *r, uint64_t id, unsigned leg,
		      const struct ph_addr *ips, unsigned n,
		      const struct ph_addr *media, bool relatch);
	int (*touch)(struct relayctl *r, uint64_t id);
	int (*stats)(struct relayctl *r, uint64_t id, struct ph_relay_stats *st);
	int (*free)(struct relayctl *r, uint64_t id, struct ph_relay_stats *st);
	void (*destroy)(struct relayctl *r);
	/* The relay's IP that a leg at `toward` is to send to, where the
	 * relay's ports answer on every address of a host with several
	 * (ENOTSUP: none better than the grant's); may be NULL. */
	int (*face)(struct relayctl *r, const struct ph_addr *toward,
		    struct ph_addr *out);
	/* A stream of the pinholed before this one, on the same ports
	 * (port[leg]) with each leg's RTP latched where it was (unset: not
	 * latched): a relayed call kept across a restart (calls_restore()).
	 * NULL where the relay does not run in pinholed (it keeps its own). */
	int (*adopt)(struct relayctl *r, const struct ph_addr port[2],
		     const struct ph_addr latched[2], uint64_t *id);
};

struct relayctl {
	const struct relayctl_ops *ops;
};

/* The in-process relay on conf's relay_* keys; *rp NULL when relay = off. */
int relayctl_internal_alloc(struct relayctl **rp, const struct pconf *conf);

/* Relays on other hosts over the ng protocol (conf's relay = ng:...),
 * driven from pinholed's loop (doc/RELAY-NG.md). */
struct su_root_s;
int relayctl_ng_alloc(struct relayctl **rp, const struct pconf *conf,
		      struct su_root_s *root);

static inline void relayctl_destroy(struct relayctl *r)
{
	if (r)
		r->ops->destroy(r);
}

#endif
