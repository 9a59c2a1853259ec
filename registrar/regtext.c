/* A REGISTER's 200 written as text: see regtext.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/tport_tag.h>

#include "regtext.h"
#include "slreply.h"

struct tbuf {
	char *b;
	size_t len, size;
	int err;
};

/* room for need more bytes and a NUL */
static void grow(struct tbuf *t, size_t need)
{
	size_t size;
	char *b;

	if (t->err)
		return;
	size = 2 * (t->len + need + 1);
	if (!(b = realloc(t->b, size))) {
		t->err = ENOMEM;
		return;
	}
	t->b = b;
	t->size = size;
}

/* inline: some twenty of them an answer */
static inline void put(struct tbuf *t, const char *s, size_t n)
{
	if (t->size - t->len <= n)
		grow(t, n);
	if (t->err)
		return;
	memcpy(t->b + t->len, s, n);
	t->len += n;
}

static void puts0(struct tbuf *t, const char *s)
{
	put(t, s, strlen(s));
}

/* "Name: value\r\n" of one header, as sofia-sip encodes it */
static void put_header(struct tbuf *t, const void *h, int flags)
{
	for (unsigned tries = 0; !t->err && tries < 2; tries++) {
		size_t room = t->size - t->len;
		issize_t n = msg_header_e(t->b + t->len, (isize_t)room,
					  (const msg_header_t *)h, flags);

		if (n < 0) {
			t->err = EINVAL;
		} else if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		} else {
			grow(t, (size_t)n);
		}
	}
}

static void put_uint(struct tbuf *t, unsigned long v)
{
	char d[24], *p = d + sizeof d;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10));
	put(t, p, (size_t)(d + sizeof d - p));
}

/* Each binding on a line of its own, as sofia-sip writes a Contact list
 * in full form; the entries are "<uri>;params", joined by ", "
 * (register.c), each the encoding sofia-sip would give it again. */
static void put_contacts(struct tbuf *t, const char *list)
{
	for (const char *p = list, *sep; p && *p; p = sep ? sep + 2 : NULL) {
		sep = strstr(p, ", <");
		put(t, "Contact: ", 9);
		put(t, p, sep ? (size_t)(sep - p) : strlen(p));
		put(t, "\r\n", 2);
	}
}

/* The To, with our tag where it had none (sl_to(): sofia-sip adds it as
 * its last parameter). */
static void put_to(struct tbuf *t, const sip_t *req, int flags)
{
	char tag[SL_TAG_SIZE];

	put_header(t, req->sip_to, flags);
	if (t->err || req->sip_to->a_tag)
		return;
	sl_tag(req, tag);
	t->len -= 2; /* its CRLF */
	put(t, ";tag=", 5);
	put(t, tag, SL_TAG_SIZE - 1);
	put(t, "\r\n", 2);
}

/* The headers sl_build_full() puts in the 200, in the order sofia-sip
 * serializes them there: a status line, those RFC 3261 8.2.6.2 copies,
 * the bindings (10.3 step 8), Date, Require, Content-Length, then the
 * headers it does not know, as they were added. */
static void put_answer(struct tbuf *t, const sip_t *req,
		       const struct reg_reply *r, bool record_route, int flags,
		       const char *date)
{
	put(t, "SIP/2.0 ", 8);
	put_uint(t, (unsigned)r->status);
	put(t, " ", 1);
	puts0(t, r->phrase);
	put(t, "\r\n", 2);
	for (const sip_via_t *v = req->sip_via; v; v = v->v_next)
		put_header(t, v, flags);
	if (record_route)
		for (const sip_record_route_t *rr = req->sip_record_route; rr;
		     rr = rr->r_next)
			put_header(t, rr, flags);
	put_header(t, req->sip_from, flags);
	put_to(t, req, flags);
	/* as sip_call_id_e() and sip_cseq_e() write them, without the
	 * latter's snprintf (0.9k instructions) */
	put(t, "Call-ID: ", 9);
	puts0(t, req->sip_call_id->i_id);
	put(t, "\r\nCSeq: ", 8);
	put_uint(t, req->sip_cseq->cs_seq);
	put(t, " ", 1);
	puts0(t, req->sip_cseq->cs_method_name);
	put(t, "\r\n", 2);
	put_contacts(t, r->contacts);
	puts0(t, date);
	if (r->outbound)
		put(t, "Require: outbound\r\n", 19);
	put(t, "Content-Length: 0\r\n", 19);
	if (*r->fwwin) {
		put(t, "Firewall-Window: ", 17);
		puts0(t, r->fwwin);
		put(t, "\r\n", 2);
	}
	if (r->flow_timer) {
		put(t, "Flow-Timer: ", 12);
		put_uint(t, r->flow_timer);
		put(t, "\r\n", 2);
	}
	put(t, "\r\n", 2);
}

/* Where nta_msg_mreply() sends an answer: by the top Via, its received
 * address and its rport (sipd.c sets NTATAG_SERVER_RPORT; maddr was
 * dropped, sipd.c); its names copied after the text. */
static void put_dest(struct tbuf *t, const sip_t *req, size_t *at)
{
	const sip_via_t *v = req->sip_via;
	int rport = 1;
	const char *s[5] = {
		sip_via_transport(v),
		v->v_maddr ? v->v_maddr : v->v_received ? v->v_received
							: v->v_host,
		sip_via_port(v, &rport),
		v->v_host,
		v->v_comp,
	};

	for (unsigned i = 0; i < 5; i++) {
		at[i] = t->len;
		if (s[i])
			puts0(t, s[i]);
		put(t, "", 1);
	}
}

int regtext_make(struct regtext *t, const sip_t *req,
		 const struct reg_reply *r, bool record_route, int flags)
{
	struct tbuf b = {.size = 1024};
	const char *date = sl_date_line(time(NULL));
	size_t at[5];

	memset(t, 0, sizeof *t);
	if (!date || !req->sip_via || !req->sip_from || !req->sip_to ||
	    !req->sip_call_id || !req->sip_cseq ||
	    MSG_IS_COMPACT(flags) || MSG_IS_COMMA_LISTS(flags))
		return EINVAL;
	if (!(b.b = malloc(b.size)))
		return ENOMEM;
	put_answer(&b, req, r, record_route, flags, date);
	t->len = b.len;
	put_dest(&b, req, at);
	if (b.err) {
		free(b.b);
		return b.err;
	}
	t->buf = b.b;
	t->tpn.tpn_proto = b.b + at[0];
	t->tpn.tpn_host = b.b + at[1];
	t->tpn.tpn_port = b.b + at[2];
	t->tpn.tpn_canon = b.b + at[3];
	t->tpn.tpn_comp = req->sip_via->v_comp ? b.b + at[4] : NULL;
	return 0;
}

int regtext_send(const struct regtext *t, nta_agent_t *agent, tport_t *tp)
{
	/* not nta_msg_create(): its 2 kB for headers (NTATAG_PRELOAD) are
	 * for a message built header by header */
	msg_t *m = msg_create(sip_default_mclass(), 0);
	sip_t *sip = sip_object(m);
	char *text = m ? su_alloc(msg_home(m), (isize_t)t->len) : NULL;
	int err = EIO;

	/* the whole answer as the status line's encoding, its one piece:
	 * the transport sends what each piece holds (msg_iovec()), and a
	 * connection that takes part of it sends the rest from the message */
	if (text && (sip->sip_status = sip_status_create(msg_home(m), 200,
							   "OK", NULL))) {
		memcpy(text, t->buf, t->len);
		sip->sip_status->st_common->h_data = text;
		sip->sip_status->st_common->h_len = t->len;
		/* as nta_msg_mreply(): an answer is never cut to an MTU */
		if (msg_serialize(m, NULL) == 0 &&
		    tport_tsend(tp ? tp : nta_agent_tports(agent), m, &t->tpn,
				TPTAG_MTU(INT_MAX), TAG_END()))
			err = 0;
	}
	msg_destroy(m);
	return err;
}

msg_t *regtext_msg(const struct regtext *t)
{
	return msg_make(sip_default_mclass(), 0, t->buf, (ssize_t)t->len);
}

void regtext_free(struct regtext *t)
{
	free(t->buf);
	memset(t, 0, sizeof *t);
}
