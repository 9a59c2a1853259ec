/* The module's REGISTER client, on libre's SIP stack: libre 1.1.0's
 * sipreg answers digest challenges with its own sip_auth, which knows MD5
 * only and gives up on a list that starts with another algorithm (ENOSYS
 * on pinholed's SHA-256 challenge, RFC 8760 section 2.4). So this client
 * answers them itself (../digest.c): the first challenge of an algorithm
 * it knows, SHA-256 or MD5, qop=auth with a fresh cnonce and a counted nc
 * (RFC 7616 section 3.4), the nonce kept for the refreshes until the
 * server calls it stale. Like sipreg: one Call-ID and rising CSeqs (RFC
 * 3261 section 10.2.4), refreshed before expiry, removed (expires 0) when
 * freed.
 *
 * The same nonce answers, in advance, the challenge to the phone's own
 * INVITE (regc_cred, mnat.c): libre's sip_auth would fail on it as on the
 * REGISTER's. RFC 3261 section 22.3 lets a UA keep credentials across
 * dialogs for the realm of its outbound proxy, and RFC 7616 section 3.4
 * counts each use of a nonce in nc. A nonce goes stale (pinholed's
 * nonce_lifetime, Kamailio's nonce_expire: 300 s) sooner than a
 * registration is refreshed, so a call first asks for a fresh one
 * (regc_nonce_wait): a REGISTER without credentials, whose challenge is
 * answered at once. */
#include <errno.h>
#include <string.h>

#include "../digest.h"
#include "pinhole.h"

/* RFC 3261 section 22: a challenge that comes back right after our
 * answer means the credentials were refused: do not loop on it */
#define REGC_AUTH_TRIES 2
#define REGC_RETRY_MS 30000
/* After its flow failed, a REGISTER unanswered this long is given up and
 * sent again (guard_handler) */
#define REGC_GUARD_MS 4000

struct regc {
	struct sip_dialog *dlg;
	struct sip_request *req;
	struct tmr tmr;
	struct tmr guard;            /* a REGISTER after the flow failed */
	char *uri, *cuser, *user, *pass, *hdrs;
	uint32_t expires;
	struct sa laddr;             /* our Contact, as sent */
	enum sip_transp tp;
	struct digest_chall ch;      /* the challenge answered; alg NONE: none */
	char *realm, *nonce, *opaque;
	bool proxy;                  /* it came in a 407 */
	unsigned nc, tries;
	bool registered, terminated;
	bool fetching;               /* the REGISTER under way asks anew */
	bool refetch;                /* ... and one after it must */
	struct list waitl;           /* struct regc_wait: want a fresh nonce */
	struct regflow *flow;        /* RFC 5626 outbound (regflow.c) */
	regc_resp_h *resph;
	void *arg;
};

struct regc_wait {
	struct le le;
	regc_wait_h *h;
	void *arg;
};

static int request(struct regc *rc);
static int fetch(struct regc *rc);
static void wake(struct regc *rc);
static void response_handler(int err, const struct sip_msg *msg, void *arg);

static void destructor(void *arg)
{
	struct regc *rc = arg;

	tmr_cancel(&rc->tmr);
	tmr_cancel(&rc->guard);
	/* the waiters belong to their calls; they only leave the list */
	list_clear(&rc->waitl);
	/* RFC 3261 section 10.2.2: remove our binding on the way out; kept
	 * alive (as sipreg does) until that is answered */
	if (!rc->terminated) {
		rc->terminated = true;
		rc->resph = NULL;
		if (rc->req || (rc->registered && !request(rc))) {
			mem_ref(rc);
			return;
		}
	}
	mem_deref(rc->req);
	mem_deref(rc->flow);
	mem_deref(rc->dlg);
	mem_deref(rc->uri);
	mem_deref(rc->cuser);
	mem_deref(rc->user);
	mem_deref(rc->pass);
	mem_deref(rc->hdrs);
	mem_deref(rc->realm);
	mem_deref(rc->nonce);
	mem_deref(rc->opaque);
}

/* The REGISTER sent after the flow failed is still unanswered: over TCP,
 * a connection the registrar reset after it took the request (it died
 * as it did, or is stopping) is not reported to libre's transaction,
 * which would wait out Timer F (32 s) before the next attempt. Given up
 * (mem_deref cancels it without a report), it fails as one refused. */
static void guard_handler(void *arg)
{
	struct regc *rc = arg;

	if (!rc->req)
		return;
	rc->req = mem_deref(rc->req);
	response_handler(ETIMEDOUT, NULL, rc);
}

static void tmr_handler(void *arg)
{
	struct regc *rc = arg;
	int err = request(rc);

	if (!err && regflow_failing(rc->flow))
		tmr_start(&rc->guard, REGC_GUARD_MS, guard_handler, rc);
	if (err) {
		tmr_start(&rc->tmr, regflow_retry_ms(rc->flow, REGC_RETRY_MS),
			  tmr_handler, rc);
		if (rc->resph)
			rc->resph(err, NULL, rc->arg);
	}
}

/* The flow to the registrar failed: a REGISTER now, over a new one,
 * unless one is under way already. */
static void flow_failed(void *arg)
{
	struct regc *rc = arg;

	if (!rc->req && !rc->terminated)
		tmr_start(&rc->tmr, 0, tmr_handler, rc);
}

static int send_handler(enum sip_transp tp, const struct sa *src,
			const struct sa *dst, struct mbuf *mb, void *arg)
{
	struct regc *rc = arg;

	(void)dst;
	rc->laddr = *src;
	rc->tp = tp;
	return mbuf_printf(mb, "Contact: <sip:%s@%J%s>;expires=%u%H\r\n"
			   "Supported: outbound, path\r\n",
			   rc->cuser, &rc->laddr, sip_transp_param(tp),
			   rc->terminated ? 0 : rc->expires, regflow_contact,
			   rc->flow);
}

/* The credentials for one request (method, uri) from the challenge kept,
 * with the next nc of its nonce; ENOENT when none was kept. */
int regc_cred(struct regc *rc, const char *method, const char *uri,
	      char *buf, size_t size)
{
	struct digest_cred c;
	char cnonce[17];

	if (!rc || !method || !uri || !buf)
		return EINVAL;
	if (rc->ch.alg == DIGEST_NONE)
		return ENOENT;
	re_snprintf(cnonce, sizeof cnonce, "%016llx", rand_u64());
	c = (struct digest_cred){.user = rc->user, .pass = rc->pass,
				 .method = method, .uri = uri,
				 .cnonce = cnonce, .nc = ++rc->nc};
	return digest_credentials(buf, size, &rc->ch, &c);
}

/* The algorithm of the challenge kept, for the log; NULL: none kept. */
const char *regc_alg(const struct regc *rc)
{
	if (!rc || rc->ch.alg == DIGEST_NONE)
		return NULL;
	return rc->ch.alg == DIGEST_SHA256 ? "SHA-256" : "MD5";
}

static int auth_print(struct re_printf *pf, void *arg)
{
	struct regc *rc = arg;
	char buf[1024];
	int err;

	if (rc->ch.alg == DIGEST_NONE)
		return 0;
	if ((err = regc_cred(rc, "REGISTER", rc->uri, buf, sizeof buf)))
		return err;
	return re_hprintf(pf, "%s: %s\r\n", rc->proxy ? "Proxy-Authorization"
			  : "Authorization", buf);
}

static int request(struct regc *rc)
{
	return sip_drequestf(&rc->req, uag_sip(), true, "REGISTER", rc->dlg, 0,
			     NULL, send_handler, response_handler, rc,
			     "%H%sContent-Length: 0\r\n\r\n", auth_print, rc,
			     rc->hdrs);
}

/* A REGISTER without credentials: its challenge brings a fresh nonce,
 * answered at once (the binding is refreshed on the way). */
static int fetch(struct regc *rc)
{
	enum digest_alg alg = rc->ch.alg;
	int err;

	rc->ch.alg = DIGEST_NONE;
	if ((err = request(rc))) {
		rc->ch.alg = alg;
		return err;
	}
	tmr_cancel(&rc->tmr);
	rc->tries = 0;
	rc->fetching = true;
	return 0;
}

/* The REGISTERs are over: whoever waited for a nonce goes on. Each is
 * unlinked before its handler runs, so a handler may free any waiter. */
static void wake(struct regc *rc)
{
	struct le *le;

	while ((le = list_head(&rc->waitl))) {
		struct regc_wait *w = le->data;

		list_unlink(le);
		w->h(w->arg);
	}
}

static void wait_destructor(void *arg)
{
	struct regc_wait *w = arg;

	list_unlink(&w->le);
}

/* h(arg) once rc holds a nonce fresh from the server: at once (EALREADY,
 * and nothing to wait for) when rc has no challenge to renew (it was never
 * challenged, or the credentials were refused), else when the REGISTER it
 * sends for one is over, whatever its outcome. mem_deref(*wp) stops
 * waiting. */
int regc_nonce_wait(struct regc_wait **wp, struct regc *rc, regc_wait_h *h,
		    void *arg)
{
	struct regc_wait *w;

	if (!wp || !rc || !h)
		return EINVAL;
	if (rc->terminated)
		return EALREADY;
	if (rc->req) {
		/* the first REGISTER, or a fetch, brings a fresh nonce; a
		 * refresh answering the old one does not */
		if (!rc->fetching && rc->ch.alg != DIGEST_NONE)
			rc->refetch = true;
	} else if (rc->ch.alg == DIGEST_NONE || fetch(rc)) {
		return EALREADY;
	}
	w = mem_zalloc(sizeof *w, wait_destructor);
	if (!w)
		return ENOMEM;
	w->h = h;
	w->arg = arg;
	list_append(&rc->waitl, &w->le, w);
	*wp = w;
	return 0;
}

/* sip_msg_hdr_apply: the first challenge we can answer (the server lists
 * them in its order of preference, RFC 8760 section 2.4), kept in rc. */
static bool chall_handler(const struct sip_hdr *hdr, const struct sip_msg *msg,
			  void *arg)
{
	struct regc *rc = arg;
	struct httpauth_digest_chall ch;
	enum digest_alg alg;
	char alg_name[16] = "";

	(void)msg;
	if (httpauth_digest_challenge_decode(&ch, &hdr->val))
		return false; /* not Digest, or malformed: the next one */
	if (pl_isset(&ch.algorithm))
		pl_strcpy(&ch.algorithm, alg_name, sizeof alg_name);
	if (digest_alg_parse(*alg_name ? alg_name : NULL, &alg))
		return false;
	/* qop=auth or no qop (RFC 7616 3.3); auth-int alone is not ours */
	if (pl_isset(&ch.qop) && !digest_qop_auth(ch.qop.p, ch.qop.l))
		return false;
	rc->realm = mem_deref(rc->realm);
	rc->nonce = mem_deref(rc->nonce);
	rc->opaque = mem_deref(rc->opaque);
	if (pl_strdup(&rc->realm, &ch.realm) || pl_strdup(&rc->nonce, &ch.nonce) ||
	    (pl_isset(&ch.opaque) && pl_strdup(&rc->opaque, &ch.opaque)))
		return false;
	rc->ch = (struct digest_chall){.alg = alg, .realm = rc->realm,
				       .nonce = rc->nonce, .opaque = rc->opaque,
				       .qop_auth = pl_isset(&ch.qop)};
	rc->proxy = hdr->id == SIP_HDR_PROXY_AUTHENTICATE;
	rc->nc = 0;
	return true;
}

/* A 401/407: answered with the first challenge we can answer, at most
 * REGC_AUTH_TRIES times in a row. 0 when the REGISTER went again. */
static int authenticate(struct regc *rc, const struct sip_msg *msg)
{
	if (!rc->user || !rc->pass || rc->tries >= REGC_AUTH_TRIES) {
		/* refused: nothing to give a call's INVITE (regc_cred) */
		rc->ch.alg = DIGEST_NONE;
		return EACCES;
	}
	rc->ch.alg = DIGEST_NONE;
	if (!sip_msg_hdr_apply(msg, true, msg->scode == 401 ?
			       SIP_HDR_WWW_AUTHENTICATE :
			       SIP_HDR_PROXY_AUTHENTICATE, chall_handler, rc)) {
		rc->ch.alg = DIGEST_NONE;
		return ENOTSUP;
	}
	rc->tries++;
	return request(rc);
}

/* sip_msg_hdr_apply: the expiry the registrar gave our own Contact */
static bool contact_handler(const struct sip_hdr *hdr,
			    const struct sip_msg *msg, void *arg)
{
	struct regc *rc = arg;
	struct sip_addr c;
	struct pl v;
	char uri[256];

	if (sip_addr_decode(&c, &hdr->val) ||
	    re_snprintf(uri, sizeof uri, "sip:%s@%J%s", rc->cuser, &rc->laddr,
			sip_transp_param(rc->tp)) < 0 || pl_strcmp(&c.auri, uri))
		return false;
	if (!msg_param_decode(&c.params, "expires", &v))
		rc->expires = pl_u32(&v);
	else if (pl_isset(&msg->expires))
		rc->expires = pl_u32(&msg->expires);
	return true;
}

static void response_handler(int err, const struct sip_msg *msg, void *arg)
{
	struct regc *rc = arg;
	uint32_t wait = REGC_RETRY_MS;

	if (!err && msg && msg->scode < 200)
		return;
	tmr_cancel(&rc->guard);
	if (!err && msg && (msg->scode == 401 || msg->scode == 407)) {
		if (rc->terminated ? rc->tries < REGC_AUTH_TRIES &&
		    !authenticate(rc, msg) : !(err = authenticate(rc, msg)))
			return;
	} else if (!err && msg && msg->scode < 300) {
		rc->tries = 0;
		rc->registered = !rc->terminated;
		(void)sip_msg_hdr_apply(msg, true, SIP_HDR_CONTACT,
					contact_handler, rc);
		/* refresh at 90 % of the expiry granted */
		wait = rc->expires ? rc->expires * 900 : REGC_RETRY_MS;
		if (!rc->terminated)
			regflow_registered(rc->flow, msg);
	} else {
		rc->tries = 0;
		wait = regflow_retry_ms(rc->flow, REGC_RETRY_MS);
	}
	if (rc->terminated) {
		mem_deref(rc);
		return;
	}
	rc->fetching = false;
	if (!rc->refetch || fetch(rc))
		tmr_start(&rc->tmr, wait, tmr_handler, rc);
	rc->refetch = false;
	if (!rc->req)
		wake(rc);
	if (rc->resph)
		rc->resph(err, msg, rc->arg);
}

/* Registers cuser@ (our address) for aor at uri (through route, when not
 * NULL), every expires seconds, with the extra header fields hdrs;
 * answers challenges as user with pass (none: a challenge is reported,
 * EACCES). resph reports each final answer or error. */
int regc_alloc(struct regc **rcp, const char *uri, const char *aor,
	       const char *cuser, const char *route, uint32_t expires,
	       const char *user, const char *pass, const char *hdrs,
	       regc_resp_h *resph, void *arg)
{
	const char *routev[1] = {route};
	struct regc *rc;
	int err;

	if (!rcp || !uri || !aor || !cuser || !expires)
		return EINVAL;
	rc = mem_zalloc(sizeof *rc, destructor);
	if (!rc)
		return ENOMEM;
	rc->expires = expires;
	rc->ch.alg = DIGEST_NONE;
	rc->resph = resph;
	rc->arg = arg;
	err = sip_dialog_alloc(&rc->dlg, uri, aor, NULL, aor, routev,
			       route ? 1 : 0);
	err = err ? err : str_dup(&rc->uri, uri);
	err = err ? err : str_dup(&rc->cuser, cuser);
	err = err ? err : str_dup(&rc->hdrs, hdrs ? hdrs : "");
	err = err ? err : regflow_alloc(&rc->flow, aor, flow_failed, rc);
	if (!err && user && pass)
		err = str_dup(&rc->user, user) ? ENOMEM : str_dup(&rc->pass, pass);
	err = err ? err : request(rc);
	if (err) {
		rc->terminated = true; /* nothing registered: no un-REGISTER */
		mem_deref(rc);
	} else {
		*rcp = rc;
	}
	return err;
}
