/* Inside the proxy: its transactions, shared by proxy.c (server and
 * client transactions, answers going up), proceed.c (an INVITE branch
 * once it rings) and fork.c (where requests go: bindings, dialogs).
 * Nothing else includes this. */
#ifndef PINHOLED_PROXY_INT_H
#define PINHOLED_PROXY_INT_H

#ifndef NTA_INCOMING_MAGIC_T
#define NTA_INCOMING_MAGIC_T struct ptx
#define NTA_OUTGOING_MAGIC_T struct branch
#endif
#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

#include "proxy.h"
#include "sign.h"

#define MAX_BRANCHES CALL_MAX_BRANCHES

struct proxy {
	nta_agent_t *agent;
	struct loc_store *store;
	struct flows *flows;
	struct calls *calls;
	const struct pconf *conf;
	unsigned invites;             /* initial INVITEs not yet freed */
	struct sign_key *key;         /* Record-Route and Via branches */
	struct okcache *oks;          /* the edits of 2xx to INVITEs gone up */
	struct proceeding *own;       /* INVITE branches taken from nta */
};

struct branch {
	struct ptx *t;
	nta_outgoing_t *orq;          /* nta's client transaction, or: */
	msg_t *req;                   /* proceed.c's: the INVITE as it went */
	struct branch *own_next;      /* proceed.c's table */
	uint64_t since_ms;            /* its Timer C (or wait after CANCEL) */
	bool cancelled;               /* its CANCEL sent (or held by nta) */
	int status;
	struct flow flow;             /* the callee's: where its requests go */
	struct ph_addr node;          /* set: the node holding that flow, which
					 the request goes to (store = redis) */
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
	bool gone_answered;           /* the one answer to a caller that left */
	struct ph_addr rr_me;         /* our Record-Route's host; unset: the
					 Request-URI's (edge mode: the PBX's
					 requests name the phone there) */
	void *edge_arg;               /* upstream.c's, freed with it */
};

/* A new server transaction for msg; NULL when nta refuses it. */
struct ptx *ptx_new(struct proxy *p, msg_t *msg, sip_t *sip);
void ptx_free(struct ptx *t);
void ptx_reply(struct ptx *t, int status, const char *phrase);
/* The answer errmap gives err. */
void ptx_reply_err(struct ptx *t, int err);
/* One branch: a copy of the request to ruri over the flow b->flow, with
 * the call's edits for its receiver (e may be NULL). */
int ptx_branch(struct ptx *t, struct branch *b, const char *ruri,
	       bool record_route, const struct call_edit *e);
/* Where b's requests go (a URL in next) and the transport they leave
 * by (NULL: any). */
#define PROXY_HOP_MAX 128
tport_t *ptx_hop(const struct ptx *t, const struct branch *b,
		 char next[PROXY_HOP_MAX]);
/* A response to branch b (NULL: none came, status is nta's or ours);
 * takes resp. May free b's transaction. */
void ptx_response(struct branch *b, int status, msg_t *resp);
const char *proxy_header(const sip_t *sip, const char *name);
/* The top Via of a response is one pinholed added for the next one: its
 * branch carries our MAC of that Via (where the response goes next). */
bool proxy_via_ours(const struct proxy *p, const sip_t *sip);
/* The branch of the Via pinholed puts over sip's top one (which the
 * response comes back through); stateless: the same for a retransmission
 * of the request. */
#define PROXY_BRANCH_MAX (7 + 2 + 8 + SIGN_STRLEN)
int proxy_branch(const struct proxy *p, const sip_t *sip, bool stateless,
		 char out[PROXY_BRANCH_MAX]);
/* A 2xx to an INVITE forwarded statelessly (a retransmission, its client
 * transaction gone): the edits its first copy got, if kept. */
void proxy_restore_2xx(struct proxy *p, msg_t *m, sip_t *s);
/* A Content-Length where what pinholed forwards has none (allowed over UDP,
 * RFC 3261 18.3; without it a stream cannot be framed): sofia-sip does not
 * add one to a message it is handed whole. Header lines that could not be
 * read are dropped. */
void proxy_frame(msg_t *m, sip_t *s);

/* proceed.c: an INVITE branch over UDP, once it rings, is pinholed's,
 * not nta's (why: there). */
struct proceeding;
int proceeding_alloc(struct proceeding **pp);
void proceeding_free(struct proceeding *pr);
/* b's transaction has had a provisional answer: taken from nta (orq
 * destroyed, its request kept), unless it is not an INVITE over UDP. */
bool proceeding_take(struct proxy *p, struct branch *b, nta_outgoing_t *orq);
/* b no longer held (its transaction ends). */
void proceeding_drop(struct proxy *p, struct branch *b);
/* A response no nta transaction took: true when it was a held branch's
 * (or a final non-2xx repeated after it, ACKed again): taken. */
bool proceeding_response(struct proxy *p, msg_t *msg, sip_t *sip);
void proceeding_cancel(struct proxy *p, struct branch *b);
/* Timer C, every second or so. */
void proceeding_tick(struct proxy *p, uint64_t now_ms);

#endif
