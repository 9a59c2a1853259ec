/* The route decision (PROTOCOL.md section 5): a pure function of both
 * sides' firewall data. */
#ifndef PINHOLED_ROUTE_H
#define PINHOLED_ROUTE_H

#include <stdbool.h>

#include <pinhole/fwwin.h>

/* What pinholed knows of one side of a call. */
struct route_side {
	bool has_fw;             /* a Firewall-Window (REGISTER, INVITE, 2xx) */
	struct ph_fwwin fw;
	bool has_window;         /* an a=fw-window pinholed's STUN service saw */
	struct ph_addr window;
	struct ph_addr media;    /* c= and m= port, for plain endpoints */
	bool media_known;        /* media is from its own SDP */
	bool nat_seen;           /* a sign of a NAT: its Via's sent-by is not
				    where its SIP came from, ICE attributes */
	struct ph_addr sip_src;  /* where its SIP came from */
	bool answers_unsolicited; /* its router answered an unsolicited
				    datagram itself (ICMP, stund_refused):
				    an early packet from outside takes the
				    window there (PROTOCOL.md section 11) */
	bool outside;            /* the PBX pinholed fronts (edge mode): an
				    outside transmitter, no firewall; it sends
				    to the address it is given, and does not
				    latch (PROTOCOL.md section 11) */
};

enum route_kind { ROUTE_RELAY = 0, ROUTE_DIRECT, ROUTE_LOCAL };

struct route {
	enum route_kind kind;
	enum ph_role caller, callee;  /* each side's part */
	const char *why;              /* for the call report */
};

void route_decide(const struct route_side *caller,
		  const struct route_side *callee, struct route *out);
const char *route_kind_name(enum route_kind k);

#endif
