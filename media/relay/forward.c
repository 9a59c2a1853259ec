/* The relay's worker threads: each waits on its own epoll set, takes a
 * batch of datagrams with recvmmsg, latches (RFC 7362) or drops each by
 * its source, and sends the batch on with one sendmmsg; no allocation per
 * packet. Each leg's media leaves from the local address that leg's own
 * packets arrive at (IP_PKTINFO), so that on a host with several addresses
 * a NAT in front of it sees the address it sent to. Once a second it frees
 * its idle streams. */
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

/* The local address a datagram arrived at (its IP_PKTINFO or
 * IPV6_PKTINFO; port 0), or unset when it came without one. */
static void local_of(struct msghdr *h, struct ph_addr *local)
{
	memset(local, 0, sizeof *local);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			local->u.in.sin_family = AF_INET;
			local->u.in.sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			local->u.in6.sin6_family = AF_INET6;
			local->u.in6.sin6_addr = pi.ipi6_addr;
		}
	}
}

/* The control message that makes a batch to leg o leave from the address
 * o's packets arrive at (the one it was told): its latest on this
 * component, else on the other (it has not sent RTCP yet). Its length, 0
 * when o has sent nothing yet (the source is routing's choice then). */
static size_t source_ctl(union pktctl *ctl, const struct rleg *o,
			 unsigned comp)
{
	const struct ph_addr *a = ph_addr_isset(&o->s[comp].local)
				  ? &o->s[comp].local : &o->s[!comp].local;
	struct cmsghdr *c = &ctl->c;

	memset(ctl, 0, sizeof *ctl);
	if (ph_addr_af(a) == AF_INET) {
		struct in_pktinfo pi = {.ipi_spec_dst = a->u.in.sin_addr};
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
		return CMSG_SPACE(sizeof pi);
	}
	if (ph_addr_af(a) == AF_INET6) {
		struct in6_pktinfo pi = {.ipi6_addr = a->u.in6.sin6_addr};
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
		return CMSG_SPACE(sizeof pi);
	}
	return 0;
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
	size_t ctl_len;
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
		local_of(h, &s->local);
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
		w->in[i].msg_hdr.msg_controllen = sizeof w->ictl[i];
	}
	if (!nout)
		return;
	ctl_len = source_ctl(&w->octl, o, comp);
	for (unsigned i = 0; i < nout; i++) { /* one source, one control */
		w->out[i].msg_hdr.msg_name = (void *)&dst->u.sa;
		w->out[i].msg_hdr.msg_namelen = ph_addr_len(dst);
		w->out[i].msg_hdr.msg_control = ctl_len ? &w->octl : NULL;
		w->out[i].msg_hdr.msg_controllen = ctl_len;
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
