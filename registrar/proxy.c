/* The proxy's transactions on nta (RFC 3261 section 16): a server
 * transaction per request, a client transaction per branch, the best
 * answer going up (16.7), CANCEL to every branch still ringing, and the
 * call's edits applied to what is forwarded. Where requests go is fork.c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_int.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>

#include <pinhole/media.h>

#include "errmap.h"
#include "log.h"
#include "okcache.h"
#include "upstream.h"

/* 2xx edits kept for 64*T1: 4,000 calls/s for 32 s */
#define OKCACHE_MAX 131072

int proxy_alloc(struct proxy **pp, nta_agent_t *agent, struct loc_store *st,
		struct flows *flows, struct calls *calls,
		const struct pconf *conf)
{
	struct proxy *p = calloc(1, sizeof *p);
	int err;

	if (!p)
		return ENOMEM;
	*p = (struct proxy){agent, st, flows, calls, conf, 0, NULL, NULL, NULL};
	if ((err = sign_key_alloc(&p->key, conf->route_secret))) {
		log_err("proxy: no key for route signatures: %s", strerror(err));
		free(p);
		return err;
	}
	if ((err = okcache_alloc(&p->oks, OKCACHE_MAX)) ||
	    (err = proceeding_alloc(&p->own))) {
		proxy_free(p);
		return err;
	}
	if (!*conf->route_secret)
		log_info("proxy: routes signed with a random key (no route_secret): "
			 "dialogs in progress do not outlive a restart");
	*pp = p;
	return 0;
}

void proxy_free(struct proxy *p)
{
	if (p) {
		sign_key_free(p->key);
		okcache_free(p->oks);
		proceeding_free(p->own);
	}
	free(p);
}

static bool initial_invite(const sip_t *sip)
{
	return sip->sip_request->rq_method == sip_method_invite &&
	       !(sip->sip_to && sip->sip_to->a_tag);
}

unsigned proxy_invites(const struct proxy *p)
{
	return p->invites;
}

const char *proxy_header(const sip_t *sip, const char *name)
{
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && !strcasecmp(u->un_name, name))
			return u->un_value;
	return NULL;
}

/* A new header goes after the last one, which can be the empty line that
 * ends the headers: take that out first, sofia puts it back. */
static void before_new_header(msg_t *m, sip_t *s)
{
	if (s->sip_separator)
		msg_header_remove(m, (msg_pub_t *)s, (msg_header_t *)s->sip_separator);
}

/* A call's edits into a message: Firewall-Punch and the new SDP. */
static void apply(msg_t *m, sip_t *s, const struct call_edit *e)
{
	char hdr[PH_PUNCH_STRLEN + 24], len[24];

	if (!e->punch[0] || !e->body)
		return;
	snprintf(hdr, sizeof hdr, "Firewall-Punch: %s\r\n", e->punch);
	snprintf(len, sizeof len, "%zu", strlen(e->body));
	before_new_header(m, s);
	sip_add_tl(m, s, SIPTAG_HEADER_STR(hdr), SIPTAG_PAYLOAD_STR(e->body),
		   SIPTAG_CONTENT_LENGTH_STR(len), TAG_END());
}

void proxy_frame(msg_t *m, sip_t *s)
{
	char len[24];

	/* A header line sofia could not read goes no further: one with a NUL
	 * byte prints only up to it, line end lost, and the next header would
	 * be glued to it (fuzz-net: "CoContent-Length: 0" on a stream). */
	if (s->sip_error)
		msg_header_remove_all(m, (msg_pub_t *)s,
				      (msg_header_t *)s->sip_error);
	if (s->sip_content_length)
		return;
	snprintf(len, sizeof len, "%zu", s->sip_payload ? (size_t)s->sip_payload->pl_len : 0);
	before_new_header(m, s);
	sip_add_tl(m, s, SIPTAG_CONTENT_LENGTH_STR(len), TAG_END());
}

/* One Record-Route of ours, reached at our port for scheme, at our
 * address at (NULL: as the caller reached us); callee: the flow its
 * side's in-dialog requests go over. */
static void add_rr(struct ptx *t, msg_t *m, sip_t *s, const struct flow *callee,
		   enum flow_rr_scheme scheme, const struct ph_addr *at)
{
	char rr[FLOW_RR_MAX];
	const url_t *ru = t->sip->sip_request->rq_url;
	const struct pconf *c = t->p->conf;
	uint16_t port = scheme == FLOW_RR_SIP ? c->sip_port : c->tls_port;
	struct ph_addr me;

	/* the caller reached us by the Request-URI's host */
	if (at)
		me = *at;
	else if (ph_addr_isset(&t->rr_me))
		me = t->rr_me;
	else if (ph_addr_set(&me, ru->url_host, port))
		me = c->listen[0];
	ph_addr_set_port(&me, port);
	if (!flow_rr_write(rr, sizeof rr, t->p->key, &me, scheme, &t->src,
			   callee))
		sip_add_tl(m, s, SIPTAG_RECORD_ROUTE_STR(rr), TAG_END());
}

/* A sips: Request-URI gets a sips: Record-Route (RFC 3261 16.6 step 4).
 * Between a TLS side and a UDP or TCP one, two (RFC 5658 section 3.2):
 * each side's in-dialog requests come back over its own transport, the
 * top one reaching us as the callee came, the other as the caller did
 * (Record-Route is put on top: the caller's first). The same where the
 * two sides reached two addresses of ours (a host with several, edge
 * mode's PBX on one side): each its own, which the other side may not
 * reach. store = redis: a callee whose flow lives on another node is
 * reached through that node for the whole dialog (it Record-Routes too,
 * fork.c): our token names the node as the callee's flow. */
static void add_record_route(struct ptx *t, msg_t *m, sip_t *s,
			     const struct branch *b)
{
	struct flow node = {.src = b->node, .transport = FLOW_UDP};
	const struct flow *callee = ph_addr_isset(&b->node) ? &node : &b->flow;
	bool a_tls = t->src.transport == FLOW_TLS;
	bool b_tls = callee->transport == FLOW_TLS;
	const struct ph_addr *la = &t->src.local, *lb = &callee->local;
	bool two = ph_addr_isset(la) && ph_addr_isset(lb) &&
		   !ph_addr_ip_eq(la, lb);

	if (t->sip->sip_request->rq_url->url_type == url_sips)
		return add_rr(t, m, s, callee, FLOW_RR_SIPS, NULL);
	if (a_tls != b_tls || two)
		add_rr(t, m, s, callee, a_tls ? FLOW_RR_SIP_TLS : FLOW_RR_SIP,
		       two ? la : NULL);
	add_rr(t, m, s, callee, b_tls ? FLOW_RR_SIP_TLS : FLOW_RR_SIP,
	       two ? lb : NULL);
}

/* store = redis: the callee's flow is on another node; a Route to it
 * names that flow as our Record-Route does, with this node as the flow
 * the request came from (the node's in_dialog() then sends it on over
 * the callee's flow: PROTOCOL.md section 2). */
static int add_node_route(struct ptx *t, msg_t *m, sip_t *s,
			  const struct branch *b)
{
	char route[FLOW_RR_MAX], me[CONF_PATH_LEN];
	struct flow self = {0};

	if (conf_node_address(t->p->conf, me, sizeof me) ||
	    ph_addr_parse(&self.src, me, strlen(me), t->p->conf->sip_port) ||
	    flow_rr_write(route, sizeof route, t->p->key, &b->node,
			  FLOW_RR_SIP, &self, &b->flow) ||
	    sip_add_tl(m, s, SIPTAG_ROUTE_STR(route), TAG_END()) < 0)
		return EINVAL;
	return 0;
}

/* The caller's TCP connection has closed: what is sent now cannot reach it.
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
		log_debug("proxy: %s %s: the caller's connection has closed",
			  t->sip->sip_request->rq_method_name,
			  t->sip->sip_call_id->i_id);
	return gone;
}

void ptx_free(struct ptx *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		if (t->b[i].orq)
			nta_outgoing_destroy(t->b[i].orq);
		proceeding_drop(t->p, &t->b[i]);
	}
	/* nta answers 500 to a transaction destroyed unanswered; a non-INVITE
	 * from a caller that has gone ends with a 408 instead, which nta does
	 * not send (RFC 4320 section 4.1) */
	if (t->irq && nta_incoming_status(t->irq) < 200 &&
	    t->sip->sip_request->rq_method != sip_method_invite && caller_gone(t))
		nta_incoming_treply(t->irq, SIP_408_REQUEST_TIMEOUT, TAG_END());
	if (t->irq)
		nta_incoming_destroy(t->irq);
	call_unref(t->call);
	t->p->invites -= initial_invite(t->sip);
	free(t->edge_arg);
	msg_destroy(t->best_msg);
	msg_destroy(t->req);
	free(t);
}

/* Whether an answer goes to the caller. Toward a closed connection: one
 * final answer to an INVITE, the right one (nta would send its own 500
 * when the transaction goes, one message either way), and nothing else:
 * a second message queued on the new connection is what crashed sofia. */
static bool to_caller(struct ptx *t, int status)
{
	if (!caller_gone(t))
		return true;
	if (t->sip->sip_request->rq_method != sip_method_invite ||
	    status < 200 || t->gone_answered)
		return false;
	t->gone_answered = true;
	return true;
}

void ptx_reply(struct ptx *t, int status, const char *phrase)
{
	if (to_caller(t, status))
		nta_incoming_treply(t->irq, status, phrase, TAG_END());
}

void ptx_reply_err(struct ptx *t, int err)
{
	struct sipstatus s = errmap(err);

	ptx_reply(t, s.status, s.phrase);
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
	if (!to_caller(t, sip_object(resp)->sip_status->st_status)) {
		msg_destroy(resp);
		return;
	}
	sip_via_remove(resp, sip_object(resp));
	proxy_frame(resp, sip_object(resp));
	nta_incoming_mreply(t->irq, resp);
}

static void all_final(struct ptx *t)
{
	if (!t->answered) {
		if (t->best_msg) {
			forward_up(t, t->best_msg);
			t->best_msg = NULL;
		} else {
			ptx_reply(t, t->best == 503 ? 500 : t->best ? t->best : 408, NULL);
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

/* A 2xx: to an initial INVITE, the callee answered (its windows, checked,
 * and the caller's part); in a dialog, an answer in SDP that may move a
 * relayed call's media. */
static void answer_2xx(struct branch *b, msg_t *resp, sip_t *rs)
{
	struct ptx *t = b->t;
	struct call_edit e;
	struct call_sdp ans;
	sip_method_t mt = t->sip->sip_request->rq_method;

	bool sdp;

	if (mt != sip_method_invite && !(mt == sip_method_update && t->from_leg >= 0))
		return;
	sdp = read_sdp(rs, &ans, "callee", t->sip->sip_call_id->i_id);
	if (t->from_leg >= 0 && sdp)
		call_resdp(t->p->calls, t->sip->sip_call_id->i_id,
			   (unsigned)!t->from_leg, &b->flow.src, &ans, &e);
	else if (t->from_leg < 0 && t->call) /* answered, with SDP or not */
		call_answer(t->call, b->call_branch, rs->sip_status->st_status,
			    proxy_header(rs, "Firewall-Window"), sdp ? &ans : NULL, &e);
	else
		return;
	apply(resp, rs, &e);
	if (mt == sip_method_invite && e.punch[0] && e.body &&
	    okcache_put(t->p->oks, rs->sip_call_id->i_id, rs->sip_cseq->cs_seq,
			rs->sip_to->a_tag, e.punch, e.body, ph_now_ms()))
		log_warn("proxy: call %s: its 2xx's edits not kept: a "
			 "retransmission of it would go up as it comes",
			 rs->sip_call_id->i_id);
	call_edit_reset(&e);
}

void proxy_tick(struct proxy *p)
{
	uint64_t now = ph_now_ms();

	okcache_expire(p->oks, now);
	proceeding_tick(p, now);
}

void proxy_restore_2xx(struct proxy *p, msg_t *m, sip_t *s)
{
	struct call_edit e = {{0}, NULL};
	const char *punch, *body;

	if (s->sip_status->st_status < 200 || s->sip_status->st_status >= 300 ||
	    !s->sip_cseq ||
	    s->sip_cseq->cs_method != sip_method_invite || !s->sip_call_id ||
	    !s->sip_to ||
	    okcache_get(p->oks, s->sip_call_id->i_id, s->sip_cseq->cs_seq,
			s->sip_to->a_tag, ph_now_ms(), &punch, &body))
		return;
	snprintf(e.punch, sizeof e.punch, "%s", punch);
	e.body = (char *)body; /* apply() only reads it */
	apply(m, s, &e);
}

/* What of a 2xx to an INVITE goes up: a shallow copy (msg_copy(): new
 * header structures over the same text, each keeping its encoding), so
 * that pinholed's edits (the new SDP, Firewall-Punch) and the encoding
 * nta sends are the copy's, kept with the server transaction (Timer I,
 * T4: 5 s). The 2xx received stays as it came: a client transaction
 * still nta's (a branch over UDP that had no provisional answer,
 * proceed.c) keeps it until Timer D for matching its retransmissions.
 * The same bytes go up. */
static msg_t *answer_up(msg_t *resp)
{
	msg_t *up = msg_copy(resp);

	if (!up)
		return resp;
	msg_destroy(resp); /* the copy holds it, as the client transaction does */
	return up;
}

/* A branch still ringing: CANCEL it (RFC 3261 16.10), from where its
 * INVITE went (nta would not know). */
static void cancel_branch(struct ptx *t, struct branch *b)
{
	char next[PROXY_HOP_MAX];
	tport_t *tp;

	if (b->status >= 200)
		return;
	if (b->req)
		return proceeding_cancel(t->p, b);
	if (!b->orq)
		return;
	tp = ptx_hop(t, b, next);
	b->cancelled = true; /* nta's now: proceed.c does not take it */
	nta_outgoing_tcancel(b->orq, NULL, NULL, TAG_IF(tp, NTATAG_TPORT(tp)),
			     TAG_END());
}

bool proxy_body_short(msg_t *msg, const sip_t *sip)
{
	/* sofia-sip marks a body cut short, and keeps none at all when no
	 * byte of it came */
	return msg_get_flags(msg, MSG_FLG_TRUNC) ||
	       (sip->sip_content_length && sip->sip_content_length->l_length &&
		!sip->sip_payload);
}

static int on_response(struct branch *b, nta_outgoing_t *orq, sip_t const *sip)
{
	int status = sip ? sip->sip_status->st_status : nta_outgoing_status(orq);
	msg_t *resp = sip ? nta_outgoing_getresponse(orq) : NULL;

	/* discarded (RFC 3261 18.3), not passed on with a Content-Length no
	 * body follows; nta has taken a final one as the branch's end, so
	 * that ends as if the callee had been unreachable */
	if (resp && proxy_body_short(resp, sip_object(resp))) {
		log_notice("proxy: %s %s: a %d shorter than its Content-Length "
			   "from the callee: %s", sip->sip_cseq->cs_method_name,
			   sip->sip_call_id ? sip->sip_call_id->i_id : "-",
			   status, status < 200 ? "dropped" : "502");
		msg_destroy(resp);
		if (status < 200)
			return 0;
		resp = NULL;
		status = 502;
	}

	if (status < 200 && resp)
		proceeding_take(b->t->p, b, orq); /* orq and sip may go */
	ptx_response(b, status, resp);
	return 0;
}

void ptx_response(struct branch *b, int status, msg_t *resp)
{
	struct ptx *t = b->t;

	if (status < 200) {
		if (status > 100 && resp && !t->answered)
			forward_up(t, resp);
		else
			msg_destroy(resp);
		return;
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
		if (t->sip->sip_request->rq_method == sip_method_register)
			upstream_registered(t, sip_object(resp));
		if (t->sip->sip_request->rq_method == sip_method_invite)
			resp = answer_up(resp);
		answer_2xx(b, resp, sip_object(resp));
		forward_up(t, resp);
		if (!t->answered)
			for (unsigned i = 0; i < t->n; i++)
				cancel_branch(t, &t->b[i]);
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
}

/* CANCEL from upstream: cancel every branch still ringing; each answers
 * 487, which goes up as the final answer. */
static int on_cancel(struct ptx *t, nta_incoming_t *irq, sip_t const *sip)
{
	if (!sip || sip->sip_request->rq_method != sip_method_cancel)
		return 0;
	t->cancelled = true;
	for (unsigned i = 0; i < t->n; i++)
		cancel_branch(t, &t->b[i]);
	return 200;
}

/* What a response's way back depends on: the Via below ours, as nta
 * completed it (received, rport), and the Call-ID. */
#define VIA_PARTS 8
static void via_parts(const sip_t *sip, const sip_via_t *v, const char *nonce,
		      const char *parts[VIA_PARTS])
{
	parts[0] = nonce;
	parts[1] = sip->sip_call_id ? sip->sip_call_id->i_id : NULL;
	parts[2] = v->v_protocol;
	parts[3] = v->v_host;
	parts[4] = v->v_port;
	parts[5] = v->v_received;
	parts[6] = v->v_rport;
	parts[7] = v->v_branch;
}

/* "z9hG4bK" (RFC 3261 8.1.1.7), "ph", a nonce (each transaction its own
 * branch) and the MAC of the nonce and the Via below: a stray response
 * (no transaction left) follows it only if we wrote it. (A Via with maddr
 * never gets here: sipd strips it.) Forwarded statelessly, a request's
 * nonce is the start of a MAC of the Via below instead: its
 * retransmissions get the same branch (RFC 3261 16.11), each new
 * request of the caller's (its own branch) a new one. */
#define BRANCH_NONCE 6 /* bytes, 8 characters */
_Static_assert(PROXY_BRANCH_MAX == 7 + 2 + BRANCH_NONCE / 3 * 4 + SIGN_STRLEN,
	       "PROXY_BRANCH_MAX: z9hG4bKph, the nonce, the MAC");

int proxy_branch(const struct proxy *p, const sip_t *sip, bool stateless,
		 char out[PROXY_BRANCH_MAX])
{
	char nonce[BRANCH_NONCE / 3 * 4 + 1], mac[SIGN_STRLEN];
	const char *parts[VIA_PARTS];
	int err;

	if (!sip->sip_via)
		return EINVAL;
	if (stateless) {
		via_parts(sip, sip->sip_via, "stateless", parts);
		err = sign_mac(p->key, parts, VIA_PARTS, mac);
		memcpy(nonce, mac, sizeof nonce - 1);
		nonce[sizeof nonce - 1] = '\0';
	} else {
		err = sign_nonce(nonce, sizeof nonce, BRANCH_NONCE);
	}
	if (err)
		return err;
	via_parts(sip, sip->sip_via, nonce, parts);
	if ((err = sign_mac(p->key, parts, VIA_PARTS, mac)))
		return err;
	snprintf(out, PROXY_BRANCH_MAX, "z9hG4bKph%s%s", nonce, mac);
	return 0;
}

bool proxy_via_ours(const struct proxy *p, const sip_t *sip)
{
	const sip_via_t *v = sip->sip_via;
	char nonce[BRANCH_NONCE / 3 * 4 + 1];
	const char *parts[VIA_PARTS], *br;
	size_t nl = sizeof nonce - 1;

	if (!v || !v->v_next || !(br = v->v_branch) ||
	    strlen(br) != PROXY_BRANCH_MAX - 1 || strncmp(br, "z9hG4bKph", 9))
		return false;
	memcpy(nonce, br + 9, nl);
	nonce[nl] = '\0';
	via_parts(sip, v->v_next, nonce, parts);
	return sign_check(p->key, parts, VIA_PARTS, br + 9 + nl);
}

tport_t *ptx_hop(const struct ptx *t, const struct branch *b,
		 char next[PROXY_HOP_MAX])
{
	if (ph_addr_isset(&b->node)) {
		flow_hop_url(next, PROXY_HOP_MAX, &b->node, FLOW_UDP);
		return NULL;
	}
	flow_hop_url(next, PROXY_HOP_MAX, &b->flow.src, b->flow.transport);
	/* from the address the callee's flow came to (its NAT knows no
	 * other), not from whichever transport nta would pick */
	return flow_tport(t->p->flows, &b->flow);
}

int ptx_branch(struct ptx *t, struct branch *b, const char *ruri,
		       bool record_route, const struct call_edit *e)
{
	/* a copy of its own, not msg_copy()'s, which would pin the request
	 * received, and with it its server transaction's memory, for as long
	 * as nta keeps this branch: Timer D, 32 s after a 2xx to an INVITE
	 * (fixed in sofia-sip 1.12.11), where the server transaction goes
	 * after T4, 5 s; measured, 17 % of what a call holds */
	msg_t *m = msg_dup(t->req);
	sip_t *s = sip_object(m);
	char next[PROXY_HOP_MAX], branch[PROXY_BRANCH_MAX];
	tport_t *tp;

	if (!m || proxy_branch(t->p, s, false, branch)) {
		msg_destroy(m);
		return ENOMEM;
	}
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
	if (ph_addr_isset(&b->node) && add_node_route(t, m, s, b)) {
		msg_destroy(m);
		return EINVAL;
	}
	proxy_frame(m, s);
	b->t = t;
	tp = ptx_hop(t, b, next);
	log_debug("proxy: %s to %s from %s", s->sip_request->rq_method_name,
		  next, tp ? tport_name(tp)->tpn_ident : "any address");
	b->orq = nta_outgoing_mcreate(t->p->agent, on_response, b,
				      (url_string_t *)next, m,
				      NTATAG_BRANCH_KEY(branch),
				      NTATAG_PASS_100(1), /* proceed.c takes it then */
				      TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (b->orq)
		return 0;
	msg_destroy(m); /* nta leaves a message it could not send to us */
	return ENOMEM;
}

struct ptx *ptx_new(struct proxy *p, msg_t *msg, sip_t *sip)
{
	struct ptx *t = calloc(1, sizeof *t);

	if (!t) {
		msg_destroy(msg);
		return NULL;
	}
	t->p = p;
	t->req = msg;
	t->sip = sip;
	t->from_leg = -1;
	t->best_b = -1;
	t->irq = nta_incoming_create(p->agent, NULL, msg_ref_create(msg), sip,
				     TAG_END());
	p->invites += initial_invite(sip);
	if (!t->irq) {
		ptx_free(t);
		return NULL;
	}
	nta_incoming_bind(t->irq, on_cancel, t);
	return t;
}
