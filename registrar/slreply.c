/* Small stateless answers: see slreply.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tagarg.h>

#include "log.h"
#include "slreply.h"

static unsigned long dropped;

void sl_tag(const sip_t *sip, char tag[SL_TAG_SIZE])
{
	const char *parts[] = {sip->sip_call_id->i_id, sip->sip_from->a_tag};
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < 2; i++)
		for (const char *p = parts[i]; p && *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
	tag[0] = 'p', tag[1] = 'h', tag[10] = '\0'; /* "ph%08x", by hand */
	for (int i = 9; i >= 2; i--, h >>= 4)
		tag[i] = "0123456789abcdef"[h & 15];
}

sip_to_t *sl_to(msg_t *msg, const sip_t *sip)
{
	char tag[SL_TAG_SIZE];
	sip_to_t *to;

	if (sip->sip_to->a_tag)
		return NULL;
	sl_tag(sip, tag);
	to = sip_to_dup(msg_home(msg), sip->sip_to);
	if (to && sip_to_tag(msg_home(msg), to, tag) < 0)
		return NULL;
	return to;
}

/* own_lines: "Name: value" lines (CRLF between), header fields written
 * as they are, each on a line of its own. In compact form sofia-sip joins
 * the fields of one name with commas, which RFC 3261 7.3.1 forbids for
 * WWW-Authenticate and Proxy-Authenticate, and leaves no space after the
 * colon, which RFC 3261 allows but simple parsers of challenges do not
 * (SIPVicious's, some phones'). So each goes in as a header field sofia
 * does not know, its value (the space included) as given, and is encoded
 * before the next is added: sofia joins only fields not yet encoded. */
static int add_own_lines(msg_t *m, sip_t *s, const char *own_lines)
{
	su_home_t *home = msg_home(m);

	for (const char *p = own_lines; *p;) {
		const char *end = strstr(p, "\r\n"), *colon = strchr(p, ':');
		sip_unknown_t *u;

		if (!end)
			end = p + strlen(p);
		if (!colon || colon > end)
			return EINVAL;
		u = (sip_unknown_t *)msg_header_alloc(home, sip_unknown_class, 0);
		if (!u ||
		    !(u->un_name = su_strndup(home, p, (isize_t)(colon - p))) ||
		    !(u->un_value = su_strndup(home, colon + 1,
					       (isize_t)(end - colon - 1))) ||
		    msg_header_insert(m, (msg_pub_t *)s, (msg_header_t *)u) < 0 ||
		    msg_prepare(m) < 0)
			return ENOMEM;
		p = *end ? end + 2 : end;
	}
	return 0;
}

/* RFC 1123's form (RFC 3261 20.17), as sofia-sip's sip_date_e() writes
 * it: formatting it took 3.4k instructions of each REGISTER's answer
 * (callgrind), and it changes once a second. */
const char *sl_date_line(time_t now)
{
	static char line[64];
	static time_t at = -1;
	struct tm tm;

	if (now != at && gmtime_r(&now, &tm) &&
	    strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n",
		     &tm))
		at = now;
	return at == now ? line : NULL;
}

/* A Date header of now, encoded already: msg_prepare() keeps what a
 * header has (sl_compact() clears it, and it is written from its time) */
static sip_date_t *date_now(su_home_t *home)
{
	time_t now = time(NULL);
	const char *line = sl_date_line(now);
	sip_date_t *d = sip_date_create(home, (sip_time_t)now + SU_TIME_EPOCH);

	if (d && line) {
		d->d_common->h_data = su_strdup(home, line);
		d->d_common->h_len = d->d_common->h_data ? strlen(line) : 0;
	}
	return d;
}

/* The answer's headers: those RFC 3261 8.2.6.2 copies from the request
 * (not Record-Route: a stateless error answer sets up no dialog), the
 * caller's, and Content-Length, encoded (to know its size). */
static msg_t *build(nta_agent_t *agent, msg_t *req, int status,
		    const char *phrase, const char *own_lines, bool compact,
		    bool date, tagi_t const *tags)
{
	msg_t *m = nta_msg_create(agent, 0);
	sip_t *s = sip_object(m);
	const sip_t *rs = sip_object(req);
	sip_to_t *to = s ? sl_to(m, rs) : NULL;

	if (!s)
		return NULL;
	if (compact)
		msg_set_flags(m, MSG_DO_COMPACT);
	s->sip_status = sip_status_create(msg_home(m), status, phrase, NULL);
	s->sip_to = to; /* m's already: a tag would copy it again */
	if (!s->sip_status || sip_add_tl(m, s,
		SIPTAG_VIA(rs->sip_via), SIPTAG_FROM(rs->sip_from),
		TAG_IF(!to, SIPTAG_TO(rs->sip_to)), SIPTAG_CALL_ID(rs->sip_call_id),
		SIPTAG_CSEQ(rs->sip_cseq), TAG_NEXT(tags)) < 0 ||
	    (date && !(s->sip_date = date_now(msg_home(m)))) ||
	    sip_complete_message(m) < 0 || msg_serialize(m, (msg_pub_t *)s) < 0 ||
	    msg_prepare(m) < 0 || (own_lines && add_own_lines(m, s, own_lines))) {
		msg_destroy(m);
		return NULL;
	}
	return m;
}

msg_t *sl_build(nta_agent_t *agent, msg_t *req, int status, const char *phrase,
		const char *own_lines, tag_type_t tag, tag_value_t value, ...)
{
	msg_t *m;
	ta_list ta;

	ta_start(ta, tag, value);
	m = build(agent, req, status, phrase, own_lines, true, false,
		  ta_args(ta));
	(void)ta_end(ta);
	return m;
}

msg_t *sl_build_full(nta_agent_t *agent, msg_t *req, int status,
		     const char *phrase, bool date, tag_type_t tag,
		     tag_value_t value, ...)
{
	msg_t *m;
	ta_list ta;

	ta_start(ta, tag, value);
	m = build(agent, req, status, phrase, NULL, false, date, ta_args(ta));
	(void)ta_end(ta);
	return m;
}

bool sl_fits(msg_t *reply, msg_t *req)
{
	/* msg_size(): what the request came in, headers and body */
	return msg_size(reply) <= msg_size(req);
}

int sl_send_by(nta_agent_t *agent, msg_t *reply, msg_t *req, size_t limit,
	       tport_t *tp)
{
	const sip_t *rs = sip_object(req), *s = sip_object(reply);

	if (!reply) {
		msg_destroy(req);
		return ENOMEM;
	}
	if (msg_size(reply) > limit) { /* the answer's: req may be a stub */
		dropped++;
		log_debug("sip: %s %s: %d not sent: %zu bytes for a request of %zu",
			  s->sip_cseq->cs_method_name, s->sip_call_id->i_id,
			  s->sip_status->st_status, (size_t)msg_size(reply), limit);
		msg_destroy(reply);
		msg_destroy(req);
		return EMSGSIZE;
	}
	/* nta would copy it into the answer (RFC 3261 16.7) */
	if (rs->sip_record_route)
		msg_header_remove_all(req, (msg_pub_t *)rs,
				      (msg_header_t *)rs->sip_record_route);
	return nta_msg_mreply(agent, reply, sip_object(reply),
			      sip_object(reply)->sip_status->st_status,
			      sip_object(reply)->sip_status->st_phrase, req,
			      TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END()) < 0 ? EIO : 0;
}

int sl_send(nta_agent_t *agent, msg_t *reply, msg_t *req)
{
	return sl_send_by(agent, reply, req, msg_size(req), NULL);
}

int sl_reply(nta_agent_t *agent, msg_t *msg, int status, const char *phrase,
	     tag_type_t tag, tag_value_t value, ...)
{
	msg_t *m;
	ta_list ta;

	ta_start(ta, tag, value);
	m = build(agent, msg, status, phrase, NULL, true, false, ta_args(ta));
	(void)ta_end(ta);
	return sl_send(agent, m, msg);
}

int sl_drop_date(msg_t *m)
{
	sip_t *s = sip_object(m);

	if (s->sip_date &&
	    msg_header_remove(m, (msg_pub_t *)s, (msg_header_t *)s->sip_date))
		return ENOMEM;
	return msg_prepare(m) < 0 ? ENOMEM : 0;
}

int sl_compact(msg_t *m)
{
	msg_set_flags(m, MSG_DO_COMPACT);
	for (msg_header_t *h = *msg_chain_head(m); h; h = h->sh_succ)
		h->sh_data = NULL, h->sh_len = 0;
	return msg_prepare(m) < 0 ? ENOMEM : 0;
}

unsigned long sl_dropped(void)
{
	return dropped;
}
