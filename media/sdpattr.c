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

/* IP and port as SDP writes them: a bare IP, IPv6 too (RFC 8866 section
 * 5.7 puts no brackets around the c= address), then a port 1..65535. */
static int ip_port(struct span ip, struct span port, struct ph_addr *out,
		   const char **why)
{
	struct ph_addr a;
	unsigned p;

	if (!ip.n || ip.p[0] == '[' || span_ip(ip, &a)) {
		*why = "not a numeric IP address";
		return EBADMSG;
	}
	if (span_uint(port, 5, 1, 65535, &p)) {
		*why = "port out of range";
		return EBADMSG;
	}
	ph_addr_set_port(&a, (uint16_t)p);
	*out = a;
	return 0;
}

/* "IP PORT" */
PH_API int ph_sdp_addr_decode(struct ph_addr *out, const char *buf,
			      size_t len, const char **why)
{
	struct span s = {buf, len}, parts[2];
	const char *dummy;

	if (!why)
		why = &dummy;
	if (!buf || !span_clean(s) || split_sp(span_trim(s), parts, 2) != 2) {
		*why = "expected an address and a port";
		return EBADMSG;
	}
	return ip_port(parts[0], parts[1], out, why);
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

/* Firewall-Punch: role;peer=IP:PORT[;relay=IP:PORT] *(;generic-param) */
static int punch_param(struct ph_punch *p, struct span piece, const char **why)
{
	bool has_val = memchr(piece.p, '=', piece.n) != NULL;
	struct span name, val;

	span_next(&piece, '=', &name);
	name = span_trim(name);
	val = span_trim(piece);
	if (span_eq(name, "peer")) {
		if (ph_addr_isset(&p->peer))
			return *why = "duplicate Firewall-Punch peer", EBADMSG;
		if (!has_val || span_hostport(val, &p->peer))
			return *why = "Firewall-Punch peer is not IP:port", EBADMSG;
	} else if (span_eq(name, "relay")) {
		if (ph_addr_isset(&p->relay))
			return *why = "duplicate Firewall-Punch relay", EBADMSG;
		if (!has_val || span_hostport(val, &p->relay))
			return *why = "Firewall-Punch relay is not IP:port", EBADMSG;
	} else if (!span_is_token(name) || (has_val && !span_is_value(val))) {
		return *why = "Firewall-Punch parameter malformed", EBADMSG;
	}
	return 0;
}

PH_API int ph_punch_hdr_decode(struct ph_punch *out, const char *buf,
			       size_t len, const char **why)
{
	struct span rest = {buf, len}, piece;
	const char *dummy;
	struct ph_punch p;
	int err;

	if (!why)
		why = &dummy;
	memset(&p, 0, sizeof p);
	if (!buf || !span_clean(rest)) {
		*why = "Firewall-Punch has control characters";
		return EBADMSG;
	}
	span_next(&rest, ';', &piece);
	if (role_value(span_trim(piece), &p.role)) {
		*why = "Firewall-Punch role unknown";
		return EBADMSG;
	}
	while (span_next(&rest, ';', &piece))
		if ((err = punch_param(&p, piece, why)))
			return err;
	if (!ph_addr_isset(&p.peer)) {
		*why = "Firewall-Punch has no peer";
		return EBADMSG;
	}
	*out = p;
	return 0;
}

/* What the decoders accept back: a role, and addresses with a port. */
static bool punch_ok(const struct ph_punch *p)
{
	return p->role > PH_ROLE_NONE && p->role <= PH_ROLE_LOCAL &&
	       ph_addr_port(&p->peer) &&
	       (!ph_addr_isset(&p->relay) || ph_addr_port(&p->relay));
}

PH_API int ph_punch_hdr_encode(const struct ph_punch *p, char *buf,
			       size_t size)
{
	char peer[PH_ADDR_STRLEN], relay[PH_ADDR_STRLEN];
	bool has_relay = ph_addr_isset(&p->relay);
	int n;

	if (!punch_ok(p) || ph_addr_print(&p->peer, peer, sizeof peer) ||
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
	struct span s = {buf, len}, parts[4], relay;
	const char *dummy;
	struct ph_punch p;
	unsigned n;

	if (!why)
		why = &dummy;
	memset(&p, 0, sizeof p);
	if (!buf || !span_clean(s))
		return *why = "a=fw-punch has control characters", EBADMSG;
	n = split_sp(span_trim(s), parts, 4);
	if (n < 3 || n > 4 || role_value(parts[0], &p.role))
		return *why = "a=fw-punch: expected role, address, port", EBADMSG;
	if (ip_port(parts[1], parts[2], &p.peer, why))
		return *why = "a=fw-punch peer is not an address and port", EBADMSG;
	if (n == 4) {
		relay = parts[3];
		if (relay.n < 6 || strncmp(relay.p, "relay=", 6))
			return *why = "a=fw-punch: unknown trailing field", EBADMSG;
		relay.p += 6;
		relay.n -= 6;
		if (span_hostport(relay, &p.relay))
			return *why = "a=fw-punch relay is not IP:port", EBADMSG;
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

	if (!punch_ok(p) || ph_sdp_addr_encode(&p->peer, peer, sizeof peer) ||
	    (has_relay && ph_addr_print(&p->relay, relay, sizeof relay)))
		return EINVAL;
	n = snprintf(buf, size, "%s %s%s%s", ph_role_name(p->role), peer,
		     has_relay ? " relay=" : "", has_relay ? relay : "");
	return n < 0 || (size_t)n >= size ? ENOSPC : 0;
}
