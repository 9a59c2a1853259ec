/* sipcheck: an independent reading of every SIP message pinholed sent.
 * sipcheck.c reads what sendcap.c recorded pinholed send, frames the messages and
 * reads each line by line itself; sipcheck_cmp.c parses each message with
 * libosip2 and with sofia-sip and compares what the two read. */
#ifndef PH_SIPCHECK_H
#define PH_SIPCHECK_H

#include <stddef.h>

/* One framed message, as the checker's own line reading saw it. */
struct sc_msg {
	const char *p;		/* start line first */
	size_t len;		/* header block + body */
	size_t hdr_len;		/* start line, headers and the empty line */
	long clen;		/* Content-Length, -1 when absent */
	char ctype[64];		/* Content-Type's type/subtype, lowercase */
	const char *where;	/* names the message in failure lines */
};

/* One failure line naming the message; counted for the exit status. */
void sc_fail(const struct sc_msg *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* a character of an RFC 3261 token */
int sc_is_token_char(int c);

/* the length of the header name that starts line l, 0 if not a header */
size_t sc_header_name_len(const char *l, size_t ll);

/* the body against Content-Type; no header lines in it */
void sc_check_body(const struct sc_msg *m);

/* libosip2 and sofia-sip parse m; every disagreement is an sc_fail(). */
void sc_compare(const struct sc_msg *m);

#endif
