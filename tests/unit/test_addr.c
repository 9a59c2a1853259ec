/* Addresses: parsing, v4-mapped equality, printing, hashing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pinhole/addr.h>

Test(addr, parse_print)
{
	struct ph_addr a;
	char s[PH_ADDR_STRLEN];

	cr_assert_eq(ph_addr_set(&a, "192.0.2.1", 5060), 0);
	cr_assert_eq(ph_addr_print(&a, s, sizeof s), 0);
	cr_assert_str_eq(s, "192.0.2.1:5060");
	cr_assert_eq(ph_addr_set(&a, "[2001:db8::1]", 5), 0);
	cr_assert_eq(ph_addr_print(&a, s, sizeof s), 0);
	cr_assert_str_eq(s, "[2001:db8::1]:5");
	cr_assert_eq(ph_addr_print(&a, s, 8), ENOSPC);
	static const char *bad[] = {"", "[]", "[192.0.2.1]", "192.0.2", "192.0.2.1.5",
		"example.com", "::1]", "[::1", "2001:db8::1::1"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(ph_addr_set(&a, bad[i], 1), EINVAL, "%s", bad[i]);
	cr_assert_eq(ph_addr_set_n(&a, "1.2.3.4\0", 8, 1), EINVAL);
}

Test(addr, v4_mapped_is_the_same_address)
{
	struct ph_addr a, b;

	ph_addr_set(&a, "192.0.2.1", 7);
	ph_addr_set(&b, "::ffff:192.0.2.1", 7);
	cr_assert(ph_addr_eq(&a, &b));
	cr_assert_eq(ph_addr_hash(&a), ph_addr_hash(&b));
	ph_addr_set_port(&b, 8);
	cr_assert(!ph_addr_eq(&a, &b));
	cr_assert(ph_addr_ip_eq(&a, &b));
	ph_addr_set(&b, "2001:db8::1", 7);
	cr_assert(!ph_addr_ip_eq(&a, &b));
}

Test(addr, parse_host_and_port)
{
	static const struct { const char *in; const char *out; } ok[] = {
		{"192.0.2.1", "192.0.2.1:3478"}, {"192.0.2.1:5", "192.0.2.1:5"},
		{"[2001:db8::1]", "[2001:db8::1]:3478"},
		{"[2001:db8::1]:65535", "[2001:db8::1]:65535"},
		{"2001:db8::1", "[2001:db8::1]:3478"},
	};
	static const char *bad[] = {"192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
		"192.0.2.1:5x", "[2001:db8::1]:", "host:5", ":5", "192.0.2.1:1234567"};
	struct ph_addr a;
	char s[PH_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		cr_assert_eq(ph_addr_parse(&a, ok[i].in, strlen(ok[i].in), 3478), 0, "%s", ok[i].in);
		ph_addr_print(&a, s, sizeof s);
		cr_assert_str_eq(s, ok[i].out);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_neq(ph_addr_parse(&a, bad[i], strlen(bad[i]), 1), 0, "%s", bad[i]);
}
