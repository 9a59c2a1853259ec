/* STUN sockets. Each answer leaves from the socket of the port it names
 * and, on wildcard sockets, with the IP the request was sent to as its
 * source (IP_PKTINFO / IPV6_PKTINFO), so RESPONSE-ORIGIN tells the truth
 * on a multi-homed host. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/errqueue.h>

#include "log.h"
#include "stunsock.h"

#define SOCKS_PER_ADDR 10         /* stun, alternate, 8 hop-test ports */
#define MAX_SOCKS ((CONF_MAX_LISTEN + 1) * SOCKS_PER_ADDR)
#define RECV_BATCH 32             /* datagrams read per wake-up at most */

struct ssock {
	struct stunsock *ss;
	int fd;
	struct ph_addr bound;
	su_wait_t wait[1];
	int reg;
};

struct stunsock {
	su_root_t *root;
	struct stund *stund;
	int bufsize;
	struct ssock socks[MAX_SOCKS];
	unsigned n;
};

uint64_t stunsock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool is_wildcard(const struct ph_addr *a)
{
	if (ph_addr_af(a) == AF_INET)
		return a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
}

/* The local address a datagram was sent to, from its pktinfo. */
static void local_from_cmsg(struct msghdr *mh, const struct ssock *s,
			    struct ph_addr *local)
{
	*local = s->bound;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			local->u.in.sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			local->u.in6.sin6_addr = pi.ipi6_addr;
		}
	}
}

/* ICMP port unreachable sent by the very IP our datagram went to (not a
 * router on the way): its host, or the NAT in front of it, refused it. */
static bool refused_by_dst(struct msghdr *mh, const struct ph_addr *dst)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct sock_extended_err ee;
		struct ph_addr off;
		bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;

		if (!v4 && !(c->cmsg_level == IPPROTO_IPV6 &&
			     c->cmsg_type == IPV6_RECVERR))
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof ee);
		if (v4 ? ee.ee_origin != SO_EE_ORIGIN_ICMP || ee.ee_type != 3 ||
			 ee.ee_code != 3 /* RFC 792: port unreachable */
		       : ee.ee_origin != SO_EE_ORIGIN_ICMP6 || ee.ee_type != 1 ||
			 ee.ee_code != 4) /* RFC 4443 */
			continue;
		if (c->cmsg_len < CMSG_LEN(sizeof ee + sizeof(struct sockaddr)))
			continue;
		if (ph_addr_from_sa(&off, (struct sockaddr *)
				    (CMSG_DATA(c) + sizeof ee),
				    c->cmsg_len - CMSG_LEN(sizeof ee)))
			continue;
		return ph_addr_ip_eq(&off, dst);
	}
	return false;
}

/* IP_RECVERR queues the ICMP errors our answers drew: read them all (a
 * pending one would wake us again and again), note those stund cares for. */
static void read_errors(struct ssock *s)
{
	for (int i = 0; i < RECV_BATCH; i++) {
		uint8_t buf[64];
		union { struct cmsghdr c; char b[256]; } ctl;
		struct sockaddr_storage to;
		struct iovec iov = {buf, sizeof buf};
		struct msghdr mh = {
			.msg_name = &to, .msg_namelen = sizeof to,
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = &ctl, .msg_controllen = sizeof ctl,
		};
		struct ph_addr dst;

		if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		if (!ph_addr_from_sa(&dst, (struct sockaddr *)&to, mh.msg_namelen) &&
		    refused_by_dst(&mh, &dst))
			stund_refused(s->ss->stund, &s->bound, &dst,
				      stunsock_now_ms());
	}
}

static int on_readable(su_root_magic_t *magic, su_wait_t *w,
		       su_wakeup_arg_t *arg)
{
	struct ssock *s = (struct ssock *)arg;

	/* the error queue wakes us with POLLERR: no syscall for it otherwise */
	if (su_wait_events(w, s->fd) & SU_WAIT_ERR)
		read_errors(s);
	for (int i = 0; i < RECV_BATCH; i++) {
		uint8_t buf[1500];
		union { struct cmsghdr c; char b[128]; } ctl;
		struct sockaddr_storage from;
		struct iovec iov = {buf, sizeof buf};
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof from,
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = &ctl, .msg_controllen = sizeof ctl,
		};
		struct ph_addr src, local;
		ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT);

		/* with IP_RECVERR an ICMP error is also reported once here */
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			continue;
		if (n < 0)
			break;
		if (ph_addr_from_sa(&src, (struct sockaddr *)&from, mh.msg_namelen))
			continue;
		local_from_cmsg(&mh, s, &local);
		stund_recv(s->ss->stund, &local, &src, buf, (size_t)n,
			   stunsock_now_ms());
	}
	return 0;
}

int stunsock_sendfd(int fd, const struct ph_addr *from,
		    const struct ph_addr *dst, const void *buf, size_t len)
{
	union { struct cmsghdr c; char b[64]; } ctl;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {
		.msg_name = (void *)&dst->u.sa, .msg_namelen = ph_addr_len(dst),
		.msg_iov = &iov, .msg_iovlen = 1,
	};

	memset(&ctl, 0, sizeof ctl);
	if (from && ph_addr_isset(from) && !is_wildcard(from)) {
		struct cmsghdr *c = &ctl.c;

		mh.msg_control = &ctl;
		if (ph_addr_af(from) == AF_INET) {
			struct in_pktinfo pi = {.ipi_spec_dst = from->u.in.sin_addr};
			mh.msg_controllen = CMSG_SPACE(sizeof pi);
			c->cmsg_level = IPPROTO_IP;
			c->cmsg_type = IP_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(c), &pi, sizeof pi);
		} else {
			struct in6_pktinfo pi = {.ipi6_addr = from->u.in6.sin6_addr};
			mh.msg_controllen = CMSG_SPACE(sizeof pi);
			c->cmsg_level = IPPROTO_IPV6;
			c->cmsg_type = IPV6_PKTINFO;
			c->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(c), &pi, sizeof pi);
		}
	}
	return sendmsg(fd, &mh, MSG_DONTWAIT) < 0 ? errno : 0;
}

/* An ICMP error queued on the socket (IP_RECVERR) fails its next send
 * once with that error, whoever the send is for: read the queue, and send
 * again. */
static int send_on(struct ssock *s, const struct ph_addr *from,
		   const struct ph_addr *dst, const void *buf, size_t len)
{
	const struct ph_addr *src = is_wildcard(&s->bound) ? from : NULL;
	int err = stunsock_sendfd(s->fd, src, dst, buf, len);

	if (err && err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
		read_errors(s);
		err = stunsock_sendfd(s->fd, src, dst, buf, len);
	}
	return err;
}

int stunsock_send(struct stunsock *ss, const struct ph_addr *from,
		  const struct ph_addr *dst, const void *buf, size_t len)
{
	for (unsigned i = 0; i < ss->n; i++) {
		const struct ph_addr *b = &ss->socks[i].bound;

		if (ph_addr_af(b) != ph_addr_af(dst) ||
		    ph_addr_port(b) != ph_addr_port(from))
			continue;
		if (is_wildcard(b) || ph_addr_ip_eq(b, from))
			return send_on(&ss->socks[i], from, dst, buf, len);
	}
	return ENOENT;
}

static int open_sock(struct stunsock *ss, const struct ph_addr *ip,
		     uint16_t port)
{
	struct ssock *s = &ss->socks[ss->n];
	int af = ph_addr_af(ip), on = 1, err;
	char a[PH_ADDR_STRLEN];

	s->ss = ss;
	s->bound = *ip;
	ph_addr_set_port(&s->bound, port);
	s->fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return errno;
	if (af == AF_INET6)
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &ss->bufsize,
		       sizeof ss->bufsize) < 0)
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &ss->bufsize,
			   sizeof ss->bufsize);
	if (af == AF_INET) {
		setsockopt(s->fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
		setsockopt(s->fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
	} else {
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
		setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
	}
	if (bind(s->fd, &s->bound.u.sa, ph_addr_len(&s->bound)) < 0) {
		err = errno;
		ph_addr_print(&s->bound, a, sizeof a);
		log_err("stun: cannot bind UDP %s: %s", a, strerror(err));
		close(s->fd);
		return err;
	}
	if (su_wait_create(s->wait, s->fd, SU_WAIT_IN) < 0 ||
	    (s->reg = su_root_register(ss->root, s->wait, on_readable,
				       (su_wakeup_arg_t *)s, 0)) < 0) {
		close(s->fd);
		return ENOMEM;
	}
	ss->n++;
	return 0;
}

/* stun_port .. stun_port + 9 on one address. */
static int open_addr(struct stunsock *ss, const struct ph_addr *ip,
		     uint16_t base)
{
	for (unsigned k = 0; k < SOCKS_PER_ADDR; k++) {
		int err = open_sock(ss, ip, (uint16_t)(base + k));
		if (err)
			return err;
	}
	return 0;
}

int stunsock_alloc(struct stunsock **ssp, su_root_t *root,
		   const struct pconf *conf, struct stund *stund)
{
	struct stunsock *ss = calloc(1, sizeof *ss);
	int err = 0;

	if (!ss)
		return ENOMEM;
	ss->root = root;
	ss->stund = stund;
	ss->bufsize = (int)conf->udp_buffer;
	for (unsigned i = 0; i < conf->n_listen && !err; i++)
		err = open_addr(ss, &conf->listen[i], conf->stun_port);
	/* The alternate address answers change-IP (RFC 5780 section 6.1). */
	if (!err && ph_addr_isset(&conf->stun_alt)) {
		err = open_sock(ss, &conf->stun_alt, conf->stun_port);
		if (!err)
			err = open_sock(ss, &conf->stun_alt, conf->stun_port + 1);
	}
	if (err) {
		stunsock_free(ss);
		return err;
	}
	*ssp = ss;
	return 0;
}

void stunsock_free(struct stunsock *ss)
{
	if (!ss)
		return;
	for (unsigned i = 0; i < ss->n; i++) {
		su_root_deregister(ss->root, ss->socks[i].reg);
		close(ss->socks[i].fd);
	}
	free(ss);
}
