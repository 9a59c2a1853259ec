/* A media stream's path through the firewalls (PROTOCOL.md sections 4
 * and 7): the opener's hop-limited null packet, latching on the peer's
 * first packet (RFC 4961, RFC 7362), the fall back to the reserved relay,
 * keepalives on idle sockets (RFC 6263 section 4.1) and consent (RFC 7675). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pinhole/media.h"

static int send_null(struct ph_path *p, const struct ph_addr *dst, int ttl,
		     uint64_t now)
{
	p->last_tx_ms = now;
	p->stats.nulls_sent++;
	return p->sendh(dst, "", 0, ttl, p->arg);
}

PH_API int ph_path_start(struct ph_path *p, const struct ph_punch *punch,
			 unsigned hops, unsigned lifetime_s, ph_send_h *sendh,
			 void *arg, uint64_t now)
{
	if (!sendh || !punch || !ph_addr_isset(&punch->peer) ||
	    punch->role == PH_ROLE_NONE)
		return EINVAL;
	memset(p, 0, sizeof *p);
	p->role = punch->role;
	p->peer = punch->peer;
	p->relay = punch->relay;
	p->target = punch->peer;
	p->hops = hops;
	p->lifetime_s = lifetime_s ? lifetime_s : PH_FW_DEFAULT_LIFETIME;
	p->sendh = sendh;
	p->arg = arg;
	p->stats.start_ms = now;
	p->last_rx_ms = now;
	p->last_tx_ms = now;
	p->state = p->role == PH_ROLE_RELAY ? PH_PATH_RELAYED : PH_PATH_WAITING;

	/* The opener's null packet dies between the two firewalls: it opens
	 * ours without reaching the peer's, where an early packet could take
	 * the peer's port (PROTOCOL.md section 4, "Why the TTL"). */
	if (p->role == PH_ROLE_OPEN)
		return send_null(p, &p->peer, (int)hops, now);
	/* relay: an outbound packet first, so every firewall lets replies in */
	if (p->role == PH_ROLE_RELAY)
		return send_null(p, &p->peer, 0, now);
	return 0;
}

static void fall_back(struct ph_path *p, uint64_t now)
{
	p->state = PH_PATH_RELAYED;
	p->stats.fell_back = true;
	p->target = p->relay;
	p->last_rx_ms = now; /* consent starts again with the relay */
	send_null(p, &p->relay, 0, now);
}

PH_API bool ph_path_recv(struct ph_path *p, const struct ph_addr *src,
			 size_t len, uint64_t now)
{
	const struct ph_addr *from_ip =
		p->state == PH_PATH_RELAYED ? &p->target : &p->peer;

	/* RFC 7362 section 4: latch only on the expected source IP; anything
	 * else is dropped and counted, never latched. */
	if (p->state == PH_PATH_IDLE || !ph_addr_ip_eq(src, from_ip)) {
		p->stats.dropped++;
		return false;
	}
	p->last_rx_ms = now;
	if (p->state == PH_PATH_WAITING) {
		p->state = PH_PATH_LATCHED;
		p->target = *src; /* its actual port: the window its NAT chose */
	} else if (p->state == PH_PATH_NO_CONSENT) {
		p->state = PH_PATH_LATCHED;
	}
	if (!len)
		return false; /* a null packet: keeps windows open, no media */
	if (!p->stats.received++)
		p->stats.first_rx_ms = now;
	return true;
}

PH_API const struct ph_addr *ph_path_target(const struct ph_path *p)
{
	if (p->state == PH_PATH_IDLE || p->state == PH_PATH_NO_CONSENT ||
	    !ph_addr_isset(&p->target))
		return NULL;
	return &p->target;
}

PH_API int ph_path_send(struct ph_path *p, const void *buf, size_t len,
			uint64_t now)
{
	const struct ph_addr *dst = ph_path_target(p);

	if (!dst)
		return ENOTCONN;
	p->last_tx_ms = now;
	p->stats.sent++;
	return p->sendh(dst, buf, len, 0, p->arg);
}

PH_API int ph_path_host_send(struct ph_path *p, uint64_t now)
{
	if (p->state == PH_PATH_IDLE || p->state == PH_PATH_NO_CONSENT)
		return ENOTCONN;
	if (p->role == PH_ROLE_OPEN && p->state == PH_PATH_WAITING)
		return EAGAIN;
	p->last_tx_ms = now;
	p->stats.sent++;
	return 0;
}

PH_API void ph_path_tick(struct ph_path *p, uint64_t now)
{
	if (p->state == PH_PATH_IDLE)
		return;
	if (p->state == PH_PATH_WAITING &&
	    now - p->stats.start_ms >= PH_FALLBACK_MS &&
	    ph_addr_isset(&p->relay)) {
		fall_back(p, now);
		return;
	}
	if (p->state != PH_PATH_NO_CONSENT &&
	    now - p->last_rx_ms >= PH_CONSENT_MS) {
		p->state = PH_PATH_NO_CONSENT;
		return;
	}
	/* RFC 6263 4.1: keep the bindings of an idle socket alive */
	if (p->state != PH_PATH_NO_CONSENT &&
	    now - p->last_tx_ms >= (uint64_t)p->lifetime_s * 1000 / 2)
		send_null(p, &p->target, 0, now);
}

PH_API uint64_t ph_path_deadline(const struct ph_path *p)
{
	uint64_t keep = p->last_tx_ms + (uint64_t)p->lifetime_s * 1000 / 2;
	uint64_t consent = p->last_rx_ms + PH_CONSENT_MS;
	uint64_t d = keep < consent ? keep : consent;

	if (p->state == PH_PATH_IDLE || p->state == PH_PATH_NO_CONSENT)
		return PH_NEVER;
	if (p->state == PH_PATH_WAITING && ph_addr_isset(&p->relay) &&
	    p->stats.start_ms + PH_FALLBACK_MS < d)
		d = p->stats.start_ms + PH_FALLBACK_MS;
	return d;
}
