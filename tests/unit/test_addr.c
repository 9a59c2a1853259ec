/* Addresses: parsing, v4-mapped equality, printing, hashing. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
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

/* IPv4 is printed without inet_ntop (the store's hot path): the same
 * text as inet_ntop and "%s:%u" give, for every octet and port width. */
Test(addr, print_v4_as_inet_ntop)
{
	static const char *ips[] = {"0.0.0.0", "255.255.255.255", "10.0.0.1",
		"127.0.0.1", "192.168.100.9", "1.22.133.4"};
	static const uint16_t ports[] = {0, 1, 9, 10, 99, 100, 5060, 65535};
	struct ph_addr a;
	char s[PH_ADDR_STRLEN], want[PH_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof ips / sizeof *ips; i++)
		for (size_t j = 0; j < sizeof ports / sizeof *ports; j++) {
			cr_assert_eq(ph_addr_set(&a, ips[i], ports[j]), 0);
			snprintf(want, sizeof want, "%s:%u", ips[i], ports[j]);
			cr_assert_eq(ph_addr_print(&a, s, sizeof s), 0);
			cr_assert_str_eq(s, want);
			/* exactly fits, one byte short */
			cr_assert_eq(ph_addr_print(&a, s, strlen(want) + 1), 0);
			cr_assert_str_eq(s, want);
			cr_assert_eq(ph_addr_print(&a, s, strlen(want)), ENOSPC);
		}
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
		"192.0.2.1:5x", "[2001:db8::1]:", "host:5", ":5", "192.0.2.1:1234567",
		"", "[", "[]:5", "[2001:db8::1]5", "[192.0.2.1]:5", "192.0.2.1:-5",
		"192.0.2.1: 5", " 192.0.2.1", "fe80::1%eth0"};
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

Test(addr, from_sockaddr)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(9)};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(10)};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	struct ph_addr a, want;

	in.sin_addr.s_addr = htonl(0xc0000201);
	cr_assert_eq(ph_addr_from_sa(&a, (struct sockaddr *)&in, sizeof in), 0);
	ph_addr_set(&want, "192.0.2.1", 9);
	cr_assert(ph_addr_eq(&a, &want));
	cr_assert_eq(ph_addr_len(&a), sizeof in);
	cr_assert_eq(ph_addr_af(&a), AF_INET);

	in6.sin6_addr.s6_addr[15] = 1;
	cr_assert_eq(ph_addr_from_sa(&a, (struct sockaddr *)&in6, sizeof in6), 0);
	ph_addr_set(&want, "::1", 10);
	cr_assert(ph_addr_eq(&a, &want));
	cr_assert_eq(ph_addr_len(&a), sizeof in6);

	cr_assert_eq(ph_addr_from_sa(&a, (struct sockaddr *)&in6, sizeof in), EINVAL);
	cr_assert_eq(ph_addr_from_sa(&a, &sa, sizeof sa), EAFNOSUPPORT);
	cr_assert(ph_addr_eq(&a, &want), "unchanged on failure");
}

Test(addr, unset_address)
{
	struct ph_addr a;
	char s[PH_ADDR_STRLEN];

	memset(&a, 0, sizeof a);
	cr_assert(!ph_addr_isset(&a));
	cr_assert_eq(ph_addr_port(&a), 0);
	cr_assert_eq(ph_addr_len(&a), 0);
	cr_assert_eq(ph_addr_print(&a, s, sizeof s), EINVAL);
	cr_assert_eq(ph_addr_ip_print(&a, s, sizeof s), EINVAL);
	ph_addr_set_port(&a, 5);
	cr_assert_eq(ph_addr_port(&a), 0, "no port without a family");
	cr_assert(!ph_addr_ip_eq(&a, &a));
}

Test(addr, ip_print_and_hash)
{
	struct ph_addr a, b;
	char s[PH_ADDR_STRLEN];

	ph_addr_set(&a, "2001:DB8:0:0:0:0:0:1", 5060);
	cr_assert_eq(ph_addr_ip_print(&a, s, sizeof s), 0);
	cr_assert_str_eq(s, "2001:db8::1");
	cr_assert_eq(ph_addr_ip_print(&a, s, 11), ENOSPC);
	cr_assert_eq(ph_addr_ip_print(&a, s, 12), 0);
	b = a;
	ph_addr_set_port(&b, 5061);
	cr_assert_neq(ph_addr_hash(&a), ph_addr_hash(&b));
	ph_addr_set(&b, "2001:db8::1", 5060);
	cr_assert_eq(ph_addr_hash(&a), ph_addr_hash(&b));
	/* the longest text fits PH_ADDR_STRLEN */
	ph_addr_set(&a, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 65535);
	cr_assert_eq(ph_addr_print(&a, s, sizeof s), 0);
}

Test(addr, private_ranges)
{
	static const char *const priv[] = {
		"10.0.2.2", "172.16.0.1", "172.31.255.255", "192.168.1.20",
		"100.64.0.1", "100.127.255.254", "169.254.10.10", "fd00::5",
		"fc00::1", "fe80::1", "::ffff:10.1.2.3",
	};
	static const char *const pub[] = {
		"198.51.100.1", "172.15.255.255", "172.32.0.1", "192.169.0.1",
		"100.63.255.255", "100.128.0.1", "127.0.0.1", "8.8.8.8",
		"2001:db8::1", "::1", "fec0::1",
	};
	struct ph_addr a;

	for (size_t i = 0; i < sizeof priv / sizeof *priv; i++) {
		cr_assert_eq(ph_addr_set(&a, priv[i], 0), 0, "%s", priv[i]);
		cr_assert(ph_addr_is_private(&a), "%s is private", priv[i]);
	}
	for (size_t i = 0; i < sizeof pub / sizeof *pub; i++) {
		cr_assert_eq(ph_addr_set(&a, pub[i], 0), 0, "%s", pub[i]);
		cr_assert(!ph_addr_is_private(&a), "%s is not", pub[i]);
	}
}
