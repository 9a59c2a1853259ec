/* The SDP grammar check in front of sofia-sip's SDP parser: what real
 * phones write passes, and each input that hangs or crashes Debian's
 * parser is refused with a reason. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sdpcheck.h"
#include "sdpfw.h"

#define HEAD "v=0\r\no=- 1 1 IN IP4 10.0.1.2\r\ns=-\r\nt=0 0\r\n"

static int check(const char *sdp, const char **why)
{
	*why = NULL;
	return sdpcheck(sdp, strlen(sdp), why);
}

/* Offers as phones and gateways write them. */
static const char *const good[] = {
	/* baresip */
	"v=0\r\no=alice 1544 2342 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
	"t=0 0\r\nm=audio 10582 RTP/AVP 0 8 101\r\nb=AS:64\r\n"
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
	"a=label:1\r\na=ptime:20\r\n",
	/* linphone with ICE */
	"v=0\r\no=bob 3114 1532 IN IP4 192.168.1.20\r\ns=Talk\r\n"
	"c=IN IP4 203.0.113.9\r\nt=0 0\r\na=ice-pwd:5a0dd4d1a5b7b6b1e7ba1c2f\r\n"
	"a=ice-ufrag:1f0b8e3f\r\nm=audio 7078 RTP/AVP 96 0 8 101\r\n"
	"a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n"
	"a=rtcp:7079\r\na=candidate:1 1 UDP 2130706303 192.168.1.20 7078 typ host\r\n"
	"a=candidate:2 1 UDP 1694498687 203.0.113.9 40404 typ srflx raddr "
	"192.168.1.20 rport 7078\r\na=rtcp-fb:* trr-int 1000\r\n"
	"m=video 0 RTP/AVP 96\r\n",
	/* WebRTC gateway: SAVPF, BUNDLE, IPv6, 64-bit session id */
	"v=0\r\no=- 4611731400430051336 2 IN IP6 ::1\r\ns=-\r\nt=0 0\r\n"
	"a=group:BUNDLE 0\r\na=msid-semantic: WMS *\r\n"
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\nc=IN IP6 2001:db8::5\r\n"
	"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	"a=fingerprint:sha-256 AB:CD:EF\r\na=setup:actpass\r\na=mid:0\r\n",
	/* T.38 fax, LF line ends, trailing spaces, SRTP crypto, r= and z= */
	"v=0\no=- 5 5 IN IP4 198.51.100.1\ns=fax\nc=IN IP4 198.51.100.1\n"
	"t=3034423619 3042462419\nr=7d 1h 0 25h\nz=2882844526 -1h 2898848070 0\n"
	"m=image 4000 udptl t38 \nm=audio 4002/2 RTP/SAVP 0\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\n",
	/* pinhole's own attributes, empty s= and e=, a trailing blank line */
	HEAD "e=\r\nc=IN IP4 198.51.100.2\r\nm=audio 40000 RTP/AVP 0\r\n"
	"a=fw-window:198.51.100.2 40000\r\na=fw-local:10.0.1.2 40000\r\n\r\n",
};

Test(sdpcheck, what_phones_write_passes)
{
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		const char *why;
		struct sdpfw f;

		cr_assert_eq(check(good[i], &why), 0, "offer %zu: %s", i, why);
		cr_assert_eq(sdpfw_read(good[i], strlen(good[i]), &f, &why), 0,
			     "offer %zu reads: %s", i, why);
	}
}

struct bad {
	const char *sdp, *why;
};

/* Each refused input with the reason it gets. The first ones are those
 * that hang or crash sofia-sip 1.12.11's sdp_parse(). */
static const struct bad bad[] = {
	{HEAD "m=audio 5m <\r\n", "malformed m= line"}, /* endless loop */
	{HEAD "m=audio 5 udp 0 <\r\n", "malformed m= line"}, /* the same */
	{HEAD "x\r\n", "SDP line not of the form <type>=<value>"}, /* overread */
	{HEAD "t=x 0\r\n", "malformed t= line"},              /* NULL deref */
	{HEAD "b=AS:x\r\n", "malformed b= line"},             /* NULL deref */
	{HEAD "m=audio 4000 RTP/AVP\r\n", "malformed m= line"},
	{HEAD "m=audio 70000 RTP/AVP 0\r\n", "malformed m= line"},
	{HEAD "m=audio 4000/x RTP/AVP 0\r\n", "malformed m= line"},
	{HEAD "m=audio 4000 RTP//AVP 0\r\n", "malformed m= line"},
	{HEAD "m=audio\t4000 RTP/AVP 0\r\n", "malformed m= line"},
	{HEAD "c=IN IP4\r\n", "malformed c= line"},
	{HEAD "c=IN  \r\n", "malformed c= line"},
	{"v=0\r\no=- x 1 IN IP4 10.0.1.2\r\n", "malformed o= line"},
	/* read, but not printed again by sofia-sip (found by fuzz_sdp) */
	{"v=0\r\no=- 1 1 IN IP4 10.0.0.1/1\r\n", "malformed o= line"},
	{HEAD "r=7d 1h\r\n", "malformed r= line"},
	{HEAD "z=1 -\r\n", "malformed z= line"},
	{HEAD "a=\r\n", "malformed a= line"},
	{HEAD "a=foo bar\r\n", "malformed a= line"},
	{HEAD "y=1\r\n", "unknown SDP line type"},
	{HEAD " c=IN IP4 10.0.1.2\r\n", "SDP line not of the form <type>=<value>"},
	{HEAD "C=IN IP4 10.0.1.2\r\n", "SDP line not of the form <type>=<value>"},
	{HEAD "\r\nc=IN IP4 10.0.1.2\r\n", "empty line inside SDP"},
	{HEAD "s=a\rb\r\n", "control character in SDP"},
	{HEAD "v=0\r\n", "v= line repeated"},
	{"o=- 1 1 IN IP4 10.0.1.2\r\nv=0\r\n", "SDP does not begin with v=0"},
	{"v=1\r\n", "SDP does not begin with v=0"},
	{"", "empty SDP"},
	{"\r\n", "empty SDP"},
};

Test(sdpcheck, hostile_sdp_is_refused_with_a_reason)
{
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *why;
		struct sdpfw f;

		cr_assert_eq(check(bad[i].sdp, &why), EBADMSG, "input %zu", i);
		cr_assert_str_eq(why, bad[i].why, "input %zu", i);
		cr_assert_eq(sdpfw_read(bad[i].sdp, strlen(bad[i].sdp), &f, &why),
			     EBADMSG, "sdpfw_read refuses input %zu", i);
	}
}

Test(sdpcheck, nul_and_size)
{
	static char big[SDPCHECK_MAX + 2];
	const char nul[] = HEAD "s=a\0b\r\n";
	const char *why;

	cr_assert_eq(sdpcheck(nul, sizeof nul - 1, &why), EBADMSG);
	cr_assert_str_eq(why, "control character in SDP");
	memcpy(big, HEAD, strlen(HEAD));
	memset(big + strlen(HEAD), 'a', sizeof big - strlen(HEAD));
	cr_assert_eq(sdpcheck(big, sizeof big, &why), EBADMSG);
	cr_assert_str_eq(why, "SDP too large");
}

/* The body is not NUL-terminated where sofia hands it over: the check
 * reads only len bytes. */
Test(sdpcheck, reads_only_len_bytes)
{
	const char sdp[] = HEAD "m=audio 4000 RTP/AVP 0\r\nm=audio 5m <";
	const char *why;

	cr_assert_eq(sdpcheck(sdp, strlen(HEAD) + 24, &why), 0);
	cr_assert_eq(sdpcheck(sdp, sizeof sdp - 1, &why), EBADMSG);
}
