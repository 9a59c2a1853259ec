/* The relay on loopback, real sockets and its real threads: latching,
 * forwarding both ways and from the right port, third addresses dropped
 * and never latched, same-IP re-latching, RTCP on the odd port, the pool
 * running out and coming back, idle streams freed. 127.0.0.2 plays the
 * stranger (all of 127/8 is loopback). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <pinhole/media.h>
#include "relay.h"

static struct ph_relay *r;

/* Ports for the pool that nothing else takes while the test runs: a slot
 * of SLOT ports above the kernel's ephemeral range (no socket bound to
 * port 0 lands there, and the SIPp tests' ports are all below it), claimed
 * against this file's other tests running in parallel (an abstract socket
 * name per slot, released when the process ends), each port free now. */
#define SLOT 16u
static int claim = -1;

static bool slot_free(unsigned base)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	int len, fd[SLOT];
	unsigned i;

	len = snprintf(un.sun_path + 1, sizeof un.sun_path - 1,
		       "pinhole-test_relay-%u", base);
	claim = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(claim, 0);
	if (bind(claim, (struct sockaddr *)&un,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)len))) {
		close(claim);
		claim = -1;
		return false;
	}
	for (i = 0; i < SLOT; i++) {
		struct ph_addr a;

		ph_addr_set(&a, "127.0.0.1", (uint16_t)(base + i));
		fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd[i] < 0)
			break;
		if (bind(fd[i], &a.u.sa, ph_addr_len(&a))) {
			close(fd[i]);
			break;
		}
	}
	bool ok = i == SLOT;
	while (i--)
		close(fd[i]);
	if (!ok) {
		close(claim);
		claim = -1;
	}
	return ok;
}

static unsigned free_ports(unsigned n)
{
	unsigned lo = 32768, hi = 60999, first, last, slots;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	cr_assert_leq(n, SLOT);
	/* above the ephemeral range or, where that leaves too little room,
	 * below it; slots start even (relay pairs do) */
	if (hi + 1 + 20 * SLOT <= 65536)
		first = hi + 1, last = 65535;
	else
		first = 1024, last = lo - 1;
	first = (first + 1) & ~1u;
	slots = last >= first ? (last + 1 - first) / SLOT : 0;
	cr_assert_geq(slots, 20, "no room for test ports outside %u-%u", lo, hi);
	srand((unsigned)getpid() ^ (unsigned)ph_now_ms());
	for (unsigned tries = 0; tries < 200; tries++) {
		unsigned base = first + (unsigned)rand() % slots * SLOT;

		if (slot_free(base))
			return base;
	}
	cr_assert_fail("no %u free ports in %u-%u", SLOT, first, last);
	return 0;
}

/* A pool of `streams` streams at free ports, on ip. */
static void start_at(const char *ip, unsigned streams, unsigned idle_s)
{
	struct ph_relay_conf c = {.idle_s = idle_s, .threads = 2};
	unsigned base = free_ports(4 * streams);

	ph_addr_set(&c.addr, ip, 0);
	c.port_min = (uint16_t)base;
	c.port_max = (uint16_t)(base + 4 * streams - 1);
	cr_assert_eq(ph_relay_start(&r, &c), 0);
}

static void start(unsigned streams, unsigned idle_s)
{
	start_at("127.0.0.1", streams, idle_s);
}

static void stop(void)
{
	ph_relay_stop(r);
	r = NULL;
	if (claim >= 0)
		close(claim);
	claim = -1;
}

static int sock(const char *ip)
{
	struct ph_addr a;
	int fd;

	ph_addr_set(&a, ip, 0);
	cr_assert_eq(ph_sock_open(&fd, &a), 0);
	return fd;
}

static struct ph_addr local_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct ph_addr a;

	getsockname(fd, (struct sockaddr *)&ss, &len);
	ph_addr_from_sa(&a, (struct sockaddr *)&ss, len);
	return a;
}

static void send_to(int fd, const struct ph_addr *dst, const char *s)
{
	cr_assert_eq(ph_sock_send(dst, s, strlen(s), 0, &fd), 0);
}

/* The next datagram within ms, or -1; its text in buf, source in src. */
static ssize_t recv_within(int fd, char *buf, size_t size,
			   struct ph_addr *src, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -1;
	n = ph_sock_recv(fd, src, buf, size - 1);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static void expect_rx(int fd, const char *want, const struct ph_addr *from)
{
	char buf[64];
	struct ph_addr src;

	cr_assert_eq(recv_within(fd, buf, sizeof buf, &src, 1000),
		     (ssize_t)strlen(want), "'%s' did not arrive", want);
	cr_assert_str_eq(buf, want);
	cr_assert(ph_addr_eq(&src, from), "not from the relay port it should be");
}

static void expect_nothing(int fd)
{
	char buf[64];
	struct ph_addr src;

	cr_assert_eq(recv_within(fd, buf, sizeof buf, &src, 200), -1,
		     "'%s' arrived but should not have", buf);
}

static void expect_ip(uint64_t id, unsigned leg, const char *ip)
{
	struct ph_addr a;

	ph_addr_set(&a, ip, 0);
	cr_assert_eq(ph_relay_expect(r, id, leg, &a, 1, NULL, false), 0);
}

/* A stream whose two legs may send from loopback's 127.0.0.1. */
static uint64_t loopback_stream(struct ph_addr port[2])
{
	uint64_t id;

	cr_assert_eq(ph_relay_alloc(r, &id, port), 0);
	expect_ip(id, 0, "127.0.0.1");
	expect_ip(id, 1, "127.0.0.1");
	return id;
}

/* Until the relay's worker has seen what was sent (it runs on its own). */
static struct ph_relay_stats settle(uint64_t id)
{
	struct ph_relay_stats st;

	usleep(50000);
	cr_assert_eq(ph_relay_stats(r, id, &st), 0);
	return st;
}

TestSuite(relay, .fini = stop);

Test(relay, latches_and_forwards_both_ways_from_the_peers_port)
{
	struct ph_addr port[2];
	uint64_t id;
	int a, b;

	start(4, 60);
	a = sock("127.0.0.1");
	b = sock("127.0.0.1");
	id = loopback_stream(port);
	cr_assert_neq(ph_addr_port(&port[0]), ph_addr_port(&port[1]));
	cr_assert_eq(ph_addr_port(&port[0]) % 2, 0, "RTP on an even port");

	/* B has not sent: nowhere to forward A's first packet */
	send_to(a, &port[0], "a1");
	expect_nothing(b);
	cr_assert_eq(settle(id).leg[1].unlatched, 1);

	send_to(b, &port[1], "");        /* B's null packet latches B */
	usleep(50000);                   /* (another socket: no order) */
	send_to(a, &port[0], "a2");
	expect_rx(b, "a2", &port[1]);    /* from the port B sends to */
	send_to(b, &port[1], "b1");
	expect_rx(a, "b1", &port[0]);

	struct ph_relay_stats st = settle(id);
	struct ph_addr la = local_of(a), lb = local_of(b);
	cr_assert_eq(st.leg[0].rx, 2);
	cr_assert_eq(st.leg[1].rx, 2);   /* the null packet and b1 */
	cr_assert_eq(st.leg[0].tx, 1);
	cr_assert_eq(st.leg[1].tx, 1);
	cr_assert(st.leg[0].latched && ph_addr_eq(&st.leg[0].from, &la));
	cr_assert(st.leg[1].latched && ph_addr_eq(&st.leg[1].from, &lb));
	close(a);
	close(b);
}

/* On every address (relay_address unset), each leg's media leaves from
 * the address that leg sends to: B sends to 127.0.0.2, where routing
 * would pick 127.0.0.1 toward it, as the host with two addresses does. */
Test(relay, each_leg_hears_from_the_address_it_sends_to)
{
	struct ph_addr port[2], at_a, at_b;
	uint64_t id;
	int a, b;

	start_at("0.0.0.0", 4, 60);
	a = sock("127.0.0.1");
	b = sock("127.0.0.1");
	id = loopback_stream(port);
	ph_addr_set(&at_a, "127.0.0.1", ph_addr_port(&port[0]));
	ph_addr_set(&at_b, "127.0.0.2", ph_addr_port(&port[1]));
	send_to(a, &at_a, "");
	send_to(b, &at_b, "");
	usleep(50000);
	send_to(a, &at_a, "a1");
	expect_rx(b, "a1", &at_b);       /* not from 127.0.0.1 */
	send_to(b, &at_b, "b1");
	expect_rx(a, "b1", &at_a);
	cr_assert_eq(settle(id).leg[1].tx, 1);
	close(a);
	close(b);
}

Test(relay, a_third_address_is_dropped_counted_and_never_latched)
{
	struct ph_addr port[2];
	uint64_t id;
	int a, b, x;

	start(4, 60);
	a = sock("127.0.0.1");
	b = sock("127.0.0.1");
	x = sock("127.0.0.2");
	id = loopback_stream(port);

	/* first to A's port: not A's IP, so it does not latch */
	send_to(x, &port[0], "x1");
	send_to(b, &port[1], "b0");
	usleep(50000);
	send_to(a, &port[0], "a1");
	expect_rx(b, "a1", &port[1]);
	/* and after A latched: still nothing from x gets through, either way */
	send_to(x, &port[0], "x2");
	send_to(x, &port[1], "x3");
	expect_nothing(b);
	expect_nothing(a);
	expect_nothing(x);

	struct ph_relay_stats st = settle(id);
	struct ph_addr la = local_of(a);
	cr_assert_eq(st.leg[0].foreign, 2);
	cr_assert_eq(st.leg[1].foreign, 1);
	cr_assert(ph_addr_eq(&st.leg[0].from, &la), "the stranger latched");
	close(a);
	close(b);
	close(x);
}

Test(relay, same_ip_relatches_rtcp_uses_the_odd_port)
{
	struct ph_addr port[2], rtcp[2];
	uint64_t id;
	int a, a2, b;

	start(4, 60);
	a = sock("127.0.0.1");
	a2 = sock("127.0.0.1");          /* A behind a NAT that moved its port */
	b = sock("127.0.0.1");
	id = loopback_stream(port);
	send_to(a, &port[0], "");
	send_to(a2, &port[0], "a2");
	usleep(50000);
	send_to(b, &port[1], "b1");
	expect_rx(a2, "b1", &port[0]);
	expect_nothing(a);
	cr_assert_eq(settle(id).leg[0].relatched, 1);

	for (unsigned i = 0; i < 2; i++) {
		rtcp[i] = port[i];
		ph_addr_set_port(&rtcp[i], (uint16_t)(ph_addr_port(&port[i]) + 1));
	}
	send_to(b, &rtcp[1], "");
	usleep(50000);
	send_to(a, &rtcp[0], "rtcp-a");
	expect_rx(b, "rtcp-a", &rtcp[1]);
	close(a);
	close(a2);
	close(b);
}

Test(relay, sends_to_the_sdp_address_before_latching_only_when_trusted)
{
	struct ph_addr port[2], ip, mb;
	uint64_t id;
	int a, b;

	start(4, 60);
	a = sock("127.0.0.1");
	b = sock("127.0.0.1");
	cr_assert_eq(ph_relay_alloc(r, &id, port), 0);
	ph_addr_set(&ip, "127.0.0.1", 0);
	mb = local_of(b);
	cr_assert_eq(ph_relay_expect(r, id, 0, &ip, 1, NULL, false), 0);
	cr_assert_eq(ph_relay_expect(r, id, 1, &ip, 1, &mb, false), 0);
	send_to(a, &port[0], "a1");
	expect_rx(b, "a1", &port[1]);

	/* an SDP address at an IP the side is not known at: not trusted */
	ph_addr_set(&ip, "127.0.0.3", 0);
	cr_assert_eq(ph_relay_expect(r, id, 1, &ip, 1, &mb, true), 0);
	send_to(a, &port[0], "a2");
	expect_nothing(b);
	close(a);
	close(b);
}

Test(relay, an_exhausted_pool_says_ebusy_and_recovers)
{
	struct ph_addr port[2];
	uint64_t id[3];
	unsigned used, max;

	start(2, 60);
	cr_assert_eq(ph_relay_alloc(r, &id[0], port), 0);
	cr_assert_eq(ph_relay_alloc(r, &id[1], port), 0);
	cr_assert_eq(ph_relay_alloc(r, &id[2], port), EBUSY);
	ph_relay_usage(r, &used, &max);
	cr_assert_eq(used, 2);
	cr_assert_eq(max, 2);
	cr_assert_eq(ph_relay_free(r, id[0], NULL), 0);
	cr_assert_eq(ph_relay_free(r, id[0], NULL), ENOENT, "freed twice");
	cr_assert_eq(ph_relay_stats(r, id[0], &(struct ph_relay_stats){0}), ENOENT);
	cr_assert_eq(ph_relay_alloc(r, &id[2], port), 0);
	cr_assert_neq(id[2], id[0], "a reused slot gets a new id");
}

/* Can port be bound on loopback now? */
static bool port_free(unsigned port)
{
	struct ph_addr a;
	int fd;

	ph_addr_set(&a, "127.0.0.1", (uint16_t)port);
	if (ph_sock_open(&fd, &a))
		return false;
	close(fd);
	return true;
}

/* Ports another program holds are passed over, however many: here all
 * but two pairs of 200 (a stream takes two; the search starts anywhere). */
Test(relay, ports_held_by_others_are_passed_over)
{
	struct ph_relay_conf c = {.idle_s = 60, .threads = 1};
	struct ph_addr port[2];
	static int held[200];
	unsigned base = 0, n = 0;
	uint64_t id;

	/* 400 ports in 2000-9799 (below the ephemeral range and the SIPp
	 * tests' ports), where pairs 57 and 143 are free; the others held
	 * here (or by anyone else: the same to it) */
	srand((unsigned)getpid() ^ (unsigned)ph_now_ms());
	for (unsigned tries = 0; tries < 100 && !base; tries++) {
		base = 2000 + 2 * ((unsigned)rand() % 3700);
		if (!port_free(base + 114) || !port_free(base + 115) ||
		    !port_free(base + 286) || !port_free(base + 287))
			base = 0;
	}
	cr_assert_neq(base, 0, "no room for the test's ports");
	for (unsigned p = 0; p < 200; p++) {
		struct ph_addr a;

		ph_addr_set(&a, "127.0.0.1", (uint16_t)(base + 2 * p));
		if (p != 57 && p != 143 && !ph_sock_open(&held[n], &a))
			n++;
	}
	ph_addr_set(&c.addr, "127.0.0.1", 0);
	c.port_min = (uint16_t)base;
	c.port_max = (uint16_t)(base + 399);
	cr_assert_eq(ph_relay_start(&r, &c), 0);
	cr_assert_eq(ph_relay_alloc(r, &id, port), 0,
		     "the two free pairs of 200 were not found");
	cr_assert(ph_addr_port(&port[0]) == base + 2 * 57 ||
		  ph_addr_port(&port[0]) == base + 2 * 143);
	cr_assert_eq(ph_relay_alloc(r, &id, port), EBUSY, "none is left");
	while (n)
		close(held[--n]);
}

/* No file descriptor left is said as such, not as ports exhausted. */
Test(relay, no_file_descriptor_left_is_said_so)
{
	struct ph_addr port[2];
	struct rlimit old, low;
	uint64_t id;
	int next;

	start(2, 60);
	next = dup(0);
	cr_assert_geq(next, 0);
	close(next);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)next;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	cr_assert_eq(ph_relay_alloc(r, &id, port), EMFILE);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	cr_assert_eq(ph_relay_alloc(r, &id, port), 0);
}

Test(relay, an_idle_stream_is_freed, .timeout = 10)
{
	struct ph_addr port[2];
	struct ph_relay_stats st;
	uint64_t id;
	int i;

	start(2, 1);
	cr_assert_eq(ph_relay_alloc(r, &id, port), 0);
	for (i = 0; i < 40 && !ph_relay_stats(r, id, &st); i++)
		usleep(100000);
	cr_assert_eq(ph_relay_stats(r, id, &st), ENOENT, "still there after 4 s");
	cr_assert_geq(i, 9, "freed before its idle time (%d00 ms)", i);
	cr_assert_eq(ph_relay_alloc(r, &id, port), 0);
}

/* The kernel's ephemeral range as pinholed and pinhole-relayd read it to
 * warn about a relay_ports that overlaps it; the default pool stays
 * below Linux's default range. */
Test(relay, ephemeral_range_read_and_overlap)
{
	char path[] = "/tmp/ph-eph.XXXXXX";
	int fd = mkstemp(path);
	unsigned lo = 0, hi = 0;

	cr_assert(fd >= 0);
	cr_assert(write(fd, "32768\t60999\n", 12) == 12);
	close(fd);
	cr_assert_eq(ph_relay_ephemeral(path, &lo, &hi), 0);
	cr_assert_eq(lo, 32768);
	cr_assert_eq(hi, 60999);
	cr_assert(!ph_relay_ephemeral_overlap(PH_RELAY_PORT_MIN,
					      PH_RELAY_PORT_MAX, path, &lo, &hi));
	cr_assert(ph_relay_ephemeral_overlap(30000, 39999, path, &lo, &hi));
	cr_assert(ph_relay_ephemeral_overlap(60999, 61010, path, &lo, &hi));
	cr_assert(!ph_relay_ephemeral_overlap(61000, 61010, path, &lo, &hi));
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	cr_assert(write(fd, "60999 32768\n", 12) == 12);
	close(fd);
	cr_assert_eq(ph_relay_ephemeral(path, &lo, &hi), EINVAL);
	cr_assert(!ph_relay_ephemeral_overlap(30000, 39999, path, &lo, &hi),
		  "an unreadable range is no overlap");
	unlink(path);
	cr_assert_eq(ph_relay_ephemeral(path, &lo, &hi), ENOENT);
}

/* A stream kept across a restart: a new relay takes the same ports again,
 * latched where the old one was, and forwards to the latched leg before
 * it sends again; ports taken or outside the pool are refused. */
Test(relay, a_stream_is_adopted_on_its_ports_and_latches_again)
{
	struct ph_addr port[2], la;
	struct ph_relay_stats st;
	uint16_t want[2];
	uint64_t id, id2;
	int a, b;

	start(4, 60);
	a = sock("127.0.0.1");
	b = sock("127.0.0.1");
	la = local_of(a);
	id = loopback_stream(port);
	want[0] = ph_addr_port(&port[0]);
	want[1] = ph_addr_port(&port[1]);
	cr_assert_eq(ph_relay_adopt(r, want, &id2), EADDRINUSE, "ports in use");
	cr_assert_eq(ph_relay_free(r, id, NULL), 0);
	want[0]++; /* an odd port is no pair's RTP port */
	cr_assert_eq(ph_relay_adopt(r, want, &id2), ERANGE);
	want[0]--;

	cr_assert_eq(ph_relay_adopt(r, want, &id), 0);
	expect_ip(id, 0, "127.0.0.1");
	expect_ip(id, 1, "127.0.0.1");
	cr_assert_eq(ph_relay_latch(r, id, 0, &la), 0);
	/* A was latched before: B's media reaches it at once */
	send_to(b, &port[1], "b1");
	expect_rx(a, "b1", &port[0]);
	send_to(a, &port[0], "a1");
	expect_rx(b, "a1", &port[1]);
	st = settle(id);
	cr_assert(st.leg[0].latched && ph_addr_eq(&st.leg[0].from, &la));
	cr_assert_eq(st.leg[0].relatched, 0);
	close(a);
	close(b);
}
