/* The in-memory location store: atomic replace, capacity, expiry on the
 * wheel, and each binding's flow kept as an address and an id. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "location.h"

static struct loc_contact contact(const char *uri, time_t expires)
{
	struct loc_contact c = {
		.uri = uri, .call_id = "cid@host", .cseq = 1, .q = -1,
		.expires = expires, .flow = {.transport = FLOW_TCP, .id = 42},
	};

	ph_addr_set(&c.flow.src, "198.51.100.7", 5062);
	return c;
}

Test(location, put_get_replace_remove)
{
	struct loc_store *st;
	const struct loc_contact *v;
	unsigned n;
	struct loc_contact c[2] = {contact("sip:a@10.0.0.1", 100),
				   contact("sip:a@10.0.0.2", 200)};
	char uri[] = "sip:a@10.0.0.1";

	cr_assert_eq(loc_mem_alloc(&st, 100, 0), 0);
	c[0].uri = uri;
	cr_assert_eq(loc_put(st, "alice@example.com", c, 2), 0);
	uri[4] = 'X'; /* the store kept its own copy */
	cr_assert_eq(loc_get(st, "alice@example.com", &v, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].uri, "sip:a@10.0.0.1");
	cr_assert_eq(v[0].flow.id, 42, "the flow by its id");
	cr_assert_eq(v[0].flow.transport, FLOW_TCP);
	cr_assert(ph_addr_eq(&v[0].flow.src, &c[0].flow.src));

	cr_assert_eq(loc_put(st, "alice@example.com", &c[1], 1), 0);
	loc_get(st, "alice@example.com", &v, &n);
	cr_assert_eq(n, 1);

	cr_assert_eq(loc_put(st, "alice@example.com", NULL, 0), 0);
	loc_get(st, "alice@example.com", &v, &n);
	cr_assert_eq(n, 0);
	loc_destroy(st);
}

Test(location, full_store_refuses_and_keeps_old)
{
	struct loc_store *st;
	const struct loc_contact *v;
	unsigned n;
	unsigned long aors, contacts;
	struct loc_contact c[3] = {contact("sip:1@h", 10), contact("sip:2@h", 10),
				   contact("sip:3@h", 10)};

	cr_assert_eq(loc_mem_alloc(&st, 2, 0), 0);
	cr_assert_eq(loc_put(st, "a@h", c, 2), 0);
	cr_assert_eq(loc_put(st, "b@h", &c[2], 1), ENOSPC);
	cr_assert_eq(loc_put(st, "a@h", c, 3), ENOSPC);
	loc_get(st, "a@h", &v, &n);
	cr_assert_eq(n, 2, "the old contacts are intact");
	loc_get(st, "b@h", &v, &n);
	cr_assert_eq(n, 0);
	/* replacing within the limit is fine */
	cr_assert_eq(loc_put(st, "a@h", &c[2], 1), 0);
	cr_assert_eq(loc_put(st, "b@h", c, 1), 0);
	loc_count(st, &aors, &contacts);
	cr_assert_eq(aors, 2);
	cr_assert_eq(contacts, 2);
	loc_destroy(st);
}

Test(location, expiry_per_contact_on_the_wheel)
{
	struct loc_store *st;
	const struct loc_contact *v;
	unsigned n;
	struct loc_contact c[2] = {contact("sip:short@h", 1010),
				   contact("sip:long@h", 1000 + 5000)};

	cr_assert_eq(loc_mem_alloc(&st, 10, 1000), 0);
	cr_assert_eq(loc_put(st, "a@h", c, 2), 0);
	cr_assert_eq(loc_expire(st, 1009), 0);
	cr_assert_eq(loc_expire(st, 1010), 1);
	loc_get(st, "a@h", &v, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0].uri, "sip:long@h");
	/* 5000 s is more than one turn of the wheel */
	cr_assert_eq(loc_expire(st, 5999), 0);
	cr_assert_eq(loc_expire(st, 6000), 1);
	loc_get(st, "a@h", &v, &n);
	cr_assert_eq(n, 0);
	loc_destroy(st);
}

Test(location, many_aors_grow_and_expire_after_time_jump)
{
	struct loc_store *st;
	unsigned long aors, contacts;
	char aor[32], uri[32];

	cr_assert_eq(loc_mem_alloc(&st, 100000, 0), 0);
	for (int i = 0; i < 20000; i++) {
		struct loc_contact c;
		snprintf(aor, sizeof aor, "user%d@h", i);
		snprintf(uri, sizeof uri, "sip:%d@10.0.0.1", i);
		c = contact(uri, 60 + i % 100);
		cr_assert_eq(loc_put(st, aor, &c, 1), 0);
	}
	loc_count(st, &aors, &contacts);
	cr_assert_eq(aors, 20000);
	/* the clock jumps far ahead: everything goes, nothing is missed */
	cr_assert_eq(loc_expire(st, 100000), 20000);
	loc_count(st, &aors, &contacts);
	cr_assert_eq(aors, 0);
	cr_assert_eq(contacts, 0);
	loc_destroy(st);
}

/* max_bindings_per_source: one source IP (any port) fills its share, then
 * gets EDQUOT with nothing changed; another IP still registers; what an
 * address holds can still be refreshed, and expiring gives the share back. */
Test(location, per_source_share)
{
	struct loc_store *st;
	struct loc_contact c = contact("sip:x@h", 100), other;
	struct ph_addr ip;
	char aor[32];

	cr_assert_eq(loc_mem_alloc(&st, 100, 0), 0);
	loc_mem_set_max_per_source(st, 3);
	for (int i = 0; i < 3; i++) {
		snprintf(aor, sizeof aor, "u%d@example.com", i);
		ph_addr_set_port(&c.flow.src, (uint16_t)(6000 + i));
		cr_assert_eq(loc_put(st, aor, &c, 1), 0);
	}
	ph_addr_set(&ip, "198.51.100.7", 0);
	cr_assert_eq(loc_source_count(st, &ip), 3);
	cr_assert_eq(loc_put(st, "u9@example.com", &c, 1), EDQUOT);
	cr_assert_eq(loc_source_count(st, &ip), 3, "nothing changed");
	cr_assert_eq(loc_put(st, "u0@example.com", &c, 1), 0, "a refresh");

	other = contact("sip:y@h", 100);
	ph_addr_set(&other.flow.src, "198.51.100.8", 5060);
	cr_assert_eq(loc_put(st, "u9@example.com", &other, 1), 0);

	cr_assert_eq(loc_expire(st, 200), 4);
	cr_assert_eq(loc_source_count(st, &ip), 0);
	c.expires = 300;
	cr_assert_eq(loc_put(st, "u9@example.com", &c, 1), 0);
	loc_destroy(st);
}
