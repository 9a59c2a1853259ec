/* One call: what pinholed knows of both sides, the route per branch, the
 * edits of each message, the reports. See call.h; the table and the relay
 * streams are in calls.c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call_int.h"
#include "log.h"
#include "stunsock.h"

void call_edit_reset(struct call_edit *e)
{
	free(e->body);
	memset(e, 0, sizeof *e);
}

/* ---- what pinholed knows of each side -------------------------------- */

static void side_fw(struct route_side *side, const char *value)
{
	const char *why;

	side->has_fw = value &&
		       !ph_fwwin_decode(&side->fw, value, strlen(value), &why);
}

/* PROTOCOL.md section 3: a window counts only if our STUN service answered
 * exactly that address lately, and it is the SIP sender's or the
 * registered window host's IP. pinholed never points anyone at an address
 * it has not itself received a packet from. */
bool call_window_ok(const struct calls *cs, const struct route_side *s,
		    const struct ph_addr *w)
{
	unsigned life = s->has_fw && s->fw.lifetime ? s->fw.lifetime
						    : PH_FW_DEFAULT_LIFETIME;

	return ph_addr_isset(w) &&
	       stund_seen(cs->stund, w, stunsock_now_ms(), life * 1000ULL) &&
	       (ph_addr_ip_eq(w, &s->sip_src) ||
		(s->has_fw && ph_addr_ip_eq(w, &s->fw.host)));
}

static void side_windows(const struct calls *cs, struct route_side *s,
			 const struct sdpfw *f, const char *who)
{
	char w[PH_ADDR_STRLEN];

	s->media = f->n ? f->m[0].media : s->media;
	s->media_known = f->n > 0;
	for (unsigned i = 0; i < f->n; i++)
		s->nat_seen |= f->m[i].ice;
	s->has_window = f->n && call_window_ok(cs, s, &f->m[0].window);
	if (f->n && ph_addr_isset(&f->m[0].window) && !s->has_window) {
		ph_addr_print(&f->m[0].window, w, sizeof w);
		log_notice("proxy: %s's a=fw-window %s not seen by our STUN "
			   "service from that address: treated as absent", who, w);
	}
}

bool call_fw_vouched(const struct calls *cs, const struct route_side *s,
		    const struct sdpfw *sdp)
{
	return s->has_fw &&
	       (ph_addr_ip_eq(&s->fw.host, &s->sip_src) ||
		(sdp && sdp->n && ph_addr_ip_eq(&sdp->m[0].window, &s->fw.host) &&
		 call_window_ok(cs, s, &sdp->m[0].window)));
}

/* A Firewall-Window whose host nothing vouches for is ignored for the
 * call: anyone can write one, and its host is an address the relay would
 * send media to (PROTOCOL.md section 2). It still says there is a
 * firewall: such a side is never taken for a plain public one. */
static void side_fw_checked(const struct calls *cs, struct route_side *s,
			    const struct sdpfw *sdp, const char *who)
{
	char h[PH_ADDR_STRLEN];

	if (!s->has_fw || call_fw_vouched(cs, s, sdp))
		return;
	ph_addr_ip_print(&s->fw.host, h, sizeof h);
	log_notice("proxy: %s's Firewall-Window host %s is neither where its SIP "
		   "came from nor a window our STUN service saw: ignored", who, h);
	s->has_fw = false;
	s->nat_seen = true;
}

/* The caller: Firewall-Window on the INVITE, else the one it registered
 * from this flow; counted only where vouched for. */
static void caller_side(struct call *c, const char *from_aor,
			const struct flow *flow, const char *fwwin,
			bool nat_seen)
{
	const struct loc_contact *v;
	unsigned n;

	memset(&c->caller, 0, sizeof c->caller);
	c->caller.sip_src = flow->src;
	c->caller.nat_seen = nat_seen;
	if (!fwwin && from_aor && !loc_get(c->cs->store, from_aor, &v, &n))
		for (unsigned i = 0; i < n && !fwwin; i++)
			if (v[i].fwwin && ph_addr_ip_eq(&v[i].flow.src, &flow->src))
				fwwin = v[i].fwwin;
	side_fw(&c->caller, fwwin);
	side_fw_checked(c->cs, &c->caller, c->has_offer ? &c->offer : NULL,
			"caller");
	if (c->has_offer)
		side_windows(c->cs, &c->caller, &c->offer, "caller");
	c->caller.answers_unsolicited =
		c->caller.has_fw &&
		stund_answers_unsolicited(c->cs->stund, &c->caller.fw.host,
					  stunsock_now_ms());
}

void call_phone_registered(struct calls *cs, const struct ph_addr *src)
{
	stund_refused_keep(cs->stund, src, stunsock_now_ms());
}

/* ---- the INVITE ------------------------------------------------------- */

struct reserve {
	struct call *c;
	call_ready_h *ready;
	void *arg;
};

/* The relay's answer, now or later. The reservation holds a reference:
 * a call ended (a BYE, its INVITE failed) while a remote relay was still
 * reserving gets its streams back at once instead of keeping them. */
static void granted(int err, const struct relay_grant *g, void *arg)
{
	struct reserve *rs = arg;
	struct call *c = rs->c;
	struct relayctl *r = c->cs->relay;

	c->reserving = false;
	c->relay_err = err;
	if (err)
		call_quota_give(c);
	if (!err && !c->listed) {
		for (unsigned i = 0; i < g->n; i++)
			r->ops->free(r, g->id[i], NULL);
		err = c->relay_err = ECANCELED;
	} else if (!err) {
		c->g = *g;
		call_expect(c, 0, &c->caller, &c->offer);
	} else if (err != ENOTSUP && err != EAFNOSUPPORT) {
		log_warn("proxy: call %s: no relay ports: %s", c->call_id,
			 strerror(err));
	}
	rs->ready(err, rs->arg); /* its transaction waits for it: it is there */
	call_unref(c);
	free(rs);
}

int call_offer(struct calls *cs, const char *call_id, const char *from_aor,
	       const struct flow *caller, const char *fwwin, bool nat_seen,
	       const struct call_sdp *offer, call_ready_h *ready, void *arg,
	       struct call **cp)
{
	struct call *c = calls_find(cs, call_id);
	struct reserve *rs;
	struct ph_addr media[RELAYCTL_MAX_STREAMS];
	int err;

	/* Another INVITE of a call still being set up (a spiral, a merged
	 * request: RFC 3261 8.2.2.2) would share, and overwrite, its branches.
	 * An answered call's streams may serve a new INVITE of it. */
	if (c && (c->refs > 1 || c->reserving))
		return EALREADY;
	if (!c && (err = calls_add(cs, call_id, &c)))
		return err;
	c->refs++;
	c->has_offer = offer != NULL;
	if (offer)
		c->offer = offer->fw;
	c->nb = 0;
	caller_side(c, from_aor, caller, fwwin, nat_seen);
	*cp = c;
	if (c->g.n || !offer || !cs->relay) {
		if (c->g.n)
			call_expect(c, 0, &c->caller, &c->offer);
		ready(c->g.n ? 0 : c->relay_err, arg);
		return 0;
	}
	err = call_quota_take(c, from_aor, &caller->src, offer->fw.n);
	if (err) {
		ready(c->relay_err = err, arg);
		return 0;
	}
	if (!(rs = malloc(sizeof *rs))) {
		call_quota_give(c);
		ready(c->relay_err = ENOMEM, arg);
		return 0;
	}
	*rs = (struct reserve){c, ready, arg};
	c->refs++;
	c->reserving = true;
	for (unsigned i = 0; i < offer->fw.n && i < RELAYCTL_MAX_STREAMS; i++)
		media[i] = offer->fw.m[i].media;
	cs->relay->ops->alloc(cs->relay, offer->fw.n, media, &caller->src,
			      granted, rs);
	return 0;
}

void call_edge(struct call *c, bool to_pbx, const char *leg1_id)
{
	const struct call *l1 = leg1_id ? calls_find(c->cs, leg1_id) : NULL;

	c->callee_outside = to_pbx;
	if (to_pbx)
		return;
	if (l1 && l1->callee_outside && l1->caller.has_fw) {
		/* the phone that called: its windows, as pinholed alone has them */
		c->caller = l1->caller;
		if (l1->has_offer && c->has_offer)
			c->offer = l1->offer;
	} else {
		c->caller.outside = true;
		c->caller.has_fw = c->caller.has_window = false;
	}
	if (c->g.n)
		call_expect(c, 0, &c->caller, &c->offer);
}

/* The edits for the side that receives a message, which is leg `leg`:
 * its part toward the other side's windows (open, transmit, local),
 * naming its own relay port as the fallback; or, for relay, that port,
 * with the SDP's media moved there. peer: the other side's windows
 * (unused for relay). */
static int edit(const struct call *c, enum ph_role role,
		const struct sdpfw *peer, unsigned leg,
		const struct call_sdp *sdp, struct call_edit *e)
{
	struct ph_punch pu[SDPFW_MAX_MEDIA] = {{0}};
	struct ph_addr relay[SDPFW_MAX_MEDIA];
	unsigned n = 0, max = role == PH_ROLE_RELAY ? c->g.n
						      : (peer ? peer->n : 0);

	memset(e, 0, sizeof *e);
	if (!sdp || role == PH_ROLE_NONE)
		return 0;
	for (; n < max && n < SDPFW_MAX_MEDIA; n++) {
		pu[n].role = role;
		if (n < c->g.n)
			relay[n] = pu[n].relay = c->g.port[n][leg];
		if (role == PH_ROLE_RELAY) {
			pu[n].peer = relay[n];
			memset(&pu[n].relay, 0, sizeof pu[n].relay);
			continue;
		}
		/* a plain peer (no window: the route is direct only when its
		 * own SDP proved a public address) is reached at that address */
		pu[n].peer = role == PH_ROLE_LOCAL ? peer->m[n].local
			     : ph_addr_isset(&peer->m[0].window) ? peer->m[n].window
								 : peer->m[n].media;
		if (!ph_addr_isset(&pu[n].peer))
			break;
	}
	if (!n)
		return 0;
	if (ph_punch_hdr_encode(&pu[0], e->punch, sizeof e->punch) ||
	    sdpfw_write(sdp->body, sdp->len, pu,
			role == PH_ROLE_RELAY ? relay : NULL, n, &e->body)) {
		call_edit_reset(e);
		return EBADMSG;
	}
	return 0;
}

/* The callee leg's relay IP as branch b's callee is told it: the one
 * that faces that callee, which on a host with two addresses is not the
 * one that faces the caller (a NAT drops media from the address it did
 * not send to; the relay answers from the one it did). */
static void callee_face(struct call *c, const struct branch *b)
{
	for (unsigned n = 0; ph_addr_isset(&b->face) && n < c->g.n; n++) {
		uint16_t port = ph_addr_port(&c->g.port[n][1]);

		c->g.port[n][1] = b->face;
		ph_addr_set_port(&c->g.port[n][1], port);
	}
}

int call_branch(struct call *c, const struct flow *flow,
		const struct ph_addr *hop, const char *fwwin,
		const struct call_sdp *offer, struct call_edit *e, unsigned *bp)
{
	struct branch *b = &c->b[c->nb];
	enum ph_role role;

	memset(e, 0, sizeof *e);
	if (c->nb == CALL_MAX_BRANCHES)
		return E2BIG;
	memset(b, 0, sizeof *b);
	b->callee.sip_src = flow->src;
	b->callee.outside = c->callee_outside;
	b->callee.media = *hop; /* a guess until its answer: media_known false */
	side_fw(&b->callee, fwwin);
	/* its window comes with its answer: decide on what it registered */
	b->callee.has_window = b->callee.has_fw;
	route_decide(&c->caller, &b->callee, &b->rt);
	if (c->has_offer && b->rt.kind == ROUTE_RELAY && !c->g.n) {
		char h[PH_ADDR_STRLEN];
		ph_addr_print(hop, h, sizeof h);
		log_notice("proxy: call %s to %s: %s, and no relay: %s",
			   c->call_id, h, b->rt.why,
			   c->relay_err == EBUSY ? "ports exhausted"
			   : c->relay_err == EUSERS ? "its caller's share taken"
			   : c->relay_err == EAFNOSUPPORT
				   ? "media of another address family"
			   : c->relay_err == ETIMEDOUT ? "no relay answers"
			   : c->relay_err == ENOTSUP ? "relay off"
				   : strerror(c->relay_err));
		return c->relay_err;
	}
	role = !c->has_offer ? PH_ROLE_NONE
	       : b->rt.kind == ROUTE_RELAY ? PH_ROLE_RELAY : b->rt.callee;
	if (c->g.n) {
		struct relayctl *r = c->cs->relay;

		if (r->ops->face && r->ops->face(r, hop, &b->face))
			memset(&b->face, 0, sizeof b->face);
		callee_face(c, b);
		call_expect_callee(c, &b->callee);
	}
	if (edit(c, role, &c->offer, 1, c->has_offer ? offer : NULL, e))
		return EBADMSG;
	*bp = c->nb++;
	return 0;
}

int call_in_key(const char *call_id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s;pbx-in", call_id);

	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

void call_report(const struct call *c, int bi, int status, char *buf,
		 size_t size)
{
	const struct branch *b = bi >= 0 && (unsigned)bi < c->nb ? &c->b[bi]
								  : NULL;
	char cw[PH_FWWIN_STRLEN] = "-", ew[PH_FWWIN_STRLEN] = "-";
	char relay[2 * PH_ADDR_STRLEN + 16] = "none";

	if (c->caller.has_fw)
		ph_fwwin_encode(&c->caller.fw, cw, sizeof cw);
	if (b && b->callee.has_fw)
		ph_fwwin_encode(&b->callee.fw, ew, sizeof ew);
	if (c->g.n) { /* the first stream's ports: the caller's, the callee's */
		char a[PH_ADDR_STRLEN], e[PH_ADDR_STRLEN];
		ph_addr_print(&c->g.port[0][0], a, sizeof a);
		ph_addr_print(&c->g.port[0][1], e, sizeof e);
		snprintf(relay, sizeof relay, "%s %s", a, e);
	}
	snprintf(buf, size, "call %s: %d; route %s (%s); caller %s [%s] window "
		 "%s; callee [%s] window %s; relay %s", c->call_id, status,
		 !c->has_offer ? "undecided" : b ? route_kind_name(b->rt.kind)
						 : "none",
		 !c->has_offer ? "no SDP offer in the INVITE"
			       : b && b->rt.why ? b->rt.why : "no answer",
		 ph_role_name(b ? b->rt.caller : PH_ROLE_NONE), cw,
		 c->caller.has_window ? "checked" : "none", ew,
		 b && b->callee.has_window ? "checked" : "none", relay);
}

static void report(const struct call *c, int b, int status)
{
	char line[1024];

	call_report(c, b, status, line, sizeof line);
	log_notice("%s", line);
}

/* Edge mode: an answer from the PBX that already carries a=fw-punch was
 * a phone's, edited by pinholed on the PBX's call to that phone (the other
 * leg of this call, decided between the two phones): it stays as it is. */
static bool passed_through(const struct call_sdp *ans)
{
	return memmem(ans->body, ans->len, "a=fw-punch:", 11) != NULL;
}

void call_answer(struct call *c, unsigned bi, int status, const char *fwwin,
		 const struct call_sdp *ans, struct call_edit *e)
{
	struct branch *b = &c->b[bi];

	memset(e, 0, sizeof *e);
	/* a Firewall-Window on the 2xx is fresher than the registered one,
	 * where vouched for */
	if (fwwin) {
		struct route_side fresh = b->callee;

		side_fw(&fresh, fwwin);
		side_fw_checked(c->cs, &fresh, ans ? &ans->fw : NULL, "callee");
		if (fresh.has_fw)
			b->callee = fresh;
	}
	if (ans)
		side_windows(c->cs, &b->callee, &ans->fw, "callee");
	if (c->listed && !c->answered) {
		/* answered even when its SDP cannot be read: its streams then
		 * end when idle, not kept alive as a call still ringing */
		c->route = b->rt.kind;
		c->answered = true;
		callee_face(c, b); /* the branch that answered, not the last */
		if (c->g.n && ans)
			call_expect(c, 1, &b->callee, &ans->fw);
		call_keep(c);
	}
	if (ans && b->callee.outside && passed_through(ans))
		b->rt.why = "a phone's answer the PBX passed through: decided "
			    "between the phones on the PBX's call to it (;pbx-in)";
	else if (!ans)
		;
	else if (b->rt.kind == ROUTE_RELAY)
		edit(c, PH_ROLE_RELAY, NULL, 0, ans, e);
	else if (b->rt.kind == ROUTE_LOCAL || b->callee.has_window ||
		 b->callee.outside)
		edit(c, b->rt.caller, &ans->fw, 0, ans, e);
	report(c, (int)bi, status);
}

void call_failed(struct call *c, int b, int status)
{
	report(c, b, status);
	if (!c->answered)
		call_end_media(c, b < 0 && !c->nb ? "no branch" : "the INVITE failed");
}

/* An offer in a dialog whose first stream names the sender's own relay
 * port: a side that fell back to the relay after no media came on the
 * direct path (PROTOCOL.md section 4), re-offering so that a peer which
 * sends only to SDP addresses (the PBX of section 11) follows it there. */
static bool moves_to_relay(const struct call *c, unsigned leg,
			   const struct sdpfw *fw)
{
	return fw->n && ph_addr_eq(&fw->m[0].media, &c->g.port[0][leg]);
}

int call_resdp(struct calls *cs, const char *call_id, unsigned leg,
	       const struct ph_addr *src, const struct call_sdp *sdp,
	       struct call_edit *e)
{
	struct call *c = calls_find(cs, call_id);
	struct route_side side = {.sip_src = *src};

	memset(e, 0, sizeof *e);
	if (!c || !c->g.n || !sdp)
		return 0;
	if (c->route != ROUTE_RELAY) {
		if (!moves_to_relay(c, leg, &sdp->fw))
			return 0;
		c->route = ROUTE_RELAY;
		log_notice("call %s: the %s offers its relay port: relayed from "
			   "now on", c->call_id, leg ? "callee" : "caller");
	}
	call_expect(c, leg, &side, &sdp->fw);
	call_keep(c);
	return edit(c, PH_ROLE_RELAY, NULL, !leg, sdp, e);
}

void call_bye(struct calls *cs, const char *call_id)
{
	struct call *c = calls_find(cs, call_id);
	char in[CALL_ID_IN_MAX];

	if (c)
		call_end_media(c, "BYE");
	/* edge mode: the PBX's leg of it to a phone (call_in_key) */
	if (!call_in_key(call_id, in, sizeof in) && (c = calls_find(cs, in)))
		call_end_media(c, "BYE");
}
