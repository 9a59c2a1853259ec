/* Relayed calls kept across a restart (PROTOCOL.md section 6): with
 * store = file, an answered call's relay reservation (its ports, what
 * each leg may send from, its SDP address and latched source, the call's
 * route and quota) is a record of the store beside the bindings, under
 * "#call " and its Call-ID; the next pinholed binds the same ports again
 * and forwards as before, so the call's media goes on.
 *
 * The record is written behind (nobody waits for it): when the call is
 * answered or its SDP changes, when a leg latches somewhere else, and
 * while media flows at least every relay_idle / 2 (its "seen" time,
 * which tells the next start whether the call went idle meanwhile); it
 * is deleted when the call ends. A kill -9 loses only what the writer
 * had not committed yet, a few milliseconds' worth. The record is one
 * line of text: version, seen (wall clock), route, streams, quota source
 * and AoR, then per stream its two ports and per leg its SDP address,
 * latched source and expected addresses; "-" for none. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pinhole/media.h>

#include "call_int.h"
#include "log.h"
#include "store.h"

#define KEEP_VERSION 1
#define KEEP_KEY "#call "
#define KEEP_MAX 8192

static int key_of(const char *call_id, char *buf, size_t size)
{
	int n = snprintf(buf, size, KEEP_KEY "%s", call_id);

	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* ---- the record -------------------------------------------------------- */

static void put(char *buf, size_t *len, const char *fmt, const char *s)
{
	int n;

	if (*len >= KEEP_MAX)
		return;
	n = snprintf(buf + *len, KEEP_MAX - *len, fmt, s);
	*len = n < 0 ? KEEP_MAX : *len + (size_t)n;
}

static void put_addr(char *buf, size_t *len, const struct ph_addr *a)
{
	char s[PH_ADDR_STRLEN] = "-";

	if (ph_addr_isset(a))
		ph_addr_print(a, s, sizeof s);
	put(buf, len, " %s", s);
}

static int encode(const struct call *c, time_t seen, char *buf, size_t *lenp)
{
	char head[64], num[16];
	size_t len = 0;

	snprintf(head, sizeof head, "%d %" PRId64 " %d %u", KEEP_VERSION,
		 (int64_t)seen, (int)c->route, c->g.n);
	put(buf, &len, "%s", head);
	put_addr(buf, &len, &c->quota_src);
	put(buf, &len, " %s", c->quota_aor ? c->quota_aor : "-");
	for (unsigned i = 0; i < c->g.n; i++) {
		put_addr(buf, &len, &c->g.port[i][0]);
		put_addr(buf, &len, &c->g.port[i][1]);
		for (unsigned l = 0; l < 2; l++) {
			put_addr(buf, &len, &c->media[i][l]);
			put_addr(buf, &len, &c->latched[i][l]);
			snprintf(num, sizeof num, "%u", c->nexp[i][l]);
			put(buf, &len, " %s", num);
			for (unsigned x = 0; x < c->nexp[i][l]; x++)
				put_addr(buf, &len, &c->exp[i][l][x]);
		}
	}
	*lenp = len;
	return len < KEEP_MAX ? 0 : E2BIG;
}

struct kept_call {
	time_t seen;
	int route;
	struct relay_grant g;
	struct ph_addr src;
	char aor[256];
	struct ph_addr media[RELAYCTL_MAX_STREAMS][2];
	struct ph_addr latched[RELAYCTL_MAX_STREAMS][2];
	struct ph_addr exp[RELAYCTL_MAX_STREAMS][2][PH_RELAY_MAX_EXPECT];
	unsigned nexp[RELAYCTL_MAX_STREAMS][2];
};

static const char *token(char **save)
{
	return strtok_r(NULL, " ", save);
}

static int get_addr(char **save, struct ph_addr *a)
{
	const char *t = token(save);

	memset(a, 0, sizeof *a);
	if (!t)
		return EBADMSG;
	if (!strcmp(t, "-"))
		return 0;
	return ph_addr_parse(a, t, strlen(t), 0) ? EBADMSG : 0;
}

static int get_uint(char **save, unsigned max, unsigned *v)
{
	const char *t = token(save);
	char *end;
	unsigned long n = t ? strtoul(t, &end, 10) : 0;

	if (!t || *end || n > max)
		return EBADMSG;
	*v = (unsigned)n;
	return 0;
}

static int decode_stream(char **save, struct kept_call *k, unsigned i)
{
	int err = get_addr(save, &k->g.port[i][0]);

	if (!err)
		err = get_addr(save, &k->g.port[i][1]);
	for (unsigned l = 0; l < 2 && !err; l++) {
		err = get_addr(save, &k->media[i][l]);
		if (!err)
			err = get_addr(save, &k->latched[i][l]);
		if (!err)
			err = get_uint(save, PH_RELAY_MAX_EXPECT, &k->nexp[i][l]);
		for (unsigned x = 0; x < k->nexp[i][l] && !err; x++)
			err = get_addr(save, &k->exp[i][l][x]);
	}
	if (!err && (!ph_addr_port(&k->g.port[i][0]) ||
		     !ph_addr_port(&k->g.port[i][1])))
		err = EBADMSG;
	return err;
}

static int decode(const void *val, size_t len, struct kept_call *k)
{
	char *buf = malloc(len + 1), *save = NULL;
	const char *t, *aor;
	unsigned route = 0;
	int err = buf ? 0 : ENOMEM;

	memset(k, 0, sizeof *k);
	if (err)
		return err;
	memcpy(buf, val, len);
	buf[len] = '\0';
	t = strtok_r(buf, " ", &save);
	if (!t || strtoul(t, NULL, 10) != KEEP_VERSION || !(t = token(&save)))
		err = EBADMSG;
	else
		k->seen = (time_t)strtoll(t, NULL, 10);
	if (!err)
		err = get_uint(&save, ROUTE_LOCAL, &route);
	if (!err)
		err = get_uint(&save, RELAYCTL_MAX_STREAMS, &k->g.n);
	if (!err && !k->g.n)
		err = EBADMSG;
	if (!err)
		err = get_addr(&save, &k->src);
	if (!err && (!(aor = token(&save)) || strlen(aor) >= sizeof k->aor))
		err = EBADMSG;
	else if (!err && strcmp(aor, "-"))
		strcpy(k->aor, aor);
	for (unsigned i = 0; i < k->g.n && !err; i++)
		err = decode_stream(&save, k, i);
	k->route = (int)route;
	free(buf);
	return err;
}

/* ---- writing ----------------------------------------------------------- */

static uint64_t rx_of(const struct call *c)
{
	uint64_t rx = 0;

	for (unsigned i = 0; i < c->g.n; i++)
		rx += c->last[i].leg[0].rx + c->last[i].leg[1].rx;
	return rx;
}

void call_keep(struct call *c)
{
	char key[STORE_KEEP_KEY_MAX], buf[KEEP_MAX];
	size_t len;
	int err;

	if (!c->cs->keep || !c->g.n || !c->answered || !c->listed)
		return;
	for (unsigned i = 0; i < c->g.n; i++)
		for (unsigned l = 0; l < 2; l++) {
			const struct ph_relay_leg_stats *st = &c->last[i].leg[l];

			if (st->latched)
				c->latched[i][l] = st->from;
		}
	err = key_of(c->call_id, key, sizeof key);
	if (!err)
		err = encode(c, time(NULL), buf, &len);
	if (!err)
		err = store_keep(c->cs->store, key, buf, len);
	if (err) {
		log_warn("call %s: its relay reservation cannot be kept in the "
			 "store (%s): a restart ends its media", c->call_id,
			 strerror(err));
		return;
	}
	c->kept = true;
	c->kept_ms = ph_now_ms();
	c->kept_rx = rx_of(c);
}

/* After calls_tick() read the streams' counters: written again when a
 * leg latched somewhere else, or its "seen" time is half an idle period
 * old while media still flows. */
void call_keep_tick(struct call *c)
{
	uint64_t refresh = (uint64_t)c->cs->idle_s * 1000 / 2;
	bool moved = false;

	if (!c->kept)
		return;
	for (unsigned i = 0; i < c->g.n; i++)
		for (unsigned l = 0; l < 2; l++) {
			const struct ph_relay_leg_stats *st = &c->last[i].leg[l];

			if (st->latched && !ph_addr_eq(&st->from, &c->latched[i][l]))
				moved = true;
		}
	if (moved || (rx_of(c) != c->kept_rx &&
		      ph_now_ms() - c->kept_ms >= refresh))
		call_keep(c);
}

void call_unkeep(struct call *c)
{
	char key[STORE_KEEP_KEY_MAX];

	if (!c->kept)
		return;
	c->kept = false;
	if (!key_of(c->call_id, key, sizeof key))
		store_keep(c->cs->store, key, NULL, 0);
}

/* ---- at start ---------------------------------------------------------- */

struct restore {
	struct calls *cs;
	unsigned resumed, dropped;
};

static void drop(struct restore *rs, const char *key, const char *call_id,
		 const char *why)
{
	log_warn("call %s: its relay reservation from before the restart is "
		 "dropped: %s", call_id, why);
	store_keep(rs->cs->store, key, NULL, 0);
	rs->dropped++;
}

/* The streams back on their ports, as the relay knew them. */
static int adopt(struct calls *cs, const char *call_id, struct kept_call *k)
{
	struct relayctl *r = cs->relay;
	int err = 0;
	unsigned i;

	for (i = 0; i < k->g.n && !err; i++)
		if ((err = r->ops->adopt(r, k->g.port[i], k->latched[i],
					 &k->g.id[i]))) {
			log_warn("call %s: relay ports %u and %u cannot be bound "
				 "again: %s", call_id,
				 ph_addr_port(&k->g.port[i][0]),
				 ph_addr_port(&k->g.port[i][1]), strerror(err));
			break;
		}
	if (err)
		while (i)
			r->ops->free(r, k->g.id[--i], NULL);
	return err;
}

static void resume(struct calls *cs, const char *call_id, struct kept_call *k)
{
	struct call *c;
	char a[PH_ADDR_STRLEN], b[PH_ADDR_STRLEN];

	if (calls_add(cs, call_id, &c)) {
		for (unsigned i = 0; i < k->g.n; i++)
			cs->relay->ops->free(cs->relay, k->g.id[i], NULL);
		return;
	}
	c->g = k->g;
	c->relay_err = 0;
	c->answered = true;
	c->route = (enum route_kind)k->route;
	memcpy(c->media, k->media, sizeof c->media);
	/* admitted before: counted again whatever the limits say now */
	if (ph_addr_isset(&k->src))
		call_quota_take(c, *k->aor ? k->aor : NULL, &k->src, k->g.n);
	for (unsigned i = 0; i < k->g.n; i++)
		for (unsigned l = 0; l < 2; l++) {
			const struct ph_addr *m = &k->media[i][l];

			call_relay_expect(c, i, l, k->exp[i][l], k->nexp[i][l],
					  ph_addr_isset(m) ? m : NULL, false);
			c->last[i].leg[l].latched = ph_addr_isset(&k->latched[i][l]);
			c->last[i].leg[l].from = k->latched[i][l];
		}
	call_keep(c); /* its seen time: now */
	memset(c->last, 0, sizeof c->last); /* counters from this start on */
	ph_addr_print(&c->g.port[0][0], a, sizeof a);
	ph_addr_print(&c->g.port[0][1], b, sizeof b);
	log_notice("call %s: relayed media resumed after the restart: %u "
		   "stream(s), relay %s %s", call_id, c->g.n, a, b);
}

static void restore_one(const char *key, const void *val, size_t len,
			void *arg)
{
	struct restore *rs = arg;
	struct calls *cs = rs->cs;
	const char *call_id = key + strlen(KEEP_KEY);
	struct kept_call k;
	time_t age;

	if (strncmp(key, KEEP_KEY, strlen(KEEP_KEY)))
		return; /* not ours */
	if (decode(val, len, &k))
		return drop(rs, key, call_id, "its record cannot be read");
	age = time(NULL) - k.seen;
	if (!cs->keep)
		return drop(rs, key, call_id, "no relay in pinholed now");
	if (age > (time_t)(cs->idle_s + cs->idle_s / 2))
		return drop(rs, key, call_id, "no media for longer than "
			    "relay_idle while pinholed was down");
	if (calls_find(cs, call_id))
		return drop(rs, key, call_id, "a call of that Call-ID is there");
	if (adopt(cs, call_id, &k))
		return drop(rs, key, call_id, "its ports are taken");
	resume(cs, call_id, &k);
	rs->resumed++;
}

void calls_restore(struct calls *cs, unsigned idle_s)
{
	struct restore rs = {cs, 0, 0};

	cs->idle_s = idle_s;
	cs->keep = store_keeps(cs->store) && cs->relay && cs->relay->ops->adopt;
	store_kept_take(cs->store, restore_one, &rs);
	if (rs.resumed || rs.dropped)
		log_notice("calls: %u relayed call(s) resumed from the store, "
			   "%u dropped", rs.resumed, rs.dropped);
}
