/* REGISTER handled and answered (registrar mode): the binding changed in
 * the store (register.c), the answer built at once from the request, the
 * request let go, and the answer sent when the change is on disk
 * (loc_sync(), store = file) or at once (other stores). */
#ifndef PINHOLED_REGREPLY_H
#define PINHOLED_REGREPLY_H

#include <stdbool.h>
#include <time.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>

struct flows;
struct loc_store;
struct pconf;
struct regreply;

/* 0 or ENOMEM. The store, flows and agent outlive it; free it after the
 * store (whose last syncs answer through it). */
int regreply_alloc(struct regreply **out, nta_agent_t *agent,
		   const struct pconf *conf, struct loc_store *store,
		   struct flows *flows);
void regreply_free(struct regreply *rr);

/* Handles the REGISTER msg (taken) and answers it, statelessly; stranger:
 * answered no larger than it came (stranger.h). */
void regreply_register(struct regreply *rr, msg_t *msg, const sip_t *sip,
		       bool stranger, time_t now);

#endif
