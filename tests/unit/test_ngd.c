/* pinhole-relayd's commands (media/relay/ngd.c) over a real relay engine
 * on loopback: an ng offer and answer set a call up, media flows both ways
 * through the ports the SDP replies name, a third address is dropped,
 * query counts, delete ends it; broken requests get error replies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinhole/media.h>
#include "bencode.h"
#include "ngd.h"
#include "ngsdp.h"
#include "relay.h"

static struct ph_relay *r;
static struct ngd *d;
static char out[65536];

static void setup(void)
{
	struct ph_relay_conf c = {.idle_s = 30, .threads = 1};
	struct ph_addr adv;
	unsigned base;

	/* the pool skips ports another program holds */
	srand((unsigned)getpid());
	base = 20000 + (unsigned)rand() % 150 * 64;
	ph_addr_set(&c.addr, "127.0.0.1", 0);
	c.port_min = (uint16_t)base;
	c.port_max = (uint16_t)(base + 63);
	cr_assert_eq(ph_relay_start(&r, &c), 0);
	ph_addr_set(&adv, "127.0.0.1", 0);
	cr_assert_eq(ngd_alloc(&d, r, &adv), 0);
}

static void teardown(void)
{
	ngd_free(d);
	ph_relay_stop(r);
}

TestSuite(ngd, .init = setup, .fini = teardown);

/* The reply to "COOKIE MSG", checked to start with the cookie. */
static struct benc req(const char *msg)
{
	char in[4096];
	struct ph_addr src;
	struct benc v;
	size_t n, len = (size_t)snprintf(in, sizeof in, "c42 %s", msg);

	ph_addr_set(&src, "127.0.0.1", 9);
	ngd_request(d, &src, in, len, out, sizeof out, &n);
	cr_assert_gt(n, 4);
	cr_assert_eq(memcmp(out, "c42 ", 4), 0);
	cr_assert_eq(benc_parse(&v, out + 4, n - 4), 0, "%.*s", (int)n, out);
	return v;
}

static bool result_is(const struct benc *v, const char *res)
{
	struct benc x;

	return !benc_get(v, "result", &x) && benc_str_eq(&x, res);
}

static int sock(const char *ip, struct ph_addr *at)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct ph_addr a;
	int fd;

	ph_addr_set(&a, ip, 0);
	cr_assert_eq(ph_sock_open(&fd, &a), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	ph_addr_from_sa(at, (struct sockaddr *)&ss, len);
	return fd;
}

static struct ph_addr sdp_port(const struct benc *v)
{
	struct ph_addr m[NGSDP_MAX_MEDIA];
	const char *s;
	size_t len;
	unsigned n;

	cr_assert_eq(benc_get_str(v, "sdp", &s, &len), 0);
	cr_assert_eq(ngsdp_read(s, len, m, NGSDP_MAX_MEDIA, &n), 0);
	return m[0];
}

static const char *offer(char *buf, size_t size, const char *cmd,
			 const struct ph_addr *media, const char *extra)
{
	char sdp[256];
	int k = snprintf(sdp, sizeof sdp, "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
			 "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP 0\r\n", ph_addr_port(media));

	snprintf(buf, size, "d7:call-id2:c17:command%zu:%s8:from-tag1:a%s"
		 "3:sdp%d:%s%se", strlen(cmd), cmd, extra, k, sdp,
		 cmd[0] == 'a' ? "6:to-tag1:b" : "");
	return buf;
}

static unsigned pass(int from, const struct ph_addr *to, int at, unsigned n)
{
	char buf[200];
	unsigned got = 0;

	for (unsigned i = 0; i < n; i++) {
		struct pollfd p = {.fd = at, .events = POLLIN};
		ph_sock_send(to, "rtp-ish!", 8, 0, &from);
		if (poll(&p, 1, 200) == 1 && recv(at, buf, sizeof buf, 0) == 8)
			got++;
	}
	return got;
}

Test(ngd, ping_and_broken_requests)
{
	struct benc v = req("d7:command4:pinge");
	struct ph_addr src;
	size_t n;

	cr_assert(result_is(&v, "pong"));
	cr_assert_eq(benc_get(&v, "pinhole", &(struct benc){0}), 0);
	v = req("d7:command4:pin");
	cr_assert(result_is(&v, "error"));
	v = req("d7:command5:frobs7:call-id1:xe");
	cr_assert(result_is(&v, "error"));
	v = req("d7:command5:query7:call-id1:xe");
	cr_assert(result_is(&v, "error"));
	v = req("d7:command5:offer7:call-id1:x8:from-tag1:a3:sdp3:v=0e");
	cr_assert(result_is(&v, "error"));
	v = req("d7:command6:answer7:call-id1:x8:from-tag1:a6:to-tag1:b"
		"3:sdp45:c=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\ne");
	cr_assert(result_is(&v, "error")); /* an answer to no offer */
	ph_addr_set(&src, "127.0.0.1", 9);
	ngd_request(d, &src, "nocookie", 8, out, sizeof out, &n);
	cr_assert_eq(n, 0);
	cr_assert_eq(ngd_count(d), 0);
}

Test(ngd, commands_only_from_controllers)
{
	struct ph_addr ctl, other;
	size_t n;

	ph_addr_set(&ctl, "127.0.0.1", 0);
	ph_addr_set(&other, "127.0.0.2", 9);
	ngd_request(d, &other, "c1 d7:command4:pinge", 20, out, sizeof out, &n);
	cr_assert_gt(n, 0); /* none allowed: any */
	cr_assert_eq(ngd_allow(d, &ctl), 0);
	ngd_request(d, &other, "c1 d7:command4:pinge", 20, out, sizeof out, &n);
	cr_assert_eq(n, 0);
	req("d7:command4:pinge"); /* from 127.0.0.1, port 9: answered */
}

Test(ngd, offer_answer_media_query_delete)
{
	struct ph_addr a_at, b_at, x_at, to_a_side, to_b_side;
	int a = sock("127.0.0.1", &a_at), b = sock("127.0.0.1", &b_at);
	int x = sock("127.0.0.2", &x_at);
	char m[1024];
	struct benc v, tags, tag, medias, it = {0}, st, pk, ph, fo;
	int64_t rx = 0, foreign = 0;

	/* each side is told where it sends: the offer's reply, the callee */
	v = req(offer(m, sizeof m, "offer", &a_at,
		      "14:pinhole-expectl9:127.0.0.1e"));
	cr_assert(result_is(&v, "ok"));
	to_b_side = sdp_port(&v);
	v = req(offer(m, sizeof m, "answer", &b_at,
		      "14:pinhole-expectl9:127.0.0.1e"));
	cr_assert(result_is(&v, "ok"));
	to_a_side = sdp_port(&v);
	cr_assert_neq(ph_addr_port(&to_a_side), ph_addr_port(&to_b_side));
	cr_assert_eq(ngd_count(d), 1);

	cr_assert_eq(pass(a, &to_a_side, b, 5), 5);
	cr_assert_eq(pass(b, &to_b_side, a, 5), 5);
	/* from an address neither side is at: dropped */
	cr_assert_eq(pass(x, &to_a_side, b, 3), 0);

	v = req("d7:command5:query7:call-id2:c1e");
	cr_assert(result_is(&v, "ok"));
	cr_assert_eq(benc_get(&v, "tags", &tags), 0);
	cr_assert_eq(benc_get(&tags, "a", &tag), 0);
	cr_assert_eq(benc_get(&tag, "medias", &medias), 0);
	cr_assert_eq(benc_next(&medias, &it), 0);
	cr_assert_eq(benc_get(&it, "streams", &st), 0);
	it = (struct benc){0};
	cr_assert_eq(benc_next(&st, &it), 0);
	cr_assert_eq(benc_get(&it, "stats", &pk), 0);
	cr_assert_eq(benc_get(&pk, "packets", &pk), 0);
	cr_assert_eq(benc_int(&pk, &rx), 0);
	cr_assert_eq(rx, 5);
	cr_assert_eq(benc_get(&it, "pinhole", &ph), 0);
	cr_assert_eq(benc_get(&ph, "foreign", &fo), 0);
	cr_assert_eq(benc_int(&fo, &foreign), 0);
	cr_assert_eq(foreign, 3);

	v = req("d7:command6:delete7:call-id2:c1e");
	cr_assert(result_is(&v, "ok"));
	cr_assert_eq(ngd_count(d), 0);
	v = req("d7:command5:query7:call-id2:c1e");
	cr_assert(result_is(&v, "error"));
	cr_assert_eq(pass(a, &to_a_side, b, 1), 0);
	close(a);
	close(b);
	close(x);
}
