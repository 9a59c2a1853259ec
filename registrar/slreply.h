/* Stateless answers that cannot be used to amplify: pinholed is on the
 * public internet, and over UDP a request's source address is whatever
 * the sender wrote. An answer to a request that proved nothing (no
 * credentials yet, a probe, an error) is sent without a transaction (no
 * retransmission, RFC 3261 17.2.1 Timer G would resend a 4xx to an
 * INVITE that is never ACKed ten times), in compact form (RFC 3261
 * 7.3.3), and only when it is no larger than the request: a source gets
 * back at most the bytes it sent. */
#ifndef PINHOLED_SLREPLY_H
#define PINHOLED_SLREPLY_H

#include <stdbool.h>
#include <time.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip.h>

/* RFC 3261 8.2.7: a stateless UAS gives a retransmitted request the same
 * To tag, so the tag is a hash of what identifies the request. NULL when
 * the To has a tag already (or on no memory). */
sip_to_t *sl_to(msg_t *msg, const sip_t *sip);
/* That tag, "ph" and 8 hex digits. */
#define SL_TAG_SIZE 11
void sl_tag(const sip_t *sip, char tag[SL_TAG_SIZE]);
/* "Date: ...\r\n" of now (a time(NULL)), as sofia-sip encodes a Date;
 * NULL if it cannot be written. Made once a second. */
const char *sl_date_line(time_t now);

/* The answer, sent when it is no larger than the request (else dropped,
 * counted and logged at debug level). Takes msg. 0, EMSGSIZE (dropped),
 * ENOMEM. */
int sl_reply(nta_agent_t *agent, msg_t *msg, int status, const char *phrase,
	     tag_type_t tag, tag_value_t value, ...);

/* The same in steps, for a caller with a smaller answer to fall back on:
 * the answer to req, encoded (own_lines: "Name: value" header lines,
 * CRLF between, written as given, each on a line of its own whatever the
 * name; may be NULL); NULL on no memory. */
msg_t *sl_build(nta_agent_t *agent, msg_t *req, int status, const char *phrase,
		const char *own_lines, tag_type_t tag, tag_value_t value, ...);
/* The same with header names in full (no own_lines): for an answer
 * that may fit so, to parsers that know no compact form (SIPp 3.7's
 * Contact, some phones'); date: with a Date of now. */
msg_t *sl_build_full(nta_agent_t *agent, msg_t *req, int status,
		     const char *phrase, bool date, tag_type_t tag,
		     tag_value_t value, ...);
/* reply is no larger than req was. */
bool sl_fits(msg_t *reply, msg_t *req);
/* Sends reply if it fits (see sl_reply). Takes both. */
int sl_send(nta_agent_t *agent, msg_t *reply, msg_t *req);
/* The same for an answer sent after its request's delivery (a REGISTER's,
 * once its binding is on disk; req: a stub with the request's headers, or
 * the request): limit is the size it came in, tp the transport it came by
 * (NULL: nta picks one by the Via). */
int sl_send_by(nta_agent_t *agent, msg_t *reply, msg_t *req, size_t limit,
	       tport_t *tp);

/* Changes to a built answer, cheaper than building another (each 0 or
 * ENOMEM): its Date taken out; every header written anew in compact
 * form. */
int sl_drop_date(msg_t *m);
int sl_compact(msg_t *m);

/* Answers dropped by sl_reply() for their size, since the start. */
unsigned long sl_dropped(void);

#endif
