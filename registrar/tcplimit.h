/* TCP (and TLS) connections per source IP address (max_tcp_per_source):
 * a connection past the limit is closed as it is accepted, before it
 * costs more than its accept(). */
#ifndef PINHOLED_TCPLIMIT_H
#define PINHOLED_TCPLIMIT_H

/* 0: no limit. Call before the first connection is accepted. */
void tcplimit_setup(unsigned max_per_source);

#endif
