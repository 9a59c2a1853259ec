/* Inside the call module: one call's state and the table of calls,
 * shared by call.c (what a call decides and edits) and calls.c (the table,
 * the lifetimes, the relay streams). Nothing else includes this. */
#ifndef PINHOLED_CALL_INT_H
#define PINHOLED_CALL_INT_H

#include "call.h"

#define CALLS_BUCKETS 4096

struct branch {
	struct route_side callee;
	struct route rt;
	struct ph_addr face;          /* the relay's IP its callee was told */
};

struct call {
	struct call *next;            /* hash chain */
	struct calls *cs;
	char *call_id;
	unsigned refs;                /* the table's, and each transaction's */
	bool listed;                  /* in the table */
	struct route_side caller;
	bool has_offer;
	struct sdpfw offer;
	unsigned nb;
	struct branch b[CALL_MAX_BRANCHES];
	struct ph_addr ips[PH_RELAY_MAX_EXPECT]; /* the callee leg's, so far */
	unsigned nips;
	int relay_err;                /* why there are no streams */
	struct relay_grant g;         /* the streams (g.n: 0 for none) */
	struct ph_addr media[RELAYCTL_MAX_STREAMS][2]; /* each leg's SDP address */
	struct ph_relay_stats last[RELAYCTL_MAX_STREAMS];
	enum route_kind route;        /* as decided for the answering branch */
	bool answered;
	bool reserving;               /* the relay has not answered yet */
	bool callee_outside;          /* edge mode: its branches go to the PBX */
};

struct calls {
	struct relayctl *relay;
	struct stund *stund;
	struct loc_store *store;
	unsigned n;
	struct call *bucket[CALLS_BUCKETS];
};

struct call *calls_find(struct calls *cs, const char *call_id);
/* A new call in the table, holding the table's reference. */
int calls_add(struct calls *cs, const char *call_id, struct call **cp);
/* Leg `leg` is `side`, its media as `sdp` says (relay streams). */
void call_expect(struct call *c, unsigned leg, const struct route_side *side,
		 const struct sdpfw *sdp);
void call_expect_callee(struct call *c, const struct route_side *callee);
/* Frees the streams, reports what they carried, forgets the call. */
void call_end_media(struct call *c, const char *why);

#endif
