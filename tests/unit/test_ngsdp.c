/* The SDP of the ng protocol (media/relay/ngsdp.c): each m= line's
 * address read, the copy moved to the relay with ICE and a=rtcp gone. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ngsdp.h"

static const char two[] =
	"v=0\r\no=alice 1 1 IN IP4 10.0.1.2\r\ns=-\r\nc=IN IP4 10.0.1.2\r\n"
	"t=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n"
	"a=candidate:1 1 UDP 1 10.0.1.2 4000 typ host\r\na=ice-ufrag:x\r\n"
	"m=video 0 RTP/AVP 96\r\nm=video 5000/2 RTP/AVP 96\r\n"
	"c=IN IP6 2001:db8::1\r\na=sendrecv\r\n";

Test(ngsdp, read_session_and_media_c)
{
	struct ph_addr m[NGSDP_MAX_MEDIA], want;
	unsigned n;

	cr_assert_eq(ngsdp_read(two, strlen(two), m, NGSDP_MAX_MEDIA, &n), 0);
	cr_assert_eq(n, 3);
	ph_addr_set(&want, "10.0.1.2", 4000);
	cr_assert(ph_addr_eq(&m[0], &want));
	cr_assert_eq(ph_addr_port(&m[1]), 0);
	ph_addr_set(&want, "2001:db8::1", 5000);
	cr_assert(ph_addr_eq(&m[2], &want));
	cr_assert_eq(ngsdp_read(two, strlen(two), m, 2, &n), E2BIG);
}

Test(ngsdp, read_refuses)
{
	static const char *const bad[] = {
		"v=0\r\n", "m=audio 4000 RTP/AVP 0\r\n",
		"c=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
		"c=IN IP4 1.2.3.4\r\nm=audio RTP/AVP 0\r\n",
		"c=IN IP4 300.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
		"c=IN IP4 224.2.1.1/127\r\nm=audio 1 RTP/AVP 0\r\n",
		"m=audio 1 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\nm=audio 2 RTP/AVP 0\r\n",
	};
	struct ph_addr m[NGSDP_MAX_MEDIA];
	unsigned n;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_neq(ngsdp_read(bad[i], strlen(bad[i]), m, NGSDP_MAX_MEDIA, &n),
			      0, "accepted %s", bad[i]);
}

Test(ngsdp, write_moves_media_to_the_relay)
{
	uint16_t ports[3] = {30000, 30004, 30008};
	struct ph_addr ip, m[NGSDP_MAX_MEDIA];
	char out[1024];
	size_t len;
	unsigned n;

	ph_addr_set(&ip, "198.18.0.1", 0);
	cr_assert_eq(ngsdp_write(two, strlen(two), &ip, ports, 3, true, out,
				 sizeof out, &len), 0);
	out[len] = '\0';
	cr_assert(strstr(out, "o=alice 1 1 IN IP4 198.18.0.1\r\n"), "%s", out);
	cr_assert(strstr(out, "m=audio 30000 RTP/AVP 0\r\n"), "%s", out);
	cr_assert(strstr(out, "m=video 0 RTP/AVP 96\r\n"), "%s", out);
	cr_assert(strstr(out, "m=video 30008/2 RTP/AVP 96\r\n"), "%s", out);
	cr_assert_null(strstr(out, "candidate"));
	cr_assert_null(strstr(out, "ice-"));
	cr_assert_null(strstr(out, "rtcp"));
	cr_assert_null(strstr(out, "10.0.1.2"));
	cr_assert_null(strstr(out, "2001:db8"));
	cr_assert(strstr(out, "a=sendrecv\r\n"));
	cr_assert_eq(ngsdp_read(out, len, m, NGSDP_MAX_MEDIA, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(ph_addr_port(&m[2]), 30008);
	cr_assert(ph_addr_ip_eq(&m[2], &ip));
	/* without origin, o= stays; too small a buffer fails whole */
	cr_assert_eq(ngsdp_write(two, strlen(two), &ip, ports, 3, false, out,
				 sizeof out, &len), 0);
	cr_assert_eq(memcmp(out + 5, "o=alice 1 1 IN IP4 10.0.1.2\r\n", 29), 0);
	cr_assert_eq(ngsdp_write(two, strlen(two), &ip, ports, 3, false, out,
				 40, &len), ENOSPC);
}
