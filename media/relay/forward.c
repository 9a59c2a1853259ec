/* The relay's worker threads: each waits on its own epoll set, takes a
 * batch of datagrams with recvmmsg, latches (RFC 7362) or drops each by
 * its source, and sends the batch on with one sendmmsg; no allocation per
 * packet. Once a second it frees its idle streams. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include "pinhole/media.h"
#include "relay_int.h"

/* Latch or check one datagram's source (RFC 7362 section 5): the first
 * packet from an expected IP latches; later ones must come from there,
 * or from the same IP (a NAT that moved the port). */
static bool accept_from(struct rleg *l, struct rsock *s,
			const struct ph_addr *src)
{
	if (s->latched && ph_addr_eq(&s->peer, src))
		return true;
	if (s->latched ? !ph_addr_ip_eq(&s->peer, src) : !relay_expects(l, src)) {
		l->st.foreign++;
		return false;
	}
	if (s->latched)
		l->st.relatched++;
	s->latched = true;
	s->peer = *src;
	if (s == &l->s[0]) {
		l->st.latched = true;
		l->st.from = *src;
	}
	return true;
}

/* Where media for leg o's component comp goes, or NULL: to its latched
 * source, else to its SDP address when that is trusted. */
static const struct ph_addr *dest_of(struct rleg *o, unsigned comp,
				     struct ph_addr *tmp)
{
	if (o->s[comp].latched)
		return &o->s[comp].peer;
	if (!o->media_ok)
		return NULL;
	*tmp = o->media;
	ph_addr_set_port(tmp, (uint16_t)(ph_addr_port(&o->media) + comp));
	return tmp;
}

static void send_all(struct worker *w, int fd, unsigned n)
{
	unsigned done = 0;

	/* one bad datagram stops sendmmsg: skip it and go on, at most n
	 * times; a full socket buffer drops the rest (it is media: late is
	 * as good as lost) */
	for (unsigned tries = 0; done < n && tries < n; tries++) {
		int k = sendmmsg(fd, w->out + done, n - done, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		done += k > 0 ? (unsigned)k : 1;
	}
}

static void forward(struct worker *w, struct rslot *sl, unsigned leg,
		    unsigned comp, uint64_t now)
{
	struct rleg *l = &sl->leg[leg], *o = &sl->leg[!leg];
	struct rsock *s = &l->s[comp];
	struct ph_addr src, tmp;
	const struct ph_addr *dst;
	unsigned nout = 0;
	int n;

	/* (the receive slots are ready: worker_init, and below after use) */
	n = recvmmsg(s->fd, w->in, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	dst = dest_of(o, comp, &tmp);
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &w->in[i].msg_hdr;
		unsigned len = w->in[i].msg_len;

		if (ph_addr_from_sa(&src, (struct sockaddr *)h->msg_name,
				    h->msg_namelen) ||
		    (h->msg_flags & MSG_TRUNC) || !accept_from(l, s, &src))
			continue;
		l->st.rx++;
		l->st.rx_bytes += len;
		sl->last_ms = now;
		if (!len)
			continue; /* a null packet: it only opens and latches */
		if (!dst) {
			o->st.unlatched++;
			continue;
		}
		w->oiov[nout].iov_base = w->buf[i];
		w->oiov[nout].iov_len = len;
		nout++;
	}
	for (int i = 0; i < n; i++) { /* what recvmmsg wrote, for the next */
		w->iov[i].iov_len = PKT_MAX;
		w->in[i].msg_hdr.msg_namelen = sizeof w->names[i];
	}
	if (!nout)
		return;
	for (unsigned i = 0; i < nout; i++) {
		w->out[i].msg_hdr.msg_name = (void *)&dst->u.sa;
		w->out[i].msg_hdr.msg_namelen = ph_addr_len(dst);
	}
	o->st.tx += nout;
	send_all(w, o->s[comp].fd, nout);
}

static void sweep(struct worker *w, uint64_t now)
{
	struct ph_relay *r = w->r;
	uint64_t idle = (uint64_t)r->conf.idle_s * 1000;

	for (unsigned i = w->idx; i < r->nslots; i += r->nw)
		if (r->slots[i].used && now - r->slots[i].last_ms >= idle)
			relay_slot_free(r, &r->slots[i]);
}

void *relay_worker_main(void *arg)
{
	struct worker *w = arg;
	struct ph_relay *r = w->r;
	struct epoll_event ev[EVENTS];
	uint64_t last_sweep = ph_now_ms();

	while (!atomic_load(&r->stop)) {
		int n = epoll_wait(w->ep, ev, EVENTS, SWEEP_MS);
		uint64_t now = ph_now_ms();

		pthread_mutex_lock(&w->mu);
		for (int i = 0; i < n; i++) {
			uint64_t d = ev[i].data.u64;
			unsigned si = (uint32_t)d >> 2;
			struct rslot *sl;

			if (d == STOP_EVENT || si >= r->nslots)
				continue;
			sl = &r->slots[si];
			if (sl->used && sl->gen == (uint32_t)(d >> 32))
				forward(w, sl, d >> 1 & 1, d & 1, now);
		}
		if (now - last_sweep >= SWEEP_MS) {
			sweep(w, now);
			last_sweep = now;
		}
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}
