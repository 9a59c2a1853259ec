/* a=fw-window / a=fw-local values and Firewall-Punch in both forms. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
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

	cr_assert_eq(ph_sdp_addr_encode(&a, out, sizeof out), 0);
	cr_assert_str_eq(out, "2001:db8::1 5004");
	cr_assert_eq(ph_sdp_addr_encode(&a, out, 16), ENOSPC);
	cr_assert_eq(ph_sdp_addr_decode(&a, " 192.0.2.1 1 ", 13, &why), 0);
	cr_assert_eq(ph_addr_port(&a), 1);
	cr_assert_eq(ph_sdp_addr_decode(&a, "192.0.2.1 65535", 15, &why), 0);
	cr_assert_eq(ph_addr_port(&a), 65535);
	ph_addr_set_port(&a, 0);
	cr_assert_eq(ph_sdp_addr_encode(&a, out, sizeof out), EINVAL);

	static const char *bad[] = {"198.51.100.2", "198.51.100.2 0",
		"198.51.100.2 65536", "198.51.100.2 40000 1", "host 40000",
		"[2001:db8::1] 5004", "198.51.100.2  40000", "198.51.100.2 4e4", "",
		" ", "198.51.100.2 99999999999", "198.51.100.2 -1", "198.51.100.2\t40000",
		"198.51.100.2 40000\r\n", "198.51.100.2:40000", "0x7f000001 5"};
	ph_addr_set(&want, "192.0.2.7", 7);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		a = want;
		cr_assert_eq(ph_sdp_addr_decode(&a, bad[i], strlen(bad[i]), &why),
			     EBADMSG, "accepted: '%s'", bad[i]);
		cr_assert(ph_addr_eq(&a, &want), "written on failure: '%s'", bad[i]);
	}
	cr_assert_eq(ph_sdp_addr_decode(&a, "192.0.2.1 5\0", 12, &why), EBADMSG);
	cr_assert_eq(ph_sdp_addr_decode(&a, "192.0.2.1\0 5", 12, &why), EBADMSG);
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

Test(sdpattr, punch_every_role_both_forms)
{
	static const char *hdr[] = {"open", "transmit", "relay", "local"};
	struct ph_punch p, q;
	char h[PH_PUNCH_STRLEN], sdp[PH_PUNCH_STRLEN], want[PH_PUNCH_STRLEN];
	const char *why = NULL, *s;

	for (int r = PH_ROLE_OPEN; r <= PH_ROLE_LOCAL; r++) {
		cr_assert_str_eq(ph_role_name((enum ph_role)r), hdr[r - 1]);
		snprintf(want, sizeof want, "%s;peer=[2001:db8::2]:5004;relay=[2001:db8::9]:31000",
			 hdr[r - 1]);
		cr_assert_eq(ph_punch_hdr_decode(&p, want, strlen(want), &why), 0, "%s", why);
		cr_assert_eq(p.role, r);
		cr_assert_eq(ph_punch_hdr_encode(&p, h, sizeof h), 0);
		cr_assert_str_eq(h, want);
		cr_assert_eq(ph_punch_sdp_encode(&p, sdp, sizeof sdp), 0);
		snprintf(want, sizeof want, "%s 2001:db8::2 5004 relay=[2001:db8::9]:31000",
			 hdr[r - 1]);
		cr_assert_str_eq(sdp, want);
		cr_assert_eq(ph_punch_sdp_decode(&q, sdp, strlen(sdp), &why), 0, "%s", why);
		cr_assert(q.role == p.role && ph_addr_eq(&q.peer, &p.peer) &&
			  ph_addr_eq(&q.relay, &p.relay));
	}
	cr_assert_str_eq(ph_role_name(PH_ROLE_NONE), "none");
	s = "OPEN;PEER=192.0.2.1:9;flag;x=\"a;b\"";
	cr_assert_eq(ph_punch_hdr_decode(&p, s, strlen(s), &why), 0, "%s", why);
	cr_assert_eq(p.role, PH_ROLE_OPEN);
	cr_assert_eq(ph_addr_port(&p.peer), 9);
}

Test(sdpattr, punch_encoders_refuse_what_does_not_decode)
{
	struct ph_punch p;
	char out[PH_PUNCH_STRLEN];
	const char *s = "relay;peer=203.0.113.1:31000";

	cr_assert_eq(ph_punch_hdr_decode(&p, s, strlen(s), NULL), 0);
	cr_assert_eq(ph_punch_hdr_encode(&p, out, strlen(s)), ENOSPC);
	cr_assert_eq(ph_punch_sdp_encode(&p, out, 10), ENOSPC);
	p.role = PH_ROLE_NONE;
	cr_assert_eq(ph_punch_hdr_encode(&p, out, sizeof out), EINVAL);
	cr_assert_eq(ph_punch_sdp_encode(&p, out, sizeof out), EINVAL);
	p.role = PH_ROLE_OPEN;
	ph_addr_set_port(&p.peer, 0);
	cr_assert_eq(ph_punch_hdr_encode(&p, out, sizeof out), EINVAL);
	cr_assert_eq(ph_punch_sdp_encode(&p, out, sizeof out), EINVAL);
}

Test(sdpattr, punch_reasons)
{
	static const struct { const char *in, *why; } hdr[] = {
		{"open;peer=1.2.3.4:5;peer=1.2.3.4:6", "duplicate Firewall-Punch peer"},
		{"open;peer=1.2.3.4:5;relay=1.2.3.4:6;relay=1.2.3.4:7", "duplicate Firewall-Punch relay"},
		{"open;peer=1.2.3.4:0", "Firewall-Punch peer is not IP:port"},
		{"open;relay=1.2.3.4:5", "Firewall-Punch has no peer"},
		{"", "Firewall-Punch role unknown"},
	};
	struct ph_punch p;
	const char *why;

	for (size_t i = 0; i < sizeof hdr / sizeof *hdr; i++) {
		why = NULL;
		cr_assert_eq(ph_punch_hdr_decode(&p, hdr[i].in, strlen(hdr[i].in), &why), EBADMSG);
		cr_assert_str_eq(why, hdr[i].why);
	}
	cr_assert_eq(ph_punch_sdp_decode(&p, "open 1.2.3.4 0", 14, &why), EBADMSG);
	cr_assert_str_eq(why, "a=fw-punch peer is not an address and port");
}

Test(sdpattr, punch_hostile)
{
	static const char *hdr_bad[] = {"", "open", "open;peer=", "punch;peer=1.2.3.4:5",
		"open;peer=1.2.3.4", "open;peer=1.2.3.4:0", "open;peer=1.2.3.4:65536",
		"open;peer=2001:db8::1:5004", "open;peer=1.2.3.4:5;peer=1.2.3.4:6",
		"open;peer=1.2.3.4:5;relay=1.2.3.4:6;relay=1.2.3.4:7",
		"open;peer=1.2.3.4:99999999999999999999", "open;peer=1.2.3.4:5;relay",
		"open;peer=[1.2.3.4]:5", "open;peer=1.2.3.4:5;", "open;;peer=1.2.3.4:5",
		"open;peer=1.2.3.4:5;bad param", "open;peer=1.2.3.4:5 6", "open peer=1.2.3.4:5",
		"open;peer=host:5", "open;peer=1.2.3.4:+5", "open;peer=1.2.3.4:5\r\n"};
	static const char *sdp_bad[] = {"", "open", "open 1.2.3.4", "open 1.2.3.4 0",
		"open 1.2.3.4 5 6", "open 1.2.3.4 5 relay=", "open 1.2.3.4 5 relay=1.2.3.4",
		"sideways 1.2.3.4 5", "open 1.2.3.4 5 relay=1.2.3.4:6 extra",
		"open [2001:db8::1] 5", "open 2001:db8::1 5 relay=2001:db8::2:6",
		"open 1.2.3.4 5 RELAY=1.2.3.4:6", "open 1.2.3.4 5 peer=1.2.3.4:6",
		"open  1.2.3.4 5", "open 1.2.3.4 65536", "open;peer=1.2.3.4:5"};
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
