/* The STUN service core: answers, their source ports, the hop test's
 * second answer, CHANGE-REQUEST, errors, and the memory of sources. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pinhole/stun.h>

#include "stund.h"

#define MAX_SENT 8

static struct sent {
	struct ph_addr from, dst;
	struct ph_stun_msg msg;
} sent[MAX_SENT];
static unsigned nsent;

static int capture(const struct ph_addr *from, const struct ph_addr *dst,
		   const void *buf, size_t len, void *arg)
{
	cr_assert_lt(nsent, MAX_SENT);
	sent[nsent].from = *from;
	sent[nsent].dst = *dst;
	cr_assert_eq(ph_stun_decode(&sent[nsent].msg, buf, len), 0);
	nsent++;
	return 0;
}

static struct stund *sd;
static struct ph_addr local, client;

static void setup(void)
{
	struct stund_conf c = {.port = 3478, .memory = 4, .memory_ms = 300000};

	nsent = 0;
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
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	return len;
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

	/* memory holds 4: the fifth new source pushes the oldest out */
	for (int i = 0; i < 4; i++) {
		ph_addr_set(&other[i], "198.51.100.3", (uint16_t)(1000 + i));
		stund_recv(sd, &local, &other[i], buf, len, 3000);
	}
	cr_assert(!stund_seen(sd, &client, 3000, 300000));
	for (int i = 0; i < 4; i++)
		cr_assert(stund_seen(sd, &other[i], 3000, 300000));
}
