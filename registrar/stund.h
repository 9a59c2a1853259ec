/* The STUN binding service (RFC 8489, RFC 5780 subset) and the hop test
 * (PROTOCOL.md section 1), as a core with no I/O of its own: datagrams
 * come in through stund_recv(), answers go out through the send hook,
 * which picks the socket by the local address to send from. */
#ifndef PINHOLED_STUND_H
#define PINHOLED_STUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pinhole/addr.h>

/* Send len bytes to dst from the local address `from` (IP and port). */
typedef int (stund_send_h)(const struct ph_addr *from,
			   const struct ph_addr *dst, const void *buf,
			   size_t len, void *arg);

/* Does this source IP hold a binding (a registered phone)? */
typedef bool (stund_known_h)(const struct ph_addr *src, void *arg);

struct stund_conf {
	uint16_t port;            /* primary; port + 1 alternate; hop ports after */
	struct ph_addr alt_ip;    /* unset: no change-IP */
	unsigned memory;          /* source addresses remembered */
	unsigned memory_ms;       /* for how long */
	unsigned memory_per_prefix; /* per /24 or /64; 0: memory's size */
	unsigned refused_ms;      /* how long an IP that answered an
				     unsolicited answer is remembered */
	stund_known_h *known_h;   /* NULL: every source is a stranger */
	void *arg;
};

struct stund_stats {
	unsigned long requests, answers, hop_answers, errors, bad, nulls;
	/* answers not sent: the request was too small to pay for them */
	unsigned long too_small;
	/* alternate-port answers a window's router refused itself (ICMP) */
	unsigned long refused;
};

struct stund;

int stund_alloc(struct stund **sp, const struct stund_conf *conf,
		stund_send_h *sendh, void *arg);
void stund_free(struct stund *s);

/* A datagram that arrived at local address `local` from `src`.
 * Returns 0 when it was handled (answered, refused as too small to pay
 * for its answer, or a null/hop-test packet),
 * EPROTO when it is not STUN, EBADMSG when it is malformed STUN. */
int stund_recv(struct stund *s, const struct ph_addr *local,
	       const struct ph_addr *src, const uint8_t *buf, size_t len,
	       uint64_t now_ms);

/* Did we answer a request from exactly this address (IP and port) at most
 * max_age_ms ago? (PROTOCOL.md section 3's window check.) */
bool stund_seen(const struct stund *s, const struct ph_addr *src,
		uint64_t now_ms, uint64_t max_age_ms);

/* Our datagram from `local` to `dst` was answered with ICMP port
 * unreachable by dst's IP itself (its router or host, not one on the way).
 * Only alternate-port answers count: those are the ones sent unasked
 * (CHANGE-REQUEST), so their ICMP shows a window's router that answers
 * unsolicited input (PROTOCOL.md section 11) where others would drop it. */
void stund_refused(struct stund *s, const struct ph_addr *local,
		   const struct ph_addr *dst, uint64_t now_ms);

/* Did a router at this IP answer an unsolicited answer of ours (ICMP)
 * within refused_ms? */
bool stund_answers_unsolicited(const struct stund *s, const struct ph_addr *ip,
			       uint64_t now_ms);

/* A phone registered again from ip: a router remembered as answering
 * unsolicited input stays remembered (refused_ms from now) while its
 * phones keep registering; the probe that showed it ran only at their
 * start. Nothing is noted for an IP not remembered. */
void stund_refused_keep(struct stund *s, const struct ph_addr *ip,
			uint64_t now_ms);

const struct stund_stats *stund_stats(const struct stund *s);

#endif
