/* REGISTER, RFC 3261 section 10.3, steps 1-8. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

#include "errmap.h"
#include "register.h"

#define URI_MAX 512
#define UPD_ON_STACK 16 /* 8 kB */

/* One Contact of the request, checked. */
struct upd {
	char uri[URI_MAX];
	unsigned expires;
	int16_t q;
};

static int reply(struct reg_reply *r, int status, const char *phrase)
{
	r->status = status;
	r->phrase = phrase;
	return status;
}

/* An error of ours (ENOMEM, the store's): its answer from errmap. */
static int reply_err(struct reg_reply *r, int err)
{
	struct sipstatus s = errmap(err);

	return reply(r, s.status, s.phrase);
}

static int reply_fmt(struct reg_reply *r, int status, const char *fmt,
		     const char *arg)
{
	snprintf(r->phrase_buf, sizeof r->phrase_buf, fmt, arg);
	return reply(r, status, r->phrase_buf);
}

void reg_reply_reset(struct reg_reply *r)
{
	free(r->contacts);
	memset(r, 0, sizeof *r);
}

int reg_aor(const url_t *url, char *buf, size_t size)
{
	const char *user = url->url_user, *host = url->url_host;
	size_t ul, hl;

	if ((url->url_type != url_sip && url->url_type != url_sips) || !host ||
	    !*host)
		return EINVAL;
	/* by hand, not snprintf: 1.2k instructions of every REGISTER */
	ul = user ? strlen(user) + 1 : 0;
	hl = strlen(host);
	if (ul + hl >= size)
		return ENAMETOOLONG;
	if (user) {
		memcpy(buf, user, ul - 1);
		buf[ul - 1] = '@';
	}
	for (size_t i = 0; i <= hl; i++) /* the NUL too */
		buf[ul + i] = (char)tolower((unsigned char)host[i]);
	return 0;
}

bool reg_domain_served(const struct pconf *c, const char *host)
{
	if (!c->n_domains)
		return true;
	for (unsigned i = 0; i < c->n_domains; i++)
		if (host && !strcasecmp(c->domains[i], host))
			return true;
	return false;
}

/* q-value (RFC 3261 section 25.1: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]) */
static int parse_q(const char *s, int16_t *q)
{
	int v, scale = 100;

	if ((s[0] != '0' && s[0] != '1'))
		return EINVAL;
	v = (s[0] - '0') * 1000;
	s++;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s) && scale; s++, scale /= 10)
			v += (*s - '0') * scale;
	if (*s || v > 1000)
		return EINVAL;
	*q = (int16_t)v;
	return 0;
}

static int parse_delta(const char *s, unsigned *out)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)*s))
		return EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 0xffffffffUL)
			v = 0xffffffffUL; /* RFC 3261 20.19: cap, not an error */
	}
	if (*s)
		return EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* Step 6: the Contact's expires, the Expires header, or our default. */
static int contact_expires(const struct pconf *c, sip_t const *sip,
			   const sip_contact_t *m, unsigned *out)
{
	unsigned e = c->default_expires;

	if (m->m_expires) {
		if (parse_delta(m->m_expires, &e))
			return EINVAL;
	} else if (sip->sip_expires) {
		e = (unsigned)sip->sip_expires->ex_delta;
	}
	*out = e;
	return 0;
}

static int read_contacts(const struct pconf *c, sip_t const *sip,
			 struct upd *u, unsigned max, unsigned *np,
			 struct reg_reply *r)
{
	unsigned n = 0;

	for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next) {
		if (n == max)
			return reply(r, 403, "Too Many Contacts");
		if (m->m_url->url_type != url_sip &&
		    m->m_url->url_type != url_sips)
			return reply(r, 400, "Unsupported Contact URI scheme");
		if (url_e(u[n].uri, sizeof u[n].uri, m->m_url) >=
		    (isize_t)sizeof u[n].uri)
			return reply(r, 400, "Contact URI too long");
		if (contact_expires(c, sip, m, &u[n].expires))
			return reply(r, 400, "Bad Contact expires parameter");
		u[n].q = -1;
		if (m->m_q && parse_q(m->m_q, &u[n].q))
			return reply(r, 400, "Bad Contact q parameter");
		if (u[n].expires && u[n].expires < c->min_expires) {
			r->min_expires = c->min_expires;
			return reply(r, 423, "Interval Too Brief");
		}
		if (u[n].expires > c->max_expires)
			u[n].expires = c->max_expires;
		n++;
	}
	*np = n;
	return 0;
}

/* Section 2: the endpoint's Firewall-Window, checked, with received= where
 * the request came from elsewhere than the window's host. */
static int read_fwwin(sip_t const *sip, const struct flow *flow,
		      struct reg_reply *r)
{
	const sip_unknown_t *un, *found = NULL;
	struct ph_fwwin w;
	const char *why = "value";

	for (un = sip->sip_unknown; un; un = un->un_next) {
		if (!un->un_name || strcasecmp(un->un_name, "Firewall-Window"))
			continue;
		if (found)
			return reply(r, 400, "Duplicate Firewall-Window header");
		found = un;
	}
	if (!found)
		return 0;
	if (!found->un_value ||
	    ph_fwwin_decode(&w, found->un_value, strlen(found->un_value), &why))
		return reply_fmt(r, 400, "Bad Firewall-Window: %s", why);
	if (!ph_addr_ip_eq(&w.host, &flow->src)) {
		w.received = flow->src;
		ph_addr_set_port(&w.received, 0);
	}
	if (ph_fwwin_encode(&w, r->fwwin, sizeof r->fwwin))
		return reply(r, 400, "Bad Firewall-Window: too long");
	return 0;
}

/* RFC 3261 10.3 step 7: a binding with our Call-ID may only move forward.
 * REGISTER is answered statelessly, so the same CSeq again is taken for a
 * retransmission of the request that set the binding, and applied again
 * (which changes nothing), as Kamailio's registrar does. */
static bool cseq_stale(const struct loc_contact *b, sip_t const *sip)
{
	return !strcmp(b->call_id, sip->sip_call_id->i_id) &&
	       sip->sip_cseq->cs_seq < b->cseq;
}

static int wildcard(struct loc_store *st, const char *aor, sip_t const *sip,
		    const struct loc_contact *cur, unsigned n,
		    struct reg_reply *r)
{
	int err;

	if (sip->sip_contact->m_next || !sip->sip_expires ||
	    sip->sip_expires->ex_delta != 0)
		return reply(r, 400, "Invalid Wildcard Contact");
	for (unsigned i = 0; i < n; i++)
		if (cseq_stale(&cur[i], sip))
			return reply(r, 400, "Invalid CSeq Number");
	err = loc_put(st, aor, NULL, 0);
	return err ? reply_err(r, err) : 0;
}

static int apply(const struct pconf *c, sip_t const *sip,
		 const struct flow *flow, time_t now, const struct upd *u,
		 unsigned nu, const char *fwwin, const char *node,
		 struct loc_contact *set, unsigned *nset, struct reg_reply *r)
{
	unsigned n = *nset;

	for (unsigned k = 0; k < nu; k++) {
		unsigned i;

		for (i = 0; i < n && strcmp(set[i].uri, u[k].uri); i++)
			;
		if (i < n && cseq_stale(&set[i], sip))
			return reply(r, 400, "Invalid CSeq Number");
		if (!u[k].expires) { /* removal */
			if (i < n)
				set[i] = set[--n];
			continue;
		}
		if (i == n) {
			if (n == c->max_contacts)
				return reply(r, 503, "Too Many Registered Contacts");
			n++;
		}
		set[i] = (struct loc_contact){
			.uri = u[k].uri,
			.call_id = sip->sip_call_id->i_id,
			.fwwin = *fwwin ? fwwin : NULL,
			.cseq = sip->sip_cseq->cs_seq,
			.q = u[k].q,
			.expires = now + (time_t)u[k].expires,
			.flow = *flow,
			.node = node,
		};
	}
	*nset = n;
	return 0;
}

/* Writes v's decimal digits at p (at most 20); returns past them. */
static char *put_dec(char *p, unsigned long v)
{
	char d[20], *q = d + sizeof d;

	do
		*--q = (char)('0' + v % 10);
	while ((v /= 10));
	memcpy(p, q, (size_t)(d + sizeof d - q));
	return p + (d + sizeof d - q);
}

/* Step 8: the 200 lists every current binding with its remaining time,
 * "<uri>;expires=N[;q=D.DDD]" joined by ", "; written by hand, not by
 * snprintf: 1.2k instructions of every REGISTER (callgrind). */
static int list_bindings(struct loc_store *st, const char *aor, time_t now,
			 struct reg_reply *r)
{
	const struct loc_contact *v;
	unsigned n;
	size_t size = 1;
	char *s, *p;

	loc_get(st, aor, &v, &n);
	if (!n)
		return 0;
	for (unsigned i = 0; i < n; i++)
		size += strlen(v[i].uri) + 48;
	s = p = malloc(size);
	if (!s)
		return ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		unsigned long left = v[i].expires > now
			? (unsigned long)(v[i].expires - now) : 0;
		size_t ul = strlen(v[i].uri);

		if (i)
			memcpy(p, ", ", 2), p += 2;
		*p++ = '<';
		memcpy(p, v[i].uri, ul), p += ul;
		memcpy(p, ">;expires=", 10), p += 10;
		p = put_dec(p, left);
		if (v[i].q >= 0) { /* "%d.%03d" */
			memcpy(p, ";q=", 3), p += 3;
			p = put_dec(p, (unsigned long)(v[i].q / 1000));
			*p++ = '.';
			p[0] = (char)('0' + v[i].q / 100 % 10);
			p[1] = (char)('0' + v[i].q / 10 % 10);
			p[2] = (char)('0' + v[i].q % 10);
			p += 3;
		}
	}
	*p = '\0';
	r->contacts = s;
	return 0;
}

/* The first option tag of Require that we do not support, or NULL:
 * outbound is ours (RFC 5626). */
static const char *unsupported(const sip_require_t *rq)
{
	if (!rq->k_items || !rq->k_items[0])
		return "";
	for (unsigned i = 0; rq->k_items[i]; i++)
		if (strcasecmp(rq->k_items[i], "outbound"))
			return rq->k_items[i];
	return NULL;
}

/* RFC 5626 section 6: a Contact with reg-id and +sip.instance registers
 * an outbound flow when we are its first hop (no Path), or the edge
 * proxy before us supports outbound too (its Path URI says ;ob); else
 * the reg-id is ignored, and it is a plain REGISTER. */
static bool outbound(sip_t const *sip)
{
	const sip_contact_t *m = sip->sip_contact;

	for (; m; m = m->m_next)
		if (msg_params_find(m->m_params, "reg-id") &&
		    msg_params_find(m->m_params, "+sip.instance"))
			break;
	return m && (!sip->sip_path ||
		     url_has_param(sip->sip_path->r_url, "ob"));
}

/* RFC 5626 section 5.4: Flow-Timer, the seconds we wait without a
 * keepalive, on a connection's flow; a UDP phone keeps its NAT open at
 * its own pace (24-29 s, section 4.4.2), which ours would only slow. */
static void outbound_reply(const struct pconf *c, sip_t const *sip,
			   const struct flow *flow, struct reg_reply *r)
{
	r->outbound = outbound(sip);
	if (r->outbound && flow->transport != FLOW_UDP)
		r->flow_timer = c->flow_timer;
}

static int check_request(const struct pconf *c, sip_t const *sip,
			 char *aor, struct reg_reply *r)
{
	const url_t *ruri = sip->sip_request->rq_url;

	if (!reg_domain_served(c, ruri->url_host))
		return reply(r, 404, "Domain Not Served");
	if (sip->sip_require &&
	    (r->unsupported = unsupported(sip->sip_require)))
		return reply(r, 420, "Bad Extension");
	if (!sip->sip_to || reg_aor(sip->sip_to->a_url, aor, REG_AOR_MAX))
		return reply(r, 404, "Not Found: bad address-of-record in To");
	if (!reg_domain_served(c, sip->sip_to->a_url->url_host))
		return reply(r, 404, "Not Found: To domain not served");
	return 0;
}

int reg_handle(struct loc_store *st, const struct pconf *conf,
	       sip_t const *sip, const struct flow *flow, time_t now,
	       struct reg_reply *r)
{
	char aor[REG_AOR_MAX];
	const struct loc_contact *cur;
	unsigned ncur, nu = 0, nset;
	int err;

	if (check_request(conf, sip, aor, r) || read_fwwin(sip, flow, r))
		return r->status;
	loc_get(st, aor, &cur, &ncur);

	if (sip->sip_contact && sip->sip_contact->m_url->url_type == url_any) {
		if (wildcard(st, aor, sip, cur, ncur, r))
			return r->status;
	} else if (sip->sip_contact) {
		/* On the stack up to UPD_ON_STACK contacts (10 by default),
		 * and not zeroed: read_contacts fills what apply reads.
		 * calloc's memset of the 5 kB was 6 % of a REGISTER's
		 * instructions, and a request that large made malloc
		 * consolidate its fast bins each time (perf, store = file). */
		struct upd ustack[UPD_ON_STACK];
		struct upd *u = conf->max_contacts <= UPD_ON_STACK ? ustack
			: reallocarray(NULL, conf->max_contacts, sizeof *u);
		struct loc_contact set[ncur + conf->max_contacts];
		/* store = redis: the flow is this node's (store_redis.c) */
		char node[CONF_PATH_LEN];
		bool shared = conf->store_redis &&
			      !conf_node_address(conf, node, sizeof node);

		if (!u)
			return reply_err(r, ENOMEM);
		if (ncur) /* a first registration has no cur to copy */
			memcpy(set, cur, ncur * sizeof *cur);
		nset = ncur;
		if (!read_contacts(conf, sip, u, conf->max_contacts, &nu, r) &&
		    !apply(conf, sip, flow, now, u, nu, r->fwwin,
			   shared ? node : NULL, set, &nset, r)) {
			if ((err = loc_put(st, aor, set, nset)))
				reply_err(r, err);
		}
		if (u != ustack)
			free(u);
		if (r->status)
			return r->status;
	}
	if ((err = list_bindings(st, aor, now, r)))
		return reply_err(r, err);
	outbound_reply(conf, sip, flow, r);
	return reply(r, 200, "OK");
}
