/* pinholed's ng client (doc/RELAY-NG.md): one connected UDP socket per
 * relay on the su_root loop, requests matched to replies by cookie, each
 * sent again after NGC_TIMEOUT_MS up to NGC_TRIES times. A relay that
 * leaves a request unanswered that long, or whose host refuses the
 * datagram (ICMP port unreachable), is dead: skipped by ngc_pick(), and
 * pinged every NGC_PING_MS until it answers again. */
#ifndef PINHOLED_NGC_H
#define PINHOLED_NGC_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "bencode.h"
#include "pinhole/addr.h"

#define NGC_TIMEOUT_MS 500
#define NGC_TRIES 3
#define NGC_PING_MS 2000
#define NGC_MSG_MAX 4096
#define NGC_MAX_RELAYS 8

struct ngc;

/* err 0 with the reply's dict, or ETIMEDOUT, ECONNREFUSED (the relay is
 * then dead). */
typedef void (ngc_reply_h)(int err, const struct benc *reply, void *arg);

/* n: 1..NGC_MAX_RELAYS. */
int ngc_alloc(struct ngc **cp, su_root_t *root, const struct ph_addr *relays,
	      unsigned n);
/* Pending requests are dropped without their handlers. */
void ngc_free(struct ngc *c);
/* A live relay not in skip (bit i: relay i), the least loaded, in turn
 * among equals; -1 when none is. */
int ngc_pick(struct ngc *c, unsigned skip);
/* load: streams held there (+1, -1). */
void ngc_load(struct ngc *c, unsigned relay, int delta);
const char *ngc_name(const struct ngc *c, unsigned relay);
bool ngc_dead(const struct ngc *c, unsigned relay);
/* It said it is pinhole-relayd (its pong's "pinhole" key): it reads the
 * pinhole-* keys, which rtpengine would log as unknown. */
bool ngc_pinhole(const struct ngc *c, unsigned relay);
/* Sends dict (a bencoded dictionary, at most NGC_MSG_MAX - 32 bytes) to
 * relay `relay`; h (may be NULL) runs once, never before this returns. */
int ngc_send(struct ngc *c, unsigned relay, const char *dict, size_t len,
	     const char *what, ngc_reply_h *h, void *arg);

#endif
