/* The in-process relay backend: libpinhole's relay engine on pinholed's
 * relay_* keys. Its reservations complete at once. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pinhole/media.h>

#include "log.h"
#include "relayctl.h"

struct internal {
	struct relayctl base;
	struct ph_relay *relay;
	struct ph_addr addr;      /* relay_address; unset: per call */
};

static struct ph_relay *engine(struct relayctl *r)
{
	return ((struct internal *)r)->relay;
}

/* The IP a leg is told: relay_address, else the one routing picks toward
 * that leg (a host with several addresses): the relay's sockets take
 * every address, and a leg's media leaves from the one it sends to. */
static int face(struct internal *in, const struct ph_addr *toward,
		struct ph_addr *out)
{
	*out = in->addr;
	if (ph_addr_isset(out))
		return 0;
	return ph_sock_route_src(toward, out) ? ENOTSUP : 0;
}

static void internal_alloc(struct relayctl *r, unsigned n,
			   const struct ph_addr *media,
			   const struct ph_addr *toward, relay_grant_h *h,
			   void *arg)
{
	struct internal *in = (struct internal *)r;
	struct relay_grant g = {0};
	struct ph_addr at;
	int err = n && n <= RELAYCTL_MAX_STREAMS ? face(in, toward, &at) : ENOTSUP;

	for (unsigned i = 0; i < n && !err; i++)
		if (ph_addr_af(&media[i]) != ph_addr_af(&at))
			err = EAFNOSUPPORT;
	for (; g.n < n && !err; g.n++) {
		struct ph_addr ports[2];

		if ((err = ph_relay_alloc(in->relay, &g.id[g.n], ports)))
			break;
		for (unsigned l = 0; l < 2; l++) {
			g.port[g.n][l] = at;
			ph_addr_set_port(&g.port[g.n][l], ph_addr_port(&ports[l]));
		}
	}
	if (err)
		while (g.n)
			ph_relay_free(in->relay, g.id[--g.n], NULL);
	h(err, err ? NULL : &g, arg);
}

static int internal_expect(struct relayctl *r, uint64_t id, unsigned leg,
			   const struct ph_addr *ips, unsigned n,
			   const struct ph_addr *media, bool relatch)
{
	return ph_relay_expect(engine(r), id, leg, ips, n, media, relatch);
}

static int internal_touch(struct relayctl *r, uint64_t id)
{
	return ph_relay_touch(engine(r), id);
}

static int internal_stats(struct relayctl *r, uint64_t id,
			  struct ph_relay_stats *st)
{
	return ph_relay_stats(engine(r), id, st);
}

static int internal_free(struct relayctl *r, uint64_t id,
			 struct ph_relay_stats *st)
{
	return ph_relay_free(engine(r), id, st);
}

static void internal_destroy(struct relayctl *r)
{
	ph_relay_stop(engine(r));
	free(r);
}

static int internal_face(struct relayctl *r, const struct ph_addr *toward,
			 struct ph_addr *out)
{
	return face((struct internal *)r, toward, out);
}

static int internal_adopt(struct relayctl *r, const struct ph_addr port[2],
			  const struct ph_addr latched[2], uint64_t *id)
{
	uint16_t p[2] = {ph_addr_port(&port[0]), ph_addr_port(&port[1])};
	int err = ph_relay_adopt(engine(r), p, id);

	for (unsigned l = 0; l < 2 && !err; l++)
		if (ph_addr_isset(&latched[l]))
			err = ph_relay_latch(engine(r), *id, l, &latched[l]);
	return err;
}

static const struct relayctl_ops internal_ops = {
	"internal", internal_alloc, internal_expect, internal_touch,
	internal_stats, internal_free, internal_destroy, internal_face,
	internal_adopt,
};

int relayctl_internal_alloc(struct relayctl **rp, const struct pconf *conf)
{
	struct ph_relay_conf rc = {
		.addr = conf->relay_addr,
		.port_min = conf->relay_port_min,
		.port_max = conf->relay_port_max,
		.idle_s = conf->relay_idle,
		.threads = conf->relay_threads,
	};
	struct internal *in;
	unsigned used, max, lo, hi;
	int err;

	*rp = NULL;
	if (!conf->relay)
		return 0;
	if (!(in = calloc(1, sizeof *in)))
		return ENOMEM;
	in->base.ops = &internal_ops;
	in->addr = conf->relay_addr;
	if (!ph_addr_isset(&rc.addr))
		ph_addr_set(&rc.addr, "0.0.0.0", 0);
	if ((err = ph_relay_start(&in->relay, &rc))) {
		log_err("relay: cannot start on ports %u-%u: %s",
			conf->relay_port_min, conf->relay_port_max, strerror(err));
		free(in);
		return err;
	}
	ph_relay_usage(in->relay, &used, &max);
	log_info("relay: ports %u-%u, %u streams, %u thread(s), idle %u s",
		 conf->relay_port_min, conf->relay_port_max, max,
		 conf->relay_threads, conf->relay_idle);
	if (ph_relay_ephemeral_overlap(conf->relay_port_min,
				       conf->relay_port_max, NULL, &lo, &hi))
		log_warn("relay: relay_ports %u-%u overlap the kernel's ephemeral "
			 "ports %u-%u (%s): the relay and outgoing connections "
			 "take ports from each other; pick a range outside it",
			 conf->relay_port_min, conf->relay_port_max, lo, hi,
			 PH_EPHEMERAL_PATH);
	*rp = &in->base;
	return 0;
}
