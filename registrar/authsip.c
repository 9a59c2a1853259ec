/* Digest authentication on the wire: see authsip.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tagarg.h>

#include "auth.h"
#include "authsip.h"
#include "flow.h"
#include "log.h"
#include "slreply.h"
#include "stunsock.h"
#include "upstream.h"

struct authsip {
	nta_agent_t *agent;
	const struct pconf *conf;
	struct auth *auth;
	char realm[AUTH_REALM_MAX];
};

static time_t now_s(void)
{
	return (time_t)(stunsock_now_ms() / 1000);
}

static int msg_src(msg_t *msg, struct ph_addr *src)
{
	su_sockaddr_t su;
	socklen_t len = sizeof su;

	if (msg_get_address(msg, &su, &len) < 0)
		return EINVAL;
	return ph_addr_from_sa(src, &su.su_sa, len);
}

/* realm: the configured one, else the first domain served, else this
 * host's name (RFC 3261 22.1: a realm names the protection space) */
static void pick_realm(const struct pconf *c, char *buf, size_t size)
{
	if (*c->realm)
		snprintf(buf, size, "%s", c->realm);
	else if (c->n_domains)
		snprintf(buf, size, "%s", c->domains[0]);
	else if (gethostname(buf, size) || !*buf)
		snprintf(buf, size, "pinholed");
	buf[size - 1] = '\0';
}

int authsip_alloc(struct authsip **ap, nta_agent_t *agent,
		  const struct pconf *conf)
{
	struct auth_conf ac = {
		.nonce_lifetime = conf->nonce_lifetime,
		.fail_max = conf->auth_ban_failures,
		.fail_window = conf->auth_ban_window,
		.ban_time = conf->auth_ban_time,
	};
	struct authsip *a;
	char why[CONF_PATH_LEN + 80];
	int err;

	*ap = NULL;
	if (!*conf->users) {
		log_warn("auth: no users file: pinholed is OPEN, anyone may "
			 "register any address-of-record and call through it "
			 "(set users = FILE, see pinholed-passwd)");
		return 0;
	}
	if (!(a = calloc(1, sizeof *a)))
		return ENOMEM;
	a->agent = agent;
	a->conf = conf;
	pick_realm(conf, a->realm, sizeof a->realm);
	memcpy(ac.realm, a->realm, sizeof ac.realm);
	if ((err = auth_alloc(&a->auth, &ac, conf->users, why, sizeof why))) {
		log_err("auth: %s", why);
		free(a);
		return err;
	}
	if (!auth_user_count(a->auth))
		log_warn("auth: %s has no user of realm \"%s\": nobody can "
			 "register", conf->users, a->realm);
	log_info("auth: realm \"%s\", %u user(s) from %s", a->realm,
		 auth_user_count(a->auth), conf->users);
	*ap = a;
	return 0;
}

void authsip_free(struct authsip *a)
{
	if (!a)
		return;
	auth_free(a->auth);
	free(a);
}

bool authsip_drop(struct authsip *a, msg_t *msg)
{
	struct ph_addr src;

	if (!a || msg_src(msg, &src) || !auth_banned(a->auth, &src, now_s()))
		return false;
	msg_destroy(msg);
	return true;
}

bool authsip_from_pbx(const struct authsip *a, msg_t *msg)
{
	struct ph_addr src;

	return !msg_src(msg, &src) && upstream_is_pbx(a->conf, &src);
}

/* In a dialog through pinholed: a To tag and our Record-Route on top
 * (its signature and the flow it came over are the proxy's to check:
 * a forged one is refused there, 403). */
static bool our_dialog(const sip_t *sip)
{
	return sip->sip_to && sip->sip_to->a_tag && sip->sip_route &&
	       flow_rr_named(sip->sip_route->r_url->url_params);
}

bool authsip_needed(const struct authsip *a, msg_t *msg, const sip_t *sip)
{
	sip_method_t m = sip->sip_request->rq_method;

	return a && m != sip_method_ack && m != sip_method_cancel &&
	       !our_dialog(sip) && !authsip_from_pbx(a, msg);
}

/* The credentials of our realm, read; NULL when there are none. */
static msg_auth_t *our_cred(struct authsip *a, msg_t *msg, msg_auth_t *au,
			    struct auth_cred *c)
{
	for (; au; au = au->au_next) {
		auth_response_t ar[1];

		memset(ar, 0, sizeof ar);
		ar->ar_size = (int)sizeof ar;
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") ||
		    !au->au_params ||
		    auth_digest_response_get(msg_home(msg), ar, au->au_params) < 0 ||
		    !ar->ar_realm || strcmp(ar->ar_realm, a->realm))
			continue;
		*c = (struct auth_cred){
			ar->ar_username, ar->ar_realm, ar->ar_nonce, ar->ar_uri,
			ar->ar_response, ar->ar_algorithm, ar->ar_cnonce,
			ar->ar_qop, ar->ar_nc,
		};
		return au;
	}
	return NULL;
}

/* RFC 8760 section 2.4: one challenge per algorithm, the preferred one
 * (SHA-256) first; qop=auth only (RFC 7616 3.3). Answered statelessly
 * and no larger than the request (slreply.h): where both challenges do
 * not fit, MD5 alone, which every SIP phone does (RFC 3261 22.4); where
 * that does not either, nothing. */
static void challenge(struct authsip *a, msg_t *msg, const sip_t *sip,
		      bool stale)
{
	bool reg = sip->sip_request->rq_method == sip_method_register;
	const char *name = reg ? "WWW-Authenticate" : "Proxy-Authenticate";
	int status = reg ? 401 : 407;
	const char *phrase = reg ? "Unauthorized" : "Proxy Authentication Required";
	char nonce[AUTH_NONCE_LEN + 1], ch[2][AUTH_REALM_MAX + 128];
	char both[sizeof ch + 2];
	struct ph_addr src;
	msg_t *m;

	if (msg_src(msg, &src)) {
		msg_destroy(msg);
		return;
	}
	auth_nonce(a->auth, &src, now_s(), nonce);
	for (int i = 0; i < 2; i++)
		snprintf(ch[i], sizeof ch[i], "%s: Digest realm=\"%s\",nonce=\"%s\","
			 "qop=\"auth\",algorithm=%s%s", name, a->realm, nonce,
			 i ? "MD5" : "SHA-256", stale ? ",stale=true" : "");
	snprintf(both, sizeof both, "%s\r\n%s", ch[0], ch[1]);
	m = sl_build(a->agent, msg, status, phrase, both, TAG_END());
	if (m && !sl_fits(m, msg)) {
		msg_destroy(m);
		m = sl_build(a->agent, msg, status, phrase, ch[1], TAG_END());
	}
	sl_send(a->agent, m, msg);
}

static void log_fail(const sip_t *sip, msg_t *msg, const char *user,
		     const char *what)
{
	struct ph_addr src;
	char s[PH_ADDR_STRLEN] = "?";

	if (!msg_src(msg, &src))
		ph_addr_ip_print(&src, s, sizeof s);
	log_notice("auth: %s from %s: %s (user \"%s\")",
		   sip->sip_request->rq_method_name, s, what, user ? user : "");
}

bool authsip_gate(struct authsip *a, msg_t *msg, sip_t *sip)
{
	bool reg = sip->sip_request->rq_method == sip_method_register;
	msg_auth_t *au = reg ? sip->sip_authorization : sip->sip_proxy_authorization;
	const url_t *owned = reg ? (sip->sip_to ? sip->sip_to->a_url : NULL)
				 : (sip->sip_from ? sip->sip_from->a_url : NULL);
	struct auth_cred c;
	struct ph_addr src;
	enum auth_result r;

	if (!a)
		return false;
	if (!(au = our_cred(a, msg, au, &c)) || msg_src(msg, &src)) {
		challenge(a, msg, sip, false);
		return true;
	}
	r = auth_check(a->auth, &c, sip->sip_request->rq_method_name, &src,
		       now_s());
	if (r != AUTH_OK) {
		/* the same answer for an unknown user and a wrong password */
		if (r == AUTH_FAIL || r == AUTH_BAD)
			log_fail(sip, msg, c.username, r == AUTH_FAIL
				 ? "wrong credentials" : "unusable credentials");
		challenge(a, msg, sip, r == AUTH_STALE);
		return true;
	}
	/* RFC 3261 22.1 leaves it to the server which identities a user may
	 * use: here, only its own user part, in To (REGISTER: whose bindings
	 * change) or in From (calls, messages: who the callee is told calls) */
	if (!owned || !owned->url_user || strcmp(owned->url_user, c.username)) {
		log_fail(sip, msg, c.username, reg ? "not the owner of the To address"
						   : "not the From address");
		sl_reply(a->agent, msg, 403, reg ? "Forbidden: not your address"
						 : "Forbidden: not your From", TAG_END());
		return true;
	}
	/* RFC 3261 22.3: credentials for our realm stop here */
	if (!reg)
		msg_header_remove(msg, (msg_pub_t *)sip, (msg_header_t *)au);
	return false;
}

void authsip_reload(struct authsip *a, const char *users)
{
	char why[CONF_PATH_LEN + 80];

	if (!a)
		return;
	if (auth_reload(a->auth, users, why, sizeof why))
		log_err("auth: %s: users kept as they were", why);
	else
		log_notice("auth: %u user(s) from %s", auth_user_count(a->auth),
			   users);
}

void authsip_tick(struct authsip *a)
{
	if (a)
		auth_tick(a->auth, now_s());
}
