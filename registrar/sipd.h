/* The SIP side of pinholed: the one module that talks to sofia-sip's nta
 * (transactions and transports). It owns the location store, the STUN
 * service and its sockets, and the expiry timer. */
#ifndef PINHOLED_SIPD_H
#define PINHOLED_SIPD_H

#include <sofia-sip/su_wait.h>

#include "conf.h"

struct sipd;

int sipd_alloc(struct sipd **dp, su_root_t *root, const struct pconf *conf);
void sipd_free(struct sipd *d);

/* Reads the users file again (bindings and calls go on). */
void sipd_reload_users(struct sipd *d);

/* Stops gracefully (SIGTERM): new calls refused, those being set up given
 * a moment to end, then the loop ends. A second call ends it at once. */
void sipd_stop(struct sipd *d);

/* A one-line summary for the log: bindings, STUN counters. */
void sipd_log_stats(const struct sipd *d);

#endif
