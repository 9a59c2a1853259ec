/* pinhole's SDP attributes in the SDP pinholed proxies (PROTOCOL.md
 * sections 3 and 4), on sofia-sip's SDP parser, which sees only what
 * sdpcheck passed: read each m-line's a=fw-window and a=fw-local, and
 * write its a=fw-punch. */
#ifndef PINHOLED_SDPFW_H
#define PINHOLED_SDPFW_H

#include <stdbool.h>
#include <stddef.h>

#include <pinhole/fwwin.h>

#define SDPFW_MAX_MEDIA 8

struct sdpfw_media {
	struct ph_addr media;    /* c= address and m= port (0: rejected) */
	struct ph_addr window;   /* a=fw-window; unset when absent */
	struct ph_addr local;    /* a=fw-local; unset when absent */
	bool ice;                /* ICE (RFC 8445) attributes: candidates,
				    ice-ufrag, at media or session level */
};

struct sdpfw {
	unsigned n;
	struct sdpfw_media m[SDPFW_MAX_MEDIA];
};

/* EBADMSG with *why naming the fault for anything malformed: SDP that does
 * not parse, a c= that is not a numeric address, a duplicated or malformed
 * attribute, a window of another address family than its c=. */
int sdpfw_read(const char *body, size_t len, struct sdpfw *out,
	       const char **why);

/* The same SDP with a=fw-punch on m-line i set to punch[i] (i < n),
 * replacing any a=fw-punch there (punch NULL: none added). With relay,
 * m-line i's media is moved to relay[i], as a session border controller
 * does for endpoints it relays: its c= and m= port name the relay (a c=
 * of 0.0.0.0 or ::, old-style hold, stays), and what would lead around
 * the relay goes (a=rtcp, ICE candidates, a=fw-window, a=fw-local).
 * Direction attributes (hold) stay as written. *outp is malloc'd,
 * NUL-terminated. */
int sdpfw_write(const char *body, size_t len, const struct ph_punch *punch,
		const struct ph_addr *relay, unsigned n, char **outp);

#endif
