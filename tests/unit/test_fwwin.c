/* Firewall-Window codec: canonical round trips and hostile values. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pinhole/fwwin.h>

static int dec(struct ph_fwwin *w, const char *s, const char **why)
{
	return ph_fwwin_decode(w, s, strlen(s), why);
}

Test(fwwin, decode_full_header)
{
	struct ph_fwwin w;
	const char *why = NULL;
	char out[PH_FWWIN_STRLEN];
	const char *s = "198.51.100.2;local=10.0.1.2;mapping=eim;filtering=apdf;hops=2;lifetime=30";

	cr_assert_eq(dec(&w, s, &why), 0, "%s", why);
	cr_assert_eq(w.mapping, PH_MAP_EIM);
	cr_assert_eq(w.filtering, PH_FILT_APDF);
	cr_assert_eq(w.hops, 2);
	cr_assert_eq(w.lifetime, 30);
	cr_assert_eq(ph_fwwin_encode(&w, out, sizeof out), 0);
	cr_assert_str_eq(out, s);
}

Test(fwwin, liberal_in_spacing_case_and_extensions)
{
	struct ph_fwwin w;
	const char *why = NULL;
	char out[PH_FWWIN_STRLEN];

	cr_assert_eq(dec(&w, " [2001:db8::2] ; MAPPING = APDM;x-vendor=\"a;b\";flag;Filtering=none ", &why), 0, "%s", why);
	cr_assert_eq(w.mapping, PH_MAP_APDM);
	cr_assert_eq(w.filtering, PH_FILT_NONE);
	cr_assert_eq(ph_fwwin_encode(&w, out, sizeof out), 0);
	cr_assert_str_eq(out, "[2001:db8::2];mapping=apdm;filtering=none");
}

Test(fwwin, hostile_values_rejected_with_a_reason)
{
	static const char *bad[] = {
		"", ";", "example.com", "198.51.100.2:5060", "2001:db8::2",
		"[198.51.100.2]", "198.51.100.2;mapping=", "198.51.100.2;mapping",
		"198.51.100.2;mapping=full-cone", "198.51.100.2;filtering=eim",
		"198.51.100.2;hops=0", "198.51.100.2;hops=100", "198.51.100.2;hops=-1",
		"198.51.100.2;hops=99999999999999999999", "198.51.100.2;hops=2x",
		"198.51.100.2;lifetime=0", "198.51.100.2;lifetime=100000",
		"198.51.100.2;lifetime=4294967297", "198.51.100.2;local=somewhere",
		"198.51.100.2;mapping=eim;mapping=apdm", "198.51.100.2;hops=1;hops=1",
		"198.51.100.2;bad param=1", "198.51.100.2;x=a b",
		"198.51.100.2;\x01=1",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct ph_fwwin w = {.hops = 77};
		const char *why = NULL;
		cr_assert_eq(dec(&w, bad[i], &why), EBADMSG, "accepted: %s", bad[i]);
		cr_assert(why && strstr(why, "Firewall-Window"), "why for %s", bad[i]);
		cr_assert_eq(w.hops, 77, "output written on failure: %s", bad[i]);
	}
}

Test(fwwin, embedded_nul_is_rejected)
{
	struct ph_fwwin w;
	const char s[] = "198.51.100.2;hops=2\0;hops=3";

	cr_assert_eq(ph_fwwin_decode(&w, s, sizeof s - 1, NULL), EBADMSG);
}

Test(fwwin, encode_needs_room)
{
	struct ph_fwwin w;
	char small[8];

	cr_assert_eq(dec(&w, "198.51.100.2;mapping=eim", NULL), 0);
	cr_assert_eq(ph_fwwin_encode(&w, small, sizeof small), ENOSPC);
	cr_assert_str_eq(small, "");
}
