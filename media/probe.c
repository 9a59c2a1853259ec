/* The probe: a socket's window, its firewall's mapping and filtering
 * (RFC 5780 section 4, as far as pinholed's addresses allow) and the hop
 * count of PROTOCOL.md section 1, all from that one socket.
 *
 * First a Binding request to the primary port gives the window and
 * OTHER-ADDRESS. Then, at once: CHANGE-REQUEST change-port (and change-IP,
 * if pinholed has a second address) for the filtering, and the hop test
 * for k = 1..8 side by side, each k on its own hop-test port so they
 * cannot disturb each other. Last, requests to the alternate port (and
 * address) for the mapping. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/media.h"

enum {
	T_PRIMARY,
	T_ALT_PORT,
	T_CHANGE_PORT,
	T_ALT_IP,
	T_CHANGE_IP,
	T_HOP,                /* T_HOP + k - 1 for k = 1..8 */
	T_N = T_HOP + PH_HOP_MAX,
};

/* After the last transaction settles, a hop-port answer may still be on
 * its way behind the primary-port answer of the same request. */
#define SETTLE_MS 250

struct ph_probe {
	struct ph_probe_conf conf;
	ph_send_h *sendh;
	void *arg;
	struct ph_stunc t[T_N];
	bool hop_ok[PH_HOP_MAX + 1];
	struct ph_addr other;     /* OTHER-ADDRESS, or primary IP + port + 1 */
	int phase;                /* 1 window, 2 filtering and hops, 3 mapping */
	uint64_t settle_at;       /* PH_NEVER until everything settled */
	bool done;
};

PH_API int ph_probe_alloc(struct ph_probe **pp, const struct ph_probe_conf *c,
			  ph_send_h *sendh, void *arg)
{
	struct ph_probe *p;

	if (!ph_addr_isset(&c->server) || !sendh ||
	    ph_addr_port(&c->server) > 65535 - 1 - PH_HOP_MAX)
		return EINVAL;
	p = calloc(1, sizeof *p);
	if (!p)
		return ENOMEM;
	p->conf = *c;
	p->sendh = sendh;
	p->arg = arg;
	p->settle_at = PH_NEVER;
	*pp = p;
	return 0;
}

PH_API void ph_probe_free(struct ph_probe *p)
{
	free(p);
}

static uint16_t hop_port(const struct ph_probe *p, unsigned k)
{
	return (uint16_t)(ph_addr_port(&p->conf.server) + 1 + k);
}

PH_API int ph_probe_start(struct ph_probe *p, uint64_t now)
{
	return ph_stunc_start(&p->t[T_PRIMARY], &p->conf.stun, &p->conf.server,
			      0, 0, p->sendh, p->arg, now);
}

static void start(struct ph_probe *p, int i, const struct ph_addr *dst,
		  uint32_t change, uint16_t reply_from, uint64_t now)
{
	ph_stunc_start(&p->t[i], &p->conf.stun, dst, change, reply_from,
		       p->sendh, p->arg, now);
}

/* Filtering and hops first: a request to the alternate port (or IP) would
 * itself open our firewall to where the change-port (change-IP) answer
 * comes from, so the mapping tests wait until the filtering tests end. */
static void second_phase(struct ph_probe *p, uint64_t now)
{
	const struct ph_stun_msg *r = &p->t[T_PRIMARY].resp;
	struct ph_addr dst;

	p->phase = 2;
	p->other = p->conf.server;
	ph_addr_set_port(&p->other, ph_addr_port(&p->conf.server) + 1);
	if ((r->present & PH_STUN_HAS_OTHER_ADDRESS) &&
	    ph_addr_af(&r->other_address) == ph_addr_af(&p->conf.server))
		p->other = r->other_address;

	start(p, T_CHANGE_PORT, &p->conf.server, PH_STUN_CHANGE_PORT, 0, now);
	if (!ph_addr_ip_eq(&p->other, &p->conf.server))
		start(p, T_CHANGE_IP, &p->conf.server,
		      PH_STUN_CHANGE_IP | PH_STUN_CHANGE_PORT, 0, now);
	/* PROTOCOL.md section 1: null packet with TTL k to port 3479 + k,
	 * then a full-TTL request asking for an answer from that port. */
	for (unsigned k = 1; k <= PH_HOP_MAX; k++) {
		dst = p->conf.server;
		ph_addr_set_port(&dst, hop_port(p, k));
		p->sendh(&dst, "", 0, (int)k, p->arg);
		start(p, T_HOP + (int)k - 1, &p->conf.server, 0, hop_port(p, k),
		      now);
	}
}

/* The mapping test needs a second port of pinholed that has never sent us
 * an unsolicited packet: where a router answers unsolicited input, such a
 * packet leaves a conntrack entry that makes the NAT give our next packet
 * to that port another mapping, and an EIM NAT would look symmetric. The
 * change-port answer came unasked from the alternate port, so when the
 * TTL-8 hop-test port answered (solicited, its null packet got through),
 * that port is the one to ask. */
static void third_phase(struct ph_probe *p, uint64_t now)
{
	struct ph_addr dst = p->conf.server;

	p->phase = 3;
	ph_addr_set_port(&dst, p->hop_ok[PH_HOP_MAX] ? hop_port(p, PH_HOP_MAX)
						     : ph_addr_port(&p->other));
	start(p, T_ALT_PORT, &dst, 0, 0, now);
	if (!ph_addr_ip_eq(&p->other, &p->conf.server)) {
		dst = p->other;
		ph_addr_set_port(&dst, ph_addr_port(&p->conf.server));
		start(p, T_ALT_IP, &dst, 0, 0, now);
	}
}

PH_API int ph_probe_recv(struct ph_probe *p, const struct ph_addr *src,
			 const uint8_t *buf, size_t len, uint64_t now)
{
	struct ph_stun_msg msg;

	if (!ph_stun_is(buf, len) || ph_stun_decode(&msg, buf, len))
		return ENOENT;
	for (int i = 0; i < T_N; i++) {
		if (p->t[i].state == PH_STUNC_IDLE ||
		    memcmp(msg.tid, p->t[i].tid, PH_STUN_TID_LEN))
			continue;
		if (i >= T_HOP && ph_addr_ip_eq(src, &p->conf.server) &&
		    ph_addr_port(src) == hop_port(p, (unsigned)(i - T_HOP + 1)))
			p->hop_ok[i - T_HOP + 1] = true;
		else
			ph_stunc_recv(&p->t[i], src, &msg);
		ph_probe_tick(p, now);
		return 0;
	}
	return ENOENT;
}

static bool settled(const struct ph_probe *p)
{
	for (int i = 0; i < T_N; i++)
		if (p->t[i].state == PH_STUNC_PENDING)
			return false;
	return true;
}

PH_API void ph_probe_tick(struct ph_probe *p, uint64_t now)
{
	const struct ph_stunc *prim = &p->t[T_PRIMARY];

	if (p->done)
		return;
	for (int i = 0; i < T_N; i++)
		ph_stunc_tick(&p->t[i], p->sendh, p->arg, now);
	if (prim->state == PH_STUNC_TIMEOUT ||
	    (prim->state == PH_STUNC_DONE && prim->resp.cls != PH_STUN_SUCCESS)) {
		p->done = true;
		return;
	}
	if (prim->state == PH_STUNC_DONE && p->phase < 2)
		second_phase(p, now);
	if (p->phase == 2 && settled(p))
		third_phase(p, now);
	if (p->phase == 3 && settled(p)) {
		if (p->settle_at == PH_NEVER)
			p->settle_at = now + SETTLE_MS;
		if (now >= p->settle_at)
			p->done = true;
	}
}

PH_API uint64_t ph_probe_deadline(const struct ph_probe *p)
{
	uint64_t d = p->done ? PH_NEVER : p->settle_at;

	for (int i = 0; !p->done && i < T_N; i++) {
		uint64_t t = ph_stunc_deadline(&p->t[i]);
		if (t < d)
			d = t;
	}
	return d;
}

PH_API bool ph_probe_done(const struct ph_probe *p)
{
	return p->done;
}

static enum ph_mapping mapping(const struct ph_probe *p)
{
	const struct ph_addr *m1 = ph_stunc_window(&p->t[T_PRIMARY]);
	const struct ph_addr *mp = ph_stunc_window(&p->t[T_ALT_PORT]);
	const struct ph_addr *mi = ph_stunc_window(&p->t[T_ALT_IP]);

	if (ph_addr_eq(m1, &p->conf.local))
		return PH_MAP_NONE;
	if (!mp)
		return PH_MAP_UNKNOWN;
	if (!ph_addr_eq(m1, mp))
		return PH_MAP_APDM; /* another port, another window */
	if (mi && !ph_addr_eq(m1, mi))
		return PH_MAP_ADM;
	return PH_MAP_EIM;
}

static enum ph_filtering filtering(const struct ph_probe *p, enum ph_mapping m)
{
	/* RFC 5780 section 4.4: what gets back in from elsewhere. With one
	 * server IP, an answer from another port shows at most
	 * address-dependent filtering; only change-IP can show none/eif. */
	if (ph_stunc_window(&p->t[T_CHANGE_IP]))
		return m == PH_MAP_NONE ? PH_FILT_NONE : PH_FILT_EIF;
	if (ph_stunc_window(&p->t[T_CHANGE_PORT]))
		return PH_FILT_ADF;
	return PH_FILT_APDF;
}

static unsigned hops(const struct ph_probe *p)
{
	for (unsigned k = 1; k <= PH_HOP_MAX; k++)
		if (p->hop_ok[k])
			return k;
	return p->conf.fallback_hops;
}

PH_API int ph_probe_result(const struct ph_probe *p, struct ph_fwwin *w)
{
	const struct ph_addr *m1 = ph_stunc_window(&p->t[T_PRIMARY]);

	if (!p->done)
		return EINPROGRESS;
	if (!m1)
		return ETIMEDOUT;
	memset(w, 0, sizeof *w);
	w->host = *m1;
	ph_addr_set_port(&w->host, 0);
	if (ph_addr_isset(&p->conf.local) && !ph_addr_ip_eq(&p->conf.local, m1)) {
		w->local = p->conf.local;
		ph_addr_set_port(&w->local, 0);
	}
	w->mapping = mapping(p);
	w->filtering = filtering(p, w->mapping);
	w->hops = hops(p);
	w->lifetime = PH_FW_DEFAULT_LIFETIME;
	return 0;
}

PH_API int ph_probe_window(const struct ph_probe *p, struct ph_addr *a)
{
	const struct ph_addr *m1 = ph_stunc_window(&p->t[T_PRIMARY]);

	if (!m1)
		return ETIMEDOUT;
	*a = *m1;
	return 0;
}

static const char *outcome(const struct ph_stunc *t, char *buf, size_t size)
{
	const struct ph_addr *w = ph_stunc_window(t);

	if (t->state == PH_STUNC_IDLE)
		return "not tried";
	if (t->state == PH_STUNC_TIMEOUT)
		return "no answer";
	if (!w)
		return "error answer";
	ph_addr_print(w, buf, size);
	return buf;
}

PH_API int ph_probe_explain(const struct ph_probe *p, char *buf, size_t size)
{
	char a[5][PH_ADDR_STRLEN], srv[PH_ADDR_STRLEN], hop[64] = "";
	size_t n = 0;
	int len;

	ph_addr_print(&p->conf.server, srv, sizeof srv);
	for (unsigned k = 1; k <= PH_HOP_MAX; k++)
		if (p->hop_ok[k])
			n += (size_t)snprintf(hop + n, sizeof hop - n, "%s%u",
					      n ? "," : "", k);
	len = snprintf(buf, size,
		"window: request to %s: mapped to %s\n"
		"mapping: from another port: %s; from the alternate IP: %s\n"
		"filtering: change-port answer: %s; change-IP answer: %s\n"
		"hops: hop-test answers for TTL %s (smallest wins; none: fallback %u)\n",
		srv, outcome(&p->t[T_PRIMARY], a[0], sizeof a[0]),
		outcome(&p->t[T_ALT_PORT], a[1], sizeof a[1]),
		outcome(&p->t[T_ALT_IP], a[2], sizeof a[2]),
		outcome(&p->t[T_CHANGE_PORT], a[3], sizeof a[3]),
		outcome(&p->t[T_CHANGE_IP], a[4], sizeof a[4]),
		n ? hop : "none", p->conf.fallback_hops);
	return len < 0 || (size_t)len >= size ? ENOSPC : 0;
}
