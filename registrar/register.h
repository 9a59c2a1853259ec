/* REGISTER processing, RFC 3261 section 10.3, over sofia-sip's parsed
 * message (its parser only; no transactions here). The result is a reply
 * for the SIP layer to send; the store is changed completely or not at all. */
#ifndef PINHOLED_REGISTER_H
#define PINHOLED_REGISTER_H

#include <time.h>

#include <sofia-sip/sip.h>

#include <pinhole/fwwin.h>

#include "conf.h"
#include "location.h"

/* Longest canonical AoR kept ("user@host"). */
#define REG_AOR_MAX 256

struct reg_reply {
	int status;
	const char *phrase;
	unsigned min_expires;   /* 423: the Min-Expires to send */
	char *contacts;         /* 200: every current binding (malloc'd) */
	char fwwin[PH_FWWIN_STRLEN]; /* 200: Firewall-Window as stored */
	const char *unsupported;     /* 420: the Require value we refuse */
	bool outbound;               /* 200: Require: outbound (RFC 5626) */
	unsigned flow_timer;         /* 200: its Flow-Timer, 0: none */
	char phrase_buf[160];
};

int reg_handle(struct loc_store *st, const struct pconf *conf,
	       sip_t const *sip, const struct flow *flow, time_t now,
	       struct reg_reply *out);
void reg_reply_reset(struct reg_reply *r);

/* "user@host" from a SIP URI, host lower-cased, no port or parameters
 * (RFC 3261 section 10.3 step 5). ENAMETOOLONG, EINVAL. */
int reg_aor(const url_t *url, char *buf, size_t size);
/* host is a domain of `domains` (every one when that is empty). */
bool reg_domain_served(const struct pconf *c, const char *host);

#endif
