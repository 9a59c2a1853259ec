/* The call object without SIP or sockets, what it decides and edits:
 * every route of PROTOCOL.md section 5 with each side's Firewall-Punch and
 * SDP, local, plain sides, forked branches, the relay address that faces
 * the callee, a re-INVITE on a relayed call, the caller's registered
 * window, a Firewall-Window nothing vouches for. Lifetimes and the
 * relay's errors: test_calls.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callworld.h"

TestSuite(call, .init = setup, .fini = teardown);

struct outcome {
	const char *map_a, *filt_a, *map_b, *filt_b;
	const char *to_callee, *to_caller, *route;
};

/* Each row of PROTOCOL.md section 5 with what each side is told. */
static const struct outcome table[] = {
	{"eim", "apdf", "eim", "apdf",
	 "open;peer=198.51.100.1:40000;relay=203.0.113.1:30002",
	 "transmit;peer=198.51.100.2:50000;relay=203.0.113.1:30000", "direct"},
	{"eim", "eif", "apdm", "apdf",
	 "transmit;peer=198.51.100.1:40000;relay=203.0.113.1:30002",
	 "open;peer=198.51.100.2:50000;relay=203.0.113.1:30000", "direct"},
	{"apdm", "apdf", "none", "adf",
	 "open;peer=198.51.100.1:40000;relay=203.0.113.1:30002",
	 "transmit;peer=198.51.100.2:50000;relay=203.0.113.1:30000", "direct"},
	{"apdm", "apdf", "apdm", "apdf", "relay;peer=203.0.113.1:30002",
	 "relay;peer=203.0.113.1:30000", "relay"},
	{"eim", "apdf", "apdm", "apdf", "relay;peer=203.0.113.1:30002",
	 "relay;peer=203.0.113.1:30000", "relay"},
	{"adm", "adf", "eim", "adf",
	 "open;peer=198.51.100.1:40000;relay=203.0.113.1:30002",
	 "transmit;peer=198.51.100.2:50000;relay=203.0.113.1:30000", "direct"},
};

Test(call, every_route_of_section_5_with_each_sides_part)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
		const struct outcome *t = &table[i];
		struct call_edit e1, e2;
		struct call_sdp o;
		char buf[512], rep[1024];
		struct call *c = offer(t->map_a, t->filt_a, &o, buf, sizeof buf);
		unsigned b = branch(c, t->map_b, t->filt_b, &o, &e1);

		cr_assert_eq(ready_err, 0);
		cr_assert_str_eq(e1.punch, t->to_callee, "row %zu: callee", i);
		answer(c, b, &e2);
		cr_assert_str_eq(e2.punch, t->to_caller, "row %zu: caller", i);
		call_report(c, (int)b, 200, rep, sizeof rep);
		cr_assert(strstr(rep, t->route), "row %zu: %s", i, rep);
		if (!strcmp(t->route, "relay")) {
			cr_assert(strstr(e1.body, "c=IN IP4 203.0.113.1\r\n"), "%s", e1.body);
			cr_assert(strstr(e1.body, "m=audio 30002 "), "%s", e1.body);
			cr_assert(strstr(e2.body, "m=audio 30000 "), "%s", e2.body);
		} else {
			cr_assert(strstr(e1.body, "a=fw-punch:"), "%s", e1.body);
			cr_assert(strstr(e1.body, "m=audio 40000 "), "media stays: %s", e1.body);
		}
		call_edit_reset(&e1);
		call_edit_reset(&e2);
		call_bye(calls, "call-1");
		call_unref(c);
		cr_assert_eq(calls_count(calls), 0, "row %zu: forgotten after BYE", i);
	}
	cr_assert_eq(relay.n_free, sizeof table / sizeof *table);
}

/* Both behind one NAT: each is told the other's private address. */
Test(call, same_public_address_is_local)
{
	struct call_edit e1, e2;
	struct call_sdp o, a;
	struct flow caller = flow_at("198.51.100.1", 5060);
	struct flow fl = flow_at("198.51.100.1", 5062);
	char buf[512], abuf[512], rep[1024];
	struct call *c;
	unsigned b;

	stun_from("198.51.100.1", 40000);
	o = sdp_with(buf, sizeof buf, "10.0.0.1", 40000, "198.51.100.1 40000",
		     "a=fw-local:10.0.0.1 40000\r\n");
	cr_assert_eq(call_offer(calls, "call-1", NULL, &caller,
				"198.51.100.1;mapping=eim;filtering=apdf;hops=2",
				false, &o, on_ready, NULL, &c), 0);
	cr_assert_eq(call_branch(c, &fl, &fl.src,
				 "198.51.100.1;mapping=eim;filtering=apdf;hops=2",
				 &o, &e1, &b), 0);
	cr_assert_str_eq(e1.punch, "local;peer=10.0.0.1:40000;relay=203.0.113.1:30002"
			 , "%s", e1.punch);
	a = sdp_with(abuf, sizeof abuf, "10.0.0.2", 50000, NULL,
		     "a=fw-local:10.0.0.2 50000\r\n");
	call_answer(c, b, 200, NULL, &a, &e2);
	cr_assert_str_eq(e2.punch, "local;peer=10.0.0.2:50000;relay=203.0.113.1:30000");
	call_report(c, (int)b, 200, rep, sizeof rep);
	cr_assert(strstr(rep, "route local (same public address)"), "%s", rep);
	call_edit_reset(&e1);
	call_edit_reset(&e2);
	call_unref(c);
}

/* A side without firewall data is relayed unless its own SDP proves a
 * public address without a NAT: a plain callee's media is unknown until
 * it answers, so it is relayed; a plain caller at its public address is
 * opened toward by a pinhole callee, unless ICE or its Via shows a NAT. */
Test(call, plain_sides)
{
	struct call_edit e;
	struct call_sdp o;
	struct flow caller = flow_at("198.51.100.1", 5060);
	struct flow callee = flow_at("198.51.100.2", 5060);
	const char *fw = "198.51.100.2;mapping=eim;filtering=apdf;hops=2";
	char buf[768], rep[1024];
	struct call *c;
	unsigned b;

	o = sdp(buf, sizeof buf, "198.51.100.1", 40000, NULL);
	cr_assert_eq(call_offer(calls, "plain", NULL, &caller, NULL, false, &o,
				on_ready, NULL, &c), 0);
	cr_assert_eq(call_branch(c, &callee, &callee.src, NULL, &o, &e, &b), 0);
	call_report(c, (int)b, 0, rep, sizeof rep);
	cr_assert(strstr(rep, "route relay (a side without firewall data)"), "%s", rep);
	call_edit_reset(&e);
	cr_assert_eq(call_branch(c, &callee, &callee.src, fw, &o, &e, &b), 0);
	call_report(c, (int)b, 0, rep, sizeof rep);
	cr_assert(strstr(rep, "route direct (caller plain with a public address"),
		  "%s", rep);
	cr_assert_str_eq(e.punch, "open;peer=198.51.100.1:40000;relay=203.0.113.1:30002");
	call_edit_reset(&e);
	call_failed(c, -1, 487);
	call_unref(c);

	/* the same caller with ICE candidates, then with a NATed Via */
	o = sdp_with(buf, sizeof buf, "198.51.100.1", 40000, NULL,
		     "a=ice-ufrag:x\r\na=ice-pwd:yyyyyyyyyyyyyyyyyyyyyy\r\n"
		     "a=candidate:1 1 UDP 2130706431 10.0.0.1 40000 typ host\r\n");
	for (int via_nat = 0; via_nat < 2; via_nat++) {
		if (via_nat)
			o = sdp(buf, sizeof buf, "198.51.100.1", 40000, NULL);
		cr_assert_eq(call_offer(calls, "ice", NULL, &caller, NULL, via_nat,
					&o, on_ready, NULL, &c), 0);
		cr_assert_eq(call_branch(c, &callee, &callee.src, fw, &o, &e, &b), 0);
		call_report(c, (int)b, 0, rep, sizeof rep);
		cr_assert(strstr(rep, "route relay"), "%s: %s",
			  via_nat ? "Via" : "ICE", rep);
		cr_assert(!strstr(e.body, "a=candidate"), "ICE goes: %s", e.body);
		call_edit_reset(&e);
		call_failed(c, -1, 487);
		call_unref(c);
	}
}

/* Two bindings: each branch its own route; the callee leg expects both
 * before either answers; the report names the one that answered. */
Test(call, forked_branches)
{
	struct call_edit e1, e2, e3;
	struct call_sdp o;
	struct flow other = flow_at("198.51.100.3", 5060);
	char buf[512], rep[1024];
	struct call *c = offer("eim", "apdf", &o, buf, sizeof buf);
	unsigned b1 = branch(c, "eim", "apdf", &o, &e1), b2;

	cr_assert_eq(call_branch(c, &other, &other.src,
				 "198.51.100.3;mapping=apdm;filtering=apdf;hops=2",
				 &o, &e2, &b2), 0);
	cr_assert_neq(b1, b2);
	cr_assert_str_eq(e2.punch, "relay;peer=203.0.113.1:30002");
	cr_assert_eq(relay.last_leg, 1);
	cr_assert_eq(relay.last_nips, 2, "both bindings' IPs");
	answer(c, b2, &e3);
	call_report(c, (int)b2, 200, rep, sizeof rep);
	cr_assert(strstr(rep, "route relay (one side symmetric"), "%s", rep);
	call_edit_reset(&e1);
	call_edit_reset(&e2);
	call_edit_reset(&e3);
	call_unref(c);
}

/* A relay host with an address toward each side: the callee is told the
 * one that faces it (asked about its hop), the caller keeps the one the
 * grant named; forked, the report names the answering branch's. */
Test(call, the_callee_is_told_the_relay_address_that_faces_it)
{
	struct call_edit e1, e2, e3;
	struct call_sdp o;
	struct flow other = flow_at("198.51.100.3", 5060);
	char buf[512], rep[1024];
	struct call *c = offer("apdm", "apdf", &o, buf, sizeof buf);
	struct ph_addr hop;
	unsigned b1, b2;

	relay.face = "203.0.113.129";
	b1 = branch(c, "apdm", "apdf", &o, &e1);
	ph_addr_set(&hop, "198.51.100.2", 5060);
	cr_assert(ph_addr_eq(&relay.toward, &hop), "asked about the callee's hop");
	cr_assert_str_eq(e1.punch, "relay;peer=203.0.113.129:30002");
	cr_assert(strstr(e1.body, "c=IN IP4 203.0.113.129"), "%s", e1.body);
	relay.face = "203.0.113.130";
	cr_assert_eq(call_branch(c, &other, &other.src,
				 "198.51.100.3;mapping=apdm;filtering=apdf;hops=2",
				 &o, &e2, &b2), 0);
	cr_assert_str_eq(e2.punch, "relay;peer=203.0.113.130:30002");
	answer(c, b1, &e3);
	cr_assert_str_eq(e3.punch, "relay;peer=203.0.113.1:30000");
	call_report(c, (int)b1, 200, rep, sizeof rep);
	cr_assert(strstr(rep, "relay 203.0.113.1:30000 203.0.113.129:30002"),
		  "%s", rep);
	call_edit_reset(&e1);
	call_edit_reset(&e2);
	call_edit_reset(&e3);
	call_unref(c);
}

/* A re-INVITE that moves a relayed call's media: latched anew, and the
 * other side is told its relay port. */
Test(call, reinvite_on_a_relayed_call)
{
	struct call_edit e1, e2, e3;
	struct call_sdp o, r;
	struct ph_addr src;
	char buf[512], rbuf[512];
	struct call *c = offer("apdm", "apdf", &o, buf, sizeof buf);
	unsigned b = branch(c, "apdm", "apdf", &o, &e1), relatch;

	answer(c, b, &e2);
	relatch = relay.n_relatch;
	r = sdp(rbuf, sizeof rbuf, "10.0.0.1", 40010, NULL);
	ph_addr_set(&src, "198.51.100.1", 5060);
	call_resdp(calls, "call-1", 0, &src, &r, &e3);
	cr_assert_eq(relay.n_relatch, relatch + 1, "the caller's media moved");
	cr_assert_str_eq(e3.punch, "relay;peer=203.0.113.1:30002");
	cr_assert(strstr(e3.body, "m=audio 30002 "), "%s", e3.body);
	call_edit_reset(&e3);
	call_resdp(calls, "no-such-call", 0, &src, &r, &e3);
	cr_assert_null(e3.body, "nothing for a call we do not relay");
	call_edit_reset(&e1);
	call_edit_reset(&e2);
	call_unref(c);
}

/* The caller's Firewall-Window, when its INVITE has none, is the one it
 * registered from the same IP. */
Test(call, caller_window_from_its_registration)
{
	struct loc_contact reg = {
		.uri = "sip:alice@198.51.100.1", .call_id = "r", .cseq = 1, .q = -1,
		.expires = 1000000000,
		.fwwin = "198.51.100.1;mapping=eim;filtering=apdf;hops=2",
	};
	struct flow fl = flow_at("198.51.100.1", 5060);
	struct call_edit e;
	struct call_sdp o;
	char buf[512], rep[1024];
	struct call *c;
	unsigned b;

	reg.flow = fl;
	cr_assert_eq(loc_put(store, "alice@example.com", &reg, 1), 0);
	stun_from("198.51.100.1", 40000);
	o = sdp(buf, sizeof buf, "10.0.0.1", 40000, "198.51.100.1 40000");
	cr_assert_eq(call_offer(calls, "c2", "alice@example.com", &fl, NULL, false,
				&o, on_ready, NULL, &c), 0);
	b = branch(c, "eim", "apdf", &o, &e);
	call_report(c, (int)b, 0, rep, sizeof rep);
	cr_assert(strstr(rep, "caller transmit [198.51.100.1;mapping=eim;"), "%s", rep);
	cr_assert(strstr(rep, "] window checked"), "%s", rep);
	call_edit_reset(&e);
	call_failed(c, (int)b, 408);
	call_unref(c);
}

static bool expects(const char *ip)
{
	struct ph_addr a;

	ph_addr_set(&a, ip, 0);
	for (unsigned i = 0; i < relay.last_nips; i++)
		if (ph_addr_ip_eq(&relay.last_ips[i], &a))
			return true;
	return false;
}

/* PROTOCOL.md section 2: a Firewall-Window on the INVITE counts only where
 * its host is the SIP source or a window our STUN service saw; otherwise
 * it is ignored, and the relay never expects (sends to) that host. */
Test(call, a_firewall_window_nothing_vouches_for_is_ignored)
{
	struct flow fl = flow_at("198.51.100.1", 5060);
	struct call_sdp o;
	char buf[512], rep[1024];
	struct call_edit e;
	struct call *c;
	unsigned b;

	/* a victim's address in the header and as the SDP's media */
	o = sdp(buf, sizeof buf, "192.0.2.66", 40000, "192.0.2.66 40000");
	cr_assert_eq(call_offer(calls, "v1", NULL, &fl,
				"192.0.2.66;mapping=eim;filtering=eif;hops=2",
				false, &o, on_ready, NULL, &c), 0);
	cr_assert_eq(relay.last_leg, 0);
	cr_assert(expects("198.51.100.1"));
	cr_assert_not(expects("192.0.2.66"), "the relay would send to the victim");
	b = branch(c, "eim", "apdf", &o, &e);
	call_report(c, (int)b, 0, rep, sizeof rep);
	cr_assert(strstr(rep, "route relay"), "%s", rep);
	cr_assert(strstr(rep, "caller relay [-] window none"), "%s", rep);
	call_edit_reset(&e);
	call_failed(c, (int)b, 408);
	call_unref(c);

	/* the same host with a window our STUN service answered: vouched */
	stun_from("192.0.2.66", 40000);
	o = sdp(buf, sizeof buf, "192.0.2.66", 40000, "192.0.2.66 40000");
	cr_assert_eq(call_offer(calls, "v2", NULL, &fl,
				"192.0.2.66;mapping=eim;filtering=eif;hops=2",
				false, &o, on_ready, NULL, &c), 0);
	cr_assert(expects("192.0.2.66"));
	b = branch(c, "eim", "apdf", &o, &e);
	call_report(c, (int)b, 0, rep, sizeof rep);
	cr_assert(strstr(rep, "caller transmit [192.0.2.66;"), "%s", rep);
	cr_assert(strstr(rep, "] window checked"), "%s", rep);
	call_edit_reset(&e);
	call_failed(c, (int)b, 408);
	call_unref(c);
}
