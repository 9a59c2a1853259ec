/* Inside the relay engine: its slots, legs and workers, shared by
 * relay.c (the pool and the control calls) and forward.c (the worker
 * threads). Nothing else includes this. */
#ifndef PINHOLE_RELAY_INT_H
#define PINHOLE_RELAY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "relay.h"

#define BATCH 64          /* datagrams per recvmmsg/sendmmsg */
#define PKT_MAX 2048      /* larger datagrams are dropped */
#define EVENTS 256
#define STOP_EVENT UINT64_MAX
#define SWEEP_MS 1000

struct rsock {
	int fd;
	bool latched;
	struct ph_addr peer;
	struct ph_addr local;             /* where the peer's packets arrive */
};

/* Room for one IP_PKTINFO or IPV6_PKTINFO control message. */
union pktctl {
	struct cmsghdr c;
	char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct rleg {
	struct rsock s[2];                /* RTP, RTCP */
	unsigned pair;                    /* index in the pool */
	struct ph_addr expect[PH_RELAY_MAX_EXPECT];
	unsigned n_expect;
	struct ph_addr media;             /* from its SDP */
	bool media_ok;                    /* and trusted before latching */
	struct ph_relay_leg_stats st;
};

struct rslot {
	bool taken;                       /* the pool's: allocated or being set up */
	bool used;                        /* the worker's: forwarding */
	uint32_t gen;
	struct rleg leg[2];
	uint64_t born_ms, last_ms;
};

struct worker {
	struct ph_relay *r;
	unsigned idx;
	pthread_t th;
	bool started;
	int ep, evfd;
	pthread_mutex_t mu;
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	struct sockaddr_storage names[BATCH];
	union pktctl ictl[BATCH], octl;   /* each arrival's, the batch's source */
	uint8_t buf[BATCH][PKT_MAX];
};

struct ph_relay {
	struct ph_relay_conf conf;
	struct rslot *slots;
	unsigned nslots;
	struct worker *w;
	unsigned nw;
	atomic_bool stop;
	pthread_mutex_t pool_mu;      /* everything below */
	uint8_t *pair_used;
	unsigned npairs, pair_cursor, slot_cursor, used;
	uint16_t first_port;
};

static inline struct worker *worker_of(struct ph_relay *r, unsigned slot)
{
	return &r->w[slot % r->nw];
}

static inline uint64_t ev_data(uint32_t gen, unsigned slot, unsigned leg,
			unsigned comp)
{
	return (uint64_t)gen << 32 | slot << 2 | leg << 1 | comp;
}

/* One of the IPs leg l is expected at. */
static inline bool relay_expects(const struct rleg *l,
				 const struct ph_addr *src)
{
	for (unsigned i = 0; i < l->n_expect; i++)
		if (ph_addr_ip_eq(&l->expect[i], src))
			return true;
	return false;
}

/* With the worker's mutex held: the stream's ports back to the pool. */
void relay_slot_free(struct ph_relay *r, struct rslot *sl);
/* A worker thread: forwards its slots' packets, frees idle ones. */
void *relay_worker_main(void *arg);

#endif
