/* The call object without SIP or sockets: every route of PROTOCOL.md
 * section 5 with the edits each side gets, forked branches, the answer,
 * a re-INVITE on a relayed call, CANCEL and failure, the relay's errors,
 * and the reports. The relay is an in-process backend of the relayctl
 * ops table that hands out ports and records what it is told; the STUN
 * memory is the real stund, fed Binding requests. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinhole/stun.h>

#include "call.h"
#include "stunsock.h"

/* ---- a relay backend that records --------------------------------------- */

struct fake {
	struct relayctl base;
	int fail;                   /* alloc answers this error */
	bool later;                 /* alloc completes when told */
	relay_grant_h *h;           /* the pending grant */
	void *arg;
	unsigned n_alloc, n_free, n_expect, n_relatch;
	uint64_t next;
	bool gone;                  /* touch/stats: the streams went idle */
	struct ph_addr last_ips[PH_RELAY_MAX_EXPECT];
	unsigned last_nips, last_leg;
	const char *face;           /* face() answers this IP (NULL: ENOTSUP) */
	struct ph_addr toward;      /* and was asked about this address */
};

static struct relay_grant grant(struct fake *f, unsigned n)
{
	struct relay_grant g = {.n = n};

	for (unsigned i = 0; i < n; i++) {
		g.id[i] = ++f->next;
		ph_addr_set(&g.port[i][0], "203.0.113.1", (uint16_t)(30000 + 4 * i));
		ph_addr_set(&g.port[i][1], "203.0.113.1", (uint16_t)(30002 + 4 * i));
	}
	return g;
}

static void fake_alloc(struct relayctl *r, unsigned n,
		       const struct ph_addr *media, const struct ph_addr *toward,
		       relay_grant_h *h, void *arg)
{
	struct fake *f = (struct fake *)r;
	struct relay_grant g = grant(f, n);

	f->n_alloc++;
	if (f->later) {
		f->h = h;
		f->arg = arg;
		return;
	}
	h(f->fail, f->fail ? NULL : &g, arg);
}

static int fake_expect(struct relayctl *r, uint64_t id, unsigned leg,
		       const struct ph_addr *ips, unsigned n,
		       const struct ph_addr *media, bool relatch)
{
	struct fake *f = (struct fake *)r;

	f->n_expect++;
	f->n_relatch += relatch;
	f->last_leg = leg;
	f->last_nips = n;
	memcpy(f->last_ips, ips, n * sizeof *ips);
	return 0;
}

static int fake_touch(struct relayctl *r, uint64_t id)
{
	return ((struct fake *)r)->gone ? ENOENT : 0;
}

static int fake_stats(struct relayctl *r, uint64_t id, struct ph_relay_stats *st)
{
	memset(st, 0, sizeof *st);
	st->leg[0].rx = 150;
	st->leg[1].rx = 149;
	return ((struct fake *)r)->gone ? ENOENT : 0;
}

static int fake_free(struct relayctl *r, uint64_t id, struct ph_relay_stats *st)
{
	((struct fake *)r)->n_free++;
	if (st)
		fake_stats(r, id, st);
	return 0;
}

static void fake_destroy(struct relayctl *r)
{
}

static int fake_face(struct relayctl *r, const struct ph_addr *toward,
		     struct ph_addr *out)
{
	struct fake *f = (struct fake *)r;

	f->toward = *toward;
	return f->face ? ph_addr_set(out, f->face, 0) : ENOTSUP;
}

static const struct relayctl_ops fake_ops = {
	"fake", fake_alloc, fake_expect, fake_touch, fake_stats, fake_free,
	fake_destroy, fake_face,
};

/* ---- the world around a call -------------------------------------------- */

static struct fake relay;
static struct stund *stun;
static struct loc_store *store;
static struct calls *calls;
static int ready_err;
static unsigned ready_runs;

static int no_send(const struct ph_addr *from, const struct ph_addr *dst,
		   const void *buf, size_t len, void *arg)
{
	return 0;
}

static void setup_with(bool with_relay)
{
	struct stund_conf sc = {.port = 3478, .memory = 64, .memory_ms = 60000};

	memset(&relay, 0, sizeof relay);
	relay.base.ops = &fake_ops;
	cr_assert_eq(stund_alloc(&stun, &sc, no_send, NULL), 0);
	cr_assert_eq(loc_mem_alloc(&store, 100, 0), 0);
	cr_assert_eq(calls_alloc(&calls, with_relay ? &relay.base : NULL, stun,
				 store), 0);
	ready_runs = 0;
}

static void setup(void)
{
	setup_with(true);
}

static void teardown(void)
{
	calls_free(calls);
	loc_destroy(store);
	stund_free(stun);
}

TestSuite(call, .init = setup, .fini = teardown);

/* Our STUN service answers a Binding request from ip:port. */
static void stun_from(const char *ip, uint16_t port)
{
	uint8_t buf[128], tid[PH_STUN_TID_LEN];
	struct ph_stun_enc e;
	struct ph_addr local, src;
	size_t len;

	ph_stun_tid_new(tid);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	ph_addr_set(&local, "192.0.2.1", 3478);
	ph_addr_set(&src, ip, port);
	cr_assert_eq(stund_recv(stun, &local, &src, buf, len, stunsock_now_ms()), 0);
}

static void on_ready(int err, void *arg)
{
	ready_err = err;
	ready_runs++;
}

static struct flow flow_at(const char *ip, uint16_t port)
{
	struct flow f = {.transport = FLOW_UDP};

	ph_addr_set(&f.src, ip, port);
	return f;
}

/* An SDP at ip:port with its window (NULL: none) and more lines. */
static struct call_sdp sdp_with(char *buf, size_t size, const char *ip,
				unsigned port, const char *window,
				const char *more)
{
	struct call_sdp s;
	const char *why;
	int n = snprintf(buf, size, "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\n"
			 "c=IN IP4 %s\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n%s",
			 ip, ip, port, more);

	if (window)
		snprintf(buf + n, size - (size_t)n, "a=fw-window:%s\r\n", window);
	s.body = buf;
	s.len = strlen(buf);
	cr_assert_eq(sdpfw_read(s.body, s.len, &s.fw, &why), 0, "%s", why);
	return s;
}

static struct call_sdp sdp(char *buf, size_t size, const char *ip,
			   unsigned port, const char *window)
{
	return sdp_with(buf, size, ip, port, window, "");
}

/* Caller alice at 198.51.100.1, window :40000 checked by STUN, with a
 * Firewall-Window of the given mapping and filtering. */
static struct call *offer(const char *mapping, const char *filtering,
			  struct call_sdp *o, char *buf, size_t size)
{
	struct flow fl = flow_at("198.51.100.1", 5060);
	char fw[128];
	struct call *c;

	snprintf(fw, sizeof fw, "198.51.100.1;mapping=%s;filtering=%s;hops=2",
		 mapping, filtering);
	stun_from("198.51.100.1", 40000);
	*o = sdp(buf, size, "10.0.0.1", 40000, "198.51.100.1 40000");
	cr_assert_eq(call_offer(calls, "call-1", "alice@example.com", &fl, fw, false, o,
				on_ready, NULL, &c), 0);
	return c;
}

/* Callee bob at 198.51.100.2 registered with that firewall. */
static unsigned branch(struct call *c, const char *mapping,
		       const char *filtering, const struct call_sdp *o,
		       struct call_edit *e)
{
	struct flow fl = flow_at("198.51.100.2", 5060);
	char fw[128];
	unsigned b;

	snprintf(fw, sizeof fw, "198.51.100.2;mapping=%s;filtering=%s;hops=2",
		 mapping, filtering);
	cr_assert_eq(call_branch(c, &fl, &fl.src, fw, o, e, &b), 0);
	return b;
}

/* The callee answers from 10.0.0.2:50000, window 198.51.100.2:50000. */
static void answer(struct call *c, unsigned b, struct call_edit *e)
{
	char buf[512];
	struct call_sdp a;

	stun_from("198.51.100.2", 50000);
	a = sdp(buf, sizeof buf, "10.0.0.2", 50000, "198.51.100.2 50000");
	call_answer(c, b, 200, NULL, &a, e);
}

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
