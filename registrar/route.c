/* PROTOCOL.md section 5:
 *
 *   caller \ callee | none/eim + any filtering | apdm (symmetric)
 *   none/eim        | direct: callee opens,    | direct if the caller's filtering
 *                   | caller transmits         | is none/eif/adf, else relay
 *   apdm            | direct if the callee's   | relay
 *                   | filtering is none/eif/adf|
 *
 * adm counts as apdm. Same public address on both sides: local. A side
 * with no firewall data: relay, unless its own SDP shows a public address
 * with no sign of a NAT (plain_public), in which case the other side
 * opens toward it. The PBX in front of which pinholed stands (section 11)
 * is an outside transmitter: the phone opens toward its media address and
 * the PBX transmits to the phone's window, which only a phone that keeps
 * one window for every peer (none/eim mapping) can offer; else relay.
 * The PBX transmits as it answers, before a calling phone has its answer
 * and can open: a router that answers such an early packet itself keeps
 * a conntrack entry that gives the phone's own packet another port, so a
 * NATed caller behind one is relayed from the start. */
#include "config.h"

#include <stddef.h>

#include "route.h"

const char *route_kind_name(enum route_kind k)
{
	static const char *const names[] = {"relay", "direct", "local"};

	return (unsigned)k <= ROUTE_LOCAL ? names[k] : "relay";
}

static bool known(const struct route_side *s)
{
	return s->has_fw && s->has_window;
}

/* Keeps one window per socket whoever it talks to. An unknown mapping is
 * taken for the worst. */
static bool steady(const struct route_side *s)
{
	return s->fw.mapping == PH_MAP_NONE || s->fw.mapping == PH_MAP_EIM;
}

/* Lets in a peer whose port it cannot know in advance. */
static bool lenient(const struct route_side *s)
{
	return s->fw.filtering == PH_FILT_NONE || s->fw.filtering == PH_FILT_EIF ||
	       s->fw.filtering == PH_FILT_ADF;
}

/* A plain endpoint that shows no sign of a NAT or firewall: its own SDP
 * (not a guess before its answer) names the very IP its SIP came from, a
 * public one, and nothing says otherwise (a Via sent-by other than where
 * its SIP came from; ICE attributes: an agent that gathers candidates
 * expects a NAT, and puts its STUN-learned address in c=). An address that
 * merely looks public proves nothing: such a side is relayed. */
static bool plain_public(const struct route_side *s)
{
	return !s->has_fw && !s->has_window && s->media_known && !s->nat_seen &&
	       ph_addr_isset(&s->media) && ph_addr_ip_eq(&s->media, &s->sip_src) &&
	       !ph_addr_is_private(&s->media);
}

static void set(struct route *r, enum route_kind k, enum ph_role caller,
		enum ph_role callee, const char *why)
{
	r->kind = k;
	r->caller = caller;
	r->callee = callee;
	r->why = why;
}

/* Section 10: one side the PBX, the other a phone with firewall data. */
static bool outside_route(const struct route_side *a,
			  const struct route_side *b, struct route *r)
{
	const struct route_side *phone = a->outside ? b : a;

	if (a->outside == b->outside || !known(phone))
		return false;
	if (!steady(phone))
		set(r, ROUTE_RELAY, PH_ROLE_RELAY, PH_ROLE_RELAY,
		    "the PBX transmits, and the phone's window changes per peer");
	else if (b->outside && phone->answers_unsolicited &&
		 phone->fw.mapping != PH_MAP_NONE)
		set(r, ROUTE_RELAY, PH_ROLE_RELAY, PH_ROLE_RELAY,
		    "the PBX transmits as it answers, and the caller's router "
		    "answers unsolicited input: that first packet would take "
		    "the window");
	else if (a->outside)
		set(r, ROUTE_DIRECT, PH_ROLE_NONE, PH_ROLE_OPEN,
		    "the PBX transmits: callee opens toward its media");
	else
		set(r, ROUTE_DIRECT, PH_ROLE_OPEN, PH_ROLE_NONE,
		    "the PBX transmits: caller opens toward its media");
	return true;
}

void route_decide(const struct route_side *a, const struct route_side *b,
		  struct route *r)
{
	if (outside_route(a, b, r))
		return;
	if (!known(a) || !known(b)) {
		if (plain_public(a) && plain_public(b))
			set(r, ROUTE_DIRECT, PH_ROLE_NONE, PH_ROLE_NONE,
			    "both plain with public addresses: nothing to open");
		else if (known(a) && plain_public(b))
			set(r, ROUTE_DIRECT, PH_ROLE_OPEN, PH_ROLE_NONE,
			    "callee plain with a public address: caller opens");
		else if (known(b) && plain_public(a))
			set(r, ROUTE_DIRECT, PH_ROLE_NONE, PH_ROLE_OPEN,
			    "caller plain with a public address: callee opens");
		else
			set(r, ROUTE_RELAY, PH_ROLE_RELAY, PH_ROLE_RELAY,
			    "a side without firewall data");
		return;
	}
	if (ph_addr_ip_eq(&a->fw.host, &b->fw.host)) {
		set(r, ROUTE_LOCAL, PH_ROLE_LOCAL, PH_ROLE_LOCAL,
		    "same public address");
		return;
	}
	if (steady(a) && steady(b))
		set(r, ROUTE_DIRECT, PH_ROLE_TRANSMIT, PH_ROLE_OPEN,
		    "both keep their windows: callee opens, caller transmits");
	else if (steady(a) && lenient(a))
		set(r, ROUTE_DIRECT, PH_ROLE_OPEN, PH_ROLE_TRANSMIT,
		    "callee symmetric, caller lenient: callee transmits, caller latches");
	else if (steady(b) && lenient(b))
		set(r, ROUTE_DIRECT, PH_ROLE_TRANSMIT, PH_ROLE_OPEN,
		    "caller symmetric, callee lenient: caller transmits, callee latches");
	else
		set(r, ROUTE_RELAY, PH_ROLE_RELAY, PH_ROLE_RELAY,
		    steady(a) || steady(b)
			    ? "one side symmetric, the other filters by port"
			    : "both sides symmetric");
}
