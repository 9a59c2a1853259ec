/* STUN message codec (RFC 8489, RFC 5780 attributes, pinhole's hop test).
 *
 * Pure functions over (buffer, length): no allocation, no I/O, no globals.
 * The decoder fills a flat view of the attributes pinhole uses; the encoder
 * appends attributes to a caller-owned buffer. */
#ifndef PINHOLE_STUN_H
#define PINHOLE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"

#define PH_STUN_MAGIC 0x2112A442u /* RFC 8489 section 5 */
#define PH_STUN_HDR_LEN 20
#define PH_STUN_TID_LEN 12
#define PH_STUN_FP_LEN 8  /* FINGERPRINT, section 14.7 */
/* Our messages stay far below any path MTU (RFC 8489 section 6.1). */
#define PH_STUN_MAX_LEN 548

enum ph_stun_method {
	PH_STUN_BINDING = 0x0001,
};

enum ph_stun_class {
	PH_STUN_REQUEST = 0,
	PH_STUN_INDICATION = 1,
	PH_STUN_SUCCESS = 2,
	PH_STUN_ERROR = 3,
};

enum ph_stun_attr {
	PH_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	PH_STUN_ATTR_CHANGE_REQUEST = 0x0003,    /* RFC 5780 section 7.2 */
	PH_STUN_ATTR_USERNAME = 0x0006,
	PH_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	PH_STUN_ATTR_ERROR_CODE = 0x0009,
	PH_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
	PH_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	PH_STUN_ATTR_PADDING = 0x0026,           /* RFC 5780 section 7.6 */
	PH_STUN_ATTR_RESPONSE_PORT = 0x0027,     /* RFC 5780 section 7.5 */
	PH_STUN_ATTR_SOFTWARE = 0x8022,
	PH_STUN_ATTR_FINGERPRINT = 0x8028,
	PH_STUN_ATTR_RESPONSE_ORIGIN = 0x802B,   /* RFC 5780 section 7.3 */
	PH_STUN_ATTR_OTHER_ADDRESS = 0x802C,     /* RFC 5780 section 7.4 */
	PH_STUN_ATTR_PINHOLE_REPLY_FROM = 0xBF01, /* PROTOCOL.md section 1 */
};

/* CHANGE-REQUEST flags (RFC 5780 section 7.2). */
#define PH_STUN_CHANGE_IP 0x04u
#define PH_STUN_CHANGE_PORT 0x02u

/* Bits of ph_stun_msg.present. */
enum {
	PH_STUN_HAS_MAPPED = 1u << 0,
	PH_STUN_HAS_XOR_MAPPED = 1u << 1,
	PH_STUN_HAS_RESPONSE_ORIGIN = 1u << 2,
	PH_STUN_HAS_OTHER_ADDRESS = 1u << 3,
	PH_STUN_HAS_CHANGE_REQUEST = 1u << 4,
	PH_STUN_HAS_REPLY_FROM = 1u << 5,
	PH_STUN_HAS_ERROR_CODE = 1u << 6,
	PH_STUN_HAS_FINGERPRINT = 1u << 7,
	PH_STUN_HAS_MESSAGE_INTEGRITY = 1u << 8,
	PH_STUN_HAS_RESPONSE_PORT = 1u << 9,
};

#define PH_STUN_MAX_UNKNOWN 8

/* A decoded message. Pointers (reason) point into the decoded buffer. */
struct ph_stun_msg {
	uint16_t method;
	uint8_t cls;
	uint8_t tid[PH_STUN_TID_LEN];
	unsigned present;
	struct ph_addr mapped;
	struct ph_addr xor_mapped;
	struct ph_addr response_origin;
	struct ph_addr other_address;
	uint32_t change_flags;
	uint16_t reply_from_port;
	uint16_t response_port;
	uint16_t error_code;  /* 300..699 */
	const char *reason;   /* not NUL-terminated */
	size_t reason_len;
	/* comprehension-required attributes we do not know (RFC 8489 7.3.1) */
	uint16_t unknown[PH_STUN_MAX_UNKNOWN];
	unsigned n_unknown;
};

/* Cheap demultiplexing test (RFC 7983 first byte 0..3, and the magic
 * cookie): does this datagram look like STUN? */
PH_API bool ph_stun_is(const uint8_t *buf, size_t len);

/* Decode and validate one message. EBADMSG for anything malformed
 * (length, padding, attribute bounds, bad address family, bad
 * FINGERPRINT), EPROTO when the magic cookie is missing. */
PH_API int ph_stun_decode(struct ph_stun_msg *out, const uint8_t *buf,
			  size_t len);

/* Encoder state; errors are sticky and reported by ph_stun_enc_finish(). */
struct ph_stun_enc {
	uint8_t *buf;
	size_t size;
	size_t len;
	uint8_t tid[PH_STUN_TID_LEN];
	int err;
};

PH_API void ph_stun_enc_init(struct ph_stun_enc *e, uint8_t *buf, size_t size,
			     uint16_t method, uint8_t cls,
			     const uint8_t tid[PH_STUN_TID_LEN]);
/* MAPPED-ADDRESS style attributes; XOR-MAPPED-ADDRESS is XORed here. */
PH_API void ph_stun_enc_addr(struct ph_stun_enc *e, uint16_t type,
			     const struct ph_addr *a);
/* What such an attribute takes in a message: header, family, port and
 * the 4 or 16 address bytes (12 or 24). */
PH_API size_t ph_stun_addr_attr_len(const struct ph_addr *a);
/* A Binding success answer with XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN,
 * OTHER-ADDRESS and FINGERPRINT to a client of a's family: what a
 * request must weigh to get all of it (PROTOCOL.md section 1). */
#define PH_STUN_FULL_ANSWER_LEN(a) \
	(PH_STUN_HDR_LEN + 3 * ph_stun_addr_attr_len(a) + PH_STUN_FP_LEN)
PH_API void ph_stun_enc_u32(struct ph_stun_enc *e, uint16_t type, uint32_t v);
/* 16-bit port followed by 16 bits of zero (RESPONSE-PORT, REPLY-FROM). */
PH_API void ph_stun_enc_port(struct ph_stun_enc *e, uint16_t type,
			     uint16_t port);
PH_API void ph_stun_enc_raw(struct ph_stun_enc *e, uint16_t type,
			    const void *val, size_t len);
/* PADDING (RFC 5780 section 7.6) so that the message, finished with
 * FINGERPRINT, weighs at least total bytes: a request that pays for its
 * answer (PROTOCOL.md section 1). Nothing when it already does. */
PH_API void ph_stun_enc_padding(struct ph_stun_enc *e, size_t total);
PH_API void ph_stun_enc_error(struct ph_stun_enc *e, uint16_t code,
			      const char *reason);
PH_API void ph_stun_enc_unknown(struct ph_stun_enc *e, const uint16_t *types,
				unsigned n);
/* Finish the header length, optionally append FINGERPRINT; *lenp is the
 * datagram length. Returns the first error met (ENOSPC, EINVAL) or 0. */
PH_API int ph_stun_enc_finish(struct ph_stun_enc *e, bool fingerprint,
			      size_t *lenp);

/* A fresh random transaction ID (getrandom, falls back to /dev/urandom). */
PH_API int ph_stun_tid_new(uint8_t tid[PH_STUN_TID_LEN]);

#endif
