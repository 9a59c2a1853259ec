/* The stateful proxy (RFC 3261 section 16) for requests to registered
 * users, and the communication manager's part in it (PROTOCOL.md sections
 * 3-5 and 9): it reads both sides' firewall data, decides the route and
 * writes each side's instruction into the requests and responses it
 * forwards. The second of the two modules that talk to sofia-sip's nta. */
#ifndef PINHOLED_PROXY_H
#define PINHOLED_PROXY_H

#include <sofia-sip/nta.h>

#include "conf.h"
#include "location.h"
#include "stund.h"

struct proxy;

int proxy_alloc(struct proxy **pp, nta_agent_t *agent, struct loc_store *st,
		struct stund *stund, const struct pconf *conf);
void proxy_free(struct proxy *p);
/* Once a second: relay streams freed as idle end their calls' media. */
void proxy_tick(struct proxy *p);

/* A request not for pinholed itself. Takes msg. */
void proxy_request(struct proxy *p, msg_t *msg, sip_t *sip);
/* A response no client transaction claims (a retransmitted 2xx to an
 * INVITE): forwarded statelessly along its Via. Takes msg. */
void proxy_stray_response(struct proxy *p, msg_t *msg, sip_t *sip);

#endif
