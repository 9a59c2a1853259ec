/* Inside the call module: one call's state and the table of calls,
 * shared by call.c (what a call decides and edits) and calls.c (the table,
 * the lifetimes, the relay streams). Nothing else includes this. */
#ifndef PINHOLED_CALL_INT_H
#define PINHOLED_CALL_INT_H

#include "call.h"
#include "ratelog.h"

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
	unsigned quota_n;             /* streams counted against: */
	struct ph_addr quota_src;     /* the INVITE's source IP */
	char *quota_aor;              /* its caller's AoR (or NULL) */
	bool callee_outside;          /* edge mode: its branches go to the PBX */
	/* what the relay was told of each leg, kept in the store across a
	 * restart (callkeep.c) */
	struct ph_addr exp[RELAYCTL_MAX_STREAMS][2][PH_RELAY_MAX_EXPECT];
	unsigned nexp[RELAYCTL_MAX_STREAMS][2];
	struct ph_addr latched[RELAYCTL_MAX_STREAMS][2]; /* as last kept */
	bool kept;                    /* its record is in the store */
	uint64_t kept_ms, kept_rx;    /* when last written, rx then */
};

struct calls {
	struct relayctl *relay;
	struct stund *stund;
	struct loc_store *store;
	unsigned n;
	struct call *bucket[CALLS_BUCKETS];
	struct countmap *by_src, *by_user;  /* relay streams held */
	unsigned per_source, per_user;      /* limits; 0: none */
	struct ratelog quota_log;
	bool keep;                    /* the store keeps relayed calls */
	unsigned idle_s;              /* relay_idle */
};

struct call *calls_find(struct calls *cs, const char *call_id);
/* PROTOCOL.md section 3: window w of side s counts (our STUN service
 * answered exactly that address lately, at the side's IP). */
bool call_window_ok(const struct calls *cs, const struct route_side *s,
		    const struct ph_addr *w);
/* The host of s's Firewall-Window is vouched for: it is where its SIP
 * came from, or the IP of its SDP's window that counts (sdp may be NULL). */
bool call_fw_vouched(const struct calls *cs, const struct route_side *s,
		     const struct sdpfw *sdp);
/* A new call in the table, holding the table's reference. */
int calls_add(struct calls *cs, const char *call_id, struct call **cp);
/* Leg `leg` is `side`, its media as `sdp` says (relay streams). */
void call_expect(struct call *c, unsigned leg, const struct route_side *side,
		 const struct sdpfw *sdp);
void call_expect_callee(struct call *c, const struct route_side *callee);
/* Frees the streams, reports what they carried, forgets the call. */
void call_end_media(struct call *c, const char *why);

/* What the relay is told leg `leg` of stream i may send from, kept for
 * call_keep() too. */
void call_relay_expect(struct call *c, unsigned i, unsigned leg,
		       const struct ph_addr *ips, unsigned n,
		       const struct ph_addr *media, bool relatch);

/* Relayed calls kept across a restart (callkeep.c): an answered call's
 * reservation written to the store (again), each second's check of its
 * latches, its record deleted when it ends. */
void call_keep(struct call *c);
void call_keep_tick(struct call *c);
void call_unkeep(struct call *c);

/* Relay streams per source and per user (callquota.c). take: n streams
 * for c, EUSERS when its source or user would hold more than its limit
 * (nothing counted then); give: what c holds, once. */
int calls_quota_alloc(struct calls *cs);
void calls_quota_free(struct calls *cs);
int call_quota_take(struct call *c, const char *aor,
		    const struct ph_addr *src, unsigned n);
void call_quota_give(struct call *c);

#endif
