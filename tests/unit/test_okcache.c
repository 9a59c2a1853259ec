/* The edits of 2xx to INVITEs kept for their late retransmissions: found
 * by Call-ID, CSeq and To tag (a fork's other 2xx is another answer), kept
 * 64*T1 and no longer, and never more than the most asked for. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "okcache.h"

Test(okcache, found_by_call_cseq_and_tag)
{
	struct okcache *c;
	const char *punch, *body;

	cr_assert_eq(okcache_alloc(&c, 100), 0);
	cr_assert_eq(okcache_put(c, "call-1", 1, "b1", "relay 192.0.2.1 4000",
				 "v=0\r\n", 1000), 0);
	cr_assert_eq(okcache_put(c, "call-1", 1, "b2", "relay 192.0.2.1 4002",
				 "v=0 fork\r\n", 1000), 0);
	cr_assert_eq(okcache_get(c, "call-1", 1, "b1", 2000, &punch, &body), 0);
	cr_assert_str_eq(punch, "relay 192.0.2.1 4000");
	cr_assert_str_eq(body, "v=0\r\n");
	cr_assert_eq(okcache_get(c, "call-1", 1, "b2", 2000, &punch, &body), 0);
	cr_assert_str_eq(body, "v=0 fork\r\n");
	cr_assert_eq(okcache_get(c, "call-1", 2, "b1", 2000, &punch, &body), ENOENT,
		     "another CSeq: a re-INVITE's answer");
	cr_assert_eq(okcache_get(c, "call-2", 1, "b1", 2000, &punch, &body), ENOENT);
	cr_assert_eq(okcache_get(c, "call-1", 1, NULL, 2000, &punch, &body), ENOENT);
	okcache_free(c);
}

Test(okcache, kept_64_t1_then_gone)
{
	struct okcache *c;
	const char *punch, *body;

	cr_assert_eq(okcache_alloc(&c, 100), 0);
	cr_assert_eq(okcache_put(c, "call-1", 1, "t", "p", "b", 1000), 0);
	cr_assert_eq(okcache_get(c, "call-1", 1, "t", 1000 + OKCACHE_TTL_MS - 1,
				 &punch, &body), 0);
	cr_assert_eq(okcache_get(c, "call-1", 1, "t", 1000 + OKCACHE_TTL_MS,
				 &punch, &body), ENOENT);
	cr_assert_eq(okcache_count(c), 0, "freed, not only hidden");
	okcache_free(c);
}

Test(okcache, the_oldest_go_past_the_most)
{
	struct okcache *c;
	const char *punch, *body;
	char id[32];

	cr_assert_eq(okcache_alloc(&c, 1000), 0);
	for (int i = 0; i < 50000; i++) { /* more than the table's heads */
		snprintf(id, sizeof id, "call-%d", i);
		cr_assert_eq(okcache_put(c, id, 1, "t", "p", "b", 1000 + i / 10), 0);
	}
	cr_assert_eq(okcache_count(c), 1000);
	cr_assert_eq(okcache_get(c, "call-48999", 1, "t", 6000, &punch, &body), ENOENT);
	cr_assert_eq(okcache_get(c, "call-49000", 1, "t", 6000, &punch, &body), 0);
	cr_assert_eq(okcache_get(c, "call-49999", 1, "t", 6000, &punch, &body), 0);
	okcache_free(c);
}
