/* Edge mode: pinholed in front of a PBX (PROTOCOL.md section 11), on the
 * proxy's transactions. */
#ifndef PINHOLED_UPSTREAM_H
#define PINHOLED_UPSTREAM_H

#include <stdbool.h>

#include <sofia-sip/sip.h>

#include "conf.h"
#include "flow.h"

struct proxy;
struct ptx;

/* An upstream is configured. */
bool upstream_on(const struct pconf *c);
/* A request from src comes from the configured PBX (its IP, any port):
 * for pinholed's own checks (its digest auth leaves the PBX's requests
 * alone: the PBX authenticated its users). */
bool upstream_is_pbx(const struct pconf *c, const struct ph_addr *src);
/* A REGISTER from a phone (src: its flow): to the PBX with our Path; the
 * answer goes back to the phone. Takes msg. */
void upstream_register(struct proxy *p, msg_t *msg, sip_t *sip,
		       const struct flow *src);
/* The PBX answered a forwarded REGISTER 2xx: the bindings, stored. */
void upstream_registered(struct ptx *t, const sip_t *resp);
/* An initial request (no To tag): a phone's to the PBX, or the PBX's to a
 * phone, whose flow the Route of ours (route, NULL: none) names as next;
 * anything else 403. */
void upstream_request(struct ptx *t, const url_t *route,
		      const struct flow *next);

#endif
