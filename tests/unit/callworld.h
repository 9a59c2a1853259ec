/* The world of the call unit tests (test_call.c, test_calls.c): a relay
 * backend of the relayctl ops table that hands out ports and records what
 * it is told, the real STUN memory fed Binding requests, the location
 * store, and helpers that make offers, branches and answers. */
#ifndef PH_TEST_CALLWORLD_H
#define PH_TEST_CALLWORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call.h"

struct fake {
	struct relayctl base;
	int fail;                   /* alloc answers this error */
	bool later;                 /* alloc completes when told */
	relay_grant_h *h;           /* the pending grant */
	void *arg;
	unsigned n_alloc, n_free, n_expect, n_relatch;
	uint64_t next;
	bool gone;                  /* touch/stats: the streams went idle */
	struct ph_addr last_ips[PH_RELAY_MAX_EXPECT];
	unsigned last_nips, last_leg;
	const char *face;           /* face() answers this IP (NULL: ENOTSUP) */
	struct ph_addr toward;      /* and was asked about this address */
};

extern struct fake relay;
extern struct stund *stun;
extern struct loc_store *store;
extern struct calls *calls;
extern int ready_err;
extern unsigned ready_runs;

struct relay_grant grant(struct fake *f, unsigned n);
void setup_with(bool with_relay);
void setup(void);
void teardown(void);
/* Our STUN service answers a Binding request from ip:port. */
void stun_from(const char *ip, uint16_t port);
void on_ready(int err, void *arg);
struct flow flow_at(const char *ip, uint16_t port);
/* An SDP at ip:port with its window (NULL: none) and more lines. */
struct call_sdp sdp_with(char *buf, size_t size, const char *ip,
			 unsigned port, const char *window, const char *more);
struct call_sdp sdp(char *buf, size_t size, const char *ip, unsigned port,
		    const char *window);
/* Caller alice at 198.51.100.1, window :40000 checked, Call-ID call-1. */
struct call *offer(const char *mapping, const char *filtering,
		   struct call_sdp *o, char *buf, size_t size);
/* Callee bob at 198.51.100.2 registered with that firewall. */
unsigned branch(struct call *c, const char *mapping, const char *filtering,
		const struct call_sdp *o, struct call_edit *e);
/* The callee answers from 10.0.0.2:50000, window 198.51.100.2:50000. */
void answer(struct call *c, unsigned b, struct call_edit *e);

#endif
