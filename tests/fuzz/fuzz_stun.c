/* libFuzzer target: the STUN decoder. Whatever it accepts is encoded again
 * from the decoded view (every attribute pinhole reads) and must decode to
 * the same view. */
#include <stdlib.h>
#include <string.h>

#include <pinhole/stun.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	unsigned bit;
	uint16_t type;
	size_t off;
} addrs[] = {
	{PH_STUN_HAS_MAPPED, PH_STUN_ATTR_MAPPED_ADDRESS,
	 offsetof(struct ph_stun_msg, mapped)},
	{PH_STUN_HAS_XOR_MAPPED, PH_STUN_ATTR_XOR_MAPPED_ADDRESS,
	 offsetof(struct ph_stun_msg, xor_mapped)},
	{PH_STUN_HAS_RESPONSE_ORIGIN, PH_STUN_ATTR_RESPONSE_ORIGIN,
	 offsetof(struct ph_stun_msg, response_origin)},
	{PH_STUN_HAS_OTHER_ADDRESS, PH_STUN_ATTR_OTHER_ADDRESS,
	 offsetof(struct ph_stun_msg, other_address)},
};

static const struct ph_addr *addr_of(const struct ph_stun_msg *m, size_t i)
{
	return (const struct ph_addr *)((const char *)m + addrs[i].off);
}

/* The reason goes back only when ph_stun_enc_error() can carry it. */
static const char *reason(const struct ph_stun_msg *m, char *buf)
{
	if (!(m->present & PH_STUN_HAS_ERROR_CODE) || m->reason_len > 509 ||
	    memchr(m->reason, '\0', m->reason_len))
		return NULL;
	memcpy(buf, m->reason, m->reason_len);
	buf[m->reason_len] = '\0';
	return buf;
}

static void encode(const struct ph_stun_msg *m, const char *why,
		   uint8_t *buf, size_t size, size_t *len)
{
	struct ph_stun_enc e;

	ph_stun_enc_init(&e, buf, size, m->method, m->cls, m->tid);
	for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++)
		if (m->present & addrs[i].bit)
			ph_stun_enc_addr(&e, addrs[i].type, addr_of(m, i));
	if (m->present & PH_STUN_HAS_CHANGE_REQUEST)
		ph_stun_enc_u32(&e, PH_STUN_ATTR_CHANGE_REQUEST, m->change_flags);
	if (m->present & PH_STUN_HAS_REPLY_FROM)
		ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM,
				 m->reply_from_port);
	if (m->present & PH_STUN_HAS_RESPONSE_PORT)
		ph_stun_enc_port(&e, PH_STUN_ATTR_RESPONSE_PORT, m->response_port);
	if (m->present & PH_STUN_HAS_ERROR_CODE)
		ph_stun_enc_error(&e, m->error_code, why);
	for (unsigned i = 0; i < m->n_unknown; i++)
		ph_stun_enc_raw(&e, m->unknown[i], NULL, 0);
	ph_stun_enc_unknown(&e, m->unknown, m->n_unknown);
	if (m->present & PH_STUN_HAS_MESSAGE_INTEGRITY)
		ph_stun_enc_raw(&e, PH_STUN_ATTR_MESSAGE_INTEGRITY,
				(const uint8_t[20]){0}, 20);
	if (ph_stun_enc_finish(&e, m->present & PH_STUN_HAS_FINGERPRINT, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ph_stun_msg m, m2;
	uint8_t buf[1024];
	char text[510];
	const char *why;
	size_t len;

	if (ph_stun_decode(&m, data, size))
		return 0;
	why = reason(&m, text);
	encode(&m, why, buf, sizeof buf, &len);
	if (ph_stun_decode(&m2, buf, len) || m2.method != m.method ||
	    m2.cls != m.cls || memcmp(m2.tid, m.tid, sizeof m.tid) ||
	    m2.present != m.present || m2.n_unknown != m.n_unknown ||
	    memcmp(m2.unknown, m.unknown, m.n_unknown * sizeof *m.unknown))
		abort();
	for (size_t i = 0; i < sizeof addrs / sizeof *addrs; i++)
		if ((m.present & addrs[i].bit) &&
		    !ph_addr_eq(addr_of(&m, i), addr_of(&m2, i)))
			abort();
	if (m2.change_flags != m.change_flags ||
	    m2.reply_from_port != m.reply_from_port ||
	    m2.response_port != m.response_port ||
	    m2.error_code != m.error_code)
		abort();
	if (why && (m2.reason_len != m.reason_len ||
		    memcmp(m2.reason, m.reason, m.reason_len)))
		abort();
	return 0;
}
