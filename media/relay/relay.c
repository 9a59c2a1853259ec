/* The media relay: port pool, latching (RFC 7362) and forwarding, on
 * worker threads with batched socket I/O.
 *
 * Streams live in a fixed array of slots that is never freed while the
 * relay runs, so an epoll event that outlives its stream still points at
 * valid memory; its data carries the slot's generation, and a stale event
 * (the slot freed or reused since) is ignored. Slot i belongs to worker
 * i % threads; that worker's mutex guards the slot, and the worker holds
 * it while it handles a batch of events, so control calls wait at most
 * one batch. Lock order: a worker's mutex, then the pool's. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "pinhole/media.h"
#include "relay_int.h"

/* ---- the pool -------------------------------------------------------- */

static void pair_release(struct ph_relay *r, unsigned pair)
{
	pthread_mutex_lock(&r->pool_mu);
	r->pair_used[pair] = 0;
	pthread_mutex_unlock(&r->pool_mu);
}

static int open_port(const struct ph_relay *r, uint16_t port, int *fdp)
{
	struct ph_addr a = r->conf.addr;
	int fd, on = 1, size = (int)r->conf.sock_buffer;

	ph_addr_set_port(&a, port);
	fd = socket(ph_addr_af(&a), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (size) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	}
	/* each datagram's local address: a leg's media goes back from the
	 * address it sends to (a NAT drops it from any other), not from the
	 * one routing picks on a host with several */
	if (ph_addr_af(&a) == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
	if (bind(fd, &a.u.sa, ph_addr_len(&a)) < 0) {
		int err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* Pair p, marked used, bound into l (both its ports). */
static int pair_open(struct ph_relay *r, unsigned p, struct rleg *l)
{
	uint16_t port = (uint16_t)(r->first_port + 2 * p);
	int err = open_port(r, port, &l->s[0].fd);

	if (!err && (err = open_port(r, (uint16_t)(port + 1), &l->s[1].fd))) {
		close(l->s[0].fd);
		l->s[0].fd = -1;
	}
	if (!err)
		l->pair = p;
	return err;
}

/* A pair's ports held by another program are passed over, this many at
 * most per call: a relay beside others (rtpengine, another pinholed, a
 * phone's media) finds the pairs it can have, in a bounded time */
#define PAIR_TRIES 256

/* A free pair whose two ports both bind; the next after the last one
 * taken, so a freed port is not handed out again at once (stale media
 * from the last call must not find the next one). EBUSY when none is
 * free or binds; no file descriptor or memory left is said as such
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM), not as ports exhausted. */
static int pair_take(struct ph_relay *r, struct rleg *l)
{
	for (unsigned tries = 0; tries < PAIR_TRIES; tries++) {
		int err;
		unsigned p = 0, k;

		pthread_mutex_lock(&r->pool_mu);
		for (k = 0; k < r->npairs; k++) {
			p = (r->pair_cursor + k) % r->npairs;
			if (!r->pair_used[p])
				break;
		}
		if (k == r->npairs) {
			pthread_mutex_unlock(&r->pool_mu);
			return EBUSY;
		}
		r->pair_used[p] = 1;
		r->pair_cursor = (p + 1) % r->npairs;
		pthread_mutex_unlock(&r->pool_mu);

		if (!(err = pair_open(r, p, l)))
			return 0;
		pair_release(r, p);
		if (err != EADDRINUSE && err != EACCES)
			return err;
		/* held by another program: the next one */
	}
	return EBUSY;
}

/* The pair whose RTP port is `port`, when the pool has it and it is free
 * (a stream kept across a restart): ERANGE outside the pool, EADDRINUSE
 * when taken, or bind's error. */
static int pair_claim(struct ph_relay *r, uint16_t port, struct rleg *l)
{
	unsigned p = (unsigned)(port - r->first_port) / 2;
	int err = 0;

	if (port < r->first_port || port % 2 != r->first_port % 2 ||
	    p >= r->npairs)
		return ERANGE;
	pthread_mutex_lock(&r->pool_mu);
	if (r->pair_used[p])
		err = EADDRINUSE;
	else
		r->pair_used[p] = 1;
	pthread_mutex_unlock(&r->pool_mu);
	if (!err && (err = pair_open(r, p, l)))
		pair_release(r, p);
	return err;
}

/* ---- slots ----------------------------------------------------------- */

static void leg_close(struct ph_relay *r, struct rleg *l)
{
	for (unsigned c = 0; c < 2; c++)
		if (l->s[c].fd >= 0) {
			close(l->s[c].fd); /* leaves the epoll set too */
			l->s[c].fd = -1;
		}
	pair_release(r, l->pair);
}

static void fill_stats(const struct rslot *sl, struct ph_relay_stats *st,
		       uint64_t now)
{
	st->leg[0] = sl->leg[0].st;
	st->leg[1] = sl->leg[1].st;
	st->age_ms = now - sl->born_ms;
	st->idle_ms = now - sl->last_ms;
}

void relay_slot_free(struct ph_relay *r, struct rslot *sl)
{
	leg_close(r, &sl->leg[0]);
	leg_close(r, &sl->leg[1]);
	sl->used = false;
	sl->gen++;
	pthread_mutex_lock(&r->pool_mu);
	sl->taken = false;
	r->used--;
	pthread_mutex_unlock(&r->pool_mu);
}

/* ---- control --------------------------------------------------------- */

static struct rslot *slot_get(struct ph_relay *r, uint64_t id,
			      struct worker **wp)
{
	unsigned si = (uint32_t)id;
	struct rslot *sl;

	if (si >= r->nslots)
		return NULL;
	*wp = worker_of(r, si);
	pthread_mutex_lock(&(*wp)->mu);
	sl = &r->slots[si];
	if (sl->used && sl->gen == (uint32_t)(id >> 32))
		return sl;
	pthread_mutex_unlock(&(*wp)->mu);
	return NULL;
}

/* A stream on any free ports (want NULL) or on these RTP ports. */
static int stream_open(struct ph_relay *r, const uint16_t *want, uint64_t *id,
		       struct ph_addr ports[2])
{
	struct rslot *sl = NULL;
	struct worker *w;
	struct rleg legs[2];
	unsigned si = 0;
	int err = 0;

	pthread_mutex_lock(&r->pool_mu);
	for (unsigned k = 0; k < r->nslots && !sl; k++) {
		si = (r->slot_cursor + k) % r->nslots;
		if (!r->slots[si].taken)
			sl = &r->slots[si];
	}
	if (sl) {
		r->slot_cursor = (si + 1) % r->nslots;
		sl->taken = true; /* its worker ignores it until it is used */
		r->used++;
	}
	pthread_mutex_unlock(&r->pool_mu);
	if (!sl)
		return EBUSY;

	memset(legs, 0, sizeof legs);
	for (unsigned l = 0; l < 2; l++)
		legs[l].s[0].fd = legs[l].s[1].fd = -1;
	err = want ? pair_claim(r, want[0], &legs[0]) : pair_take(r, &legs[0]);
	if (!err && (err = want ? pair_claim(r, want[1], &legs[1])
				: pair_take(r, &legs[1])))
		leg_close(r, &legs[0]);
	w = worker_of(r, si);
	pthread_mutex_lock(&w->mu);
	if (err) {
		pthread_mutex_unlock(&w->mu);
		pthread_mutex_lock(&r->pool_mu);
		sl->taken = false;
		r->used--;
		pthread_mutex_unlock(&r->pool_mu);
		return err;
	}
	sl->leg[0] = legs[0];
	sl->leg[1] = legs[1];
	sl->used = true;
	sl->born_ms = sl->last_ms = ph_now_ms();
	for (unsigned l = 0; l < 2; l++)
		for (unsigned c = 0; c < 2; c++) {
			struct epoll_event ev = {.events = EPOLLIN,
				.data.u64 = ev_data(sl->gen, si, l, c)};
			if (epoll_ctl(w->ep, EPOLL_CTL_ADD, sl->leg[l].s[c].fd, &ev))
				err = errno;
		}
	for (unsigned l = 0; l < 2; l++) {
		ports[l] = r->conf.addr;
		ph_addr_set_port(&ports[l],
				 (uint16_t)(r->first_port + 2 * sl->leg[l].pair));
	}
	*id = (uint64_t)sl->gen << 32 | si;
	if (err)
		relay_slot_free(r, sl);
	pthread_mutex_unlock(&w->mu);
	return err;
}

int ph_relay_alloc(struct ph_relay *r, uint64_t *id,
			  struct ph_addr ports[2])
{
	return stream_open(r, NULL, id, ports);
}

int ph_relay_adopt(struct ph_relay *r, const uint16_t port[2], uint64_t *id)
{
	struct ph_addr ports[2];

	return stream_open(r, port, id, ports);
}

int ph_relay_latch(struct ph_relay *r, uint64_t id, unsigned leg,
		   const struct ph_addr *from)
{
	struct worker *w;
	struct rslot *sl = leg < 2 ? slot_get(r, id, &w) : NULL;
	struct rleg *l;

	if (!sl)
		return ENOENT;
	l = &sl->leg[leg];
	l->s[0].latched = l->st.latched = true;
	l->s[0].peer = l->st.from = *from;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int ph_relay_expect(struct ph_relay *r, uint64_t id, unsigned leg,
			   const struct ph_addr *ips, unsigned n,
			   const struct ph_addr *media, bool relatch)
{
	struct worker *w;
	struct rslot *sl = leg < 2 ? slot_get(r, id, &w) : NULL;
	struct rleg *l;

	if (!sl)
		return ENOENT;
	l = &sl->leg[leg];
	l->n_expect = 0;
	for (unsigned i = 0; i < n && l->n_expect < PH_RELAY_MAX_EXPECT; i++)
		if (ph_addr_isset(&ips[i]))
			l->expect[l->n_expect++] = ips[i];
	l->media_ok = media && ph_addr_isset(media) && ph_addr_port(media) &&
		      relay_expects(l, media);
	if (media)
		l->media = *media;
	if (relatch)
		l->s[0].latched = l->s[1].latched = false;
	sl->last_ms = ph_now_ms();
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int ph_relay_touch(struct ph_relay *r, uint64_t id)
{
	struct worker *w;
	struct rslot *sl = slot_get(r, id, &w);

	if (!sl)
		return ENOENT;
	sl->last_ms = ph_now_ms();
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int ph_relay_stats(struct ph_relay *r, uint64_t id,
			  struct ph_relay_stats *st)
{
	struct worker *w;
	struct rslot *sl = slot_get(r, id, &w);

	if (!sl)
		return ENOENT;
	fill_stats(sl, st, ph_now_ms());
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int ph_relay_free(struct ph_relay *r, uint64_t id,
			 struct ph_relay_stats *st)
{
	struct worker *w;
	struct rslot *sl = slot_get(r, id, &w);

	if (!sl)
		return ENOENT;
	if (st)
		fill_stats(sl, st, ph_now_ms());
	relay_slot_free(r, sl);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void ph_relay_usage(struct ph_relay *r, unsigned *used, unsigned *max)
{
	pthread_mutex_lock(&r->pool_mu);
	*used = r->used;
	*max = r->nslots;
	pthread_mutex_unlock(&r->pool_mu);
}

/* ---- life ------------------------------------------------------------ */

static int worker_init(struct ph_relay *r, struct worker *w, unsigned idx)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STOP_EVENT};

	w->r = r;
	w->idx = idx;
	pthread_mutex_init(&w->mu, NULL);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->evfd < 0 ||
	    epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev))
		return errno;
	for (unsigned i = 0; i < BATCH; i++) {
		w->iov[i].iov_base = w->buf[i];
		w->iov[i].iov_len = PKT_MAX;
		w->in[i].msg_hdr.msg_namelen = sizeof w->names[i];
		w->in[i].msg_hdr.msg_iov = &w->iov[i];
		w->in[i].msg_hdr.msg_iovlen = 1;
		w->in[i].msg_hdr.msg_name = &w->names[i];
		w->in[i].msg_hdr.msg_control = &w->ictl[i];
		w->in[i].msg_hdr.msg_controllen = sizeof w->ictl[i];
		w->out[i].msg_hdr.msg_iov = &w->oiov[i];
		w->out[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

int ph_relay_start(struct ph_relay **rp, const struct ph_relay_conf *c)
{
	struct ph_relay *r;
	unsigned first, last;
	int err = 0;

	if (!c || !ph_addr_isset(&c->addr) || c->threads < 1 || c->threads > 16 ||
	    c->port_min > c->port_max || !c->idle_s)
		return EINVAL;
	first = (c->port_min + 1u) & ~1u;
	last = c->port_max;
	if (last < first + 3) /* at least one stream: two pairs */
		return EINVAL;
	r = calloc(1, sizeof *r);
	if (!r)
		return ENOMEM;
	r->conf = *c;
	r->first_port = (uint16_t)first;
	r->npairs = (last - first + 1) / 2;
	r->nslots = r->npairs / 2;
	r->nw = c->threads;
	r->pair_used = calloc(r->npairs, 1);
	r->slots = calloc(r->nslots, sizeof *r->slots);
	r->w = calloc(r->nw, sizeof *r->w);
	pthread_mutex_init(&r->pool_mu, NULL);
	if (!r->pair_used || !r->slots || !r->w) {
		err = ENOMEM;
		goto fail;
	}
	/* start the pool somewhere random, so ports are not guessable */
	r->pair_cursor = (unsigned)((uintptr_t)r >> 4 ^ ph_now_ms()) % r->npairs;
	for (unsigned i = 0; i < r->nslots; i++)
		for (unsigned l = 0; l < 2; l++)
			r->slots[i].leg[l].s[0].fd = r->slots[i].leg[l].s[1].fd = -1;
	for (unsigned i = 0; i < r->nw; i++) {
		r->w[i].ep = r->w[i].evfd = -1;
		if ((err = worker_init(r, &r->w[i], i)))
			goto fail;
	}
	for (unsigned i = 0; i < r->nw; i++) {
		if ((err = pthread_create(&r->w[i].th, NULL, relay_worker_main, &r->w[i])))
			goto fail;
		r->w[i].started = true;
	}
	*rp = r;
	return 0;
fail:
	ph_relay_stop(r);
	return err;
}

void ph_relay_stop(struct ph_relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	for (unsigned i = 0; r->w && i < r->nw; i++) {
		uint64_t one = 1;
		if (r->w[i].evfd >= 0 && write(r->w[i].evfd, &one, sizeof one) < 0)
			continue;
	}
	for (unsigned i = 0; r->w && i < r->nw; i++)
		if (r->w[i].started)
			pthread_join(r->w[i].th, NULL);
	for (unsigned i = 0; r->slots && i < r->nslots; i++)
		if (r->slots[i].used) {
			leg_close(r, &r->slots[i].leg[0]);
			leg_close(r, &r->slots[i].leg[1]);
		}
	for (unsigned i = 0; r->w && i < r->nw; i++) {
		if (r->w[i].ep >= 0)
			close(r->w[i].ep);
		if (r->w[i].evfd >= 0)
			close(r->w[i].evfd);
		pthread_mutex_destroy(&r->w[i].mu);
	}
	pthread_mutex_destroy(&r->pool_mu);
	free(r->w);
	free(r->slots);
	free(r->pair_used);
	free(r);
}
