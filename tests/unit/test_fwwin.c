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
		"198.51.100.2;\x01=1", " ", "198.51.100.2;", "198.51.100.2;;hops=2",
		"198.51.100.2;hops=999999999999", "198.51.100.2;hops=+1",
		"198.51.100.2;hops= ", "198.51.100.2;hops=1 2", "198.51.100.2;received=",
		"198.51.100.2;local=[10.0.1.2]", "198.51.100.2;local=10.0.1.2:5060",
		"198.51.100.2;mapping=unknown", "198.51.100.2;filtering=unknown",
		"198.51.100.2;x=\"unterminated", "198.51.100.2;=1",
		"198.51.100.2;received=192.0.2.1;RECEIVED=192.0.2.1",
		"198.51.100.2;lifetime=30;lifetime=31", "198.51.100.2;local=1.2.3.4;local=1.2.3.4",
		"198.51.100.2;filtering=adf;filtering=adf", "198.51.100.2 junk;hops=2",
		"[2001:db8::2;hops=2", "[[2001:db8::2]]",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct ph_fwwin w = {.hops = 77};
		const char *why = NULL;
		cr_assert_eq(dec(&w, bad[i], &why), EBADMSG, "accepted: %s", bad[i]);
		cr_assert(why && strstr(why, "Firewall-Window"), "why for %s", bad[i]);
		cr_assert_eq(w.hops, 77, "output written on failure: %s", bad[i]);
	}
}

Test(fwwin, reasons_name_the_part)
{
	static const struct { const char *in, *why; } cases[] = {
		{"", "Firewall-Window is empty"},
		{"198.51.100.2;hops=999999999999", "Firewall-Window hops out of range"},
		{"198.51.100.2;lifetime=0", "Firewall-Window lifetime out of range"},
		{"198.51.100.2;mapping=eim;Mapping=eim", "duplicate Firewall-Window mapping"},
		{"198.51.100.2;filtering=cone", "Firewall-Window filtering unknown"},
		{"198.51.100.2;received", "Firewall-Window received has no value"},
		{"203.0.113.300", "Firewall-Window host is not an IP address"},
	};
	struct ph_fwwin w;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *why = NULL;
		cr_assert_eq(dec(&w, cases[i].in, &why), EBADMSG, "%s", cases[i].in);
		cr_assert_str_eq(why, cases[i].why);
	}
}

Test(fwwin, received_and_ipv6_local_round_trip)
{
	static const char *s[] = {
		"198.51.100.2;local=10.0.1.2;mapping=eim;filtering=apdf;hops=2;lifetime=30;received=203.0.113.9",
		"[2001:db8::2];local=[fd00::5];mapping=none;filtering=eif;hops=99;lifetime=99999;received=[2001:db8::9]",
		"198.51.100.2;mapping=adm;filtering=adf;hops=1;lifetime=1",
		"198.51.100.2",
	};
	struct ph_fwwin w;
	struct ph_addr want;
	const char *why = NULL;
	char out[PH_FWWIN_STRLEN];

	for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
		cr_assert_eq(dec(&w, s[i], &why), 0, "%s: %s", s[i], why);
		cr_assert_eq(ph_fwwin_encode(&w, out, sizeof out), 0);
		cr_assert_str_eq(out, s[i]);
	}
	cr_assert_eq(dec(&w, s[0], &why), 0);
	ph_addr_set(&want, "203.0.113.9", 0);
	cr_assert(ph_addr_eq(&w.received, &want));
	/* local= and received= may also be bare IPv6, as Via's received= is */
	cr_assert_eq(dec(&w, "[2001:db8::2];local=fd00::5", &why), 0);
	ph_addr_set(&want, "fd00::5", 0);
	cr_assert(ph_addr_eq(&w.local, &want));
	cr_assert(!ph_addr_isset(&w.received));
	cr_assert_eq(w.mapping, PH_MAP_UNKNOWN);
	cr_assert_eq(w.hops, 0);
	cr_assert_eq(w.lifetime, 0);
}

Test(fwwin, leading_zeros_and_case_canonicalise)
{
	struct ph_fwwin w;
	char out[PH_FWWIN_STRLEN];

	cr_assert_eq(dec(&w, "198.51.100.2;HOPS=02;Lifetime=00030;mapping=EIM;filtering=ApDf", NULL), 0);
	cr_assert_eq(ph_fwwin_encode(&w, out, sizeof out), 0);
	cr_assert_str_eq(out, "198.51.100.2;mapping=eim;filtering=apdf;hops=2;lifetime=30");
}

Test(fwwin, names)
{
	cr_assert_str_eq(ph_mapping_name(PH_MAP_APDM), "apdm");
	cr_assert_str_eq(ph_mapping_name(PH_MAP_UNKNOWN), "unknown");
	cr_assert_str_eq(ph_mapping_name((enum ph_mapping)42), "unknown");
	cr_assert_str_eq(ph_filtering_name(PH_FILT_EIF), "eif");
	cr_assert_str_eq(ph_filtering_name(PH_FILT_UNKNOWN), "unknown");
	cr_assert_str_eq(ph_filtering_name((enum ph_filtering)-1), "unknown");
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
	char small[8], big[32];

	cr_assert_eq(dec(&w, "198.51.100.2;mapping=eim", NULL), 0);
	cr_assert_eq(ph_fwwin_encode(&w, small, sizeof small), ENOSPC);
	cr_assert_str_eq(small, "");
	for (size_t n = 0; n < 25; n++) /* 24 characters and the NUL */
		cr_assert_eq(ph_fwwin_encode(&w, big, n), ENOSPC, "%zu", n);
	cr_assert_eq(ph_fwwin_encode(&w, big, 25), 0);
	cr_assert_str_eq(big, "198.51.100.2;mapping=eim");
}

Test(fwwin, encode_writes_only_what_decodes)
{
	struct ph_fwwin w, bad;
	char out[PH_FWWIN_STRLEN];

	cr_assert_eq(dec(&w, "198.51.100.2", NULL), 0);
	bad = w, bad.hops = 100;
	cr_assert_eq(ph_fwwin_encode(&bad, out, sizeof out), EINVAL);
	bad = w, bad.lifetime = 100000;
	cr_assert_eq(ph_fwwin_encode(&bad, out, sizeof out), EINVAL);
	bad = w, bad.mapping = (enum ph_mapping)9;
	cr_assert_eq(ph_fwwin_encode(&bad, out, sizeof out), EINVAL);
	memset(&bad, 0, sizeof bad);
	cr_assert_eq(ph_fwwin_encode(&bad, out, sizeof out), EINVAL, "no host");
}
