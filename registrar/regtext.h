/* A REGISTER's 200 written as text, and sent as it is (regreply.c).
 *
 * The same bytes as the answer sl_build_full() makes and sofia-sip
 * encodes (full form; Record-Route copied where asked; a Date of now),
 * without the answer's message: built as a message, each header copied
 * from the request, the Contacts printed then parsed again, every header
 * encoded, then completed and serialized once more by nta, it was 27k
 * of a REGISTER's 70k instructions (callgrind, store = file). Here the
 * request's own headers are encoded straight from it, the rest written
 * by hand, and the text goes to the transport as one piece. */
#ifndef PINHOLED_REGTEXT_H
#define PINHOLED_REGTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/tport.h>

#include "register.h"

struct regtext {
	char *buf;      /* the answer, then its destination's names */
	size_t len;     /* the answer's */
	tp_name_t tpn;  /* where it goes, as nta would send it (in buf) */
};

/* The 200 to req as r says; flags: the agent's messages' (msg_flags).
 * 0, ENOMEM, EINVAL (a header sofia-sip cannot encode; no Date). */
int regtext_make(struct regtext *t, const sip_t *req,
		 const struct reg_reply *r, bool record_route, int flags);
/* Sends it by tp (NULL: a transport of its protocol). 0 or EIO. */
int regtext_send(const struct regtext *t, nta_agent_t *agent, tport_t *tp);
/* The answer as sofia-sip's message, parsed from the text: for the rare
 * answer built again (a store error) or logged; NULL on no memory. */
msg_t *regtext_msg(const struct regtext *t);
void regtext_free(struct regtext *t);

#endif
