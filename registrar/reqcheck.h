/* The proxy's first refusals of a request, before any branch: one home
 * for fork.c, which answers them from its server transaction, and
 * stranger.c, which in open mode answers a UDP stranger statelessly
 * before any transaction exists (PROTOCOL.md section 1): the same checks,
 * the same words. */
#ifndef PINHOLED_REQCHECK_H
#define PINHOLED_REQCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

#include "conf.h"
#include "location.h"
#include "sdpfw.h"

/* An INVITE's or UPDATE's offer (read into *fw, *has set) and an
 * INVITE's Firewall-Window (one, well formed: PROTOCOL.md sections 2 and
 * 8): 0 when they read or are absent, else 400 with its phrase in buf. */
int reqcheck_offer(const sip_t *sip, struct sdpfw *fw, bool *has, char *buf,
		   size_t size);

/* An initial request's target: a user of a domain we serve, registered
 * here (its bindings in *c, *n, its AoR in aor). 0, else 404 or 480 with
 * *phrase set. */
int reqcheck_user(const struct pconf *conf, struct loc_store *store,
		  const url_t *ru, char *aor, size_t size,
		  const struct loc_contact **c, unsigned *n,
		  const char **phrase);

#endif
