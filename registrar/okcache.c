/* okcache.h: a chained hash table over the entries, which also form a
 * list from the oldest, so that those past their time go from its head. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "okcache.h"

#define BUCKETS 16384 /* a power of 2; 128 KiB of heads */

struct okent {
	struct okent *chain, *younger;
	uint64_t expires_ms;
	const char *punch, *body;
	char key[]; /* "cseq to-tag call-id", then punch, then body */
};

struct okcache {
	struct okent *bucket[BUCKETS];
	struct okent *oldest, *newest;
	size_t n, max;
};

int okcache_alloc(struct okcache **cp, size_t max)
{
	struct okcache *c = calloc(1, sizeof *c);

	if (!c)
		return ENOMEM;
	c->max = max ? max : 1;
	*cp = c;
	return 0;
}

void okcache_free(struct okcache *c)
{
	struct okent *e, *next;

	if (!c)
		return;
	for (e = c->oldest; e; e = next) {
		next = e->younger;
		free(e);
	}
	free(c);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & (BUCKETS - 1);
}

static void drop_oldest(struct okcache *c)
{
	struct okent *e = c->oldest, **pp = &c->bucket[hash(e->key)];

	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	c->oldest = e->younger;
	if (!c->oldest)
		c->newest = NULL;
	c->n--;
	free(e);
}

static void expire(struct okcache *c, uint64_t now_ms)
{
	while (c->oldest && (c->oldest->expires_ms <= now_ms || c->n > c->max))
		drop_oldest(c);
}

static int make_key(char *buf, size_t size, const char *call_id,
		    uint32_t cseq, const char *to_tag)
{
	int n = snprintf(buf, size, "%u %s %s", cseq, to_tag ? to_tag : "",
			 call_id);

	return n < 0 ? EINVAL : (size_t)n >= size ? ENAMETOOLONG : 0;
}

int okcache_put(struct okcache *c, const char *call_id, uint32_t cseq,
		const char *to_tag, const char *punch, const char *body,
		uint64_t now_ms)
{
	char key[512];
	size_t kl, pl = strlen(punch) + 1, bl = strlen(body) + 1;
	struct okent *e;
	uint32_t h;
	int err;

	if ((err = make_key(key, sizeof key, call_id, cseq, to_tag)))
		return err;
	kl = strlen(key) + 1;
	if (!(e = malloc(sizeof *e + kl + pl + bl)))
		return ENOMEM;
	memcpy(e->key, key, kl);
	e->punch = memcpy(e->key + kl, punch, pl);
	e->body = memcpy(e->key + kl + pl, body, bl);
	e->expires_ms = now_ms + OKCACHE_TTL_MS;
	e->younger = NULL;
	h = hash(key);
	e->chain = c->bucket[h];
	c->bucket[h] = e;
	if (c->newest)
		c->newest->younger = e;
	else
		c->oldest = e;
	c->newest = e;
	c->n++;
	expire(c, now_ms);
	return 0;
}

int okcache_get(struct okcache *c, const char *call_id, uint32_t cseq,
		const char *to_tag, uint64_t now_ms, const char **punch,
		const char **body)
{
	char key[512];
	const struct okent *e;

	expire(c, now_ms);
	if (make_key(key, sizeof key, call_id, cseq, to_tag))
		return ENOENT;
	for (e = c->bucket[hash(key)]; e; e = e->chain)
		if (!strcmp(e->key, key)) {
			*punch = e->punch;
			*body = e->body;
			return 0;
		}
	return ENOENT;
}

size_t okcache_count(const struct okcache *c)
{
	return c->n;
}
