/* Digest authentication on the wire (RFC 3261 section 22): which
 * requests need credentials, reading them from Authorization or
 * Proxy-Authorization, and the 401/407 challenges (SHA-256 then MD5,
 * RFC 8760 section 2.4), 403s and silence toward banned sources. The
 * checks themselves are auth.c's. */
#ifndef PINHOLED_AUTHSIP_H
#define PINHOLED_AUTHSIP_H

#include <stdbool.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

#include "conf.h"

struct authsip;

/* With conf->users empty, *ap is NULL (no authentication: every call
 * below lets everything through) and pinholed warns that it is open. */
int authsip_alloc(struct authsip **ap, nta_agent_t *agent,
		  const struct pconf *conf);
void authsip_free(struct authsip *a);

/* msg comes from a banned source: dropped, unanswered. Takes msg then. */
bool authsip_drop(struct authsip *a, msg_t *msg);

/* A request to a user, not a REGISTER: whether it must carry
 * credentials. ACK and CANCEL never do (RFC 3261 22.1), nor requests in
 * a dialog that follow pinholed's own Record-Route, nor what the
 * configured PBX sends. (A To tag without our Route does: the proxy
 * refuses it, but only once it proved who sends it.) */
bool authsip_needed(const struct authsip *a, msg_t *msg, const sip_t *sip);

/* REGISTER (401) or another request (407) that needs credentials: false
 * when it has right ones for a user that owns its AoR (To for REGISTER,
 * From otherwise) and goes on, our credentials taken out; true when it
 * was answered (challenge or 403) and taken. */
bool authsip_gate(struct authsip *a, msg_t *msg, sip_t *sip);

/* The request comes from the PBX pinholed fronts (issue 13's `upstream`
 * key): it authenticates its own users. None is configured yet. */
bool authsip_from_pbx(const struct authsip *a, msg_t *msg);

/* Reads the users file again (SIGHUP); on error, keeps the users. */
void authsip_reload(struct authsip *a, const char *users);

/* Once a second: bans that end. */
void authsip_tick(struct authsip *a);

#endif
