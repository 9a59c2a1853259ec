/* The ng relay backend (doc/RELAY-NG.md): relays on other hosts, each
 * pinhole-relayd or rtpengine, driven over the ng protocol (ngc.c).
 *
 * Each relay stream is an ng call of its own, with fixed tags: leg 0
 * (the caller) is from-tag "ph-a", leg 1 (the callee) to-tag "ph-b".
 * Reserving a stream is an offer with the caller's media (its reply
 * names where the callee sends) and an answer with a placeholder for the
 * callee (its reply names where the caller sends), so both ports are
 * known before the INVITE leaves. What pinholed learns later (each leg's
 * SDP address and IPs, RFC 7362 latching) goes as a new offer or answer
 * for that leg; counters come from query, the end is delete. One request
 * per stream is in flight at a time; what changes meanwhile is sent
 * after it, so a relay sees a stream's updates in order. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "ngc.h"
#include "ngsdp.h"
#include "relayctl.h"
#include "stunsock.h"

#define BUCKETS 1024
#define SDP_MAX 512
#define DIRTY_LEG0 1u
#define DIRTY_LEG1 2u
#define DIRTY_QUERY 4u
#define DIRTY_TOUCH 8u

static const char *const tags[2] = {"ph-a", "ph-b"};

struct ngs {
	struct ngs *next;               /* hash chain */
	struct ngrc *rc;
	unsigned relay;
	uint64_t id;
	char callid[64];
	struct ph_addr media[2];        /* each leg's SDP address, once known */
	struct ph_addr told[2];         /* rtpengine's idea of it */
	struct ph_addr ips[2][PH_RELAY_MAX_EXPECT];
	unsigned nips[2];
	bool relatch[2];
	unsigned dirty;                 /* what is still to be sent */
	bool busy;                      /* a request in flight: */
	const char *what;               /* its command */
	bool freed;                     /* let go of: deleted, then forgotten */
	bool lost;                      /* the relay freed it, or died */
	uint64_t born_ms;
	struct ph_relay_stats st;
	struct ph_addr port[2];
};

struct ngrc {
	struct relayctl base;
	struct ngc *c;
	struct ngs *bucket[BUCKETS];
	uint64_t next_id;
	char prefix[40];                /* Call-IDs unique across restarts */
};

struct ngalloc {
	struct ngrc *rc;
	unsigned n, k;                  /* streams; step: offer, answer, ... */
	struct ph_addr media[RELAYCTL_MAX_STREAMS];
	struct ngs *s[RELAYCTL_MAX_STREAMS];
	int relay;
	unsigned tried;                 /* relays tried, a bit each */
	int err;
	relay_grant_h *h;
	void *arg;
};

static void kick(struct ngs *s);

/* ---- streams ------------------------------------------------------------ */

static struct ngs *find(struct ngrc *rc, uint64_t id)
{
	struct ngs *s = rc->bucket[id % BUCKETS];

	while (s && s->id != id)
		s = s->next;
	return s && !s->freed ? s : NULL;
}

static struct ngs *stream_new(struct ngrc *rc, unsigned relay)
{
	struct ngs *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->rc = rc;
	s->relay = relay;
	s->id = ++rc->next_id;
	snprintf(s->callid, sizeof s->callid, "%s-%" PRIu64, rc->prefix, s->id);
	s->born_ms = stunsock_now_ms();
	s->next = rc->bucket[s->id % BUCKETS];
	rc->bucket[s->id % BUCKETS] = s;
	ngc_load(rc->c, relay, 1);
	return s;
}

static void stream_forget(struct ngs *s)
{
	struct ngs **pp = &s->rc->bucket[s->id % BUCKETS];

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	ngc_load(s->rc->c, s->relay, -1);
	free(s);
}

/* ---- requests ------------------------------------------------------------ */

/* A leg's SDP: its address, or (not known yet) no address, which makes
 * a relay wait for the leg's first packet (rtpengine's endpoint learning,
 * pinhole's latching) instead of sending anywhere. */
static void sdp_of(const struct ph_addr *m, int af, char *buf, size_t size)
{
	char ip[PH_ADDR_STRLEN];
	bool known = ph_addr_isset(m);
	const char *v = (known ? ph_addr_af(m) : af) == AF_INET6 ? "IP6" : "IP4";

	if (known)
		ph_addr_ip_print(m, ip, sizeof ip);
	else
		strcpy(ip, strcmp(v, "IP6") ? "0.0.0.0" : "::");
	snprintf(buf, size, "v=0\r\no=pinholed 1 1 IN %s %s\r\ns=pinhole\r\n"
		 "c=IN %s %s\r\nt=0 0\r\nm=audio %u RTP/AVP 0 8 9 18 96 97 98 "
		 "99 100 101\r\na=sendrecv\r\n", v, ip, v, ip,
		 known ? ph_addr_port(m) : 9);
}

/* An offer (leg 0) or answer (leg 1) with what pinholed knows of leg,
 * keys in bencode's sorted order. trust-address: the SDP's address, not
 * the ng request's source, is where the relay sends before a leg's first
 * packet; port-latching: rtpengine keeps a leg's ports when its address
 * changes (from the placeholder to the callee's), as pinhole-relayd does.
 * The pinhole-* keys go to pinhole-relayd only. */
static void msg_leg(const struct ngs *s, unsigned leg, struct bbuf *w)
{
	char sdp[SDP_MAX];
	char ip[PH_ADDR_STRLEN];

	sdp_of(&s->media[leg], ph_addr_af(&s->media[0]), sdp, sizeof sdp);
	benc_raw(w, "d", 1);
	benc_kv(w, "ICE", "remove");
	benc_kv(w, "call-id", s->callid);
	benc_kv(w, "command", leg ? "answer" : "offer");
	benc_cstr(w, "flags");
	benc_raw(w, "l", 1);
	benc_cstr(w, "port-latching");
	benc_cstr(w, "trust-address");
	benc_raw(w, "e", 1);
	benc_kv(w, "from-tag", tags[0]);
	if (s->nips[leg] && ngc_pinhole(s->rc->c, s->relay)) {
		benc_cstr(w, "pinhole-expect");
		benc_raw(w, "l", 1);
		for (unsigned i = 0; i < s->nips[leg]; i++) {
			ph_addr_ip_print(&s->ips[leg][i], ip, sizeof ip);
			benc_cstr(w, ip);
		}
		benc_raw(w, "e", 1);
	}
	if (s->relatch[leg] && ngc_pinhole(s->rc->c, s->relay))
		benc_ki(w, "pinhole-relatch", 1);
	benc_cstr(w, "replace");
	benc_raw(w, "l", 1);
	benc_cstr(w, "origin");
	benc_cstr(w, "session-connection");
	benc_raw(w, "e", 1);
	benc_kv(w, "sdp", sdp);
	if (leg)
		benc_kv(w, "to-tag", tags[1]);
	benc_raw(w, "e", 1);
}

static void msg_simple(const struct ngs *s, const char *cmd, bool touch,
		       struct bbuf *w)
{
	benc_raw(w, "d", 1);
	benc_kv(w, "call-id", s->callid);
	benc_kv(w, "command", cmd);
	if (touch && ngc_pinhole(s->rc->c, s->relay))
		benc_ki(w, "pinhole-touch", 1);
	benc_raw(w, "e", 1);
}

/* 0 for result ok; else logs the relay's reason and says what it means. */
static int result(const struct ngs *s, const char *what, const struct benc *r)
{
	const char *why = "", *res;
	size_t wn = 0, rn;

	if (!benc_get_str(r, "result", &res, &rn) && rn == 2 && !memcmp(res, "ok", 2))
		return 0;
	benc_get_str(r, "error-reason", &why, &wn);
	if (wn == 15 && !memcmp(why, "Unknown call-id", 15))
		return ENOENT;
	log_warn("relay %s: %s of stream %s: %.*s", ngc_name(s->rc->c, s->relay),
		 what, s->callid, (int)wn, why);
	return memmem(why, wn, "port", 4) ? EBUSY : EPROTO;
}

static int64_t get_int(const struct benc *d, const char *key)
{
	struct benc v;
	int64_t i = 0;

	if (benc_get(d, key, &v) || benc_int(&v, &i))
		return 0;
	return i;
}

/* One tag's medias of a query reply (rtpengine's shape) into leg l. */
static void leg_stats(const struct benc *tag, struct ph_relay_leg_stats *l)
{
	struct benc medias, m = {0}, streams, st, ep, ph;
	bool first = true;

	memset(l, 0, sizeof *l);
	if (benc_get(tag, "medias", &medias))
		return;
	while (!benc_next(&medias, &m)) {
		struct benc it = {0};
		if (benc_get(&m, "streams", &streams))
			continue;
		while (!benc_next(&streams, &it)) {
			const char *a;
			size_t n;
			if (!benc_get(&it, "stats", &st)) {
				l->rx += (uint64_t)get_int(&st, "packets");
				l->rx_bytes += (uint64_t)get_int(&st, "bytes");
			}
			if (!benc_get(&it, "pinhole", &ph)) {
				l->foreign += (uint64_t)get_int(&ph, "foreign");
				l->unlatched += (uint64_t)get_int(&ph, "unlatched");
				l->relatched += (uint64_t)get_int(&ph, "relatched");
				l->tx += (uint64_t)get_int(&ph, "sent");
			}
			if (first && !benc_get(&it, "endpoint", &ep) &&
			    !benc_get_str(&ep, "address", &a, &n) && n &&
			    !ph_addr_set_n(&l->from, a, n, (uint16_t)get_int(&ep, "port")))
				l->latched = ph_addr_port(&l->from) != 0;
			first = false;
		}
	}
}

static void read_stats(struct ngs *s, const struct benc *r)
{
	struct benc tagd, k = {0}, v;

	if (benc_get(r, "tags", &tagd))
		return;
	while (!benc_next(&tagd, &k)) {
		v = k;
		if (benc_next(&tagd, &v))
			break;
		for (unsigned l = 0; l < 2; l++)
			if (benc_str_eq(&k, tags[l]))
				leg_stats(&v, &s->st.leg[l]);
		k = v;
	}
}

static void on_reply(int err, const struct benc *r, void *arg)
{
	struct ngs *s = arg;

	s->busy = false;
	if (s->freed) {
		stream_forget(s); /* the delete's answer, or its end */
		return;
	}
	if (!err && !(err = result(s, s->what, r)))
		read_stats(s, r);
	/* gone from the relay (idle there, or the relay died): ended */
	if (err == ENOENT || err == ETIMEDOUT || err == ECONNREFUSED)
		s->lost = true;
	kick(s);
}

static void kick(struct ngs *s)
{
	char buf[NGC_MSG_MAX - 32];
	const char *what;
	struct bbuf w;

	if (s->busy || (!s->freed && (s->lost || !s->dirty)))
		return;
	if (s->freed && ngc_dead(s->rc->c, s->relay)) {
		stream_forget(s);
		return;
	}
	bbuf_init(&w, buf, sizeof buf);
	if (s->freed) {
		what = "delete";
		msg_simple(s, what, false, &w);
	} else if (s->dirty & (DIRTY_LEG0 | DIRTY_LEG1)) {
		unsigned leg = s->dirty & DIRTY_LEG0 ? 0 : 1;
		what = leg ? "answer" : "offer";
		msg_leg(s, leg, &w);
		s->relatch[leg] = false;
		s->dirty &= ~(leg ? DIRTY_LEG1 : DIRTY_LEG0);
	} else {
		what = "query";
		msg_simple(s, what, s->dirty & DIRTY_TOUCH, &w);
		s->dirty &= ~(DIRTY_QUERY | DIRTY_TOUCH);
	}
	if (!w.err && !ngc_send(s->rc->c, s->relay, buf, w.len, what, on_reply, s)) {
		s->busy = true;
		s->what = what;
	}
	else if (s->freed)
		stream_forget(s);
}

/* ---- reservations ------------------------------------------------------- */

static void alloc_next(struct ngalloc *a);

static void alloc_end(struct ngalloc *a, int err)
{
	struct relay_grant g = {0};

	if (!err) {
		g.n = a->n;
		for (unsigned i = 0; i < a->n; i++) {
			g.id[i] = a->s[i]->id;
			g.port[i][0] = a->s[i]->port[0];
			g.port[i][1] = a->s[i]->port[1];
			a->s[i]->busy = false;
			kick(a->s[i]);
		}
	}
	a->h(err, err ? NULL : &g, a->arg);
	free(a);
}

/* This relay did not do it: its streams go, the next relay is tried. */
static void alloc_retry(struct ngalloc *a, int err)
{
	for (unsigned i = 0; i < a->n; i++)
		if (a->s[i]) {
			a->s[i]->busy = false;
			a->s[i]->freed = true;
			kick(a->s[i]);
			a->s[i] = NULL;
		}
	if (a->err != EBUSY && a->err != EAFNOSUPPORT)
		a->err = err == ECONNREFUSED || err == ETIMEDOUT ? ETIMEDOUT : err;
	a->k = 0;
	if ((a->relay = ngc_pick(a->rc->c, a->tried)) < 0) {
		alloc_end(a, a->err);
		return;
	}
	alloc_next(a);
}

/* The port a reply's SDP names: where the other leg sends. */
static int reply_port(const struct ngs *s, const struct benc *r,
		      struct ph_addr *port)
{
	struct ph_addr m[NGSDP_MAX_MEDIA];
	const char *sdp;
	size_t len;
	unsigned n;
	int err = result(s, "reservation", r);

	if (err)
		return err == ENOENT ? EPROTO : err;
	if (benc_get_str(r, "sdp", &sdp, &len) ||
	    ngsdp_read(sdp, len, m, NGSDP_MAX_MEDIA, &n) || !ph_addr_port(&m[0])) {
		log_warn("relay %s: no media port in its SDP for stream %s",
			 ngc_name(s->rc->c, s->relay), s->callid);
		return EPROTO;
	}
	if (ph_addr_af(&m[0]) != ph_addr_af(&s->media[0]))
		return EAFNOSUPPORT;
	*port = m[0];
	return 0;
}

static void alloc_reply(int err, const struct benc *r, void *arg)
{
	struct ngalloc *a = arg;
	struct ngs *s = a->s[a->k / 2];

	/* the offer's reply is for the callee, the answer's for the caller */
	if (!err)
		err = reply_port(s, r, &s->port[a->k % 2 ? 0 : 1]);
	/* rtpengine answers the placeholder (no address yet) with none
	 * either, on the port it keeps: its IP is the offer's */
	if (!err && a->k % 2 && ngsdp_unspecified(&s->port[0])) {
		uint16_t p = ph_addr_port(&s->port[0]);
		s->port[0] = s->port[1];
		ph_addr_set_port(&s->port[0], p);
	}
	if (err) {
		alloc_retry(a, err);
		return;
	}
	a->k++;
	alloc_next(a);
}

static void alloc_next(struct ngalloc *a)
{
	char buf[NGC_MSG_MAX - 32];
	unsigned i = a->k / 2;
	struct bbuf w;
	struct ngs *s;

	if (a->k == 2 * a->n) {
		alloc_end(a, 0);
		return;
	}
	a->tried |= 1u << a->relay;
	if (!(a->k % 2)) {
		if (!(s = a->s[i] = stream_new(a->rc, (unsigned)a->relay))) {
			alloc_retry(a, ENOMEM);
			return;
		}
		s->media[0] = s->told[0] = a->media[i];
		s->busy = true; /* what the call says meanwhile waits */
	}
	s = a->s[i];
	bbuf_init(&w, buf, sizeof buf);
	msg_leg(s, a->k % 2, &w);
	if (w.err || ngc_send(a->rc->c, s->relay, buf, w.len,
			      a->k % 2 ? "answer" : "offer", alloc_reply, a))
		alloc_retry(a, ENOMEM);
}

static void ng_alloc(struct relayctl *r, unsigned n, const struct ph_addr *media,
		     const struct ph_addr *toward, relay_grant_h *h, void *arg)
{
	struct ngrc *rc = (struct ngrc *)r;
	struct ngalloc *a;

	(void)toward;
	if (!n || n > RELAYCTL_MAX_STREAMS) {
		h(ENOTSUP, NULL, arg);
		return;
	}
	if (!(a = calloc(1, sizeof *a))) {
		h(ENOMEM, NULL, arg);
		return;
	}
	*a = (struct ngalloc){.rc = rc, .n = n, .h = h, .arg = arg,
			      .err = ETIMEDOUT};
	memcpy(a->media, media, n * sizeof *media);
	if ((a->relay = ngc_pick(rc->c, 0)) < 0) {
		alloc_end(a, ETIMEDOUT);
		return;
	}
	alloc_next(a);
}

/* ---- the operations --------------------------------------------------- */

/* rtpengine learns where a leg is from its first packet, but a new
 * offer or answer puts the leg back at its SDP's address (a private one,
 * behind a NAT) and it learns no more: so it is told a leg's address only
 * when a re-INVITE moves it, never the callee's first (it has the
 * placeholder, and learns), nor the IPs, which it does not read. */
static bool rtpengine_moved(struct ngs *s, unsigned leg,
			    const struct ph_addr *media)
{
	bool moved;

	if (!media || !ph_addr_isset(media))
		return false;
	moved = ph_addr_isset(&s->told[leg]) && !ph_addr_eq(&s->told[leg], media);
	s->told[leg] = *media;
	return moved;
}

static int ng_expect(struct relayctl *r, uint64_t id, unsigned leg,
		     const struct ph_addr *ips, unsigned n,
		     const struct ph_addr *media, bool relatch)
{
	struct ngs *s = leg < 2 ? find((struct ngrc *)r, id) : NULL;

	if (!s || s->lost)
		return ENOENT;
	if (!ngc_pinhole(s->rc->c, s->relay) && !rtpengine_moved(s, leg, media))
		return 0;
	s->nips[leg] = 0;
	for (unsigned i = 0; i < n && s->nips[leg] < PH_RELAY_MAX_EXPECT; i++)
		if (ph_addr_isset(&ips[i]))
			s->ips[leg][s->nips[leg]++] = ips[i];
	if (media && ph_addr_isset(media))
		s->media[leg] = *media;
	s->relatch[leg] |= relatch;
	s->dirty |= leg ? DIRTY_LEG1 : DIRTY_LEG0;
	kick(s);
	return 0;
}

static int ng_touch(struct relayctl *r, uint64_t id)
{
	struct ngs *s = find((struct ngrc *)r, id);

	if (!s || s->lost)
		return ENOENT;
	s->dirty |= DIRTY_QUERY | DIRTY_TOUCH;
	kick(s);
	return 0;
}

/* What the last query said; a new one is asked for. */
static int ng_stats(struct relayctl *r, uint64_t id, struct ph_relay_stats *st)
{
	struct ngs *s = find((struct ngrc *)r, id);

	if (!s || s->lost)
		return ENOENT;
	*st = s->st;
	st->age_ms = stunsock_now_ms() - s->born_ms;
	s->dirty |= DIRTY_QUERY;
	kick(s);
	return 0;
}

static int ng_free(struct relayctl *r, uint64_t id, struct ph_relay_stats *st)
{
	struct ngs *s = find((struct ngrc *)r, id);

	if (!s)
		return ENOENT;
	if (st) {
		*st = s->st;
		st->age_ms = stunsock_now_ms() - s->born_ms;
	}
	s->freed = true;
	if (s->lost && !s->busy)
		stream_forget(s);
	else
		kick(s);
	return 0;
}

/* pinholed stops: every stream's delete leaves now, unanswered. */
static void ng_destroy(struct relayctl *r)
{
	struct ngrc *rc = (struct ngrc *)r;

	for (unsigned b = 0; b < BUCKETS; b++)
		while (rc->bucket[b]) {
			struct ngs *s = rc->bucket[b];
			char buf[256];
			struct bbuf w;

			bbuf_init(&w, buf, sizeof buf);
			msg_simple(s, "delete", false, &w);
			if (!s->lost && !ngc_dead(rc->c, s->relay) && !w.err)
				ngc_send(rc->c, s->relay, buf, w.len, "delete", NULL, NULL);
			rc->bucket[b] = s->next;
			free(s);
		}
	ngc_free(rc->c);
	free(rc);
}

static const struct relayctl_ops ng_ops = {
	"ng", ng_alloc, ng_expect, ng_touch, ng_stats, ng_free, ng_destroy,
	NULL, NULL, /* face: per relay; adopt: the relays keep their own */
};

int relayctl_ng_alloc(struct relayctl **rp, const struct pconf *conf,
		      struct su_root_s *root)
{
	struct ngrc *rc = calloc(1, sizeof *rc);
	int err;

	if (!rc)
		return ENOMEM;
	rc->base.ops = &ng_ops;
	snprintf(rc->prefix, sizeof rc->prefix, "pinholed-%lx-%x",
		 (unsigned long)time(NULL), (unsigned)getpid());
	if ((err = ngc_alloc(&rc->c, root, conf->relay_ng, conf->n_relay_ng))) {
		free(rc);
		return err;
	}
	log_info("relay: %u relay(s) over ng, the first %s", conf->n_relay_ng,
		 ngc_name(rc->c, 0));
	*rp = &rc->base;
	return 0;
}
