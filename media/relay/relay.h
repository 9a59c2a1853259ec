/* The media relay (PROTOCOL.md sections 4-6): a pool of UDP port pairs;
 * per media stream of a call, one pair per side (RTP on the even port,
 * RTCP on the odd one, or both on the even one with rtcp-mux); latching
 * on each side's first packet from an address it is expected at (RFC
 * 7362), then forwarding both ways, each side's media leaving from the
 * port its peer sends to.
 *
 * The relay runs its own threads (relay_threads), each with its own
 * epoll set and batched socket I/O (recvmmsg/sendmmsg, no allocation per
 * packet). The control calls below are thread-safe and cheap; pinholed
 * makes them from its SIP loop. Only addresses and counters cross the
 * boundary, so a relay in another process can offer the same calls. */
#ifndef PINHOLE_RELAY_H
#define PINHOLE_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "pinhole/addr.h"

#define PH_RELAY_MAX_EXPECT 4

struct ph_relay_conf {
	struct ph_addr addr;       /* the ports' IP (port ignored) */
	uint16_t port_min;         /* the pool, inclusive; pairs start even */
	uint16_t port_max;
	unsigned idle_s;           /* no packet for this long: freed */
	unsigned threads;          /* 1..16 */
	unsigned sock_buffer;      /* SO_RCVBUF/SO_SNDBUF, 0: the system's */
};

/* One side of a stream (leg 0: the caller, 1: the callee). */
struct ph_relay_leg_stats {
	uint64_t rx;          /* packets from this side, accepted */
	uint64_t rx_bytes;
	uint64_t tx;          /* packets forwarded to this side */
	uint64_t foreign;     /* from an address this side is not: dropped */
	uint64_t unlatched;   /* for this side before it sent: dropped */
	uint64_t relatched;   /* latched again (same IP, another port) */
	bool latched;
	struct ph_addr from;  /* the latched RTP source */
};

struct ph_relay_stats {
	struct ph_relay_leg_stats leg[2];
	uint64_t age_ms, idle_ms;
};

struct ph_relay;

/* The default pool: below Linux's ephemeral ports (32768-60999) and
 * IANA's dynamic ones (49152-65535, RFC 6335), and clear of Asterisk's
 * 10000-20000; rtpengine's 30000-40000 runs into the ephemeral range.
 * Ports there are what the kernel hands out to every connect() and
 * unbound sendto() on the host: the relay and the host's other programs
 * would take them from each other. */
#define PH_RELAY_PORT_MIN 22000
#define PH_RELAY_PORT_MAX 31999

#define PH_EPHEMERAL_PATH "/proc/sys/net/ipv4/ip_local_port_range"

/* The kernel's ephemeral range, from path (NULL: PH_EPHEMERAL_PATH):
 * 0, or errno (EINVAL: not two ports). */
int ph_relay_ephemeral(const char *path, unsigned *lo, unsigned *hi);
/* port_min..port_max overlaps it (lo..hi set); false when it does not or
 * the range cannot be read. */
bool ph_relay_ephemeral_overlap(uint16_t port_min, uint16_t port_max,
				const char *path, unsigned *lo, unsigned *hi);

int ph_relay_start(struct ph_relay **rp, const struct ph_relay_conf *c);
void ph_relay_stop(struct ph_relay *r);

/* One stream: *id names it, ports[0] and ports[1] are where leg 0 and
 * leg 1 send (the RTP port; RTCP is one above). EBUSY when the pool is
 * exhausted. */
int ph_relay_alloc(struct ph_relay *r, uint64_t *id,
			  struct ph_addr ports[2]);
/* The stream a relay before this one held on these RTP ports (port[0]:
 * where leg 0 sends, port[1]: leg 1), kept across a restart: ERANGE when
 * one is outside the pool, EADDRINUSE when taken, else bind's error. */
int ph_relay_adopt(struct ph_relay *r, const uint16_t port[2], uint64_t *id);
/* Leg `leg`'s RTP latched at `from`, as it was before a restart: media
 * for that leg goes there before it sends again (its RTCP latches anew). */
int ph_relay_latch(struct ph_relay *r, uint64_t id, unsigned leg,
		   const struct ph_addr *from);
/* Where leg `leg` may send from: its IPs (any port) and the address its
 * SDP names (sent to before it latches, when its IP is one of those).
 * relatch: forget the latched addresses, as after a re-INVITE. */
int ph_relay_expect(struct ph_relay *r, uint64_t id, unsigned leg,
			   const struct ph_addr *ips, unsigned n,
			   const struct ph_addr *media, bool relatch);
/* Signalling about the stream (a call still ringing): not idle yet. */
int ph_relay_touch(struct ph_relay *r, uint64_t id);
/* ENOENT once the stream is freed (by ph_relay_free or idleness). */
int ph_relay_stats(struct ph_relay *r, uint64_t id,
			  struct ph_relay_stats *st);
/* Frees the stream's ports; st (may be NULL) gets its last counters. */
int ph_relay_free(struct ph_relay *r, uint64_t id,
			 struct ph_relay_stats *st);
/* Streams in use and the most there can be. */
void ph_relay_usage(struct ph_relay *r, unsigned *used,
			   unsigned *max);

#endif
