/* libFuzzer target: one ng request datagram through pinhole-relayd's
 * command handler (media/relay/ngd.c) over a real relay engine on
 * loopback (a small pool, so running out of ports is reached too). Every
 * datagram with a cookie gets a reply that starts with it and holds one
 * bencoded dictionary. */
#include <stdlib.h>
#include <string.h>

#include <pinhole/media.h>
#include "bencode.h"
#include "ngd.h"
#include "relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ph_relay *r;
static struct ngd *d;
static unsigned runs;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ph_relay_conf c = {.idle_s = 5, .threads = 1,
				  .port_min = 47000, .port_max = 47063};
	struct ph_addr adv;

	(void)argc;
	(void)argv;
	ph_addr_set(&c.addr, "127.0.0.1", 0);
	ph_addr_set(&adv, "127.0.0.1", 0);
	if (ph_relay_start(&r, &c) || ngd_alloc(&d, r, &adv))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[65536];
	const char *sp = memchr(data, ' ', size);
	struct ph_addr src;
	struct benc v;
	size_t n;

	ph_addr_set(&src, "127.0.0.1", 9);
	ngd_request(d, &src, (const char *)data, size, out, sizeof out, &n);
	if (n && (!sp || (size_t)((const char *)sp - (const char *)data) + 1 > n ||
		  memcmp(out, data, (size_t)((const char *)sp - (const char *)data) + 1) ||
		  benc_parse(&v, out + (sp - (const char *)data) + 1,
			     n - (size_t)(sp - (const char *)data) - 1) ||
		  !benc_is_dict(&v)))
		abort();
	/* calls left behind are swept as their streams idle */
	if (++runs % 1000 == 0)
		ngd_sweep(d);
	return 0;
}
