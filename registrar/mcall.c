/* Calls with relay ports: a Call-ID hash over the relay's streams. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <pinhole/media.h>

#include "log.h"
#include "mcall.h"

#define BUCKETS 4096

struct mcalls {
	const struct pconf *conf;
	struct ph_relay *relay;
	struct mcall *bucket[BUCKETS];
};

static unsigned hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h % BUCKETS;
}

int mcalls_alloc(struct mcalls **mp, const struct pconf *conf)
{
	struct mcalls *m = calloc(1, sizeof *m);
	struct ph_relay_conf rc = {
		.addr = conf->relay_addr,
		.port_min = conf->relay_port_min,
		.port_max = conf->relay_port_max,
		.idle_s = conf->relay_idle,
		.threads = conf->relay_threads,
	};
	int err = 0;

	if (!m)
		return ENOMEM;
	m->conf = conf;
	if (!ph_addr_isset(&rc.addr))
		ph_addr_set(&rc.addr, "0.0.0.0", 0);
	if (conf->relay && (err = ph_relay_start(&m->relay, &rc))) {
		log_err("relay: cannot start on ports %u-%u: %s",
			conf->relay_port_min, conf->relay_port_max, strerror(err));
		free(m);
		return err;
	}
	if (m->relay) {
		unsigned used, max;
		ph_relay_usage(m->relay, &used, &max);
		log_info("relay: ports %u-%u, %u streams, %u thread(s), idle %u s",
			 conf->relay_port_min, conf->relay_port_max, max,
			 conf->relay_threads, conf->relay_idle);
	}
	*mp = m;
	return 0;
}

static void forget(struct mcalls *m, struct mcall *c)
{
	for (struct mcall **pp = &m->bucket[hash(c->call_id)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c->call_id);
	free(c);
}

void mcalls_free(struct mcalls *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < BUCKETS; i++)
		while (m->bucket[i])
			forget(m, m->bucket[i]);
	ph_relay_stop(m->relay);
	free(m);
}

struct mcall *mcall_find(struct mcalls *m, const char *call_id)
{
	for (struct mcall *c = m->bucket[hash(call_id)]; c; c = c->next)
		if (!strcmp(c->call_id, call_id))
			return c;
	return NULL;
}

int mcall_reserve(struct mcalls *m, const char *call_id,
		  const struct sdpfw *offer, const struct ph_addr *caller,
		  struct mcall **out)
{
	struct ph_addr face = m->conf->relay_addr;
	struct mcall *c;
	unsigned h;

	if (!m->relay || !offer->n)
		return ENOTSUP;
	if (mcall_find(m, call_id))
		return EEXIST;
	if (!ph_addr_isset(&face) && ph_sock_route_src(caller, &face))
		return ENOTSUP;
	for (unsigned i = 0; i < offer->n; i++)
		if (ph_addr_af(&offer->m[i].media) != ph_addr_af(&face))
			return EAFNOSUPPORT;
	c = calloc(1, sizeof *c);
	if (!c || !(c->call_id = strdup(call_id))) {
		free(c);
		return ENOMEM;
	}
	for (; c->n < offer->n; c->n++) {
		struct ph_addr ports[2];
		int err = ph_relay_alloc(m->relay, &c->id[c->n], ports);

		if (err) {
			while (c->n--)
				ph_relay_free(m->relay, c->id[c->n], NULL);
			free(c->call_id);
			free(c);
			return err;
		}
		for (unsigned l = 0; l < 2; l++) {
			c->port[c->n][l] = face;
			ph_addr_set_port(&c->port[c->n][l], ph_addr_port(&ports[l]));
		}
	}
	h = hash(call_id);
	c->next = m->bucket[h];
	m->bucket[h] = c;
	*out = c;
	return 0;
}

void mcall_expect(struct mcalls *m, struct mcall *c, unsigned leg,
		  const struct route_side *side, const struct sdpfw *sdp)
{
	for (unsigned i = 0; i < c->n && i < sdp->n; i++) {
		struct ph_addr ips[3];
		unsigned n = 0;
		bool moved = ph_addr_isset(&c->media[i][leg]) &&
			     !ph_addr_eq(&c->media[i][leg], &sdp->m[i].media);

		ips[n++] = side->sip_src;
		if (side->has_fw)
			ips[n++] = side->fw.host;
		if (ph_addr_isset(&sdp->m[i].window))
			ips[n++] = sdp->m[i].window;
		c->media[i][leg] = sdp->m[i].media;
		ph_relay_expect(m->relay, c->id[i], leg, ips, n, &sdp->m[i].media,
				moved);
	}
}

void mcall_expect_ips(struct mcalls *m, struct mcall *c, unsigned leg,
		      const struct ph_addr *ips, unsigned n)
{
	for (unsigned i = 0; i < c->n; i++)
		ph_relay_expect(m->relay, c->id[i], leg, ips, n, NULL, false);
}

static void sum(const struct mcall *c, unsigned leg, uint64_t *rx,
		uint64_t *foreign)
{
	*rx = *foreign = 0;
	for (unsigned i = 0; i < c->n; i++) {
		*rx += c->last[i].leg[leg].rx;
		*foreign += c->last[i].leg[leg].foreign;
	}
}

static void report(const struct mcall *c, const char *why)
{
	uint64_t rx[2], foreign[2];
	const char *took;

	sum(c, 0, &rx[0], &foreign[0]);
	sum(c, 1, &rx[1], &foreign[1]);
	if (!rx[0] && !rx[1])
		took = c->route == ROUTE_RELAY ? "none (nothing reached the relay)"
					       : "not the relay";
	else if (c->route == ROUTE_RELAY)
		took = "relay";
	else
		took = "relay (fell back from the direct path)";
	log_notice("call %s: media ended (%s) after %" PRIu64 " s; route %s; "
		   "media took %s; relay received %" PRIu64 " from the caller, "
		   "%" PRIu64 " from the callee, dropped %" PRIu64
		   " from third addresses",
		   c->call_id, why, c->last[0].age_ms / 1000,
		   route_kind_name(c->route), took, rx[0], rx[1],
		   foreign[0] + foreign[1]);
}

void mcall_end(struct mcalls *m, struct mcall *c, const char *why)
{
	for (unsigned i = 0; i < c->n; i++)
		ph_relay_free(m->relay, c->id[i], &c->last[i]);
	report(c, why);
	forget(m, c);
}

void mcalls_tick(struct mcalls *m)
{
	for (unsigned b = 0; m->relay && b < BUCKETS; b++)
		for (struct mcall *c = m->bucket[b], *next; c; c = next) {
			bool live = false;

			next = c->next;
			/* a call still ringing is not idle; an answered
			 * one's counters are kept for its report */
			for (unsigned i = 0; i < c->n; i++)
				if (!c->answered ? !ph_relay_touch(m->relay, c->id[i])
						 : !ph_relay_stats(m->relay, c->id[i], &c->last[i]))
					live = true;
			if (!live) {
				report(c, "idle");
				forget(m, c);
			}
		}
}
