/* The route decision over every pair of the lab's kinds of firewall, and
 * the cases without firewall data. */
#include <criterion/criterion.h>
#include <string.h>

#include "route.h"

/* A side of the given kind, as pinhole-probe measures it in the lab. */
static struct route_side side(const char *kind, const char *public_ip)
{
	struct route_side s = {.has_fw = true, .has_window = true};

	ph_addr_set(&s.fw.host, public_ip, 0);
	s.window = s.fw.host;
	ph_addr_set_port(&s.window, 40000);
	s.fw.hops = 2;
	if (!strcmp(kind, "open"))
		s.fw.mapping = PH_MAP_NONE, s.fw.filtering = PH_FILT_NONE, s.fw.hops = 1;
	else if (!strcmp(kind, "fw"))
		s.fw.mapping = PH_MAP_NONE, s.fw.filtering = PH_FILT_APDF;
	else if (!strcmp(kind, "nat") || !strcmp(kind, "natopen"))
		s.fw.mapping = PH_MAP_EIM, s.fw.filtering = PH_FILT_APDF;
	else if (!strcmp(kind, "sym"))
		s.fw.mapping = PH_MAP_APDM, s.fw.filtering = PH_FILT_APDF;
	else if (!strcmp(kind, "adm-adf"))
		s.fw.mapping = PH_MAP_ADM, s.fw.filtering = PH_FILT_ADF;
	/* the ICMP its router sent to the probe's change-port answer */
	s.answers_unsolicited = !strcmp(kind, "natopen");
	return s;
}

Test(route, every_pair_of_lab_kinds)
{
	static const char *kinds[] = {"open", "fw", "nat", "natopen", "sym"};

	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++) {
			struct route_side a = side(kinds[i], "198.51.100.1");
			struct route_side b = side(kinds[j], "198.51.100.129");
			bool sa = !strcmp(kinds[i], "sym"), sb = !strcmp(kinds[j], "sym");
			struct route r;

			route_decide(&a, &b, &r);
			if (sa && sb) {
				cr_assert_eq(r.kind, ROUTE_RELAY, "sym x sym");
			} else if (sa || sb) {
				/* direct only against the open kind (filtering none) */
				const char *other = sa ? kinds[j] : kinds[i];
				bool open = !strcmp(other, "open");
				cr_assert_eq(r.kind, open ? ROUTE_DIRECT : ROUTE_RELAY,
					     "%s x %s: %s", kinds[i], kinds[j], r.why);
				if (open) { /* the symmetric side transmits */
					cr_assert_eq(sa ? r.caller : r.callee, PH_ROLE_TRANSMIT);
					cr_assert_eq(sa ? r.callee : r.caller, PH_ROLE_OPEN);
				}
			} else {
				cr_assert_eq(r.kind, ROUTE_DIRECT, "%s x %s", kinds[i], kinds[j]);
				cr_assert_eq(r.caller, PH_ROLE_TRANSMIT);
				cr_assert_eq(r.callee, PH_ROLE_OPEN);
			}
		}
}

Test(route, adm_counts_as_apdm)
{
	struct route_side a = side("adm-adf", "198.51.100.1");
	struct route_side b = side("sym", "198.51.100.129");
	struct route r;

	route_decide(&a, &b, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY);
	b = side("nat", "198.51.100.129");
	route_decide(&a, &b, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY, "callee filters by port");
	b.fw.filtering = PH_FILT_ADF;
	route_decide(&a, &b, &r);
	cr_assert_eq(r.kind, ROUTE_DIRECT);
	cr_assert_eq(r.caller, PH_ROLE_TRANSMIT);
}

Test(route, same_public_address_is_local)
{
	struct route_side a = side("sym", "198.51.100.1");
	struct route_side b = side("sym", "198.51.100.1");
	struct route r;

	route_decide(&a, &b, &r);
	cr_assert_eq(r.kind, ROUTE_LOCAL);
	cr_assert_eq(r.caller, PH_ROLE_LOCAL);
}

Test(route, plain_endpoints)
{
	struct route_side a = side("nat", "198.51.100.1"), plain = {0};
	struct route r;

	/* behind a NAT (media address private, SIP from a public one): relay */
	ph_addr_set(&plain.media, "10.0.2.2", 4000);
	plain.media_known = true;
	ph_addr_set(&plain.sip_src, "198.51.100.129", 5060);
	route_decide(&a, &plain, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY);
	/* public, no NAT: the other side opens toward it */
	ph_addr_set(&plain.media, "198.51.100.129", 4000);
	route_decide(&a, &plain, &r);
	cr_assert_eq(r.kind, ROUTE_DIRECT);
	cr_assert_eq(r.caller, PH_ROLE_OPEN);
	route_decide(&plain, &a, &r);
	cr_assert_eq(r.kind, ROUTE_DIRECT);
	cr_assert_eq(r.callee, PH_ROLE_OPEN);
	/* two plain phones on public addresses: nothing to tell anyone */
	{
		struct route_side other = plain;
		ph_addr_set(&other.media, "192.0.2.7", 4000);
		ph_addr_set(&other.sip_src, "192.0.2.7", 5060);
		route_decide(&plain, &other, &r);
		cr_assert_eq(r.kind, ROUTE_DIRECT);
		cr_assert_eq(r.caller, PH_ROLE_NONE);
		cr_assert_eq(r.callee, PH_ROLE_NONE);
	}
	/* a window pinholed never saw counts as absent (PROTOCOL.md 3) */
	a.has_window = false;
	route_decide(&a, &plain, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY);
}

/* An address that looks public is no proof: only a plain side's own SDP
 * at its SIP source, public, with no sign of a NAT, goes direct. */
Test(route, plain_side_needs_evidence)
{
	struct route_side a = side("nat", "198.51.100.1"), p = {0};
	struct route r;

	ph_addr_set(&p.media, "198.51.100.129", 4000);
	ph_addr_set(&p.sip_src, "198.51.100.129", 5060);
	/* a callee before its answer: its media is a guess (linphone puts
	 * its public address in Contact, a private one in c=) */
	route_decide(&a, &p, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY, "unknown media");
	p.media_known = true;
	route_decide(&a, &p, &r);
	cr_assert_eq(r.kind, ROUTE_DIRECT);
	/* ICE attributes, or a Via from elsewhere: a NAT in front */
	p.nat_seen = true;
	route_decide(&a, &p, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY, "NAT seen");
	p.nat_seen = false;
	/* a private address at its source: on pinholed's LAN, not the peer's */
	ph_addr_set(&p.media, "10.0.0.5", 4000);
	ph_addr_set(&p.sip_src, "10.0.0.5", 5060);
	route_decide(&a, &p, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY, "private");
	route_decide(&p, &p, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY, "two private plain phones");
}

/* PROTOCOL.md section 11: the PBX is an outside transmitter. A phone that
 * keeps one window for every peer opens toward its media, the PBX
 * transmits; a symmetric phone is relayed; as caller or callee alike,
 * except that a caller behind a router that answers unsolicited input
 * (natopen) is relayed: the PBX's first packet, sent as it answers, would
 * take its window. */
Test(route, the_pbx_is_an_outside_transmitter)
{
	static const char *kinds[] = {"open", "fw", "nat", "natopen", "sym"};
	struct route_side pbx = {.outside = true};

	ph_addr_set(&pbx.sip_src, "198.18.0.1", 5060);
	for (int i = 0; i < 5; i++) {
		struct route_side phone = side(kinds[i], "198.51.100.1");
		bool sym = !strcmp(kinds[i], "sym");
		bool early = !strcmp(kinds[i], "natopen");
		struct route out, in;

		route_decide(&phone, &pbx, &out);
		route_decide(&pbx, &phone, &in);
		cr_assert_eq(out.kind, sym || early ? ROUTE_RELAY : ROUTE_DIRECT,
			     "%s", kinds[i]);
		cr_assert_eq(in.kind, sym ? ROUTE_RELAY : ROUTE_DIRECT, "%s", kinds[i]);
		if (sym)
			continue;
		cr_assert_eq(in.caller, PH_ROLE_NONE);
		cr_assert_eq(in.callee, PH_ROLE_OPEN);
		if (early)
			continue;
		cr_assert_eq(out.caller, PH_ROLE_OPEN);
		cr_assert_eq(out.callee, PH_ROLE_NONE);
	}
	/* no NAT, so no port for an early packet to take: direct */
	struct route_side host = side("open", "198.51.100.1");
	struct route d;
	host.answers_unsolicited = true;
	route_decide(&host, &pbx, &d);
	cr_assert_eq(d.kind, ROUTE_DIRECT);
	/* a phone with no firewall data against the PBX: relay */
	struct route_side plain = {0};
	struct route r;
	route_decide(&plain, &pbx, &r);
	cr_assert_eq(r.kind, ROUTE_RELAY);
}
