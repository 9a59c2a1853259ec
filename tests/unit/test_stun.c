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

/* RFC 5769 section 2.1: sample request (PRIORITY and ICE-CONTROLLED are
 * ICE attributes pinhole does not know). */
static const uint8_t req_v4[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
	0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
	0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

Test(stun, rfc5769_request)
{
	struct ph_stun_msg m;

	cr_assert_eq(ph_stun_decode(&m, req_v4, sizeof req_v4), 0);
	cr_assert_eq(m.method, PH_STUN_BINDING);
	cr_assert_eq(m.cls, PH_STUN_REQUEST);
	cr_assert_eq(memcmp(m.tid, req_v4 + 8, PH_STUN_TID_LEN), 0);
	cr_assert_eq(m.present, PH_STUN_HAS_MESSAGE_INTEGRITY | PH_STUN_HAS_FINGERPRINT);
	/* PRIORITY is comprehension-required and unknown; USERNAME is known */
	cr_assert_eq(m.n_unknown, 1);
	cr_assert_eq(m.unknown[0], 0x0024);
}

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
	ph_stun_enc_port(&e, PH_STUN_ATTR_RESPONSE_PORT, 40002);
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
	cr_assert(ph_addr_eq(&m.response_origin, &o));
	cr_assert_eq(m.change_flags, PH_STUN_CHANGE_PORT);
	cr_assert_eq(m.reply_from_port, 3481);
	cr_assert_eq(m.response_port, 40002);
	cr_assert_eq(m.present, PH_STUN_HAS_XOR_MAPPED | PH_STUN_HAS_MAPPED |
		     PH_STUN_HAS_OTHER_ADDRESS | PH_STUN_HAS_RESPONSE_ORIGIN |
		     PH_STUN_HAS_CHANGE_REQUEST | PH_STUN_HAS_REPLY_FROM |
		     PH_STUN_HAS_RESPONSE_PORT | PH_STUN_HAS_ERROR_CODE |
		     PH_STUN_HAS_FINGERPRINT);
	cr_assert_eq(m.n_unknown, 0, "UNKNOWN-ATTRIBUTES is not itself unknown");
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

/* Re-encode an RFC 5769 response with our encoder: SOFTWARE, then
 * XOR-MAPPED-ADDRESS, then the sample's MESSAGE-INTEGRITY copied as is;
 * the result, FINGERPRINT included, must be the sample byte for byte. */
static void encode_sample(const uint8_t *want, size_t want_len, const char *ip)
{
	uint8_t buf[PH_STUN_MAX_LEN];
	struct ph_stun_enc e;
	struct ph_addr a;
	size_t len, mi;

	ph_addr_set(&a, ip, 32853);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_SUCCESS,
			 want + 8);
	ph_stun_enc_raw(&e, PH_STUN_ATTR_SOFTWARE, "test vector", 11);
	buf[e.len - 1] = ' '; /* the samples pad with a space, we with zero */
	ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, &a);
	mi = e.len + 4;
	ph_stun_enc_raw(&e, PH_STUN_ATTR_MESSAGE_INTEGRITY, want + mi, 20);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	cr_assert_eq(len, want_len);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], want[i], "byte %zu: %02x, want %02x", i,
			     buf[i], want[i]);
}

Test(stun, rfc5769_responses_encode_byte_for_byte)
{
	encode_sample(resp_v4, sizeof resp_v4, "192.0.2.1");
	encode_sample(resp_v6, sizeof resp_v6, "2001:db8:1234:5678:11:2233:4455:6677");
}

Test(stun, encoded_attributes_are_exact)
{
	static const uint8_t want[] = {
		0x00, 0x01, 0x00, 0x34, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6,
		7, 8, 9, 10, 11, 12,
		0xbf, 0x01, 0x00, 0x04, 0x0d, 0x99, 0x00, 0x00, /* REPLY-FROM 3481 */
		0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x06, /* CHANGE ip+port */
		0x00, 0x09, 0x00, 0x07, 0x00, 0x00, 0x04, 0x14, 'B', 'a', 'd', 0,
		0x00, 0x0a, 0x00, 0x06, 0x00, 0x31, 0x7f, 0xff, 0x00, 0x24, 0, 0,
		/* v4-mapped IPv6 goes on the wire as IPv4 */
		0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x13, 0x88, 192, 0, 2, 1,
	};
	static const uint8_t tid[PH_STUN_TID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	static const uint16_t unk[] = {0x0031, 0x7fff, 0x0024};
	uint8_t buf[PH_STUN_MAX_LEN];
	struct ph_stun_enc e;
	struct ph_addr mapped;
	size_t len;

	ph_addr_set(&mapped, "::ffff:192.0.2.1", 5000);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM, 3481);
	ph_stun_enc_u32(&e, PH_STUN_ATTR_CHANGE_REQUEST,
			PH_STUN_CHANGE_IP | PH_STUN_CHANGE_PORT);
	ph_stun_enc_error(&e, 420, "Bad");
	ph_stun_enc_unknown(&e, unk, 3);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_MAPPED_ADDRESS, &mapped);
	cr_assert_eq(ph_stun_enc_finish(&e, false, &len), 0);
	cr_assert_eq(len, sizeof want);
	cr_assert_eq(memcmp(buf, want, len), 0);
}

Test(stun, message_type_bits_round_trip)
{
	uint8_t buf[PH_STUN_HDR_LEN], tid[PH_STUN_TID_LEN] = {3};
	struct ph_stun_enc e;
	struct ph_stun_msg m;
	size_t len;

	for (unsigned cls = 0; cls < 4; cls++)
		for (unsigned method = 0; method <= 0xfff; method += 0x155) {
			ph_stun_enc_init(&e, buf, sizeof buf, (uint16_t)method,
					 (uint8_t)cls, tid);
			cr_assert_eq(ph_stun_enc_finish(&e, false, &len), 0);
			cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
			cr_assert_eq(m.method, method);
			cr_assert_eq(m.cls, cls);
		}
	ph_stun_enc_init(&e, buf, sizeof buf, 0x1000, 0, tid);
	cr_assert_eq(ph_stun_enc_finish(&e, false, &len), EINVAL);
	ph_stun_enc_init(&e, buf, sizeof buf, 1, 4, tid);
	cr_assert_eq(ph_stun_enc_finish(&e, false, &len), EINVAL);
}

Test(stun, encoder_refuses_what_it_cannot_write)
{
	uint8_t buf[PH_STUN_MAX_LEN], tid[PH_STUN_TID_LEN] = {4};
	char reason[511];
	struct ph_stun_enc e;
	struct ph_addr unset;
	size_t len;

	memset(&unset, 0, sizeof unset);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_SUCCESS, tid);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, &unset);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), EINVAL);

	for (unsigned code = 299; code <= 700; code += 401) {
		ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_ERROR, tid);
		ph_stun_enc_error(&e, (uint16_t)code, "x");
		cr_assert_eq(ph_stun_enc_finish(&e, false, &len), EINVAL, "%u", code);
	}
	/* RFC 8489 section 14.8: at most 509 bytes of reason when encoding */
	memset(reason, 'a', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_ERROR, tid);
	ph_stun_enc_error(&e, 500, reason);
	cr_assert_eq(ph_stun_enc_finish(&e, false, &len), EINVAL);
	reason[509] = '\0';
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_ERROR, tid);
	ph_stun_enc_error(&e, 500, reason);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	cr_assert_eq(len, PH_STUN_HDR_LEN + 4 + 516 + 8);

	/* FINGERPRINT that does not fit is an error, not a silent omission */
	ph_stun_enc_init(&e, buf, 24, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), ENOSPC);
}

Test(stun, tid_is_random)
{
	uint8_t a[PH_STUN_TID_LEN], b[PH_STUN_TID_LEN];

	cr_assert_eq(ph_stun_tid_new(a), 0);
	cr_assert_eq(ph_stun_tid_new(b), 0);
	cr_assert_neq(memcmp(a, b, sizeof a), 0);
}

/* A Binding request with these attribute bytes (length from their size). */
static size_t request(uint8_t *buf, const void *attrs, size_t len)
{
	static const uint8_t hdr[PH_STUN_HDR_LEN] = {
		0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
	};

	memcpy(buf, hdr, sizeof hdr);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memcpy(buf + sizeof hdr, attrs, len);
	return sizeof hdr + len;
}

#define ATTRS(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

Test(stun, malformed_attributes_are_rejected)
{
	const struct {
		const char *what;
		const uint8_t *a;
		size_t n;
	} bad[] = {
		{"value past the end", ATTRS(0x80, 0x22, 0x00, 0x08, 1, 2, 3, 4)},
		{"padding past the end", ATTRS(0x80, 0x22, 0x00, 0x05, 1, 2, 3, 4)},
		{"ipv4 with 16 bytes", ATTRS(0x00, 0x20, 0x00, 0x14, 0, 1, 0, 1,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"ipv6 with 4 bytes", ATTRS(0x00, 0x01, 0x00, 0x08, 0, 2, 0, 1, 1, 2, 3, 4)},
		{"family 3", ATTRS(0x80, 0x2b, 0x00, 0x08, 0, 3, 0, 1, 1, 2, 3, 4)},
		{"address too short", ATTRS(0x80, 0x2c, 0x00, 0x02, 0, 1, 0, 0)},
		{"change-request 2 bytes", ATTRS(0x00, 0x03, 0x00, 0x02, 0, 6, 0, 0)},
		{"reply-from 8 bytes", ATTRS(0xbf, 0x01, 0x00, 0x08, 0, 1, 0, 0, 0, 0, 0, 0)},
		{"response-port 2 bytes", ATTRS(0x00, 0x27, 0x00, 0x02, 0, 1, 0, 0)},
		{"error class 2", ATTRS(0x00, 0x09, 0x00, 0x04, 0, 0, 2, 0)},
		{"error class 7", ATTRS(0x00, 0x09, 0x00, 0x04, 0, 0, 7, 0)},
		{"error number 100", ATTRS(0x00, 0x09, 0x00, 0x04, 0, 0, 4, 100)},
		{"error 3 bytes", ATTRS(0x00, 0x09, 0x00, 0x03, 0, 0, 4, 0)},
		{"integrity 16 bytes", ATTRS(0x00, 0x08, 0x00, 0x10, 0, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"fingerprint 8 bytes", ATTRS(0x80, 0x28, 0x00, 0x08, 0, 0, 0, 0, 0, 0, 0, 0)},
		{"fingerprint wrong", ATTRS(0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0)},
	};
	uint8_t buf[128];
	struct ph_stun_msg m = {.method = 77};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t len = request(buf, bad[i].a, bad[i].n);
		cr_assert_eq(ph_stun_decode(&m, buf, len), EBADMSG, "%s", bad[i].what);
	}
	cr_assert_eq(m.method, 77, "nothing written on failure");
}

Test(stun, header_must_match_the_datagram)
{
	uint8_t buf[64];
	struct ph_stun_msg m;
	size_t len = request(buf, ATTRS(0x80, 0x22, 0x00, 0x04, 'a', 'b', 'c', 'd'));

	cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
	buf[len] = 0;
	cr_assert_eq(ph_stun_decode(&m, buf, len + 1), EBADMSG, "trailing byte");
	cr_assert_eq(ph_stun_decode(&m, buf, len + 4), EBADMSG, "trailing word");
	buf[3] = 6; /* length not a multiple of 4 */
	cr_assert_eq(ph_stun_decode(&m, buf, 26), EBADMSG);
	buf[3] = 4;
	buf[0] = 0x40; /* top two bits must be zero (RFC 8489 section 5) */
	cr_assert_eq(ph_stun_decode(&m, buf, len), EBADMSG);
	cr_assert(!ph_stun_is(buf, len));
}

Test(stun, duplicates_first_wins_and_bad_repeats_are_ignored)
{
	uint8_t buf[128];
	struct ph_stun_msg m;
	struct ph_addr want;
	size_t len = request(buf, ATTRS(
		0x00, 0x01, 0x00, 0x08, 0, 1, 0x13, 0x88, 192, 0, 2, 1,
		0x00, 0x01, 0x00, 0x08, 0, 1, 0x13, 0x89, 192, 0, 2, 2,
		0x00, 0x01, 0x00, 0x08, 0, 9, 0x13, 0x89, 192, 0, 2, 2,
		0xbf, 0x01, 0x00, 0x04, 0x0d, 0x99, 0, 0,
		0xbf, 0x01, 0x00, 0x04, 0x0d, 0x9a, 0, 0));

	cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
	ph_addr_set(&want, "192.0.2.1", 5000);
	cr_assert(ph_addr_eq(&m.mapped, &want));
	cr_assert_eq(m.reply_from_port, 3481);
	cr_assert_eq(m.present, PH_STUN_HAS_MAPPED | PH_STUN_HAS_REPLY_FROM);
}

Test(stun, attributes_after_integrity_are_ignored)
{
	uint8_t buf[128];
	struct ph_stun_msg m;
	/* RFC 8489 section 14.5: MUST ignore all but FINGERPRINT after it */
	size_t len = request(buf, ATTRS(
		0x00, 0x08, 0x00, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0x00, 0x01, 0x00, 0x08, 0, 1, 0x13, 0x88, 192, 0, 2, 1,
		0x00, 0x31, 0x00, 0x00,
		0xbf, 0x01, 0x00, 0x02, 0, 0, 0, 0));

	cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
	cr_assert_eq(m.present, PH_STUN_HAS_MESSAGE_INTEGRITY);
	cr_assert_eq(m.n_unknown, 0);
}

Test(stun, unknown_list_stops_at_its_size)
{
	uint8_t attrs[4 * (PH_STUN_MAX_UNKNOWN + 3)], buf[20 + sizeof attrs];
	struct ph_stun_msg m;
	size_t len;

	for (unsigned i = 0; i < PH_STUN_MAX_UNKNOWN + 3; i++)
		memcpy(attrs + 4 * i, (const uint8_t[]){0x00, (uint8_t)(0x40 + i), 0, 0}, 4);
	len = request(buf, attrs, sizeof attrs);
	cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
	cr_assert_eq(m.n_unknown, PH_STUN_MAX_UNKNOWN);
	for (unsigned i = 0; i < PH_STUN_MAX_UNKNOWN; i++)
		cr_assert_eq(m.unknown[i], 0x40 + i);
}

Test(stun, error_code_reserved_bits_are_ignored)
{
	uint8_t buf[64];
	struct ph_stun_msg m;
	/* RFC 8489 section 14.8: "Receivers MUST ignore these bits" */
	size_t len = request(buf, ATTRS(0x00, 0x09, 0x00, 0x06, 0xff, 0xff, 0xfb, 99,
					'h', 'i', 0, 0));

	cr_assert_eq(ph_stun_decode(&m, buf, len), 0);
	cr_assert_eq(m.error_code, 399);
	cr_assert_eq(m.reason_len, 2);
	cr_assert_eq(memcmp(m.reason, "hi", 2), 0);
}

Test(stun, truncated_or_flipped_samples_never_pass_as_intact)
{
	const struct { const uint8_t *p; size_t n; } s[] = {
		{req_v4, sizeof req_v4}, {resp_v4, sizeof resp_v4}, {resp_v6, sizeof resp_v6},
	};
	uint8_t b[sizeof req_v4];
	struct ph_stun_msg m;

	for (size_t k = 0; k < 3; k++) {
		for (size_t n = 0; n < s[k].n; n++)
			cr_assert_neq(ph_stun_decode(&m, s[k].p, n), 0, "%zu: %zu", k, n);
		/* FINGERPRINT covers every byte before it: a flipped bit is
		 * refused, or (a length grew over it) FINGERPRINT is gone */
		for (size_t i = 0; i < s[k].n * 8; i++) {
			memcpy(b, s[k].p, s[k].n);
			b[i / 8] ^= (uint8_t)(1u << i % 8);
			cr_assert(ph_stun_decode(&m, b, s[k].n) ||
				  !(m.present & PH_STUN_HAS_FINGERPRINT),
				  "%zu: bit %zu", k, i);
		}
	}
}
