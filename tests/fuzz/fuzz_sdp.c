/* libFuzzer target: SDP through pinholed's reading and rewriting
 * (sdpcheck, then sofia-sip's parser and printer), as an offer or answer
 * from anyone would go. Whatever sdpfw_read() accepts must be rewritable
 * both ways a call rewrites it (a=fw-punch toward a window; media moved to
 * the relay), and the rewritten SDP must read again with as many m-lines.
 * A hang (sofia's parser looping) is caught by libFuzzer's -timeout. */
#include <stdlib.h>
#include <string.h>

#include "sdpfw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reread(const char *out, unsigned n)
{
	struct sdpfw again;
	const char *why;

	if (sdpfw_read(out, strlen(out), &again, &why) || again.n != n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ph_punch punch[SDPFW_MAX_MEDIA];
	struct ph_addr relay[SDPFW_MAX_MEDIA];
	struct sdpfw f;
	const char *why;
	char *out = NULL;

	if (sdpfw_read((const char *)data, size, &f, &why))
		return 0;
	memset(punch, 0, sizeof punch);
	for (unsigned i = 0; i < f.n; i++) {
		punch[i].role = PH_ROLE_OPEN;
		ph_addr_set(&punch[i].peer, "198.51.100.7", (uint16_t)(4000 + i));
		ph_addr_set(&punch[i].relay, "203.0.113.1", (uint16_t)(50000 + 2 * i));
		relay[i] = punch[i].relay;
	}
	if (sdpfw_write((const char *)data, size, punch, NULL, f.n, &out))
		abort();
	reread(out, f.n);
	free(out);
	out = NULL;
	for (unsigned i = 0; i < f.n; i++) {
		punch[i].role = PH_ROLE_RELAY;
		punch[i].peer = relay[i];
		memset(&punch[i].relay, 0, sizeof punch[i].relay);
	}
	if (sdpfw_write((const char *)data, size, punch, relay, f.n, &out))
		abort();
	reread(out, f.n);
	free(out);
	return 0;
}
