/* Flows: how pinholed reaches a phone again, over the socket or the
 * connection its request came in on (RFC 3581; RFC 5626 section 5.3).
 * This module and sipd are the only ones that know sofia-sip's
 * transports: everything else, the location store included, names a flow
 * by its source address, transport and an id, never by a pointer, so that
 * a durable or shared store can keep it. A flow's id is 0 over UDP (the
 * address is the flow) and, over TCP, numbers the connection; once that
 * connection closes, the id names nothing any more. (proxy.c also asks
 * nta whether a request's own connection has closed, to answer it.) */
#ifndef PINHOLED_FLOW_H
#define PINHOLED_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pinhole/addr.h>

struct msg_s;          /* sofia-sip's msg_t */
struct nta_agent_s;    /* sofia-sip's nta_agent_t */

/* TLS is a connection as TCP is: the flow is the connection. */
enum flow_transport { FLOW_UDP = 0, FLOW_TCP = 1, FLOW_TLS = 2 };

struct flow {
	struct ph_addr src;
	enum flow_transport transport;
	uint64_t id;
	struct ph_addr local;  /* our address it came to (over TCP and TLS:
				  its connection), unset if unknown; what goes
				  back leaves from there */
};

struct flows;
struct sign_key;

int flows_alloc(struct flows **fp, struct nta_agent_s *agent);
/* Drops the references to every connection. */
void flows_free(struct flows *f);

/* The flow msg came over; a new connection gets an id. */
int flows_of_msg(struct flows *f, struct msg_s *msg, struct flow *out);
/* Over TCP or TLS: its connection is still open. Over UDP: always. */
bool flows_open(const struct flows *f, const struct flow *fl);
/* Forgets connections that have closed, or that carried no request for
 * idle_s seconds (its reference let go, sofia closes it when idle: a
 * client that opens many and stays silent holds none for ever); returns
 * how many. */
unsigned flows_sweep(struct flows *f, unsigned idle_s);
unsigned flows_count(const struct flows *f);

const char *flow_transport_name(enum flow_transport t);
/* The name of the transport a request over fl leaves by (TPTAG_IDENT):
 * the one bound to the address the flow came to; NULL: nta's choice. */
const char *flow_ident(const struct flow *fl, char *buf, size_t size);
/* That transport (sofia-sip's tport_t, no reference: it lives as long as
 * the agent), for NTATAG_TPORT(); over TCP and TLS the primary the flow's
 * connection hangs off; NULL: nta's choice. nta keeps the name
 * of the transport given so, not of a TPTAG_IDENT string, for the
 * transaction's whole life (its CANCEL, its retransmissions). */
void *flow_tport(const struct flows *f, const struct flow *fl);
/* "sip:IP:PORT;transport=T": a next hop for nta. */
void flow_hop_url(char *buf, size_t size, const struct ph_addr *a,
		  enum flow_transport t);

/* The flow token pinholed puts in its Record-Route URI: both sides' flows
 * (ph-a: the caller's, ph-b: the callee's; ph-al, ph-bl: our address each
 * came to), so that in-dialog requests go back over the flow each side
 * called or registered from, and from the address it sent to; ph-s signs
 * them (sign.h), so that nobody else can name where pinholed sends. The
 * URI reaches us as scheme says (me's port: our TLS port for the TLS
 * ones): sips: for a sips: Request-URI (RFC 3261 16.6 step 4), sip: with
 * ;transport=tls for a side that came over TLS. */
enum flow_rr_scheme { FLOW_RR_SIP, FLOW_RR_SIP_TLS, FLOW_RR_SIPS };
#define FLOW_RR_MAX 400 /* two IPv6 flows with their local addresses */
int flow_rr_write(char *buf, size_t size, const struct sign_key *key,
		  const struct ph_addr *me, enum flow_rr_scheme scheme,
		  const struct flow *a, const struct flow *b);
/* The URI's parameters carry a flow token (ph-a and ph-b), signed or not:
 * one pinholed wrote, or a forgery flow_rr_read() refuses. */
bool flow_rr_named(const char *url_params);
/* The parameters of a Route URI of ours: both flows (ids 0). ENOENT when
 * the URI is not ours, EACCES when it names flows without our signature,
 * EINVAL when it is signed but names no address. */
int flow_rr_read(const char *url_params, const struct sign_key *key,
		 struct flow *a, struct flow *b);

#endif
