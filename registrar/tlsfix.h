/* sofia-sip's TLS transport with the message timeout TCP has: Debian's
 * sofia-sip (1.12.11) gives its "tls" transport type no secondary timer,
 * so TPTAG_TIMEOUT (how long a message may take to arrive whole) never
 * fires on a TLS connection, and its idle timer (TPTAG_IDLE) waits for a
 * connection with no partial message: a client that sends half a header
 * and stops held its connection for ever. tlsfix_timers() registers a
 * copy of sofia's TLS type (tport_register_type(), which sofia searches
 * first) with TCP's receive-timeout timer, so the TCP tags apply to TLS
 * alike. Call it once, before any TLS transport is made. */
#ifndef PINHOLED_TLSFIX_H
#define PINHOLED_TLSFIX_H

/* 0, or EPROTO (logged) when sofia's TLS type is not the one it mends. */
int tlsfix_timers(void);

#endif
