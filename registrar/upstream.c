/* Edge mode (PROTOCOL.md section 11): pinholed in front of a PBX, the
 * phones' edge. The PBX is the registrar and runs the dialplan; pinholed
 * forwards each phone's REGISTER to it with a Path (RFC 3327) naming
 * itself and the phone's flow, keeps the binding (with its
 * Firewall-Window) only once the PBX answers 2xx, sends every call of a
 * phone to the PBX, and the PBX's calls to a phone back over the phone's
 * flow, deciding each call's media per section 5 with the PBX as an
 * outside transmitter. Anything else is refused 403. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_int.h"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_util.h>
#include <sofia-sip/su_tagarg.h>

#include "errmap.h"
#include "pinhole/media.h"
#include "log.h"
#include "register.h"
#include "stunsock.h"
#include "upstream.h"

bool upstream_on(const struct pconf *c)
{
	return ph_addr_isset(&c->upstream);
}

/* The PBX's flow, from our address that faces it (the kernel's source
 * toward it, where a transport of ours is bound): on a host with several
 * addresses, what goes to the PBX leaves from there (flow_tport()) and
 * the Path and Record-Route it is given name it; another address may not
 * be reachable from the PBX. */
static void pbx_flow(const struct proxy *p, struct flow *f)
{
	const struct pconf *c = p->conf;

	memset(f, 0, sizeof *f);
	f->src = c->upstream;
	f->transport = c->upstream_tcp ? FLOW_TCP : FLOW_UDP;
	if (ph_sock_route_src(&c->upstream, &f->local) ||
	    !flow_tport(p->flows, f))
		memset(&f->local, 0, sizeof f->local);
}

/* The PBX's requests come from its IP (from any port: over TCP an
 * ephemeral one); a phone on the PBX's own host is taken for the PBX. */
bool upstream_is_pbx(const struct pconf *c, const struct ph_addr *src)
{
	return upstream_on(c) && ph_addr_ip_eq(src, &c->upstream);
}

static bool from_pbx(const struct ptx *t)
{
	return upstream_is_pbx(t->p->conf, &t->src.src);
}
/* The address the phone reached us at: for the Path and Record-Route the
 * PBX sends the phone's requests to. */
static void our_address(const struct ptx *t, struct ph_addr *me)
{
	const url_t *ru = t->sip->sip_request->rq_url;

	if (ph_addr_isset(&t->src.local))
		*me = t->src.local;
	else if (ph_addr_set(me, ru->url_host, 0))
		*me = t->p->conf->listen[0];
	ph_addr_set_port(me, t->p->conf->sip_port);
}

/* "<sip:USER@us;lr;ph-a=PHONE...;ph-b=PBX...>": our flow token (flow.c)
 * with the phone's AoR as the user part ('%' and '@' escaped, RFC 3261
 * 25.1), so that a call coming back over it finds the phone's binding. */
static int path_write(const struct ptx *t, const char *aor,
		      const struct flow *pbx, char *buf, size_t size)
{
	char rr[FLOW_RR_MAX], user[3 * REG_AOR_MAX + 1];
	struct ph_addr me;
	size_t n = 0;
	int len;

	for (const char *p = aor; *p && n + 4 < sizeof user; p++)
		n += (size_t)(*p == '@' || *p == '%'
			      ? snprintf(user + n, 4, "%%%02X", (unsigned char)*p)
			      : snprintf(user + n, 2, "%c", *p));
	if (ph_addr_isset(&pbx->local)) { /* where the PBX reaches us */
		me = pbx->local;
		ph_addr_set_port(&me, t->p->conf->sip_port);
	} else {
		our_address(t, &me);
	}
	/* (never sips: nor ;transport=tls: the PBX's flow is UDP or TCP) */
	if (flow_rr_write(rr, sizeof rr, t->p->key, &me, FLOW_RR_SIP, &t->src,
			  pbx))
		return ENAMETOOLONG;
	len = snprintf(buf, size, "<sip:%s@%s", user, rr + 5); /* after "<sip:" */
	return len < 0 || (size_t)len >= size ? ENAMETOOLONG : 0;
}

/* The AoR back from a Route URI's user part. */
static int path_aor(const url_t *u, char *aor, size_t size)
{
	size_t n = 0;

	if (!u->url_user)
		return ENOENT;
	for (const char *p = u->url_user; *p && n + 1 < size; p++) {
		unsigned v;

		if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
			aor[n++] = (char)v;
			p += 2;
		} else {
			aor[n++] = *p;
		}
	}
	aor[n] = '\0';
	return 0;
}

/* ---- REGISTER: to the PBX, stored on its 2xx ---------------------------- */

/* A Firewall-Window that will not be stored is refused now, before the
 * PBX has a binding pinholed would not keep. */
static bool fwwin_ok(struct ptx *t)
{
	const char *v = proxy_header(t->sip, "Firewall-Window"), *why = "value";
	struct ph_fwwin w;
	char phrase[96];

	if (!v || !ph_fwwin_decode(&w, v, strlen(v), &why))
		return true;
	snprintf(phrase, sizeof phrase, "Bad Firewall-Window: %s", why);
	ptx_reply(t, 400, phrase);
	return false;
}

void upstream_register(struct proxy *p, msg_t *msg, sip_t *sip,
		       const struct flow *src)
{
	struct ptx *t = ptx_new(p, msg, sip);
	struct branch *b;
	char aor[REG_AOR_MAX], path[FLOW_RR_MAX + 3 * REG_AOR_MAX + 8], ruri[128];

	if (!t)
		return;
	t->src = *src;
	b = &t->b[0];
	pbx_flow(p, &b->flow);
	if (from_pbx(t)) {
		ptx_reply(t, 403, "Forbidden: the PBX does not register here");
		return ptx_free(t);
	}
	if (!sip->sip_to || reg_aor(sip->sip_to->a_url, aor, sizeof aor)) {
		ptx_reply(t, 404, "Not Found: bad address-of-record in To");
		return ptx_free(t);
	}
	if (!fwwin_ok(t))
		return ptx_free(t);
	if (path_write(t, aor, &b->flow, path, sizeof path)) {
		ptx_reply(t, 400, "Bad Request: address-of-record too long");
		return ptx_free(t);
	}
	/* RFC 3327 section 5.2: the Path goes on top of any already there */
	if (msg_header_insert(t->req, (msg_pub_t *)t->sip, (msg_header_t *)
			      sip_path_make(msg_home(t->req), path)) < 0) {
		ptx_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
		return ptx_free(t);
	}
	flow_hop_url(ruri, sizeof ruri, &b->flow.src, b->flow.transport);
	if (ptx_branch(t, b, ruri, false, NULL)) {
		ptx_reply(t, SIP_500_INTERNAL_SERVER_ERROR);
		return ptx_free(t);
	}
	t->n = 1;
}

/* The PBX's expiry for Contact m of the REGISTER (RFC 3261 10.2.4: the 2xx
 * lists every binding with its expires): 0 when it lists it no more. */
static unsigned granted(const sip_t *resp, const sip_contact_t *m)
{
	for (const sip_contact_t *r = resp->sip_contact; r; r = r->m_next) {
		if (url_cmp(r->m_url, m->m_url))
			continue;
		if (r->m_expires)
			return (unsigned)strtoul(r->m_expires, NULL, 10);
		return resp->sip_expires ? (unsigned)resp->sip_expires->ex_delta
					 : 3600; /* RFC 3261 10.2.1.1 */
	}
	return 0;
}

void upstream_registered(struct ptx *t, const sip_t *resp)
{
	struct pconf conf = *t->p->conf;
	struct reg_reply r = {0};
	su_home_t *home = msg_home(t->req);
	char e[32], aor[REG_AOR_MAX] = "?";

	/* the PBX decides the expiry: each Contact gets the one it granted */
	if (t->sip->sip_contact && t->sip->sip_contact->m_url->url_type != url_any)
		for (sip_contact_t *m = t->sip->sip_contact; m; m = m->m_next) {
			char uri[256];

			snprintf(e, sizeof e, "expires=%u", granted(resp, m));
			msg_header_replace_param(home, m->m_common, e);
			url_e(uri, sizeof uri, m->m_url);
			uri[sizeof uri - 1] = '\0';
			log_debug("edge: REGISTER: %s granted %s by the PBX", uri, e);
		}
	conf.min_expires = 1;
	conf.max_expires = 0xffffffffu;
	reg_handle(t->p->store, &conf, t->sip, &t->src,
		   (time_t)(stunsock_now_ms() / 1000), &r);
	if (r.status < 300)
		call_phone_registered(t->p->calls, &t->src.src);
	if (t->sip->sip_to)
		reg_aor(t->sip->sip_to->a_url, aor, sizeof aor);
	log_msg(r.status < 300 ? LOG_DEBUG : LOG_WARNING,
		"REGISTER %s: the PBX answered %d; stored here: %d %s%s%s", aor,
		resp->sip_status->st_status, r.status, r.phrase,
		*r.fwwin ? "; Firewall-Window: " : "", r.fwwin);
	reg_reply_reset(&r);
}

/* ---- calls: a phone's to the PBX, the PBX's to a phone ------------------ */

static void branch_failed(struct ptx *t, int err)
{
	if (t->call)
		call_failed(t->call, -1, errmap(err).status);
	ptx_reply_err(t, err);
	ptx_free(t);
}

/* One branch to flow (the PBX, or a phone's), with the call's edits. */
static void send_branch(struct ptx *t, const struct flow *to, const char *fwwin,
			const char *ruri)
{
	struct branch *b = &t->b[0];
	struct call_edit e = {{0}, NULL};
	int err = 0;

	memset(b, 0, sizeof *b);
	b->flow = *to;
	if (t->call)
		err = call_branch(t->call, to, &to->src, fwwin,
				  t->has_offer ? &t->offer : NULL, &e,
				  &b->call_branch);
	if (!err)
		err = ptx_branch(t, b, ruri, t->call != NULL, &e);
	call_edit_reset(&e);
	if (err)
		return branch_failed(t, err);
	t->n = 1;
}

static void ruri_of(const struct ptx *t, char *buf, size_t size)
{
	url_e(buf, (isize_t)size, t->sip->sip_request->rq_url);
	buf[size - 1] = '\0';
}

static void to_pbx_ready(int err, void *arg)
{
	struct ptx *t = arg;
	struct flow pbx;
	char ruri[512];

	(void)err;
	if (t->cancelled) {
		call_failed(t->call, -1, 487);
		ptx_reply(t, SIP_487_REQUEST_TERMINATED);
		return ptx_free(t);
	}
	call_edge(t->call, true, NULL);
	pbx_flow(t->p, &pbx);
	ruri_of(t, ruri, sizeof ruri);
	send_branch(t, &pbx, NULL, ruri);
}

/* The binding of the phone the PBX calls: the one registered over the
 * flow its Path named. */
struct phone {
	struct flow flow;
	const char *fwwin;
};

static int find_phone(struct ptx *t, const url_t *route, const struct flow *next,
		      struct phone *ph)
{
	const struct loc_contact *v;
	char aor[REG_AOR_MAX];
	unsigned n;

	if (path_aor(route, aor, sizeof aor) || loc_get(t->p->store, aor, &v, &n))
		return ENOENT;
	for (unsigned i = 0; i < n; i++)
		if (ph_addr_eq(&v[i].flow.src, &next->src) &&
		    v[i].flow.transport == next->transport &&
		    flows_open(t->p->flows, &v[i].flow)) {
			ph->flow = v[i].flow;
			ph->fwwin = v[i].fwwin;
			return 0;
		}
	return ENOENT;
}

static void from_pbx_ready(int err, void *arg)
{
	struct ptx *t = arg;
	const struct phone *ph = t->edge_arg;
	char ruri[512];

	(void)err;
	if (t->cancelled) {
		call_failed(t->call, -1, 487);
		ptx_reply(t, SIP_487_REQUEST_TERMINATED);
		return ptx_free(t);
	}
	call_edge(t->call, false, t->sip->sip_call_id->i_id);
	ruri_of(t, ruri, sizeof ruri);
	send_branch(t, &ph->flow, ph->fwwin, ruri);
}

/* The PBX's initial request to a phone, over the Path it registered. */
static void from_the_pbx(struct ptx *t, const url_t *route,
			 const struct flow *next)
{
	struct phone *ph = malloc(sizeof *ph);
	char key[CALL_ID_IN_MAX], ruri[512];
	int err;

	if (!ph)
		return branch_failed(t, ENOMEM);
	if (!route || find_phone(t, route, next, ph)) {
		free(ph);
		ptx_reply(t, 480, "Temporarily Unavailable: not registered");
		return ptx_free(t);
	}
	t->edge_arg = ph; /* freed with t */
	t->from_leg = -1; /* an initial request, though over a Route of ours */
	our_address(t, &t->rr_me);
	if (t->sip->sip_request->rq_method != sip_method_invite) {
		ruri_of(t, ruri, sizeof ruri);
		return send_branch(t, &ph->flow, NULL, ruri);
	}
	if ((err = call_in_key(t->sip->sip_call_id->i_id, key, sizeof key)) ||
	    (err = call_offer(t->p->calls, key, NULL, &t->src, NULL, false,
			      t->has_offer ? &t->offer : NULL, from_pbx_ready, t,
			      &t->call)))
		branch_failed(t, err);
}

/* A phone's initial request: registered here (its From's binding came
 * over this very flow), it goes to the PBX. */
static void from_a_phone(struct ptx *t)
{
	const struct loc_contact *v;
	char from[REG_AOR_MAX], ruri[512];
	unsigned n = 0;
	bool known = false;
	struct flow pbx;
	int err;

	if (t->sip->sip_from && !reg_aor(t->sip->sip_from->a_url, from, sizeof from))
		loc_get(t->p->store, from, &v, &n);
	for (unsigned i = 0; i < n && !known; i++)
		known = ph_addr_eq(&v[i].flow.src, &t->src.src) &&
			v[i].flow.transport == t->src.transport;
	if (!known) {
		char s[PH_ADDR_STRLEN];
		ph_addr_print(&t->src.src, s, sizeof s);
		log_notice("edge: %s %s from %s: neither a registered phone nor "
			   "the PBX: 403", t->sip->sip_request->rq_method_name,
			   t->sip->sip_call_id->i_id, s);
		ptx_reply(t, 403, "Forbidden: not a registered phone");
		return ptx_free(t);
	}
	if (t->sip->sip_request->rq_method != sip_method_invite) {
		pbx_flow(t->p, &pbx);
		ruri_of(t, ruri, sizeof ruri);
		return send_branch(t, &pbx, NULL, ruri);
	}
	if ((err = call_offer(t->p->calls, t->sip->sip_call_id->i_id, from,
			      &t->src, proxy_header(t->sip, "Firewall-Window"),
			      false, t->has_offer ? &t->offer : NULL,
			      to_pbx_ready, t, &t->call)))
		branch_failed(t, err);
}

void upstream_request(struct ptx *t, const url_t *route, const struct flow *next)
{
	if (from_pbx(t))
		from_the_pbx(t, route, next);
	else
		from_a_phone(t);
}
