/* REGISTER rules (RFC 3261 section 10.3) on real messages parsed by
 * sofia-sip, against the in-memory store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_parser.h>

#include "register.h"

static struct pconf conf;
static struct loc_store *st;
static struct flow flow;
static struct reg_reply r;
static msg_t *msg;

static void setup(void)
{
	const char *why;

	conf_defaults(&conf);
	conf_set_arg(&conf, "max_contacts=3", &why);
	cr_assert_eq(loc_mem_alloc(&st, 1000, 0), 0);
	ph_addr_set(&flow.src, "198.51.100.7", 5062);
	flow.transport = FLOW_UDP;
}

static void teardown(void)
{
	reg_reply_reset(&r);
	loc_destroy(st);
	if (msg)
		msg_destroy(msg);
	msg = NULL;
}

TestSuite(reg, .init = setup, .fini = teardown);

/* REGISTER for alice with the given CSeq and extra header lines. */
static int do_register(unsigned cseq, const char *call_id, const char *extra)
{
	char text[2048];
	int n = snprintf(text, sizeof text,
		"REGISTER sip:example.com SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK%u\r\n"
		"Max-Forwards: 70\r\n"
		"From: <sip:alice@example.com>;tag=t1\r\n"
		"To: <sip:alice@EXAMPLE.com>\r\n"
		"Call-ID: %s\r\n"
		"CSeq: %u REGISTER\r\n"
		"%s"
		"Content-Length: 0\r\n\r\n", cseq, call_id, cseq, extra);

	if (msg)
		msg_destroy(msg);
	reg_reply_reset(&r);
	msg = msg_make(sip_default_mclass(), 0, text, n);
	cr_assert(msg);
	return reg_handle(st, &conf, sip_object(msg), &flow, 1000, &r);
}

static unsigned bindings(void)
{
	const struct loc_contact *v;
	unsigned n;

	loc_get(st, "alice@example.com", &v, &n);
	return n;
}

static time_t binding_expires(unsigned i)
{
	const struct loc_contact *v;
	unsigned n;

	loc_get(st, "alice@example.com", &v, &n);
	cr_assert_lt(i, n);
	return v[i].expires;
}

Test(reg, add_refresh_remove)
{
	cr_assert_eq(do_register(1, "c1", "Contact: <sip:alice@10.0.0.2:5062>\r\n"), 200);
	cr_assert_str_eq(r.contacts, "<sip:alice@10.0.0.2:5062>;expires=3600");
	cr_assert_eq(bindings(), 1);

	cr_assert_eq(do_register(2, "c1", "Contact: <sip:alice@10.0.0.2:5062>\r\nExpires: 120\r\n"), 200);
	cr_assert_str_eq(r.contacts, "<sip:alice@10.0.0.2:5062>;expires=120");
	cr_assert_eq(binding_expires(0), 1120);

	cr_assert_eq(do_register(3, "c1", "Contact: <sip:alice@10.0.0.2:5062>;expires=0\r\n"), 200);
	cr_assert_null(r.contacts);
	cr_assert_eq(bindings(), 0);
}

Test(reg, query_lists_without_changing)
{
	do_register(1, "c1", "Contact: <sip:alice@10.0.0.2>;expires=600\r\n");
	cr_assert_eq(do_register(2, "c2", ""), 200);
	cr_assert_str_eq(r.contacts, "<sip:alice@10.0.0.2>;expires=600");
	cr_assert_eq(bindings(), 1);
}

Test(reg, stale_cseq_same_call_id_refused)
{
	do_register(5, "c1", "Contact: <sip:alice@10.0.0.2>\r\nExpires: 600\r\n");
	/* the same CSeq again is a retransmission: same answer */
	cr_assert_eq(do_register(5, "c1", "Contact: <sip:alice@10.0.0.2>\r\nExpires: 600\r\n"), 200);
	cr_assert_eq(binding_expires(0), 1600);
	cr_assert_eq(do_register(4, "c1", "Contact: <sip:alice@10.0.0.2>\r\nExpires: 100\r\n"), 400);
	cr_assert_str_eq(r.phrase, "Invalid CSeq Number");
	cr_assert_eq(binding_expires(0), 1600, "binding unchanged");
	/* another Call-ID may take the binding over whatever its CSeq */
	cr_assert_eq(do_register(1, "c2", "Contact: <sip:alice@10.0.0.2>\r\nExpires: 100\r\n"), 200);
	cr_assert_eq(binding_expires(0), 1100);
}

Test(reg, wildcard_rules)
{
	do_register(1, "c1", "Contact: <sip:a@10.0.0.2>, <sip:b@10.0.0.3>\r\n");
	cr_assert_eq(bindings(), 2);
	/* (CSeq 1 was the request that set them) */
	cr_assert_eq(do_register(2, "c1", "Contact: *\r\nExpires: 10\r\n"), 400);
	cr_assert_eq(do_register(2, "c1", "Contact: *\r\n"), 400);
	cr_assert_eq(do_register(2, "c1", "Contact: *, <sip:c@10.0.0.4>\r\nExpires: 0\r\n"), 400);
	cr_assert_eq(bindings(), 2);
	cr_assert_eq(do_register(0, "c1", "Contact: *\r\nExpires: 0\r\n"), 400, "stale CSeq");
	cr_assert_eq(do_register(2, "c1", "Contact: *\r\nExpires: 0\r\n"), 200);
	cr_assert_eq(bindings(), 0);
}

Test(reg, interval_too_brief_and_clamp)
{
	cr_assert_eq(do_register(1, "c1", "Contact: <sip:alice@10.0.0.2>\r\nExpires: 59\r\n"), 423);
	cr_assert_eq(r.min_expires, 60);
	cr_assert_eq(bindings(), 0);
	cr_assert_eq(do_register(2, "c1", "Contact: <sip:alice@10.0.0.2>;expires=999999999999\r\n"), 200);
	cr_assert_eq(binding_expires(0), 1000 + 7200);
}

Test(reg, several_contacts_with_q)
{
	cr_assert_eq(do_register(1, "c1",
		"Contact: <sip:a@10.0.0.2>;q=0.5, <sip:b@10.0.0.3>;q=1\r\n"
		"Contact: <sip:c@10.0.0.4>;q=0.125;expires=300\r\n"), 200);
	cr_assert_str_eq(r.contacts,
		"<sip:a@10.0.0.2>;expires=3600;q=0.500, "
		"<sip:b@10.0.0.3>;expires=3600;q=1.000, "
		"<sip:c@10.0.0.4>;expires=300;q=0.125");
	cr_assert_eq(do_register(2, "c1", "Contact: <sip:a@10.0.0.2>;q=2\r\n"), 400);
	cr_assert_eq(do_register(2, "c1", "Contact: <sip:a@10.0.0.2>;q=0.5x\r\n"), 400);
	cr_assert_eq(bindings(), 3);
}

Test(reg, per_aor_limit_is_503_and_atomic)
{
	do_register(1, "c1", "Contact: <sip:a@h1>, <sip:b@h2>, <sip:c@h3>\r\n");
	cr_assert_eq(do_register(2, "c1", "Contact: <sip:a@h1>;expires=0, <sip:d@h4>, <sip:e@h5>\r\n"), 503);
	cr_assert_eq(bindings(), 3, "the removal in the refused request did not happen");
	cr_assert_eq(do_register(3, "c1", "Contact: <sip:a@h1>;expires=0, <sip:d@h4>\r\n"), 200);
	cr_assert_eq(bindings(), 3);
}

Test(reg, store_full_is_503)
{
	loc_destroy(st);
	cr_assert_eq(loc_mem_alloc(&st, 1, 0), 0);
	cr_assert_eq(do_register(1, "c1", "Contact: <sip:a@h1>, <sip:b@h2>\r\n"), 503);
	cr_assert_eq(bindings(), 0);
}

Test(reg, firewall_window_stored_and_echoed_with_received)
{
	const struct loc_contact *v;
	unsigned n;

	cr_assert_eq(do_register(1, "c1",
		"Contact: <sip:alice@10.0.1.2>\r\n"
		"Firewall-Window: 198.51.100.2;local=10.0.1.2;mapping=eim;filtering=apdf;hops=2;lifetime=30\r\n"), 200);
	cr_assert_str_eq(r.fwwin,
		"198.51.100.2;local=10.0.1.2;mapping=eim;filtering=apdf;hops=2;lifetime=30;received=198.51.100.7");
	loc_get(st, "alice@example.com", &v, &n);
	cr_assert_str_eq(v[0].fwwin, r.fwwin);

	/* from the window's own host: no received= */
	cr_assert_eq(do_register(2, "c1",
		"Contact: <sip:alice@10.0.1.2>\r\n"
		"Firewall-Window: 198.51.100.7;mapping=none;filtering=none\r\n"), 200);
	cr_assert_str_eq(r.fwwin, "198.51.100.7;mapping=none;filtering=none");
}

Test(reg, malformed_firewall_window_400_nothing_stored)
{
	static const char *bad[] = {
		"Firewall-Window: \r\n",
		"Firewall-Window: not-an-ip;mapping=eim\r\n",
		"Firewall-Window: 198.51.100.2;mapping=wide\r\n",
		"Firewall-Window: 198.51.100.2;hops=0\r\n",
		"Firewall-Window: 198.51.100.2;hops=123\r\n",
		"Firewall-Window: 198.51.100.2;lifetime=99999999999999999999\r\n",
		"Firewall-Window: 198.51.100.2;mapping=eim;mapping=apdm\r\n",
		"Firewall-Window: 198.51.100.2\r\nFirewall-Window: 198.51.100.3\r\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char extra[512];
		snprintf(extra, sizeof extra, "Contact: <sip:alice@10.0.1.2>\r\n%s", bad[i]);
		cr_assert_eq(do_register(1 + (unsigned)i, "c1", extra), 400, "%s", bad[i]);
		cr_assert(strstr(r.phrase, "Firewall-Window"), "phrase: %s", r.phrase);
		cr_assert_eq(bindings(), 0, "%s stored something", bad[i]);
	}
}

Test(reg, domains_and_require)
{
	const char *why;

	conf_set_arg(&conf, "domains=other.example", &why);
	cr_assert_eq(do_register(1, "c1", "Contact: <sip:alice@10.0.0.2>\r\n"), 404);
	conf_set_arg(&conf, "domains=", &why);
	cr_assert_eq(do_register(2, "c1", "Require: foo\r\nContact: <sip:alice@10.0.0.2>\r\n"), 420);
	cr_assert_str_eq(r.unsupported, "foo");
	cr_assert_eq(bindings(), 0);
}

Test(reg, aor_canonical_form)
{
	char aor[REG_AOR_MAX];
	url_t url[1];
	char s[] = "sip:Bob@Example.COM:5070;transport=tcp";

	cr_assert_eq(url_d(url, s), 0);
	cr_assert_eq(reg_aor(url, aor, sizeof aor), 0);
	cr_assert_str_eq(aor, "Bob@example.com");
	cr_assert_neq(reg_aor(url, aor, 8), 0);
}
