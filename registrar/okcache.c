/* okcache.h: a chained hash table over entries that are kept in the order
 * they came, so that those past their time go from the oldest end. The
 * entries live in chunks of their own, mapped from the kernel and given
 * back whole once their last entry has gone: kept 32 s among the heap's
 * short-lived blocks, each would pin its page there and keep the heap
 * from shrinking after a load (sipd.c's give_back_memory()). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "okcache.h"

#define BUCKETS 16384          /* a power of 2; 128 KiB of heads */
#define CHUNK (256 * 1024)     /* some 500 entries */
#define KEY_MAX 512

struct okent {
	struct okent *chain, *younger;
	uint64_t expires_ms;
	const char *punch, *body;
	char key[]; /* "cseq to-tag call-id", then punch, then body */
};

struct chunk {
	struct chunk *younger;
	size_t used;      /* bytes from the start, this header included */
	struct okent *last;
};

struct okcache {
	struct okent *bucket[BUCKETS];
	struct okent *oldest, *newest;
	struct chunk *first, *last;
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
	struct chunk *k, *next;

	if (!c)
		return;
	for (k = c->first; k; k = next) {
		next = k->younger;
		munmap(k, CHUNK);
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

/* Room for size bytes (aligned) after the newest entry. */
static void *room(struct okcache *c, size_t size)
{
	struct chunk *k = c->last;

	size = (size + 15) & ~(size_t)15;
	if (!k || k->used + size > CHUNK) {
		void *m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		k = m;
		k->younger = NULL;
		k->used = (sizeof *k + 15) & ~(size_t)15;
		k->last = NULL;
		if (c->last)
			c->last->younger = k;
		else
			c->first = k;
		c->last = k;
	}
	k->used += size;
	return (char *)k + k->used - size;
}

static void drop_oldest(struct okcache *c)
{
	struct okent *e = c->oldest, **pp = &c->bucket[hash(e->key)];
	struct chunk *k = c->first;

	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	c->oldest = e->younger;
	if (!c->oldest)
		c->newest = NULL;
	c->n--;
	/* the chunk's last entry gone: so are all before it */
	if (k->last == e) {
		c->first = k->younger;
		if (!c->first)
			c->last = NULL;
		munmap(k, CHUNK);
	}
}

void okcache_expire(struct okcache *c, uint64_t now_ms)
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
	char key[KEY_MAX];
	size_t kl, pl = strlen(punch) + 1, bl = strlen(body) + 1, size;
	struct okent *e;
	uint32_t h;
	int err;

	if ((err = make_key(key, sizeof key, call_id, cseq, to_tag)))
		return err;
	kl = strlen(key) + 1;
	size = sizeof *e + kl + pl + bl;
	if (size > CHUNK / 4)
		return EMSGSIZE;
	okcache_expire(c, now_ms);
	if (!(e = room(c, size)))
		return ENOMEM;
	memcpy(e->key, key, kl);
	e->punch = memcpy(e->key + kl, punch, pl);
	e->body = memcpy(e->key + kl + pl, body, bl);
	e->expires_ms = now_ms + OKCACHE_TTL_MS;
	e->younger = NULL;
	c->last->last = e;
	h = hash(key);
	e->chain = c->bucket[h];
	c->bucket[h] = e;
	if (c->newest)
		c->newest->younger = e;
	else
		c->oldest = e;
	c->newest = e;
	c->n++;
	okcache_expire(c, now_ms);
	return 0;
}

int okcache_get(struct okcache *c, const char *call_id, uint32_t cseq,
		const char *to_tag, uint64_t now_ms, const char **punch,
		const char **body)
{
	char key[KEY_MAX];
	const struct okent *e;

	okcache_expire(c, now_ms);
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
