/* Relay streams per source address and per user (relay_streams_per_source,
 * relay_streams_per_user): a call's reservation is counted against the IP
 * its INVITE came from and its caller's AoR from the moment it is asked
 * for until the call leaves the table, so one source cannot take every
 * relay port (issue 14: 328 INVITEs in 1.5 s took all 2,500 streams). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "call_int.h"
#include "countmap.h"
#include "log.h"
#include "ratelog.h"
#include "stunsock.h"

int calls_quota_alloc(struct calls *cs)
{
	int err = countmap_alloc(&cs->by_src);

	if (!err)
		err = countmap_alloc(&cs->by_user);
	return err;
}

void calls_quota_free(struct calls *cs)
{
	countmap_free(cs->by_src);
	countmap_free(cs->by_user);
}

void calls_set_limits(struct calls *cs, unsigned per_source,
		      unsigned per_user)
{
	cs->per_source = per_source;
	cs->per_user = per_user;
}

static void over(struct calls *cs, const struct call *c, const char *what,
		 unsigned long held, unsigned limit)
{
	unsigned long skipped;

	if (!ratelog_ok(&cs->quota_log, stunsock_now_ms(), &skipped))
		return;
	log_warn("proxy: call %s: %s holds %lu relay streams, its limit is %u: "
		 "no relay for it (%lu more such refusals not logged)",
		 c->call_id, what, held, limit, skipped);
}

int call_quota_take(struct call *c, const char *aor,
		    const struct ph_addr *src, unsigned n)
{
	struct calls *cs = c->cs;
	uint8_t k[COUNTMAP_IPKEY_LEN];
	size_t klen = countmap_ipkey(src, k), alen = aor ? strlen(aor) : 0;
	unsigned long by_src = countmap_get(cs->by_src, k, klen);
	unsigned long by_user = alen ? countmap_get(cs->by_user, aor, alen) : 0;

	if (!n || c->quota_n) /* nothing to count, or counted already */
		return 0;
	if (cs->per_source && by_src + n > cs->per_source) {
		over(cs, c, "its source address", by_src, cs->per_source);
		return EUSERS;
	}
	if (cs->per_user && alen && by_user + n > cs->per_user) {
		over(cs, c, aor, by_user, cs->per_user);
		return EUSERS;
	}
	if (alen && !(c->quota_aor = strdup(aor)))
		return ENOMEM;
	if (countmap_add(cs->by_src, k, klen, n))
		goto nomem;
	if (alen && countmap_add(cs->by_user, aor, alen, n)) {
		countmap_sub(cs->by_src, k, klen, n);
		goto nomem;
	}
	c->quota_src = *src;
	c->quota_n = n;
	return 0;
 nomem:
	free(c->quota_aor);
	c->quota_aor = NULL;
	return ENOMEM;
}

void call_quota_give(struct call *c)
{
	struct calls *cs = c->cs;
	uint8_t k[COUNTMAP_IPKEY_LEN];

	if (!c->quota_n)
		return;
	countmap_sub(cs->by_src, k, countmap_ipkey(&c->quota_src, k),
		     c->quota_n);
	if (c->quota_aor)
		countmap_sub(cs->by_user, c->quota_aor, strlen(c->quota_aor),
			     c->quota_n);
	free(c->quota_aor);
	c->quota_aor = NULL;
	c->quota_n = 0;
}
