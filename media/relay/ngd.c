/* ng commands over the relay engine (ngd.h). A call is its Call-ID, the
 * two tags that name its legs (leg 0: the offerer's from-tag, leg 1: the
 * other party's tag) and one relay stream per m= line; each leg is told
 * the port of the other's, which is where it sends. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pinhole/media.h"
#include "bencode.h"
#include "ngd.h"
#include "ngsdp.h"

#define BUCKETS 4096
#define ID_MAX 256
#define TAG_MAX 128
#define SDP_MAX 8192
#define COOKIE_MAX 64

struct ngcall {
	struct ngcall *next;
	char id[ID_MAX];
	char tag[2][TAG_MAX];          /* "" while unknown */
	unsigned n;                    /* m= lines seen */
	bool live[NGSDP_MAX_MEDIA];    /* a stream holds ports */
	uint64_t sid[NGSDP_MAX_MEDIA];
	struct ph_addr port[NGSDP_MAX_MEDIA][2]; /* where leg l sends */
	struct ph_addr media[NGSDP_MAX_MEDIA][2]; /* each leg's SDP address */
	time_t born;                   /* wall clock: query's "created" */
};

struct ngd {
	struct ph_relay *r;
	struct ph_addr adv;
	struct ph_addr allow[NGD_ALLOW];
	unsigned n_allow;
	unsigned n;
	struct ngcall *bucket[BUCKETS];
};

/* What a request asks, read once. */
struct req {
	struct benc d;
	const char *id, *from, *to;
	size_t id_len, from_len, to_len;
};

int ngd_alloc(struct ngd **dp, struct ph_relay *r,
	      const struct ph_addr *advertise)
{
	struct ngd *d = calloc(1, sizeof *d);

	if (!d)
		return ENOMEM;
	d->r = r;
	d->adv = *advertise;
	*dp = d;
	return 0;
}

int ngd_allow(struct ngd *d, const struct ph_addr *ip)
{
	if (d->n_allow == NGD_ALLOW)
		return ENOSPC;
	d->allow[d->n_allow++] = *ip;
	return 0;
}

static bool allowed(const struct ngd *d, const struct ph_addr *src)
{
	for (unsigned i = 0; i < d->n_allow; i++)
		if (ph_addr_ip_eq(&d->allow[i], src))
			return true;
	return !d->n_allow;
}

static void call_free(struct ngd *d, struct ngcall *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->live[i])
			ph_relay_free(d->r, c->sid[i], NULL);
	free(c);
}

void ngd_free(struct ngd *d)
{
	if (!d)
		return;
	for (unsigned b = 0; b < BUCKETS; b++)
		while (d->bucket[b]) {
			struct ngcall *c = d->bucket[b];
			d->bucket[b] = c->next;
			call_free(d, c);
		}
	free(d);
}

unsigned ngd_count(const struct ngd *d)
{
	return d->n;
}

static unsigned hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h % BUCKETS;
}

static struct ngcall **find(struct ngd *d, const char *id, size_t n)
{
	struct ngcall **pp = &d->bucket[hash(id, n)];

	for (; *pp; pp = &(*pp)->next)
		if (strlen((*pp)->id) == n && !memcmp((*pp)->id, id, n))
			return pp;
	return pp;
}

static bool tag_is(const char *tag, const char *s, size_t n)
{
	return strlen(tag) == n && !memcmp(tag, s, n);
}

static void tag_set(char *tag, const char *s, size_t n)
{
	memcpy(tag, s, n);
	tag[n] = '\0';
}

/* ---- replies ----------------------------------------------------------- */

static void error_reply(struct bbuf *w, const char *why)
{
	benc_raw(w, "d", 1);
	benc_kv(w, "result", "error");
	benc_kv(w, "error-reason", why);
	benc_raw(w, "e", 1);
}

static void addr_dict(struct bbuf *w, const char *key, const struct ph_addr *a)
{
	char ip[PH_ADDR_STRLEN] = "";

	if (ph_addr_isset(a))
		ph_addr_ip_print(a, ip, sizeof ip);
	benc_cstr(w, key);
	benc_raw(w, "d", 1);
	benc_kv(w, "address", ip);
	benc_kv(w, "family", ph_addr_af(a) == AF_INET6 ? "IPv6" : "IPv4");
	benc_ki(w, "port", ph_addr_port(a));
	benc_raw(w, "e", 1);
}

/* rtpengine's query shape: per tag, per m= line, a stream with its
 * endpoint (the latched source) and what it received; pinhole adds what
 * its latching dropped. */
static void leg_stats(struct ngd *d, const struct ngcall *c, unsigned leg,
		      struct bbuf *w, uint64_t tot[2])
{
	benc_cstr(w, c->tag[leg]);
	benc_raw(w, "d", 1);
	benc_cstr(w, "medias");
	benc_raw(w, "l", 1);
	for (unsigned i = 0; i < c->n; i++) {
		struct ph_relay_stats st;
		const struct ph_relay_leg_stats *l = &st.leg[leg];

		if (!c->live[i] || ph_relay_stats(d->r, c->sid[i], &st))
			continue;
		tot[0] += l->rx;
		tot[1] += l->rx_bytes;
		benc_raw(w, "d", 1);
		benc_ki(w, "index", i + 1);
		benc_cstr(w, "streams");
		benc_raw(w, "ld", 2);
		addr_dict(w, "endpoint", &l->from);
		benc_ki(w, "local port", ph_addr_port(&c->port[i][leg]));
		benc_cstr(w, "pinhole");
		benc_raw(w, "d", 1);
		benc_ki(w, "foreign", (int64_t)l->foreign);
		benc_ki(w, "relatched", (int64_t)l->relatched);
		benc_ki(w, "sent", (int64_t)l->tx);
		benc_ki(w, "unlatched", (int64_t)l->unlatched);
		benc_raw(w, "e", 1);
		benc_cstr(w, "stats");
		benc_raw(w, "d", 1);
		benc_ki(w, "bytes", (int64_t)l->rx_bytes);
		benc_ki(w, "errors", 0);
		benc_ki(w, "packets", (int64_t)l->rx);
		benc_raw(w, "eee", 3);
		benc_raw(w, "e", 1);
	}
	benc_raw(w, "e", 1);
	benc_kv(w, "tag", c->tag[leg]);
	benc_raw(w, "e", 1);
}

static void stats_reply(struct ngd *d, const struct ngcall *c, struct bbuf *w)
{
	uint64_t tot[2] = {0, 0};

	benc_raw(w, "d", 1);
	benc_ki(w, "created", (int64_t)c->born);
	benc_kv(w, "result", "ok");
	benc_cstr(w, "tags");
	benc_raw(w, "d", 1);
	for (unsigned l = 0; l < 2; l++)
		if (c->tag[l][0])
			leg_stats(d, c, l, w, tot);
	benc_raw(w, "e", 1);
	benc_cstr(w, "totals");
	benc_raw(w, "d", 1);
	benc_cstr(w, "RTP");
	benc_raw(w, "d", 1);
	benc_ki(w, "bytes", (int64_t)tot[1]);
	benc_ki(w, "errors", 0);
	benc_ki(w, "packets", (int64_t)tot[0]);
	benc_raw(w, "eee", 3);
}

/* ---- offer and answer -------------------------------------------------- */

/* Where leg `leg` of stream i may send from: pinhole-expect's IPs when
 * the controller knows them (pinholed: the SIP source, the registered
 * window host, the window), else the SDP's and received-from's. */
static unsigned expected(const struct req *q, const struct ph_addr *media,
			 struct ph_addr *ips)
{
	struct benc l, it = {0};
	const char *s;
	size_t n;
	unsigned k = 0;

	if (!benc_get(&q->d, "pinhole-expect", &l)) {
		while (!benc_next(&l, &it) && k < PH_RELAY_MAX_EXPECT)
			if (!benc_str(&it, &s, &n) && !ph_addr_set_n(&ips[k], s, n, 0))
				k++;
		return k;
	}
	if (ph_addr_isset(media) && !ngsdp_unspecified(media))
		ips[k++] = *media;
	/* received-from: ["IP4", "203.0.113.7"], the signalling's source */
	if (!benc_get(&q->d, "received-from", &l) && benc_is_list(&l) &&
	    !benc_next(&l, &it) && !benc_next(&l, &it) &&
	    !benc_str(&it, &s, &n) && !ph_addr_set_n(&ips[k], s, n, 0))
		k++;
	return k;
}

static bool flag(const struct req *q, const char *key, const char *value)
{
	struct benc v;
	int64_t i;

	if (benc_get(&q->d, key, &v))
		return false;
	if (!value)
		return !benc_int(&v, &i) ? i != 0 : benc_str_eq(&v, "yes");
	return benc_has(&v, value);
}

/* Stream i (its ports taken on first use): leg `leg` is at its SDP
 * address now. A leg that moved from one address to another (not from
 * the placeholder of a leg not known yet) latches anew. */
static int stream_set(struct ngd *d, struct ngcall *c, const struct req *q,
		      unsigned i, unsigned leg, const struct ph_addr *media)
{
	struct ph_addr ips[PH_RELAY_MAX_EXPECT];
	unsigned n;
	bool relatch;
	int err;

	if (!c->live[i]) {
		if ((err = ph_relay_alloc(d->r, &c->sid[i], c->port[i])))
			return err;
		c->live[i] = true;
	}
	n = expected(q, media, ips);
	relatch = flag(q, "pinhole-relatch", NULL) ||
		  (ph_addr_isset(&c->media[i][leg]) &&
		   !ngsdp_unspecified(&c->media[i][leg]) &&
		   !ph_addr_eq(&c->media[i][leg], media));
	c->media[i][leg] = *media;
	return ph_relay_expect(d->r, c->sid[i], leg, ips, n,
			       ngsdp_unspecified(media) ? NULL : media, relatch);
}

static void sdp_reply(struct ngd *d, struct ngcall *c, const struct req *q,
		      unsigned leg, const char *sdp, size_t len, struct bbuf *w)
{
	uint16_t ports[NGSDP_MAX_MEDIA] = {0};
	char out[SDP_MAX];
	size_t olen;

	for (unsigned i = 0; i < c->n; i++)
		if (c->live[i])
			ports[i] = ph_addr_port(&c->port[i][!leg]);
	if (ngsdp_write(sdp, len, &d->adv, ports, c->n,
			flag(q, "replace", "origin"), out, sizeof out, &olen)) {
		error_reply(w, "SDP too large");
		return;
	}
	benc_raw(w, "d", 1);
	benc_kv(w, "result", "ok");
	benc_cstr(w, "sdp");
	benc_strn(w, out, olen);
	benc_raw(w, "e", 1);
}

/* The leg whose SDP this is (the offer's from-tag, the answer's to-tag):
 * the first offerer's is leg 0, any other leg 1 (a new to-tag: the branch
 * that answered takes it over). */
static unsigned leg_of(struct ngcall *c, const char *tag, size_t n)
{
	if (!c->tag[0][0] || tag_is(c->tag[0], tag, n)) {
		tag_set(c->tag[0], tag, n);
		return 0;
	}
	tag_set(c->tag[1], tag, n);
	return 1;
}

static void offer_answer(struct ngd *d, const struct req *q, bool answer,
			 struct bbuf *w)
{
	struct ph_addr media[NGSDP_MAX_MEDIA];
	const char *sdp, *tag = answer ? q->to : q->from;
	size_t len, tlen = answer ? q->to_len : q->from_len;
	struct ngcall **pp, *c;
	unsigned n, leg;
	int err = 0;

	if (!tag || benc_get_str(&q->d, "sdp", &sdp, &len)) {
		error_reply(w, answer ? "Missing to-tag or SDP" : "Missing from-tag or SDP");
		return;
	}
	if (ngsdp_read(sdp, len, media, NGSDP_MAX_MEDIA, &n)) {
		error_reply(w, "Failed to parse SDP");
		return;
	}
	pp = find(d, q->id, q->id_len);
	if (!(c = *pp) && answer) {
		error_reply(w, "Unknown call-id");
		return;
	}
	if (!c) {
		if (!(c = calloc(1, sizeof *c))) {
			error_reply(w, "Out of memory");
			return;
		}
		tag_set(c->id, q->id, q->id_len);
		c->born = time(NULL);
		*pp = c;
		d->n++;
	}
	leg = leg_of(c, tag, tlen);
	for (unsigned i = 0; i < n && !err; i++)
		if (ph_addr_port(&media[i]))
			err = stream_set(d, c, q, i, leg, &media[i]);
	if (n > c->n)
		c->n = n;
	if (err)
		error_reply(w, err == EBUSY ? "Ran out of ports" : strerror(err));
	else
		sdp_reply(d, c, q, leg, sdp, len, w);
}

/* ---- requests ---------------------------------------------------------- */

static void command(struct ngd *d, struct req *q, struct bbuf *w)
{
	struct ngcall **pp;
	const char *cmd;
	size_t n;

	if (benc_get_str(&q->d, "command", &cmd, &n)) {
		error_reply(w, "No command given");
		return;
	}
	if (n == 4 && !memcmp(cmd, "ping", 4)) {
		/* "pinhole": pinholed then sends the pinhole-* keys */
		benc_raw(w, "d", 1);
		benc_kv(w, "pinhole", PACKAGE_VERSION);
		benc_kv(w, "result", "pong");
		benc_raw(w, "e", 1);
		return;
	}
	benc_get_str(&q->d, "from-tag", &q->from, &q->from_len);
	benc_get_str(&q->d, "to-tag", &q->to, &q->to_len);
	if (benc_get_str(&q->d, "call-id", &q->id, &q->id_len) ||
	    !q->id_len || q->id_len >= ID_MAX ||
	    (q->from && q->from_len >= TAG_MAX) || (q->to && q->to_len >= TAG_MAX)) {
		error_reply(w, "No call-id, or a call-id or tag too long");
		return;
	}
	pp = find(d, q->id, q->id_len);
	if ((n == 5 && !memcmp(cmd, "offer", 5)) ||
	    (n == 6 && !memcmp(cmd, "answer", 6)))
		offer_answer(d, q, n == 6, w);
	else if (!*pp && ((n == 6 && !memcmp(cmd, "delete", 6)) ||
			  (n == 5 && !memcmp(cmd, "query", 5))))
		error_reply(w, "Unknown call-id");
	else if (n == 6 && !memcmp(cmd, "delete", 6)) {
		struct ngcall *c = *pp;
		stats_reply(d, c, w);
		*pp = c->next;
		d->n--;
		call_free(d, c);
	} else if (n == 5 && !memcmp(cmd, "query", 5)) {
		/* pinhole-touch: a call still ringing is not idle */
		for (unsigned i = 0; flag(q, "pinhole-touch", NULL) && i < (*pp)->n; i++)
			if ((*pp)->live[i])
				ph_relay_touch(d->r, (*pp)->sid[i]);
		stats_reply(d, *pp, w);
	} else
		error_reply(w, "Unrecognized command");
}

void ngd_request(struct ngd *d, const struct ph_addr *src, const char *in,
		 size_t len, char *out, size_t size, size_t *outlen)
{
	const char *sp = memchr(in, ' ', len < COOKIE_MAX ? len : COOKIE_MAX);
	struct req q;
	struct bbuf w;
	size_t k;

	*outlen = 0;
	if (!sp || sp == in || (size_t)(sp - in) + 1 >= size || !allowed(d, src))
		return;
	k = (size_t)(sp - in) + 1;
	memset(&q, 0, sizeof q);
	bbuf_init(&w, out, size);
	benc_raw(&w, in, k);
	if (benc_parse(&q.d, sp + 1, len - k) || !benc_is_dict(&q.d))
		error_reply(&w, "Could not decode dictionary");
	else
		command(d, &q, &w);
	if (w.err) { /* what did not fit: say so instead */
		bbuf_init(&w, out, size);
		benc_raw(&w, in, k);
		error_reply(&w, "Reply too large");
	}
	*outlen = w.err ? 0 : w.len;
}

void ngd_sweep(struct ngd *d)
{
	for (unsigned b = 0; b < BUCKETS; b++)
		for (struct ngcall **pp = &d->bucket[b]; *pp;) {
			struct ngcall *c = *pp;
			struct ph_relay_stats st;
			bool live = false;

			for (unsigned i = 0; i < c->n; i++) {
				if (c->live[i] && ph_relay_stats(d->r, c->sid[i], &st))
					c->live[i] = false;
				live |= c->live[i];
			}
			if (live) {
				pp = &c->next;
				continue;
			}
			*pp = c->next;
			d->n--;
			free(c);
		}
}
