/* The STUN service core: answers, their source ports, the hop test's
 * second answer, CHANGE-REQUEST, errors, and the memory of sources. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pinhole/stun.h>

#include "stund.h"

#define MAX_SENT 8

static struct sent {
	struct ph_addr from, dst;
	struct ph_stun_msg msg;
} sent[MAX_SENT];
static unsigned nsent;
static size_t bytes_out;
static bool known;

static int capture(const struct ph_addr *from, const struct ph_addr *dst,
		   const void *buf, size_t len, void *arg)
{
	cr_assert_lt(nsent, MAX_SENT);
	bytes_out += len;
	sent[nsent].from = *from;
	sent[nsent].dst = *dst;
	cr_assert_eq(ph_stun_decode(&sent[nsent].msg, buf, len), 0);
	nsent++;
	return 0;
}

static const uint8_t zeros[256];
static struct stund *sd;
static struct ph_addr local, client;

static bool known_h(const struct ph_addr *src, void *arg)
{
	return known;
}

static void setup(void)
{
	struct stund_conf c = {.port = 3478, .memory = 4, .memory_ms = 300000,
			       .memory_per_prefix = 2, .refused_ms = 7200000,
			       .known_h = known_h};

	nsent = 0;
	bytes_out = 0;
	known = false;
	cr_assert_eq(stund_alloc(&sd, &c, capture, NULL), 0);
	ph_addr_set(&local, "203.0.113.1", 3478);
	ph_addr_set(&client, "198.51.100.2", 40000);
}

static void teardown(void)
{
	stund_free(sd);
}

TestSuite(stund, .init = setup, .fini = teardown);

static size_t request(uint8_t *buf, size_t size, uint32_t change,
		      uint16_t reply_from, uint16_t unknown_attr)
{
	struct ph_stun_enc e;
	uint8_t tid[PH_STUN_TID_LEN];
	size_t len;

	ph_stun_tid_new(tid);
	ph_stun_enc_init(&e, buf, size, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	if (change)
		ph_stun_enc_u32(&e, PH_STUN_ATTR_CHANGE_REQUEST, change);
	if (reply_from)
		ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM, reply_from);
	if (unknown_attr)
		ph_stun_enc_u32(&e, unknown_attr, 0);
	/* what libpinhole's requests carry: PADDING that pays the answer */
	ph_stun_enc_raw(&e, PH_STUN_ATTR_PADDING, zeros,
			PH_STUN_FULL_ANSWER_LEN(&client) * (reply_from ? 2 : 1) -
				(e.len + 4 + PH_STUN_FP_LEN));
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	return len;
}

/* A request of exactly len bytes: header, PADDING, FINGERPRINT or not. */
static size_t sized(uint8_t *buf, size_t len, bool fp, uint16_t reply_from)
{
	struct ph_stun_enc e;
	uint8_t tid[PH_STUN_TID_LEN];
	size_t n, fixed = PH_STUN_HDR_LEN + (fp ? PH_STUN_FP_LEN : 0) +
			  (reply_from ? 8 : 0);

	ph_stun_tid_new(tid);
	ph_stun_enc_init(&e, buf, 512, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	if (reply_from)
		ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM, reply_from);
	if (len >= fixed + 4)
		ph_stun_enc_raw(&e, PH_STUN_ATTR_PADDING, zeros, len - fixed - 4);
	cr_assert_eq(ph_stun_enc_finish(&e, fp, &n), 0);
	return n;
}

Test(stund, binding_answered_from_the_port_asked)
{
	uint8_t buf[256];
	size_t len = request(buf, sizeof buf, 0, 0, 0);

	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), 0);
	cr_assert_eq(nsent, 1);
	cr_assert(ph_addr_eq(&sent[0].dst, &client));
	cr_assert(ph_addr_eq(&sent[0].from, &local));
	cr_assert_eq(sent[0].msg.cls, PH_STUN_SUCCESS);
	cr_assert(ph_addr_eq(&sent[0].msg.xor_mapped, &client));
	cr_assert(ph_addr_eq(&sent[0].msg.response_origin, &local));
	cr_assert_eq(ph_addr_port(&sent[0].msg.other_address), 3479);
	cr_assert_eq(memcmp(sent[0].msg.tid, buf + 8, 12), 0);
}

Test(stund, change_port_answers_from_the_alternate_port)
{
	uint8_t buf[256];
	size_t len = request(buf, sizeof buf, PH_STUN_CHANGE_PORT, 0, 0);

	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), 0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(ph_addr_port(&sent[0].from), 3479);
	cr_assert(ph_addr_ip_eq(&sent[0].from, &local));
	cr_assert_eq(ph_addr_port(&sent[0].msg.response_origin), 3479);
}

Test(stund, change_ip_without_alternate_address_is_an_error)
{
	uint8_t buf[256];
	size_t len = request(buf, sizeof buf, PH_STUN_CHANGE_IP, 0, 0);

	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), 0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(sent[0].msg.cls, PH_STUN_ERROR);
	cr_assert_eq(sent[0].msg.error_code, 400);
}

Test(stund, hop_test_second_answer_from_the_named_hop_port_only)
{
	uint8_t buf[256];
	size_t len = request(buf, sizeof buf, 0, 3481, 0);

	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), 0);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(ph_addr_port(&sent[0].from), 3478);
	cr_assert_eq(ph_addr_port(&sent[1].from), 3481);
	cr_assert(ph_addr_eq(&sent[1].dst, &client), "only to the request's source");
	cr_assert_eq(stund_stats(sd)->hop_answers, 1);

	/* a port that is not one of ours gets no second answer */
	nsent = 0;
	len = request(buf, sizeof buf, 0, 53, 0);
	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), 0);
	cr_assert_eq(nsent, 1);
	len = request(buf, sizeof buf, 0, 3488, 0);
	nsent = 0;
	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), 0);
	cr_assert_eq(nsent, 1);
}

Test(stund, unknown_required_attribute_gets_420)
{
	uint8_t buf[256];
	size_t len = request(buf, sizeof buf, 0, 0, 0x0031);

	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), 0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(sent[0].msg.error_code, 420);
}

Test(stund, null_packets_and_garbage)
{
	uint8_t junk[] = "REGISTER sip:x SIP/2.0\r\n";
	uint8_t buf[256];
	size_t len = request(buf, sizeof buf, 0, 0, 0);

	cr_assert_eq(stund_recv(sd, &local, &client, buf, 0, 1000), 0);
	cr_assert_eq(stund_stats(sd)->nulls, 1);
	cr_assert_eq(stund_recv(sd, &local, &client, junk, sizeof junk - 1, 1000), EPROTO);
	buf[3] = (uint8_t)(buf[3] + 4); /* length now past the datagram */
	cr_assert_eq(stund_recv(sd, &local, &client, buf, len, 1000), EBADMSG);
	for (size_t i = 20; i < len; i++) /* every truncation: no answer, no crash */
		stund_recv(sd, &local, &client, buf, i, 1000);
	cr_assert_eq(nsent, 0);
}

Test(stund, remembers_answered_sources_bounded_in_time_and_count)
{
	uint8_t buf[256];
	size_t len = request(buf, sizeof buf, 0, 0, 0);
	struct ph_addr other[5];

	cr_assert(!stund_seen(sd, &client, 1000, 300000));
	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert(stund_seen(sd, &client, 2000, 300000));
	cr_assert(!stund_seen(sd, &client, 302000, 300000), "too old");

	/* a different port of the same IP is not the same window */
	ph_addr_set(&other[0], "198.51.100.2", 40001);
	cr_assert(!stund_seen(sd, &other[0], 2000, 300000));

	/* memory holds 4: the fifth new source pushes the oldest out (each
	 * from a network of its own: one network holds 2 here) */
	for (int i = 0; i < 4; i++) {
		char ip[32];

		snprintf(ip, sizeof ip, "198.51.%d.3", 101 + i);
		ph_addr_set(&other[i], ip, (uint16_t)(1000 + i));
		stund_recv(sd, &local, &other[i], buf, len, 3000);
	}
	cr_assert(!stund_seen(sd, &client, 3000, 300000));
	for (int i = 0; i < 4; i++)
		cr_assert(stund_seen(sd, &other[i], 3000, 300000));
}

/* PROTOCOL.md section 1: bytes out <= bytes in for every request a
 * stranger can send, whatever its size, with or without FINGERPRINT, with
 * or without the hop test's second answer, and for errors too. */
Test(stund, never_answers_with_more_bytes_than_the_request)
{
	uint8_t buf[512];
	size_t len;

	for (size_t want = 20; want <= 160; want += 4) {
		for (int fp = 0; fp < 2; fp++) {
			for (int hop = 0; hop < 2; hop++) {
				len = sized(buf, want, fp, hop ? 3481 : 0);
				nsent = 0;
				bytes_out = 0;
				stund_recv(sd, &local, &client, buf, len, 1000);
				cr_assert_leq(bytes_out, len,
					      "%zu bytes out for %zu in", bytes_out, len);
			}
		}
	}
	len = request(buf, sizeof buf, 0, 0, 0x0031); /* 420 */
	bytes_out = 0;
	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert_leq(bytes_out, len);
	len = sized(buf, 20, false, 0); /* 400, no room for it at all */
	buf[1] = 0x02; /* method 2: not Binding */
	nsent = bytes_out = 0;
	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert_eq(nsent, 0);
}

Test(stund, attributes_go_in_as_the_request_pays)
{
	uint8_t buf[512];
	size_t len = sized(buf, 32, false, 0);

	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert_eq(nsent, 1);
	cr_assert(ph_addr_eq(&sent[0].msg.xor_mapped, &client));
	cr_assert_eq(sent[0].msg.present, PH_STUN_HAS_XOR_MAPPED);

	nsent = 0;
	len = sized(buf, 52, true, 0); /* XOR-MAPPED, RESPONSE-ORIGIN, FP */
	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert_eq(sent[0].msg.present, PH_STUN_HAS_XOR_MAPPED |
		     PH_STUN_HAS_RESPONSE_ORIGIN | PH_STUN_HAS_FINGERPRINT);
	cr_assert_eq(stund_stats(sd)->too_small, 0);
}

Test(stund, bare_requests_answered_only_for_sources_holding_a_binding)
{
	uint8_t buf[512];
	size_t len = sized(buf, 20, false, 0); /* linphone's */

	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(stund_stats(sd)->too_small, 1);
	cr_assert(!stund_seen(sd, &client, 1000, 300000), "not answered, not seen");

	known = true;
	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert_eq(nsent, 1);
	cr_assert(ph_addr_eq(&sent[0].msg.xor_mapped, &client));
}

Test(stund, hop_test_second_answer_only_when_the_request_pays_for_both)
{
	uint8_t buf[512];
	size_t len = sized(buf, PH_STUN_FULL_ANSWER_LEN(&client), true, 3481);

	stund_recv(sd, &local, &client, buf, len, 1000);
	cr_assert_eq(nsent, 1, "one full answer, no second");
	cr_assert_eq(stund_stats(sd)->hop_answers, 0);
}

/* A flood of new sources from one /24 replaces only that network's own
 * entries (memory 4, 2 per network here): the others' windows stay. */
Test(stund, a_flood_from_one_network_keeps_the_others_windows)
{
	uint8_t buf[512];
	size_t len = request(buf, sizeof buf, 0, 0, 0);
	struct ph_addr other, flood;

	ph_addr_set(&other, "192.0.2.9", 5000);
	stund_recv(sd, &local, &client, buf, len, 1000);
	stund_recv(sd, &local, &other, buf, len, 1000);
	for (unsigned i = 0; i < 1000; i++) {
		char ip[32];

		snprintf(ip, sizeof ip, "203.0.113.%u", i % 256);
		ph_addr_set(&flood, ip, (uint16_t)(1024 + i));
		nsent = 0;
		stund_recv(sd, &local, &flood, buf, len, 2000);
	}
	cr_assert(stund_seen(sd, &client, 2000, 300000));
	cr_assert(stund_seen(sd, &other, 2000, 300000));
	cr_assert(stund_seen(sd, &flood, 2000, 300000), "the newest of the flood");
}

/* IPv6: a network is a /64; a flood from one /64 keeps another's entry. */
Test(stund, ipv6_networks_are_64s)
{
	uint8_t buf[512];
	struct ph_addr v6, flood, v6local;
	size_t len;

	ph_addr_set(&v6local, "2001:db8::1", 3478);
	ph_addr_set(&v6, "2001:db8:1:2::5", 6000);
	len = sized(buf, 100, true, 0);
	stund_recv(sd, &v6local, &v6, buf, len, 1000);
	cr_assert(stund_seen(sd, &v6, 1000, 300000));
	for (unsigned i = 0; i < 100; i++) {
		char ip[64];

		snprintf(ip, sizeof ip, "2001:db8:1:3:%x::1", i);
		ph_addr_set(&flood, ip, 7000);
		nsent = 0;
		stund_recv(sd, &v6local, &flood, buf, len, 2000);
	}
	cr_assert(stund_seen(sd, &v6, 2000, 300000));
	cr_assert_eq(nsent, 1, "answered: 100 bytes pay for the IPv6 answer");
}

/* PROTOCOL.md section 1: an ICMP port unreachable from a window's own IP
 * to an alternate-port answer (sent unasked) marks its router as one that
 * answers unsolicited input, by IP, for refused_ms; answers that were
 * asked for (the primary port, the hop-test ports) do not count. */
Test(stund, routers_that_refuse_unsolicited_answers_are_remembered_by_ip)
{
	struct ph_addr alt = local, hop = local, other_port = client, ip = client;

	ph_addr_set_port(&alt, 3479);
	ph_addr_set_port(&hop, 3485);
	ph_addr_set_port(&other_port, 40002);
	stund_refused(sd, &local, &client, 1000);
	stund_refused(sd, &hop, &client, 1000);
	cr_assert(!stund_answers_unsolicited(sd, &client, 1000));
	cr_assert_eq(stund_stats(sd)->refused, 0);
	stund_refused(sd, &alt, &client, 1000);
	cr_assert_eq(stund_stats(sd)->refused, 1);
	cr_assert(stund_answers_unsolicited(sd, &client, 1000));
	cr_assert(stund_answers_unsolicited(sd, &other_port, 1000 + 7200000),
		  "by IP, for refused_ms");
	ph_addr_set_port(&ip, 0);
	cr_assert(stund_answers_unsolicited(sd, &ip, 2000));
	cr_assert(!stund_answers_unsolicited(sd, &client, 1000 + 7200001));
	ph_addr_set(&ip, "198.51.100.3", 40000);
	cr_assert(!stund_answers_unsolicited(sd, &ip, 2000), "another IP");
	/* the window memory is another table */
	cr_assert(!stund_seen(sd, &client, 2000, 300000));
}

/* A phone behind such a router registering again keeps it remembered past
 * refused_ms from the probe; an IP not remembered is not noted by it. */
Test(stund, a_phone_registering_again_keeps_its_router_remembered)
{
	struct ph_addr alt = local, other;

	ph_addr_set_port(&alt, 3479);
	ph_addr_set(&other, "198.51.100.3", 5060);
	stund_refused(sd, &alt, &client, 1000);
	stund_refused_keep(sd, &client, 1000 + 7000000);
	stund_refused_keep(sd, &other, 1000 + 7000000);
	cr_assert(stund_answers_unsolicited(sd, &client, 1000 + 14000000));
	cr_assert(!stund_answers_unsolicited(sd, &other, 1000 + 7000000));
	cr_assert(!stund_answers_unsolicited(sd, &client, 1000 + 14200001));
}
