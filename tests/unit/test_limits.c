/* The per-source counters and the request rate limit: counts come and go
 * per key, and a source over its rate is refused while others are not,
 * with one answered refusal per second. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "countmap.h"
#include "ratelimit.h"

Test(countmap, counts_per_ip_whatever_the_port)
{
	struct countmap *m;
	struct ph_addr a, b, c;
	uint8_t k[COUNTMAP_IPKEY_LEN];

	cr_assert_eq(countmap_alloc(&m), 0);
	ph_addr_set(&a, "198.51.100.1", 5060);
	ph_addr_set(&b, "198.51.100.1", 40000);
	ph_addr_set(&c, "2001:db8::1", 5060);
	for (int i = 0; i < 1000; i++) { /* past the first table size */
		char ip[32];
		struct ph_addr x;

		snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
		ph_addr_set(&x, ip, 1);
		cr_assert_eq(countmap_add(m, k, countmap_ipkey(&x, k), 1), 0);
	}
	cr_assert_eq(countmap_add(m, k, countmap_ipkey(&a, k), 2), 0);
	cr_assert_eq(countmap_get(m, k, countmap_ipkey(&b, k)), 2, "same IP");
	cr_assert_eq(countmap_get(m, k, countmap_ipkey(&c, k)), 0);
	countmap_sub(m, k, countmap_ipkey(&b, k), 1);
	cr_assert_eq(countmap_get(m, k, countmap_ipkey(&a, k)), 1);
	countmap_sub(m, k, countmap_ipkey(&a, k), 5); /* never below 0 */
	cr_assert_eq(countmap_get(m, k, countmap_ipkey(&a, k)), 0);
	cr_assert_eq(countmap_add(m, "alice@example.com", 17, 3), 0);
	cr_assert_eq(countmap_get(m, "alice@example.com", 17), 3);
	countmap_free(m);
}

Test(ratelimit, a_source_over_its_rate_is_refused_the_others_not)
{
	struct ratelimit *r;
	struct ph_addr flood, other;
	unsigned ok = 0, answered = 0;
	bool answer;

	cr_assert_eq(ratelimit_alloc(&r, 100), 0);
	ph_addr_set(&flood, "198.51.100.1", 5060);
	ph_addr_set(&other, "198.51.100.2", 5060);
	/* 3,000 requests in 3 s: the burst (200) and 100/s */
	for (unsigned i = 0; i < 3000; i++) {
		ok += ratelimit_take(r, &flood, 1000 + i, &answer);
		answered += answer;
	}
	cr_assert(ok >= 490 && ok <= 510, "%u taken", ok);
	cr_assert(answered >= 2 && answered <= 4, "%u answered refusals", answered);
	cr_assert(ratelimit_take(r, &other, 4000, &answer), "another source");
	/* a long pause refills the bucket */
	cr_assert(ratelimit_take(r, &flood, 100000, &answer));
	ratelimit_free(r);

	cr_assert_eq(ratelimit_alloc(&r, 0), 0); /* 0: no limit */
	for (unsigned i = 0; i < 10000; i++)
		cr_assert(ratelimit_take(r, &flood, 1000, &answer));
	ratelimit_free(r);
}
