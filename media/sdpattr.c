/* The SDP attributes a=fw-window, a=fw-local and a=fw-punch, and the
 * Firewall-Punch header (PROTOCOL.md sections 3 and 4). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lex.h"
#include "pinhole/fwwin.h"

static const char *const role_names[] = {
	[PH_ROLE_NONE] = "none", [PH_ROLE_OPEN] = "open",
	[PH_ROLE_TRANSMIT] = "transmit", [PH_ROLE_RELAY] = "relay",
	[PH_ROLE_LOCAL] = "local",
};

PH_API const char *ph_role_name(enum ph_role r)
{
	return (unsigned)r <= PH_ROLE_LOCAL ? role_names[r] : "none";
}

static int role_value(struct span s, enum ph_role *out)
{
	for (int i = PH_ROLE_OPEN; i <= PH_ROLE_LOCAL; i++)
		if (span_eq(s, role_names[i])) {
			*out = (enum ph_role)i;
			return 0;
		}
	return EINVAL;
}

/* Split on single spaces, as SDP does (RFC 8866 section 5). */
static unsigned split_sp(struct span s, struct span *parts, unsigned max)
{
	unsigned n = 0;
	struct span piece;

	while (span_next(&s, ' ', &piece)) {
		if (n == max)
			return max + 1;
		parts[n++] = piece;
	}
	return n;
}

/* "IP PORT" */
PH_API int ph_sdp_addr_decode(struct ph_addr *out, const char *buf,
			      size_t len, const char **why)
{
	const char *dummy;
	struct span parts[3];
	struct ph_addr a;
	unsigned port;
	if (!why)
		why = &dummy;

	if (!buf || !span_clean((struct span){buf, len}) ||
	    split_sp(span_trim((struct span){buf, len}), parts, 2) != 2) {
		*why = "expected an address and a port";
		return EBADMSG;
	}
	if (span_ip(parts[0], &a) || parts[0].p[0] == '[') {
		*why = "not a numeric IP address";
		return EBADMSG;
	}
	if (span_uint(parts[1], 5, 1, 65535, &port)) {
		*why = "port out of range";
		return EBADMSG;
	}
	ph_addr_set_port(&a, (uint16_t)port);
	*out = a;
	return 0;
}

PH_API int ph_sdp_addr_encode(const struct ph_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (ph_addr_ip_print(a, ip, sizeof ip) || !ph_addr_port(a))
		return EINVAL;
	n = snprintf(buf, size, "%s %u", ip, ph_addr_port(a));
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

static int relay_value(struct span v, struct ph_punch *p, const char **why)
{
	if (ph_addr_isset(&p->relay)) {
		*why = "duplicate relay";
		return EBADMSG;
	}
	if (span_hostport(v, &p->relay)) {
		*why = "relay is not IP:port";
		return EBADMSG;
	}
	return 0;
}

/* role;peer=IP:PORT[;relay=IP:PORT] *(;generic-param) */
PH_API int ph_punch_hdr_decode(struct ph_punch *out, const char *buf,
			       size_t len, const char **why)
{
	const char *dummy;
	struct span rest = {buf, len}, piece;
	struct ph_punch p;
	if (!why)
		why = &dummy;

	memset(&p, 0, sizeof p);
	if (!buf || !span_clean(rest) || !span_next(&rest, ';', &piece) ||
	    role_value(span_trim(piece), &p.role)) {
		*why = "Firewall-Punch role unknown";
		return EBADMSG;
	}
	while (span_next(&rest, ';', &piece)) {
		struct span name, val;
		bool has_val = memchr(piece.p, '=', piece.n) != NULL;

		span_next(&piece, '=', &name);
		name = span_trim(name);
		val = span_trim(piece);
		if (span_eq(name, "peer")) {
			if (ph_addr_isset(&p.peer) || !has_val ||
			    span_hostport(val, &p.peer)) {
				*why = "Firewall-Punch peer is not one IP:port";
				return EBADMSG;
			}
		} else if (span_eq(name, "relay")) {
			if (!has_val || relay_value(val, &p, why))
				return *why = "Firewall-Punch relay is not one IP:port", EBADMSG;
		} else if (!span_is_token(name) || (has_val && !span_is_value(val))) {
			*why = "Firewall-Punch parameter malformed";
			return EBADMSG;
		}
	}
	if (!ph_addr_isset(&p.peer)) {
		*why = "Firewall-Punch has no peer";
		return EBADMSG;
	}
	*out = p;
	return 0;
}

PH_API int ph_punch_hdr_encode(const struct ph_punch *p, char *buf,
			       size_t size)
{
	char peer[PH_ADDR_STRLEN], relay[PH_ADDR_STRLEN];
	bool has_relay = ph_addr_isset(&p->relay);
	int n;

	if (p->role == PH_ROLE_NONE || (unsigned)p->role > PH_ROLE_LOCAL ||
	    ph_addr_print(&p->peer, peer, sizeof peer) ||
	    (has_relay && ph_addr_print(&p->relay, relay, sizeof relay)))
		return EINVAL;
	n = snprintf(buf, size, "%s;peer=%s%s%s", ph_role_name(p->role), peer,
		     has_relay ? ";relay=" : "", has_relay ? relay : "");
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}

/* role IP PORT [relay=IP:PORT] */
PH_API int ph_punch_sdp_decode(struct ph_punch *out, const char *buf,
			       size_t len, const char **why)
{
	const char *dummy;
	struct span parts[5];
	struct ph_punch p;
	unsigned n;
	char addr[INET6_ADDRSTRLEN + 8];
	if (!why)
		why = &dummy;

	memset(&p, 0, sizeof p);
	if (!buf || !span_clean((struct span){buf, len}))
		return *why = "a=fw-punch has control characters", EBADMSG;
	n = split_sp(span_trim((struct span){buf, len}), parts, 4);
	if (n < 3 || n > 4 || role_value(parts[0], &p.role))
		return *why = "a=fw-punch: expected role, address, port", EBADMSG;
	if (parts[1].n + parts[2].n + 1 >= sizeof addr)
		return *why = "a=fw-punch address too long", EBADMSG;
	snprintf(addr, sizeof addr, "%.*s %.*s", (int)parts[1].n, parts[1].p,
		 (int)parts[2].n, parts[2].p);
	if (ph_sdp_addr_decode(&p.peer, addr, strlen(addr), why))
		return EBADMSG;
	if (n == 4) {
		if (parts[3].n < 6 || strncmp(parts[3].p, "relay=", 6))
			return *why = "a=fw-punch: unknown trailing field", EBADMSG;
		parts[3].p += 6;
		parts[3].n -= 6;
		if (relay_value(parts[3], &p, why))
			return EBADMSG;
	}
	*out = p;
	return 0;
}

PH_API int ph_punch_sdp_encode(const struct ph_punch *p, char *buf,
			       size_t size)
{
	char peer[PH_ADDR_STRLEN + 8], relay[PH_ADDR_STRLEN];
	bool has_relay = ph_addr_isset(&p->relay);
	int n;

	if (p->role == PH_ROLE_NONE || (unsigned)p->role > PH_ROLE_LOCAL ||
	    ph_sdp_addr_encode(&p->peer, peer, sizeof peer) ||
	    (has_relay && ph_addr_print(&p->relay, relay, sizeof relay)))
		return EINVAL;
	n = snprintf(buf, size, "%s %s%s%s", ph_role_name(p->role), peer,
		     has_relay ? " relay=" : "", has_relay ? relay : "");
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}
