/* The ng control of a relay (doc/RELAY-NG.md): rtpengine's ng commands
 * (ping, offer, answer, delete, query) over libpinhole's relay engine,
 * one call per Call-ID with one relay stream per m= line. The datagrams
 * come and go through the caller (pinhole-relayd's loop, or a test):
 * this keeps only the calls. */
#ifndef PINHOLE_NGD_H
#define PINHOLE_NGD_H

#include <stddef.h>

#include "relay.h"

struct ngd;

/* advertise: the IP the relay's SDP names (the relay's own address, or
 * the one it is reached at through a 1:1 NAT). */
int ngd_alloc(struct ngd **dp, struct ph_relay *r,
	      const struct ph_addr *advertise);
void ngd_free(struct ngd *d);
/* Commands only from this IP (and the others allowed so): a datagram from
 * anywhere else gets no reply. None allowed: any. ENOSPC past NGD_ALLOW. */
#define NGD_ALLOW 16
int ngd_allow(struct ngd *d, const struct ph_addr *ip);
/* One request datagram "COOKIE DICT" from src: the reply, "COOKIE DICT",
 * in out (*outlen 0: none, for a datagram with no cookie or from an IP not
 * allowed). */
void ngd_request(struct ngd *d, const struct ph_addr *src, const char *in,
		 size_t len, char *out, size_t size, size_t *outlen);
/* Forgets the calls whose streams the relay freed as idle. */
void ngd_sweep(struct ngd *d);
unsigned ngd_count(const struct ngd *d);

#endif
