/* A REGISTER's 200 written as text (regtext.c) is the very text sofia-sip
 * encodes for the answer regreply.c built before (sl_build_full() with
 * the same headers), on real requests parsed by sofia-sip; and read
 * again, it gives the 500 a failed store answers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_parser.h>
#include <sofia-sip/su_tagarg.h>

#include "regtext.h"
#include "slreply.h"

static su_root_t *root;
static nta_agent_t *agent;
static msg_t *req;
static struct reg_reply r;

static void setup(void)
{
	su_init();
	root = su_root_create(NULL);
	cr_assert(root);
	/* as sipd.c makes it; its port any free one on loopback */
	agent = nta_agent_create(root, URL_STRING_MAKE("sip:127.0.0.1:*"),
				 NULL, NULL, NTATAG_UA(0),
				 NTATAG_SERVER_RPORT(2), TAG_END());
	cr_assert(agent);
}

static void teardown(void)
{
	reg_reply_reset(&r);
	msg_destroy(req);
	req = NULL;
	nta_agent_destroy(agent);
	su_root_destroy(root);
	su_deinit();
}

TestSuite(regtext, .init = setup, .fini = teardown);

static const sip_t *request(const char *via, const char *from,
			    const char *to, const char *extra)
{
	char text[2048];
	int n = snprintf(text, sizeof text,
		"REGISTER sip:example.com SIP/2.0\r\n"
		"%s\r\n"
		"Max-Forwards: 70\r\n"
		"%s\r\n%s\r\n"
		"Call-ID: a84b4c76e66710@pc33\r\n"
		"CSeq: 314159 REGISTER\r\n"
		"%s"
		"Content-Length: 0\r\n\r\n", via, from, to, extra);

	req = msg_make(sip_default_mclass(), 0, text, n);
	cr_assert(req);
	return sip_object(req);
}

/* the text of msg as it would go out; its Date's value masked */
static char *wire(msg_t *msg)
{
	msg_iovec_t iov[64];
	size_t n = (size_t)msg_iovec(msg, iov, 64), len = 0;
	static char out[8192];

	cr_assert_leq(n, 64);
	for (size_t i = 0; i < n; i++) {
		cr_assert_lt(len + iov[i].mv_len, sizeof out);
		memcpy(out + len, iov[i].mv_base, iov[i].mv_len);
		len += iov[i].mv_len;
	}
	out[len] = '\0';
	return out;
}

static void mask_date(char *s)
{
	char *d = strstr(s, "\r\nDate: ");

	for (d = d ? d + 8 : NULL; d && *d != '\r'; d++)
		*d = 'x';
}

/* regreply.c's build() before the text: the same tags */
static msg_t *built(const sip_t *sip, bool record_route)
{
	char fwhdr[PH_FWWIN_STRLEN + 24], ftimer[32];

	snprintf(fwhdr, sizeof fwhdr, "Firewall-Window: %s\r\n", r.fwwin);
	snprintf(ftimer, sizeof ftimer, "Flow-Timer: %u\r\n", r.flow_timer);
	return sl_build_full(agent, req, 200, "OK", true,
		TAG_IF(r.contacts, SIPTAG_CONTACT_STR(r.contacts)),
		TAG_IF(record_route && sip->sip_record_route,
		       SIPTAG_RECORD_ROUTE(sip->sip_record_route)),
		TAG_IF(*r.fwwin, SIPTAG_HEADER_STR(fwhdr)),
		TAG_IF(r.outbound, SIPTAG_REQUIRE_STR("outbound")),
		TAG_IF(r.flow_timer, SIPTAG_HEADER_STR(ftimer)), TAG_END());
}

static void same_text(const sip_t *sip, bool record_route)
{
	msg_t *stub = nta_msg_create(agent, 0), *m = built(sip, record_route);
	struct regtext t;
	char *old, *new;

	cr_assert(m && stub);
	r.status = 200;
	r.phrase = "OK";
	cr_assert_eq(regtext_make(&t, sip, &r, record_route,
				  msg_object(stub)->msg_flags), 0);
	old = strdup(wire(m));
	new = strndup(t.buf, t.len);
	mask_date(old);
	mask_date(new);
	cr_expect_str_eq(new, old);
	free(old);
	free(new);
	regtext_free(&t);
	msg_destroy(m);
	msg_destroy(stub);
}

Test(regtext, plain)
{
	r.contacts = strdup("<sip:alice@198.51.100.7:5062>;expires=3600");
	same_text(request("Via: SIP/2.0/UDP 198.51.100.7:5062;branch=z9hG4bK1;rport=5062;received=203.0.113.9",
			  "From: \"Alice A.\" <sip:alice@example.com>;tag=t1",
			  "To: <sip:alice@example.com>", ""), false);
}

Test(regtext, compact_request_and_spacing)
{
	r.contacts = strdup("<sip:a@10.1.1.1:5070>;expires=3600;q=0.500, "
			    "<sip:b@10.1.1.2;transport=tcp>;expires=600");
	same_text(request("v:  SIP/2.0/UDP 10.0.0.2:5062 ;branch=z9hG4bK2,"
			  "SIP/2.0/TCP [2001:db8::9]:5060;branch=z9hG4bKx",
			  "f: sip:alice@example.com;tag=t1",
			  "t:   Alice <sip:alice@example.com;user=phone>;x=y",
			  "CSeq:   7   REGISTER\r\n"), false);
}

Test(regtext, record_route_outbound_fwwin)
{
	const sip_t *sip = request(
		"Via: SIP/2.0/TCP 10.0.0.2:5062;branch=z9hG4bK3;rport=40000\r\n"
		"Via: SIP/2.0/UDP 10.0.0.8;branch=z9hG4bKy",
		"From: <sip:alice@example.com>;tag=t1",
		"To: <sip:alice@example.com>",
		"Record-Route: <sip:rr1@10.0.0.1;lr>, <sip:rr2@10.0.0.2;lr>\r\n"
		"Record-Route: <sip:rr3@10.0.0.3;lr>\r\n");

	r.contacts = strdup("<sip:alice@10.0.0.2:5062;transport=tcp;ob>;expires=300");
	r.outbound = true;
	r.flow_timer = 60;
	strcpy(r.fwwin, "198.51.100.2;local=10.0.1.2;mapping=eim;"
	       "filtering=apdf;hops=2;lifetime=30;received=10.0.0.2");
	same_text(sip, true);
	same_text(sip, false); /* a stranger's: no Record-Route */
}

Test(regtext, to_tagged_no_contact)
{
	same_text(request("Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK4",
			  "From: <sip:alice@example.com>;tag=t1",
			  "To: <sip:alice@example.com>;tag=already", ""), false);
}

/* nta sends it where it sent the answer: the Via's received and rport */
Test(regtext, destination)
{
	const sip_t *sip = request(
		"Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK5;rport=40000;received=203.0.113.9",
		"From: <sip:alice@example.com>;tag=t1",
		"To: <sip:alice@example.com>", "");
	struct regtext t;

	r.status = 200;
	r.phrase = "OK";
	cr_assert_eq(regtext_make(&t, sip, &r, false, 0), 0);
	cr_expect_str_eq(t.tpn.tpn_proto, "UDP");
	cr_expect_str_eq(t.tpn.tpn_host, "203.0.113.9");
	cr_expect_str_eq(t.tpn.tpn_port, "40000");
	cr_expect_str_eq(t.tpn.tpn_canon, "10.0.0.2");
	cr_expect_null(t.tpn.tpn_comp);
	regtext_free(&t);
}

/* a failed store: the 200's text read again, answered 500 from it with
 * the same To tag (RFC 3261 8.2.7) */
Test(regtext, read_again_for_500)
{
	const sip_t *sip = request("Via: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bK6",
				   "From: <sip:alice@example.com>;tag=t1",
				   "To: <sip:alice@example.com>", "");
	struct regtext t;
	msg_t *ans, *err;
	const sip_t *a, *e;
	char tag[SL_TAG_SIZE];

	r.status = 200;
	r.phrase = "OK";
	r.contacts = strdup("<sip:alice@10.0.0.2:5062>;expires=3600");
	cr_assert_eq(regtext_make(&t, sip, &r, false, 0), 0);
	ans = regtext_msg(&t);
	cr_assert(ans);
	a = sip_object(ans);
	cr_assert(a->sip_status && a->sip_to && a->sip_contact);
	sl_tag(sip, tag);
	cr_expect_str_eq(a->sip_to->a_tag, tag);
	err = sl_build_full(agent, ans, 500, "Server Internal Error", false,
			    TAG_END());
	cr_assert(err);
	e = sip_object(err);
	cr_expect_eq(e->sip_status->st_status, 500);
	cr_expect_str_eq(e->sip_to->a_tag, tag);
	cr_expect_str_eq(e->sip_call_id->i_id, "a84b4c76e66710@pc33");
	cr_expect_eq(e->sip_cseq->cs_seq, 314159);
	cr_expect_str_eq(e->sip_via->v_branch, "z9hG4bK6");
	cr_expect_null(e->sip_contact);
	msg_destroy(err);
	msg_destroy(ans);
	regtext_free(&t);
}
