/* STUN codec: RFC 5769 test vectors, round trips, hostile datagrams. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pinhole/stun.h>

/* RFC 5769 section 2.2: sample IPv4 response. */
static const uint8_t resp_v4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 section 2.3: sample IPv6 response. */
static const uint8_t resp_v6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

Test(stun, rfc5769_ipv4_response)
{
	struct ph_stun_msg m;
	struct ph_addr want;
	char s[PH_ADDR_STRLEN];

	cr_assert(ph_stun_is(resp_v4, sizeof resp_v4));
	cr_assert_eq(ph_stun_decode(&m, resp_v4, sizeof resp_v4), 0);
	cr_assert_eq(m.method, PH_STUN_BINDING);
	cr_assert_eq(m.cls, PH_STUN_SUCCESS);
	cr_assert(m.present & PH_STUN_HAS_FINGERPRINT);
	cr_assert(m.present & PH_STUN_HAS_MESSAGE_INTEGRITY);
	ph_addr_set(&want, "192.0.2.1", 32853);
	ph_addr_print(&m.xor_mapped, s, sizeof s);
	cr_assert(ph_addr_eq(&m.xor_mapped, &want), "got %s", s);
}

Test(stun, rfc5769_ipv6_response)
{
	struct ph_stun_msg m;
	struct ph_addr want;

	cr_assert_eq(ph_stun_decode(&m, resp_v6, sizeof resp_v6), 0);
	ph_addr_set(&want, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
	cr_assert(ph_addr_eq(&m.xor_mapped, &want));
}

Test(stun, round_trip_every_attribute)
{
	uint8_t buf[PH_STUN_MAX_LEN], tid[PH_STUN_TID_LEN];
	struct ph_stun_enc e;
	struct ph_stun_msg m;
	struct ph_addr a4, a6, o;
	uint16_t unk[2] = {0x0031, 0x0032};
	size_t len;

	ph_stun_tid_new(tid);
	ph_addr_set(&a4, "198.51.100.2", 40000);
	ph_addr_set(&a6, "2001:db8::7", 5);
	ph_addr_set(&o, "203.0.113.1", 3479);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_ERROR, tid);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, &a6);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_MAPPED_ADDRESS, &a4);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_OTHER_ADDRESS, &o);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_RESPONSE_ORIGIN, &o);
	ph_stun_enc_u32(&e, PH_STUN_ATTR_CHANGE_REQUEST, PH_STUN_CHANGE_PORT);
	ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM, 3481);
	ph_stun_enc_error(&e, 420, "Unknown Attribute");
	ph_stun_enc_unknown(&e, unk, 2);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	cr_assert_eq(len % 4, 0);

	cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
	cr_assert_eq(m.cls, PH_STUN_ERROR);
	cr_assert_eq(memcmp(m.tid, tid, sizeof tid), 0);
	cr_assert(ph_addr_eq(&m.xor_mapped, &a6));
	cr_assert(ph_addr_eq(&m.mapped, &a4));
	cr_assert(ph_addr_eq(&m.other_address, &o));
	cr_assert_eq(m.change_flags, PH_STUN_CHANGE_PORT);
	cr_assert_eq(m.reply_from_port, 3481);
	cr_assert_eq(m.error_code, 420);
	cr_assert_eq(m.reason_len, strlen("Unknown Attribute"));
	cr_assert_eq(memcmp(m.reason, "Unknown Attribute", m.reason_len), 0);
}

Test(stun, unknown_required_attributes_are_listed_optional_ignored)
{
	uint8_t buf[128], tid[PH_STUN_TID_LEN] = {1};
	struct ph_stun_enc e;
	struct ph_stun_msg m;
	size_t len;

	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	ph_stun_enc_u32(&e, 0x7001, 1);
	ph_stun_enc_u32(&e, 0x8123, 1);
	cr_assert_eq(ph_stun_enc_finish(&e, false, &len), 0);
	cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
	cr_assert_eq(m.n_unknown, 1);
	cr_assert_eq(m.unknown[0], 0x7001);
}

Test(stun, encoder_runs_out_of_room_cleanly)
{
	uint8_t buf[28], tid[PH_STUN_TID_LEN] = {0};
	struct ph_stun_enc e;
	struct ph_addr a;
	size_t len = 99;

	ph_addr_set(&a, "198.51.100.2", 1);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_SUCCESS, tid);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, &a); /* 12 > 8 left */
	cr_assert_eq(ph_stun_enc_finish(&e, false, &len), ENOSPC);
	cr_assert_eq(len, 99, "no length on failure");
	ph_stun_enc_init(&e, buf, 10, PH_STUN_BINDING, PH_STUN_SUCCESS, tid);
	cr_assert_eq(ph_stun_enc_finish(&e, false, &len), ENOSPC);
}

Test(stun, hostile_datagrams)
{
	uint8_t b[sizeof resp_v4];
	struct ph_stun_msg m;

	for (size_t n = 0; n < sizeof resp_v4; n++)
		cr_assert_neq(ph_stun_decode(&m, resp_v4, n), 0, "truncated to %zu", n);

	memcpy(b, resp_v4, sizeof b);
	b[3] += 4; /* header length past the datagram */
	cr_assert_eq(ph_stun_decode(&m, b, sizeof b), EBADMSG);

	memcpy(b, resp_v4, sizeof b);
	b[4] ^= 1; /* no magic cookie */
	cr_assert_eq(ph_stun_decode(&m, b, sizeof b), EPROTO);
	cr_assert(!ph_stun_is(b, sizeof b));

	memcpy(b, resp_v4, sizeof b);
	b[sizeof b - 1] ^= 1; /* FINGERPRINT wrong */
	cr_assert_eq(ph_stun_decode(&m, b, sizeof b), EBADMSG);

	memcpy(b, resp_v4, sizeof b);
	b[0] |= 0x80; /* top bits must be zero */
	cr_assert_eq(ph_stun_decode(&m, b, sizeof b), EBADMSG);

	memcpy(b, resp_v4, sizeof b);
	b[39] = 0x40; /* XOR-MAPPED-ADDRESS length 64: past the end */
	cr_assert_eq(ph_stun_decode(&m, b, sizeof b), EBADMSG);

	memcpy(b, resp_v4, sizeof b);
	b[41] = 0x03; /* address family 3 */
	cr_assert_eq(ph_stun_decode(&m, b, sizeof b), EBADMSG);

	cr_assert_eq(ph_stun_decode(&m, NULL, 0), EBADMSG);
}

Test(stun, nothing_after_fingerprint)
{
	uint8_t buf[128], tid[PH_STUN_TID_LEN] = {2};
	struct ph_stun_enc e;
	struct ph_stun_msg m;
	size_t len;

	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	/* append an attribute after FINGERPRINT and fix the length */
	memcpy(buf + len, "\x80\x22\x00\x00", 4);
	buf[3] = (uint8_t)(len + 4 - 20);
	cr_assert_eq(ph_stun_decode(&m, buf, len + 4), EBADMSG);
}
