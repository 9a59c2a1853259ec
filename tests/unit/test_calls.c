/* The call object's lifetimes without SIP or sockets: CANCEL and failure,
 * the relay's errors and relay off, a reservation that completes later or
 * after the call ended, idle streams, a 2xx without SDP, a second INVITE
 * of a Call-ID being set up. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callworld.h"

TestSuite(call, .init = setup, .fini = teardown);

/* A CANCEL or any failure before a 2xx frees the streams. */
Test(call, cancel_and_failure_end_the_media)
{
	struct call_edit e;
	struct call_sdp o;
	char buf[512], rep[1024];
	struct call *c = offer("eim", "apdf", &o, buf, sizeof buf);
	unsigned b = branch(c, "eim", "apdf", &o, &e);

	call_failed(c, (int)b, 487);
	cr_assert_eq(relay.n_free, 1);
	cr_assert_eq(calls_count(calls), 0);
	call_report(c, (int)b, 487, rep, sizeof rep);
	cr_assert(!strncmp(rep, "call call-1: 487; route direct", 30), "%s", rep);
	call_edit_reset(&e);
	call_unref(c);
}

/* Why there is no relay, as the proxy answers it (errmap). */
Test(call, relay_errors_refuse_a_branch_that_needs_it)
{
	static const int errs[] = {EBUSY, EAFNOSUPPORT};
	struct flow fl = flow_at("198.51.100.2", 5060);

	for (size_t i = 0; i < 2; i++) {
		struct call_edit e;
		struct call_sdp o;
		char buf[512];
		struct call *c;
		unsigned b;

		relay.fail = errs[i];
		c = offer("apdm", "apdf", &o, buf, sizeof buf);
		cr_assert_eq(ready_err, errs[i]);
		cr_assert_eq(call_branch(c, &fl, &fl.src,
					 "198.51.100.2;mapping=apdm;filtering=apdf;hops=2",
					 &o, &e, &b), errs[i]);
		/* a direct route still goes, with no relay fallback */
		cr_assert_eq(call_branch(c, &fl, &fl.src,
					 "198.51.100.2;mapping=eim;filtering=eif;hops=2",
					 &o, &e, &b), 0);
		cr_assert_str_eq(e.punch, "open;peer=198.51.100.1:40000");
		call_edit_reset(&e);
		call_failed(c, -1, 503);
		call_unref(c);
	}
}

static void setup_norelay(void)
{
	setup_with(false);
}

Test(call_norelay, relay_off, .init = setup_norelay, .fini = teardown)
{
	struct call_edit e;
	struct call_sdp o;
	struct flow fl = flow_at("198.51.100.2", 5060);
	char buf[512];
	struct call *c;
	unsigned b;

	c = offer("apdm", "apdf", &o, buf, sizeof buf);
	cr_assert_eq(ready_err, ENOTSUP);
	cr_assert_eq(call_branch(c, &fl, &fl.src,
				 "198.51.100.2;mapping=apdm;filtering=apdf;hops=2",
				 &o, &e, &b), ENOTSUP);
	cr_assert_eq(calls_count(calls), 1);
	call_unref(c);
	cr_assert_eq(calls_count(calls), 0, "a call without streams is not kept");
}

/* A remote relay answers later; the call waits for it. */
Test(call, reservation_completes_later)
{
	struct call_edit e;
	struct call_sdp o;
	char buf[512];
	struct call *c;
	struct relay_grant g;

	relay.later = true;
	c = offer("eim", "apdf", &o, buf, sizeof buf);
	cr_assert_eq(ready_runs, 0, "not ready before the relay answers");
	g = grant(&relay, 1);
	relay.h(0, &g, relay.arg);
	cr_assert_eq(ready_runs, 1);
	cr_assert_eq(ready_err, 0);
	branch(c, "eim", "apdf", &o, &e);
	cr_assert_str_eq(e.punch, "open;peer=198.51.100.1:40000;relay=203.0.113.1:30002");
	call_edit_reset(&e);
	call_failed(c, -1, 487);
	call_unref(c);
}

/* The relay freed the streams as idle: the call is forgotten, with its
 * report; a call still ringing is touched instead. */
Test(call, idle_streams_end_the_call)
{
	struct call_edit e1, e2;
	struct call_sdp o;
	char buf[512];
	struct call *c = offer("eim", "apdf", &o, buf, sizeof buf);
	unsigned b = branch(c, "eim", "apdf", &o, &e1);

	call_unref(c); /* the INVITE's transaction is over */
	calls_tick(calls);
	cr_assert_eq(calls_count(calls), 1, "ringing: kept");
	call_edit_reset(&e1);
	c = offer("eim", "apdf", &o, buf, sizeof buf); /* the same Call-ID */
	b = branch(c, "eim", "apdf", &o, &e1);
	answer(c, b, &e2);
	call_unref(c);
	calls_tick(calls);
	cr_assert_eq(calls_count(calls), 1, "streams alive: kept");
	relay.gone = true;
	calls_tick(calls);
	cr_assert_eq(calls_count(calls), 0, "idle: forgotten");
	call_edit_reset(&e1);
	call_edit_reset(&e2);
}

/* A 2xx whose SDP does not read still answers the call: its streams then
 * end when idle instead of being kept alive as a call still ringing. */
Test(call, answered_without_sdp_goes_idle)
{
	struct call_edit e1, e2;
	struct call_sdp o;
	char buf[512];
	struct call *c = offer("eim", "apdf", &o, buf, sizeof buf);
	unsigned b = branch(c, "eim", "apdf", &o, &e1);

	call_answer(c, b, 200, NULL, NULL, &e2);
	cr_assert_null(e2.body, "no edits without an answer to edit");
	call_unref(c);
	relay.gone = true;
	calls_tick(calls);
	cr_assert_eq(calls_count(calls), 0, "idle once answered");
	call_edit_reset(&e1);
}

/* Another INVITE of a Call-ID still being set up (a spiral, a merged
 * request) is refused: it would share and overwrite the first's branches. */
Test(call, second_offer_while_setting_up_is_refused)
{
	struct call_edit e;
	struct call_sdp o, o2;
	struct flow fl = flow_at("198.51.100.7", 5060);
	char buf[512], buf2[512], rep[1024];
	struct call *c = offer("eim", "apdf", &o, buf, sizeof buf), *c2 = NULL;
	unsigned b = branch(c, "eim", "apdf", &o, &e);

	o2 = sdp(buf2, sizeof buf2, "10.0.0.7", 40000, NULL);
	cr_assert_eq(call_offer(calls, "call-1", NULL, &fl, NULL, false, &o2,
				on_ready, NULL, &c2), EALREADY);
	cr_assert_null(c2);
	call_report(c, (int)b, 0, rep, sizeof rep);
	cr_assert(strstr(rep, "route direct (both keep their windows"), "%s", rep);
	call_edit_reset(&e);
	call_failed(c, (int)b, 487);
	call_unref(c);
}

/* A remote relay that answers after the call ended: its streams go back
 * at once, the INVITE is told, nothing is kept. */
Test(call, late_grant_after_the_call_ended)
{
	struct call_sdp o;
	char buf[512];
	struct call *c;
	struct relay_grant g;

	relay.later = true;
	c = offer("eim", "apdf", &o, buf, sizeof buf);
	call_bye(calls, "call-1");
	g = grant(&relay, 1);
	relay.h(0, &g, relay.arg);
	cr_assert_eq(ready_runs, 1);
	cr_assert_eq(ready_err, ECANCELED);
	cr_assert_eq(relay.n_free, 1, "the late streams went back");
	call_unref(c);
	cr_assert_eq(calls_count(calls), 0);
}
