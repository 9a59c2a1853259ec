/* The media plane: window discovery, firewall classification, the hop
 * test, null packets, latching, relay fallback, keepalives and consent.
 *
 * libpinhole owns no socket, loop, thread or clock. The host sends for it
 * through a ph_send_h, feeds it the datagrams it receives, and passes the
 * time (its monotonic clock, in ms) into every call; each object says when
 * it next needs a tick (..._deadline()). So the same code runs on
 * sofia-sip's loop, on baresip's (packet hooks on its RTP socket), on the
 * small fd adapter below, and on a fake clock in tests. */
#ifndef PINHOLE_MEDIA_H
#define PINHOLE_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pinhole/addr.h"
#include "pinhole/fwwin.h"
#include "pinhole/stun.h"

#define PH_NEVER UINT64_MAX

/* Send len bytes to dst; ttl 0 leaves the socket's TTL (hop limit) as it
 * is, else it applies to this datagram only. len 0 is a null packet. */
typedef int (ph_send_h)(const struct ph_addr *dst, const void *buf,
			size_t len, int ttl, void *arg);

/* ---- STUN client transaction (RFC 8489 section 6.2.1) ------------------ */

struct ph_stunc_conf {
	unsigned rto_ms;  /* first retransmission timeout (RFC: 500 ms) */
	unsigned rc;      /* requests sent at most (RFC: 7) */
	unsigned rm;      /* wait after the last, in RTOs (RFC: 16) */
};

PH_API extern const struct ph_stunc_conf ph_stunc_rfc8489;

enum ph_stunc_state {
	PH_STUNC_IDLE = 0,
	PH_STUNC_PENDING,
	PH_STUNC_DONE,     /* a success or error response arrived */
	PH_STUNC_TIMEOUT,
};

struct ph_stunc {
	enum ph_stunc_state state;
	struct ph_stunc_conf conf;
	struct ph_addr dst;
	uint8_t req[PH_STUN_MAX_LEN];
	size_t len;
	uint8_t tid[PH_STUN_TID_LEN];
	unsigned sent;
	unsigned rto_ms;
	uint64_t next_ms;
	struct ph_stun_msg resp;      /* valid in DONE */
	struct ph_addr resp_from;
};

/* A Binding request to dst, with CHANGE-REQUEST flags and
 * PINHOLE-REPLY-FROM port when not zero; sends the first copy now. */
PH_API int ph_stunc_start(struct ph_stunc *t, const struct ph_stunc_conf *c,
			  const struct ph_addr *dst, uint32_t change,
			  uint16_t reply_from, ph_send_h *sendh, void *arg,
			  uint64_t now);
/* A decoded response: 0 when it answers t (t is DONE), ENOENT if not. */
PH_API int ph_stunc_recv(struct ph_stunc *t, const struct ph_addr *src,
			 const struct ph_stun_msg *msg);
PH_API void ph_stunc_tick(struct ph_stunc *t, ph_send_h *sendh, void *arg,
			  uint64_t now);
PH_API uint64_t ph_stunc_deadline(const struct ph_stunc *t);
/* The reflexive address a successful answer reported (XOR-MAPPED-ADDRESS,
 * else MAPPED-ADDRESS); NULL before one or without it. */
PH_API const struct ph_addr *ph_stunc_window(const struct ph_stunc *t);

/* ---- probe: window, mapping, filtering, hops ------------------------- */

#define PH_HOP_MAX 8

struct ph_probe_conf {
	struct ph_addr server;        /* pinholed's STUN port */
	struct ph_addr local;         /* the socket's own address */
	struct ph_stunc_conf stun;
	unsigned fallback_hops;       /* when no hop-test answer comes back */
};

struct ph_probe;

PH_API int ph_probe_alloc(struct ph_probe **pp, const struct ph_probe_conf *c,
			  ph_send_h *sendh, void *arg);
PH_API void ph_probe_free(struct ph_probe *p);
PH_API int ph_probe_start(struct ph_probe *p, uint64_t now);
/* A datagram from the socket: 0 when the probe consumed it, ENOENT when it
 * is not for the probe (media, or another STUN transaction). */
PH_API int ph_probe_recv(struct ph_probe *p, const struct ph_addr *src,
			 const uint8_t *buf, size_t len, uint64_t now);
PH_API void ph_probe_tick(struct ph_probe *p, uint64_t now);
PH_API uint64_t ph_probe_deadline(const struct ph_probe *p);
PH_API bool ph_probe_done(const struct ph_probe *p);
/* The result: 0 and the Firewall-Window; ETIMEDOUT when the server never
 * answered; EINPROGRESS before ph_probe_done(). */
PH_API int ph_probe_result(const struct ph_probe *p, struct ph_fwwin *w);
/* The socket's window (IP and port) from the primary port; ETIMEDOUT
 * when the server never answered. */
PH_API int ph_probe_window(const struct ph_probe *p, struct ph_addr *a);
/* How each part was found, one line per part, for people (pinhole-probe -v). */
PH_API int ph_probe_explain(const struct ph_probe *p, char *buf, size_t size);

/* ---- media path: roles, latching, fallback, keepalive, consent ------- */

/* RFC 7675 section 5.1: consent expires 30 s after the last answer. */
#define PH_CONSENT_MS 30000
/* PROTOCOL.md section 4: silence this long after opening or starting to
 * transmit moves the stream to the reserved relay. */
#define PH_FALLBACK_MS 2000

enum ph_path_state {
	PH_PATH_IDLE = 0,
	PH_PATH_WAITING,    /* opened or transmitting, nothing heard yet */
	PH_PATH_LATCHED,    /* media from the peer arrived: direct */
	PH_PATH_RELAYED,    /* fell back to the relay, or told to use it */
	PH_PATH_NO_CONSENT, /* nothing back for PH_CONSENT_MS: stop sending */
};

struct ph_path_stats {
	unsigned long sent, received, dropped, nulls_sent;
	uint64_t start_ms, first_rx_ms;
	bool fell_back;
};

struct ph_path {
	enum ph_path_state state;
	enum ph_role role;
	struct ph_addr peer;     /* as instructed */
	struct ph_addr relay;    /* reserved fallback (may be unset) */
	struct ph_addr target;   /* where media goes now */
	unsigned hops;           /* TTL of the opener's null packet */
	unsigned lifetime_s;     /* idle binding lifetime (keepalive at half) */
	uint64_t last_tx_ms, last_rx_ms;
	ph_send_h *sendh;
	void *arg;
	struct ph_path_stats stats;
};

/* Begin a stream's part: open (a null packet with TTL hops to the peer's
 * window), transmit, relay or local. */
PH_API int ph_path_start(struct ph_path *p, const struct ph_punch *punch,
			 unsigned hops, unsigned lifetime_s, ph_send_h *sendh,
			 void *arg, uint64_t now);
/* A datagram arrived: true when it is media to deliver (from the peer or
 * relay, latched on its actual port, RFC 7362), false when it was dropped
 * (another address; never latched) or was a null packet. */
PH_API bool ph_path_recv(struct ph_path *p, const struct ph_addr *src,
			 size_t len, uint64_t now);
/* Where to send media now; NULL when consent is gone. */
PH_API const struct ph_addr *ph_path_target(const struct ph_path *p);
/* Send media through the path (counts it, refreshes the keepalive). */
PH_API int ph_path_send(struct ph_path *p, const void *buf, size_t len,
			uint64_t now);
/* The host sends one media datagram to ph_path_target() on its own
 * socket (a softphone's RTP socket, not through ph_path_send): 0 when it
 * may, and it is counted as ph_path_send counts (stats.sent, the keepalive
 * waits again); ENOTCONN when it must not go: the path is not started or
 * consent is gone (RFC 7675); EAGAIN while an opener has heard nothing from
 * the peer (an early packet could take the peer's port at its NAT,
 * PROTOCOL.md section 4). */
PH_API int ph_path_host_send(struct ph_path *p, uint64_t now);
PH_API void ph_path_tick(struct ph_path *p, uint64_t now);
PH_API uint64_t ph_path_deadline(const struct ph_path *p);

/* ---- fd adapter for standalone programs ------------------------------ */

/* A non-blocking UDP socket bound to `bind_to` (port 0: any). */
PH_API int ph_sock_open(int *fdp, const struct ph_addr *bind_to);
/* A ph_send_h over a socket: arg is (int *) to the fd. The TTL goes with
 * the datagram (IP_TTL / IPV6_HOPLIMIT ancillary data), so nothing needs
 * restoring afterwards. */
PH_API int ph_sock_send(const struct ph_addr *dst, const void *buf,
			size_t len, int ttl, void *arg);
/* One datagram, or -1 with errno (EAGAIN when none). */
PH_API ssize_t ph_sock_recv(int fd, struct ph_addr *src, void *buf,
			    size_t size);
/* Run a probe to its end on a socket whose datagrams are all the probe's
 * (blocking, at most timeout_ms): for standalone programs. ETIMEDOUT when
 * the time ran out first. */
PH_API int ph_sock_probe(int fd, struct ph_probe *p, unsigned timeout_ms);
/* The local address the kernel would use toward dst (no packet sent). */
PH_API int ph_sock_route_src(const struct ph_addr *dst, struct ph_addr *src);
/* The host's monotonic clock in ms. */
PH_API uint64_t ph_now_ms(void);

#endif
