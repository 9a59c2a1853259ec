/* Answers to strangers in open mode: see stranger.h. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tagarg.h>

#include "location.h"
#include "log.h"
#include "sdpfw.h"
#include "register.h"
#include "reqcheck.h"
#include "slreply.h"
#include "stranger.h"
#include "upstream.h"

bool stranger(const struct authsip *auth, const struct pconf *conf,
	      msg_t *msg)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	struct ph_addr src;

	if (auth)
		return true;
	if (!ai || ai->ai_protocol != IPPROTO_UDP)
		return false;
	return ph_addr_from_sa(&src, ai->ai_addr, ai->ai_addrlen) ||
	       !upstream_is_pbx(conf, &src);
}

bool stranger_refuse(nta_agent_t *agent, const struct pconf *conf,
		     struct loc_store *store, msg_t *msg, const sip_t *sip)
{
	const struct loc_contact *c;
	const char *phrase;
	char aor[REG_AOR_MAX], bad[128];
	struct sdpfw fw;
	unsigned n;
	bool has;
	int status;

	/* the proxy's refusals (proxy_request(), to_user()), same words */
	if (upstream_on(conf) || sip->sip_route ||
	    sip->sip_request->rq_method == sip_method_ack ||
	    !stranger(NULL, conf, msg))
		return false;
	if ((status = reqcheck_offer(sip, &fw, &has, bad, sizeof bad))) {
		phrase = bad;
		log_notice("proxy: %s %s: 400 %s", sip->sip_request->rq_method_name,
			   sip->sip_call_id->i_id, phrase);
	} else if (sip->sip_to && sip->sip_to->a_tag) {
		status = 403;
		phrase = "Forbidden: in-dialog request not routed through us";
	} else {
		status = reqcheck_user(conf, store, sip->sip_request->rq_url, aor,
				       sizeof aor, &c, &n, &phrase);
	}
	if (!status)
		return false;
	if (status != 400) /* a scan for users would flood any higher level */
		log_debug("proxy: %s %s from a stranger: %d %s",
			  sip->sip_request->rq_method_name,
			  sip->sip_call_id->i_id, status, phrase);
	sl_reply(agent, msg, status, phrase, TAG_END());
	return true;
}

/* The request named this binding ("<uri>;params") in a Contact. */
static bool named(su_home_t *home, const char *entry, const sip_contact_t *m)
{
	const char *lt = strchr(entry, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	url_t *u = gt ? url_make(home, su_strndup(home, lt + 1,
						    (isize_t)(gt - lt - 1)))
		      : NULL;

	for (; u && m; m = m->m_next)
		if (!url_cmp(u, m->m_url))
			return true;
	return false;
}

/* The bindings that fit, the request's own first: the answer built with
 * them (NULL on no memory). */
static msg_t *trimmed(nta_agent_t *agent, msg_t *req, size_t limit,
		      int status, const char *phrase, char *list,
		      tagi_t const *tags)
{
	const sip_contact_t *own = sip_object(req)->sip_contact;
	size_t n = 1, kept = 0, size = strlen(list) + 1;
	char **v, *out = calloc(1, size), ph[96];
	msg_t *best = NULL;

	for (const char *p = list; (p = strstr(p, ", <")); p += 3)
		n++;
	if (!out || !(v = calloc(n, sizeof *v)))
		goto out;
	/* entries are "<uri>;params", joined by ", " (register.c) */
	v[0] = list;
	for (size_t i = 1; i < n; i++) {
		char *sep = strstr(v[i - 1], ", <");

		*sep = '\0';
		v[i] = sep + 2;
	}
	if (status == 200)
		snprintf(ph, sizeof ph, "OK: 0 of %zu bindings, all over TCP", n);
	else
		snprintf(ph, sizeof ph, "%s", phrase);
	best = sl_build(agent, req, status, ph, NULL, TAG_NEXT(tags));
	for (int pass = 0; best && pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(out);
			msg_t *m;

			if (!v[i] || named(msg_home(req), v[i], own) != !pass)
				continue;
			snprintf(out + len, size - len, "%s%s", len ? ", " : "", v[i]);
			v[i] = NULL;
			if (status == 200)
				snprintf(ph, sizeof ph, "OK: %zu of %zu bindings, "
					 "all over TCP", kept + 1, n);
			m = sl_build(agent, req, status, kept + 1 < n ? ph : phrase,
				     NULL, SIPTAG_CONTACT_STR(out), TAG_NEXT(tags));
			if (m && msg_size(m) <= limit) {
				msg_destroy(best);
				best = m;
				kept++;
			} else {
				msg_destroy(m);
				out[len] = '\0';
			}
		}
	free(v);
out:
	free(out);
	return best;
}

msg_t *stranger_reg_build(nta_agent_t *agent, msg_t *req, size_t limit,
			  int status, const char *phrase, const char *contacts,
			  bool date, tag_type_t tag, tag_value_t value, ...)
{
	char *list;
	msg_t *m;
	ta_list ta;

	ta_start(ta, tag, value);
	/* as it would go to anyone, where it fits: the phone's REGISTER
	 * usually carries more than its 200. Where it does not, the same
	 * answer is written anew, not built again (callgrind: a build is
	 * 22k instructions, most of a REGISTER's answer) */
	m = sl_build_full(agent, req, status, phrase, date,
			  TAG_IF(contacts, SIPTAG_CONTACT_STR(contacts)),
			  TAG_NEXT(ta_args(ta)));
	if (m && msg_size(m) > limit && sl_compact(m))
		goto fail;
	/* a Date is only a SHOULD (RFC 3261 10.3 step 8): it goes first */
	if (m && msg_size(m) > limit && date && sl_drop_date(m))
		goto fail;
	if (m && msg_size(m) > limit && contacts && (list = strdup(contacts))) {
		msg_destroy(m);
		m = trimmed(agent, req, limit, status, phrase, list, ta_args(ta));
		free(list);
	}
	(void)ta_end(ta);
	return m;
fail:
	msg_destroy(m);
	(void)ta_end(ta);
	return NULL;
}
