/* The stateful forking proxy (RFC 3261 section 16) for requests to
 * registered users: transactions, branches, the best answer, loose
 * routing through pinholed's own Record-Route. What each call's media
 * does (the route, the edits, the relay) is the call module's; the proxy
 * tells it what it saw and applies what it says. The second of the two
 * modules that talk to sofia-sip's nta. */
#ifndef PINHOLED_PROXY_H
#define PINHOLED_PROXY_H

#include <sofia-sip/nta.h>

#include "call.h"
#include "conf.h"
#include "flow.h"
#include "location.h"

struct proxy;

int proxy_alloc(struct proxy **pp, nta_agent_t *agent, struct loc_store *st,
		struct flows *flows, struct calls *calls,
		const struct pconf *conf);
void proxy_free(struct proxy *p);
/* Initial INVITEs in progress (no final answer yet, or its
 * retransmissions still absorbed) */
unsigned proxy_invites(const struct proxy *p);
/* Every second: what is kept for late retransmissions, past its time, let
 * go (also when no call comes, so that the heap can shrink). */
void proxy_tick(struct proxy *p);


/* A request not for pinholed itself. Takes msg. */
void proxy_request(struct proxy *p, msg_t *msg, sip_t *sip);
/* A response no client transaction claims (a retransmitted 2xx to an
 * INVITE): forwarded statelessly along its Via. Takes msg. */
void proxy_stray_response(struct proxy *p, msg_t *msg, sip_t *sip);
/* A datagram that ends before the body its Content-Length announces
 * (RFC 3261 18.3: an error; such an answer is discarded). */
bool proxy_body_short(msg_t *msg, const sip_t *sip);

#endif
