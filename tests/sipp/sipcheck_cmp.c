/* sipcheck_cmp: the body checks, and one message parsed by libosip2 and by
 * sofia-sip. Both must accept it and read the same start line, Vias
 * (count, order, sent-by, transport, branch), Route and Record-Route (count, order, URIs), Contact
 * count, Call-ID, CSeq, From and To (URI and tag), Max-Forwards,
 * Content-Length and Content-Type (against the checker's own reading too),
 * body bytes, and every header sofia-sip does not know (Firewall-Punch):
 * a second SIP stack is what a peer of pinholed may well be. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include "sipcheck.h"

#define MAX_BODY_LINES 2000

int sc_is_token_char(int c)
{
	return isalnum(c) || (c && strchr("-.!%*_+`'~", c));
}

/* the length of a header name at l ("Name:" with optional blanks before
 * the colon), 0 when the line is not a header */
size_t sc_header_name_len(const char *l, size_t ll)
{
	size_t n = 0, i;

	while (n < ll && sc_is_token_char((unsigned char)l[n]))
		n++;
	for (i = n; i < ll && (l[i] == ' ' || l[i] == '\t'); i++)
		;
	return n && i < ll && l[i] == ':' ? n : 0;
}

/* A body is what Content-Type says: SDP lines only for application/sdp,
 * and never a header line (the bug of a header written after the empty
 * line), except in a message/... body, which is made of them. */
void sc_check_body(const struct sc_msg *m)
{
	const char *b = m->p + m->hdr_len, *end = m->p + m->len;
	int sdp = !strcmp(m->ctype, "application/sdp");
	unsigned line;

	if (m->len == m->hdr_len)
		return;
	if (!m->ctype[0])
		sc_fail(m, "a %zu-byte body without Content-Type", m->len - m->hdr_len);
	if (sdp && (end - b < 5 || memcmp(b, "v=0\r\n", 5)))
		sc_fail(m, "the SDP body does not start with v=0: \"%.40s\"", b);
	for (line = 1; b < end && line <= MAX_BODY_LINES; line++) {
		const char *nl = memchr(b, '\n', (size_t)(end - b));
		size_t ll = nl ? (size_t)(nl - b) : (size_t)(end - b);
		size_t sl = ll && b[ll - 1] == '\r' ? ll - 1 : ll;

		if (strncmp(m->ctype, "message/", 8) && sc_header_name_len(b, sl))
			sc_fail(m, "a header in the body (body line %u): \"%.*s\"",
				line, (int)(sl < 60 ? sl : 60), b);
		else if (sdp && (!nl || sl == ll || sl < 2 || !islower((unsigned char)b[0]) ||
				 b[1] != '=' || memchr(b, '\r', sl)))
			sc_fail(m, "SDP line %u is not type=value CRLF: \"%.*s\"",
				line, (int)(sl < 60 ? sl : 60), b);
		b += nl ? ll + 1 : ll;
	}
}

static const char *nz(const char *s)
{
	return s ? s : "(none)";
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_ci(const char *a, const char *b)
{
	return a == b || (a && b && !strcasecmp(a, b));
}

/* osip keeps an IPv6 host without its brackets, sofia with them */
static int same_host(const char *o, const char *s)
{
	size_t n;

	if (!o || !s || *s != '[')
		return same_ci(o, s);
	n = strlen(s);
	return n > 2 && strlen(o) == n - 2 && !strncasecmp(o, s + 1, n - 2);
}

static void cmp_uri(const struct sc_msg *m, const char *what,
		    const osip_uri_t *o, const url_t *s)
{
	if (!o || !s) {
		if (o || s)
			sc_fail(m, "%s: only %s reads a URI", what, o ? "libosip2" : "sofia-sip");
		return;
	}
	if (same_ci(o->scheme, s->url_scheme) && same(o->username, s->url_user) &&
	    same_host(o->host, s->url_host) && same(o->port, s->url_port))
		return;
	sc_fail(m, "%s: libosip2 reads %s:%s@%s:%s, sofia-sip %s:%s@%s:%s", what,
		nz(o->scheme), nz(o->username), nz(o->host), nz(o->port),
		nz(s->url_scheme), nz(s->url_user), nz(s->url_host), nz(s->url_port));
}

static void cmp_start(const struct sc_msg *m, const osip_message_t *o, const sip_t *s)
{
	if (s->sip_request) {
		if (!MSG_IS_REQUEST(o) || !same(o->sip_method, s->sip_request->rq_method_name))
			sc_fail(m, "request line: libosip2 reads method %s, sofia-sip %s",
				nz(o->sip_method), s->sip_request->rq_method_name);
		else
			cmp_uri(m, "Request-URI", o->req_uri, s->sip_request->rq_url);
	} else if (!s->sip_status || !MSG_IS_RESPONSE(o) ||
		   o->status_code != s->sip_status->st_status ||
		   !same(o->reason_phrase, s->sip_status->st_phrase)) {
		sc_fail(m, "status line: libosip2 reads %d %s, sofia-sip %d %s",
			o->status_code, nz(o->reason_phrase),
			s->sip_status ? s->sip_status->st_status : 0,
			s->sip_status ? s->sip_status->st_phrase : "(none)");
	}
}

static void cmp_via(const struct sc_msg *m, const osip_message_t *o, const sip_t *s)
{
	int i, n = osip_list_size(&o->vias), ns = 0;
	const sip_via_t *v;

	for (v = s->sip_via; v; v = v->v_next)
		ns++;
	if (n != ns) {
		sc_fail(m, "Via count: libosip2 reads %d, sofia-sip %d", n, ns);
		return;
	}
	for (i = 0, v = s->sip_via; v; i++, v = v->v_next) {
		osip_via_t *ov = osip_list_get(&o->vias, i);
		osip_generic_param_t *br = NULL;
		const char *tp = strrchr(v->v_protocol, '/');

		osip_generic_param_get_byname(&ov->via_params, "branch", &br);
		if (same_ci(ov->protocol, tp ? tp + 1 : v->v_protocol) &&
		    same_host(ov->host, v->v_host) && same(ov->port, v->v_port) &&
		    same(br ? br->gvalue : NULL, v->v_branch))
			continue;
		sc_fail(m, "Via %d: libosip2 reads %s %s:%s branch=%s, sofia-sip %s %s:%s branch=%s",
			i + 1, nz(ov->protocol), nz(ov->host), nz(ov->port),
			nz(br ? br->gvalue : NULL), v->v_protocol, v->v_host,
			nz(v->v_port), nz(v->v_branch));
	}
}

/* Route or Record-Route: count, then each URI in order */
static void cmp_routes(const struct sc_msg *m, const char *what,
		       const osip_list_t *ol, const sip_route_t *r)
{
	int i, n = osip_list_size(ol), ns = 0;
	const sip_route_t *x;
	char label[40];

	for (x = r; x; x = x->r_next)
		ns++;
	if (n != ns) {
		sc_fail(m, "%s count: libosip2 reads %d, sofia-sip %d", what, n, ns);
		return;
	}
	for (i = 0; r; i++, r = r->r_next) {
		const osip_route_t *orr = osip_list_get(ol, i);

		snprintf(label, sizeof label, "%s %d", what, i + 1);
		cmp_uri(m, label, orr->url, r->r_url);
	}
}

static void cmp_addr(const struct sc_msg *m, const char *what,
		     const osip_from_t *o, const sip_addr_t *s)
{
	osip_generic_param_t *tag = NULL;

	if (!o || !s) {
		sc_fail(m, "%s: libosip2 %s it, sofia-sip %s", what,
			o ? "reads" : "has not", s ? "reads" : "has not");
		return;
	}
	cmp_uri(m, what, o->url, s->a_url);
	osip_generic_param_get_byname((osip_list_t *)&o->gen_params, "tag", &tag);
	if (!same(tag ? tag->gvalue : NULL, s->a_tag))
		sc_fail(m, "%s tag: libosip2 reads %s, sofia-sip %s", what,
			nz(tag ? tag->gvalue : NULL), nz(s->a_tag));
}

static void cmp_ids(const struct sc_msg *m, const osip_message_t *o, const sip_t *s)
{
	char *cid = NULL;
	osip_header_t *mf = NULL;
	unsigned long omf;

	if (o->call_id)
		osip_call_id_to_str(o->call_id, &cid);
	if (!s->sip_call_id || !same(cid, s->sip_call_id->i_id))
		sc_fail(m, "Call-ID: libosip2 reads %s, sofia-sip %s", nz(cid),
			s->sip_call_id ? s->sip_call_id->i_id : "(none)");
	osip_free(cid);
	if (!o->cseq || !s->sip_cseq || !o->cseq->number ||
	    strtoul(o->cseq->number, NULL, 10) != s->sip_cseq->cs_seq ||
	    !same(o->cseq->method, s->sip_cseq->cs_method_name))
		sc_fail(m, "CSeq: libosip2 reads %s %s, sofia-sip %u %s",
			o->cseq ? nz(o->cseq->number) : "(none)",
			o->cseq ? nz(o->cseq->method) : "",
			s->sip_cseq ? s->sip_cseq->cs_seq : 0,
			s->sip_cseq ? s->sip_cseq->cs_method_name : "(none)");
	cmp_addr(m, "From", o->from, s->sip_from);
	cmp_addr(m, "To", o->to, s->sip_to);
	osip_message_header_get_byname(o, "max-forwards", 0, &mf);
	omf = mf && mf->hvalue ? strtoul(mf->hvalue, NULL, 10) : 0;
	if (!mf != !s->sip_max_forwards ||
	    (mf && omf != s->sip_max_forwards->mf_count))
		sc_fail(m, "Max-Forwards: libosip2 reads %s, sofia-sip %lu",
			mf ? nz(mf->hvalue) : "(none)",
			s->sip_max_forwards ? s->sip_max_forwards->mf_count : 0);
}

/* Content-Length, Content-Type and the body, against the raw reading */
static void cmp_body(const struct sc_msg *m, const osip_message_t *o, const sip_t *s)
{
	const char *raw = m->p + m->hdr_len;
	size_t n = m->len - m->hdr_len;
	long ol = o->content_length && o->content_length->value ?
		  atol(o->content_length->value) : -1;
	long sl = s->sip_content_length ? (long)s->sip_content_length->l_length : -1;
	char oct[80] = "";
	osip_body_t *ob = NULL;

	if (ol != m->clen || sl != m->clen)
		sc_fail(m, "Content-Length: libosip2 reads %ld, sofia-sip %ld, the line says %ld",
			ol, sl, m->clen);
	if (o->content_type)
		snprintf(oct, sizeof oct, "%s/%s", nz(o->content_type->type),
			 nz(o->content_type->subtype));
	if (strcasecmp(oct, m->ctype) ||
	    strcasecmp(s->sip_content_type ? s->sip_content_type->c_type : "", m->ctype))
		sc_fail(m, "Content-Type: libosip2 reads \"%s\", sofia-sip \"%s\", the line \"%s\"",
			oct, s->sip_content_type ? s->sip_content_type->c_type : "", m->ctype);
	if ((s->sip_payload ? s->sip_payload->pl_len : 0) != n ||
	    (n && memcmp(s->sip_payload->pl_data, raw, n)))
		sc_fail(m, "sofia-sip's body is not the %zu bytes after the empty line", n);
	if (!strncmp(m->ctype, "multipart/", 10))
		return;	/* libosip2 splits it in parts */
	osip_message_get_body(o, 0, &ob);
	if (n ? !ob || ob->length != n || memcmp(ob->body, raw, n)
	      : ob && ob->length)
		sc_fail(m, "libosip2's body is not the %zu bytes after the empty line", n);
}

/* each header sofia-sip has no name for, libosip2 reads alike and in the
 * same order among the headers of that name */
static void cmp_unknown(const struct sc_msg *m, const osip_message_t *o, const sip_t *s)
{
	const sip_unknown_t *u;
	unsigned k = 0;

	for (u = s->sip_unknown; u && k < 1000; u = u->un_next, k++) {
		const sip_unknown_t *v;
		osip_header_t *h = NULL;
		int nth = 0;

		for (v = s->sip_unknown; v != u; v = v->un_next)
			nth += !strcasecmp(v->un_name, u->un_name);
		osip_message_header_get_byname(o, u->un_name, 0, &h);
		for (int pos = 0; h && nth > 0; nth--) {
			pos = osip_message_header_get_byname(o, u->un_name, pos + 1, &h);
			if (pos < 0)
				h = NULL;
		}
		if (!h || !same(h->hvalue, u->un_value))
			sc_fail(m, "%s: libosip2 reads \"%s\", sofia-sip \"%s\"", u->un_name,
				h ? nz(h->hvalue) : "(no such header)", nz(u->un_value));
	}
}

static int count_contacts(const sip_t *s)
{
	const sip_contact_t *c;
	int n = 0;

	for (c = s->sip_contact; c; c = c->m_next)
		n++;
	return n;
}

void sc_compare(const struct sc_msg *m)
{
	static int osip_ready;
	osip_message_t *o = NULL;
	msg_t *msg;
	sip_t *s;

	if (!osip_ready && parser_init() == 0)
		osip_ready = 1;
	if (osip_message_init(&o) || osip_message_parse(o, m->p, m->len)) {
		sc_fail(m, "libosip2 rejects it");
		osip_message_free(o);
		return;
	}
	msg = msg_make(sip_default_mclass(), 0, m->p, (ssize_t)m->len);
	s = msg ? sip_object(msg) : NULL;
	if (!s || (s->sip_flags & MSG_FLG_ERROR) || s->sip_error ||
	    (!s->sip_request && !s->sip_status)) {
		sc_fail(m, "sofia-sip cannot parse it%s%s", s && s->sip_error ? ": at " : "",
			s && s->sip_error ? s->sip_error->er_name : "");
	} else {
		cmp_start(m, o, s);
		cmp_via(m, o, s);
		cmp_routes(m, "Route", &o->routes, s->sip_route);
		cmp_routes(m, "Record-Route", &o->record_routes, s->sip_record_route);
		if (osip_list_size(&o->contacts) != count_contacts(s))
			sc_fail(m, "Contact count: libosip2 reads %d, sofia-sip %d",
				osip_list_size(&o->contacts), count_contacts(s));
		cmp_ids(m, o, s);
		cmp_body(m, o, s);
		cmp_unknown(m, o, s);
	}
	msg_destroy(msg);
	osip_message_free(o);
}
