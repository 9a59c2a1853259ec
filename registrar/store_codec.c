/* One AoR's contact set as a record on disk: a version byte, the count,
 * then each contact's fields in a fixed order, strings NUL-terminated
 * with their length first, so that decoding points into the record.
 * Decoding checks every length: a damaged file gives EBADMSG, never a
 * read past the record. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

/* 2 adds each contact's node (store = redis); 1 is still read */
#define STORE_VERSION 2
#define NO_STRING 0xffffu

/* Written in one pass, the buffer grown as it fills: measuring first
 * printed every address twice (snprintf), a REGISTER's hottest cost in
 * the codec. */
struct wbuf {
	unsigned char *p;
	size_t len, size;
	bool nomem;
};

static void put_bytes(struct wbuf *w, const void *v, size_t n)
{
	if (!n || w->nomem) /* n == 0: v may be NULL (a string not set) */
		return;
	if (w->size - w->len < n) {
		size_t size = w->size * 2 > w->len + n ? w->size * 2
						       : w->len + n;
		unsigned char *p = realloc(w->p, size);

		if (!p) {
			w->nomem = true;
			return;
		}
		w->p = p;
		w->size = size;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	unsigned char b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put_bytes(w, b, 8);
}

static void put_u16(struct wbuf *w, unsigned v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	put_bytes(w, b, 2);
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n = s ? strlen(s) + 1 : 0;

	put_u16(w, s ? (unsigned)n : NO_STRING);
	put_bytes(w, s, n);
}

static void put_addr(struct wbuf *w, const struct ph_addr *a)
{
	char s[PH_ADDR_STRLEN] = "";

	if (ph_addr_isset(a))
		ph_addr_print(a, s, sizeof s);
	put_str(w, s);
}

static void put_set(struct wbuf *w, const struct loc_contact *v, unsigned n,
		    time_t wall_off)
{
	unsigned char ver = STORE_VERSION;

	put_bytes(w, &ver, 1);
	put_u16(w, n);
	for (unsigned i = 0; i < n; i++) {
		unsigned char t = (unsigned char)v[i].flow.transport;

		put_u64(w, (uint64_t)(int64_t)(v[i].expires + wall_off));
		put_u64(w, v[i].cseq);
		put_u16(w, (unsigned)(uint16_t)v[i].q);
		put_bytes(w, &t, 1);
		put_addr(w, &v[i].flow.src);
		put_addr(w, &v[i].flow.local);
		put_str(w, v[i].uri);
		put_str(w, v[i].call_id);
		put_str(w, v[i].fwwin);
		put_str(w, v[i].node);
	}
}

int store_encode(const struct loc_contact *v, unsigned n, time_t wall_off,
		 unsigned char **bufp, size_t *lenp)
{
	/* one contact's record is about 150 bytes: one allocation, mostly */
	struct wbuf w = {malloc(256), 0, 256, false};

	if (n > STORE_MAX_CONTACTS) {
		free(w.p);
		return EINVAL;
	}
	if (!w.p)
		return ENOMEM;
	put_set(&w, v, n, wall_off);
	if (w.nomem) {
		free(w.p);
		return ENOMEM;
	}
	*bufp = w.p;
	*lenp = w.len;
	return 0;
}

struct rbuf {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static const unsigned char *take(struct rbuf *r, size_t n)
{
	const unsigned char *p = r->p + r->off;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	r->off += n;
	return p;
}

static uint64_t get_u64(struct rbuf *r)
{
	const unsigned char *b = take(r, 8);
	uint64_t v = 0;

	for (unsigned i = 0; b && i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static unsigned get_u16(struct rbuf *r)
{
	const unsigned char *b = take(r, 2);

	return b ? (unsigned)b[0] | (unsigned)b[1] << 8 : 0;
}

/* NULL for an absent string, and on error (r->bad) */
static const char *get_str(struct rbuf *r)
{
	unsigned n = get_u16(r);
	const unsigned char *s;

	if (n == NO_STRING || r->bad)
		return NULL;
	s = take(r, n);
	if (s && (!n || s[n - 1] || strlen((const char *)s) != n - 1))
		r->bad = true;
	return r->bad ? NULL : (const char *)s;
}

static void get_addr(struct rbuf *r, struct ph_addr *a)
{
	const char *s = get_str(r);

	memset(a, 0, sizeof *a);
	if (!s || !*s)
		return;
	if (ph_addr_parse(a, s, strlen(s), 0))
		r->bad = true;
}

static void get_contact(struct rbuf *r, struct loc_contact *c, time_t wall_off,
			unsigned ver)
{
	const unsigned char *t;

	memset(c, 0, sizeof *c);
	c->expires = (time_t)(int64_t)get_u64(r) - wall_off;
	c->cseq = (uint32_t)get_u64(r);
	c->q = (int16_t)get_u16(r);
	t = take(r, 1);
	/* (an unknown value, from a later version: UDP, as before) */
	c->flow.transport = t && (*t == FLOW_TCP || *t == FLOW_TLS)
			    ? (enum flow_transport)*t : FLOW_UDP;
	get_addr(r, &c->flow.src);
	get_addr(r, &c->flow.local);
	c->uri = get_str(r);
	c->call_id = get_str(r);
	if (!c->uri || !c->call_id)
		r->bad = true;
	c->fwwin = get_str(r);
	if (ver >= 2)
		c->node = get_str(r);
}

int store_decode(const unsigned char *buf, size_t len, time_t wall_off,
		 time_t now, struct loc_contact *v, unsigned max, unsigned *np)
{
	struct rbuf r = {buf, len, 0, false};
	const unsigned char *ver = take(&r, 1);
	unsigned n = get_u16(&r), k = 0;

	if (!ver || *ver < 1 || *ver > STORE_VERSION || r.bad)
		return EBADMSG;
	for (unsigned i = 0; i < n; i++) {
		struct loc_contact c;

		get_contact(&r, &c, wall_off, *ver);
		if (r.bad)
			return EBADMSG;
		if (c.expires <= now)
			continue;
		if (k == max)
			return EBADMSG;
		v[k++] = c;
	}
	if (r.off != len)
		return EBADMSG;
	*np = k;
	return 0;
}
