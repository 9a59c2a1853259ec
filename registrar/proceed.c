/* An INVITE branch in its proceeding state (RFC 3261 17.1.1.2), held by
 * pinholed instead of nta.
 *
 * Why: nta keeps a client INVITE transaction over UDP 32 s after its 2xx
 * (Timer D, fixed in sofia-sip 1.12.11; RFC 3261 ends it at once, RFC 6026
 * keeps only what matches retransmissions), and with it the request sent
 * and the 2xx received: most of what a call held once it was over
 * (tests/bench/invite, 10 s at 1,000 calls/s: 18 kB a call, Kamailio 14.5).
 * Once the callee has answered provisionally nta has nothing left to do
 * that this cannot: no retransmission follows (17.1.1.2); what is left is
 * to match the final answer, ACK one that is not a 2xx (17.1.1.3), CANCEL
 * (9.1) and Timer C (16.6 step 11). So at its first provisional answer
 * the branch is taken from nta: nta frees an INVITE transaction destroyed
 * before its final answer at once, and hands what comes after to its
 * stateless callback, which brings it here by the branch of our Via. A 2xx
 * then goes up as the proxy forwards any (okcache.h keeps its edits for
 * retransmissions); nothing is held after it.
 *
 * Over TCP and TLS nta ends the transaction at its 2xx already: those
 * branches stay nta's. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "proxy_int.h"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/su_tagarg.h>

#include <pinhole/media.h>

#include "log.h"

#define BUCKETS 8192u /* a power of two */
/* RFC 3261 16.6 step 11: Timer C greater than 3 minutes, as nta's */
#define TIMER_C_MS (185u * 1000)
/* a branch CANCELled that never answers ends as Timer B would: 64*T1 */
#define CANCEL_WAIT_MS (64u * 500)
/* An ACK of a final non-2xx is sent again for each copy of that answer
 * for as long as nta's Timer D would have (64*T1; RFC 3261 17.1.1.2), the
 * most recent ACKED_MAX of them: its text, a few hundred bytes, where nta
 * kept the INVITE and the answer. */
#define ACKED_MS (64u * 500)
#define ACKED_MAX 8192u

struct acked {
	struct acked *next;
	uint64_t until_ms;
	size_t len;
	char *id;                     /* the INVITE's branch, after text */
	char text[];                  /* the ACK */
};

struct proceeding {
	struct branch *bucket[BUCKETS];
	unsigned n;
	struct acked *acked, *acked_last; /* oldest first */
	unsigned n_acked;
};

int proceeding_alloc(struct proceeding **pp)
{
	*pp = calloc(1, sizeof **pp);
	return *pp ? 0 : ENOMEM;
}

static void acked_pop(struct proceeding *pr)
{
	struct acked *a = pr->acked;

	pr->acked = a->next;
	if (!pr->acked)
		pr->acked_last = NULL;
	pr->n_acked--;
	free(a);
}

void proceeding_free(struct proceeding *pr)
{
	while (pr && pr->acked)
		acked_pop(pr);
	free(pr);
}

static const char *branch_id(const struct branch *b)
{
	const sip_via_t *v = sip_object(b->req)->sip_via;

	return v && v->v_branch ? v->v_branch : "";
}

/* What nta would have kept 64*T1 after the answer: a branch over UDP
 * (to the callee's flow, or to the node that holds it). */
static bool over_udp(const struct branch *b)
{
	return b->flow.transport == FLOW_UDP || ph_addr_isset(&b->node);
}

static unsigned hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & (BUCKETS - 1);
}

bool proceeding_take(struct proxy *p, struct branch *b, nta_outgoing_t *orq)
{
	struct proceeding *pr = p->own;
	msg_t *req;
	unsigned h;

	/* CANCELled by nta, it is nta's: it would swallow the final
	 * answer to a transaction destroyed then */
	if (b->req || b->status >= 200 || b->cancelled ||
	    b->t->sip->sip_request->rq_method != sip_method_invite ||
	    !over_udp(b) ||
	    !(req = nta_outgoing_getrequest(orq)))
		return false;
	if (!sip_object(req)->sip_via || !sip_object(req)->sip_via->v_branch) {
		msg_destroy(req);
		return false;
	}
	b->req = req;
	b->since_ms = 0;
	h = hash(branch_id(b));
	b->own_next = pr->bucket[h];
	pr->bucket[h] = b;
	pr->n++;
	b->orq = NULL;
	nta_outgoing_destroy(orq); /* freed now: never answered finally */
	return true;
}

void proceeding_drop(struct proxy *p, struct branch *b)
{
	struct proceeding *pr = p->own;

	if (!b->req)
		return;
	for (struct branch **pp = &pr->bucket[hash(branch_id(b))]; *pp;
	     pp = &(*pp)->own_next)
		if (*pp == b) {
			*pp = b->own_next;
			pr->n--;
			break;
		}
	msg_destroy(b->req);
	b->req = NULL;
}

static struct branch *find(const struct proceeding *pr, const char *id)
{
	for (struct branch *b = pr->bucket[hash(id)]; b; b = b->own_next)
		if (!strcmp(branch_id(b), id))
			return b;
	return NULL;
}

/* A request of the INVITE transaction sent as req (its CANCEL, its ACK):
 * the same Request-URI, top Via (so the same branch), Route, Call-ID,
 * From and CSeq number (RFC 3261 9.1, 17.1.1.3); to: the final answer's
 * To, for an ACK. From a final answer alone (req NULL, an answer repeated
 * after the branch has gone): its Via, and its To's URI for the
 * Request-URI, which an RFC 3261 callee does not match an ACK by (17.2.3:
 * the branch, sent-by and method do). */
static msg_t *hop_request(nta_agent_t *agent, const sip_t *req,
			  const sip_t *resp, sip_method_t method,
			  const char *name)
{
	const sip_t *o = req ? req : resp;
	const url_t *ruri = req ? req->sip_request->rq_url : resp->sip_to->a_url;
	msg_t *m = nta_msg_create(agent, 0);
	su_home_t *home = m ? msg_home(m) : NULL;
	sip_t *s = sip_object(m);
	char *via; /* the top one only */

	if (!m)
		return NULL;
	via = sip_header_as_string(home, (const sip_header_t *)o->sip_via);
	if (!via ||
	    sip_add_tl(m, s,
		       SIPTAG_REQUEST(sip_request_create(home, method, name,
							 (url_string_t *)ruri,
							 NULL)),
		       SIPTAG_VIA_STR(via),
		       TAG_IF(req && req->sip_route, SIPTAG_ROUTE(o->sip_route)),
		       SIPTAG_MAX_FORWARDS_STR("70"),
		       SIPTAG_CALL_ID(o->sip_call_id), SIPTAG_FROM(o->sip_from),
		       SIPTAG_TO(resp ? resp->sip_to : o->sip_to),
		       SIPTAG_CSEQ(sip_cseq_create(home, o->sip_cseq->cs_seq,
						   method, name)),
		       SIPTAG_CONTENT_LENGTH_STR("0"), TAG_END()) < 0) {
		msg_destroy(m);
		return NULL;
	}
	return m;
}

/* The ACK sent for branch id, kept (ENOMEM: not). */
static int acked_keep(struct proceeding *pr, const char *id, msg_t *m,
		      uint64_t now_ms)
{
	size_t len = 0, idlen = strlen(id);
	char *text = msg_as_string(NULL, m, NULL, 0, &len);
	struct acked *a = text ? malloc(sizeof *a + len + 1 + idlen + 1) : NULL;

	if (!a) {
		su_free(NULL, text);
		return ENOMEM;
	}
	memcpy(a->text, text, len + 1);
	su_free(NULL, text);
	a->id = memcpy(a->text + len + 1, id, idlen + 1);
	a->len = len;
	a->until_ms = now_ms + ACKED_MS;
	a->next = NULL;
	if (pr->n_acked == ACKED_MAX)
		acked_pop(pr);
	if (pr->acked_last)
		pr->acked_last->next = a;
	else
		pr->acked = a;
	pr->acked_last = a;
	pr->n_acked++;
	return 0;
}

/* The ACK kept for branch id, made again; NULL: none. Looked for only
 * when a final non-2xx comes again after its branch has gone, rare
 * enough to be looked for one by one. */
static msg_t *acked_find(const struct proceeding *pr, const char *id)
{
	for (const struct acked *a = pr->acked; a; a = a->next)
		if (!strcmp(a->id, id))
			return msg_make(sip_default_mclass(), 0, a->text, a->len);
	return NULL;
}

/* ACK a final answer that is not a 2xx, where it came from (RFC 3261
 * 17.1.1.3: the client transaction does, hop by hop), each copy of it:
 * the first from b's INVITE, again as kept (or, past that, from the
 * answer alone). */
static void ack(struct proxy *p, const struct branch *b, msg_t *resp)
{
	const sip_t *rs = sip_object(resp);
	msg_t *m = b ? hop_request(p->agent, sip_object(b->req), rs,
				   sip_method_ack, "ACK")
		     : acked_find(p->own, rs->sip_via->v_branch);
	char next[PROXY_HOP_MAX];
	struct flow src;
	tport_t *tp;

	if (!m && !b)
		m = hop_request(p->agent, NULL, rs, sip_method_ack, "ACK");
	if (!m)
		return;
	if (b) {
		tp = ptx_hop(b->t, b, next);
		if (b->status < 200 && /* the first; a held branch is over UDP */
		    acked_keep(p->own, branch_id(b), m, ph_now_ms()))
			log_warn("proxy: call %s: its ACK not kept: a repeated "
				 "%d would be ACKed without its Request-URI",
				 rs->sip_call_id->i_id, rs->sip_status->st_status);
	} else if (!flows_of_msg(p->flows, resp, &src)) {
		flow_hop_url(next, sizeof next, &src.src, src.transport);
		tp = flow_tport(p->flows, &src);
	} else {
		msg_destroy(m);
		return;
	}
	nta_msg_tsend(p->agent, m, (url_string_t *)next, NTATAG_USER_VIA(1),
		      TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
}

void proceeding_cancel(struct proxy *p, struct branch *b)
{
	msg_t *m;
	char next[PROXY_HOP_MAX];
	tport_t *tp;
	nta_outgoing_t *orq;

	if (!b->req || b->cancelled)
		return;
	b->cancelled = true;
	b->since_ms = 0; /* CANCEL_WAIT_MS from the next tick */
	tp = ptx_hop(b->t, b, next);
	m = hop_request(p->agent, sip_object(b->req), NULL, sip_method_cancel,
			"CANCEL");
	/* its own non-INVITE transaction, which nta ends itself */
	orq = !m ? NULL
		 : nta_outgoing_mcreate(p->agent, NULL, NULL,
					(url_string_t *)next, m,
					NTATAG_BRANCH_KEY(branch_id(b)),
					NTATAG_USER_VIA(1),
					TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
	if (!orq) { /* the branch ends 408 after CANCEL_WAIT_MS */
		msg_destroy(m); /* nta leaves it to us */
		log_warn("proxy: call %s: CANCEL to %s not sent",
			 sip_object(b->req)->sip_call_id->i_id, next);
	}
}

bool proceeding_response(struct proxy *p, msg_t *msg, sip_t *sip)
{
	struct branch *b;
	int status = sip->sip_status->st_status;

	if (!sip->sip_cseq || sip->sip_cseq->cs_method != sip_method_invite ||
	    !sip->sip_via || !sip->sip_via->v_branch || !sip->sip_to ||
	    !sip->sip_call_id || !sip->sip_from)
		return false;
	b = find(p->own, sip->sip_via->v_branch);
	if (!b) {
		/* a final non-2xx repeated after its branch went: ACKed again,
		 * and no further (the caller had its answer); a 2xx goes on */
		if (status < 300 || !proxy_via_ours(p, sip))
			return false;
		ack(p, NULL, msg);
		msg_destroy(msg);
		return true;
	}
	if (status < 200)
		b->since_ms = 0; /* Timer C starts again (16.6 step 11) */
	if (status >= 300)
		ack(p, b, msg);
	ptx_response(b, status, msg);
	return true;
}

/* Timer C: a branch ringing that long is CANCELled; one CANCELled that
 * never answers ends 408. since_ms is set by the first tick that sees it,
 * so it counts from at most a tick late. */
void proceeding_tick(struct proxy *p, uint64_t now_ms)
{
	struct proceeding *pr = p->own;

	while (pr->acked && pr->acked->until_ms <= now_ms)
		acked_pop(pr);
	if (!pr->n)
		return;
	for (unsigned i = 0; i < BUCKETS; i++)
		for (struct branch *b = pr->bucket[i], *next; b; b = next) {
			next = b->own_next;
			if (!b->since_ms || b->status >= 200) {
				b->since_ms = b->since_ms ? b->since_ms : now_ms;
				continue;
			}
			if (!b->cancelled && now_ms - b->since_ms >= TIMER_C_MS) {
				log_info("proxy: call %s: no final answer in "
					 "%u s (Timer C): CANCEL",
					 sip_object(b->req)->sip_call_id->i_id,
					 TIMER_C_MS / 1000);
				proceeding_cancel(p, b);
			} else if (b->cancelled &&
				   now_ms - b->since_ms >= CANCEL_WAIT_MS) {
				/* may free b's transaction, and next with it:
				 * the rest waits for the next tick */
				ptx_response(b, 408, NULL);
				return;
			}
		}
}
