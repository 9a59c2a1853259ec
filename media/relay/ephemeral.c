/* The kernel's ephemeral port range: see relay.h. */
#include <errno.h>
#include <stdio.h>

#include "relay.h"

int ph_relay_ephemeral(const char *path, unsigned *lo, unsigned *hi)
{
	FILE *f = fopen(path ? path : PH_EPHEMERAL_PATH, "r");
	int n;

	if (!f)
		return errno;
	n = fscanf(f, "%u %u", lo, hi);
	fclose(f);
	return n == 2 && *lo <= *hi && *hi <= 65535 ? 0 : EINVAL;
}

bool ph_relay_ephemeral_overlap(uint16_t port_min, uint16_t port_max,
				const char *path, unsigned *lo, unsigned *hi)
{
	return !ph_relay_ephemeral(path, lo, hi) && port_min <= *hi &&
	       port_max >= *lo;
}
