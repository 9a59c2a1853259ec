/* Where SIP listens on a host with several addresses: a wildcard listen
 * address expanded into this host's (loopback last, no duplicates), and
 * the Record-Route flow token carrying the address each side's flow came
 * to, so that in-dialog requests leave from there too. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "flow.h"
#include "sign.h"
#include "listen.h"

Test(listen, a_wildcard_becomes_this_hosts_addresses_loopback_last)
{
	struct ph_addr in[3], out[LISTEN_MAX], lo;
	unsigned n;

	ph_addr_set(&in[0], "127.0.0.1", 0);
	ph_addr_set(&in[1], "0.0.0.0", 0);
	ph_addr_set(&in[2], "127.0.0.1", 0);
	ph_addr_set(&lo, "127.0.0.1", 0);
	cr_assert_eq(listen_expand(in, 3, out, LISTEN_MAX, &n), 0);
	cr_assert_geq(n, 1);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(ph_addr_af(&out[i]), AF_INET);
		for (unsigned j = 0; j < i; j++)
			cr_assert(!ph_addr_ip_eq(&out[i], &out[j]), "twice");
	}
	cr_assert(ph_addr_ip_eq(&out[0], &lo), "a named address keeps its place");
	cr_assert_eq(listen_expand(in + 1, 1, out, LISTEN_MAX, &n), 0);
	cr_assert(ph_addr_ip_eq(&out[n - 1], &lo), "loopback last");
}

Test(listen, the_route_token_names_each_flows_local_address)
{
	struct flow a = {.transport = FLOW_UDP}, b = {.transport = FLOW_UDP};
	struct flow ra, rb;
	struct ph_addr me;
	struct sign_key *key;
	char rr[FLOW_RR_MAX], id[64], *p;

	cr_assert_eq(sign_key_alloc(&key, ""), 0);
	ph_addr_set(&me, "203.0.113.1", 5060);
	ph_addr_set(&a.src, "198.51.100.1", 40000);
	ph_addr_set(&a.local, "203.0.113.1", 5060);
	ph_addr_set(&b.src, "198.51.100.129", 40001);
	ph_addr_set(&b.local, "203.0.113.129", 5060);
	cr_assert_eq(flow_rr_write(rr, sizeof rr, key, &me, FLOW_RR_SIP, &a, &b), 0);
	*strchr(rr, '>') = 0;
	cr_assert_eq(flow_rr_read(strchr(rr, ';') + 1, key, &ra, &rb), 0, "%s", rr);
	cr_assert(ph_addr_eq(&ra.src, &a.src));
	cr_assert_str_eq(flow_ident(&ra, id, sizeof id), "203.0.113.1");
	cr_assert_str_eq(flow_ident(&rb, id, sizeof id), "203.0.113.129");
	/* a token without them: nta's choice */
	a.local = b.local = (struct ph_addr){0};
	cr_assert_eq(flow_rr_write(rr, sizeof rr, key, &me, FLOW_RR_SIP, &a, &b), 0);
	*strchr(rr, '>') = 0;
	cr_assert_eq(flow_rr_read(strchr(rr, ';') + 1, key, &ra, &rb), 0, "%s", rr);
	cr_assert_null(flow_ident(&rb, id, sizeof id));
	/* one character of it changed: not ours */
	p = strstr(rr, "40001");
	p[4] = '2';
	cr_assert_eq(flow_rr_read(strchr(rr, ';') + 1, key, &ra, &rb), EACCES);
	sign_key_free(key);
}

Test(listen, an_unsigned_or_forged_route_token_is_refused)
{
	struct flow a, b;
	struct sign_key *key, *other, *bad = NULL;
	struct ph_addr me;
	char rr[FLOW_RR_MAX];

	cr_assert_eq(sign_key_alloc(&key, "0123456789abcdef"), 0);
	cr_assert_eq(sign_key_alloc(&other, "0123456789abcdeF"), 0);
	cr_assert_eq(sign_key_alloc(&bad, "short"), EINVAL);
	cr_assert_eq(flow_rr_read("ph-a=198.51.100.1:40000;ph-b=198.51.100.129:40001",
				  key, &a, &b), EACCES);
	cr_assert_eq(flow_rr_read("ph-a=198.51.100.1:40000;ph-b=192.0.2.9:5060;"
				  "ph-s=AAAAAAAAAAAAAAAA", key, &a, &b), EACCES);
	cr_assert_eq(flow_rr_read("lr", key, &a, &b), ENOENT);
	ph_addr_set(&me, "203.0.113.1", 5060);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	ph_addr_set(&a.src, "198.51.100.1", 40000);
	ph_addr_set(&b.src, "198.51.100.129", 40001);
	cr_assert_eq(flow_rr_write(rr, sizeof rr, key, &me, FLOW_RR_SIP, &a, &b), 0);
	*strchr(rr, '>') = 0;
	/* another pinholed's key (another route_secret) */
	cr_assert_eq(flow_rr_read(strchr(rr, ';') + 1, other, &a, &b), EACCES);
	cr_assert_eq(flow_rr_read(strchr(rr, ';') + 1, key, &a, &b), 0);
	/* the same route_secret (a restart, another pinholed): ours */
	sign_key_free(other);
	cr_assert_eq(sign_key_alloc(&other, "0123456789abcdef"), 0);
	cr_assert_eq(flow_rr_read(strchr(rr, ';') + 1, other, &a, &b), 0);
	sign_key_free(key);
	sign_key_free(other);
}
