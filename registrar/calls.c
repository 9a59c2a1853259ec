/* The table of calls by Call-ID, their lifetimes (a reference for the
 * table and one per transaction), and their relay streams: what the relay
 * is told, what it carried, idleness. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "call_int.h"
#include "log.h"

static unsigned hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h % CALLS_BUCKETS;
}

int calls_alloc(struct calls **cp, struct relayctl *relay, struct stund *stund,
		struct loc_store *store)
{
	struct calls *cs = calloc(1, sizeof *cs);

	if (!cs)
		return ENOMEM;
	if (calls_quota_alloc(cs)) {
		calls_quota_free(cs);
		free(cs);
		return ENOMEM;
	}
	cs->relay = relay;
	cs->stund = stund;
	cs->store = store;
	*cp = cs;
	return 0;
}

static void drop(struct call *c)
{
	if (--c->refs)
		return;
	free(c->call_id);
	free(c);
}

/* Out of the table, which drops its reference. */
static void unlist(struct call *c)
{
	struct calls *cs = c->cs;

	for (struct call **pp = &cs->bucket[hash(c->call_id)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->listed = false;
	cs->n--;
	call_quota_give(c);
	call_unkeep(c);
	drop(c);
}

/* A call without relay streams has nothing to keep once its last
 * transaction lets go: in-dialog requests do nothing with it. */
void call_unref(struct call *c)
{
	if (!c)
		return;
	if (c->listed && !c->g.n && c->refs == 2)
		unlist(c);
	drop(c);
}

static void media_report(const struct call *c, const char *how,
			 const char *why);

/* pinholed stops, and the store keeps the call: its record written with
 * the latches as they are, and left there for the next start. */
static void pause_media(struct call *c)
{
	struct relayctl *r = c->cs->relay;

	for (unsigned i = 0; i < c->g.n; i++)
		r->ops->free(r, c->g.id[i], &c->last[i]);
	call_keep(c);
	c->kept = false; /* unlist() leaves the record */
	media_report(c, "paused", "pinholed stopped; its relay ports are kept "
		     "in the store for the next start");
	unlist(c);
}

void calls_free(struct calls *cs)
{
	if (!cs)
		return;
	for (unsigned i = 0; i < CALLS_BUCKETS; i++)
		while (cs->bucket[i]) {
			struct call *c = cs->bucket[i];
			c->refs = 1; /* the transactions went with the agent */
			/* a call in progress gets its report, as it would at
			 * its BYE (pinholed stopping), unless the store keeps
			 * it for the next start */
			if (c->g.n && cs->relay && c->kept)
				pause_media(c);
			else if (c->g.n && cs->relay)
				call_end_media(c, "pinholed stopped");
			else
				unlist(c);
		}
	calls_quota_free(cs);
	free(cs);
}

unsigned calls_count(const struct calls *cs)
{
	return cs->n;
}

struct call *calls_find(struct calls *cs, const char *call_id)
{
	for (struct call *c = cs->bucket[hash(call_id)]; c; c = c->next)
		if (!strcmp(c->call_id, call_id))
			return c;
	return NULL;
}

int calls_add(struct calls *cs, const char *call_id, struct call **cp)
{
	struct call *c = calloc(1, sizeof *c);
	unsigned h = hash(call_id);

	if (!c || !(c->call_id = strdup(call_id))) {
		free(c);
		return ENOMEM;
	}
	c->cs = cs;
	c->refs = 1;
	c->listed = true;
	c->relay_err = ENOTSUP;
	c->next = cs->bucket[h];
	cs->bucket[h] = c;
	cs->n++;
	*cp = c;
	return 0;
}

/* ---- the relay streams ------------------------------------------------ */

/* Where leg `leg` may send from and, once its SDP address changes (a
 * re-INVITE), latched anew. */
void call_expect(struct call *c, unsigned leg, const struct route_side *side,
		 const struct sdpfw *sdp)
{
	for (unsigned i = 0; i < c->g.n && i < sdp->n; i++) {
		struct ph_addr ips[3];
		unsigned n = 0;
		bool moved = ph_addr_isset(&c->media[i][leg]) &&
			     !ph_addr_eq(&c->media[i][leg], &sdp->m[i].media);

		/* only addresses something vouches for: the relay sends
		 * to a leg's SDP address before it latches where that is at
		 * one of them (PROTOCOL.md section 4), so an address merely
		 * written in a header or an SDP would make it a reflector */
		ips[n++] = side->sip_src;
		if (call_fw_vouched(c->cs, side, sdp))
			ips[n++] = side->fw.host;
		if (call_window_ok(c->cs, side, &sdp->m[i].window))
			ips[n++] = sdp->m[i].window;
		else if (side->outside) /* the PBX's media host */
			ips[n++] = sdp->m[i].media;
		c->media[i][leg] = sdp->m[i].media;
		call_relay_expect(c, i, leg, ips, n, &sdp->m[i].media, moved);
	}
}

void call_relay_expect(struct call *c, unsigned i, unsigned leg,
		       const struct ph_addr *ips, unsigned n,
		       const struct ph_addr *media, bool relatch)
{
	struct relayctl *r = c->cs->relay;

	c->nexp[i][leg] = 0;
	for (unsigned x = 0; x < n && c->nexp[i][leg] < PH_RELAY_MAX_EXPECT; x++)
		if (ph_addr_isset(&ips[x]))
			c->exp[i][leg][c->nexp[i][leg]++] = ips[x];
	r->ops->expect(r, c->g.id[i], leg, ips, n, media, relatch);
}

/* Before it answers, the callee leg may send from this branch's callee
 * too: its first packet latches, even a null packet sent before it
 * answers. Said before the INVITE leaves, which that packet could
 * otherwise outrun. Only from where its SIP came from: the host of the
 * Firewall-Window it registered is vouched for by nothing until its
 * answer's window (call_fw_vouched()). */
void call_expect_callee(struct call *c, const struct route_side *cs)
{
	bool dup = false;

	for (unsigned x = 0; x < c->nips && !dup; x++)
		dup = ph_addr_ip_eq(&c->ips[x], &cs->sip_src);
	if (!dup && c->nips < PH_RELAY_MAX_EXPECT)
		c->ips[c->nips++] = cs->sip_src;
	for (unsigned i = 0; i < c->g.n; i++)
		call_relay_expect(c, i, 1, c->ips, c->nips, NULL, false);
}

static void sum(const struct call *c, unsigned leg, uint64_t *rx,
		uint64_t *foreign)
{
	*rx = *foreign = 0;
	for (unsigned i = 0; i < c->g.n; i++) {
		*rx += c->last[i].leg[leg].rx;
		*foreign += c->last[i].leg[leg].foreign;
	}
}

static void media_report(const struct call *c, const char *how,
			 const char *why)
{
	uint64_t rx[2], foreign[2];
	const char *took;

	sum(c, 0, &rx[0], &foreign[0]);
	sum(c, 1, &rx[1], &foreign[1]);
	if (!rx[0] && !rx[1])
		took = c->route == ROUTE_RELAY ? "none (nothing reached the relay)"
					       : "not the relay";
	else if (c->route == ROUTE_RELAY)
		took = "relay";
	else
		took = "relay (fell back from the direct path)";
	log_notice("call %s: media %s (%s) after %" PRIu64 " s; route %s; "
		   "media took %s; relay received %" PRIu64 " from the caller, "
		   "%" PRIu64 " from the callee, dropped %" PRIu64
		   " from third addresses",
		   c->call_id, how, why, c->last[0].age_ms / 1000,
		   route_kind_name(c->route), took, rx[0], rx[1],
		   foreign[0] + foreign[1]);
}

void call_end_media(struct call *c, const char *why)
{
	struct relayctl *r = c->cs->relay;

	if (!c->listed)
		return;
	for (unsigned i = 0; i < c->g.n; i++)
		r->ops->free(r, c->g.id[i], &c->last[i]);
	if (c->g.n)
		media_report(c, "ended", why);
	unlist(c);
}

void calls_tick(struct calls *cs)
{
	struct relayctl *r = cs->relay;

	for (unsigned b = 0; r && b < CALLS_BUCKETS; b++)
		for (struct call *c = cs->bucket[b], *next; c; c = next) {
			bool live = false;

			next = c->next;
			/* a call still ringing is not idle; an answered
			 * one's counters are kept for its report */
			for (unsigned i = 0; i < c->g.n; i++)
				if (!c->answered ? !r->ops->touch(r, c->g.id[i])
						 : !r->ops->stats(r, c->g.id[i], &c->last[i]))
					live = true;
			if (!live && c->g.n) {
				media_report(c, "ended", "idle");
				unlist(c);
			} else if (c->answered) {
				call_keep_tick(c);
			}
		}
}
