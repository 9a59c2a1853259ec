/* libFuzzer target: a=fw-window values and both forms of Firewall-Punch;
 * the first byte picks the decoder. What a decoder accepts must encode,
 * decode to the same value, and (for Firewall-Punch) survive the trip
 * through the other form too, since pinholed mirrors one into the other. */
#include <stdlib.h>
#include <string.h>

#include <pinhole/fwwin.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_punch(const struct ph_punch *a, const struct ph_punch *b)
{
	if (a->role != b->role || !ph_addr_eq(&a->peer, &b->peer) ||
	    ph_addr_isset(&a->relay) != ph_addr_isset(&b->relay) ||
	    (ph_addr_isset(&a->relay) && !ph_addr_eq(&a->relay, &b->relay)))
		abort();
}

static void both_forms(const struct ph_punch *p)
{
	char out[PH_PUNCH_STRLEN];
	struct ph_punch q;
	const char *why;

	if (ph_punch_hdr_encode(p, out, sizeof out) ||
	    ph_punch_hdr_decode(&q, out, strlen(out), &why))
		abort();
	same_punch(p, &q);
	if (ph_punch_sdp_encode(p, out, sizeof out) ||
	    ph_punch_sdp_decode(&q, out, strlen(out), &why))
		abort();
	same_punch(p, &q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1, *why;
	char out[PH_PUNCH_STRLEN];
	struct ph_punch p;
	struct ph_addr a, a2;

	if (!size)
		return 0;
	size--;
	switch (data[0] % 3) {
	case 0:
		if (ph_sdp_addr_decode(&a, s, size, &why))
			return 0;
		if (ph_sdp_addr_encode(&a, out, sizeof out) ||
		    ph_sdp_addr_decode(&a2, out, strlen(out), &why) ||
		    !ph_addr_eq(&a, &a2))
			abort();
		break;
	case 1:
		if (!ph_punch_hdr_decode(&p, s, size, &why))
			both_forms(&p);
		break;
	default:
		if (!ph_punch_sdp_decode(&p, s, size, &why))
			both_forms(&p);
		break;
	}
	return 0;
}
