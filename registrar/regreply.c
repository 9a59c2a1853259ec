/* REGISTER handled and answered: see regreply.h. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>

#include "flow.h"
#include "location.h"
#include "log.h"
#include "register.h"
#include "regreply.h"
#include "regtext.h"
#include "slreply.h"
#include "stranger.h"

struct regreply {
	nta_agent_t *agent;
	const struct pconf *conf;
	struct loc_store *store;
	struct flows *flows;
	/* what nta sends a held answer "to": a request line only (nta
	 * completes an answer from a request; ours is complete already) */
	msg_t *stub;
};

/* A REGISTER between its handling and its answer: a change it made to
 * the store is answered once on disk (loc_sync). The request itself is
 * let go: held until its batch is synced, it kept its buffer and every
 * header sofia-sip parsed, and the heap fragmented; the answer, built at
 * once, is all that waits. */
struct reg_pending {
	struct loc_wait w;
	struct regreply *rr;
	msg_t *ans;     /* or, a 200 that fits as written: */
	struct regtext text;
	/* the transport it came by: nta answers by it only while the request
	 * is being delivered, later it would pick one by the Via (on a host
	 * with several addresses, maybe another than the phone sent to) */
	tport_t *tp;
	struct flow flow;
	size_t limit;   /* a stranger's REGISTER's size, as it came; or SIZE_MAX */
	bool stranger;  /* open mode, UDP: answered as stranger.h says */
	struct reg_reply r; /* for the log line; its contacts are let go */
};

int regreply_alloc(struct regreply **out, nta_agent_t *agent,
		   const struct pconf *conf, struct loc_store *store,
		   struct flows *flows)
{
	struct regreply *rr = calloc(1, sizeof *rr);
	msg_t *m = nta_msg_create(agent, 0);
	sip_t *s = sip_object(m);

	if (!rr || !s ||
	    !(s->sip_request = sip_request_create(msg_home(m),
						  SIP_METHOD_REGISTER,
						  (url_string_t *)"sip:stub",
						  NULL))) {
		msg_destroy(m);
		free(rr);
		return ENOMEM;
	}
	rr->agent = agent;
	rr->conf = conf;
	rr->store = store;
	rr->flows = flows;
	rr->stub = m;
	*out = rr;
	return 0;
}

void regreply_free(struct regreply *rr)
{
	if (!rr)
		return;
	msg_destroy(rr->stub);
	free(rr);
}

static void log_register(const sip_t *sip, const struct flow *flow,
			 const struct reg_reply *r)
{
	char src[PH_ADDR_STRLEN], aor[REG_AOR_MAX] = "?";
	int level = r->status < 300 ? LOG_DEBUG : LOG_NOTICE;

	if (!log_enabled(level))
		return;
	ph_addr_print(&flow->src, src, sizeof src);
	if (sip && sip->sip_to)
		reg_aor(sip->sip_to->a_url, aor, sizeof aor);
	log_msg(level, "REGISTER %s from %s/%s: %d %s%s%s", aor, src,
		flow_transport_name(flow->transport), r->status, r->phrase,
		*r->fwwin ? "; Firewall-Window: " : "", r->fwwin);
}

/* The answer to req, as r says, encoded; NULL on no memory. */
static msg_t *build(struct regreply *rr, msg_t *req, const struct reg_reply *r,
		    const struct reg_pending *p)
{
	const sip_t *sip = sip_object(req);
	char minexp[16], fwhdr[PH_FWWIN_STRLEN + 24], ftimer[32];
	bool ok = r->status == 200;

	if (r->status == 423)
		snprintf(minexp, sizeof minexp, "%u", r->min_expires);
	if (*r->fwwin)
		snprintf(fwhdr, sizeof fwhdr, "Firewall-Window: %s\r\n", r->fwwin);
	if (r->flow_timer)
		snprintf(ftimer, sizeof ftimer, "Flow-Timer: %u\r\n",
			 r->flow_timer);
#define REG_TAGS \
	TAG_IF(r->status == 423, SIPTAG_MIN_EXPIRES_STR(minexp)), \
	TAG_IF(r->status == 420, SIPTAG_UNSUPPORTED_STR(r->unsupported)), \
	TAG_IF(ok && *r->fwwin, SIPTAG_HEADER_STR(fwhdr)), \
	TAG_IF(ok && r->outbound, SIPTAG_REQUIRE_STR("outbound")), \
	TAG_IF(ok && r->flow_timer, SIPTAG_HEADER_STR(ftimer))
	if (p->stranger) /* its limit: the size it came in */
		return stranger_reg_build(rr->agent, req, p->limit, r->status,
					  r->phrase, r->contacts, ok, REG_TAGS,
					  TAG_END());
	/* as nta_msg_treply() would: Record-Route copied */
	return sl_build_full(rr->agent, req, r->status, r->phrase, ok,
		TAG_IF(r->contacts, SIPTAG_CONTACT_STR(r->contacts)),
		TAG_IF(sip->sip_record_route,
		       SIPTAG_RECORD_ROUTE(sip->sip_record_route)),
		REG_TAGS, TAG_END());
#undef REG_TAGS
}

static void send_answer(struct regreply *rr, struct reg_pending *p, msg_t *req)
{
	/* failing, it is logged at debug level (slreply.c) or was no memory */
	if (p->ans || !p->text.buf) {
		(void)sl_send_by(rr->agent, p->ans, req, p->limit, p->tp);
	} else {
		if (regtext_send(&p->text, rr->agent, p->tp))
			log_debug("sip: REGISTER %s: 200 not sent",
				  p->text.tpn.tpn_host);
		msg_destroy(req);
	}
	p->ans = NULL;
	regtext_free(&p->text);
	reg_reply_reset(&p->r);
	tport_unref(p->tp);
	free(p);
}

/* Its batch is on disk (err 0) or was undone (err: nothing of it kept). */
static void reg_answer(int err, void *arg)
{
	struct reg_pending *p = arg;
	struct regreply *rr = p->rr;
	struct reg_reply *r = &p->r;

	if (err) {
		*r->fwwin = '\0';
		snprintf(r->phrase_buf, sizeof r->phrase_buf,
			 "Server Internal Error: binding not stored (%s)",
			 strerror(err));
		r->status = 500;
		r->phrase = r->phrase_buf;
	}
	/* a 200 as text: read again to be logged or answered otherwise */
	if (!p->ans && p->text.buf && (err || log_enabled(LOG_DEBUG)))
		p->ans = regtext_msg(&p->text);
	log_register(p->ans ? sip_object(p->ans) : NULL, &p->flow, r);
	if (err) { /* never the 200, even with no memory to read it again */
		regtext_free(&p->text);
	} else if (p->text.buf) {
		msg_destroy(p->ans);
		p->ans = NULL;
	}
	if (err && p->ans) { /* from the 200's own Via, From, To, Call-ID, CSeq */
		msg_t *a = p->stranger
			? sl_build(rr->agent, p->ans, r->status, r->phrase, NULL,
				   TAG_END())
			: sl_build_full(rr->agent, p->ans, r->status, r->phrase,
					false, TAG_END());

		msg_destroy(p->ans);
		p->ans = a;
	}
	send_answer(rr, p, msg_ref_create(rr->stub));
}

/* REGISTER is answered statelessly, as Kamailio's save() does: the
 * registrar is idempotent for a retransmission (same Call-ID and CSeq), so
 * keeping each transaction for Timer J (32 s, RFC 3261 17.2.2) would only
 * cost memory: at 40,000 REGISTERs a second, over a million of them. A
 * 200 waits for its binding to be on disk (store = file). */
void regreply_register(struct regreply *rr, msg_t *msg, const sip_t *sip,
		       bool stranger, time_t now)
{
	struct reg_pending *p = calloc(1, sizeof *p);

	if (!p || flows_of_msg(rr->flows, msg, &p->flow)) {
		log_warn("sip: REGISTER %s: 500: %s", sip->sip_call_id->i_id,
			 p ? "its transport not known" : "no memory");
		free(p);
		nta_msg_treply(rr->agent, msg, SIP_500_INTERNAL_SERVER_ERROR,
			       TAG_END());
		return;
	}
	p->rr = rr;
	p->stranger = stranger;
	p->limit = stranger ? msg_size(msg) : SIZE_MAX;
	p->w.done = reg_answer;
	p->w.arg = p;
	reg_handle(rr->store, rr->conf, sip, &p->flow, now, &p->r);
	if (p->r.status == 200 &&
	    !regtext_make(&p->text, sip, &p->r, !stranger,
			  msg_object(rr->stub)->msg_flags) &&
	    p->text.len <= p->limit) {
		/* as it would go to anyone, in full: no need to build it */
		p->tp = nta_incoming_transport(rr->agent, NULL, msg);
	} else {
		regtext_free(&p->text);
		p->ans = build(rr, msg, &p->r, p);
	}
	free(p->r.contacts); /* in the answer now */
	p->r.contacts = NULL;
	if (p->r.status != 200 || !rr->store->ops->sync) {
		log_register(sip, &p->flow, &p->r);
		send_answer(rr, p, msg); /* nta finds its transport */
		return;
	}
	if (!p->tp)
		p->tp = nta_incoming_transport(rr->agent, NULL, msg);
	msg_destroy(msg);
	loc_sync(rr->store, &p->w);
}
