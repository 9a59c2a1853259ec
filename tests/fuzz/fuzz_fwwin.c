/* libFuzzer target: the Firewall-Window decoder; what it accepts must
 * encode canonically and decode to the same value. */
#include <stdlib.h>
#include <string.h>

#include <pinhole/fwwin.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ph_fwwin w, w2;
	char out[PH_FWWIN_STRLEN], out2[PH_FWWIN_STRLEN];
	const char *why;

	why = NULL;
	if (ph_fwwin_decode(&w, (const char *)data, size, &why)) {
		if (!why || !strstr(why, "Firewall-Window"))
			abort(); /* a 400 must name what was wrong */
		return 0;
	}
	if (ph_fwwin_encode(&w, out, sizeof out) ||
	    ph_fwwin_decode(&w2, out, strlen(out), &why) ||
	    ph_fwwin_encode(&w2, out2, sizeof out2) || strcmp(out, out2))
		abort();
	return 0;
}
