/* libFuzzer target: the STUN decoder, and encode(decode(x)) stability. */
#include <stdlib.h>
#include <string.h>

#include <pinhole/stun.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ph_stun_msg m, m2;
	struct ph_stun_enc e;
	uint8_t buf[PH_STUN_MAX_LEN];
	size_t len;

	ph_stun_is(data, size);
	if (ph_stun_decode(&m, data, size))
		return 0;
	/* what we decoded must encode and decode to the same addresses */
	ph_stun_enc_init(&e, buf, sizeof buf, m.method & 0x0fff, m.cls, m.tid);
	if (m.present & PH_STUN_HAS_XOR_MAPPED)
		ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, &m.xor_mapped);
	if (m.present & PH_STUN_HAS_OTHER_ADDRESS)
		ph_stun_enc_addr(&e, PH_STUN_ATTR_OTHER_ADDRESS, &m.other_address);
	if (m.present & PH_STUN_HAS_REPLY_FROM)
		ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM, m.reply_from_port);
	if (ph_stun_enc_finish(&e, true, &len))
		abort();
	if (ph_stun_decode(&m2, buf, len) || m2.method != m.method ||
	    m2.cls != m.cls || memcmp(m2.tid, m.tid, sizeof m.tid))
		abort();
	if ((m.present & PH_STUN_HAS_XOR_MAPPED) &&
	    !ph_addr_eq(&m.xor_mapped, &m2.xor_mapped))
		abort();
	if ((m.present & PH_STUN_HAS_REPLY_FROM) &&
	    m.reply_from_port != m2.reply_from_port)
		abort();
	return 0;
}
