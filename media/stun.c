/* STUN codec (RFC 8489). Pure: no allocation, no I/O, no globals beyond
 * the constant CRC table; only ph_stun_tid_new() asks the kernel for
 * randomness. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "pinhole/stun.h"

#define ATTR_HDR 4
#define FINGERPRINT_XOR 0x5354554eu /* RFC 8489 section 14.7 */

/* Attribute values are padded to a multiple of 4 bytes (section 14). */
static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* CRC-32 (ISO 3309, as zlib), table-driven; the table is built at compile
 * time by this recurrence so no start-up code runs. */
#define C1(c) (((c) & 1) ? 0xEDB88320u ^ ((c) >> 1) : (c) >> 1)
#define C8(c) C1(C1(C1(C1(C1(C1(C1(C1(c))))))))
#define R4(n) C8(n), C8(n + 1), C8(n + 2), C8(n + 3)
#define R16(n) R4(n), R4(n + 4), R4(n + 8), R4(n + 12)
#define R64(n) R16(n), R16(n + 16), R16(n + 32), R16(n + 48)
static const uint32_t crc_table[256] = {
	R64(0u), R64(64u), R64(128u), R64(192u),
};

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

PH_API bool ph_stun_is(const uint8_t *buf, size_t len)
{
	/* RFC 7983: STUN is 0..3 in the first byte; RFC 8489: the cookie. */
	return len >= PH_STUN_HDR_LEN && buf[0] < 4 &&
	       get32(buf + 4) == PH_STUN_MAGIC;
}

/* (XOR-)MAPPED-ADDRESS family: RFC 8489 sections 14.1 and 14.2; hdr is
 * the message header, whose cookie and transaction ID are the XOR key. */
static int decode_addr(struct ph_addr *out, const uint8_t *v, uint16_t len,
		       bool xor, const uint8_t *hdr)
{
	uint16_t port;
	uint8_t ip[16];
	struct ph_addr a;
	size_t n;

	if (len < 4)
		return EBADMSG;
	n = v[1] == 0x01 ? 4 : v[1] == 0x02 ? 16 : 0;
	if (!n || len != 4 + n)
		return EBADMSG;
	port = get16(v + 2);
	if (xor)
		port ^= (uint16_t)(PH_STUN_MAGIC >> 16);
	for (size_t i = 0; i < n; i++)
		ip[i] = xor ? v[4 + i] ^ hdr[4 + i] : v[4 + i];
	memset(&a, 0, sizeof a);
	if (n == 4) {
		a.u.in.sin_family = AF_INET;
		a.u.in.sin_port = htons(port);
		memcpy(&a.u.in.sin_addr, ip, 4);
	} else {
		a.u.in6.sin6_family = AF_INET6;
		a.u.in6.sin6_port = htons(port);
		memcpy(&a.u.in6.sin6_addr, ip, 16);
	}
	*out = a;
	return 0;
}

static int decode_attr(struct ph_stun_msg *m, uint16_t type,
		       const uint8_t *v, uint16_t len, const uint8_t *hdr)
{
	switch (type) {
	case PH_STUN_ATTR_MAPPED_ADDRESS:
		return decode_addr(&m->mapped, v, len, false, hdr);
	case PH_STUN_ATTR_XOR_MAPPED_ADDRESS:
		return decode_addr(&m->xor_mapped, v, len, true, hdr);
	case PH_STUN_ATTR_RESPONSE_ORIGIN:
		return decode_addr(&m->response_origin, v, len, false, hdr);
	case PH_STUN_ATTR_OTHER_ADDRESS:
		return decode_addr(&m->other_address, v, len, false, hdr);
	case PH_STUN_ATTR_CHANGE_REQUEST:
		if (len != 4)
			return EBADMSG;
		m->change_flags = get32(v);
		return 0;
	case PH_STUN_ATTR_PINHOLE_REPLY_FROM:
	case PH_STUN_ATTR_RESPONSE_PORT:
		if (len != 4)
			return EBADMSG;
		if (type == PH_STUN_ATTR_RESPONSE_PORT)
			m->response_port = get16(v);
		else
			m->reply_from_port = get16(v);
		return 0;
	case PH_STUN_ATTR_ERROR_CODE:
		/* section 14.8: class 3..6, number 0..99; "Receivers MUST
		 * ignore" the reserved bits above the class. */
		if (len < 4 || (v[2] & 7) < 3 || (v[2] & 7) > 6 || v[3] > 99)
			return EBADMSG;
		m->error_code = (uint16_t)((v[2] & 7) * 100 + v[3]);
		m->reason = (const char *)v + 4;
		m->reason_len = len - 4u;
		return 0;
	case PH_STUN_ATTR_MESSAGE_INTEGRITY:
		return len == 20 ? 0 : EBADMSG;
	default:
		return 0;
	}
}

/* The present bit of an attribute take_attr() decodes; 0 for the rest. */
static unsigned attr_bit(uint16_t type)
{
	switch (type) {
	case PH_STUN_ATTR_MAPPED_ADDRESS: return PH_STUN_HAS_MAPPED;
	case PH_STUN_ATTR_XOR_MAPPED_ADDRESS: return PH_STUN_HAS_XOR_MAPPED;
	case PH_STUN_ATTR_RESPONSE_ORIGIN: return PH_STUN_HAS_RESPONSE_ORIGIN;
	case PH_STUN_ATTR_OTHER_ADDRESS: return PH_STUN_HAS_OTHER_ADDRESS;
	case PH_STUN_ATTR_CHANGE_REQUEST: return PH_STUN_HAS_CHANGE_REQUEST;
	case PH_STUN_ATTR_PINHOLE_REPLY_FROM: return PH_STUN_HAS_REPLY_FROM;
	case PH_STUN_ATTR_ERROR_CODE: return PH_STUN_HAS_ERROR_CODE;
	case PH_STUN_ATTR_MESSAGE_INTEGRITY: return PH_STUN_HAS_MESSAGE_INTEGRITY;
	case PH_STUN_ATTR_RESPONSE_PORT: return PH_STUN_HAS_RESPONSE_PORT;
	default: return 0;
	}
}

/* Comprehension-required types we understand but take nothing from, so
 * they are not "unknown" (RFC 8489 section 7.3.1): pinhole does not
 * authenticate, UNKNOWN-ATTRIBUTES rides on 420 responses, and PADDING
 * (RFC 5780 section 7.6) only makes a request big enough to pay for its
 * answer (PROTOCOL.md section 1). */
static bool known_unused(uint16_t type)
{
	return type == PH_STUN_ATTR_USERNAME ||
	       type == PH_STUN_ATTR_UNKNOWN_ATTRIBUTES ||
	       type == PH_STUN_ATTR_PADDING;
}

static int take_attr(struct ph_stun_msg *m, uint16_t type, const uint8_t *v,
		     uint16_t len, const uint8_t *hdr)
{
	unsigned bit = attr_bit(type);
	int err;

	if (bit) {
		/* section 14: only the first of a repeated attribute counts */
		if (m->present & bit)
			return 0;
		err = decode_attr(m, type, v, len, hdr);
		if (!err)
			m->present |= bit;
		return err;
	}
	if (type < 0x8000 && !known_unused(type) &&
	    m->n_unknown < PH_STUN_MAX_UNKNOWN)
		m->unknown[m->n_unknown++] = type;
	return 0;
}

static int walk_attrs(struct ph_stun_msg *m, const uint8_t *buf, size_t len)
{
	size_t off = PH_STUN_HDR_LEN;

	while (off < len) {
		uint16_t type, alen;
		int err = 0;

		if (len - off < ATTR_HDR)
			return EBADMSG;
		type = get16(buf + off);
		alen = get16(buf + off + 2);
		if (pad4(alen) > len - off - ATTR_HDR)
			return EBADMSG;
		/* section 14.7: FINGERPRINT is the last attribute */
		if (m->present & PH_STUN_HAS_FINGERPRINT)
			return EBADMSG;
		if (type == PH_STUN_ATTR_FINGERPRINT) {
			if (alen != 4 || get32(buf + off + ATTR_HDR) !=
					 (crc32(buf, off) ^ FINGERPRINT_XOR))
				return EBADMSG;
			m->present |= PH_STUN_HAS_FINGERPRINT;
		} else if (!(m->present & PH_STUN_HAS_MESSAGE_INTEGRITY)) {
			/* section 14.5: agents MUST ignore all other
			 * attributes that follow MESSAGE-INTEGRITY */
			err = take_attr(m, type, buf + off + ATTR_HDR, alen, buf);
		}
		if (err)
			return err;
		off += ATTR_HDR + pad4(alen);
	}
	return 0;
}

PH_API int ph_stun_decode(struct ph_stun_msg *out, const uint8_t *buf,
			  size_t len)
{
	struct ph_stun_msg m;
	uint16_t type;
	int err;

	if (!buf || len < PH_STUN_HDR_LEN || buf[0] & 0xc0)
		return EBADMSG;
	if (get32(buf + 4) != PH_STUN_MAGIC)
		return EPROTO;
	if (get16(buf + 2) % 4 || get16(buf + 2) != len - PH_STUN_HDR_LEN)
		return EBADMSG;
	memset(&m, 0, sizeof m);
	type = get16(buf);
	/* section 5: class bits C1 (0x100) and C0 (0x010) among the method */
	m.cls = (uint8_t)(((type >> 7) & 2) | ((type >> 4) & 1));
	m.method = (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) |
			      ((type & 0x3e00) >> 2));
	memcpy(m.tid, buf + 8, PH_STUN_TID_LEN);
	err = walk_attrs(&m, buf, len);
	if (err)
		return err;
	*out = m;
	return 0;
}

PH_API void ph_stun_enc_init(struct ph_stun_enc *e, uint8_t *buf, size_t size,
			     uint16_t method, uint8_t cls,
			     const uint8_t tid[PH_STUN_TID_LEN])
{
	uint16_t type = (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) |
				   ((method & 0x0f80) << 2) | ((cls & 1) << 4) |
				   ((cls & 2) << 7));

	memset(e, 0, sizeof *e);
	e->buf = buf;
	e->size = size;
	if (!buf || !tid || method > 0x0fff || cls > 3) {
		e->err = EINVAL;
		return;
	}
	if (size < PH_STUN_HDR_LEN) {
		e->err = ENOSPC;
		return;
	}
	memcpy(e->tid, tid, PH_STUN_TID_LEN);
	put16(buf, type);
	put16(buf + 2, 0);
	put32(buf + 4, PH_STUN_MAGIC);
	memcpy(buf + 8, tid, PH_STUN_TID_LEN);
	e->len = PH_STUN_HDR_LEN;
}

/* Room for an attribute of vlen bytes, padded; NULL (sticky ENOSPC) if not. */
static uint8_t *enc_attr(struct ph_stun_enc *e, uint16_t type, size_t vlen)
{
	size_t padded = pad4(vlen);
	uint8_t *p;

	if (e->err)
		return NULL;
	/* the header's 16-bit length must still hold the whole body */
	if (vlen > 0xffff || e->size - e->len < ATTR_HDR + padded ||
	    e->len - PH_STUN_HDR_LEN + ATTR_HDR + padded > 0xffff) {
		e->err = ENOSPC;
		return NULL;
	}
	p = e->buf + e->len;
	put16(p, type);
	put16(p + 2, (uint16_t)vlen);
	memset(p + ATTR_HDR, 0, padded);
	e->len += ATTR_HDR + padded;
	return p + ATTR_HDR;
}

/* The address bytes as they go on the wire: 4 or 16, 0 when unset. A
 * v4-mapped IPv6 address (how a dual-stack socket shows an IPv4 peer) is
 * the IPv4 address it carries. */
static size_t addr_bytes(const struct ph_addr *a, uint8_t ip[16])
{
	const struct in6_addr *in6 = &a->u.in6.sin6_addr;

	if (ph_addr_af(a) == AF_INET) {
		memcpy(ip, &a->u.in.sin_addr, 4);
		return 4;
	}
	if (ph_addr_af(a) != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(in6)) {
		memcpy(ip, in6->s6_addr + 12, 4);
		return 4;
	}
	memcpy(ip, in6->s6_addr, 16);
	return 16;
}

PH_API size_t ph_stun_addr_attr_len(const struct ph_addr *a)
{
	uint8_t ip[16];

	return ATTR_HDR + 4 + addr_bytes(a, ip);
}

/* Sections 14.1 and 14.2: X-Port is XORed with the top 16 bits of the
 * cookie, X-Address with the cookie (IPv4) or cookie and transaction ID. */
PH_API void ph_stun_enc_addr(struct ph_stun_enc *e, uint16_t type,
			     const struct ph_addr *a)
{
	bool xor = type == PH_STUN_ATTR_XOR_MAPPED_ADDRESS;
	uint16_t port = ph_addr_port(a);
	uint8_t ip[16], key[16], *p;
	size_t n = addr_bytes(a, ip);

	if (!e->err && !n)
		e->err = EINVAL;
	p = enc_attr(e, type, 4 + n);
	if (!p)
		return;
	put32(key, PH_STUN_MAGIC);
	memcpy(key + 4, e->tid, PH_STUN_TID_LEN);
	p[1] = n == 16 ? 0x02 : 0x01;
	put16(p + 2, xor ? (uint16_t)(port ^ (PH_STUN_MAGIC >> 16)) : port);
	for (size_t i = 0; i < n; i++)
		p[4 + i] = xor ? ip[i] ^ key[i] : ip[i];
}

PH_API void ph_stun_enc_u32(struct ph_stun_enc *e, uint16_t type, uint32_t v)
{
	uint8_t *p = enc_attr(e, type, 4);

	if (p)
		put32(p, v);
}

PH_API void ph_stun_enc_port(struct ph_stun_enc *e, uint16_t type,
			     uint16_t port)
{
	ph_stun_enc_u32(e, type, (uint32_t)port << 16);
}

PH_API void ph_stun_enc_raw(struct ph_stun_enc *e, uint16_t type,
			    const void *val, size_t len)
{
	uint8_t *p = enc_attr(e, type, len);

	if (p && len)
		memcpy(p, val, len);
}

PH_API void ph_stun_enc_padding(struct ph_stun_enc *e, size_t total)
{
	static const uint8_t zero[PH_STUN_MAX_LEN];
	size_t have = e->len + ATTR_HDR + PH_STUN_FP_LEN;

	if (total <= have)
		return;
	if (total - have > sizeof zero) {
		e->err = e->err ? e->err : ENOSPC;
		return;
	}
	ph_stun_enc_raw(e, PH_STUN_ATTR_PADDING, zero, total - have);
}

PH_API void ph_stun_enc_error(struct ph_stun_enc *e, uint16_t code,
			      const char *reason)
{
	size_t rlen = reason ? strlen(reason) : 0;
	uint8_t *p;

	/* section 14.8: fewer than 128 characters, "as long as 509 bytes
	 * when encoding them" */
	if (!e->err && (code < 300 || code > 699 || rlen > 509))
		e->err = EINVAL;
	p = enc_attr(e, PH_STUN_ATTR_ERROR_CODE, 4 + rlen);
	if (!p)
		return;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	if (rlen)
		memcpy(p + 4, reason, rlen);
}

PH_API void ph_stun_enc_unknown(struct ph_stun_enc *e, const uint16_t *types,
				unsigned n)
{
	uint8_t *p = enc_attr(e, PH_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2u * n);

	for (unsigned i = 0; p && i < n; i++)
		put16(p + 2 * i, types[i]);
}

PH_API int ph_stun_enc_finish(struct ph_stun_enc *e, bool fingerprint,
			      size_t *lenp)
{
	uint8_t *p;

	if (e->err)
		return e->err;
	if (fingerprint) {
		/* the length must already count FINGERPRINT (section 14.7) */
		put16(e->buf + 2, (uint16_t)(e->len + 8 - PH_STUN_HDR_LEN));
		p = enc_attr(e, PH_STUN_ATTR_FINGERPRINT, 4);
		if (!p)
			return e->err;
		put32(p, crc32(e->buf, e->len - 8) ^ FINGERPRINT_XOR);
	}
	put16(e->buf + 2, (uint16_t)(e->len - PH_STUN_HDR_LEN));
	*lenp = e->len;
	return 0;
}

/* For kernels before 3.17, which have no getrandom(2). */
static ssize_t read_urandom(void *buf, size_t len)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC), err;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len);
	err = errno;
	close(fd);
	errno = err;
	return n;
}

PH_API int ph_stun_tid_new(uint8_t tid[PH_STUN_TID_LEN])
{
	uint8_t t[PH_STUN_TID_LEN];
	ssize_t n;

	/* getrandom(2): no short reads up to 256 bytes; EINTR only while the
	 * pool is not yet initialised */
	do
		n = getrandom(t, sizeof t, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ENOSYS)
		n = read_urandom(t, sizeof t);
	if (n < 0)
		return errno;
	if (n != sizeof t)
		return EIO;
	memcpy(tid, t, sizeof t);
	return 0;
}
