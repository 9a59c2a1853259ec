/* Flows over sofia-sip's transports: a table of the TCP and TLS connections
 * requests came in on, by id and by transport, each holding one reference
 * to its transport until the connection closes and a sweep forgets it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/url.h>

#include "flow.h"
#include "listen.h"
#include "sign.h"

#define BUCKETS 1024

struct conn {
	struct conn *by_id, *by_tp;   /* hash chains */
	uint64_t id;
	tport_t *tp;
	time_t used;                  /* its last request (monotonic s) */
};

struct flows {
	nta_agent_t *agent;
	uint64_t next_id;
	unsigned n;
	struct conn *id_bucket[BUCKETS];
	struct conn *tp_bucket[BUCKETS];
};

static unsigned id_hash(uint64_t id)
{
	return (unsigned)(id % BUCKETS);
}

static unsigned tp_hash(const tport_t *tp)
{
	return (unsigned)(((uintptr_t)tp >> 4) % BUCKETS);
}

int flows_alloc(struct flows **fp, nta_agent_t *agent)
{
	struct flows *f = calloc(1, sizeof *f);

	if (!f)
		return ENOMEM;
	f->agent = agent;
	f->next_id = 1;
	*fp = f;
	return 0;
}

static void forget(struct flows *f, struct conn *c)
{
	struct conn **pp;

	for (pp = &f->id_bucket[id_hash(c->id)]; *pp != c; pp = &(*pp)->by_id)
		;
	*pp = c->by_id;
	for (pp = &f->tp_bucket[tp_hash(c->tp)]; *pp != c; pp = &(*pp)->by_tp)
		;
	*pp = c->by_tp;
	tport_unref(c->tp);
	free(c);
	f->n--;
}

void flows_free(struct flows *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < BUCKETS; i++)
		while (f->id_bucket[i])
			forget(f, f->id_bucket[i]);
	free(f);
}

static struct conn *by_tp(const struct flows *f, const tport_t *tp)
{
	struct conn *c = f->tp_bucket[tp_hash(tp)];

	while (c && c->tp != tp)
		c = c->by_tp;
	return c;
}

static struct conn *by_id(const struct flows *f, uint64_t id)
{
	struct conn *c = f->id_bucket[id_hash(id)];

	while (c && c->id != id)
		c = c->by_id;
	return c;
}

/* The id of a connection, numbered the first time a request uses it.
 * Takes the caller's reference to tp. */
static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static uint64_t conn_id(struct flows *f, tport_t *tp)
{
	struct conn *c = by_tp(f, tp);

	if (c) {
		tport_unref(tp);
		c->used = mono_s();
		return c->id;
	}
	if (!(c = calloc(1, sizeof *c))) {
		tport_unref(tp);
		return 0;
	}
	c->id = f->next_id++;
	c->tp = tp;
	c->used = mono_s();
	c->by_id = f->id_bucket[id_hash(c->id)];
	f->id_bucket[id_hash(c->id)] = c;
	c->by_tp = f->tp_bucket[tp_hash(tp)];
	f->tp_bucket[tp_hash(tp)] = c;
	f->n++;
	return c->id;
}

/* Our address of a primary transport (a connection's: its parent's). */
static bool local_of(tport_t *tp, struct ph_addr *out)
{
	const tport_t *pri = tport_is_secondary(tp) ? tport_parent(tp) : tp;
	const su_addrinfo_t *la = pri ? tport_get_address(pri) : NULL;

	return la && !ph_addr_from_sa(out, la->ai_addr, (socklen_t)la->ai_addrlen);
}

int flows_of_msg(struct flows *f, msg_t *msg, struct flow *out)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	tport_t *tp;

	memset(out, 0, sizeof *out);
	if (!ai || ph_addr_from_sa(&out->src, ai->ai_addr,
				   (socklen_t)ai->ai_addrlen))
		return EINVAL;
	tp = nta_incoming_transport(f->agent, NULL, msg);
	/* the socket it came in on, or the one its connection was accepted
	 * on: bound to one address (listen.h) */
	if (tp && !local_of(tp, &out->local))
		memset(&out->local, 0, sizeof out->local);
	if (ai->ai_protocol != IPPROTO_TCP) {
		tport_unref(tp);
		return 0;
	}
	out->transport = tp && tport_has_tls(tp) ? FLOW_TLS : FLOW_TCP;
	if (tp && tport_is_secondary(tp) && !tport_is_closed(tp))
		out->id = conn_id(f, tp);
	else
		tport_unref(tp);
	return 0;
}

bool flows_open(const struct flows *f, const struct flow *fl)
{
	const struct conn *c;

	if (fl->transport == FLOW_UDP)
		return true;
	c = fl->id ? by_id(f, fl->id) : NULL;
	return c && !tport_is_closed(c->tp);
}

unsigned flows_sweep(struct flows *f, unsigned idle_s)
{
	time_t now = mono_s();
	unsigned gone = 0;

	for (unsigned i = 0; i < BUCKETS; i++)
		for (struct conn *c = f->id_bucket[i], *next; c; c = next) {
			next = c->by_id;
			if (tport_is_closed(c->tp) || now - c->used > (time_t)idle_s) {
				forget(f, c);
				gone++;
			}
		}
	return gone;
}

unsigned flows_count(const struct flows *f)
{
	return f->n;
}

const char *flow_transport_name(enum flow_transport t)
{
	return t == FLOW_TLS ? "tls" : t == FLOW_TCP ? "tcp" : "udp";
}

void flow_hop_url(char *buf, size_t size, const struct ph_addr *a,
		  enum flow_transport t)
{
	char s[PH_ADDR_STRLEN];

	ph_addr_print(a, s, sizeof s);
	snprintf(buf, size, "sip:%s;transport=%s", s, flow_transport_name(t));
}

const char *flow_ident(const struct flow *fl, char *buf, size_t size)
{
	if (!ph_addr_isset(&fl->local) ||
	    listen_ident(&fl->local, buf, size))
		return NULL;
	return buf;
}

void *flow_tport(const struct flows *f, const struct flow *fl)
{
	char want[PH_ADDR_STRLEN];
	tport_t *tp;

	/* Over TCP or TLS: the primary transport the connection was accepted
	 * on, from which tport finds the connection itself (tport_tsend(),
	 * tport_by_addrinfo()). Left to nta, the first primary of the
	 * protocol is searched: on a host with several addresses, maybe
	 * another address's, which holds no such connection and opens a new
	 * one toward the phone's NAT, which drops it. */
	if (!flow_ident(fl, want, sizeof want))
		return NULL;
	for (tp = tport_primaries(nta_agent_tports(f->agent)); tp;
	     tp = tport_next(tp)) {
		const tp_name_t *n = tport_name(tp);

		if (n && n->tpn_ident && !strcmp(n->tpn_ident, want) &&
		    n->tpn_proto &&
		    !strcasecmp(n->tpn_proto, flow_transport_name(fl->transport)))
			return tp;
	}
	return NULL;
}

/* Our address the flow came to, when known; else "". */
static const char *rr_local(char *buf, size_t size, const struct flow *fl)
{
	return flow_ident(fl, buf, size) ? buf : "";
}

/* The token's parameters in the order they are signed: ph-a, ph-at,
 * ph-al, ph-b, ph-bt, ph-bl. */
static const char *const rr_keys[] = {"ph-a", "ph-at", "ph-al",
				      "ph-b", "ph-bt", "ph-bl"};
#define RR_PARTS (sizeof rr_keys / sizeof *rr_keys)

int flow_rr_write(char *buf, size_t size, const struct sign_key *key,
		  const struct ph_addr *me, enum flow_rr_scheme scheme,
		  const struct flow *a, const struct flow *b)
{
	char host[PH_ADDR_STRLEN], sa[PH_ADDR_STRLEN], sb[PH_ADDR_STRLEN];
	char la[PH_ADDR_STRLEN], lb[PH_ADDR_STRLEN], mac[SIGN_STRLEN];
	const char *v[RR_PARTS] = {sa, flow_transport_name(a->transport),
				   rr_local(la, sizeof la, a), sb,
				   flow_transport_name(b->transport),
				   rr_local(lb, sizeof lb, b)};
	int n;

	ph_addr_print(me, host, sizeof host);
	ph_addr_print(&a->src, sa, sizeof sa);
	ph_addr_print(&b->src, sb, sizeof sb);
	if (sign_mac(key, v, RR_PARTS, mac))
		return EIO;
	n = snprintf(buf, size, "<%s:%s;lr%s;ph-a=%s;ph-at=%s%s%s;ph-b=%s;ph-bt=%s"
		     "%s%s;ph-s=%s>", scheme == FLOW_RR_SIPS ? "sips" : "sip",
		     host, scheme == FLOW_RR_SIP_TLS ? ";transport=tls" : "",
		     v[0], v[1],
		     *v[2] ? ";ph-al=" : "", v[2], v[3], v[4],
		     *v[5] ? ";ph-bl=" : "", v[5], mac);
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

static int rr_side(const char *params, const char *addr_key,
		   const char *t_key, const char *l_key, struct flow *out)
{
	char v[64], t[8] = "";

	memset(out, 0, sizeof *out);
	if (url_param(params, addr_key, v, sizeof v) <= 0 ||
	    ph_addr_parse(&out->src, v, strlen(v), 5060))
		return EINVAL;
	url_param(params, t_key, t, sizeof t);
	out->transport = !strcmp(t, "tls") ? FLOW_TLS
			 : !strcmp(t, "tcp") ? FLOW_TCP : FLOW_UDP;
	/* (a token without it, or a bad one: nta picks the address) */
	if (url_param(params, l_key, v, sizeof v) > 0 &&
	    ph_addr_parse(&out->local, v, strlen(v), 0))
		memset(&out->local, 0, sizeof out->local);
	return 0;
}

/* The token's signature: every parameter as it came, against ph-s. */
static bool rr_signed(const char *params, const struct sign_key *key)
{
	char v[RR_PARTS][64], mac[SIGN_STRLEN];
	const char *p[RR_PARTS];
	isize_t n;

	/* (url_param() counts the NUL, and copies nothing too long) */
	for (size_t i = 0; i < RR_PARTS; i++) {
		v[i][0] = '\0';
		if (url_param(params, rr_keys[i], v[i], sizeof v[i]) > (isize_t)sizeof v[i])
			return false;
		p[i] = v[i];
	}
	n = url_param(params, "ph-s", mac, sizeof mac);
	return n > 0 && n <= (isize_t)sizeof mac && sign_check(key, p, RR_PARTS, mac);
}

bool flow_rr_named(const char *params)
{
	char v[64];

	return params && url_param(params, "ph-a", v, sizeof v) > 0 &&
	       url_param(params, "ph-b", v, sizeof v) > 0;
}

int flow_rr_read(const char *params, const struct sign_key *key,
		 struct flow *a, struct flow *b)
{
	if (!flow_rr_named(params))
		return ENOENT;
	if (!rr_signed(params, key))
		return EACCES;
	if (rr_side(params, "ph-a", "ph-at", "ph-al", a) ||
	    rr_side(params, "ph-b", "ph-bt", "ph-bl", b))
		return EINVAL;
	return 0;
}
