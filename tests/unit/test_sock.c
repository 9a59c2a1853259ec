/* The fd adapter on loopback: a datagram leaves with the TTL (IPv6: hop
 * limit) asked for, and the next one with the socket's default again. */
#include <criterion/criterion.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <pinhole/media.h>

/* Receive one datagram and the TTL it arrived with. */
static int recv_ttl(int fd, size_t *len)
{
	union { struct cmsghdr c; char b[64]; } ctl;
	char buf[64];
	struct iovec iov = {buf, sizeof buf};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = &ctl, .msg_controllen = sizeof ctl};
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	cr_assert_eq(poll(&p, 1, 1000), 1, "nothing arrived");
	n = recvmsg(fd, &mh, 0);
	cr_assert_geq(n, 0);
	*len = (size_t)n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
			int ttl;
			memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
			return ttl;
		}
	cr_assert_fail("no TTL on the datagram");
	return -1;
}

static void check_family(const char *ip)
{
	struct ph_addr a, rx;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int tx_fd, rx_fd, on = 1, def;
	size_t len;

	ph_addr_set(&a, ip, 0);
	cr_assert_eq(ph_sock_open(&tx_fd, &a), 0);
	cr_assert_eq(ph_sock_open(&rx_fd, &a), 0);
	getsockname(rx_fd, (struct sockaddr *)&ss, &sl);
	ph_addr_from_sa(&rx, (struct sockaddr *)&ss, sl);
	if (ph_addr_af(&a) == AF_INET)
		setsockopt(rx_fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
	else
		setsockopt(rx_fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);

	cr_assert_eq(ph_sock_send(&rx, "", 0, 3, &tx_fd), 0);
	cr_assert_eq(recv_ttl(rx_fd, &len), 3);
	cr_assert_eq(len, 0, "a null packet has no payload");
	cr_assert_eq(ph_sock_send(&rx, "rtp", 3, 0, &tx_fd), 0);
	def = recv_ttl(rx_fd, &len);
	cr_assert_gt(def, 3, "the TTL was for that one datagram only");
	cr_assert_eq(len, 3);
	close(tx_fd);
	close(rx_fd);
}

Test(sock, ipv4_ttl_per_datagram)
{
	check_family("127.0.0.1");
}

Test(sock, ipv6_hop_limit_per_datagram)
{
	struct ph_addr a;
	int fd;

	ph_addr_set(&a, "::1", 0);
	if (ph_sock_open(&fd, &a)) {
		cr_skip_test("no ::1 on this host");
		return;
	}
	close(fd);
	check_family("::1");
}
