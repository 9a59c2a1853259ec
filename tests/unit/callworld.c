/* The world of the call unit tests: see callworld.h. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinhole/stun.h>

#include "callworld.h"
#include "stunsock.h"

/* ---- a relay backend that records --------------------------------------- */



struct relay_grant grant(struct fake *f, unsigned n)
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

struct fake relay;
struct stund *stun;
struct loc_store *store;
struct calls *calls;
int ready_err;
unsigned ready_runs;

static int no_send(const struct ph_addr *from, const struct ph_addr *dst,
		   const void *buf, size_t len, void *arg)
{
	return 0;
}

void setup_with(bool with_relay)
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

void setup(void)
{
	setup_with(true);
}

void teardown(void)
{
	calls_free(calls);
	loc_destroy(store);
	stund_free(stun);
}

/* Our STUN service answers a Binding request from ip:port. */
void stun_from(const char *ip, uint16_t port)
{
	uint8_t buf[128], tid[PH_STUN_TID_LEN];
	struct ph_stun_enc e;
	struct ph_addr local, src;
	size_t len;

	ph_addr_set(&local, "192.0.2.1", 3478);
	ph_addr_set(&src, ip, port);
	ph_stun_tid_new(tid);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	ph_stun_enc_padding(&e, PH_STUN_FULL_ANSWER_LEN(&src)); /* as libpinhole */
	cr_assert_eq(ph_stun_enc_finish(&e, true, &len), 0);
	cr_assert_eq(stund_recv(stun, &local, &src, buf, len, stunsock_now_ms()), 0);
}

void on_ready(int err, void *arg)
{
	ready_err = err;
	ready_runs++;
}

struct flow flow_at(const char *ip, uint16_t port)
{
	struct flow f = {.transport = FLOW_UDP};

	ph_addr_set(&f.src, ip, port);
	return f;
}

/* An SDP at ip:port with its window (NULL: none) and more lines. */
struct call_sdp sdp_with(char *buf, size_t size, const char *ip,
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

struct call_sdp sdp(char *buf, size_t size, const char *ip,
			   unsigned port, const char *window)
{
	return sdp_with(buf, size, ip, port, window, "");
}

/* Caller alice at 198.51.100.1, window :40000 checked by STUN, with a
 * Firewall-Window of the given mapping and filtering. */
struct call *offer(const char *mapping, const char *filtering,
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
unsigned branch(struct call *c, const char *mapping,
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
void answer(struct call *c, unsigned b, struct call_edit *e)
{
	char buf[512];
	struct call_sdp a;

	stun_from("198.51.100.2", 50000);
	a = sdp(buf, sizeof buf, "10.0.0.2", 50000, "198.51.100.2 50000");
	call_answer(c, b, 200, NULL, &a, e);
}
