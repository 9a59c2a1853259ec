/* Requests per source IP address (max_requests_per_source): a token
 * bucket per source, refilled at rate per second and holding up to twice
 * that, in a table of fixed size so that a flood from spoofed sources
 * costs no memory. Sources share a bucket only where a keyed hash makes
 * them collide, which a sender cannot aim at. */
#ifndef PINHOLED_RATELIMIT_H
#define PINHOLED_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <pinhole/addr.h>

struct ratelimit;

/* rate 0: no limit (every take succeeds). */
int ratelimit_alloc(struct ratelimit **rp, unsigned rate);
void ratelimit_free(struct ratelimit *r);
/* One request from src at now_ms: true when within its rate. When not,
 * *answer says whether this refusal is the first of its source for a
 * second (answer it; drop the rest: a spoofed source must not get a
 * reply for every request sent in its name). */
bool ratelimit_take(struct ratelimit *r, const struct ph_addr *src,
		    uint64_t now_ms, bool *answer);

#endif
