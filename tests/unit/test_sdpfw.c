/* pinhole's SDP attributes through sofia-sip's SDP parser: reading
 * windows, writing a=fw-punch, and hostile SDP. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdpfw.h"

#define HEAD "v=0\r\no=- 1 1 IN IP4 10.0.1.2\r\ns=-\r\nt=0 0\r\n"

static int rd(const char *sdp, struct sdpfw *f, const char **why)
{
	return sdpfw_read(sdp, strlen(sdp), f, why);
}

Test(sdpfw, reads_windows_per_m_line)
{
	const char *sdp = HEAD
		"c=IN IP4 198.51.100.2\r\n"
		"m=audio 40000 RTP/AVP 0\r\n"
		"a=fw-window:198.51.100.2 40000\r\n"
		"a=fw-local:10.0.1.2 40000\r\n"
		"m=video 40002 RTP/AVP 96\r\n"
		"c=IN IP4 198.51.100.3\r\n";
	struct sdpfw f;
	struct ph_addr want;
	const char *why = NULL;

	cr_assert_eq(rd(sdp, &f, &why), 0, "%s", why);
	cr_assert_eq(f.n, 2);
	ph_addr_set(&want, "198.51.100.2", 40000);
	cr_assert(ph_addr_eq(&f.m[0].window, &want));
	cr_assert(ph_addr_eq(&f.m[0].media, &want), "session c= and m= port");
	ph_addr_set(&want, "10.0.1.2", 40000);
	cr_assert(ph_addr_eq(&f.m[0].local, &want));
	cr_assert(!ph_addr_isset(&f.m[1].window), "no window on the video line");
	ph_addr_set(&want, "198.51.100.3", 40002);
	cr_assert(ph_addr_eq(&f.m[1].media, &want), "media-level c= wins");
}

Test(sdpfw, hostile_sdp_is_refused_with_a_reason)
{
	static const char *bad[] = {
		"", "garbage\r\n",
		HEAD "m=audio 40000 RTP/AVP 0\r\n",                      /* no c= */
		HEAD "c=IN IP4 pbx.example.com\r\nm=audio 40000 RTP/AVP 0\r\n",
		HEAD "c=IN IP4 198.51.100.2\r\nm=audio 40000 RTP/AVP 0\r\n"
		     "a=fw-window:198.51.100.2 40000\r\na=fw-window:198.51.100.2 40001\r\n",
		HEAD "c=IN IP4 198.51.100.2\r\nm=audio 40000 RTP/AVP 0\r\n"
		     "a=fw-window:198.51.100.2\r\n",                       /* no port */
		HEAD "c=IN IP4 198.51.100.2\r\nm=audio 40000 RTP/AVP 0\r\n"
		     "a=fw-window:198.51.100.2 0\r\n",
		HEAD "c=IN IP6 2001:db8::2\r\nm=audio 40000 RTP/AVP 0\r\n"
		     "a=fw-window:198.51.100.2 40000\r\n",                 /* IPv6 mix */
		HEAD "c=IN IP4 198.51.100.2\r\nm=audio 40000 RTP/AVP 0\r\n"
		     "a=fw-local:10.0.1.2 40000\r\na=fw-local:10.0.1.3 40000\r\n",
	};
	struct sdpfw f = {.n = 77};
	const char *why;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		why = NULL;
		cr_assert_eq(rd(bad[i], &f, &why), EBADMSG, "accepted #%zu", i);
		cr_assert_not_null(why);
		cr_assert_eq(f.n, 77, "output written on failure");
	}
}

Test(sdpfw, writes_one_fw_punch_per_m_line)
{
	const char *sdp = HEAD
		"c=IN IP4 198.51.101.2\r\n"
		"m=audio 40002 RTP/AVP 0\r\n"
		"a=fw-punch:relay 192.0.2.9 9\r\n"
		"a=sendrecv\r\n";
	struct ph_punch p = {.role = PH_ROLE_OPEN};
	char *out = NULL;

	ph_addr_set(&p.peer, "198.51.100.2", 40000);
	ph_addr_set(&p.relay, "203.0.113.1", 31000);
	cr_assert_eq(sdpfw_write(sdp, strlen(sdp), &p, NULL, 1, &out), 0);
	cr_assert_not_null(strstr(out, "a=fw-punch:open 198.51.100.2 40000 relay=203.0.113.1:31000\r\n"), "%s", out);
	cr_assert_null(strstr(out, "192.0.2.9"), "the old instruction is gone");
	cr_assert_not_null(strstr(out, "a=sendrecv"), "other attributes stay");
	cr_assert_null(strstr(strstr(out, "a=fw-punch") + 1, "a=fw-punch"), "only one");
	free(out);
	cr_assert_eq(sdpfw_write("junk", 4, &p, NULL, 1, &out), EBADMSG);
}

Test(sdpfw, relay_rewrites_c_and_m_and_keeps_hold)
{
	const char *sdp =
		"v=0\r\no=- 1 1 IN IP4 10.0.1.2\r\ns=-\r\nc=IN IP4 10.0.1.2\r\n"
		"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n"
		"a=fw-window:IN IP4 198.51.100.1 1234\r\na=sendonly\r\n"
		"m=video 0 RTP/AVP 96\r\n"
		"m=audio 5000 RTP/AVP 8\r\nc=IN IP4 0.0.0.0\r\n";
	struct ph_addr relay[3];
	struct ph_punch p[3] = {{0}};
	struct sdpfw f;
	const char *why;
	char *out;

	ph_addr_set(&relay[0], "203.0.113.1", 31000);
	ph_addr_set(&relay[1], "203.0.113.1", 31004);
	ph_addr_set(&relay[2], "203.0.113.1", 31008);
	for (int i = 0; i < 3; i++) {
		p[i].role = PH_ROLE_RELAY;
		p[i].peer = relay[i];
	}
	cr_assert_eq(sdpfw_write(sdp, strlen(sdp), p, relay, 3, &out), 0);
	cr_assert_eq(sdpfw_read(out, strlen(out), &f, &why), 0, "%s", out);
	cr_assert_eq(f.n, 3);
	cr_assert(ph_addr_eq(&f.m[0].media, &relay[0]), "%s", out);
	cr_assert_eq(ph_addr_port(&f.m[1].media), 0, "rejected stays rejected");
	cr_assert_eq(ph_addr_port(&f.m[2].media), 31008);
	cr_assert_not_null(strstr(out, "m=audio 5000") ? NULL : strstr(out, "c=IN IP4 0.0.0.0"),
			   "old-style hold stays: %s", out);
	cr_assert_null(strstr(out, "a=rtcp:"), "%s", out);
	cr_assert_null(strstr(out, "fw-window"), "%s", out);
	cr_assert_not_null(strstr(out, "a=sendonly"), "direction stays");
	cr_assert_not_null(strstr(out, "a=fw-punch:relay 203.0.113.1 31000"), "%s", out);
	cr_assert_not_null(strstr(out, "o=- 1 1 IN IP4 10.0.1.2"), "origin stays");
	free(out);
}

/* A rejected stream keeps its port 0 but loses its windows: the session
 * c= it inherits now names the relay, maybe of another address family
 * than its a=fw-window (found by fuzz_sdp: the rewrite did not read). */
Test(sdpfw, relay_strips_windows_of_a_rejected_stream)
{
	const char *sdp =
		"v=0\r\no=- 1 1 IN IP6 2001:db8::2\r\ns=-\r\nc=IN IP6 2001:db8::2\r\n"
		"t=0 0\r\nm=video 0 RTP/AVP 96\r\na=fw-window:2001:db8::2 4100\r\n"
		"m=audio 5000 RTP/AVP 8\r\n";
	struct ph_addr relay[2];
	struct ph_punch p[2] = {{0}};
	struct sdpfw f;
	const char *why;
	char *out;

	ph_addr_set(&relay[0], "203.0.113.1", 31000);
	ph_addr_set(&relay[1], "203.0.113.1", 31004);
	for (int i = 0; i < 2; i++) {
		p[i].role = PH_ROLE_RELAY;
		p[i].peer = relay[i];
	}
	cr_assert_eq(sdpfw_write(sdp, strlen(sdp), p, relay, 2, &out), 0);
	cr_assert_eq(sdpfw_read(out, strlen(out), &f, &why), 0, "%s: %s", why, out);
	cr_assert_eq(ph_addr_port(&f.m[0].media), 0, "rejected stays rejected");
	cr_assert_null(strstr(out, "fw-window"), "%s", out);
	free(out);
}
