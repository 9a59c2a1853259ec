/* The SDP that crosses the ng control protocol (RFC 4566): what the
 * relay reads from an offer or answer (each m= line's address), and the
 * copy it hands back with the media moved to its own ports. Pure
 * functions over (buffer, length): no allocation, no I/O. */
#ifndef PINHOLE_NGSDP_H
#define PINHOLE_NGSDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"

#define NGSDP_MAX_MEDIA 8

/* Each m= line's address (its c=, else the session's c=, and its port;
 * port 0: a disabled stream, RFC 3264 section 6), in order; *n of them,
 * at most max. EBADMSG: no m= line, or one with no readable c=. */
int ngsdp_read(const char *sdp, size_t len, struct ph_addr *media,
	       unsigned max, unsigned *n);

/* sdp with every c= line naming ip, m= line i's port replaced by
 * ports[i] (n of them; a disabled stream's 0 stays), and what would lead
 * around the relay dropped: ICE (RFC 8839 a=candidate, a=ice-*,
 * a=remote-candidates, a=end-of-candidates) and a=rtcp (RFC 3605: RTCP
 * goes to the port above). origin: the o= line's address becomes ip
 * too. ENOSPC when out is too small. */
int ngsdp_write(const char *sdp, size_t len, const struct ph_addr *ip,
		const uint16_t *ports, unsigned n, bool origin, char *out,
		size_t size, size_t *outlen);

/* 0.0.0.0 or ::, an SDP's "no address" (RFC 3264 section 8.4: the old
 * way to hold; ng's placeholder for a leg not known yet). */
bool ngsdp_unspecified(const struct ph_addr *a);

#endif
