/* Answers to strangers in open mode (no users file): a request over UDP
 * whose source address nothing has proven (not the PBX of edge mode; over
 * TCP and TLS the handshake proves it) may name any address, and pinholed
 * must not become a reflector toward it. What pinholed itself answers such
 * a request is sent as with authentication on (slreply.h): statelessly
 * (no Timer G retransmissions), in compact form, and no larger than the
 * request. With users set, every unauthenticated request is a stranger's. */
#ifndef PINHOLED_STRANGER_H
#define PINHOLED_STRANGER_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip.h>

struct authsip;
struct loc_store;
struct pconf;

/* Answers to msg go as slreply.h says: authentication is on (auth not
 * NULL), or msg came over UDP from another source than the PBX. */
bool stranger(const struct authsip *auth, const struct pconf *conf,
	      msg_t *msg);

/* Open mode: an initial request from a stranger that the proxy would
 * refuse at once (an offer or Firewall-Window that does not read, a To
 * tag but no Route, no user, a domain not served, a user not registered)
 * is refused here, statelessly, with the proxy's status and phrase: a
 * transaction would resend a 480 to a never-ACKed INVITE ten times (RFC
 * 3261 17.2.1). true: answered (msg taken). */
bool stranger_refuse(nta_agent_t *agent, const struct pconf *conf,
		     struct loc_store *store, msg_t *msg, const sip_t *sip);

/* A REGISTER's answer to a stranger, built (not sent: slreply.h's
 * sl_send_by() sends it): status, phrase, contacts (the bindings,
 * "<uri>;expires=N" joined by ", ", may be NULL), a Date (date) and tags,
 * no larger than limit (the REGISTER's size) where it can be. Where it
 * does not fit as it would go to anyone, it goes in compact form (RFC
 * 3261 7.3.3); then without the Date; then, where the bindings do not all
 * fit, those the request named come first, then the others while they
 * fit, and a 200's phrase says how many were left out ("OK: 1 of 3
 * bindings, all over TCP": RFC 3261 10.3 step 8 would list them all;
 * over TCP or TLS it does). NULL on no memory. */
msg_t *stranger_reg_build(nta_agent_t *agent, msg_t *req, size_t limit,
			  int status, const char *phrase, const char *contacts,
			  bool date, tag_type_t tag, tag_value_t value, ...);

#endif
