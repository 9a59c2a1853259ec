/* Stateful forking proxy on nta (RFC 3261 section 16).
 *
 * Dialogs are record-routed through pinholed with both sides' flows in our
 * Record-Route URI (flow.h), so in-dialog requests go back over the flow
 * each side registered or called from, NAT or not (RFC 3581; the
 * flow-token idea of RFC 5626 section 5.3). */
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

#include "errmap.h"
#include "log.h"
#include "proxy.h"
#include "register.h"

#define MAX_BRANCHES CALL_MAX_BRANCHES

struct proxy {
	nta_agent_t *agent;
	struct loc_store *store;
	struct flows *flows;
	struct calls *calls;
	const struct pconf *conf;
};

struct branch {
	struct ptx *t;
	nta_outgoing_t *orq;
	int status;
	struct flow flow;             /* the callee's: where its requests go */
	unsigned call_branch;         /* its index in the call */
};

/* One proxied server transaction and its client branches. */
struct ptx {
	struct proxy *p;
	nta_incoming_t *irq;
	msg_t *req;
	sip_t *sip;
	struct flow src;              /* where the request came from */
	int from_leg;                 /* in a dialog: 0 caller, 1 callee; else -1 */
	struct call_sdp offer;
	bool has_offer;
	struct call *call;            /* an initial INVITE's */
	unsigned n, finals;
	struct branch b[MAX_BRANCHES];
	int best;                     /* best final non-2xx so far */
	int best_b;                   /* its branch, -1: none */
	msg_t *best_msg;
	bool answered;
	bool cancelled;               /* before its branches went */
};

int proxy_alloc(struct proxy **pp, nta_agent_t *agent, struct loc_store *st,
		struct flows *flows, struct calls *calls,
		const struct pconf *conf)
{
	struct proxy *p = calloc(1, sizeof *p);

	if (!p)
		return ENOMEM;
	*p = (struct proxy){agent, st, flows, calls, conf};
	*pp = p;
	return 0;
}

void proxy_free(struct proxy *p)
{
	free(p);
}

static const char *header_value(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && !strcasecmp(u->un_name, name))
			return u->un_value;
	return NULL;
}

/* A call's edits into a message: Firewall-Punch and the new SDP. */
static void apply(msg_t *m, sip_t *s, const struct call_edit *e)
{
	char hdr[PH_PUNCH_STRLEN + 24], len[24];

	if (!e->punch[0] || !e->body)
		return;
	snprintf(hdr, sizeof hdr, "Firewall-Punch: %s\r\n", e->punch);
	snprintf(len, sizeof len, "%zu", strlen(e->body));
	/* a new header goes after the last one, which can be the empty line
	 * that ends the headers: take that out, sofia puts it back */
	if (s->sip_separator)
		msg_header_remove(m, (msg_pub_t *)s, (msg_header_t *)s->sip_separator);
	sip_add_tl(m, s, SIPTAG_HEADER_STR(hdr), SIPTAG_PAYLOAD_STR(e->body),
		   SIPTAG_CONTENT_LENGTH_STR(len), TAG_END());
}

/* ---- loose routing through our own Record-Route ----------------------- */

/* Pops the Route entries that are ours; *next is the flow on the other
 * side of the dialog from where the request came from. */
static bool pop_our_routes(struct ptx *t, struct flow *next)
{
	bool ours = false;
	struct flow a, b;
	int err;

	while (t->sip->sip_route &&
	       (err = flow_rr_read(t->sip->sip_route->r_url->url_params, &a,
				   &b)) != ENOENT) {
		if (!err) {
			bool from_a = ph_addr_eq(&t->src.src, &a.src);
			*next = from_a ? b : a;
			t->from_leg = from_a ? 0 : 1;
			ours = true;
		}
		sip_route_remove(t->req, t->sip);
	}
	return ours;
}

static void add_record_route(struct ptx *t, msg_t *m, sip_t *s,
			     const struct branch *b)
{
	char rr[FLOW_RR_MAX];
	const url_t *ru = t->sip->sip_request->rq_url;
	struct ph_addr me;

	/* the caller reached us by the Request-URI's host */
	if (ph_addr_set(&me, ru->url_host, t->p->conf->sip_port))
		me = t->p->conf->listen[0];
	ph_addr_set_port(&me, t->p->conf->sip_port);
	if (!flow_rr_write(rr, sizeof rr, &me, &t->src, &b->flow))
		sip_add_tl(m, s, SIPTAG_RECORD_ROUTE_STR(rr), TAG_END());
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
	call_unref(t->call);
	msg_destroy(t->best_msg);
	msg_destroy(t->req);
	free(t);
}

static void reply(struct ptx *t, int status, const char *phrase)
{
	if (!caller_gone(t))
		nta_incoming_treply(t->irq, status, phrase, TAG_END());
}

static void reply_err(struct ptx *t, int err)
{
	struct sipstatus s = errmap(err);

	reply(t, s.status, s.phrase);
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
		if (t->best_msg) {
			forward_up(t, t->best_msg);
			t->best_msg = NULL;
		} else {
			reply(t, t->best == 503 ? 500 : t->best ? t->best : 408, NULL);
		}
		if (t->call)
			call_failed(t->call, t->best_b, t->best);
	}
	ptx_free(t);
}

/* The SDP of a message, read; false when it has none or it is bad. */
static bool read_sdp(const sip_t *s, struct call_sdp *out, const char *who,
		     const char *call_id)
{
	const char *why;

	if (!s->sip_payload)
		return false;
	out->body = s->sip_payload->pl_data;
	out->len = s->sip_payload->pl_len;
	if (!sdpfw_read(out->body, out->len, &out->fw, &why))
		return true;
	log_notice("proxy: call %s: %s's SDP: %s", call_id, who, why);
	return false;
}

/* A 2xx with SDP: to an initial INVITE, the callee answered (its windows,
 * checked, and the caller's part); in a dialog, the answer to an offer
 * that may move a relayed call's media. */
static void answer_2xx(struct branch *b, msg_t *resp, sip_t *rs)
{
	struct ptx *t = b->t;
	struct call_edit e;
	struct call_sdp ans;
	sip_method_t mt = t->sip->sip_request->rq_method;

	if (mt != sip_method_invite && !(mt == sip_method_update && t->from_leg >= 0))
		return;
	if (!read_sdp(rs, &ans, "callee", t->sip->sip_call_id->i_id))
		return;
	if (t->from_leg >= 0)
		call_resdp(t->p->calls, t->sip->sip_call_id->i_id,
			   (unsigned)!t->from_leg, &b->flow.src, &ans, &e);
	else if (t->call)
		call_answer(t->call, b->call_branch, rs->sip_status->st_status,
			    header_value(rs, "Firewall-Window"), &ans, &e);
	else
		return;
	apply(resp, rs, &e);
	call_edit_reset(&e);
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
		t->best_b = (int)b->call_branch;
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
	t->cancelled = true;
	for (unsigned i = 0; i < t->n; i++)
		if (t->b[i].orq && t->b[i].status < 200)
			nta_outgoing_tcancel(t->b[i].orq, NULL, NULL, TAG_END());
	return 200;
}

/* One branch: a copy of the request to ruri over the flow b->flow, with
 * the call's edits for its receiver. */
static int branch_send(struct ptx *t, struct branch *b, const char *ruri,
		       bool record_route, const struct call_edit *e)
{
	msg_t *m = msg_copy(t->req);
	sip_t *s = sip_object(m);
	char next[128];

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
	if (e)
		apply(m, s, e);
	flow_hop_url(next, sizeof next, &b->flow.src, b->flow.transport);
	b->t = t;
	b->orq = nta_outgoing_mcreate(t->p->agent, on_response, b,
				      (url_string_t *)next, m, TAG_END());
	return b->orq ? 0 : ENOMEM;
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

/* One branch per binding, each with the call's edits for it. *err says
 * why none went when none did. */
static void fork_to(struct ptx *t, const struct loc_contact *c, unsigned n,
		    int *err)
{
	bool invite = t->sip->sip_request->rq_method == sip_method_invite;

	for (unsigned i = 0; i < n && t->n < MAX_BRANCHES; i++) {
		struct branch *b = &t->b[t->n];
		struct call_edit e = {{0}, NULL};
		int berr = 0;

		if (!flows_open(t->p->flows, &c[i].flow)) {
			log_debug("proxy: %s to %s: its TCP connection has closed",
				  t->sip->sip_call_id->i_id, c[i].uri);
			*err = *err ? *err : ENOTCONN;
			continue;
		}
		memset(b, 0, sizeof *b);
		binding_hop(&c[i], &b->flow.src);
		b->flow.transport = c[i].flow.transport;
		if (t->call)
			berr = call_branch(t->call, &c[i].flow, &b->flow.src,
					   c[i].fwwin, t->has_offer ? &t->offer : NULL,
					   &e, &b->call_branch);
		if (!berr)
			berr = branch_send(t, b, c[i].uri, invite, &e);
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
		reply(t, SIP_487_REQUEST_TERMINATED);
		return ptx_free(t);
	}
	if (!reg_aor(t->sip->sip_request->rq_url, aor, sizeof aor))
		loc_get(t->p->store, aor, &c, &n);
	fork_to(t, c, n, &ferr);
	if (t->n)
		return;
	call_failed(t->call, -1, ferr == ENOTCONN ? 480 : 503);
	reply_err(t, ferr ? ferr : EHOSTUNREACH);
	ptx_free(t);
}

/* An initial request to a registered user: one branch per binding. */
static void to_user(struct ptx *t)
{
	const url_t *ru = t->sip->sip_request->rq_url;
	const struct loc_contact *c;
	char aor[REG_AOR_MAX], from[REG_AOR_MAX];
	unsigned n;
	int err = 0;

	if (reg_aor(ru, aor, sizeof aor) || !ru->url_user) {
		reply(t, 404, "Not Found: no user in the Request-URI");
		return ptx_free(t);
	}
	loc_get(t->p->store, aor, &c, &n);
	if (!n) {
		reply(t, 480, "Temporarily Unavailable: not registered");
		return ptx_free(t);
	}
	if (t->sip->sip_request->rq_method == sip_method_invite) {
		bool known = t->sip->sip_from &&
			     !reg_aor(t->sip->sip_from->a_url, from, sizeof from);

		/* forward_invite() runs once the call's relay is ready */
		if (call_offer(t->p->calls, t->sip->sip_call_id->i_id,
			       known ? from : NULL, &t->src,
			       header_value(t->sip, "Firewall-Window"),
			       t->has_offer ? &t->offer : NULL, forward_invite,
			       t, &t->call)) {
			reply_err(t, ENOMEM);
			ptx_free(t);
		}
		return;
	}
	fork_to(t, c, n, &err);
	if (!t->n) {
		reply_err(t, err == ENOTCONN ? ENOTCONN : EHOSTUNREACH);
		ptx_free(t);
	}
}

/* A request inside a dialog: to the Request-URI, over the flow our
 * Record-Route names for it. */
static void in_dialog(struct ptx *t, const struct flow *next)
{
	struct branch *b = &t->b[0];
	struct call_edit e = {{0}, NULL};
	char ruri[512];
	const char *id = t->sip->sip_call_id->i_id;

	memset(b, 0, sizeof *b);
	b->flow = *next;
	url_e(ruri, sizeof ruri, t->sip->sip_request->rq_url);
	if (t->sip->sip_request->rq_method == sip_method_bye)
		call_bye(t->p->calls, id);
	else if (t->has_offer)
		call_resdp(t->p->calls, id, (unsigned)t->from_leg, &t->src.src,
			   &t->offer, &e);
	if (!branch_send(t, b, ruri, false, &e)) {
		t->n = 1;
	} else {
		reply_err(t, EPROTO);
		ptx_free(t);
	}
	call_edit_reset(&e);
}

/* ACK to a 2xx is its own transaction-less request: forwarded as it is. */
static void forward_ack(struct proxy *p, msg_t *msg, sip_t *sip,
			const struct flow *next)
{
	char hop[128];

	if (sip->sip_max_forwards)
		sip->sip_max_forwards->mf_count--;
	flow_hop_url(hop, sizeof hop, &next->src, next->transport);
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

/* An INVITE's or UPDATE's offer: read, or the request answered 400. */
static bool offer_ok(struct ptx *t)
{
	const sip_t *sip = t->sip;
	const char *why;
	char phrase[128];

	if (!sip->sip_payload || (sip->sip_request->rq_method != sip_method_invite &&
				  sip->sip_request->rq_method != sip_method_update))
		return true;
	t->offer.body = sip->sip_payload->pl_data;
	t->offer.len = sip->sip_payload->pl_len;
	if (sdpfw_read(t->offer.body, t->offer.len, &t->offer.fw, &why)) {
		snprintf(phrase, sizeof phrase, "Bad Request: %s", why);
		reply(t, 400, phrase);
		return false;
	}
	t->has_offer = true;
	return true;
}

void proxy_request(struct proxy *p, msg_t *msg, sip_t *sip)
{
	struct flow next;
	struct ptx *t;
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
	if (!t || flows_of_msg(p->flows, msg, &t->src)) {
		free(t);
		nta_msg_treply(p->agent, msg, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
		return;
	}
	t->p = p;
	t->req = msg;
	t->sip = sip;
	t->from_leg = -1;
	t->best_b = -1;
	routed = pop_our_routes(t, &next);
	if (sip->sip_request->rq_method == sip_method_ack) {
		if (routed)
			forward_ack(p, msg, sip, &next);
		else
			msg_destroy(msg); /* not ours to route */
		free(t);
		return;
	}
	t->irq = nta_incoming_create(p->agent, NULL, msg_ref_create(msg), sip,
				     TAG_END());
	if (!t->irq)
		return ptx_free(t);
	nta_incoming_bind(t->irq, on_cancel, t);
	if (!offer_ok(t))
		return ptx_free(t);
	if (routed) {
		in_dialog(t, &next);
	} else if (sip->sip_to && sip->sip_to->a_tag) {
		reply(t, 403, "Forbidden: in-dialog request not routed through us");
		ptx_free(t);
	} else {
		to_user(t);
	}
}
