/* A stream's path on a fake clock: the opener's TTL, latching, third
 * parties, relay fallback at 2 s, keepalive at lifetime/2, consent at 30 s. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include <pinhole/media.h>

static struct { struct ph_addr dst; size_t len; int ttl; } sent[64];
static unsigned nsent;

static int rec_send(const struct ph_addr *dst, const void *buf, size_t len,
		    int ttl, void *arg)
{
	/* a ring: tests look at the last few */
	sent[nsent % 64].dst = *dst;
	sent[nsent % 64].len = len;
	sent[nsent % 64].ttl = ttl;
	nsent++;
	return 0;
}

static struct ph_punch punch(enum ph_role role, bool relay)
{
	struct ph_punch p = {.role = role};

	ph_addr_set(&p.peer, "198.51.100.2", 40000);
	if (relay)
		ph_addr_set(&p.relay, "203.0.113.1", 31000);
	return p;
}

Test(path, opener_sends_one_hop_limited_null_packet)
{
	struct ph_path p;
	struct ph_punch pu = punch(PH_ROLE_OPEN, true);

	nsent = 0;
	cr_assert_eq(ph_path_start(&p, &pu, 2, 30, rec_send, NULL, 0), 0);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(sent[0].len, 0);
	cr_assert_eq(sent[0].ttl, 2);
	cr_assert(ph_addr_eq(&sent[0].dst, &pu.peer));
	cr_assert_eq(p.state, PH_PATH_WAITING);
}

Test(path, latches_on_the_peers_actual_port_never_a_third_party)
{
	struct ph_path p;
	struct ph_punch pu = punch(PH_ROLE_TRANSMIT, true);
	struct ph_addr third, peer_other_port;

	nsent = 0;
	ph_path_start(&p, &pu, 2, 30, rec_send, NULL, 0);
	cr_assert_eq(nsent, 0, "a transmitter sends media, no null packet");
	ph_addr_set(&third, "192.0.2.66", 40000);
	cr_assert(!ph_path_recv(&p, &third, 172, 10));
	cr_assert_eq(p.stats.dropped, 1);
	cr_assert_eq(p.state, PH_PATH_WAITING, "not latched on a third party");

	ph_addr_set(&peer_other_port, "198.51.100.2", 40123);
	cr_assert(ph_path_recv(&p, &peer_other_port, 172, 20));
	cr_assert_eq(p.state, PH_PATH_LATCHED);
	cr_assert(ph_addr_eq(ph_path_target(&p), &peer_other_port));
	cr_assert_eq(p.stats.first_rx_ms, 20);
	cr_assert(!ph_path_recv(&p, &third, 172, 30));
	cr_assert(ph_addr_eq(ph_path_target(&p), &peer_other_port), "still latched");
	cr_assert_eq(ph_path_send(&p, "x", 1, 40), 0);
	cr_assert(ph_addr_eq(&sent[(nsent - 1) % 64].dst, &peer_other_port));
}

Test(path, silent_peer_moves_to_the_relay_at_two_seconds)
{
	struct ph_path p;
	struct ph_punch pu = punch(PH_ROLE_OPEN, true);

	nsent = 0;
	ph_path_start(&p, &pu, 2, 30, rec_send, NULL, 1000);
	cr_assert_eq(ph_path_deadline(&p), 3000);
	ph_path_tick(&p, 2999);
	cr_assert_eq(p.state, PH_PATH_WAITING);
	ph_path_tick(&p, 3000);
	cr_assert_eq(p.state, PH_PATH_RELAYED);
	cr_assert(p.stats.fell_back);
	cr_assert(ph_addr_eq(ph_path_target(&p), &pu.relay));
	cr_assert(ph_addr_eq(&sent[(nsent - 1) % 64].dst, &pu.relay), "an outbound packet to the relay");
	/* media now comes from the relay, not the peer */
	cr_assert(ph_path_recv(&p, &pu.relay, 172, 3100));
	cr_assert(!ph_path_recv(&p, &pu.peer, 172, 3100));
}

Test(path, no_relay_no_fallback)
{
	struct ph_path p;
	struct ph_punch pu = punch(PH_ROLE_OPEN, false);

	ph_path_start(&p, &pu, 2, 30, rec_send, NULL, 0);
	ph_path_tick(&p, 5000);
	cr_assert_eq(p.state, PH_PATH_WAITING);
}

Test(path, keepalive_only_when_idle_for_half_the_lifetime)
{
	struct ph_path p;
	struct ph_punch pu = punch(PH_ROLE_TRANSMIT, false);
	unsigned before;

	nsent = 0;
	ph_path_start(&p, &pu, 2, 20, rec_send, NULL, 0);
	ph_path_recv(&p, &pu.peer, 172, 5);
	for (uint64_t t = 20; t <= 9000; t += 20) { /* media every 20 ms */
		ph_path_send(&p, "rtp", 3, t);
		ph_path_recv(&p, &pu.peer, 172, t);
		ph_path_tick(&p, t);
	}
	cr_assert_eq(p.stats.nulls_sent, 0, "no keepalive while media flows");
	/* hold: nothing sent from 9000 on; lifetime 20 s -> null at 19000 */
	before = nsent;
	ph_path_recv(&p, &pu.peer, 0, 12000);
	ph_path_tick(&p, 18999);
	cr_assert_eq(nsent, before);
	cr_assert_eq(ph_path_deadline(&p), 19000);
	ph_path_tick(&p, 19000);
	cr_assert_eq(nsent, before + 1);
	cr_assert_eq(sent[(nsent - 1) % 64].len, 0);
	cr_assert_eq(p.stats.nulls_sent, 1);
}

Test(path, consent_stops_transmission_after_thirty_seconds)
{
	struct ph_path p;
	struct ph_punch pu = punch(PH_ROLE_TRANSMIT, false);

	ph_path_start(&p, &pu, 2, 30, rec_send, NULL, 0);
	ph_path_recv(&p, &pu.peer, 172, 100);
	ph_path_tick(&p, 30099);
	cr_assert_not_null(ph_path_target(&p));
	ph_path_tick(&p, 30100);
	cr_assert_eq(p.state, PH_PATH_NO_CONSENT);
	cr_assert_null(ph_path_target(&p));
	cr_assert_neq(ph_path_send(&p, "x", 1, 30200), 0);
	/* the peer is back: consent again */
	cr_assert(ph_path_recv(&p, &pu.peer, 172, 31000));
	cr_assert_not_null(ph_path_target(&p));
}

Test(path, host_send_counts_and_holds_an_opener_until_the_peer_is_heard)
{
	struct ph_path p;
	struct ph_punch op = punch(PH_ROLE_OPEN, true);
	struct ph_punch tx = punch(PH_ROLE_TRANSMIT, false);

	memset(&p, 0, sizeof p);
	cr_assert_eq(ph_path_host_send(&p, 0), ENOTCONN, "not started");

	/* an opener: nothing leaves before the peer's first packet */
	nsent = 0;
	ph_path_start(&p, &op, 2, 30, rec_send, NULL, 0);
	cr_assert_eq(ph_path_host_send(&p, 10), EAGAIN);
	cr_assert_eq(p.stats.sent, 0);
	ph_path_recv(&p, &op.peer, 172, 20);
	cr_assert_eq(ph_path_host_send(&p, 30), 0);
	cr_assert_eq(p.stats.sent, 1);
	cr_assert_eq(nsent, 1, "the host sends it, not the path");

	/* a transmitter sends at once; each one defers the keepalive */
	ph_path_start(&p, &tx, 2, 20, rec_send, NULL, 0);
	cr_assert_eq(ph_path_host_send(&p, 5000), 0);
	cr_assert_eq(p.stats.sent, 1);
	cr_assert_eq(ph_path_deadline(&p), 15000, "lifetime/2 after the last send");

	/* no consent: hold */
	ph_path_tick(&p, 30000);
	cr_assert_eq(p.state, PH_PATH_NO_CONSENT);
	cr_assert_eq(ph_path_host_send(&p, 30010), ENOTCONN);
	cr_assert_eq(p.stats.sent, 1);
}
