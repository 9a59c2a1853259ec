/* Calls with relay ports (PROTOCOL.md sections 4-6, 9): every INVITE with
 * an offer reserves a relay stream per m-line, which carries the media
 * when the route is `relay` and is the fallback named in `open` and
 * `transmit` otherwise. Kept by Call-ID until a BYE, a failed INVITE, or
 * the relay freeing the streams as idle; each ends with one log line
 * saying what the relay carried. */
#ifndef PINHOLED_MCALL_H
#define PINHOLED_MCALL_H

#include <pinhole/relay.h>

#include "conf.h"
#include "route.h"
#include "sdpfw.h"

struct mcall {
	struct mcall *next;                   /* hash chain */
	char *call_id;
	unsigned n;                           /* streams */
	uint64_t id[SDPFW_MAX_MEDIA];
	struct ph_addr port[SDPFW_MAX_MEDIA][2];  /* where leg 0 / 1 sends */
	struct ph_addr media[SDPFW_MAX_MEDIA][2]; /* each leg's SDP address */
	struct ph_relay_stats last[SDPFW_MAX_MEDIA];
	enum route_kind route;                /* as decided */
	bool answered;
};

struct mcalls;

/* Starts the relay when conf says relay = internal. */
int mcalls_alloc(struct mcalls **mp, const struct pconf *conf);
void mcalls_free(struct mcalls *m);

struct mcall *mcall_find(struct mcalls *m, const char *call_id);
/* Streams for the offer's m-lines, advertised at the address that faces
 * `caller` (or relay_address). ENOTSUP: relay off; EAFNOSUPPORT: media
 * of another address family than the relay's; EBUSY: the pool is
 * exhausted; EEXIST: the call has them. */
int mcall_reserve(struct mcalls *m, const char *call_id,
		  const struct sdpfw *offer, const struct ph_addr *caller,
		  struct mcall **out);
/* Leg `leg` is `side`, its media as `sdp` says: where it may send from
 * and, once its SDP address changes (a re-INVITE), latched anew. */
void mcall_expect(struct mcalls *m, struct mcall *c, unsigned leg,
		  const struct route_side *side, const struct sdpfw *sdp);
/* Before it answers: leg `leg` may send from any of these IPs (the
 * bindings an INVITE forks to), so that its first packet latches. */
void mcall_expect_ips(struct mcalls *m, struct mcall *c, unsigned leg,
		      const struct ph_addr *ips, unsigned n);
/* Frees the streams, logs what they carried, forgets the call. */
void mcall_end(struct mcalls *m, struct mcall *c, const char *why);
/* Once a second: forget calls whose streams the relay freed as idle. */
void mcalls_tick(struct mcalls *m);

#endif
