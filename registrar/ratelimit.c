/* Token buckets by keyed hash of the source IP. Tokens are counted in
 * thousandths, so a bucket refills smoothly at any rate. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "countmap.h"
#include "ratelimit.h"

#define SLOTS 65536u  /* 1.5 MiB; a power of two */

struct slot {
	uint64_t last_ms;     /* last refill */
	uint64_t answered_ms; /* last refusal answered */
	uint64_t milli;       /* tokens x 1000 */
};

struct ratelimit {
	unsigned rate;
	uint64_t seed[2];
	struct slot *slots;
};

int ratelimit_alloc(struct ratelimit **rp, unsigned rate)
{
	struct ratelimit *r = calloc(1, sizeof *r);

	if (!r)
		return ENOMEM;
	r->rate = rate;
	if (rate && !(r->slots = calloc(SLOTS, sizeof *r->slots))) {
		free(r);
		return ENOMEM;
	}
	if (getrandom(r->seed, sizeof r->seed, 0) != sizeof r->seed)
		r->seed[0] = (uint64_t)(uintptr_t)r; /* weaker, still unknown */
	*rp = r;
	return 0;
}

void ratelimit_free(struct ratelimit *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

/* FNV-1a over the seed and the address bytes. */
static uint32_t slot_of(const struct ratelimit *r, const struct ph_addr *src)
{
	uint8_t k[COUNTMAP_IPKEY_LEN];
	size_t n = countmap_ipkey(src, k);
	const uint8_t *s = (const uint8_t *)r->seed;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < sizeof r->seed; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32)) & (SLOTS - 1);
}

bool ratelimit_take(struct ratelimit *r, const struct ph_addr *src,
		    uint64_t now_ms, bool *answer)
{
	struct slot *s;
	uint64_t cap, elapsed;

	*answer = false;
	if (!r->rate)
		return true;
	s = &r->slots[slot_of(r, src)];
	cap = 2000ull * r->rate;
	if (!s->last_ms) {
		s->milli = cap;
	} else if (now_ms > s->last_ms) {
		elapsed = now_ms - s->last_ms;
		s->milli = elapsed >= cap ? cap /* long idle */
					  : s->milli + elapsed * r->rate;
		if (s->milli > cap)
			s->milli = cap;
	}
	s->last_ms = now_ms ? now_ms : 1;
	if (s->milli >= 1000) {
		s->milli -= 1000;
		return true;
	}
	if (now_ms - s->answered_ms >= 1000) {
		s->answered_ms = now_ms;
		*answer = true;
	}
	return false;
}
