/* Overload control: past its capacity pinholed refuses new calls early,
 * with 503 and Retry-After (RFC 3261 21.5.4), rather than fall behind on
 * every call and have the kernel drop what it cannot read. Two signals:
 * how full the SIP UDP sockets' receive queues are (the loop is behind),
 * and how many calls are being set up at once. Requests in a dialog,
 * responses and REGISTERs are always served. */
#ifndef PINHOLED_OVERLOAD_H
#define PINHOLED_OVERLOAD_H

#include <stdbool.h>

#include "conf.h"

struct overload;

int overload_alloc(struct overload **op, const struct pconf *conf);
void overload_free(struct overload *o);
/* A UDP socket whose receive queue is watched. */
int overload_add_socket(struct overload *o, int fd);
/* Whether a new call is to be refused now, with `calls` being set up
 * (proxy_invites()); logged at most once a second. */
bool overload_refuse(struct overload *o, unsigned calls);
/* The Retry-After of a refusal, in seconds. */
unsigned overload_retry_after(const struct overload *o);

#endif
