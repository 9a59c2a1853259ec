/* The fd adapter: libpinhole's send hook and receive helper over a plain
 * non-blocking UDP socket, for pinhole-probe and test endpoints. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "pinhole/media.h"

PH_API uint64_t ph_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

PH_API int ph_sock_open(int *fdp, const struct ph_addr *bind_to)
{
	int fd = socket(ph_addr_af(bind_to), SOCK_DGRAM | SOCK_NONBLOCK |
						     SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return errno;
	if (bind(fd, &bind_to->u.sa, ph_addr_len(bind_to)) < 0) {
		err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

PH_API int ph_sock_send(const struct ph_addr *dst, const void *buf,
			size_t len, int ttl, void *arg)
{
	int fd = *(int *)arg;
	union { struct cmsghdr c; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {
		.msg_name = (void *)&dst->u.sa, .msg_namelen = ph_addr_len(dst),
		.msg_iov = &iov, .msg_iovlen = 1,
	};

	if (ttl > 0) {
		memset(&ctl, 0, sizeof ctl);
		mh.msg_control = &ctl;
		mh.msg_controllen = sizeof ctl;
		ctl.c.cmsg_len = CMSG_LEN(sizeof(int));
		if (ph_addr_af(dst) == AF_INET) {
			ctl.c.cmsg_level = IPPROTO_IP;
			ctl.c.cmsg_type = IP_TTL;
		} else {
			ctl.c.cmsg_level = IPPROTO_IPV6;
			ctl.c.cmsg_type = IPV6_HOPLIMIT;
		}
		memcpy(CMSG_DATA(&ctl.c), &ttl, sizeof ttl);
	}
	return sendmsg(fd, &mh, 0) < 0 ? errno : 0;
}

PH_API ssize_t ph_sock_recv(int fd, struct ph_addr *src, void *buf,
			    size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	ssize_t n = recvfrom(fd, buf, size, 0, (struct sockaddr *)&ss, &sl);

	if (n >= 0 && ph_addr_from_sa(src, (struct sockaddr *)&ss, sl)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return n;
}

/* One socket per address family and thread, bound once. connect() on an
 * unbound UDP socket first binds it to a free ephemeral port, a search
 * that grows with the UDP sockets bound on the host: with a relay's
 * thousands of ports (in the ephemeral range by default) it took a tenth
 * of pinholed's CPU at 2,500 calls a second, one lookup per call. A bound
 * socket's connect() only picks the route and source, and connecting it
 * to AF_UNSPEC undoes that (its port stays, its address goes back to
 * the wildcard). */
static __thread int route_fd[2] = {-1, -1};

static int route_sock(int af, int *fdp)
{
	int *fd = &route_fd[af == AF_INET6];
	struct ph_addr any;
	int err;

	if (*fd >= 0) {
		*fdp = *fd;
		return 0;
	}
	ph_addr_set(&any, af == AF_INET6 ? "::" : "0.0.0.0", 0);
	*fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return errno;
	if (bind(*fd, &any.u.sa, ph_addr_len(&any)) < 0) {
		err = errno;
		close(*fd);
		*fd = -1;
		return err;
	}
	*fdp = *fd;
	return 0;
}

PH_API int ph_sock_route_src(const struct ph_addr *dst, struct ph_addr *src)
{
	struct sockaddr_storage ss;
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	socklen_t sl = sizeof ss;
	int fd = -1, err = route_sock(ph_addr_af(dst), &fd);

	if (err)
		return err;
	/* connect() on UDP only picks a route and source; nothing is sent */
	if (connect(fd, &dst->u.sa, ph_addr_len(dst)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		err = errno;
	else
		err = ph_addr_from_sa(src, (struct sockaddr *)&ss, sl);
	connect(fd, &unspec, sizeof unspec);
	if (!err)
		ph_addr_set_port(src, 0);
	return err;
}

PH_API int ph_sock_probe(int fd, struct ph_probe *p, unsigned timeout_ms)
{
	uint64_t end = ph_now_ms() + timeout_ms;
	int err = ph_probe_start(p, ph_now_ms());

	while (!err && !ph_probe_done(p)) {
		uint64_t now = ph_now_ms(), d = ph_probe_deadline(p);
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		uint8_t buf[1500];
		struct ph_addr src;
		ssize_t n;

		if (now >= end)
			return ETIMEDOUT;
		if (d > end)
			d = end;
		if (poll(&pf, 1, d > now ? (int)(d - now) : 0) > 0)
			while ((n = ph_sock_recv(fd, &src, buf, sizeof buf)) >= 0)
				ph_probe_recv(p, &src, buf, (size_t)n, ph_now_ms());
		ph_probe_tick(p, ph_now_ms());
	}
	return err;
}
