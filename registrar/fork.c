/* Where the proxy's requests go (RFC 3261 section 16.5-16.6): an initial
 * request to every binding of its user, an INVITE once its call is ready;
 * a request in a dialog along pinholed's own Record-Route, over the flow
 * the other side called or registered from (RFC 3581; the flow-token idea
 * of RFC 5626 section 5.3); ACK and stray answers statelessly. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy_int.h"

#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>

#include "errmap.h"
#include "log.h"
#include "register.h"
#include "reqcheck.h"
#include "slreply.h"
#include "upstream.h"
#include "store.h"

/* ---- loose routing through our own Record-Route ----------------------- */

/* What pop_our_routes() found, besides a leg (0, 1). */
enum {
	LEG_NONE = -1,     /* no Route of ours */
	LEG_FORGED = -2,   /* a flow token without our signature */
	LEG_STRANGER = -3, /* ours, but the request came over neither flow */
};

/* The request came over flow f: from its IP over its transport, and over
 * UDP from its port too where exact. (Over TCP the port is the
 * connection's, which a phone that reconnects changes; the callee's flow
 * may name the Contact's port, at the IP it registered from.) Not exact,
 * a UDP flow's phone may also come over TCP or TLS from its IP: RFC 3261
 * 18.1.1 moves a request over 1,300 bytes there (a BYE with the Route
 * set of a double Record-Route each way), and a connection proves its
 * address. */
static bool over(const struct flow *src, const struct flow *f, bool exact)
{
	return (src->transport == f->transport ||
		(!exact && f->transport == FLOW_UDP)) &&
	       ph_addr_ip_eq(&src->src, &f->src) &&
	       (!exact || ph_addr_port(&src->src) == ph_addr_port(&f->src));
}

/* The side of the dialog a request came from: 0 the caller's flow, 1 the
 * callee's, exact matches first (both sides may share one public IP). */
static int leg_of(const struct flow *src, const struct flow *a,
		  const struct flow *b)
{
	for (int exact = 1; exact >= 0; exact--) {
		if (over(src, a, exact))
			return 0;
		if (over(src, b, exact))
			return 1;
	}
	return LEG_STRANGER;
}

/* An address of one of our own transports: host (an IP, as our
 * Record-Routes name us) at port. */
static bool our_transport(const struct proxy *p, const char *host,
			  unsigned port)
{
	struct ph_addr a, t;

	if (ph_addr_parse(&a, host, strlen(host), 0))
		return false;
	for (tport_t *tp = tport_primaries(nta_agent_tports(p->agent)); tp;
	     tp = tport_next(tp)) {
		const tp_name_t *n = tport_name(tp);

		if (n && n->tpn_host && n->tpn_port &&
		    (unsigned)atoi(n->tpn_port) == port &&
		    !ph_addr_parse(&t, n->tpn_host, strlen(n->tpn_host), 0) &&
		    ph_addr_ip_eq(&a, &t))
			return true;
	}
	return false;
}

/* A Route after the first one of ours names us too: the same host at
 * our SIP or TLS port (RFC 5658's two Record-Routes), or another address
 * of ours (a host with several: one Record-Route per side, proxy.c).
 * Another node of store = redis signs with the same route_secret, and
 * its Record-Route follows ours in a dialog through both: left for it. */
static bool same_hop(const struct proxy *p, const url_t *first,
		     const url_t *u)
{
	unsigned port = u->url_port ? (unsigned)atoi(u->url_port) : 5060;

	if (!first->url_host || !u->url_host ||
	    (port != p->conf->sip_port && port != p->conf->tls_port))
		return false;
	return !strcasecmp(first->url_host, u->url_host) ||
	       our_transport(p, u->url_host, port);
}

/* Pops the Route entries that are ours. The leg the request came from,
 * with *next the flow on the other side of the dialog, or a LEG_ value. */
static int pop_our_routes(const struct proxy *p, msg_t *msg, sip_t *sip,
			  const struct flow *src, struct flow *next)
{
	struct flow a, b;
	const url_t *first = NULL;
	sip_route_t *r;
	int err, leg = LEG_NONE;

	while (sip->sip_route &&
	       (!first || same_hop(p, first, sip->sip_route->r_url)) &&
	       (err = flow_rr_read(sip->sip_route->r_url->url_params, p->key,
				   &a, &b)) != ENOENT) {
		if (err == EACCES)
			return LEG_FORGED;
		if (!err) {
			leg = leg_of(src, &a, &b);
			*next = leg ? a : b;
		}
		/* taken out of the list, still in the message's memory */
		r = sip_route_remove(msg, sip);
		if (!first && r)
			first = r->r_url;
	}
	return leg;
}

/* A Route that names flows we did not sign (RFC 3261 16.4 would have a
 * proxy follow any Route: ours say where pinholed sends, so they are
 * signed), or a dialog's request from neither of its flows: refused, and
 * nothing sent. In-dialog requests are not challenged (PROTOCOL.md
 * section 10): coming over a flow the dialog was set up on, which was
 * authenticated then, is what lets one move the call's relayed media.
 * The 403 proved nothing about its sender: sent as slreply.h says. */
static bool refused_route(struct proxy *p, msg_t *msg, sip_t *sip,
			  const struct flow *src, int leg)
{
	const char *phrase = leg == LEG_FORGED
		? "Forbidden: Route not signed by this server"
		: "Forbidden: not from this dialog's flows";
	char from[PH_ADDR_STRLEN];

	if (leg != LEG_FORGED && leg != LEG_STRANGER)
		return false;
	ph_addr_print(&src->src, from, sizeof from);
	log_notice("proxy: %s %s from %s/%s: 403 %s",
		   sip->sip_request->rq_method_name,
		   sip->sip_call_id ? sip->sip_call_id->i_id : "-", from,
		   flow_transport_name(src->transport), phrase);
	if (sip->sip_request->rq_method == sip_method_ack)
		msg_destroy(msg);
	else
		sl_reply(p->agent, msg, 403, phrase, TAG_END());
	return true;
}

/* ---- requests -------------------------------------------------------- */

/* Where a binding's requests go: to its Contact when that names the very
 * IP the REGISTER came from (no NAT between; the Contact's port is the
 * one it listens on, which a third-party registration need not have sent
 * from), else back over the flow the REGISTER came in on (RFC 3581).
 * Over TLS always over that connection: the one TLS session the phone
 * opened and checked our certificate on (a phone rarely has a
 * certificate to accept a new one with). */
static void binding_hop(const struct loc_contact *c, struct ph_addr *hop)
{
	char buf[512];
	url_t url[1];
	struct ph_addr a;

	*hop = c->flow.src;
	if (c->flow.transport == FLOW_TLS || strlen(c->uri) >= sizeof buf)
		return;
	strcpy(buf, c->uri);
	if (url_d(url, buf) < 0 || !url->url_host ||
	    ph_addr_set(&a, url->url_host,
			url->url_port ? (uint16_t)atoi(url->url_port) : 5060))
		return;
	if (ph_addr_ip_eq(&a, &c->flow.src))
		*hop = a;
}

/* Binding i and a newer one are one device: registered over the same flow
 * with the same Call-ID, as a phone that re-registers under another
 * Contact (linphone, once it learns its public address) leaves both bound
 * until the old one expires. One device rings once: the newest binding. */
static bool superseded(const struct loc_contact *c, unsigned n, unsigned i)
{
	for (unsigned j = 0; j < n; j++)
		if (j != i && c[j].flow.transport == c[i].flow.transport &&
		    ph_addr_eq(&c[j].flow.src, &c[i].flow.src) &&
		    !strcmp(c[j].call_id, c[i].call_id) &&
		    (c[j].cseq > c[i].cseq || (c[j].cseq == c[i].cseq && j < i)))
			return true;
	return false;
}

/* store = redis: a binding whose flow lives on another node that is
 * alive goes through that node (PROTOCOL.md section 2); of a dead node,
 * to its registered address from here. */
static bool on_node(const struct loc_contact *c, struct ph_addr *node)
{
	return c->node && store_node_alive(c->node) &&
	       !ph_addr_parse(node, c->node, strlen(c->node), 5060);
}

/* One branch per binding, each with the call's edits for it. *err says
 * why none went when none did. A sips: Request-URI goes over TLS only
 * (RFC 3261 section 26.2.2; RFC 5630 section 3.1.3): to the bindings
 * registered over TLS, none other. */
static void fork_to(struct ptx *t, const struct loc_contact *c, unsigned n,
		    int *err)
{
	bool invite = t->sip->sip_request->rq_method == sip_method_invite;
	bool sips = t->sip->sip_request->rq_url->url_type == url_sips;

	for (unsigned i = 0; i < n && t->n < MAX_BRANCHES; i++) {
		struct branch *b = &t->b[t->n];
		struct call_edit e = {{0}, NULL};
		int berr = 0;

		if (superseded(c, n, i))
			continue;
		if (sips && c[i].flow.transport != FLOW_TLS) {
			*err = *err ? *err : EPROTONOSUPPORT;
			continue;
		}
		memset(b, 0, sizeof *b);
		binding_hop(&c[i], &b->flow.src);
		/* over its own connection, which has closed: a NATed phone
		 * cannot be reached anew (a Contact at its IP still can) */
		if (!on_node(&c[i], &b->node) &&
		    ph_addr_eq(&b->flow.src, &c[i].flow.src) &&
		    !flows_open(t->p->flows, &c[i].flow)) {
			log_debug("proxy: %s to %s: its TCP connection has closed",
				  t->sip->sip_call_id->i_id, c[i].uri);
			*err = *err ? *err : ENOTCONN;
			continue;
		}
		b->flow.transport = c[i].flow.transport;
		b->flow.local = c[i].flow.local;
		if (t->call)
			berr = call_branch(t->call, &c[i].flow, &b->flow.src,
					   c[i].fwwin, t->has_offer ? &t->offer : NULL,
					   &e, &b->call_branch);
		if (!berr)
			berr = ptx_branch(t, b, c[i].uri, invite, &e);
		call_edit_reset(&e);
		if (!berr)
			t->n++;
		else if (!*err || *err == ENOTCONN)
			*err = berr;
	}
}

/* The call's relay is ready, or there is none (the call knows why): fork,
 * unless a CANCEL came while a remote relay was reserving. */
static void forward_invite(int err, void *arg)
{
	struct ptx *t = arg;
	const struct loc_contact *c = NULL;
	char aor[REG_AOR_MAX];
	unsigned n = 0;
	int ferr = 0;

	(void)err;
	if (t->cancelled) {
		call_failed(t->call, -1, 487);
		ptx_reply(t, SIP_487_REQUEST_TERMINATED);
		return ptx_free(t);
	}
	if (!reg_aor(t->sip->sip_request->rq_url, aor, sizeof aor))
		loc_get(t->p->store, aor, &c, &n);
	fork_to(t, c, n, &ferr);
	if (t->n)
		return;
	ferr = ferr ? ferr : EHOSTUNREACH;
	call_failed(t->call, -1, errmap(ferr).status);
	ptx_reply_err(t, ferr);
	ptx_free(t);
}

/* The request's Via names another address than the one it came from: a
 * NAT in between (why RFC 3581 has received and rport). A sent-by that is
 * a name, not an IP, tells nothing. */
static bool via_nat(const sip_t *sip, const struct flow *src)
{
	const sip_via_t *v = sip->sip_via;
	struct ph_addr a;

	if (!v || !v->v_host ||
	    ph_addr_set(&a, v->v_host, v->v_port ? (uint16_t)atoi(v->v_port) : 0))
		return false;
	/* over TCP the source port is the connection's, never the sent-by's */
	return !ph_addr_ip_eq(&a, &src->src) ||
	       (v->v_port && src->transport == FLOW_UDP &&
		ph_addr_port(&a) != ph_addr_port(&src->src));
}

/* An initial request to a registered user: one branch per binding. */
static void to_user(struct ptx *t)
{
	const struct loc_contact *c;
	char aor[REG_AOR_MAX], from[REG_AOR_MAX];
	const char *phrase;
	unsigned n;
	int err = 0, status;

	if ((status = reqcheck_user(t->p->conf, t->p->store,
				    t->sip->sip_request->rq_url, aor, sizeof aor,
				    &c, &n, &phrase))) {
		ptx_reply(t, status, phrase);
		return ptx_free(t);
	}
	if (t->sip->sip_request->rq_method == sip_method_invite) {
		bool known = t->sip->sip_from &&
			     !reg_aor(t->sip->sip_from->a_url, from, sizeof from);

		/* forward_invite() runs once the call's relay is ready */
		if ((err = call_offer(t->p->calls, t->sip->sip_call_id->i_id,
			       known ? from : NULL, &t->src,
			       proxy_header(t->sip, "Firewall-Window"),
			       via_nat(t->sip, &t->src),
			       t->has_offer ? &t->offer : NULL, forward_invite,
			       t, &t->call))) {
			ptx_reply_err(t, err);
			ptx_free(t);
		}
		return;
	}
	fork_to(t, c, n, &err);
	if (!t->n) {
		ptx_reply_err(t, err == ENOTCONN || err == EPROTONOSUPPORT
				 ? err : EHOSTUNREACH);
		ptx_free(t);
	}
}

/* An initial request another node sent us for a phone whose flow is
 * ours: we Record-Route too, at our node_address, so that the dialog's
 * later requests come through us both ways (a phone behind a NAT or
 * firewall is reached only over its flow, which is here). */
static bool from_node(struct ptx *t)
{
	char me[CONF_PATH_LEN];

	return !conf_node_address(t->p->conf, me, sizeof me) &&
	       !ph_addr_parse(&t->rr_me, me, strlen(me), t->p->conf->sip_port);
}

/* A request inside a dialog: to the Request-URI, over the flow our
 * Record-Route names for it. */
static void in_dialog(struct ptx *t, const struct flow *next)
{
	struct branch *b = &t->b[0];
	struct call_edit e = {{0}, NULL};
	char ruri[512];
	const char *id = t->sip->sip_call_id->i_id;
	bool rr = false;
	int err = 0;

	memset(b, 0, sizeof *b);
	b->flow = *next;
	url_e(ruri, sizeof ruri, t->sip->sip_request->rq_url);
	if (!t->sip->sip_to || !t->sip->sip_to->a_tag)
		rr = from_node(t); /* (fork_to): its call is there */
	else if (t->sip->sip_request->rq_method == sip_method_bye)
		call_bye(t->p->calls, id);
	else if (t->has_offer)
		err = call_resdp(t->p->calls, id, (unsigned)t->from_leg,
				 &t->src.src, &t->offer, &e);
	if (!err && ptx_branch(t, b, ruri, rr, &e))
		err = EPROTO;
	if (!err) {
		t->n = 1;
	} else {
		ptx_reply_err(t, err);
		ptx_free(t);
	}
	call_edit_reset(&e);
}

/* A request forwarded statelessly, as it is (RFC 3261 16.11), under
 * branch (NULL: nta's own, for an ACK). */
static void forward_stateless(struct proxy *p, msg_t *msg, sip_t *sip,
			      const struct flow *next, const char *branch)
{
	char hop[128];
	tport_t *tp = flow_tport(p->flows, next);

	if (sip->sip_max_forwards)
		sip->sip_max_forwards->mf_count--;
	flow_hop_url(hop, sizeof hop, &next->src, next->transport);
	proxy_frame(msg, sip);
	if (branch)
		log_debug("proxy: %s to %s from %s, statelessly",
			  sip->sip_request->rq_method_name, hop,
			  tp ? tport_name(tp)->tpn_ident : "any address");
	nta_msg_tsend(p->agent, msg, (url_string_t *)hop,
		      TAG_IF(branch, NTATAG_BRANCH_KEY(branch)),
		      TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
}

/* A BYE between two UDP flows goes on statelessly (RFC 3261 16.11). Its
 * server transaction would stay 32 s after the answer (Timer J, 64*T1),
 * only to answer retransmissions: nearly half the memory pinholed held
 * (tests/bench/invite, 40 s at 1,000 calls/s: 20.6 kB a call, 11.4 without).
 * Each retransmission goes on under the same branch and
 * the callee's transaction answers it; the answer comes back as a stray
 * response (proxy_stray_response()). Over a stream nta keeps nothing
 * after the answer, and a stream's sender does not retransmit what a
 * datagram hop would lose: such a BYE stays stateful. */
static bool stateless_bye(struct proxy *p, msg_t *msg, sip_t *sip,
			  const struct flow *src, const struct flow *next,
			  int leg)
{
	char branch[PROXY_BRANCH_MAX];

	if (sip->sip_request->rq_method != sip_method_bye || leg < 0 ||
	    !sip->sip_to || !sip->sip_to->a_tag ||
	    src->transport != FLOW_UDP || next->transport != FLOW_UDP ||
	    proxy_branch(p, sip, true, branch))
		return false;
	call_bye(p->calls, sip->sip_call_id->i_id);
	forward_stateless(p, msg, sip, next, branch);
	return true;
}

void proxy_stray_response(struct proxy *p, msg_t *msg, sip_t *sip)
{
	if (proceeding_response(p, msg, sip))
		return;
	/* our Via on top, the next one tells where it goes: only one we
	 * added for that very Via (else anyone could have pinholed send a
	 * response anywhere) */
	if (!proxy_via_ours(p, sip)) {
		log_debug("proxy: stray %d for %s dropped: its top Via is not one "
			  "pinholed added", sip->sip_status->st_status,
			  sip->sip_call_id ? sip->sip_call_id->i_id : "-");
		msg_destroy(msg);
		return;
	}
	/* nta_msg_tsend() takes our Via off itself: taken off here too, the
	 * response went to the Via after the next one, anyone's */
	proxy_restore_2xx(p, msg, sip);
	proxy_frame(msg, sip);
	nta_msg_tsend(p->agent, msg, NULL, TAG_END());
}

/* An INVITE's or UPDATE's offer and an INVITE's Firewall-Window: read
 * (reqcheck.h), or the request answered 400. */
static bool offer_ok(struct ptx *t)
{
	const sip_t *sip = t->sip;
	char phrase[128];

	if (!reqcheck_offer(sip, &t->offer.fw, &t->has_offer, phrase,
			    sizeof phrase)) {
		if (t->has_offer) {
			t->offer.body = sip->sip_payload->pl_data;
			t->offer.len = sip->sip_payload->pl_len;
		}
		return true;
	}
	log_notice("proxy: %s %s: 400 %s", sip->sip_request->rq_method_name,
		   sip->sip_call_id->i_id, phrase);
	ptx_reply(t, 400, phrase);
	return false;
}

void proxy_request(struct proxy *p, msg_t *msg, sip_t *sip)
{
	struct flow src, next;
	struct ptx *t;
	url_t *route;
	int leg;

	/* RFC 3261 16.3 step 3 */
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
		if (sip->sip_request->rq_method == sip_method_ack)
			msg_destroy(msg);
		else
			nta_msg_treply(p->agent, msg, SIP_483_TOO_MANY_HOPS, TAG_END());
		return;
	}
	if (flows_of_msg(p->flows, msg, &src)) {
		nta_msg_treply(p->agent, msg, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	/* edge mode: the PBX's Route of ours (a phone's Path) names its AoR */
	route = upstream_on(p->conf) && sip->sip_route
		? url_hdup(msg_home(msg), sip->sip_route->r_url) : NULL;
	leg = pop_our_routes(p, msg, sip, &src, &next);
	if (refused_route(p, msg, sip, &src, leg))
		return;
	if (sip->sip_request->rq_method == sip_method_ack) {
		if (leg >= 0)
			forward_stateless(p, msg, sip, &next, NULL);
		else
			msg_destroy(msg); /* not ours to route */
		return;
	}
	if (stateless_bye(p, msg, sip, &src, &next, leg))
		return;
	if (!(t = ptx_new(p, msg, sip)))
		return;
	t->src = src;
	t->from_leg = leg;
	if (!offer_ok(t))
		return ptx_free(t);
	if (leg >= 0 && sip->sip_to && sip->sip_to->a_tag) {
		in_dialog(t, &next);
	} else if (upstream_on(p->conf) && !(sip->sip_to && sip->sip_to->a_tag)) {
		upstream_request(t, leg >= 0 ? route : NULL, &next);
	} else if (leg >= 0) {
		in_dialog(t, &next);
	} else if (sip->sip_to && sip->sip_to->a_tag) {
		ptx_reply(t, 403, "Forbidden: in-dialog request not routed through us");
		ptx_free(t);
	} else {
		to_user(t);
	}
}
