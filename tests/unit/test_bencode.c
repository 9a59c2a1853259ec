/* bencode (media/relay/bencode.c): the ng protocol's encoding; well-formed
 * values walked, hostile ones refused, the writer never overflows. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "bencode.h"

static int parse(struct benc *v, const char *s)
{
	return benc_parse(v, s, strlen(s));
}

Test(bencode, rtpengine_offer_read)
{
	const char *m = "d7:call-id3:abc7:command5:offer5:flagsl13:trust-address"
			"13:port-latchinge3:sdp4:v=0\n6:numberi-42ee";
	struct benc d, v;
	const char *s;
	size_t n;
	int64_t i;

	cr_assert_eq(parse(&d, m), 0);
	cr_assert(benc_is_dict(&d));
	cr_assert_eq(benc_get_str(&d, "command", &s, &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(memcmp(s, "offer", 5), 0);
	cr_assert_eq(benc_get(&d, "flags", &v), 0);
	cr_assert(benc_has(&v, "port-latching"));
	cr_assert_not(benc_has(&v, "port"));
	cr_assert_eq(benc_get(&d, "number", &v), 0);
	cr_assert_eq(benc_int(&v, &i), 0);
	cr_assert_eq(i, -42);
	cr_assert_eq(benc_get_str(&d, "sdp", &s, &n), 0);
	cr_assert_eq(n, 4);
	/* a key is matched whole, and values are not keys */
	cr_assert_eq(benc_get(&d, "call", &v), ENOENT);
	cr_assert_eq(benc_get(&d, "abc", &v), ENOENT);
	cr_assert_eq(benc_get(&d, "offer", &v), ENOENT);
	/* a string where a list is expected is a list of itself */
	cr_assert_eq(benc_get(&d, "command", &v), 0);
	cr_assert(benc_has(&v, "offer"));
	cr_assert_eq(benc_int(&v, &i), EINVAL);
}

Test(bencode, nested_walk)
{
	struct benc d, tags, it = {0}, v;
	unsigned n = 0;

	cr_assert_eq(parse(&d, "d4:tagsd1:ad1:xi1ee1:bd1:xi2eeee"), 0);
	cr_assert_eq(benc_get(&d, "tags", &tags), 0);
	while (!benc_next(&tags, &it))
		n++;
	cr_assert_eq(n, 4); /* two keys, two values */
	cr_assert_eq(benc_get(&tags, "b", &v), 0);
	cr_assert_eq(benc_get(&v, "x", &v), 0);
	cr_assert_eq(benc_int(&v, &(int64_t){0}), 0);
	cr_assert_eq(benc_get(&d, "x", &v), ENOENT);
	cr_assert_eq(benc_next(&v, &it), EINVAL); /* d's "tags" is; v no more */
}

Test(bencode, hostile_refused)
{
	static const char *const bad[] = {
		"", "d", "de1", "i", "ie", "i-e", "i-0e", "i01e", "i1", "l", "le0",
		"5:abc", "-1:a", "01:a", "d1:ae", "di1ei2ee", "d1:a1:b1:ce",
		"x", "1:", "4294967297:a", "lllllllllllllllllllllllllllllllllllllle"
		"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
	};
	struct benc v;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(parse(&v, bad[i]), EBADMSG, "accepted %s", bad[i]);
	/* nul bytes inside strings are bytes */
	cr_assert_eq(benc_parse(&v, "3:a\0b", 5), 0);
	cr_assert_eq(parse(&v, "i9223372036854775807e"), 0);
	cr_assert_eq(benc_int(&v, &(int64_t){0}), 0);
	cr_assert_eq(parse(&v, "i9223372036854775808e"), 0);
	cr_assert_eq(benc_int(&v, &(int64_t){0}), ERANGE);
}

Test(bencode, writer_round_trip_and_overflow)
{
	char buf[64];
	struct bbuf w;
	struct benc d;
	const char *s;
	size_t n;

	bbuf_init(&w, buf, sizeof buf);
	benc_raw(&w, "d", 1);
	benc_kv(&w, "command", "ping");
	benc_ki(&w, "n", -7);
	benc_raw(&w, "e", 1);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(benc_parse(&d, buf, w.len), 0);
	cr_assert_eq(benc_get_str(&d, "command", &s, &n), 0);
	cr_assert_eq(n, 4);

	bbuf_init(&w, buf, 8);
	benc_kv(&w, "command", "ping");
	cr_assert_eq(w.err, ENOSPC);
	cr_assert_leq(w.len, 8);
	benc_raw(&w, "e", 1); /* stays failed, writes nothing */
	cr_assert_eq(w.err, ENOSPC);
	cr_assert_leq(w.len, 8);
}
