/* Stateful forking proxy on nta (RFC 3261 section 16), and the media
 * route each INVITE gets (PROTOCOL.md sections 3-5, 9).
 *
 * Dialogs are record-routed through pinholed with both sides' flows in our
 * Record-Route URI (ph-a: the caller's, ph-b: the callee's), so in-dialog
 * requests go back over the flow each side registered or called from,
 * NAT or not (RFC 3581; the flow-token idea of RFC 5626 section 5.3). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTA_INCOMING_MAGIC_T struct ptx
#define NTA_OUTGOING_MAGIC_T struct branch
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>

#include "log.h"
#include "mcall.h"
#include "proxy.h"
#include "register.h"
#include "route.h"
#include "sdpfw.h"
#include "stunsock.h"

#define MAX_BRANCHES 10

struct proxy {
	nta_agent_t *agent;
	struct loc_store *store;
	struct stund *stund;
	const struct pconf *conf;
	struct mcalls *mc;
};

struct branch {
	struct ptx *t;
	nta_outgoing_t *orq;
	int status;
	struct ph_addr flow;          /* the callee's flow */
	enum loc_transport transport;
	struct route_side callee;
	struct route rt;
};

/* One proxied server transaction and its client branches. */
struct ptx {
	struct proxy *p;
	nta_incoming_t *irq;
	msg_t *req;
	sip_t *sip;
	struct ph_addr src;           /* where the request came from */
	enum loc_transport transport;
	struct route_side caller;
	int from_leg;                 /* in a dialog: 0 caller, 1 callee; else -1 */
	struct sdpfw offer;
	bool has_offer;
	unsigned n, finals;
	struct branch b[MAX_BRANCHES];
	int best;                     /* best final non-2xx so far */
	msg_t *best_msg;
	bool answered;
};

int proxy_alloc(struct proxy **pp, nta_agent_t *agent, struct loc_store *st,
		struct stund *stund, const struct pconf *conf)
{
	struct proxy *p = calloc(1, sizeof *p);
	int err;

	if (!p)
		return ENOMEM;
	*p = (struct proxy){agent, st, stund, conf, NULL};
	if ((err = mcalls_alloc(&p->mc, conf))) {
		free(p);
		return err;
	}
	*pp = p;
	return 0;
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	mcalls_free(p->mc);
	free(p);
}

void proxy_tick(struct proxy *p)
{
	mcalls_tick(p->mc);
}

static const char *tname(enum loc_transport t)
{
	return t == LOC_TCP ? "tcp" : "udp";
}

static int msg_source(msg_t *msg, struct ph_addr *src, enum loc_transport *t)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);

	if (!ai || ph_addr_from_sa(src, ai->ai_addr, (socklen_t)ai->ai_addrlen))
		return EINVAL;
	*t = ai->ai_protocol == IPPROTO_TCP ? LOC_TCP : LOC_UDP;
	return 0;
}

/* "sip:IP:PORT;transport=T": a next hop for nta. */
static void hop_url(char *buf, size_t size, const struct ph_addr *a,
		    enum loc_transport t)
{
	char s[PH_ADDR_STRLEN];

	ph_addr_print(a, s, sizeof s);
	snprintf(buf, size, "sip:%s;transport=%s", s, tname(t));
}

/* ---- loose routing through our own Record-Route ----------------------- */

/* Pops the Route entries that are ours; *next is the flow on the other
 * side of the dialog from where the request came from. */
static bool pop_our_routes(struct ptx *t, struct ph_addr *next,
			   enum loc_transport *nt)
{
	bool ours = false;
	char a[64], b[64], ta[8], tb[8];

	while (t->sip->sip_route &&
	       url_param(t->sip->sip_route->r_url->url_params, "ph-a", a, sizeof a) > 0 &&
	       url_param(t->sip->sip_route->r_url->url_params, "ph-b", b, sizeof b) > 0) {
		struct ph_addr fa, fb;

		url_param(t->sip->sip_route->r_url->url_params, "ph-at", ta, sizeof ta);
		url_param(t->sip->sip_route->r_url->url_params, "ph-bt", tb, sizeof tb);
		if (!ph_addr_parse(&fa, a, strlen(a), 5060) &&
		    !ph_addr_parse(&fb, b, strlen(b), 5060)) {
			bool from_a = ph_addr_eq(&t->src, &fa);
			*next = from_a ? fb : fa;
			t->from_leg = from_a ? 0 : 1;
			*nt = !strcmp(from_a ? tb : ta, "tcp") ? LOC_TCP : LOC_UDP;
			ours = true;
		}
		sip_route_remove(t->req, t->sip);
	}
	return ours;
}

static void add_record_route(struct ptx *t, msg_t *m, sip_t *s,
			     const struct branch *b)
{
	char rr[512], a[PH_ADDR_STRLEN], bb[PH_ADDR_STRLEN], host[PH_ADDR_STRLEN];
	const url_t *ru = t->sip->sip_request->rq_url;
	struct ph_addr me;

	/* the caller reached us by the Request-URI's host */
	if (ph_addr_set(&me, ru->url_host, t->p->conf->sip_port))
		me = t->p->conf->listen[0];
	ph_addr_set_port(&me, t->p->conf->sip_port);
	ph_addr_print(&me, host, sizeof host);
	ph_addr_print(&t->src, a, sizeof a);
	ph_addr_print(&b->flow, bb, sizeof bb);
	snprintf(rr, sizeof rr, "<sip:%s;lr;ph-a=%s;ph-at=%s;ph-b=%s;ph-bt=%s>",
		 host, a, tname(t->transport), bb, tname(b->transport));
	sip_add_tl(m, s, SIPTAG_RECORD_ROUTE_STR(rr), TAG_END());
}

/* ---- firewall data of each side ---------------------------------------- */

static void side_fw(struct route_side *side, const char *value)
{
	const char *why;

	side->has_fw = value &&
		       !ph_fwwin_decode(&side->fw, value, strlen(value), &why);
}

static const char *header_value(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && !strcasecmp(u->un_name, name))
			return u->un_value;
	return NULL;
}

/* PROTOCOL.md section 3: a window counts only if our STUN service answered
 * exactly that address lately, and it is the SIP sender's or the
 * registered window host's IP. pinholed never points anyone at an address
 * it has not itself received a packet from. */
static bool window_ok(struct proxy *p, const struct route_side *s,
		      const struct ph_addr *w)
{
	unsigned life = s->has_fw && s->fw.lifetime ? s->fw.lifetime
						    : PH_FW_DEFAULT_LIFETIME;

	return ph_addr_isset(w) &&
	       stund_seen(p->stund, w, stunsock_now_ms(), life * 1000ULL) &&
	       (ph_addr_ip_eq(w, &s->sip_src) ||
		(s->has_fw && ph_addr_ip_eq(w, &s->fw.host)));
}

static void side_windows(struct proxy *p, struct route_side *s,
			 const struct sdpfw *f, const char *who)
{
	char w[PH_ADDR_STRLEN];

	s->media = f->n ? f->m[0].media : s->media;
	s->has_window = f->n && window_ok(p, s, &f->m[0].window);
	if (f->n && ph_addr_isset(&f->m[0].window) && !s->has_window) {
		ph_addr_print(&f->m[0].window, w, sizeof w);
		log_notice("proxy: %s's a=fw-window %s not seen by our STUN "
			   "service from that address: treated as absent", who, w);
	}
}

/* The caller: Firewall-Window on the INVITE, else the one it registered
 * from this flow. */
static void caller_side(struct ptx *t)
{
	const char *v = header_value(t->sip, "Firewall-Window");
	const struct loc_contact *c;
	char aor[REG_AOR_MAX];
	unsigned n;

	t->caller.sip_src = t->src;
	if (!v && !reg_aor(t->sip->sip_from->a_url, aor, sizeof aor) &&
	    !loc_get(t->p->store, aor, &c, &n))
		for (unsigned i = 0; i < n && !v; i++)
			if (c[i].fwwin && ph_addr_ip_eq(&c[i].flow.src, &t->src))
				v = c[i].fwwin;
	side_fw(&t->caller, v);
	if (t->has_offer)
		side_windows(t->p, &t->caller, &t->offer, "caller");
}

/* ---- instructions ------------------------------------------------------- */

/* Firewall-Punch and a=fw-punch for the side that receives this message,
 * which is leg `leg` of mc: toward the other side's windows (open,
 * transmit, local), naming its own relay port as the fallback; or, for
 * relay, to that port, with the SDP's media moved there. peer: the other
 * side's windows (unused for relay); mc may be NULL (no relay). */
static int add_punch(msg_t *m, sip_t *s, enum ph_role role,
		     const struct sdpfw *peer, const struct mcall *mc,
		     unsigned leg)
{
	struct ph_punch pu[SDPFW_MAX_MEDIA] = {{0}};
	struct ph_addr relay[SDPFW_MAX_MEDIA];
	char hdr[PH_PUNCH_STRLEN + 24], *body = NULL, len[24];
	unsigned n = 0, max = role == PH_ROLE_RELAY ? (mc ? mc->n : 0)
						      : (peer ? peer->n : 0);

	if (!s->sip_payload || role == PH_ROLE_NONE)
		return 0;
	for (; n < max && n < SDPFW_MAX_MEDIA; n++) {
		pu[n].role = role;
		if (mc && n < mc->n)
			relay[n] = pu[n].relay = mc->port[n][leg];
		if (role == PH_ROLE_RELAY) {
			pu[n].peer = relay[n];
			memset(&pu[n].relay, 0, sizeof pu[n].relay);
			continue;
		}
		pu[n].peer = role == PH_ROLE_LOCAL ? peer->m[n].local : peer->m[n].window;
		if (!ph_addr_isset(&pu[n].peer))
			break;
	}
	if (!n)
		return 0;
	strcpy(hdr, "Firewall-Punch: ");
	ph_punch_hdr_encode(&pu[0], hdr + strlen(hdr), PH_PUNCH_STRLEN);
	strcat(hdr, "\r\n");
	if (sdpfw_write(s->sip_payload->pl_data, s->sip_payload->pl_len, pu,
			role == PH_ROLE_RELAY ? relay : NULL, n, &body))
		return EBADMSG;
	snprintf(len, sizeof len, "%zu", strlen(body));
	/* a new header goes after the last one, which can be the empty line
	 * that ends the headers: take that out, sofia puts it back */
	if (s->sip_separator)
		msg_header_remove(m, (msg_pub_t *)s, (msg_header_t *)s->sip_separator);
	sip_add_tl(m, s, SIPTAG_HEADER_STR(hdr), SIPTAG_PAYLOAD_STR(body),
		   SIPTAG_CONTENT_LENGTH_STR(len), TAG_END());
	free(body);
	return 0;
}

static void report(const struct ptx *t, const struct branch *b, int status)
{
	char cw[PH_FWWIN_STRLEN] = "-", ew[PH_FWWIN_STRLEN] = "-";
	char relay[2 * PH_ADDR_STRLEN + 16] = "none";
	const struct mcall *mc = mcall_find(t->p->mc, t->sip->sip_call_id->i_id);

	if (t->caller.has_fw)
		ph_fwwin_encode(&t->caller.fw, cw, sizeof cw);
	if (b && b->callee.has_fw)
		ph_fwwin_encode(&b->callee.fw, ew, sizeof ew);
	if (mc) { /* the first stream's ports: the caller's, the callee's */
		char a[PH_ADDR_STRLEN], c[PH_ADDR_STRLEN];
		ph_addr_print(&mc->port[0][0], a, sizeof a);
		ph_addr_print(&mc->port[0][1], c, sizeof c);
		snprintf(relay, sizeof relay, "%s %s", a, c);
	}
	log_notice("call %s: %d; route %s (%s); caller %s [%s] window %s; "
		   "callee [%s] window %s; relay %s",
		   t->sip->sip_call_id->i_id, status,
		   !t->has_offer ? "undecided" : b ? route_kind_name(b->rt.kind) : "none",
		   !t->has_offer ? "no SDP offer in the INVITE"
				 : b && b->rt.why ? b->rt.why : "no answer", ph_role_name(
			   b ? b->rt.caller : PH_ROLE_NONE), cw,
		   t->caller.has_window ? "checked" : "none", ew,
		   b && b->callee.has_window ? "checked" : "none", relay);
}

/* ---- transactions ---------------------------------------------------- */

/* The caller's TCP connection has closed: nothing sent now can reach it.
 * nta would open a new connection to its source port for each message,
 * and Debian's sofia-sip (1.12.11) aborts or crashes in tport_connected()
 * when a second message is queued on such a connection and it fails, as
 * it does (the port is ephemeral, or behind a NAT). RFC 3261 18.2.2 lets
 * a server try that connection; a proxy in front of NATed phones gains
 * nothing by it. */
static bool caller_gone(const struct ptx *t)
{
	tport_t *tp = nta_incoming_transport(t->p->agent, t->irq, NULL);
	bool gone = tp && tport_is_reliable(tp) && tport_is_closed(tp);

	tport_unref(tp);
	if (gone)
		log_debug("proxy: %s %s: the caller's connection has closed; "
			  "nothing sent", t->sip->sip_request->rq_method_name,
			  t->sip->sip_call_id->i_id);
	return gone;
}

static void ptx_free(struct ptx *t)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->b[i].orq)
			nta_outgoing_destroy(t->b[i].orq);
	/* nta answers 500 to a transaction destroyed unanswered; a non-INVITE
	 * from a caller that has gone ends with a 408 instead, which nta does
	 * not send (RFC 4320 section 4.1) */
	if (t->irq && nta_incoming_status(t->irq) < 200 &&
	    t->sip->sip_request->rq_method != sip_method_invite && caller_gone(t))
		nta_incoming_treply(t->irq, SIP_408_REQUEST_TIMEOUT, TAG_END());
	if (t->irq)
		nta_incoming_destroy(t->irq);
	msg_destroy(t->best_msg);
	msg_destroy(t->req);
	free(t);
}

static void reply(struct ptx *t, int status, const char *phrase)
{
	if (!caller_gone(t))
		nta_incoming_treply(t->irq, status, phrase, TAG_END());
}

/* RFC 3261 16.7 step 6: 6xx first, then the lowest class, 503 as 500. */
static bool better(int s, int best)
{
	int cs = s >= 600 ? 0 : s / 100, cb = best >= 600 ? 0 : best / 100;

	return !best || cs < cb;
}

/* Forward a response upstream, without our Via. Takes resp. */
static void forward_up(struct ptx *t, msg_t *resp)
{
	if (caller_gone(t)) {
		msg_destroy(resp);
		return;
	}
	sip_via_remove(resp, sip_object(resp));
	nta_incoming_mreply(t->irq, resp);
}

static void all_final(struct ptx *t)
{
	if (!t->answered) {
		struct branch *best = NULL;

		for (unsigned i = 0; i < t->n; i++)
			if (t->b[i].status == t->best)
				best = &t->b[i];
		if (t->best_msg) {
			forward_up(t, t->best_msg);
			t->best_msg = NULL;
		} else {
			reply(t, t->best == 503 ? 500 : t->best ? t->best : 408, NULL);
		}
		if (t->sip->sip_request->rq_method == sip_method_invite &&
		    t->from_leg < 0) {
			struct mcall *mc = mcall_find(t->p->mc, t->sip->sip_call_id->i_id);
			report(t, best, t->best);
			if (mc && !mc->answered)
				mcall_end(t->p->mc, mc, "the INVITE failed");
		}
	}
	ptx_free(t);
}

/* A re-INVITE's 2xx on a relayed call: the answerer's media, and the SDP
 * moved to the relay port of the side that asked. */
static void reanswer_2xx(struct branch *b, msg_t *resp, sip_t *rs,
			 const struct sdpfw *ans)
{
	struct ptx *t = b->t;
	struct mcall *mc = mcall_find(t->p->mc, t->sip->sip_call_id->i_id);
	struct route_side side = {.sip_src = b->flow};

	if (!mc || mc->route != ROUTE_RELAY)
		return;
	mcall_expect(t->p->mc, mc, (unsigned)!t->from_leg, &side, ans);
	add_punch(resp, rs, PH_ROLE_RELAY, NULL, mc, (unsigned)t->from_leg);
}

/* The callee answered: its windows, checked, and the caller's part. */
static void answer_2xx(struct branch *b, msg_t *resp, sip_t *rs)
{
	struct ptx *t = b->t;
	struct sdpfw ans;
	struct mcall *mc;
	const char *why;

	sip_method_t mt = t->sip->sip_request->rq_method;

	if (!rs->sip_payload || (mt != sip_method_invite &&
				 !(mt == sip_method_update && t->from_leg >= 0)))
		return;
	if (sdpfw_read(rs->sip_payload->pl_data, rs->sip_payload->pl_len, &ans, &why)) {
		log_notice("proxy: call %s: callee's SDP: %s", t->sip->sip_call_id->i_id, why);
		return;
	}
	if (t->from_leg >= 0)
		return reanswer_2xx(b, resp, rs, &ans);
	/* a Firewall-Window on the 2xx is fresher than the registered one */
	if (header_value(rs, "Firewall-Window"))
		side_fw(&b->callee, header_value(rs, "Firewall-Window"));
	side_windows(t->p, &b->callee, &ans, "callee");
	mc = mcall_find(t->p->mc, t->sip->sip_call_id->i_id);
	if (mc && !mc->answered) {
		mc->route = b->rt.kind;
		mc->answered = true;
		mcall_expect(t->p->mc, mc, 1, &b->callee, &ans);
	}
	if (b->rt.kind == ROUTE_RELAY)
		add_punch(resp, rs, PH_ROLE_RELAY, NULL, mc, 0);
	else if (b->rt.kind == ROUTE_LOCAL || b->callee.has_window)
		add_punch(resp, rs, b->rt.caller, &ans, mc, 0);
	report(t, b, rs->sip_status->st_status);
}

static int on_response(struct branch *b, nta_outgoing_t *orq, sip_t const *sip)
{
	struct ptx *t = b->t;
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	msg_t *resp = sip ? nta_outgoing_getresponse(orq) : NULL;

	if (status < 200) {
		if (status > 100 && resp && !t->answered)
			forward_up(t, resp);
		else
			msg_destroy(resp);
		return 0;
	}
	if (b->status < 200)
		t->finals++;
	b->status = status;
	if (status < 300 && resp && t->answered &&
	    t->sip->sip_request->rq_method != sip_method_invite) {
		/* RFC 3261 16.7 step 5: after a final answer, only 2xx to an
		 * INVITE go up */
		msg_destroy(resp);
	} else if (status < 300 && resp) {
		/* every 2xx goes up (RFC 3261 16.7 step 5); the others end */
		answer_2xx(b, resp, sip_object(resp));
		forward_up(t, resp);
		if (!t->answered)
			for (unsigned i = 0; i < t->n; i++)
				if (t->b[i].orq && t->b[i].status < 200)
					nta_outgoing_tcancel(t->b[i].orq, NULL, NULL, TAG_END());
		t->answered = true;
	} else if (better(status, t->best)) {
		t->best = status;
		msg_destroy(t->best_msg);
		t->best_msg = resp;
	} else {
		msg_destroy(resp);
	}
	if (t->finals == t->n)
		all_final(t);
	return 0;
}

/* CANCEL from upstream: cancel every branch still ringing; each answers
 * 487, which goes up as the final answer. */
static int on_cancel(struct ptx *t, nta_incoming_t *irq, sip_t const *sip)
{
	if (!sip || sip->sip_request->rq_method != sip_method_cancel)
		return 0;
	for (unsigned i = 0; i < t->n; i++)
		if (t->b[i].orq && t->b[i].status < 200)
			nta_outgoing_tcancel(t->b[i].orq, NULL, NULL, TAG_END());
	return 200;
}

/* One branch: a copy of the request to ruri over the flow `hop`, with the
 * receiver's part in the media (role, toward peer's windows or mc's
 * relay) when role is not PH_ROLE_NONE; mc's leg `leg` receives it. */
static int branch_send(struct ptx *t, struct branch *b, const char *ruri,
		       bool record_route, enum ph_role role,
		       const struct sdpfw *peer, const struct mcall *mc,
		       unsigned leg)
{
	msg_t *m = msg_copy(t->req);
	sip_t *s = sip_object(m);
	char next[128];
	int err = 0;

	if (!m)
		return ENOMEM;
	msg_header_insert(m, (msg_pub_t *)s, (msg_header_t *)sip_request_create(
		msg_home(m), s->sip_request->rq_method,
		s->sip_request->rq_method_name, URL_STRING_MAKE(ruri), NULL));
	if (s->sip_max_forwards)
		s->sip_max_forwards->mf_count--;
	else
		sip_add_tl(m, s, SIPTAG_MAX_FORWARDS_STR("69"), TAG_END());
	if (record_route)
		add_record_route(t, m, s, b);
	err = add_punch(m, s, role, peer, mc, leg);
	hop_url(next, sizeof next, &b->flow, b->transport);
	b->t = t;
	if (!err)
		b->orq = nta_outgoing_mcreate(t->p->agent, on_response, b,
					      (url_string_t *)next, m, TAG_END());
	else
		msg_destroy(m);
	return err ? err : b->orq ? 0 : ENOMEM;
}

/* ---- requests -------------------------------------------------------- */

/* Where a binding's requests go: to its Contact when that names the very
 * IP the REGISTER came from (no NAT between; the Contact's port is the
 * one it listens on, which a third-party registration need not have sent
 * from), else back over the flow the REGISTER came in on (RFC 3581). */
static void binding_hop(const struct loc_contact *c, struct ph_addr *hop)
{
	char buf[512];
	url_t url[1];
	struct ph_addr a;

	*hop = c->flow.src;
	if (strlen(c->uri) >= sizeof buf)
		return;
	strcpy(buf, c->uri);
	if (url_d(url, buf) < 0 || !url->url_host ||
	    ph_addr_set(&a, url->url_host,
			url->url_port ? (uint16_t)atoi(url->url_port) : 5060))
		return;
	if (ph_addr_ip_eq(&a, &c->flow.src))
		*hop = a;
}

/* A binding over TCP whose connection has closed cannot be reached: the
 * phone opened it, typically from behind a NAT, and a new connection to
 * its address would go nowhere (RFC 5626 section 5.3: the flow failed). */
static bool flow_closed(const struct loc_flow *f)
{
	return f->transport == LOC_TCP && f->handle && tport_is_closed(f->handle);
}

/* Relay streams for an INVITE's offer, with the caller as leg 0; NULL
 * when there are none (*err says why). */
static struct mcall *reserve(struct ptx *t, int *err)
{
	struct mcall *mc = NULL;

	*err = mcall_reserve(t->p->mc, t->sip->sip_call_id->i_id, &t->offer,
			     &t->src, &mc);
	if (*err == EEXIST) /* a new INVITE of the same call (after a 401) */
		mc = mcall_find(t->p->mc, t->sip->sip_call_id->i_id);
	if (mc)
		mcall_expect(t->p->mc, mc, 0, &t->caller, &t->offer);
	else if (*err != ENOTSUP && *err != EAFNOSUPPORT)
		log_warn("proxy: call %s: no relay ports: %s",
			 t->sip->sip_call_id->i_id, strerror(*err));
	return mc;
}

/* The callee leg may send from this branch's callee too: its first packet
 * latches, even a null packet sent before it answers. Said before the
 * INVITE leaves, which that packet could otherwise outrun. */
static void expect_callee(struct ptx *t, struct mcall *mc,
			  struct ph_addr ips[PH_RELAY_MAX_EXPECT], unsigned *k,
			  const struct route_side *cs)
{
	const struct ph_addr *cand[2] = {&cs->sip_src,
					 cs->has_fw ? &cs->fw.host : NULL};

	for (unsigned j = 0; j < 2; j++) {
		bool dup = !cand[j];
		for (unsigned x = 0; x < *k && !dup; x++)
			dup = ph_addr_ip_eq(&ips[x], cand[j]);
		if (!dup && *k < PH_RELAY_MAX_EXPECT)
			ips[(*k)++] = *cand[j];
	}
	mcall_expect_ips(t->p->mc, mc, 1, ips, *k);
}

/* An initial request to a registered user: one branch per binding, each
 * with its own route decision. */
static void to_user(struct ptx *t)
{
	const url_t *ru = t->sip->sip_request->rq_url;
	bool invite = t->sip->sip_request->rq_method == sip_method_invite;
	bool media = invite && t->has_offer;
	const struct loc_contact *c;
	struct mcall *mc = NULL;
	struct ph_addr ips[PH_RELAY_MAX_EXPECT];
	char aor[REG_AOR_MAX];
	unsigned n, nips = 0, closed = 0;
	int rerr = ENOTSUP;

	if (reg_aor(ru, aor, sizeof aor) || !ru->url_user)
		return reply(t, 404, "Not Found: no user in the Request-URI");
	loc_get(t->p->store, aor, &c, &n);
	if (!n)
		return reply(t, 480, "Temporarily Unavailable: not registered");
	if (invite)
		caller_side(t);
	if (media)
		mc = reserve(t, &rerr);
	for (unsigned i = 0; i < n && t->n < MAX_BRANCHES; i++) {
		struct branch *b = &t->b[t->n];
		enum ph_role role;

		if (flow_closed(&c[i].flow)) {
			log_debug("proxy: %s to %s: its TCP connection has closed",
				  t->sip->sip_call_id->i_id, c[i].uri);
			closed++;
			continue;
		}
		memset(b, 0, sizeof *b);
		binding_hop(&c[i], &b->flow);
		b->transport = c[i].flow.transport;
		b->callee.sip_src = c[i].flow.src;
		b->callee.media = b->flow; /* what we know before its answer */
		side_fw(&b->callee, c[i].fwwin);
		/* its window comes with its answer: decide on what it registered */
		b->callee.has_window = b->callee.has_fw;
		route_decide(&t->caller, &b->callee, &b->rt);
		if (media && b->rt.kind == ROUTE_RELAY && !mc) {
			log_notice("proxy: call %s to %s: %s, and no relay: %s",
				   t->sip->sip_call_id->i_id, c[i].uri, b->rt.why,
				   rerr == EBUSY ? "ports exhausted"
				   : rerr == EAFNOSUPPORT ? "media of another address family"
				   : "relay off");
			continue;
		}
		role = !media ? PH_ROLE_NONE : b->rt.kind == ROUTE_RELAY
						       ? PH_ROLE_RELAY : b->rt.callee;
		if (mc)
			expect_callee(t, mc, ips, &nips, &b->callee);
		if (!branch_send(t, b, c[i].uri, invite, role, &t->offer, mc, 1))
			t->n++;
	}
	if (!t->n && closed == n) {
		if (mc)
			mcall_end(t->p->mc, mc, "no branch");
		return reply(t, 480, "Temporarily Unavailable: connection closed");
	}
	if (!t->n) {
		if (invite)
			report(t, NULL, 503);
		if (mc)
			mcall_end(t->p->mc, mc, "no branch");
		reply(t, 503, !invite ? "Service Unavailable: no binding reachable"
			      : rerr == EBUSY ? "Service Unavailable: relay ports exhausted"
			      : rerr == EAFNOSUPPORT ? "Service Unavailable: no direct media "
						       "path, and no relay for this address family"
			      : "Service Unavailable: no direct media path and the relay is off");
	}
}

/* A request inside a dialog: to the Request-URI, over the flow our
 * Record-Route names for it. */
static void in_dialog(struct ptx *t, const struct ph_addr *next,
		      enum loc_transport nt)
{
	struct branch *b = &t->b[0];
	enum ph_role role = PH_ROLE_NONE;
	struct mcall *mc;
	char ruri[512];

	memset(b, 0, sizeof *b);
	b->flow = *next;
	b->transport = nt;
	url_e(ruri, sizeof ruri, t->sip->sip_request->rq_url);
	mc = mcall_find(t->p->mc, t->sip->sip_call_id->i_id);
	if (mc && t->sip->sip_request->rq_method == sip_method_bye) {
		mcall_end(t->p->mc, mc, "BYE");
		mc = NULL;
	}
	/* a re-INVITE (or UPDATE) with an offer on a relayed call: its media
	 * stays on the relay, latched anew if it moved */
	if (mc && mc->route == ROUTE_RELAY && t->has_offer) {
		struct route_side side = {.sip_src = t->src};
		mcall_expect(t->p->mc, mc, (unsigned)t->from_leg, &side, &t->offer);
		role = PH_ROLE_RELAY;
	}
	if (!branch_send(t, b, ruri, false, role, NULL, mc, (unsigned)!t->from_leg))
		t->n = 1;
	else
		reply(t, 500, "Server Internal Error: cannot forward");
}

/* ACK to a 2xx is its own transaction-less request: forwarded as it is. */
static void forward_ack(struct proxy *p, msg_t *msg, sip_t *sip,
			const struct ph_addr *next, enum loc_transport nt)
{
	char hop[128];

	if (sip->sip_max_forwards)
		sip->sip_max_forwards->mf_count--;
	hop_url(hop, sizeof hop, next, nt);
	nta_msg_tsend(p->agent, msg, (url_string_t *)hop, TAG_END());
}

void proxy_stray_response(struct proxy *p, msg_t *msg, sip_t *sip)
{
	/* our Via on top, the next one tells where it goes */
	if (!sip->sip_via || !sip->sip_via->v_next) {
		msg_destroy(msg);
		return;
	}
	sip_via_remove(msg, sip);
	nta_msg_tsend(p->agent, msg, NULL, TAG_END());
}

void proxy_request(struct proxy *p, msg_t *msg, sip_t *sip)
{
	struct ph_addr next;
	enum loc_transport nt = LOC_UDP;
	struct ptx *t;
	const char *why;
	bool routed;

	/* RFC 3261 16.3 step 3 */
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		if (sip->sip_request->rq_method == sip_method_ack)
			msg_destroy(msg);
		else
			nta_msg_treply(p->agent, msg, SIP_483_TOO_MANY_HOPS, TAG_END());
		return;
	}
	t = calloc(1, sizeof *t);
	if (!t || msg_source(msg, &t->src, &t->transport)) {
		free(t);
		nta_msg_treply(p->agent, msg, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	t->p = p;
	t->req = msg;
	t->sip = sip;
	t->from_leg = -1;
	routed = pop_our_routes(t, &next, &nt);
	if (sip->sip_request->rq_method == sip_method_ack) {
		if (routed)
			forward_ack(p, msg, sip, &next, nt);
		else
			msg_destroy(msg); /* not ours to route */
		free(t);
		return;
	}
	t->irq = nta_incoming_create(p->agent, NULL, msg_ref_create(msg), sip,
				     TAG_END());
	if (!t->irq) {
		ptx_free(t);
		return;
	}
	nta_incoming_bind(t->irq, on_cancel, t);
	if (sip->sip_payload && (sip->sip_request->rq_method == sip_method_invite ||
				 sip->sip_request->rq_method == sip_method_update)) {
		if (sdpfw_read(sip->sip_payload->pl_data, sip->sip_payload->pl_len,
			       &t->offer, &why)) {
			char phrase[128];
			snprintf(phrase, sizeof phrase, "Bad Request: %s", why);
			reply(t, 400, phrase);
			return ptx_free(t);
		}
		t->has_offer = true;
	}
	if (routed)
		in_dialog(t, &next, nt);
	else if (sip->sip_to && sip->sip_to->a_tag)
		reply(t, 403, "Forbidden: in-dialog request not routed through us");
	else
		to_user(t);
	if (!t->n)
		ptx_free(t);
}
