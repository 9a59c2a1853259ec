/* a=fw-window / a=fw-local values and Firewall-Punch in both forms. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pinhole/fwwin.h>

Test(sdpattr, window_values)
{
	struct ph_addr a, want;
	const char *why;
	char out[64];

	cr_assert_eq(ph_sdp_addr_decode(&a, "198.51.100.2 40000", 18, &why), 0);
	ph_addr_set(&want, "198.51.100.2", 40000);
	cr_assert(ph_addr_eq(&a, &want));
	cr_assert_eq(ph_sdp_addr_encode(&a, out, sizeof out), 0);
	cr_assert_str_eq(out, "198.51.100.2 40000");
	cr_assert_eq(ph_sdp_addr_decode(&a, "2001:db8::1 5004", 16, &why), 0);

	static const char *bad[] = {"198.51.100.2", "198.51.100.2 0",
		"198.51.100.2 65536", "198.51.100.2 40000 1", "host 40000",
		"[2001:db8::1] 5004", "198.51.100.2  40000", "198.51.100.2 4e4", ""};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(ph_sdp_addr_decode(&a, bad[i], strlen(bad[i]), &why),
			     EBADMSG, "accepted: '%s'", bad[i]);
}

Test(sdpattr, punch_header_round_trip)
{
	struct ph_punch p;
	const char *why = NULL;
	char out[PH_PUNCH_STRLEN];
	const char *s = "open;peer=198.51.100.2:40000;relay=203.0.113.1:31000";

	cr_assert_eq(ph_punch_hdr_decode(&p, s, strlen(s), &why), 0, "%s", why);
	cr_assert_eq(p.role, PH_ROLE_OPEN);
	cr_assert_eq(ph_addr_port(&p.relay), 31000);
	cr_assert_eq(ph_punch_hdr_encode(&p, out, sizeof out), 0);
	cr_assert_str_eq(out, s);

	s = "transmit ; peer=[2001:db8::2]:5004 ; x-y=z";
	cr_assert_eq(ph_punch_hdr_decode(&p, s, strlen(s), &why), 0, "%s", why);
	cr_assert_eq(p.role, PH_ROLE_TRANSMIT);
	cr_assert(!ph_addr_isset(&p.relay));
	cr_assert_eq(ph_punch_hdr_encode(&p, out, sizeof out), 0);
	cr_assert_str_eq(out, "transmit;peer=[2001:db8::2]:5004");
}

Test(sdpattr, punch_sdp_round_trip)
{
	struct ph_punch p;
	const char *why = NULL;
	char out[PH_PUNCH_STRLEN];
	const char *s = "transmit 198.51.101.2 40002 relay=203.0.113.1:31000";

	cr_assert_eq(ph_punch_sdp_decode(&p, s, strlen(s), &why), 0, "%s", why);
	cr_assert_eq(p.role, PH_ROLE_TRANSMIT);
	cr_assert_eq(ph_punch_sdp_encode(&p, out, sizeof out), 0);
	cr_assert_str_eq(out, s);
	s = "relay 203.0.113.1 31000";
	cr_assert_eq(ph_punch_sdp_decode(&p, s, strlen(s), &why), 0, "%s", why);
	cr_assert_eq(p.role, PH_ROLE_RELAY);
}

Test(sdpattr, punch_hostile)
{
	static const char *hdr_bad[] = {"", "open", "open;peer=", "punch;peer=1.2.3.4:5",
		"open;peer=1.2.3.4", "open;peer=1.2.3.4:0", "open;peer=1.2.3.4:65536",
		"open;peer=2001:db8::1:5004", "open;peer=1.2.3.4:5;peer=1.2.3.4:6",
		"open;peer=1.2.3.4:5;relay=1.2.3.4:6;relay=1.2.3.4:7",
		"open;peer=1.2.3.4:99999999999999999999", "open;peer=1.2.3.4:5;relay"};
	static const char *sdp_bad[] = {"", "open", "open 1.2.3.4", "open 1.2.3.4 0",
		"open 1.2.3.4 5 6", "open 1.2.3.4 5 relay=", "open 1.2.3.4 5 relay=1.2.3.4",
		"sideways 1.2.3.4 5", "open 1.2.3.4 5 relay=1.2.3.4:6 extra"};
	struct ph_punch p = {.role = PH_ROLE_LOCAL};
	const char *why;

	for (size_t i = 0; i < sizeof hdr_bad / sizeof *hdr_bad; i++)
		cr_assert_eq(ph_punch_hdr_decode(&p, hdr_bad[i], strlen(hdr_bad[i]), &why),
			     EBADMSG, "accepted: '%s'", hdr_bad[i]);
	for (size_t i = 0; i < sizeof sdp_bad / sizeof *sdp_bad; i++)
		cr_assert_eq(ph_punch_sdp_decode(&p, sdp_bad[i], strlen(sdp_bad[i]), &why),
			     EBADMSG, "accepted: '%s'", sdp_bad[i]);
	cr_assert_eq(p.role, PH_ROLE_LOCAL, "nothing written on failure");
}
