/* libFuzzer target: what the ng control protocol reads from the network
 * (media/relay): bencode, walked everywhere it can be; and SDP, read and
 * rewritten. The copy of an SDP that reads must read as many media with
 * the relay's address and ports; nothing may read past its input. */
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "ngsdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every value under v, each accessor tried on each. */
static void walk(const struct benc *v, unsigned depth)
{
	struct benc it = {0}, x;
	const char *s;
	size_t n;
	int64_t i;

	if (depth > BENC_DEPTH + 1)
		abort(); /* deeper than benc_parse() allows */
	benc_str(v, &s, &n);
	benc_int(v, &i);
	benc_has(v, "trust-address");
	benc_get(v, "command", &x);
	benc_get_str(v, "sdp", &s, &n);
	while (!benc_next(v, &it)) {
		if (it.p < v->p || it.p + it.len > v->p + v->len)
			abort();
		walk(&it, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct ph_addr m[NGSDP_MAX_MEDIA], m2[NGSDP_MAX_MEDIA], ip;
	uint16_t ports[NGSDP_MAX_MEDIA];
	static char out[65536 + 4096];
	struct benc v;
	size_t len;
	unsigned n, n2;

	if (!benc_parse(&v, in, size))
		walk(&v, 0);
	if (ngsdp_read(in, size, m, NGSDP_MAX_MEDIA, &n))
		return 0;
	ph_addr_set(&ip, "198.18.0.1", 0);
	for (unsigned i = 0; i < n; i++)
		ports[i] = (uint16_t)(30000 + 4 * i);
	if (ngsdp_write(in, size, &ip, ports, n, true, out, sizeof out, &len))
		return 0;
	/* every c= names the relay now (of its family) */
	if (ngsdp_read(out, len, m2, NGSDP_MAX_MEDIA, &n2) || n2 != n)
		abort();
	for (unsigned i = 0; i < n; i++)
		if (!ph_addr_ip_eq(&m2[i], &ip) ||
		    ph_addr_port(&m2[i]) != (ph_addr_port(&m[i]) ? ports[i] : 0))
			abort();
	return 0;
}
