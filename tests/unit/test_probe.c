/* The probe and the STUN client transaction on a fake clock, against a
 * fake pinholed behind a modelled firewall: each mapping and filtering
 * behaviour and hop count must come out as modelled. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pinhole/media.h>

#define MAXQ 64

/* The model: how our side's firewall maps and filters, and how many hops
 * a packet needs to open it. */
struct model {
	enum ph_mapping mapping;
	enum ph_filtering filtering;
	unsigned hops;          /* 0: the null packets never open it */
	bool server_alive;
	bool alt_ip;            /* pinholed has a second address */
	/* state */
	struct ph_addr opened[32];
	unsigned nopened;
	struct { struct ph_addr src; uint8_t buf[PH_STUN_MAX_LEN]; size_t len; } q[MAXQ];
	unsigned nq;
	unsigned sent, nulls;
	int null_ttl[16];
};

static struct model M;
static struct ph_addr server, alt_server, local;

static void window_for(const struct ph_addr *dst, struct ph_addr *w)
{
	switch (M.mapping) {
	case PH_MAP_NONE: *w = local; return;
	case PH_MAP_APDM:
		ph_addr_set(w, "198.51.100.2", (uint16_t)(41000 + ph_addr_port(dst) % 100));
		return;
	case PH_MAP_ADM:
		ph_addr_set(w, "198.51.100.2",
			    ph_addr_ip_eq(dst, &server) ? 40000 : 40001);
		return;
	default:
		ph_addr_set(w, "198.51.100.2", 40000);
	}
}

static void open_to(const struct ph_addr *dst)
{
	if (M.nopened < 32)
		M.opened[M.nopened++] = *dst;
}

static bool filter_passes(const struct ph_addr *from)
{
	for (unsigned i = 0; i < M.nopened; i++) {
		if (M.filtering == PH_FILT_APDF && ph_addr_eq(&M.opened[i], from))
			return true;
		if (M.filtering == PH_FILT_ADF && ph_addr_ip_eq(&M.opened[i], from))
			return true;
	}
	return M.filtering == PH_FILT_NONE || M.filtering == PH_FILT_EIF;
}

static void answer(const struct ph_stun_msg *req, const struct ph_addr *from,
		   const struct ph_addr *to_window)
{
	struct ph_stun_enc e;
	struct ph_addr other = M.alt_ip ? alt_server : server;

	if (!filter_passes(from) || M.nq == MAXQ)
		return;
	ph_addr_set_port(&other, 3479);
	ph_stun_enc_init(&e, M.q[M.nq].buf, PH_STUN_MAX_LEN, PH_STUN_BINDING,
			 PH_STUN_SUCCESS, req->tid);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, to_window);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_OTHER_ADDRESS, &other);
	cr_assert_eq(ph_stun_enc_finish(&e, true, &M.q[M.nq].len), 0);
	M.q[M.nq++].src = *from;
}

/* The fake network: what our socket sends, the server answers. */
static int fake_send(const struct ph_addr *dst, const void *buf, size_t len,
		     int ttl, void *arg)
{
	struct ph_stun_msg req;
	struct ph_addr w, from;

	if (!len) {
		cr_assert_lt(M.nulls, 16);
		M.null_ttl[M.nulls++] = ttl;
		if (M.hops && ttl >= (int)M.hops)
			open_to(dst);
		return 0;
	}
	M.sent++;
	open_to(dst);
	if (!M.server_alive || ph_stun_decode(&req, buf, len))
		return 0;
	window_for(dst, &w);
	from = *dst;
	if (req.present & PH_STUN_HAS_CHANGE_REQUEST) {
		if (req.change_flags & PH_STUN_CHANGE_IP) {
			if (!M.alt_ip)
				return 0;
			from = alt_server;
		}
		ph_addr_set_port(&from, req.change_flags & PH_STUN_CHANGE_PORT ? 3479 : 3478);
	}
	answer(&req, &from, &w);
	if (req.present & PH_STUN_HAS_REPLY_FROM) {
		from = server;
		ph_addr_set_port(&from, req.reply_from_port);
		answer(&req, &from, &w);
	}
	return 0;
}

static void setup(void)
{
	memset(&M, 0, sizeof M);
	M.server_alive = true;
	ph_addr_set(&server, "203.0.113.1", 3478);
	ph_addr_set(&alt_server, "203.0.113.2", 3478);
	ph_addr_set(&local, "10.0.1.2", 5000);
}

TestSuite(probe, .init = setup);

/* Run a probe to the end on the fake clock; returns the elapsed ms. */
static uint64_t run_probe(struct ph_fwwin *w, int *errp)
{
	struct ph_probe_conf c = {.server = server, .local = local,
				  .stun = {100, 3, 4}, .fallback_hops = 3};
	struct ph_probe *p;
	uint64_t now = 1000;

	M.nopened = M.nq = M.sent = M.nulls = 0;
	cr_assert_eq(ph_probe_alloc(&p, &c, fake_send, NULL), 0);
	cr_assert_eq(ph_probe_start(p, now), 0);
	for (int guard = 0; !ph_probe_done(p) && guard < 1000; guard++) {
		while (M.nq) {
			M.nq--;
			ph_probe_recv(p, &M.q[M.nq].src, M.q[M.nq].buf, M.q[M.nq].len, now);
		}
		if (ph_probe_done(p))
			break;
		cr_assert_neq(ph_probe_deadline(p), PH_NEVER);
		now = ph_probe_deadline(p);
		ph_probe_tick(p, now);
	}
	cr_assert(ph_probe_done(p));
	*errp = ph_probe_result(p, w);
	ph_probe_free(p);
	return now - 1000;
}

static void expect(enum ph_mapping m, enum ph_filtering f, unsigned hops,
		   enum ph_mapping want_m, enum ph_filtering want_f, unsigned want_h)
{
	struct ph_fwwin w;
	int err;

	M.mapping = m;
	M.filtering = f;
	M.hops = hops;
	run_probe(&w, &err);
	cr_assert_eq(err, 0);
	cr_assert_eq(w.mapping, want_m, "mapping %s, want %s",
		     ph_mapping_name(w.mapping), ph_mapping_name(want_m));
	cr_assert_eq(w.filtering, want_f, "filtering %s, want %s",
		     ph_filtering_name(w.filtering), ph_filtering_name(want_f));
	cr_assert_eq(w.hops, want_h);
	cr_assert_eq(w.lifetime, 30);
}

Test(probe, home_nat_eim_apdf_two_hops)
{
	struct ph_fwwin w;
	struct ph_addr want;
	int err;

	expect(PH_MAP_EIM, PH_FILT_APDF, 2, PH_MAP_EIM, PH_FILT_APDF, 2);
	run_probe(&w, &err);
	ph_addr_set(&want, "198.51.100.2", 0);
	cr_assert(ph_addr_eq(&w.host, &want));
	ph_addr_set(&want, "10.0.1.2", 0);
	cr_assert(ph_addr_eq(&w.local, &want), "local= names the inside address");
	/* the null packets went out with TTL 1..8, one per hop-test port */
	cr_assert_eq(M.nulls, 8);
	for (int k = 0; k < 8; k++)
		cr_assert_eq(M.null_ttl[k], k + 1);
}

Test(probe, symmetric_nat)
{
	expect(PH_MAP_APDM, PH_FILT_APDF, 3, PH_MAP_APDM, PH_FILT_APDF, 3);
}

Test(probe, address_dependent_filtering)
{
	expect(PH_MAP_EIM, PH_FILT_ADF, 1, PH_MAP_EIM, PH_FILT_ADF, 1);
}

Test(probe, second_address_tells_eif_and_adm)
{
	M.alt_ip = true;
	/* with EIF every hop-test answer gets in: TTL 1 already suffices */
	expect(PH_MAP_EIM, PH_FILT_EIF, 2, PH_MAP_EIM, PH_FILT_EIF, 1);
	M.alt_ip = true;
	expect(PH_MAP_ADM, PH_FILT_APDF, 2, PH_MAP_ADM, PH_FILT_APDF, 2);
}

Test(probe, open_host_and_plain_firewall)
{
	M.alt_ip = true;
	expect(PH_MAP_NONE, PH_FILT_NONE, 1, PH_MAP_NONE, PH_FILT_NONE, 1);
	expect(PH_MAP_NONE, PH_FILT_APDF, 2, PH_MAP_NONE, PH_FILT_APDF, 2);
}

Test(probe, no_hop_answer_uses_the_fallback)
{
	expect(PH_MAP_EIM, PH_FILT_APDF, 0, PH_MAP_EIM, PH_FILT_APDF, 3);
}

Test(probe, silent_server_times_out_on_schedule)
{
	struct ph_fwwin w = {.hops = 42};
	int err;
	uint64_t took;

	M.server_alive = false;
	took = run_probe(&w, &err);
	cr_assert_eq(err, ETIMEDOUT);
	cr_assert_eq(w.hops, 42, "no result written");
	/* RTO 100, Rc 3, Rm 4: sends at 0, 100, 300; gives up at 300 + 400 */
	cr_assert_eq(took, 700);
	cr_assert_eq(M.sent, 3);
}

Test(stunc, rfc8489_schedule_and_matching)
{
	struct ph_stunc t;
	struct ph_stun_msg other = {.cls = PH_STUN_SUCCESS}, mine;
	uint64_t at[8];
	unsigned n = 0;

	setup();
	M.server_alive = false;
	cr_assert_eq(ph_stunc_start(&t, &ph_stunc_rfc8489, &server, 0, 0, fake_send, NULL, 0), 0);
	while (t.state == PH_STUNC_PENDING && n < 8) {
		at[n++] = ph_stunc_deadline(&t);
		ph_stunc_tick(&t, fake_send, NULL, ph_stunc_deadline(&t));
	}
	/* RFC 8489 6.2.1: 0, 500, 1500, 3500, 7500, 15500, 31500, give up 39500 */
	cr_assert_eq(M.sent, 7);
	cr_assert_eq(at[0], 500);
	cr_assert_eq(at[5], 31500);
	cr_assert_eq(at[6], 39500);
	cr_assert_eq(t.state, PH_STUNC_TIMEOUT);

	ph_stunc_start(&t, &ph_stunc_rfc8489, &server, 0, 0, fake_send, NULL, 0);
	memset(other.tid, 0xee, sizeof other.tid);
	cr_assert_eq(ph_stunc_recv(&t, &server, &other), ENOENT);
	mine = other;
	memcpy(mine.tid, t.tid, sizeof mine.tid);
	mine.cls = PH_STUN_REQUEST;
	cr_assert_eq(ph_stunc_recv(&t, &server, &mine), ENOENT, "a request is no answer");
	mine.cls = PH_STUN_SUCCESS;
	cr_assert_eq(ph_stunc_recv(&t, &server, &mine), 0);
	cr_assert_eq(t.state, PH_STUNC_DONE);
	cr_assert_eq(ph_stunc_deadline(&t), PH_NEVER);
}
